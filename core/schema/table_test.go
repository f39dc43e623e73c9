package schema

import (
	"slices"
	"testing"

	"github.com/picogo/picogo/core/tuple"

	"github.com/stretchr/testify/require"
)

// kv: id unsigned, name string (pk (name, id)), note any nullable.
func kv() TableDef {
	return TableDef{ID: 1024, Name: "kv", Distribution: DistributionGlobal, Engine: EngineMemtx, Format: []Field{
		{Name: "id", Type: tuple.TypeUnsigned},
		{Name: "name", Type: tuple.TypeString},
		{Name: "note", Type: tuple.TypeAny, Nullable: true},
	}, PrimaryKey: []uint32{1, 0}}
}

func TestValidate(t *testing.T) {
	d := kv()
	require.Nil(t, d.Validate())
	sharded := kv()
	sharded.Distribution = DistributionSharded
	require.Nil(t, sharded.Validate(), "what a table is does not depend on how it is replicated")

	cases := map[string]struct {
		change func(*TableDef)
		want   string
	}{
		"no name":          {func(d *TableDef) { d.Name = "" }, "name is empty"},
		"distribution":     {func(d *TableDef) { d.Distribution = "everywhere" }, `unknown distribution "everywhere"`},
		"no format":        {func(d *TableDef) { d.Format = nil }, "no fields"},
		"no pk":            {func(d *TableDef) { d.PrimaryKey = nil }, "no parts"},
		"unnamed field":    {func(d *TableDef) { d.Format[2].Name = "" }, "field 3 has no name"},
		"unknown type":     {func(d *TableDef) { d.Format[2].Type = "text" }, `unknown type "text"`},
		"duplicate field":  {func(d *TableDef) { d.Format[2].Name = "id" }, `field "id" is duplicate`},
		"pk out of range":  {func(d *TableDef) { d.PrimaryKey = []uint32{3} }, "refers to field 3"},
		"pk twice":         {func(d *TableDef) { d.PrimaryKey = []uint32{0, 0} }, "twice"},
		"nullable pk":      {func(d *TableDef) { d.PrimaryKey = []uint32{2} }, "nullable"},
		"unindexable type": {func(d *TableDef) { d.Format[2] = Field{Name: "m", Type: tuple.TypeMap}; d.PrimaryKey = []uint32{2} }, "cannot be indexed"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			d := kv()
			c.change(&d)
			e := d.Validate()
			require.NotNil(t, e)
			require.Equal(t, tuple.CodeCreateSpace, e.Code)
			require.Contains(t, e.Message, "Failed to create space '"+d.Name+"'")
			require.Contains(t, e.Message, c.want)
		})
	}
}

// shardedKV: kv sharded by name in tier "storage", with its bucket_id
// where the cluster puts it (after the last primary key field, name).
func shardedKV() TableDef {
	d := kv()
	d.Format = d.Format[:2]
	d.Distribution, d.ShardingKey, d.ShardingFn, d.Tier = DistributionSharded, []string{"name"}, ShardingFnMurmur3, "storage"
	d.AddBucketID()
	d.Format = append(d.Format, Field{Name: "note", Type: tuple.TypeAny, Nullable: true})
	return d
}

func TestValidateSharded(t *testing.T) {
	cases := map[string]struct {
		change func(*TableDef)
		want   string
	}{
		"no sharding key":       {func(d *TableDef) { d.ShardingKey = nil }, "needs a sharding key"},
		"unknown key field":     {func(d *TableDef) { d.ShardingKey = []string{"nope"} }, `sharding key field "nope" is not in the format`},
		"key twice":             {func(d *TableDef) { d.ShardingKey = []string{"name", "name"} }, `uses field "name" twice`},
		"key has bucket_id":     {func(d *TableDef) { d.ShardingKey = []string{"bucket_id"} }, `cannot include "bucket_id"`},
		"other fn":              {func(d *TableDef) { d.ShardingFn = "crc32" }, `sharding function "crc32"`},
		"no tier":               {func(d *TableDef) { d.Tier = "" }, "needs a tier"},
		"nullable bucket_id":    {func(d *TableDef) { d.Format[2].Nullable = true }, "must be unsigned and not nullable"},
		"bucket_id in pk":       {func(d *TableDef) { d.PrimaryKey = []uint32{1, 2} }, `primary key cannot include "bucket_id"`},
		"global with a key":     {func(d *TableDef) { d.Distribution = DistributionGlobal }, "a global table has no sharding key"},
		"global with only tier": {func(d *TableDef) { *d = kv(); d.Tier = "storage" }, "a global table has no sharding key"},
		"no bucket_id":          {func(d *TableDef) { d.Format = slices.Delete(d.Format, 2, 3) }, `has a "bucket_id" field`},
	}
	g, sh := kv(), shardedKV()
	require.Nil(t, g.ValidateDistribution())
	require.Nil(t, sh.ValidateDistribution())
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			d := shardedKV()
			c.change(&d)
			require.Nil(t, d.Validate(), "the structure is fine")
			e := d.ValidateDistribution()
			require.NotNil(t, e)
			require.Equal(t, tuple.CodeCreateSpace, e.Code)
			require.Contains(t, e.Message, c.want)
		})
	}
	// A nullable sharding key field is allowed, as in Picodata.
	d := shardedKV()
	d.ShardingKey = []string{"note"}
	require.Nil(t, d.ValidateDistribution())
}

// bucket_id goes right after the last primary key field (Picodata's
// index_of_bucket_id_column); the primary key's positions do not move.
func TestAddBucketID(t *testing.T) {
	d := kv() // pk (name, id): positions 1, 0
	require.Equal(t, 2, d.BucketIDPosition())
	d.AddBucketID()
	require.Equal(t, []string{"id", "name", "bucket_id", "note"}, d.FieldNames())
	require.Equal(t, Field{Name: "bucket_id", Type: tuple.TypeUnsigned}, d.Format[2])
	require.Equal(t, []uint32{1, 0}, d.PrimaryKey)
	d.AddBucketID()
	require.Len(t, d.Format, 4, "added once")

	d = kv()
	d.PrimaryKey = []uint32{0}
	d.AddBucketID()
	require.Equal(t, []string{"id", "bucket_id", "name", "note"}, d.FieldNames())
	orig := kv()
	orig.PrimaryKey = []uint32{0}
	clone := orig.Clone()
	clone.AddBucketID()
	require.Len(t, orig.Format, 3, "AddBucketID does not write through a shared format")

	x := d.BucketIDIndex()
	require.Equal(t, uint32(1), x.ID)
	require.Equal(t, "bucket_id", x.Name)
	require.False(t, x.IsUnique())
	require.Equal(t, []IndexPart{{Field: "bucket_id", Type: tuple.TypeUnsigned}}, x.Parts)
}

func TestIndexResolve(t *testing.T) {
	d := kv()
	d.Format[2].Type = tuple.TypeString // note: a nullable string
	x := IndexDef{TableID: 1024, ID: 1, Name: "by_note", Type: "TREE", Opts: map[string]any{"unique": false},
		Parts: []IndexPart{{Field: "note"}, {Field: "id"}}}
	require.Nil(t, x.Resolve(&d))
	require.Equal(t, IndexTypeTree, x.Type)
	require.Equal(t, []IndexPart{{Field: "note", Type: tuple.TypeString, Nullable: true}, {Field: "id", Type: tuple.TypeUnsigned}}, x.Parts)

	cases := map[string]struct {
		change func(*IndexDef)
		want   string
	}{
		"no name":         {func(x *IndexDef) { x.Name = "" }, "name is empty"},
		"hash":            {func(x *IndexDef) { x.Type = "hash" }, `index type "hash"`},
		"no parts":        {func(x *IndexDef) { x.Parts = nil }, "no parts"},
		"unknown field":   {func(x *IndexDef) { x.Parts = []IndexPart{{Field: "nope"}} }, `field "nope" is not in the format`},
		"twice":           {func(x *IndexDef) { x.Parts = []IndexPart{{Field: "id"}, {Field: "id"}} }, `field "id" is used twice`},
		"wrong type":      {func(x *IndexDef) { x.Parts = []IndexPart{{Field: "id", Type: tuple.TypeString}} }, `part "id" is given as string`},
		"unknown opt":     {func(x *IndexDef) { x.Opts = map[string]any{"unique": true, "zz": 1, "aa": 2} }, `option "aa"`},
		"unique not bool": {func(x *IndexDef) { x.Opts = map[string]any{"unique": "yes"} }, `option "unique"`},
		"nullable pk":     {func(x *IndexDef) { x.ID = 0; x.Parts = []IndexPart{{Field: "note"}} }, `primary key field "note" is nullable`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			x := IndexDef{TableID: 1024, ID: 1, Name: "i", Parts: []IndexPart{{Field: "name"}}}
			c.change(&x)
			e := x.Resolve(&d)
			require.NotNil(t, e)
			require.Equal(t, tuple.CodeModifyIndex, e.Code)
			require.Contains(t, e.Message, c.want)
		})
	}
}

func TestCheckTuple(t *testing.T) {
	d := kv()
	require.Nil(t, d.CheckTuple([]any{uint64(1), "a", nil}))
	require.Nil(t, d.CheckTuple([]any{int8(1), "a", map[string]any{"x": true}}))
	cases := map[string]struct {
		vals []any
		code uint32
		want string
	}{
		"arity":            {[]any{1, "a"}, tuple.CodeExactFieldCount, "Tuple field count 2 does not match space field count 3"},
		"type":             {[]any{1, 2, nil}, tuple.CodeFieldType, "Tuple field 2 (name) type does not match one required by operation: expected string, got unsigned"},
		"negative":         {[]any{-1, "a", nil}, tuple.CodeFieldType, "field 1 (id)"},
		"nil non-nullable": {[]any{1, nil, nil}, tuple.CodeFieldType, "expected string, got nil"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			e := d.CheckTuple(c.vals)
			require.NotNil(t, e)
			require.Equal(t, c.code, e.Code)
			require.Contains(t, e.Message, c.want)
		})
	}
}

func TestKeys(t *testing.T) {
	d := kv()
	want, err := tuple.EncodeKey([]any{"a", 1})
	require.NoError(t, err)

	got, err := d.RowKey([]any{uint64(1), "a", "note"})
	require.NoError(t, err)
	require.Equal(t, want, got, "the row's key is its primary key fields, in key order")
	k, e := d.EncodeKey([]any{"a", uint8(1)})
	require.Nil(t, e)
	require.Equal(t, want, k)

	prefix, e := d.EncodeKeyPrefix([]any{"a"})
	require.Nil(t, e)
	require.Equal(t, want[:len(prefix)], prefix)

	_, e = d.EncodeKey([]any{"a"})
	require.Equal(t, tuple.CodeExactMatch, e.Code)
	_, e = d.EncodeKeyPrefix([]any{"a", 1, 2})
	require.Equal(t, tuple.CodeKeyPartCount, e.Code)
	_, e = d.EncodeKey([]any{1, 1})
	require.Equal(t, tuple.CodeKeyPartType, e.Code)
	require.Contains(t, e.Message, "part 0")
	_, e = d.EncodeKey([]any{"a", nil})
	require.Equal(t, tuple.CodeKeyPartType, e.Code)
}

func TestPkIndex(t *testing.T) {
	d := kv()
	x := d.PkIndex()
	require.Equal(t, "kv_pkey", x.Name)
	require.Equal(t, []IndexPart{{Field: "name", Type: tuple.TypeString}, {Field: "id", Type: tuple.TypeUnsigned}}, x.Parts)
	pk, err := x.PrimaryKeyOf(&d)
	require.NoError(t, err)
	require.Equal(t, d.PrimaryKey, pk)

	x.Parts[0].Field = "gone"
	_, err = x.PrimaryKeyOf(&d)
	require.ErrorContains(t, err, `field "gone"`)
}

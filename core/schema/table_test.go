package schema

import (
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

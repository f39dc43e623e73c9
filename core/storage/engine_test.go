package storage

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tuple"
)

// The test table "t" (id 1): id unsigned (pk), name string, city string
// nullable, score number nullable; indexes name (1, unique), city_score
// (2, non-unique, city + score, both nullable).
const tID = 1

func testEngine(t *testing.T) *Engine {
	t.Helper()
	e := New()
	require.Nil(t, e.CreateTable(schema.TableDef{
		ID: tID, Name: "t", Distribution: schema.DistributionSharded, Engine: schema.EngineMemtx,
		Format: []schema.Field{
			{Name: "id", Type: tuple.TypeUnsigned},
			{Name: "name", Type: tuple.TypeString},
			{Name: "city", Type: tuple.TypeString, Nullable: true},
			{Name: "score", Type: tuple.TypeNumber, Nullable: true},
		},
		PrimaryKey: []uint32{0},
	}))
	require.Nil(t, e.CreateIndex(schema.IndexDef{TableID: tID, ID: 1, Name: "name",
		Parts: []schema.IndexPart{{Field: "name"}}}))
	require.Nil(t, e.CreateIndex(schema.IndexDef{TableID: tID, ID: 2, Name: "city_score",
		Opts:  map[string]any{"unique": false},
		Parts: []schema.IndexPart{{Field: "city", Nullable: true}, {Field: "score", Nullable: true}}}))
	return e
}

func tup(vals ...any) tuple.Tuple { return tuple.FromValues(vals) }

// rows renders tuples for comparison.
func rows(ts []tuple.Tuple) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.String()
	}
	return out
}

func code(t *testing.T, want uint32, err *tuple.Error) {
	t.Helper()
	require.NotNil(t, err, "want error %d", want)
	require.Equal(t, want, err.Code, err.Message)
}

func TestDML(t *testing.T) {
	e := testEngine(t)
	c, err := e.Insert(tID, tup(1, "a", "x", 10))
	require.Nil(t, err)
	require.False(t, present(c.Old))
	require.Equal(t, `[1, "a", "x", 10]`, c.New.String())

	_, err = e.Insert(tID, tup(1, "b"))
	code(t, tuple.CodeTupleFound, err)
	require.Equal(t, `Duplicate key exists in unique index "t_pkey" in space "t" with old tuple - [1, "a", "x", 10] and new tuple - [1, "b"]`, err.Message)
	_, err = e.Insert(tID, tup(2, "a"))
	code(t, tuple.CodeTupleFound, err)
	require.Contains(t, err.Message, `unique index "name"`)

	c, err = e.Replace(tID, tup(1, "a2"))
	require.Nil(t, err)
	require.Equal(t, `[1, "a", "x", 10]`, c.Old.String())
	require.Equal(t, `[1, "a2"]`, c.New.String())
	// The old tuple's secondary keys are gone with it.
	_, err = e.Insert(tID, tup(2, "a"))
	require.Nil(t, err)
	// Replace conflicting with another tuple's unique key.
	_, err = e.Replace(tID, tup(2, "a2"))
	code(t, tuple.CodeTupleFound, err)

	got, ok, err := e.Get(tID, 1, []any{"a2"})
	require.Nil(t, err)
	require.True(t, ok)
	require.Equal(t, `[1, "a2"]`, got.String())

	c, err = e.Delete(tID, 1, []any{"a2"})
	require.Nil(t, err)
	require.Equal(t, `[1, "a2"]`, c.Old.String())
	require.False(t, present(c.New))
	c, err = e.Delete(tID, 0, []any{1})
	require.Nil(t, err)
	require.True(t, c.Empty(), "deleting a missing key changes nothing")
	n, _ := e.Len(tID)
	require.Equal(t, 1, n)
}

func TestErrors(t *testing.T) {
	e := testEngine(t)
	_, err := e.Insert(tID, tup(1, "a", "x", 1))
	require.Nil(t, err)
	cases := []struct {
		name string
		run  func() *tuple.Error
		code uint32
	}{
		{"no such space", func() *tuple.Error { _, err := e.Insert(9, tup(1)); return err }, tuple.CodeNoSuchSpace},
		{"no such index", func() *tuple.Error { _, err := e.Select(tID, 7, nil, IterALL, 0, NoLimit); return err }, tuple.CodeNoSuchIndexID},
		{"field type", func() *tuple.Error { _, err := e.Insert(tID, tup("x", "a")); return err }, tuple.CodeFieldType},
		{"nil in a non-nullable field", func() *tuple.Error { _, err := e.Insert(tID, tup(2, nil)); return err }, tuple.CodeFieldType},
		{"field missing", func() *tuple.Error { _, err := e.Insert(tID, tup(2)); return err }, tuple.CodeFieldMissing},
		{"negative unsigned", func() *tuple.Error { _, err := e.Replace(tID, tup(-1, "a")); return err }, tuple.CodeFieldType},
		{"get through a non-unique index", func() *tuple.Error { _, _, err := e.Get(tID, 2, []any{"x", 1}); return err }, tuple.CodeMoreThanOneTuple},
		{"delete through a non-unique index", func() *tuple.Error { _, err := e.Delete(tID, 2, []any{"x", 1}); return err }, tuple.CodeMoreThanOneTuple},
		{"get with a partial key", func() *tuple.Error { _, _, err := e.Get(tID, 0, []any{}); return err }, tuple.CodeExactMatch},
		{"get with a long key", func() *tuple.Error { _, _, err := e.Get(tID, 0, []any{1, 2}); return err }, tuple.CodeExactMatch},
		{"key of the wrong type", func() *tuple.Error { _, _, err := e.Get(tID, 0, []any{"1"}); return err }, tuple.CodeKeyPartType},
		{"nil key in a non-nullable part", func() *tuple.Error { _, _, err := e.Get(tID, 0, []any{nil}); return err }, tuple.CodeKeyPartType},
		{"select with a long key", func() *tuple.Error { _, err := e.Select(tID, 1, []any{"a", 1}, IterEQ, 0, NoLimit); return err }, tuple.CodeKeyPartCount},
		{"unknown iterator", func() *tuple.Error { _, err := e.Select(tID, 0, nil, Iterator(9), 0, NoLimit); return err }, tuple.CodeIteratorType},
		{"update changes the pk", func() *tuple.Error { _, err := e.Update(tID, 0, []any{1}, [][]any{{"=", 0, 5}}); return err }, tuple.CodeCantUpdatePrimaryKey},
		{"update to a wrong type", func() *tuple.Error { _, err := e.Update(tID, 0, []any{1}, [][]any{{"=", "name", 5}}); return err }, tuple.CodeFieldType},
		{"update arith on a string", func() *tuple.Error { _, err := e.Update(tID, 0, []any{1}, [][]any{{"+", "name", 5}}); return err }, tuple.CodeUpdateArgType},
		{"update unknown op", func() *tuple.Error { _, err := e.Update(tID, 0, []any{1}, [][]any{{"?", 1, 5}}); return err }, tuple.CodeUnknownUpdateOp},
		{"update deletes a required field", func() *tuple.Error { _, err := e.Update(tID, 0, []any{1}, [][]any{{"#", 1, 3}}); return err }, tuple.CodeFieldMissing},
		{"upsert with a bad tuple", func() *tuple.Error { _, err := e.Upsert(tID, tup(1), [][]any{{"+", 3, 1}}); return err }, tuple.CodeFieldMissing},
		{"upsert with a bad op", func() *tuple.Error { _, err := e.Upsert(tID, tup(1, "a"), [][]any{{"?", 3, 1}}); return err }, tuple.CodeUnknownUpdateOp},
		{"table exists", func() *tuple.Error {
			d, _ := e.Table(tID)
			d.ID = 5
			return e.CreateTable(d)
		}, tuple.CodeSpaceExists},
		{"bad table", func() *tuple.Error { return e.CreateTable(schema.TableDef{ID: 6, Name: "u"}) }, tuple.CodeCreateSpace},
		{"index exists", func() *tuple.Error {
			return e.CreateIndex(schema.IndexDef{TableID: tID, ID: 3, Name: "name", Parts: []schema.IndexPart{{Field: "name"}}})
		}, tuple.CodeIndexExists},
		{"index over an unknown field", func() *tuple.Error {
			return e.CreateIndex(schema.IndexDef{TableID: tID, ID: 3, Name: "x", Parts: []schema.IndexPart{{Field: "nope"}}})
		}, tuple.CodeModifyIndex},
		{"index nullability differs", func() *tuple.Error {
			return e.CreateIndex(schema.IndexDef{TableID: tID, ID: 3, Name: "x", Parts: []schema.IndexPart{{Field: "city"}}})
		}, tuple.CodeModifyIndex},
		{"hash index", func() *tuple.Error {
			return e.CreateIndex(schema.IndexDef{TableID: tID, ID: 3, Name: "x", Type: "hash", Parts: []schema.IndexPart{{Field: "name"}}})
		}, tuple.CodeUnsupported},
		{"drop the primary index", func() *tuple.Error { return e.DropIndex(tID, 0) }, tuple.CodeDropPrimaryKey},
		{"drop a missing index", func() *tuple.Error { return e.DropIndex(tID, 9) }, tuple.CodeNoSuchIndexID},
		{"unknown index name", func() *tuple.Error { _, err := e.IndexID(tID, "nope"); return err }, tuple.CodeNoSuchIndexName},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code(t, c.code, c.run())
			all, err := e.Select(tID, 0, nil, IterALL, 0, NoLimit)
			require.Nil(t, err)
			require.Equal(t, []string{`[1, "a", "x", 1]`}, rows(all), "a failed call changes nothing")
		})
	}
	_, err = ParseIterator("ge")
	require.Nil(t, err)
	_, err = ParseIterator("NE")
	code(t, tuple.CodeIteratorType, err)
}

func TestFieldCount(t *testing.T) {
	e := testEngine(t)
	// Trailing nullable fields may be absent; extra fields are allowed and
	// unchecked.
	_, err := e.Insert(tID, tup(1, "a"))
	require.Nil(t, err)
	_, err = e.Insert(tID, tup(2, "b", nil, nil, "extra", []any{1}))
	require.Nil(t, err)
	_, err = e.Insert(tID, tup(3, "c", "x"))
	require.Nil(t, err)
	// Absent nullable index fields are NULL in the index.
	got, err := e.Select(tID, 2, []any{nil}, IterEQ, 0, NoLimit)
	require.Nil(t, err)
	require.Equal(t, []string{`[1, "a"]`, `[2, "b", null, null, "extra", [1]]`}, rows(got))
	// Update may touch fields beyond the format.
	c, err := e.Update(tID, 0, []any{2}, [][]any{{"=", 4, "changed"}, {"!", -1, "appended"}})
	require.Nil(t, err)
	require.Equal(t, `[2, "b", null, null, "changed", [1], "appended"]`, c.New.String())
}

func TestUniqueNullable(t *testing.T) {
	e := New()
	require.Nil(t, e.CreateTable(schema.TableDef{ID: 1, Name: "u", Distribution: schema.DistributionGlobal,
		Format:     []schema.Field{{Name: "id", Type: tuple.TypeUnsigned}, {Name: "a", Type: tuple.TypeInteger, Nullable: true}, {Name: "b", Type: tuple.TypeString, Nullable: true}},
		PrimaryKey: []uint32{0}}))
	require.Nil(t, e.CreateIndex(schema.IndexDef{TableID: 1, ID: 1, Name: "ab",
		Parts: []schema.IndexPart{{Field: "a", Nullable: true}, {Field: "b", Nullable: true}}}))
	for _, r := range []tuple.Tuple{tup(1, nil, nil), tup(2, nil, nil), tup(3, 1, nil), tup(4, 1, nil), tup(5, 1, "x"), tup(6, nil, "x")} {
		_, err := e.Insert(1, r)
		require.Nil(t, err, "a key with a NULL never conflicts: %s", r)
	}
	_, err := e.Insert(1, tup(7, 1, "x"))
	code(t, tuple.CodeTupleFound, err)
	// NULLs sort first; equal keys by primary key.
	got, err := e.Select(1, 1, nil, IterALL, 0, NoLimit)
	require.Nil(t, err)
	require.Equal(t, []string{`[1, null, null]`, `[2, null, null]`, `[6, null, "x"]`, `[3, 1, null]`, `[4, 1, null]`, `[5, 1, "x"]`}, rows(got))
	got, err = e.Select(1, 1, []any{nil}, IterEQ, 0, NoLimit)
	require.Nil(t, err)
	require.Equal(t, []string{`[1, null, null]`, `[2, null, null]`, `[6, null, "x"]`}, rows(got))
	got, err = e.Select(1, 1, []any{1, nil}, IterREQ, 0, NoLimit)
	require.Nil(t, err)
	require.Equal(t, []string{`[4, 1, null]`, `[3, 1, null]`}, rows(got))
}

// iterTable: pk id; index "ab" (1, non-unique) over a, b.
func iterTable(t *testing.T) *Engine {
	e := New()
	require.Nil(t, e.CreateTable(schema.TableDef{ID: 1, Name: "it", Distribution: schema.DistributionGlobal,
		Format:     []schema.Field{{Name: "id", Type: tuple.TypeUnsigned}, {Name: "a", Type: tuple.TypeUnsigned}, {Name: "b", Type: tuple.TypeString}},
		PrimaryKey: []uint32{0}}))
	require.Nil(t, e.CreateIndex(schema.IndexDef{TableID: 1, ID: 1, Name: "ab", Opts: map[string]any{"unique": false},
		Parts: []schema.IndexPart{{Field: "a"}, {Field: "b"}}}))
	// Inserted out of order; (2, "y") three times.
	for _, r := range [][]any{{5, 2, "y"}, {1, 1, "x"}, {9, 3, "x"}, {3, 2, "x"}, {4, 2, "y"}, {7, 2, "z"}, {8, 2, "y"}, {2, 1, "z"}} {
		_, err := e.Insert(1, tuple.FromValues(r))
		require.Nil(t, err)
	}
	return e
}

func TestIterators(t *testing.T) {
	e := iterTable(t)
	ids := func(ts []tuple.Tuple) []uint64 {
		var out []uint64
		for _, x := range ts {
			id, _ := tuple.AsUint64(x.Field(0))
			out = append(out, id)
		}
		return out
	}
	cases := []struct {
		index         uint32
		key           []any
		it            Iterator
		offset, limit uint32
		want          []uint64
	}{
		// Primary index.
		{0, nil, IterALL, 0, NoLimit, []uint64{1, 2, 3, 4, 5, 7, 8, 9}},
		{0, []any{4}, IterEQ, 0, NoLimit, []uint64{4}},
		{0, []any{6}, IterEQ, 0, NoLimit, nil},
		{0, []any{4}, IterGE, 0, NoLimit, []uint64{4, 5, 7, 8, 9}},
		{0, []any{6}, IterGE, 0, NoLimit, []uint64{7, 8, 9}},
		{0, []any{4}, IterGT, 0, NoLimit, []uint64{5, 7, 8, 9}},
		{0, []any{4}, IterLE, 0, NoLimit, []uint64{4, 3, 2, 1}},
		{0, []any{6}, IterLE, 0, NoLimit, []uint64{5, 4, 3, 2, 1}},
		{0, []any{4}, IterLT, 0, NoLimit, []uint64{3, 2, 1}},
		{0, []any{100}, IterLT, 0, 2, []uint64{9, 8}},
		{0, []any{0}, IterLT, 0, NoLimit, nil},
		{0, []any{4}, IterREQ, 0, NoLimit, []uint64{4}},
		{0, []any{4}, IterALL, 0, NoLimit, []uint64{4, 5, 7, 8, 9}}, // ALL with a key is GE
		// An empty key: every tuple, in the iterator's direction.
		{0, nil, IterEQ, 0, NoLimit, []uint64{1, 2, 3, 4, 5, 7, 8, 9}},
		{0, nil, IterGT, 0, NoLimit, []uint64{1, 2, 3, 4, 5, 7, 8, 9}},
		{0, nil, IterREQ, 0, NoLimit, []uint64{9, 8, 7, 5, 4, 3, 2, 1}},
		{0, nil, IterLT, 0, NoLimit, []uint64{9, 8, 7, 5, 4, 3, 2, 1}},
		{0, nil, IterLE, 0, NoLimit, []uint64{9, 8, 7, 5, 4, 3, 2, 1}},
		// Offset and limit.
		{0, nil, IterALL, 2, 3, []uint64{3, 4, 5}},
		{0, nil, IterALL, 7, 3, []uint64{9}},
		{0, nil, IterALL, 8, 3, nil},
		{0, nil, IterALL, 0, 0, nil},
		{0, nil, IterLE, 1, 2, []uint64{8, 7}},
		// The secondary index: full keys, ties by primary key.
		{1, []any{2, "y"}, IterEQ, 0, NoLimit, []uint64{4, 5, 8}},
		{1, []any{2, "y"}, IterREQ, 0, NoLimit, []uint64{8, 5, 4}},
		{1, []any{2, "y"}, IterGE, 0, NoLimit, []uint64{4, 5, 8, 7, 9}},
		{1, []any{2, "y"}, IterGT, 0, NoLimit, []uint64{7, 9}},
		{1, []any{2, "y"}, IterLE, 0, NoLimit, []uint64{8, 5, 4, 3, 2, 1}},
		{1, []any{2, "y"}, IterLT, 0, NoLimit, []uint64{3, 2, 1}},
		{1, []any{2, "y"}, IterEQ, 1, 1, []uint64{5}},
		// Partial keys.
		{1, []any{2}, IterEQ, 0, NoLimit, []uint64{3, 4, 5, 8, 7}},
		{1, []any{2}, IterREQ, 0, NoLimit, []uint64{7, 8, 5, 4, 3}},
		{1, []any{2}, IterGT, 0, NoLimit, []uint64{9}},
		{1, []any{2}, IterGE, 0, NoLimit, []uint64{3, 4, 5, 8, 7, 9}},
		{1, []any{2}, IterLT, 0, NoLimit, []uint64{2, 1}},
		{1, []any{2}, IterLE, 0, NoLimit, []uint64{7, 8, 5, 4, 3, 2, 1}},
		{1, []any{4}, IterLE, 0, NoLimit, []uint64{9, 7, 8, 5, 4, 3, 2, 1}},
		{1, []any{0}, IterGE, 0, 2, []uint64{1, 2}},
		{1, []any{2}, IterREQ, 1, 2, []uint64{8, 5}},
	}
	// COUNT with ALL counts every tuple, whatever the key.
	n, err := e.Count(1, 1, []any{2}, IterALL)
	require.Nil(t, err)
	require.Equal(t, 8, n)
	for _, c := range cases {
		name := fmt.Sprintf("index %d %s %v offset %d limit %d", c.index, c.it, c.key, c.offset, c.limit)
		t.Run(name, func(t *testing.T) {
			got, err := e.Select(1, c.index, c.key, c.it, c.offset, c.limit)
			require.Nil(t, err)
			require.Equal(t, c.want, ids(got))
			if c.offset == 0 && c.limit == NoLimit && c.it != IterALL {
				n, err := e.Count(1, c.index, c.key, c.it)
				require.Nil(t, err)
				require.Equal(t, len(c.want), n)
			}
		})
	}
}

func TestUpdateUpsert(t *testing.T) {
	e := testEngine(t)
	c, err := e.Update(tID, 0, []any{1}, [][]any{{"=", 9, 1}}) // missing key: ops not even checked
	require.Nil(t, err)
	require.True(t, c.Empty())
	_, err = e.Insert(tID, tup(1, "a", "x", 10))
	require.Nil(t, err)
	c, err = e.Update(tID, 1, []any{"a"}, [][]any{{"+", "score", 5}, {"=", "city", "y"}})
	require.Nil(t, err)
	require.Equal(t, `[1, "a", "y", 15]`, c.New.String())
	got, err := e.Select(tID, 2, []any{"y", 15}, IterEQ, 0, NoLimit)
	require.Nil(t, err)
	require.Len(t, got, 1, "the secondary index follows the update")
	got, _ = e.Select(tID, 2, []any{"x"}, IterEQ, 0, NoLimit)
	require.Empty(t, got)
	// Setting the pk to the value it has is no change of the pk.
	_, err = e.Update(tID, 0, []any{1}, [][]any{{"=", 0, 1}})
	require.Nil(t, err)

	var skipped []*tuple.Error
	e.OnUpsertError = func(_ uint32, err *tuple.Error) { skipped = append(skipped, err) }
	// Upsert of a new key inserts the tuple; ops are ignored.
	c, err = e.Upsert(tID, tup(2, "b"), [][]any{{"+", "score", 1}})
	require.Nil(t, err)
	require.Equal(t, `[2, "b"]`, c.New.String())
	// Of an existing key: the ops apply; a failing one is skipped.
	c, err = e.Upsert(tID, tup(1, "ignored"), [][]any{{"+", "name", 1}, {"+", "score", 1}})
	require.Nil(t, err)
	require.Equal(t, `[1, "a", "y", 15]`, c.Old.String())
	require.Equal(t, `[1, "a", "y", 16]`, c.New.String())
	require.Len(t, skipped, 1)
	require.Equal(t, tuple.CodeUpdateArgType, skipped[0].Code)
	// A pk change is dropped, the tuple stays.
	c, err = e.Upsert(tID, tup(1, "z"), [][]any{{"=", 0, 7}})
	require.Nil(t, err)
	require.True(t, c.Empty())
	require.Len(t, skipped, 2)
	require.Equal(t, tuple.CodeCantUpdatePrimaryKey, skipped[1].Code)
	// A unique conflict of the result is an error.
	_, err = e.Upsert(tID, tup(1, "z"), [][]any{{"=", "name", "b"}})
	code(t, tuple.CodeTupleFound, err)
}

func TestCreateIndexOverRows(t *testing.T) {
	e := testEngine(t)
	for _, r := range []tuple.Tuple{tup(1, "a", "x", 2), tup(2, "b", "y", 1), tup(3, "c", "x", 1)} {
		_, err := e.Insert(tID, r)
		require.Nil(t, err)
	}
	// A unique index over duplicate rows fails and leaves nothing behind.
	err := e.CreateIndex(schema.IndexDef{TableID: tID, ID: 3, Name: "city_u", Parts: []schema.IndexPart{{Field: "city", Nullable: true}}})
	code(t, tuple.CodeTupleFound, err)
	require.Equal(t, `Duplicate key exists in unique index "city_u" in space "t" with old tuple - [1, "a", "x", 2] and new tuple - [3, "c", "x", 1]`, err.Message)
	_, err = e.IndexID(tID, "city_u")
	code(t, tuple.CodeNoSuchIndexName, err)
	// A part type the rows do not fit.
	err = e.CreateIndex(schema.IndexDef{TableID: tID, ID: 3, Name: "score_u", Parts: []schema.IndexPart{{Field: "score", Type: tuple.TypeString, Nullable: true}}})
	code(t, tuple.CodeFieldType, err)
	// A good one is built over the rows and maintained.
	require.Nil(t, e.CreateIndex(schema.IndexDef{TableID: tID, ID: 3, Name: "score", Opts: map[string]any{"unique": false},
		Parts: []schema.IndexPart{{Field: "score", Nullable: true}}}))
	got, err := e.Select(tID, 3, nil, IterALL, 0, NoLimit)
	require.Nil(t, err)
	require.Equal(t, []string{`[2, "b", "y", 1]`, `[3, "c", "x", 1]`, `[1, "a", "x", 2]`}, rows(got))
	// Its part type now constrains writes.
	require.Nil(t, e.CreateIndex(schema.IndexDef{TableID: tID, ID: 4, Name: "score_int", Opts: map[string]any{"unique": false},
		Parts: []schema.IndexPart{{Field: "score", Type: tuple.TypeInteger, Nullable: true}}}))
	_, err = e.Insert(tID, tup(4, "d", nil, 1.5))
	code(t, tuple.CodeFieldType, err)
	require.Nil(t, e.DropIndex(tID, 4))
	_, err = e.Insert(tID, tup(4, "d", nil, 1.5))
	require.Nil(t, err)
	defs, _ := e.Indexes(tID)
	require.Len(t, defs, 4)
	require.Nil(t, e.DropTable(tID))
	_, err = e.Len(tID)
	code(t, tuple.CodeNoSuchSpace, err)
	require.Empty(t, e.Tables())
}

func TestTypedKeys(t *testing.T) {
	e := New()
	require.Nil(t, e.CreateTable(schema.TableDef{ID: 1, Name: "s", Distribution: schema.DistributionGlobal,
		Format:     []schema.Field{{Name: "k", Type: tuple.TypeScalar}, {Name: "u", Type: tuple.TypeUUID, Nullable: true}},
		PrimaryKey: []uint32{0}}))
	u := uuid.MustParse("00000000-0000-0000-0000-000000000001")
	for _, k := range []any{"b", u, 2.5, tuple.MustDecimal("2.25"), true, []byte("x"), -1, tuple.Datetime{Epoch: 5}, "a", uint64(1 << 63)} {
		_, err := e.Insert(1, tup(k))
		require.Nil(t, err, "%v", k)
	}
	_, err := e.Insert(1, tup(tuple.MustDecimal("2.5"))) // equal to 2.5
	code(t, tuple.CodeTupleFound, err)
	_, err = e.Insert(1, tup(nil))
	code(t, tuple.CodeFieldType, err)
	_, err = e.Insert(1, tup([]any{1}))
	code(t, tuple.CodeFieldType, err)
	_, err = e.Insert(1, tup(3, "not a uuid"))
	code(t, tuple.CodeFieldType, err)
	got, err := e.Select(1, 0, nil, IterALL, 0, NoLimit)
	require.Nil(t, err)
	require.Equal(t, []string{"[true]", "[-1]", "[2.25]", "[2.5]", "[9223372036854775808]", `["a"]`, `["b"]`, "[bin:78]",
		"[" + u.String() + "]", "[1970-01-01T00:00:05Z]"}, rows(got))
	got, err = e.Select(1, 0, []any{2.25}, IterGT, 0, 2)
	require.Nil(t, err)
	require.Equal(t, []string{"[2.5]", "[9223372036854775808]"}, rows(got))
}

// TestReplayAndUndo: a seeded random run of writes; replaying its changes
// on an engine with the same tables gives the same tables; undoing them
// in reverse empties the first one; memory is reported identically.
func TestReplayAndUndo(t *testing.T) {
	e, replica := testEngine(t), testEngine(t)
	rng := rand.New(rand.NewPCG(11, 12))
	names := []string{"a", "b", "c", "d", "e"}
	cities := []any{nil, "x", "y"}
	var changes []Change
	for range 2000 {
		id := rng.IntN(20)
		var c Change
		var err *tuple.Error
		switch rng.IntN(6) {
		case 0:
			c, err = e.Insert(tID, tup(id, names[rng.IntN(5)]+fmt.Sprint(rng.IntN(8)), cities[rng.IntN(3)], rng.IntN(5)))
		case 1:
			c, err = e.Replace(tID, tup(id, names[rng.IntN(5)]+fmt.Sprint(rng.IntN(8)), cities[rng.IntN(3)]))
		case 2:
			c, err = e.Delete(tID, 0, []any{id})
		case 3:
			c, err = e.Update(tID, 0, []any{id}, [][]any{{"=", "city", cities[rng.IntN(3)]}, {"=", "score", rng.IntN(5)}})
		case 4:
			c, err = e.Upsert(tID, tup(id, names[rng.IntN(5)]), [][]any{{"=", "name", names[rng.IntN(5)] + "u"}})
		default:
			c, err = e.Delete(tID, 1, []any{names[rng.IntN(5)] + fmt.Sprint(rng.IntN(8))})
		}
		if err != nil {
			require.Contains(t, []uint32{tuple.CodeTupleFound}, err.Code, err.Message)
			continue
		}
		if !c.Empty() {
			changes = append(changes, c)
			require.Nil(t, replica.Apply(c))
		}
	}
	require.NotEmpty(t, changes)
	for _, idx := range []uint32{0, 1, 2} {
		a, _ := e.Select(tID, idx, nil, IterALL, 0, NoLimit)
		b, _ := replica.Select(tID, idx, nil, IterALL, 0, NoLimit)
		require.Equal(t, rows(a), rows(b))
	}
	require.Equal(t, e.MemoryAll(), replica.MemoryAll())
	m, _ := e.Memory(tID)
	n, _ := e.Len(tID)
	require.Equal(t, n, m.Rows)
	require.Positive(t, m.Total())
	// A change that does not fit is refused: the replica has diverged.
	last := changes[len(changes)-1]
	if present(last.New) {
		require.NotNil(t, replica.Apply(Change{Table: tID, New: last.New}))
	}
	for i := len(changes) - 1; i >= 0; i-- {
		require.Nil(t, e.Undo(changes[i]), "undo #%d", i)
	}
	n, _ = e.Len(tID)
	require.Zero(t, n)
	m, _ = e.Memory(tID)
	require.Zero(t, m.Total())
}

// Tables follows the tables that come and go, and a list handed out before
// stays as it was.
func TestTablesFollowCreatesAndDrops(t *testing.T) {
	e := testEngine(t)
	before := e.Tables()
	require.Equal(t, []uint32{tID}, before)
	def := schema.TableDef{ID: 7, Name: "g", Distribution: schema.DistributionGlobal,
		Format: []schema.Field{{Name: "k", Type: tuple.TypeUnsigned}}, PrimaryKey: []uint32{0}}
	require.Nil(t, e.CreateTable(def))
	require.Equal(t, []uint32{tID, 7}, e.Tables())
	require.Nil(t, e.DropTable(tID))
	require.Equal(t, []uint32{7}, e.Tables())
	require.Equal(t, []uint32{tID}, before)
	require.Nil(t, e.DropTable(7))
	require.Empty(t, e.Tables())
	require.Zero(t, testing.AllocsPerRun(10, func() { e.Tables() }), "an engine without tables lists them once")
	require.Nil(t, e.CreateTable(def))
	require.Equal(t, []uint32{7}, e.Tables())
}

package tables

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tuple"
)

func TestOpKeys(t *testing.T) {
	s := newTestStore(t)
	propKey := key(t, PropGlobalSchemaVersion)
	// ddl: the keys of a change on table id, a create (which moves
	// next_table_id) or not, writing the index rows indexIDs.
	ddl := func(id uint32, create bool, indexIDs ...uint32) []KeyRef {
		out := []KeyRef{
			{Table: TablePicoProperty, Key: propKey},
			{Table: TablePicoTable, Key: key(t, id)},
		}
		if create {
			out = append(out, KeyRef{Table: TablePicoProperty, Key: key(t, PropNextTableID)})
		}
		for _, x := range indexIDs {
			out = append(out, KeyRef{Table: TablePicoIndex, Key: key(t, id, x)})
		}
		return append(out,
			KeyRef{Table: TablePicoProperty, Key: key(t, PropNextSchemaVersion)},
			KeyRef{Table: TablePicoProperty, Key: key(t, PropPendingSchemaChange)},
			KeyRef{Table: TablePicoProperty, Key: key(t, PropPendingSchemaVersion)})
	}
	mustApply(t, s, PrepareCreateIndexOp(schema.IndexDef{TableID: multiID, Name: "by_b", Opts: map[string]any{"unique": false},
		Parts: []schema.IndexPart{{Field: "b"}}}, 0))
	mustApply(t, s, DdlCommitOp(0))
	sharded := kvDef()
	sharded.Name, sharded.Distribution, sharded.Tier = "s", schema.DistributionSharded, "storage"
	explicit := kvDef()
	explicit.ID, explicit.Name = 3000, "t"
	cases := []struct {
		name string
		op   Op
		want []KeyRef
	}{
		{"insert", DmlOp(Insert(kvID, 5, "five", 5, nil)), []KeyRef{{kvID, key(t, 5)}}},
		{"replace", DmlOp(Replace(multiID, "x", -2, nil)), []KeyRef{{multiID, key(t, "x", -2)}}},
		{"update", DmlOp(Update(kvID, []any{7}, []any{"=", 1, "x"})), []KeyRef{{kvID, key(t, 7)}}},
		{"delete", DmlOp(Delete(multiID, "a", 1)), []KeyRef{{multiID, key(t, "a", 1)}}},
		{"system table", DmlOp(Replace(TablePicoProperty, "k", 1)), []KeyRef{{TablePicoProperty, key(t, "k")}}},
		{"batch", BatchOp(Insert(kvID, 1, "a", 1, nil), Delete(multiID, "b", 2), Update(kvID, []any{1}, []any{"+", 2, 1})),
			[]KeyRef{{kvID, key(t, 1)}, {multiID, key(t, "b", 2)}, {kvID, key(t, 1)}}},
		{"unknown table", DmlOp(Insert(9999, 1, 2)), []KeyRef{{Table: 9999}}},
		{"create", PrepareCreateTableOp(schema.TableDef{Name: "new"}, 0), ddl(1026, true, 0)},
		{"create with id", PrepareCreateTableOp(explicit, 0), ddl(3000, true, 0)},
		{"create sharded", PrepareCreateTableOp(sharded, 0), ddl(1026, true, 0, 1)},
		{"drop", PrepareDropTableOp(kvID, 0), ddl(kvID, false, 0)},
		{"drop with an index", PrepareDropTableOp(multiID, 0), ddl(multiID, false, 0, 1)},
		{"create index", PrepareCreateIndexOp(schema.IndexDef{TableID: multiID, Name: "x"}, 0), ddl(multiID, false, 0, 1, 2)},
		{"create index with id", PrepareCreateIndexOp(schema.IndexDef{TableID: kvID, ID: 5, Name: "x"}, 0), ddl(kvID, false, 0, 5)},
		{"drop index", PrepareDropIndexOp(multiID, 1, 0), ddl(multiID, false, 0, 1)},
		{"nop", Op{Kind: OpNop}, nil},
		{"empty batch", BatchOp(), []KeyRef{}},
	}
	for _, c := range cases {
		got, err := s.OpKeys(c.op)
		require.Nil(t, err, c.name)
		require.Equal(t, c.want, got, c.name)
	}

	for name, op := range map[string]Op{
		"garbage tuple":  DmlOp(Dml{Kind: DmlInsert, Table: kvID, Tuple: []byte{0xc1}}),
		"arity":          DmlOp(Insert(kvID, 1)),
		"key type":       DmlOp(Insert(kvID, "1", "a", 1, nil)),
		"key part count": DmlOp(Delete(multiID, "a")),
		"dml kind":       DmlOp(Dml{Kind: "upsert", Table: kvID}),
		"op kind":        {Kind: "x"},
		"batch":          BatchOp(Insert(kvID, 1, "a", 1, nil), Delete(kvID, "x")),
	} {
		_, err := s.OpKeys(op)
		require.Error(t, err, name)
	}
}

func TestRangeContains(t *testing.T) {
	s := newTestStore(t)
	b := func(incl bool, vals ...any) *Bound {
		return &Bound{Key: raw(t, append([]any{}, vals...)), Included: incl}
	}
	kv := func(id any) KeyRef { return KeyRef{kvID, key(t, id)} }
	mk := func(a string, b int) KeyRef { return KeyRef{multiID, key(t, a, b)} }
	cases := []struct {
		name string
		r    Range
		in   []KeyRef
		out  []KeyRef
	}{
		{"exact", Range{Table: kvID, Key: raw(t, []any{5})}, []KeyRef{kv(5), kv(5.0)}, []KeyRef{kv(4), kv(6), {multiID, key(t, 5)}}},
		{"exact composite", Range{Table: multiID, Key: raw(t, []any{"a", 1})}, []KeyRef{mk("a", 1)}, []KeyRef{mk("a", 2), mk("b", 1)}},
		{"whole table", Range{Table: kvID}, []KeyRef{kv(0), kv(uint64(1) << 63)}, []KeyRef{mk("a", 1), {TablePicoTable, key(t, kvID)}}},
		{"min included", Range{Table: kvID, Min: b(true, 5)}, []KeyRef{kv(5), kv(6), kv(1000)}, []KeyRef{kv(4), kv(0)}},
		{"min excluded", Range{Table: kvID, Min: b(false, 5)}, []KeyRef{kv(6)}, []KeyRef{kv(5), kv(4)}},
		{"max included", Range{Table: kvID, Max: b(true, 5)}, []KeyRef{kv(0), kv(5)}, []KeyRef{kv(6)}},
		{"max excluded", Range{Table: kvID, Max: b(false, 5)}, []KeyRef{kv(0), kv(4)}, []KeyRef{kv(5), kv(6)}},
		{"both", Range{Table: kvID, Min: b(true, 2), Max: b(false, 5)}, []KeyRef{kv(2), kv(3), kv(4)}, []KeyRef{kv(1), kv(5), {multiID, key(t, 3)}}},
		{"prefix min included", Range{Table: multiID, Min: b(true, "b")}, []KeyRef{mk("b", -100), mk("c", 0)}, []KeyRef{mk("a", 9)}},
		{"prefix min excluded", Range{Table: multiID, Min: b(false, "b")}, []KeyRef{mk("c", -5), mk("b\x00", 0)}, []KeyRef{mk("b", 100), mk("a", 1)}},
		{"prefix max included", Range{Table: multiID, Max: b(true, "b")}, []KeyRef{mk("a", 100), mk("b", 1000)}, []KeyRef{mk("c", -5), mk("ba", 0)}},
		{"prefix max excluded", Range{Table: multiID, Max: b(false, "b")}, []KeyRef{mk("a", 100)}, []KeyRef{mk("b", -5), mk("c", 0)}},
		{"full-key bounds", Range{Table: multiID, Min: b(false, "a", 1), Max: b(true, "b", 1)}, []KeyRef{mk("a", 2), mk("b", 1)}, []KeyRef{mk("a", 1), mk("b", 2)}},
		{"unknown key of the table", Range{Table: kvID, Key: raw(t, []any{5})}, []KeyRef{{Table: kvID}}, []KeyRef{{Table: multiID}}},
		{"unknown table", Range{Table: 4242, Key: raw(t, []any{"x", 1})}, []KeyRef{{4242, key(t, "x", 1)}}, []KeyRef{{4242, key(t, "x", 2)}}},
	}
	for _, c := range cases {
		require.NoError(t, s.CheckRange(c.r), c.name)
		for _, k := range c.in {
			ok, err := s.RangeContains(c.r, k)
			require.NoError(t, err)
			require.True(t, ok, "%s: %x in", c.name, k.Key)
		}
		for _, k := range c.out {
			ok, err := s.RangeContains(c.r, k)
			require.NoError(t, err)
			require.False(t, ok, "%s: %x out", c.name, k.Key)
		}
	}

	errs := []struct {
		name string
		r    Range
		code uint32
	}{
		{"key type", Range{Table: kvID, Key: raw(t, []any{"5"})}, tuple.CodeKeyPartType},
		{"bound type", Range{Table: multiID, Min: b(true, 1)}, tuple.CodeKeyPartType},
		{"nil key part", Range{Table: kvID, Key: raw(t, []any{nil})}, tuple.CodeKeyPartType},
		{"partial exact key", Range{Table: multiID, Key: raw(t, []any{"a"})}, tuple.CodeExactMatch},
		{"bound too long", Range{Table: kvID, Max: b(true, 1, 2)}, tuple.CodeKeyPartCount},
		{"empty bound", Range{Table: kvID, Max: b(true)}, tuple.CodeIllegalParams},
		{"key and bounds", Range{Table: kvID, Key: raw(t, []any{1}), Min: b(true, 1)}, tuple.CodeIllegalParams},
		{"key not array", Range{Table: kvID, Key: raw(t, 1)}, tuple.CodeTupleNotArray},
		{"garbage key", Range{Table: kvID, Key: []byte{0x91, 0xc1}}, tuple.CodeInvalidMsgpack},
		{"unknown table, map key", Range{Table: 4242, Key: raw(t, []any{map[string]any{}})}, tuple.CodeKeyPartType},
	}
	for _, c := range errs {
		require.Equal(t, c.code, s.CheckRange(c.r).(*tuple.Error).Code, c.name)
		// An error whatever the key, even of another table.
		for _, k := range []KeyRef{kv(1), mk("a", 1)} {
			_, err := s.RangeContains(c.r, k)
			require.Equal(t, c.code, err.(*tuple.Error).Code, c.name)
		}
	}
}

func TestRangeWireShape(t *testing.T) {
	r := Range{Table: kvID, Min: &Bound{Key: raw(t, []any{1}), Included: true}, Max: &Bound{Key: raw(t, []any{9})}}
	enc := tuple.MustMarshal(r)
	var m map[string]any
	require.NoError(t, msgpack.Unmarshal(enc, &m))
	require.Equal(t, map[string]any{
		"table": uint16(kvID),
		"min":   map[string]any{"key": []any{int8(1)}, "included": true},
		"max":   map[string]any{"key": []any{int8(9)}, "included": false},
	}, m)
	var back Range
	require.NoError(t, unmarshalStrict(enc, &back))
	require.Equal(t, r, back)

	whole := Range{Table: kvID}
	require.NoError(t, msgpack.Unmarshal(tuple.MustMarshal(whole), &m))
	require.Equal(t, map[string]any{"table": uint16(kvID)}, m)
}

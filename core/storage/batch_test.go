package storage

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tuple"
)

// batchEngine is testEngine with a second table "u" (id 2: k unsigned pk,
// v string) and rows 1 and 2 in "t".
func batchEngine(t *testing.T) *Engine {
	t.Helper()
	e := testEngine(t)
	require.Nil(t, e.CreateTable(schema.TableDef{
		ID: 2, Name: "u", Distribution: schema.DistributionSharded, Engine: schema.EngineMemtx,
		Format:     []schema.Field{{Name: "k", Type: tuple.TypeUnsigned}, {Name: "v", Type: tuple.TypeString}},
		PrimaryKey: []uint32{0},
	}))
	for _, r := range [][]any{{1, "a", "x", 10}, {2, "b"}} {
		_, _, err := e.Exec(Op{Kind: OpInsert, Table: tID, Tuple: r})
		require.Nil(t, err)
	}
	return e
}

// state is everything a batch may change: the tables and their memory.
func state(e *Engine) string { return string(e.Snapshot()) + fmt.Sprint(e.MemoryAll()) }

func TestExecBatch(t *testing.T) {
	e := batchEngine(t)
	before := state(e)
	replica := batchEngine(t)

	batch := Op{Kind: OpBatch, Batch: []Op{
		{Kind: OpInsert, Table: tID, Tuple: []any{3, "c"}},
		{Kind: OpUpdate, Table: tID, Key: []any{3}, Ops: [][]any{{"=", "city", "y"}}}, // a row of this batch
		{Kind: OpDelete, Table: tID, Key: []any{9}},                                   // missing: no row change
		{Kind: OpReplace, Table: 2, Tuple: []any{1, "u1"}},                            // another table
		{Kind: OpDelete, Table: tID, Key: []any{2}},
		{Kind: OpUpsert, Table: tID, Tuple: []any{1, "ignored"}, Ops: [][]any{{"+", "score", 1}}},
	}}
	c, ret, err := e.Exec(batch)
	require.Nil(t, err)
	require.Nil(t, ret.Raw(), "a batch returns no tuple")
	require.True(t, c.IsBatch())
	require.False(t, c.Empty())
	require.Equal(t, 5, c.Rows(), "the delete of a missing key changed no row")
	var got []string
	for _, r := range c.Batch {
		require.False(t, r.IsBatch())
		got = append(got, fmt.Sprintf("%d %s -> %s", r.Table, r.Old, r.New))
	}
	require.Equal(t, []string{
		`1 [] -> [3, "c"]`,
		`1 [3, "c"] -> [3, "c", "y"]`,
		`2 [] -> [1, "u1"]`,
		`1 [2, "b"] -> []`,
		`1 [1, "a", "x", 10] -> [1, "a", "x", 11]`,
	}, got)
	ts, terr := e.Select(tID, 0, nil, IterALL, 0, NoLimit)
	require.Nil(t, terr)
	require.Equal(t, []string{`[1, "a", "x", 11]`, `[3, "c", "y"]`}, rows(ts))

	// The change, encoded and decoded, applies whole on a replica.
	dec, derr := DecodeChange(EncodeChange(c))
	require.NoError(t, derr)
	require.Nil(t, replica.Apply(dec))
	require.Equal(t, state(e), state(replica))

	// Undo takes all of it back.
	require.Nil(t, e.Undo(c))
	require.Equal(t, before, state(e))

	// Single-row changes count 1 or 0.
	require.Equal(t, 1, Change{Table: 1, New: tup(1)}.Rows())
	require.Equal(t, 0, Change{Table: 1}.Rows())
}

func TestExecBatchEmpty(t *testing.T) {
	e := batchEngine(t)
	before := state(e)
	for _, op := range []Op{
		{Kind: OpBatch},
		{Kind: OpBatch, Batch: []Op{}},
		{Kind: OpBatch, Batch: []Op{{Kind: OpDelete, Table: tID, Key: []any{9}}, {Kind: OpUpdate, Table: tID, Key: []any{8}, Ops: [][]any{{"=", 1, "z"}}}}},
	} {
		c, ret, err := e.Exec(op)
		require.Nil(t, err)
		require.Equal(t, Change{}, c)
		require.True(t, c.Empty())
		require.Equal(t, 0, c.Rows())
		require.Nil(t, ret.Raw())
	}
	require.Equal(t, before, state(e))
}

func TestExecBatchFailureChangesNothing(t *testing.T) {
	ok := []Op{
		{Kind: OpInsert, Table: tID, Tuple: []any{3, "c"}},
		{Kind: OpUpdate, Table: tID, Key: []any{1}, Ops: [][]any{{"+", "score", 5}}},
	}
	with := func(bad ...Op) []Op {
		return append(append(append([]Op{}, ok...), bad...), Op{Kind: OpInsert, Table: tID, Tuple: []any{7, "never"}})
	}
	many := make([]Op, MaxBatchOps+1)
	for i := range many {
		many[i] = Op{Kind: OpReplace, Table: 2, Tuple: []any{i, "x"}}
	}
	for _, tc := range []struct {
		name  string
		batch []Op
		code  uint32
		msg   string
	}{
		{"duplicate key", with(Op{Kind: OpInsert, Table: tID, Tuple: []any{3, "again"}}), tuple.CodeTupleFound,
			`row 3: Duplicate key exists in unique index "t_pkey" in space "t" with old tuple - [3, "c"] and new tuple - [3, "again"]`},
		{"duplicate in a unique secondary index", with(Op{Kind: OpReplace, Table: tID, Tuple: []any{4, "c"}}), tuple.CodeTupleFound, "row 3: Duplicate key exists"},
		{"a row changed twice, then a failure", with(
			Op{Kind: OpUpdate, Table: tID, Key: []any{3}, Ops: [][]any{{"=", "city", "z"}}},
			Op{Kind: OpDelete, Table: tID, Key: []any{1}},
			Op{Kind: OpInsert, Table: tID, Tuple: []any{1, "back"}},
			Op{Kind: OpInsert, Table: tID, Tuple: []any{"1", "bad"}}), tuple.CodeFieldType, "row 6: Tuple field 1 (id) type does not match"},
		{"no such space", with(Op{Kind: OpDelete, Table: 99, Key: []any{1}}), tuple.CodeNoSuchSpace, "row 3: Space '99' does not exist"},
		{"unknown kind", with(Op{Kind: 7}), tuple.CodeIllegalParams, "row 3: Unknown request type 7"},
		{"the first row", []Op{{Kind: OpInsert, Table: tID, Tuple: []any{1, "dup"}}}, tuple.CodeTupleFound, "row 1: Duplicate key exists"},
		{"a batch inside", with(Op{Kind: OpBatch}), tuple.CodeIllegalParams, "row 3: a batch inside a batch"},
		{"too many ops", many, tuple.CodeIllegalParams, "A batch of 10001 ops is more than the 10000 one batch may hold"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := batchEngine(t)
			before := state(e)
			c, ret, err := e.Exec(Op{Kind: OpBatch, Batch: tc.batch})
			require.NotNil(t, err)
			require.Equal(t, tc.code, err.Code, err.Message)
			require.True(t, strings.HasPrefix(err.Message, tc.msg), "%q does not start with %q", err.Message, tc.msg)
			require.Equal(t, Change{}, c)
			require.Nil(t, ret.Raw())
			require.Equal(t, before, state(e), "the engine is as it was")
		})
	}
	// MaxBatchOps ops are fine.
	e := batchEngine(t)
	c, _, err := e.Exec(Op{Kind: OpBatch, Batch: many[:MaxBatchOps]})
	require.Nil(t, err)
	require.Equal(t, MaxBatchOps, c.Rows())
}

func TestApplyBatchIsAllOrNothing(t *testing.T) {
	master := batchEngine(t)
	c, _, err := master.Exec(Op{Kind: OpBatch, Batch: []Op{
		{Kind: OpInsert, Table: tID, Tuple: []any{3, "c"}},
		{Kind: OpInsert, Table: 2, Tuple: []any{5, "five"}},
		{Kind: OpReplace, Table: tID, Tuple: []any{2, "b2"}},
	}})
	require.Nil(t, err)

	// A replica that diverged: it has a row 5 in "u" already.
	replica := batchEngine(t)
	_, _, err = replica.Exec(Op{Kind: OpInsert, Table: 2, Tuple: []any{5, "other"}})
	require.Nil(t, err)
	before := state(replica)
	err = replica.Apply(c)
	require.NotNil(t, err)
	require.Equal(t, tuple.CodeTupleFound, err.Code)
	require.True(t, strings.HasPrefix(err.Message, "row 2: Duplicate key"), err.Message)
	require.Equal(t, before, state(replica), "row 1 was undone")

	// The last row does not apply: rows 1 and 2 are undone.
	replica = batchEngine(t)
	_, _, err = replica.Exec(Op{Kind: OpReplace, Table: tID, Tuple: []any{2, "changed"}})
	require.Nil(t, err)
	before = state(replica)
	err = replica.Apply(c)
	require.NotNil(t, err)
	require.Equal(t, tuple.CodeIllegalParams, err.Code)
	require.True(t, strings.HasPrefix(err.Message, "row 3: change of space 't' replaces"), err.Message)
	require.Equal(t, before, state(replica))

	// An Undo that does not fit is all or nothing too, and names the row.
	before = state(master)
	_, _, err = master.Exec(Op{Kind: OpReplace, Table: tID, Tuple: []any{3, "c2"}})
	require.Nil(t, err)
	changed := state(master)
	err = master.Undo(c)
	require.NotNil(t, err)
	require.True(t, strings.HasPrefix(err.Message, "row 1: "), err.Message)
	require.Equal(t, changed, state(master))
	_, _, err = master.Exec(Op{Kind: OpReplace, Table: tID, Tuple: []any{3, "c"}})
	require.Nil(t, err)
	require.Nil(t, master.Undo(c))
	require.NotEqual(t, before, state(master))
	require.Nil(t, master.Apply(c), "applies again")
	require.Equal(t, before, state(master))

	// Batches inside batches, and empty row changes of a missing table.
	err = replica.Apply(Change{Batch: []Change{{Table: 2, New: tup(8, "x")}, {Batch: []Change{}}}})
	require.NotNil(t, err)
	require.Equal(t, tuple.CodeIllegalParams, err.Code)
	require.Equal(t, "row 2: a batch inside a batch", err.Message)
	require.Nil(t, replica.Apply(Change{Batch: []Change{}}), "an empty batch")
	_, ok, _ := replica.Get(2, 0, []any{8})
	require.False(t, ok)
}

func TestOpMsgpackBatch(t *testing.T) {
	for _, op := range []Op{
		{Kind: OpBatch},
		{Kind: OpBatch, Batch: []Op{}},
		{Kind: OpBatch, Batch: []Op{
			{Kind: OpInsert, Table: 7, Tuple: []any{int8(1), "a", tuple.MustDecimal("1.25")}},
			{Kind: OpUpdate, Table: 7, Index: 1, Key: []any{"k"}, Ops: [][]any{{"=", "f", int8(3)}}},
			{Kind: OpDelete, Table: 8, Key: []any{}},
			{},
		}},
		{Batch: []Op{{Kind: OpInsert}}}, // a kind that is no batch: Exec runs it as what it is
	} {
		b, err := msgpack.Marshal(op)
		require.NoError(t, err)
		var got Op
		require.NoError(t, msgpack.Unmarshal(b, &got))
		require.Equal(t, op, got)
	}
	// A single op encodes exactly as before batches: six keys.
	b, err := msgpack.Marshal(Op{Kind: OpDelete, Table: 1, Key: []any{int8(1)}})
	require.NoError(t, err)
	require.Equal(t, byte(0x86), b[0])

	// Nested batches do not decode.
	b, err = msgpack.Marshal(Op{Kind: OpBatch, Batch: []Op{{Kind: OpBatch, Batch: []Op{{}}}}})
	require.NoError(t, err, "they encode (Exec refuses them)")
	var got Op
	require.ErrorContains(t, msgpack.Unmarshal(b, &got), "a batch inside a batch")
	for _, m := range []map[string]any{
		{"kind": 128, "batch": "not an array"},
		{"kind": 128, "batch": []any{"not a map"}},
		{"kind": 128, "batch": []any{map[string]any{"key": 1}}},
	} {
		b, err := msgpack.Marshal(m)
		require.NoError(t, err)
		require.Error(t, msgpack.Unmarshal(b, &got), "%v", m)
	}
	// A batch of many ops with a garbage length ends in an error, not a
	// huge allocation.
	require.Error(t, msgpack.Unmarshal([]byte{0x81, 0xa5, 'b', 'a', 't', 'c', 'h', 0xdd, 0x7f, 0xff, 0xff, 0xff}, &got))
	require.Equal(t, "batch", OpBatch.String())
}

func TestChangeCodecBatch(t *testing.T) {
	empty := tuple.FromValues([]any{})
	odd, err := tuple.New([]byte{0xdc, 0x00, 0x02, 0xce, 0x00, 0x00, 0x00, 0x01, 0xa1, 'a'})
	require.NoError(t, err)
	for _, c := range []Change{
		{Batch: []Change{}},
		{Batch: []Change{{Table: 1, New: tup(1, "a")}}},
		{Batch: []Change{{Table: 1, New: tup(1, "a")}, {Table: 1 << 20, Old: odd}, {Table: 3, Old: empty, New: odd}}},
	} {
		b := EncodeChange(c)
		require.Equal(t, b, EncodeChange(c), "deterministic")
		got, err := DecodeChange(b)
		require.NoError(t, err)
		require.True(t, got.IsBatch())
		require.Equal(t, len(c.Batch), len(got.Batch))
		for i, r := range c.Batch {
			require.Equal(t, r.Table, got.Batch[i].Table)
			require.Equal(t, r.Old.Raw(), got.Batch[i].Old.Raw())
			require.Equal(t, r.New.Raw(), got.Batch[i].New.Raw())
		}
		require.Equal(t, b, EncodeChange(got))
	}
	// The encoding: an array of [table, old, new].
	require.Equal(t, []byte{0x90}, EncodeChange(Change{Batch: []Change{}}))
	require.Equal(t, []byte{0x92, 0x93, 0x01, 0xc0, 0x90, 0x93, 0x02, 0x90, 0xc0},
		EncodeChange(Change{Batch: []Change{{Table: 1, New: empty}, {Table: 2, Old: empty}}}))
	// Three row changes are not a single change, and the other way round.
	three := EncodeChange(Change{Batch: []Change{{Table: 1, New: empty}, {Table: 1, New: tup(1)}, {Table: 1, New: tup(2)}}})
	got, err := DecodeChange(three)
	require.NoError(t, err)
	require.Len(t, got.Batch, 3)
	got, err = DecodeChange(EncodeChange(Change{Table: 1, New: empty}))
	require.NoError(t, err)
	require.False(t, got.IsBatch())

	for name, b := range map[string][]byte{
		"an empty row":        {0x91, 0x93, 0x01, 0xc0, 0xc0},
		"a batch in a batch":  {0x91, 0x91, 0x93, 0x01, 0xc0, 0x90},
		"a short row":         {0x91, 0x92, 0x01, 0xc0},
		"more rows than said": {0x92, 0x93, 0x01, 0xc0, 0x90},
		"a row not an array":  {0x92, 0x93, 0x01, 0xc0, 0x90, 0x01},
		"a huge count":        {0xdd, 0xff, 0xff, 0xff, 0xff, 0x93, 0x01, 0xc0, 0x90},
		"trailing":            {0x91, 0x93, 0x01, 0xc0, 0x90, 0xc0},
		"nil":                 {0xc0},
	} {
		_, err := DecodeChange(b)
		require.Error(t, err, name)
	}
	good := EncodeChange(Change{Batch: []Change{{Table: 3, Old: tup(1, "a"), New: tup(1, "b", []any{2})}, {Table: 4, New: tup(2)}}})
	for n := range len(good) {
		_, err := DecodeChange(good[:n])
		require.Error(t, err, "truncated to %d bytes", n)
	}
}

// FuzzDecodeChange: no input makes DecodeChange panic; what decodes
// encodes to bytes that decode to the same change and encode the same.
func FuzzDecodeChange(f *testing.F) {
	f.Add(EncodeChange(Change{Table: 3, Old: tup(1, "a"), New: tup(1, "b", []any{2})}))
	f.Add(EncodeChange(Change{}))
	f.Add(EncodeChange(Change{Batch: []Change{}}))
	f.Add(EncodeChange(Change{Batch: []Change{{Table: 3, Old: tup(1, "a"), New: tup(1, "b")}, {Table: 4, New: tup(2, tuple.MustDecimal("1.5"))}}}))
	f.Add([]byte{0x93, 0x93, 0x01, 0xc0, 0x90, 0x93, 0x01, 0xc0, 0x90, 0x93, 0x01, 0xc0, 0x90})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeChange(b)
		if err != nil {
			return
		}
		again := EncodeChange(c)
		c2, err := DecodeChange(again)
		require.NoError(t, err)
		require.Equal(t, again, EncodeChange(c2))
		require.Equal(t, c.IsBatch(), c2.IsBatch())
		require.Equal(t, c.Rows(), c2.Rows())
	})
}

// FuzzDecodeOp: no input makes an Op's decoding panic; what decodes
// encodes and decodes to the same op.
func FuzzDecodeOp(f *testing.F) {
	for _, op := range []Op{
		{Kind: OpInsert, Table: 7, Tuple: []any{int8(1), "a"}},
		{Kind: OpBatch, Batch: []Op{{Kind: OpDelete, Table: 1, Key: []any{int8(1)}}, {Kind: OpUpdate, Ops: [][]any{{"=", int8(1), "x"}}}}},
	} {
		b, err := msgpack.Marshal(op)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var op Op
		if msgpack.Unmarshal(b, &op) != nil {
			return
		}
		again, err := msgpack.Marshal(op)
		if err != nil {
			return // values tuple.Marshal refuses (a map key of a kind it does not take, say)
		}
		var op2 Op
		require.NoError(t, msgpack.Unmarshal(again, &op2))
		again2, err := msgpack.Marshal(op2)
		require.NoError(t, err)
		require.Equal(t, again, again2)
	})
}

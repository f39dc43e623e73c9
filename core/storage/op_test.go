package storage

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/picogo/picogo/core/tuple"
)

func TestOpKindString(t *testing.T) {
	for k, want := range map[OpKind]string{OpInsert: "insert", OpReplace: "replace", OpUpdate: "update",
		OpUpsert: "upsert", OpDelete: "delete", 0: "OpKind(0)", 77: "OpKind(77)"} {
		require.Equal(t, want, k.String())
	}
	// The kinds are IPROTO's request types.
	require.Equal(t, []OpKind{2, 3, 4, 5, 9}, []OpKind{OpInsert, OpReplace, OpUpdate, OpDelete, OpUpsert})
}

func TestExec(t *testing.T) {
	e := testEngine(t)

	c, ret, err := e.Exec(Op{Kind: OpInsert, Table: tID, Tuple: []any{1, "a", "x", 10}})
	require.Nil(t, err)
	require.Equal(t, `[1, "a", "x", 10]`, ret.String())
	require.False(t, present(c.Old))
	require.Equal(t, ret.Raw(), c.New.Raw())
	require.Equal(t, uint32(tID), c.Table)

	c, ret, err = e.Exec(Op{Kind: OpReplace, Table: tID, Tuple: []any{1, "b"}})
	require.Nil(t, err)
	require.Equal(t, `[1, "b"]`, ret.String())
	require.Equal(t, `[1, "a", "x", 10]`, c.Old.String())
	require.Equal(t, `[1, "b"]`, c.New.String())

	c, ret, err = e.Exec(Op{Kind: OpUpdate, Table: tID, Index: 1, Key: []any{"b"}, Ops: [][]any{{"=", "city", "y"}, {"!", 3, 5}}})
	require.Nil(t, err)
	require.Equal(t, `[1, "b", "y", 5]`, ret.String())
	require.Equal(t, `[1, "b"]`, c.Old.String())
	require.Equal(t, ret.Raw(), c.New.Raw())

	// An update of a missing key: nothing changes, nothing is returned.
	c, ret, err = e.Exec(Op{Kind: OpUpdate, Table: tID, Key: []any{9}, Ops: [][]any{{"=", 1, "z"}}})
	require.Nil(t, err)
	require.True(t, c.Empty())
	require.Equal(t, Change{Table: tID}, c) // an empty change names its table
	require.Nil(t, ret.Raw())

	// Upsert inserts, then updates; it returns nothing either way.
	c, ret, err = e.Exec(Op{Kind: OpUpsert, Table: tID, Tuple: []any{2, "c"}, Ops: [][]any{{"+", "score", 1}}})
	require.Nil(t, err)
	require.Nil(t, ret.Raw())
	require.False(t, present(c.Old))
	require.Equal(t, `[2, "c"]`, c.New.String())
	c, ret, err = e.Exec(Op{Kind: OpUpsert, Table: tID, Tuple: []any{1, "ignored"}, Ops: [][]any{{"+", "score", 1}}})
	require.Nil(t, err)
	require.Nil(t, ret.Raw())
	require.Equal(t, `[1, "b", "y", 5]`, c.Old.String())
	require.Equal(t, `[1, "b", "y", 6]`, c.New.String())

	c, ret, err = e.Exec(Op{Kind: OpDelete, Table: tID, Key: []any{2}})
	require.Nil(t, err)
	require.Equal(t, `[2, "c"]`, ret.String())
	require.Equal(t, ret.Raw(), c.Old.Raw())
	require.False(t, present(c.New))
	// A delete of a missing key.
	c, ret, err = e.Exec(Op{Kind: OpDelete, Table: tID, Key: []any{2}})
	require.Nil(t, err)
	require.True(t, c.Empty())
	require.Equal(t, Change{Table: tID}, c) // an empty change names its table
	require.Nil(t, ret.Raw())

	got, err := e.Select(tID, 0, nil, IterALL, 0, NoLimit)
	require.Nil(t, err)
	require.Equal(t, []string{`[1, "b", "y", 6]`}, rows(got))
}

func TestExecErrors(t *testing.T) {
	e := testEngine(t)
	_, _, err := e.Exec(Op{Kind: OpInsert, Table: tID, Tuple: []any{1, "a"}})
	require.Nil(t, err)
	for _, tc := range []struct {
		name string
		op   Op
		code uint32
	}{
		{"no kind", Op{Table: tID, Tuple: []any{2, "b"}}, tuple.CodeIllegalParams},
		{"unknown kind", Op{Kind: 7, Table: tID, Tuple: []any{2, "b"}}, tuple.CodeIllegalParams},
		{"insert duplicate", Op{Kind: OpInsert, Table: tID, Tuple: []any{1, "b"}}, tuple.CodeTupleFound},
		{"insert no space", Op{Kind: OpInsert, Table: 99, Tuple: []any{2, "b"}}, tuple.CodeNoSuchSpace},
		{"insert bad type", Op{Kind: OpInsert, Table: tID, Tuple: []any{"2", "b"}}, tuple.CodeFieldType},
		{"insert no tuple", Op{Kind: OpInsert, Table: tID}, tuple.CodeFieldMissing},
		{"insert unencodable", Op{Kind: OpInsert, Table: tID, Tuple: []any{2, func() {}}}, tuple.CodeInvalidMsgpack},
		{"replace unique conflict", Op{Kind: OpReplace, Table: tID, Tuple: []any{2, "a"}}, tuple.CodeTupleFound},
		{"replace missing field", Op{Kind: OpReplace, Table: tID, Tuple: []any{2}}, tuple.CodeFieldMissing},
		{"update bad op", Op{Kind: OpUpdate, Table: tID, Key: []any{1}, Ops: [][]any{{"?", 1, 1}}}, tuple.CodeUnknownUpdateOp},
		{"update pk", Op{Kind: OpUpdate, Table: tID, Key: []any{1}, Ops: [][]any{{"=", 0, 5}}}, tuple.CodeCantUpdatePrimaryKey},
		{"update partial key", Op{Kind: OpUpdate, Table: tID, Key: []any{}, Ops: [][]any{{"=", 1, "z"}}}, tuple.CodeExactMatch},
		{"update non-unique index", Op{Kind: OpUpdate, Table: tID, Index: 2, Key: []any{"x", 1}}, tuple.CodeMoreThanOneTuple},
		{"update no index", Op{Kind: OpUpdate, Table: tID, Index: 9, Key: []any{1}}, tuple.CodeNoSuchIndexID},
		{"upsert bad tuple", Op{Kind: OpUpsert, Table: tID, Tuple: []any{1, 2}}, tuple.CodeFieldType},
		{"upsert bad op", Op{Kind: OpUpsert, Table: tID, Tuple: []any{1, "a"}, Ops: [][]any{{"+", 1}}}, tuple.CodeUnknownUpdateOp},
		{"delete key type", Op{Kind: OpDelete, Table: tID, Key: []any{"1"}}, tuple.CodeKeyPartType},
		{"delete no key", Op{Kind: OpDelete, Table: tID}, tuple.CodeExactMatch},
		{"delete no space", Op{Kind: OpDelete, Table: 99, Key: []any{1}}, tuple.CodeNoSuchSpace},
	} {
		c, ret, err := e.Exec(tc.op)
		require.NotNil(t, err, tc.name)
		require.Equal(t, tc.code, err.Code, "%s: %s", tc.name, err.Message)
		require.Equal(t, Change{}, c, tc.name)
		require.Nil(t, ret.Raw(), tc.name)
	}
	// Nothing changed.
	got, err := e.Select(tID, 0, nil, IterALL, 0, NoLimit)
	require.Nil(t, err)
	require.Equal(t, []string{`[1, "a"]`}, rows(got))
}

func TestOpMsgpack(t *testing.T) {
	u := uuid.MustParse("11111111-2222-3333-4444-555555555555")
	for _, op := range []Op{
		{},
		{Kind: OpInsert, Table: 7, Tuple: []any{int8(1), "a", tuple.MustDecimal("1.25"), u, tuple.Datetime{Epoch: 100, Nsec: 5, TzOffset: 60},
			nil, []byte("bin"), []any{int8(-1), true}, map[string]any{"k": 2.5}}},
		{Kind: OpUpdate, Table: 1 << 31, Index: 3, Key: []any{"k", u}, Ops: [][]any{{"=", "f", tuple.MustDecimal("-3")}, {"#", int8(1), uint16(300)}}},
		{Kind: OpUpsert, Table: 1, Tuple: []any{}, Ops: [][]any{}},
		{Kind: OpDelete, Key: []any{}},
	} {
		b, err := msgpack.Marshal(op)
		require.NoError(t, err)
		var got Op
		require.NoError(t, msgpack.Unmarshal(b, &got))
		require.Equal(t, op, got)
		// As a field of another struct, too.
		type wrap struct {
			Op Op `msgpack:"op"`
		}
		b, err = msgpack.Marshal(wrap{op})
		require.NoError(t, err)
		var w wrap
		require.NoError(t, msgpack.Unmarshal(b, &w))
		require.Equal(t, op, w.Op)
	}
	// The keys are the tags; unknown keys are skipped.
	var got Op
	b, err := msgpack.Marshal(map[string]any{"kind": 5, "table": 2, "index": 1, "key": []any{3}, "extra": "x"})
	require.NoError(t, err)
	require.NoError(t, msgpack.Unmarshal(b, &got))
	require.Equal(t, Op{Kind: OpDelete, Table: 2, Index: 1, Key: []any{int8(3)}}, got)
	// Malformed ones are errors.
	for _, m := range []map[string]any{
		{"key": "not an array"},
		{"ops": []any{"not an op"}},
		{"table": "t"},
	} {
		b, err := msgpack.Marshal(m)
		require.NoError(t, err)
		require.Error(t, msgpack.Unmarshal(b, &got), "%v", m)
	}
	// An unencodable value is an encoding error, not a panic.
	_, err = msgpack.Marshal(Op{Tuple: []any{func() {}}})
	require.Error(t, err)
}

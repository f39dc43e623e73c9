package tables

import (
	"math/rand/v2"
	"testing"

	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/tuple"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

func sampleOps() []Op {
	def := kvDef()
	return []Op{
		DmlOp(Insert(kvID, 1, "one", 1.5, []any{"a", map[string]any{"z": 1, "a": nil}})),
		DmlOp(Replace(multiID, "k", -3, nil)),
		DmlOp(Update(kvID, []any{1}, []any{"=", "name", "uno"}, []any{"+", 2, 1}, []any{"-", 2, 0.5})),
		DmlOp(Delete(multiID, "k", -3)),
		BatchOp(Insert(kvID, 2, "two", 2, nil), Delete(kvID, 1)),
		PrepareCreateTableOp(def, 0),
		PrepareCreateTableOp(def, 9),
		PrepareDropTableOp(kvID, 0),
		DdlCommitOp(9),
		DdlAbortOp(0),
		{Kind: OpNop},
	}
}

func TestOpRoundTrip(t *testing.T) {
	for _, op := range sampleOps() {
		enc := op.Encode()
		require.Equal(t, enc, op.Encode(), "encoding is stable")
		dec, err := DecodeOp(enc)
		require.NoError(t, err, op.Kind)
		require.Equal(t, enc, dec.Encode(), op.Kind)
		require.Equal(t, op.Kind, dec.Kind)
		require.Equal(t, op.SchemaVersion, dec.SchemaVersion)
		require.Equal(t, op.Ddl, dec.Ddl)
		require.Equal(t, len(op.Ops), len(dec.Ops))
		if op.Dml != nil {
			require.Equal(t, op.Dml.Kind, dec.Dml.Kind)
			require.Equal(t, op.Dml.Table, dec.Dml.Table)
			require.Equal(t, op.Dml.Tuple, dec.Dml.Tuple)
			require.Equal(t, op.Dml.Key, dec.Dml.Key)
			require.Equal(t, len(op.Dml.Ops), len(dec.Dml.Ops))
		}
		// Applying the op or its decoded form is the same.
		a, b := newTestStore(t), newTestStore(t)
		require.Equal(t, a.ApplyOp(op), b.ApplyOp(dec))
		require.Equal(t, a.StateHash(), b.StateHash())

		var shape map[string]any
		require.NoError(t, msgpack.Unmarshal(enc, &shape))
		require.Equal(t, string(op.Kind), shape["kind"])
	}
}

func TestOpWireShape(t *testing.T) {
	var m map[string]any
	require.NoError(t, msgpack.Unmarshal(DmlOp(Update(kvID, []any{1}, []any{"=", "name", "x"})).Encode(), &m))
	require.Equal(t, map[string]any{
		"kind": "dml",
		"dml": map[string]any{
			"kind": "update", "table": uint16(1024), "key": []any{int8(1)},
			"ops": []any{[]any{"=", "name", "x"}},
		},
	}, m)
}

func TestDecodeOpGarbage(t *testing.T) {
	bad := map[string][]byte{
		"empty":          nil,
		"nil":            {0xc0},
		"never used":     {0xc1},
		"array":          raw(t, []any{"dml"}),
		"no kind":        raw(t, map[string]any{}),
		"unknown kind":   raw(t, map[string]any{"kind": "truncate"}),
		"kind not str":   raw(t, map[string]any{"kind": 1}),
		"unknown field":  raw(t, map[string]any{"kind": "nop", "extra": 1}),
		"dml without":    raw(t, map[string]any{"kind": "dml"}),
		"direct create":  raw(t, map[string]any{"kind": "ddl_create_table"}),
		"prep without":   raw(t, map[string]any{"kind": "ddl_prepare"}),
		"drop without":   raw(t, map[string]any{"kind": "ddl_prepare", "ddl": map[string]any{"kind": "drop_table"}}),
		"trailing":       append(Op{Kind: OpNop}.Encode(), 0),
		"truncated":      DmlOp(Insert(kvID, 1, "one", 1, nil)).Encode()[:10],
		"dml wrong type": raw(t, map[string]any{"kind": "dml", "dml": "insert"}),
	}
	for name, b := range bad {
		_, err := DecodeOp(b)
		require.Error(t, err, name)
		// Raft applies it as an error result, changing nothing.
		s := newTestStore(t)
		before := s.StateHash()
		res := s.Apply([]ra.Command{{Index: 1, Data: b}})
		require.Equal(t, tuple.CodeIllegalParams, res[0].(Result).Err.Code, name)
		require.Equal(t, before, s.StateHash())
	}
	// Random bytes never panic, and decode only into a well-formed op.
	rng := rand.New(rand.NewPCG(7, 7))
	for range 5000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		if rng.IntN(2) == 0 && len(b) > 0 {
			b[0] = 0x80 | byte(rng.IntN(5)) // a small fixmap
		}
		if op, err := DecodeOp(b); err == nil {
			require.Nil(t, op.checkShape())
		}
	}
}

func TestOpDmls(t *testing.T) {
	ins, del := Insert(kvID, 1, "a", 1, nil), Delete(kvID, 2)
	require.Equal(t, []Dml{ins}, DmlOp(ins).Dmls())
	require.Equal(t, []Dml{ins, del}, BatchOp(ins, del).Dmls())
	require.Empty(t, BatchOp().Dmls())
	require.Nil(t, PrepareCreateTableOp(kvDef(), 0).Dmls())
	require.Nil(t, PrepareDropTableOp(kvID, 0).Dmls())
	require.Nil(t, Op{Kind: OpNop}.Dmls())
	require.Nil(t, Op{Kind: OpDml}.Dmls())
}

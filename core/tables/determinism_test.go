package tables

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tuple"
	"github.com/stretchr/testify/require"
)

// opGen draws random ops (valid and not) over a few tables.
type opGen struct{ rng *rand.Rand }

func (g opGen) kvKey() int { return g.rng.IntN(50) }

func (g opGen) score() any {
	switch g.rng.IntN(3) {
	case 0:
		return g.rng.IntN(1000) - 500
	case 1:
		return float64(g.rng.IntN(1000)) / 8
	}
	return uint64(g.rng.Uint32())
}

func (g opGen) multiKey() []any {
	return []any{[]string{"a", "b", "c"}[g.rng.IntN(3)], g.rng.IntN(11) - 5}
}

func (g opGen) dml() Dml {
	switch g.rng.IntN(12) {
	case 0:
		return Insert(kvID, g.kvKey(), fmt.Sprint("n", g.rng.IntN(100)), g.score(), nil)
	case 1:
		return Replace(kvID, g.kvKey(), fmt.Sprint("r", g.rng.IntN(100)), g.score(), []any{g.rng.IntN(3)})
	case 2:
		ops := [][]any{
			{"=", "name", fmt.Sprint("u", g.rng.IntN(100))},
			{"+", "score", g.score()},
			{"-", 2, g.score()},
			{"=", "tags", map[string]any{"k": g.rng.IntN(3)}},
			{"=", "id", g.kvKey()}, // changes the key unless equal
			{"+", "name", 1},       // error
		}
		n := 1 + g.rng.IntN(2)
		var chosen [][]any
		for range n {
			chosen = append(chosen, ops[g.rng.IntN(len(ops))])
		}
		return Update(kvID, []any{g.kvKey()}, chosen...)
	case 3:
		return Delete(kvID, g.kvKey())
	case 4:
		k := g.multiKey()
		return Insert(multiID, k[0], k[1], g.score())
	case 5:
		k := g.multiKey()
		return Replace(multiID, k[0], k[1], map[string]any{"v": g.rng.IntN(10)})
	case 6:
		return Update(multiID, g.multiKey(), []any{"=", "c", g.rng.IntN(10)})
	case 7:
		k := g.multiKey()
		return Delete(multiID, k...)
	case 8:
		return Replace(TablePicoProperty, fmt.Sprint("p", g.rng.IntN(5)), g.score())
	case 9:
		return Insert(2000, g.rng.IntN(20), "tmp") // exists only between create and drop
	case 10:
		return Insert(kvID, g.kvKey(), 5, 5, nil) // type error
	}
	return Delete(kvID, "x") // key type error
}

func (g opGen) op() []byte {
	switch n := g.rng.IntN(100); {
	case n < 70:
		return DmlOp(g.dml()).Encode()
	case n < 85:
		var ds []Dml
		for range g.rng.IntN(5) { // sometimes empty
			ds = append(ds, g.dml())
		}
		return BatchOp(ds...).Encode()
	case n < 87:
		def := schema.TableDef{ID: 2000, Name: "tmp", Format: []schema.Field{{Name: "k", Type: tuple.TypeUnsigned}, {Name: "v", Type: tuple.TypeString}}, PrimaryKey: []uint32{0}}
		return PrepareCreateTableOp(def, 0).Encode()
	case n < 89:
		if g.rng.IntN(3) == 0 {
			return DdlAbortOp(0).Encode()
		}
		return DdlCommitOp(0).Encode()
	case n < 92:
		return PrepareDropTableOp(2000, 0).Encode()
	case n < 95:
		return Op{Kind: OpNop}.Encode()
	}
	b := make([]byte, g.rng.IntN(12))
	for i := range b {
		b[i] = byte(g.rng.Uint32())
	}
	return b
}

func TestDeterminism(t *testing.T) {
	gen := opGen{rng: rand.New(rand.NewPCG(42, 2024))}
	cmds := make([]ra.Command, 2000)
	for i := range cmds {
		cmds[i] = ra.Command{Index: uint64(i + 1), Data: gen.op()}
	}

	// A applies one command at a time, B in batches of 7, C restores A's
	// snapshot halfway and applies the rest.
	a, b, c := newTestStore(t), newTestStore(t), newTestStore(t)
	a.ChunkBytes = 300
	var resA, resB []any
	for i, cmd := range cmds {
		resA = append(resA, a.Apply([]ra.Command{cmd})...)
		if i == 999 {
			require.NoError(t, c.Restore(readChunks(t, a.Snapshot())))
		}
	}
	for i := 0; i < len(cmds); i += 7 {
		resB = append(resB, b.Apply(cmds[i:min(i+7, len(cmds))])...)
	}
	resC := c.Apply(cmds[1000:])

	require.Equal(t, resA, resB)
	require.Equal(t, resA[1000:], resC)
	require.Equal(t, a.StateHash(), b.StateHash())
	require.Equal(t, a.StateHash(), c.StateHash())
	require.Equal(t, a.Tables(), c.Tables())

	// The run exercised both outcomes and changed things.
	var ok, failed, rows uint64
	codes := map[uint32]bool{}
	for _, r := range resA {
		res := r.(Result)
		if res.Err != nil {
			failed++
			codes[res.Err.Code] = true
		} else {
			ok++
			rows += res.RowCount
		}
	}
	require.Greater(t, ok, uint64(800))
	require.Greater(t, failed, uint64(200))
	require.Greater(t, rows, uint64(500))
	for _, code := range []uint32{tuple.CodeTupleFound, tuple.CodeNoSuchSpace, tuple.CodeFieldType, tuple.CodeKeyPartType,
		tuple.CodeIllegalParams, tuple.CodeCantUpdatePrimaryKey, tuple.CodeUpdateArgType, tuple.CodeSpaceExists} {
		require.True(t, codes[code], "code %d never seen", code)
	}
	require.NotEqual(t, newTestStore(t).StateHash(), a.StateHash())
	t.Logf("%d ok (%d rows), %d failed, schema version %d", ok, rows, failed, a.SchemaVersion())
}

package tables

import (
	"testing"

	"github.com/picogo/picogo/core/ra"

	"github.com/stretchr/testify/require"
)

const (
	kvID    uint32 = 1024
	multiID uint32 = 1025
)

// kvDef: id unsigned (pk), name string, score number, tags array (nullable).
func kvDef() TableDef {
	return TableDef{Name: "kv", Format: []Field{
		{Name: "id", Type: TypeUnsigned},
		{Name: "name", Type: TypeString},
		{Name: "score", Type: TypeNumber},
		{Name: "tags", Type: TypeArray, Nullable: true},
	}, PrimaryKey: []uint32{0}}
}

// multiDef: a string, b integer, c any; pk (a, b).
func multiDef() TableDef {
	return TableDef{Name: "multi", Format: []Field{
		{Name: "a", Type: TypeString},
		{Name: "b", Type: TypeInteger},
		{Name: "c", Type: TypeAny, Nullable: true},
	}, PrimaryKey: []uint32{0, 1}}
}

// newTestStore returns a store with tables kv (1024) and multi (1025).
func newTestStore(t *testing.T) *Store {
	t.Helper()
	s := New()
	mustApply(t, s, CreateTableOp(kvDef()))
	mustApply(t, s, CreateTableOp(multiDef()))
	return s
}

func mustApply(t *testing.T, s *Store, op Op) Result {
	t.Helper()
	r := s.ApplyOp(op)
	require.Nil(t, r.Err, "applying %s", op.Kind)
	return r
}

func raw(t *testing.T, v any) []byte {
	t.Helper()
	b, err := Marshal(v)
	require.NoError(t, err)
	return b
}

func key(t *testing.T, vals ...any) []byte {
	t.Helper()
	k, err := EncodeKey(vals)
	require.NoError(t, err)
	return k
}

// scanValues returns a table's rows as value slices.
func scanValues(t *testing.T, s *Store, table uint32) [][]any {
	t.Helper()
	rows, err := s.Scan(table)
	require.NoError(t, err)
	out := make([][]any, len(rows))
	for i, r := range rows {
		out[i] = r.Values()
	}
	return out
}

// raCommands encodes ops as committed commands.
func raCommands(ops ...Op) []ra.Command {
	out := make([]ra.Command, len(ops))
	for i, op := range ops {
		out[i] = ra.Command{Index: uint64(i + 1), Data: op.Encode()}
	}
	return out
}

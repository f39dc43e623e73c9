package tables

import (
	"testing"

	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tuple"

	"github.com/stretchr/testify/require"
)

const (
	kvID    uint32 = 1024
	multiID uint32 = 1025
)

// kvDef: id unsigned (pk), name string, score number, tags array (nullable).
func kvDef() schema.TableDef {
	return schema.TableDef{Name: "kv", Format: []schema.Field{
		{Name: "id", Type: tuple.TypeUnsigned},
		{Name: "name", Type: tuple.TypeString},
		{Name: "score", Type: tuple.TypeNumber},
		{Name: "tags", Type: tuple.TypeArray, Nullable: true},
	}, PrimaryKey: []uint32{0}}
}

// multiDef: a string, b integer, c any; pk (a, b).
func multiDef() schema.TableDef {
	return schema.TableDef{Name: "multi", Format: []schema.Field{
		{Name: "a", Type: tuple.TypeString},
		{Name: "b", Type: tuple.TypeInteger},
		{Name: "c", Type: tuple.TypeAny, Nullable: true},
	}, PrimaryKey: []uint32{0, 1}}
}

// newTestStore returns a store with tables kv (1024) and multi (1025).
func newTestStore(t *testing.T) *Store {
	t.Helper()
	s := New()
	createTable(t, s, kvDef(), 0)
	createTable(t, s, multiDef(), 0)
	return s
}

// createTable creates a table by two-phase DDL: ddl_prepare, ddl_commit.
func createTable(t *testing.T, s *Store, def schema.TableDef, version uint64) {
	t.Helper()
	mustApply(t, s, PrepareCreateTableOp(def, version))
	mustApply(t, s, DdlCommitOp(0))
}

// dropTable drops a table by two-phase DDL.
func dropTable(t *testing.T, s *Store, id uint32) {
	t.Helper()
	mustApply(t, s, PrepareDropTableOp(id, 0))
	mustApply(t, s, DdlCommitOp(0))
}

func mustApply(t *testing.T, s *Store, op Op) Result {
	t.Helper()
	r := s.ApplyOp(op)
	require.Nil(t, r.Err, "applying %s", op.Kind)
	return r
}

func raw(t *testing.T, v any) []byte {
	t.Helper()
	b, err := tuple.Marshal(v)
	require.NoError(t, err)
	return b
}

func key(t *testing.T, vals ...any) []byte {
	t.Helper()
	k, err := tuple.EncodeKey(vals)
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

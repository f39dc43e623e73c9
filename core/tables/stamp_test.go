package tables

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A stamp moves when one of its tables is written or the store restored,
// and only then.
func TestStampMovesOnWritesToItsTablesAndOnRestore(t *testing.T) {
	s := newTestStore(t)
	before := s.Stamp(TablePicoTable, TablePicoIndex)
	mustApply(t, s, DmlOp(Insert(kvID, uint64(1), "a", 1, nil)))
	require.Equal(t, before, s.Stamp(TablePicoTable, TablePicoIndex), "a write to another table")

	kv := s.Stamp(kvID)
	mustApply(t, s, DmlOp(Replace(kvID, uint64(1), "b", 2, nil)))
	require.NotEqual(t, kv, s.Stamp(kvID), "a replace of the same row")

	dropTable(t, s, kvID)
	require.NotEqual(t, before, s.Stamp(TablePicoTable, TablePicoIndex), "a drop")

	// A restore, even of the same contents — and of a store whose tables
	// were never written, whose write counts are all zero.
	after := s.Stamp(TablePicoTable)
	chunks := readChunks(t, s.Snapshot())
	require.NoError(t, s.Restore(chunks))
	require.NotEqual(t, after, s.Stamp(TablePicoTable))
	fresh := New()
	empty := fresh.Stamp(kvID)
	require.NoError(t, fresh.Restore(readChunks(t, New().Snapshot())))
	require.NotEqual(t, empty, fresh.Stamp(kvID))
}

// New starts from a template of the system tables; what one store writes
// into them must not reach the template, nor another store.
func TestNewStoresShareNothingWritable(t *testing.T) {
	a := New()
	want := New().ordered(New().tables[TablePicoTable])
	pt := a.tables[TablePicoTable]
	first := pt.keys()[0]
	pt.set(first, nil)
	pt.set("\xffanother", &want[0])
	a.tables[TablePicoIndex].set(a.tables[TablePicoIndex].keys()[0], nil)

	b := New()
	require.Equal(t, want, b.ordered(b.tables[TablePicoTable]))
	require.Equal(t, len(want), len(b.tables[TablePicoTable].keys()))
	require.Equal(t, len(systemTemplate[0].rows), len(New().tables[systemTemplate[0].def.ID].rows))
	require.Equal(t, New().ordered(New().tables[TablePicoIndex]), b.ordered(b.tables[TablePicoIndex]))
	require.NotEqual(t, a.ordered(a.tables[TablePicoIndex]), b.ordered(b.tables[TablePicoIndex]))
}

// Store.system mirrors the tables map for every system table's id, in a
// new store, after a restore, and after user tables come and go.
func TestSystemTablesAreInTheArray(t *testing.T) {
	check := func(s *Store) {
		t.Helper()
		for _, def := range SystemTables() {
			require.Less(t, def.ID-systemLow, uint32(systemSlots), def.Name)
			require.Same(t, s.tables[def.ID], s.system[def.ID-systemLow], def.Name)
		}
		for i, tb := range s.system {
			if tb != nil {
				require.Same(t, s.tables[uint32(i)+systemLow], tb)
			}
		}
	}
	s := newTestStore(t)
	check(s)
	dropTable(t, s, kvID)
	check(s)
	require.NoError(t, s.Restore(readChunks(t, New().Snapshot())))
	check(s)
}

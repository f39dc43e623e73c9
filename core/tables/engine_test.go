package tables

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tuple"
)

// The rows of global user tables live in the storage engine; these tests
// pin what that adds (unique secondary indexes) and what it must not
// change (outputs, atomicity).

// createIndex creates an index on a table by two-phase DDL.
func createIndex(t *testing.T, s *Store, x schema.IndexDef) {
	t.Helper()
	mustApply(t, s, PrepareCreateIndexOp(x, 0))
	ddl, _, _ := s.PendingSchemaChange()
	require.Nil(t, s.ApplicableHere(ddl))
	mustApply(t, s, DdlCommitOp(0))
}

// rowsText is a table's rows, in order, as text.
func rowsText(t *testing.T, s *Store, table uint32) string {
	t.Helper()
	rows, err := s.Scan(table)
	require.NoError(t, err)
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.String()
	}
	return strings.Join(out, " ")
}

func byName(unique bool) schema.IndexDef {
	return schema.IndexDef{TableID: kvID, Name: "by_name", Opts: map[string]any{"unique": unique},
		Parts: []schema.IndexPart{{Field: "name"}}}
}

func TestEngineUniqueSecondaryIndexIsEnforced(t *testing.T) {
	s := newTestStore(t)
	mustApply(t, s, DmlOp(Insert(kvID, uint64(1), "a", 1, nil)))
	mustApply(t, s, DmlOp(Insert(kvID, uint64(2), "b", 2, nil)))
	createIndex(t, s, byName(true))
	before := s.StateHash()

	for name, op := range map[string]Op{
		"insert":  DmlOp(Insert(kvID, uint64(3), "a", 3, nil)),
		"replace": DmlOp(Replace(kvID, uint64(2), "a", 3, nil)),
		"update":  DmlOp(Update(kvID, []any{uint64(2)}, []any{"=", "name", "a"})),
	} {
		r := s.ApplyOp(op)
		require.NotNil(t, r.Err, name)
		require.Equal(t, tuple.CodeTupleFound, r.Err.Code, name)
		require.Contains(t, r.Err.Message, `Duplicate key exists in unique index "by_name" in space "kv" with old tuple - [1, "a", 1, null]`, name)
		require.Equal(t, before, s.StateHash(), name)
	}

	// Freeing the key frees the index entry: the same row moves.
	mustApply(t, s, DmlOp(Update(kvID, []any{uint64(1)}, []any{"=", "name", "c"})))
	mustApply(t, s, DmlOp(Insert(kvID, uint64(3), "a", 3, nil)))
	mustApply(t, s, DmlOp(Delete(kvID, uint64(3))))
	mustApply(t, s, DmlOp(Replace(kvID, uint64(2), "a", 5, nil)))
	require.Equal(t, `[1, "c", 1, null] [2, "a", 5, null]`, rowsText(t, s, kvID))

	// Dropped, the index no longer refuses equal names.
	mustApply(t, s, PrepareDropIndexOp(kvID, 1, 0))
	mustApply(t, s, DdlCommitOp(0))
	mustApply(t, s, DmlOp(Insert(kvID, uint64(3), "a", 3, nil)))
}

func TestEngineNonUniqueIndexAdmitsEqualKeys(t *testing.T) {
	s := newTestStore(t)
	createIndex(t, s, byName(false))
	mustApply(t, s, DmlOp(Insert(kvID, uint64(1), "a", 1, nil)))
	mustApply(t, s, DmlOp(Insert(kvID, uint64(2), "a", 2, nil)))
	require.Len(t, scanValues(t, s, kvID), 2)
}

// A unique index over rows with equal keys: the masters' dry run answers
// the abort reason and leaves the rows writable as before; a commit all
// the same (rows written after the dry run) is refused and changes
// nothing.
func TestEngineUniqueIndexOverDuplicates(t *testing.T) {
	s := newTestStore(t)
	mustApply(t, s, DmlOp(Insert(kvID, uint64(1), "a", 1, nil)))
	mustApply(t, s, PrepareCreateIndexOp(byName(true), 0))
	ddl, _, _ := s.PendingSchemaChange()
	require.Nil(t, s.ApplicableHere(ddl), "no duplicates yet")
	require.Nil(t, s.ApplicableHere(ddl), "the dry run left no index behind")
	mustApply(t, s, DmlOp(Insert(kvID, uint64(2), "a", 2, nil))) // the index is pending: not enforced

	e := s.ApplicableHere(ddl)
	require.NotNil(t, e)
	require.Equal(t, tuple.CodeTupleFound, e.Code)
	require.Contains(t, e.Message, `unique index "by_name" in space "kv"`)
	mustApply(t, s, DmlOp(Insert(kvID, uint64(3), "a", 3, nil))) // still no index

	before := s.StateHash()
	r := s.ApplyOp(DdlCommitOp(0))
	require.NotNil(t, r.Err)
	require.Equal(t, tuple.CodeTupleFound, r.Err.Code)
	require.Equal(t, before, s.StateHash(), "a refused commit changes nothing")
	_, _, pending := s.PendingSchemaChange()
	require.True(t, pending)
	mustApply(t, s, DdlAbortOp(0))
	require.Len(t, s.Indexes(kvID), 1)
	mustApply(t, s, DmlOp(Insert(kvID, uint64(4), "a", 4, nil)))
}

func TestEngineBatchIsAtomicAcrossTables(t *testing.T) {
	s := newTestStore(t)
	mustApply(t, s, DmlOp(Insert(kvID, uint64(1), "a", 1, nil)))
	createIndex(t, s, byName(true))
	before, stamp := s.StateHash(), s.Stamp(kvID, multiID)

	r := s.ApplyOp(BatchOp(
		Insert(multiID, "x", 1, nil),
		Replace(kvID, uint64(1), "b", 2, nil),
		Insert(kvID, uint64(2), "c", 2, nil),
		Delete(kvID, uint64(1)),
		Insert(kvID, uint64(1), "b", 3, nil),
		Update(kvID, []any{uint64(2)}, []any{"=", "name", "b"}), // fails: "b" is taken by 1
	))
	require.NotNil(t, r.Err)
	require.Equal(t, tuple.CodeTupleFound, r.Err.Code)
	require.Contains(t, r.Err.Message, "batch op 5: ")
	require.Equal(t, before, s.StateHash(), "every applied op undone")
	require.Equal(t, stamp, s.Stamp(kvID, multiID))
	require.Equal(t, `[1, "a", 1, null]`, rowsText(t, s, kvID))

	r = mustApply(t, s, BatchOp(
		Replace(kvID, uint64(1), "b", 2, nil),
		Insert(kvID, uint64(2), "a", 2, nil), // "a" was freed by the op before
	))
	require.Equal(t, uint64(2), r.RowCount)
	require.NotEqual(t, stamp, s.Stamp(kvID))
}

// A snapshot restores the engine's tables and indexes: committed ones
// (enforced), a pending one (not yet: its commit builds it).
func TestEngineIndexesSurviveSnapshot(t *testing.T) {
	s := newTestStore(t)
	mustApply(t, s, DmlOp(Insert(kvID, uint64(1), "a", 1, nil)))
	createIndex(t, s, byName(true))
	mustApply(t, s, PrepareCreateIndexOp(schema.IndexDef{TableID: multiID, Name: "by_b", Opts: map[string]any{"unique": true},
		Parts: []schema.IndexPart{{Field: "b"}}}, 0))
	mustApply(t, s, DmlOp(Insert(multiID, "x", 1, nil)))
	mustApply(t, s, DmlOp(Insert(multiID, "y", 1, nil)))

	s2 := New()
	require.NoError(t, s2.Restore(readChunks(t, s.Snapshot())))
	require.Equal(t, s.StateHash(), s2.StateHash())
	r := s2.ApplyOp(DmlOp(Insert(kvID, uint64(2), "a", 2, nil)))
	require.NotNil(t, r.Err)
	require.Equal(t, tuple.CodeTupleFound, r.Err.Code, "the committed unique index is restored")
	r = s2.ApplyOp(DdlCommitOp(0))
	require.NotNil(t, r.Err, "the pending index is built at its commit, over the restored rows")
	require.Equal(t, tuple.CodeTupleFound, r.Err.Code)
	mustApply(t, s2, DmlOp(Delete(multiID, "y", 1)))
	mustApply(t, s2, DdlCommitOp(0))
	r = s2.ApplyOp(DmlOp(Insert(multiID, "z", 1, nil)))
	require.NotNil(t, r.Err)
	require.Equal(t, tuple.CodeTupleFound, r.Err.Code)
}

// Dropping a table drops its rows from the engine: a new table of the same
// name starts empty.
func TestEngineDropAndRecreate(t *testing.T) {
	s := newTestStore(t)
	mustApply(t, s, DmlOp(Insert(kvID, uint64(1), "a", 1, nil)))
	createIndex(t, s, byName(true))
	dropTable(t, s, kvID)
	createTable(t, s, kvDef(), 0)
	def, ok := s.TableByName("kv")
	require.True(t, ok)
	require.NotEqual(t, kvID, def.ID)
	require.Empty(t, scanValues(t, s, def.ID))
	mustApply(t, s, DmlOp(Insert(def.ID, uint64(1), "a", 1, nil)))
	mustApply(t, s, DmlOp(Insert(def.ID, uint64(2), "a", 1, nil)))

	// A create aborted never reaches the engine; its name is free again.
	d := kvDef()
	d.Name = "t2"
	mustApply(t, s, PrepareCreateTableOp(d, 0))
	mustApply(t, s, DdlAbortOp(0))
	createTable(t, s, d, 0)
}

// goldenContents writes rows of every kind of key into the global tables,
// in no particular order, with deletes and updates.
func goldenContents(t *testing.T) *Store {
	s := newTestStore(t)
	s.ChunkBytes = 100
	for i := range 30 {
		id := uint64(i*17%31) + 1
		mustApply(t, s, DmlOp(Replace(kvID, id, fmt.Sprintf("n%d", i), float64(i)/4, []any{i})))
	}
	for _, k := range [][]any{{"b", -3}, {"a", 5}, {"a", -1}, {"", 0}, {"a\x00b", 2}, {"ab", 1 << 40}, {"a", -1 << 40}} {
		mustApply(t, s, DmlOp(Insert(multiID, k[0], k[1], map[string]any{"k": k[1]})))
	}
	mustApply(t, s, DmlOp(Delete(kvID, uint64(5))))
	mustApply(t, s, DmlOp(Update(kvID, []any{uint64(7)}, []any{"+", "score", 100})))
	mustApply(t, s, DmlOp(Delete(multiID, "a", 5)))
	return s
}

// The state hash and the snapshot's bytes are those of the store that
// kept these rows in Go maps (computed at commit ae733ef; recomputed when
// _pico_bucket joined the system tables, when _pico_user took its
// type column, when the roles' tables joined, and when _pico_role_config did): where the rows
// live does not show.
func TestEngineOutputsAreThoseOfTheMapStore(t *testing.T) {
	s := goldenContents(t)
	h := s.StateHash()
	require.Equal(t, "2c8da89f35cd91ac44d006f8f0fbd8b5a1729afd5fa04acc124495e3720beb43", hex.EncodeToString(h[:]))
	chunks := readChunks(t, s.Snapshot())
	sum := sha256.New()
	for _, c := range chunks {
		sum.Write(c.Pos)
		sum.Write(c.Next)
		sum.Write(c.Data)
	}
	require.Len(t, chunks, 30)
	require.Equal(t, "9f0f601bc69eea4f948148520eb3a75187472a31269a0e90883295a1447e9854", hex.EncodeToString(sum.Sum(nil)))
}

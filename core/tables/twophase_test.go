package tables

import (
	"testing"

	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tuple"

	"github.com/stretchr/testify/require"
)

func propUint(s *Store, key string) (uint64, bool) {
	v, ok := s.Property(key)
	u, _ := tuple.AsUint64(v)
	return u, ok
}

func TestTwoPhaseCreateCommit(t *testing.T) {
	s := newTestStore(t) // global_schema_version 2
	def := kvDef()
	def.Name = "t2"
	mustApply(t, s, PrepareCreateTableOp(def, 0))

	ddl, ver, ok := s.PendingSchemaChange()
	require.True(t, ok)
	require.Equal(t, uint64(3), ver)
	require.Equal(t, DdlCreateTable, ddl.Kind)
	require.Equal(t, uint32(1026), ddl.Def.ID)
	ver, ok = s.PendingSchemaVersion()
	require.True(t, ok)
	require.Equal(t, uint64(3), ver, "PendingSchemaVersion agrees with PendingSchemaChange")
	require.Equal(t, schema.DistributionGlobal, ddl.Def.Distribution)
	next, _ := propUint(s, PropNextSchemaVersion)
	require.Equal(t, uint64(4), next)
	require.Equal(t, uint64(2), s.SchemaVersion())

	got, ok := s.TableByName("t2")
	require.True(t, ok)
	require.False(t, got.Operable)
	r := s.ApplyOp(DmlOp(Insert(1026, uint64(1), "a", 1, nil)))
	require.NotNil(t, r.Err)
	require.Equal(t, CodeTableNotOperable, r.Err.Code)

	// One at a time.
	r = s.ApplyOp(PrepareDropTableOp(kvID, 0))
	require.NotNil(t, r.Err)
	require.Contains(t, r.Err.Message, "another schema change is pending (schema version 3)")
	// A commit of another version is refused.
	r = s.ApplyOp(DdlCommitOp(7))
	require.NotNil(t, r.Err)

	mustApply(t, s, DdlCommitOp(3))
	_, _, ok = s.PendingSchemaChange()
	require.False(t, ok)
	_, ok = s.PendingSchemaVersion()
	require.False(t, ok)
	require.Equal(t, uint64(3), s.SchemaVersion())
	got, _ = s.TableByName("t2")
	require.True(t, got.Operable)
	require.Equal(t, uint64(3), got.SchemaVersion)
	mustApply(t, s, DmlOp(Insert(1026, uint64(1), "a", 1, nil)))
	rows := scanValues(t, s, TablePicoTable)
	require.Equal(t, true, rows[len(rows)-1][5], "_pico_table.operable")

	r = s.ApplyOp(DdlCommitOp(0))
	require.NotNil(t, r.Err, "nothing pending")
}

func TestTwoPhaseCreateAbortReverts(t *testing.T) {
	s := newTestStore(t)
	def := kvDef()
	def.Name = "t2"
	mustApply(t, s, PrepareCreateTableOp(def, 10))
	mustApply(t, s, DdlAbortOp(10))
	_, ok := s.TableByName("t2")
	require.False(t, ok)
	require.Equal(t, uint64(2), s.SchemaVersion())
	_, ok = s.Property(PropPendingSchemaChange)
	require.False(t, ok)
	next, _ := propUint(s, PropNextSchemaVersion)
	require.Equal(t, uint64(11), next, "an aborted version is not reused")
	// The next prepare gets the next version; an older one is refused.
	r := s.ApplyOp(PrepareCreateTableOp(def, 10))
	require.NotNil(t, r.Err)
	require.Equal(t, tuple.CodeWrongSchemaVersion, r.Err.Code)
	mustApply(t, s, PrepareCreateTableOp(def, 0))
	_, ver, _ := s.PendingSchemaChange()
	require.Equal(t, uint64(11), ver)
}

func TestTwoPhaseDrop(t *testing.T) {
	s := newTestStore(t)
	mustApply(t, s, DmlOp(Insert(kvID, uint64(1), "a", 1, nil)))
	mustApply(t, s, PrepareDropTableOp(kvID, 0))
	def, _ := s.Table(kvID)
	require.False(t, def.Operable)
	r := s.ApplyOp(DmlOp(Delete(kvID, uint64(1))))
	require.Equal(t, CodeTableNotOperable, r.Err.Code)
	// Abort: operable again, rows kept.
	mustApply(t, s, DdlAbortOp(0))
	def, _ = s.Table(kvID)
	require.True(t, def.Operable)
	require.Len(t, scanValues(t, s, kvID), 1)
	// Commit: gone.
	mustApply(t, s, PrepareDropTableOp(kvID, 0))
	mustApply(t, s, DdlCommitOp(0))
	_, ok := s.Table(kvID)
	require.False(t, ok)
	require.Equal(t, uint64(4), s.SchemaVersion())

	r = s.ApplyOp(PrepareDropTableOp(TablePicoTier, 0))
	require.Equal(t, tuple.CodeDropSpace, r.Err.Code)
	r = s.ApplyOp(PrepareDropTableOp(4000, 0))
	require.Equal(t, tuple.CodeNoSuchSpace, r.Err.Code)
}

func TestTwoPhaseApplicableHere(t *testing.T) {
	s := newTestStore(t)
	addTier(t, s, "storage", 3000)
	def := kvDef()
	def.Name = "sharded"
	def.Distribution = "sharded"
	mustApply(t, s, PrepareCreateTableOp(def, 0))
	ddl, _, _ := s.PendingSchemaChange()
	require.Nil(t, s.ApplicableHere(ddl), "a valid sharded table: its rows are the engines' business")
	mustApply(t, s, DdlAbortOp(0))
	global := kvDef()
	global.Name, global.Engine = "vinyl_kv", "vinyl"
	mustApply(t, s, PrepareCreateTableOp(global, 0))
	ddl, _, _ = s.PendingSchemaChange()
	e := s.ApplicableHere(ddl)
	require.NotNil(t, e, "a global table must be one the Raft-replicated store keeps")
	require.Contains(t, e.Message, "global tables use")
	mustApply(t, s, DdlAbortOp(0))

	// A unique secondary index of a global table is enforced by the
	// engine: it applies unless the rows have equal keys (engine_test.go).
	mustApply(t, s, DmlOp(Insert(kvID, uint64(1), "a", 1, nil)))
	mustApply(t, s, DmlOp(Insert(kvID, uint64(2), "a", 2, nil)))
	mustApply(t, s, PrepareCreateIndexOp(schema.IndexDef{TableID: kvID, Name: "by_name", Parts: []schema.IndexPart{{Field: "name"}}}, 0))
	ddl, _, _ = s.PendingSchemaChange()
	e = s.ApplicableHere(ddl)
	require.NotNil(t, e)
	require.Equal(t, tuple.CodeTupleFound, e.Code)
	mustApply(t, s, DdlAbortOp(0))
	mustApply(t, s, PrepareCreateIndexOp(schema.IndexDef{TableID: kvID, Name: "by_name", Opts: map[string]any{"unique": false},
		Parts: []schema.IndexPart{{Field: "name"}}}, 0))
	ddl, _, _ = s.PendingSchemaChange()
	require.Nil(t, s.ApplicableHere(ddl))
	mustApply(t, s, DdlAbortOp(0))
	def.Distribution = ""
	mustApply(t, s, PrepareCreateTableOp(def, 0))
	ddl, _, _ = s.PendingSchemaChange()
	require.Nil(t, s.ApplicableHere(ddl))
}

func TestTwoPhaseOpsRoundTripAndKeys(t *testing.T) {
	s := newTestStore(t)
	for _, op := range []Op{PrepareCreateTableOp(kvDef(), 5), PrepareDropTableOp(kvID, 0), DdlCommitOp(3), DdlAbortOp(0)} {
		got, err := DecodeOp(op.Encode())
		require.NoError(t, err)
		require.Equal(t, op.Encode(), got.Encode())
		keys, e := s.OpKeys(op)
		require.Nil(t, e)
		require.NotEmpty(t, keys)
	}
	_, err := DecodeOp(Op{Kind: OpDdlPrepare}.Encode())
	require.Error(t, err)
	_, err = DecodeOp(Op{Kind: OpDdlPrepare, Ddl: &Ddl{Kind: "alter"}}.Encode())
	require.Error(t, err)
}

func TestTwoPhaseSurvivesSnapshot(t *testing.T) {
	s := newTestStore(t)
	def := kvDef()
	def.Name = "t2"
	mustApply(t, s, PrepareCreateTableOp(def, 0))
	s2 := New()
	require.NoError(t, s2.Restore(readChunks(t, s.Snapshot())))
	require.Equal(t, s.StateHash(), s2.StateHash())
	got, ok := s2.TableByName("t2")
	require.True(t, ok)
	require.False(t, got.Operable)
	mustApply(t, s2, DdlCommitOp(0))
	got, _ = s2.TableByName("t2")
	require.True(t, got.Operable)
}

package governor

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
)

// twoSets: r1 = {s1 (master), s2}, r2 = {s3 (master), s4}, settled.
func twoSets() *topo {
	return newTopo().tier("storage", 2, true).
		add("s1", 1, "r1", on(1), on(1)).
		add("s2", 2, "r1", on(1), on(1)).
		add("s3", 3, "r2", on(1), on(1)).
		add("s4", 4, "r2", on(1), on(1)).settled()
}

func ddlDef(name string) schema.TableDef {
	return schema.TableDef{Name: name, Format: []schema.Field{{Name: "id", Type: tuple.TypeUnsigned}}, PrimaryKey: []uint32{0}}
}

func TestSchemaChangeCommits(t *testing.T) {
	s := newSim(t, twoSets(), 1, withLearners(voters(1, 2, 3), 4))
	require.IsType(t, Idle{}, s.plan(), "nothing pending")
	require.Nil(t, s.store.ApplyOp(tables.PrepareCreateTableOp(ddlDef("t"), 0)).Err)

	a := as[ApplySchemaChange](t, s.plan())
	require.Equal(t, uint64(1), a.SchemaVersion)
	require.Equal(t, []string{"s1", "s3"}, a.Masters, "every replicaset's master, replicas not")
	for _, r := range a.RPCs {
		require.Equal(t, api.ApplySchemaChange{}, r.Call)
	}
	require.Equal(t, tables.DdlCommitOp(1), a.Commit)
	require.Equal(t, tables.DdlAbortOp(1), a.Abort)
	require.Len(t, a.Ranges, 3, "pending_schema_version and both replicasets")

	trace := s.run(5)
	require.Equal(t, []string{StepSchemaChange, StepIdle}, steps(trace))
	def, ok := s.store.TableByName("t")
	require.True(t, ok)
	require.True(t, def.Operable)
	require.Equal(t, uint64(1), s.store.SchemaVersion())
}

func TestSchemaChangeAborts(t *testing.T) {
	s := newSim(t, twoSets(), 1, withLearners(voters(1, 2, 3), 4))
	require.Nil(t, s.store.ApplyOp(tables.PrepareCreateTableOp(ddlDef("t"), 0)).Err)
	s.answers = map[string]any{"s3": api.SchemaChangeAbort("conflict")}
	a := as[ApplySchemaChange](t, s.plan())
	op, reason, err := a.SchemaChangeOutcome([]any{[]any{"Ok"}, []any{api.SchemaChangeAbort("conflict")}})
	require.NoError(t, err)
	require.Equal(t, tables.OpDdlAbort, op.Kind)
	require.Equal(t, "conflict", reason)
	_, _, err = a.SchemaChangeOutcome([]any{[]any{"Maybe"}})
	require.Error(t, err)

	s.run(5)
	_, ok := s.store.TableByName("t")
	require.False(t, ok)
	require.Equal(t, uint64(0), s.store.SchemaVersion())
}

// A master that cannot be reached is waited for, never skipped.
func TestSchemaChangeWaitsForUnreachableMaster(t *testing.T) {
	s := newSim(t, twoSets(), 1, withLearners(voters(1, 2, 3), 4))
	require.Nil(t, s.store.ApplyOp(tables.PrepareCreateTableOp(ddlDef("t"), 0)).Err)
	s.unreachable["s3"] = true
	require.IsType(t, Idle{}, s.plan())
	s.unreachable["s3"] = false
	require.Equal(t, []string{"s1", "s3"}, as[ApplySchemaChange](t, s.plan()).Masters)

	// Without an address, the same.
	top := twoSets()
	delete(top.Addresses, 3)
	s = newSim(t, top, 1, withLearners(voters(1, 2, 3), 4))
	require.Nil(t, s.store.ApplyOp(tables.PrepareCreateTableOp(ddlDef("t"), 0)).Err)
	require.IsType(t, Idle{}, s.plan())

	// A replicaset whose master is expelled or bound for Offline is left
	// out (Picodata: "replicaset master is going offline"). The earlier
	// steps have work to do in such topologies; the step alone:
	top = twoSets()
	top.add("s5", 5, "r3", expd(1), expd(1))
	top.add("s6", 6, "r4", on(1), off(1))
	s = newSim(t, top, 1, withLearners(voters(1, 2, 3), 4))
	require.Nil(t, s.store.ApplyOp(tables.PrepareCreateTableOp(ddlDef("t"), 0)).Err)
	a, ok := newPlanner(s.input()).schemaChange()
	require.True(t, ok)
	require.Equal(t, []string{"s1", "s3"}, a.(ApplySchemaChange).Masters)
}

// Topology work comes first: the DDL step waits for it.
func TestSchemaChangeAfterTopology(t *testing.T) {
	top := twoSets().add("s5", 5, "r3", off(0), on(1))
	s := newSim(t, top, 1, withLearners(voters(1, 2, 3), 4))
	require.Nil(t, s.store.ApplyOp(tables.PrepareCreateTableOp(ddlDef("t"), 0)).Err)
	trace := s.run(30)
	st := steps(trace)
	require.Equal(t, StepSchemaChange, st[len(st)-2])
	require.Contains(t, trace[len(trace)-2], "[s1 s3 s5]")
}

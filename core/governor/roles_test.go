package governor

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/tables"
)

func TestRolesStep(t *testing.T) {
	def := func(name string, deps ...string) tables.Role {
		return tables.Role{Name: name, Version: "1.0.0", Dependencies: deps}
	}
	running := func(inst, role string, inc uint64) tables.RoleState {
		return tables.RoleState{InstanceID: inst, Role: role, State: tables.RoleRunning, Version: "1.0.0", Incarnation: inc}
	}
	build := func(cur tables.Grade, states ...tables.RoleState) Input {
		top := newTopo().tier("t", 1, true).add("a", 1, "r1", cur, on(2))
		top.Roles = []tables.Role{def("metrics"), def("api", "metrics"), def("cron")}
		top.RoleTiers = []tables.RoleTier{{Role: "api", Tier: "t"}, {Role: "cron", Tier: "t"}}
		top.RoleStates = states
		return Input{Self: 1, Topology: top.Topology}
	}
	plan := func(in Input) (Action, bool) { return newPlanner(in).roles() }
	// planStop plans a stop: first the rows marked stopping, then, on
	// the tables with that mark, the stop itself.
	planStop := func(in Input) (Action, bool) {
		a, ok := plan(in)
		mark, marked := a.(MarkRoles)
		if !ok || !marked {
			return a, ok
		}
		require.Equal(t, tables.RoleStopping, mark.State)
		in.Topology.RoleStates = slices.Clone(in.Topology.RoleStates)
		for _, op := range mark.Ops {
			var row []any
			require.NoError(t, msgpack.Unmarshal(op.Tuple, &row))
			st, err := tables.RoleStateFrom(row)
			require.NoError(t, err)
			k := slices.IndexFunc(in.Topology.RoleStates, func(x tables.RoleState) bool { return x.Role == st.Role && x.InstanceID == st.InstanceID })
			in.Topology.RoleStates[k] = st
		}
		return plan(in)
	}

	// Climbing: every role of the tier, dependencies first: recorded as
	// starting, then asked for.
	a, ok := plan(build(shi(2)))
	require.True(t, ok)
	mark := a.(MarkRoles)
	require.Equal(t, "starting metrics, api, cron on a", mark.Detail())
	starting := func(role string) tables.RoleState {
		return tables.RoleState{InstanceID: "a", Role: role, State: tables.RoleStarting, Version: "1.0.0", Incarnation: 2}
	}
	require.Equal(t, []tables.Dml{
		tables.Replace(tables.TablePicoRoleState, starting("metrics").Tuple()...),
		tables.Replace(tables.TablePicoRoleState, starting("api").Tuple()...),
		tables.Replace(tables.TablePicoRoleState, starting("cron").Tuple()...)}, mark.Ops)
	marked := build(shi(2), starting("metrics"), starting("api"), starting("cron"))
	require.False(t, newPlanner(marked).rolesSettled(marked.Topology.Instances[0]), "starting is not settled")
	a, ok = plan(marked)
	require.True(t, ok)
	start := a.(StartRoles)
	require.Equal(t, "start metrics, api, cron on a", start.Detail())
	require.Equal(t, api.RoleStart{Roles: []string{"metrics", "api", "cron"}}, start.RPC.Call)
	require.False(t, newPlanner(build(shi(2))).rolesSettled(start.instanceRow(t, build(shi(2)))), "online waits")

	// Its answer recorded: cron failed; the instance may go Online.
	cas, results, err := start.Record([]any{api.RoleReport{
		Results: []api.RoleResult{{Role: "metrics", Version: "1.0.0"}, {Role: "api", Version: "1.1.0"}, {Role: "cron", Error: "boom"}},
		Running: []api.RoleResult{{Role: "api", Version: "1.1.0"}, {Role: "metrics", Version: "1.0.0"}}}})
	require.NoError(t, err)
	require.Len(t, results, 3)
	require.Len(t, cas.Ops, 3)
	failed := tables.RoleState{InstanceID: "a", Role: "cron", State: tables.RoleFailed, Error: "boom", Version: "1.0.0", Incarnation: 2}
	in := build(shi(2), running("a", "metrics", 2), running("a", "api", 2), failed)
	in.RoleBackoff = map[string]bool{RoleBackoffKey("a", "cron"): true}
	_, ok = plan(in)
	require.False(t, ok, "a failed role backing off is not retried")
	require.True(t, newPlanner(in).rolesSettled(in.Topology.Instances[0]), "a failure does not hold Online back")
	in.RoleBackoff = nil
	a, ok = plan(in)
	require.True(t, ok)
	require.Equal(t, []string{"cron"}, a.(MarkRoles).Roles, "retried once its backoff is over")
	in.Topology.RoleStates[2] = starting("cron")
	a, ok = plan(in)
	require.True(t, ok)
	require.Equal(t, []string{"cron"}, a.(StartRoles).RPC.Call.(api.RoleStart).Roles, "then asked for")

	// A state of an older incarnation is not this one's: started again.
	a, ok = plan(build(on(2), running("a", "metrics", 1), running("a", "api", 2), running("a", "cron", 2)))
	require.True(t, ok)
	require.Equal(t, []string{"metrics"}, a.(MarkRoles).Roles)

	// A start whose answer was lost leaves its row starting: for a role
	// no longer wanted, the governor stops it (it may run).
	in = build(on(2), running("a", "metrics", 2), running("a", "api", 2), starting("cron"))
	in.Topology.RoleTiers = []tables.RoleTier{{Role: "api", Tier: "t"}}
	a, ok = planStop(in)
	require.True(t, ok)
	require.Equal(t, api.RoleStop{Roles: []string{"cron"}}, a.(StopRoles).RPC.Call)

	// A failed start of a role no longer wanted is stopped too: a copy of
	// its call delivered again may have started it after the answer.
	in = build(on(2), running("a", "metrics", 2), running("a", "api", 2), failed)
	in.Topology.RoleTiers = []tables.RoleTier{{Role: "api", Tier: "t"}}
	a, ok = planStop(in)
	require.True(t, ok)
	require.Equal(t, api.RoleStop{Roles: []string{"cron"}}, a.(StopRoles).RPC.Call)

	// Online with everything running: nothing to do. api disabled: it
	// stops, then metrics, which nothing needs any more.
	all := []tables.RoleState{running("a", "metrics", 2), running("a", "api", 2), running("a", "cron", 2)}
	_, ok = plan(build(on(2), all...))
	require.False(t, ok)
	in = build(on(2), all...)
	in.Topology.RoleTiers = []tables.RoleTier{{Role: "cron", Tier: "t"}}
	a, ok = planStop(in)
	require.True(t, ok)
	stop := a.(StopRoles)
	require.Equal(t, api.RoleStop{Roles: []string{"api", "metrics"}}, stop.RPC.Call)
	cas, _, err = stop.Record([]any{api.RoleReport{Results: []api.RoleResult{{Role: "api"}, {Role: "metrics"}},
		Running: []api.RoleResult{{Role: "cron", Version: "1.0.0"}}}})
	require.NoError(t, err)
	require.Equal(t, tables.Replace(tables.TablePicoRoleState, tables.RoleState{InstanceID: "a", Role: "api", State: tables.RoleStopped,
		Version: "1.0.0", Incarnation: 2}.Tuple()...), cas.Ops[0])

	// An unreachable instance is skipped; an answer that does not match
	// the call is refused.
	in = build(shi(2))
	in.Unreachable = map[string]bool{"a": true}
	_, ok = plan(in)
	require.False(t, ok)
	_, _, err = start.Record([]any{api.RoleReport{Results: []api.RoleResult{{Role: "api"}}}})
	require.Error(t, err)
	_, _, err = start.Record([]any{api.RoleReport{Results: []api.RoleResult{{Role: "cron"}, {Role: "api"}, {Role: "metrics"}}}})
	require.Error(t, err)

	// A role that runs on a process of an earlier incarnation (cut off,
	// set Offline, back) and that the tier no longer wants is stopped.
	in = build(on(2), running("a", "metrics", 2), running("a", "api", 1), running("a", "cron", 2))
	in.Topology.RoleTiers = []tables.RoleTier{{Role: "cron", Tier: "t"}}
	a, ok = planStop(in)
	require.True(t, ok)
	require.Equal(t, api.RoleStop{Roles: []string{"api", "metrics"}}, a.(StopRoles).RPC.Call, "api first: it needs metrics")

	// A stop whose answer was lost leaves its rows stopping: for a role
	// wanted again, the governor starts it (it may not run).
	stopping := func(role string) tables.RoleState {
		return tables.RoleState{InstanceID: "a", Role: role, State: tables.RoleStopping, Version: "1.0.0", Incarnation: 2}
	}
	a, ok = plan(build(on(2), stopping("metrics"), stopping("api"), running("a", "cron", 2)))
	require.True(t, ok)
	require.Equal(t, MarkRoles{Instance: "a", State: tables.RoleStarting, Roles: []string{"metrics", "api"}, CaS: a.(MarkRoles).CaS}, a)
}

// The instance's report of what runs there corrects the rows of the roles
// it was not asked about: an earlier call that ran late (its answer lost)
// left them saying what is no longer so.
func TestRolesRecordWhatRuns(t *testing.T) {
	known := []tables.RoleState{
		{InstanceID: "a", Role: "api", State: tables.RoleRunning, Version: "1.0.0", Incarnation: 2},
		{InstanceID: "a", Role: "cron", State: tables.RoleRunning, Version: "1.0.0", Incarnation: 2},
		{InstanceID: "a", Role: "metrics", State: tables.RoleRunning, Version: "1.0.0", Incarnation: 2},
		{InstanceID: "a", Role: "old", State: tables.RoleStopped, Version: "1.0.0", Incarnation: 1},
	}
	start := StartRoles{Instance: "a", Incarnation: 2, Roles: []tables.Role{{Name: "api", Version: "1.0.0"}}, Known: known}
	cas, _, err := start.Record([]any{api.RoleReport{
		// api refused: a late stop of metrics ran before this start.
		Results: []api.RoleResult{{Role: "api", Version: "1.0.0", Error: "not started: metrics, which it needs, does not run here"}},
		// and a late start of old (disabled since) ran too.
		Running: []api.RoleResult{{Role: "cron", Version: "1.0.0"}, {Role: "old", Version: "1.0.0"}}}})
	require.NoError(t, err)
	require.Equal(t, []tables.Dml{
		tables.Replace(tables.TablePicoRoleState, tables.RoleState{InstanceID: "a", Role: "api", State: tables.RoleFailed,
			Error: "not started: metrics, which it needs, does not run here", Version: "1.0.0", Incarnation: 2}.Tuple()...),
		tables.Replace(tables.TablePicoRoleState, tables.RoleState{InstanceID: "a", Role: "old", State: tables.RoleRunning,
			Version: "1.0.0", Incarnation: 2}.Tuple()...),
		tables.Replace(tables.TablePicoRoleState, tables.RoleState{InstanceID: "a", Role: "metrics", State: tables.RoleStopped,
			Version: "1.0.0", Incarnation: 2}.Tuple()...),
	}, cas.Ops, "cron's row is right; old's and metrics' are corrected")
}

// instanceRow is the instance a StartRoles is for, in in.
func (a StartRoles) instanceRow(t *testing.T, in Input) tables.Instance {
	i, ok := in.Topology.Instance(a.Instance)
	require.True(t, ok)
	return i
}

func TestRoleDDLStep(t *testing.T) {
	top := newTopo().tier("t", 1, true).add("a", 1, "r1", on(1), on(1))
	top.Roles = []tables.Role{
		{Name: "metrics", Version: "1.0.0", OnceDDL: []string{"CREATE TABLE m (a INT PRIMARY KEY)", "CREATE INDEX mi ON m (a)"}, DDLApplied: 1},
		{Name: "api", Version: "1.0.0", Dependencies: []string{"metrics"}},
		{Name: "idle", Version: "1.0.0", OnceDDL: []string{"CREATE TABLE i (a INT PRIMARY KEY)"}},
	}
	top.RoleTiers = []tables.RoleTier{{Role: "api", Tier: "t"}}
	in := Input{Self: 1, Topology: top.Topology}
	a, ok := newPlanner(in).roleDDL()
	require.True(t, ok)
	ddl := a.(RoleDDL)
	require.Equal(t, "metrics", ddl.Role, "a role that runs nowhere (idle) gets no DDL")
	require.Equal(t, uint64(1), ddl.Index, "only what is not applied yet")
	require.Equal(t, "CREATE INDEX mi ON m (a)", ddl.Statement)
	require.Equal(t, []tables.Dml{tables.Update(tables.TablePicoRole, []any{"metrics"}, []any{"=", "ddl_applied", uint64(2)})}, ddl.CaS.Ops)

	// Neither metrics nor api, which needs it, starts before its DDL.
	_, ok = newPlanner(in).roles()
	require.False(t, ok)
	require.True(t, newPlanner(in).rolesSettled(in.Topology.Instances[0]), "nor does the instance wait for them")

	busy := in
	busy.Topology.PendingSchemaVersion = 7
	_, ok = newPlanner(busy).roleDDL()
	require.False(t, ok, "one schema change at a time")
	busy = in
	busy.RoleBackoff = map[string]bool{RoleDDLBackoffKey("metrics"): true}
	_, ok = newPlanner(busy).roleDDL()
	require.False(t, ok, "backing off (or in flight)")
}

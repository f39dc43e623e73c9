package node

import (
	"errors"
	"testing"

	"github.com/picogo/picogo/core/tables"
	"github.com/stretchr/testify/require"
)

// TestRolesLifecycle: roles enabled on the instance's tier start there in
// dependency order and are recorded running; a role whose Init fails is
// recorded failed with its error, does not keep the instance from Online,
// and is retried later until it starts; a role disabled stops, a dependent
// before what it needs.
func TestRolesLifecycle(t *testing.T) {
	s := newSolo(t)
	var calls []string
	failCron := 2 // cron's Init fails this many times, then starts
	s.role = func(name string, start bool) (string, error) {
		if !start {
			calls = append(calls, "stop "+name)
			return "1.0.0", nil
		}
		calls = append(calls, "start "+name)
		if name == "cron" && failCron > 0 {
			failCron--
			return "1.0.0", errors.New("cron: no schedule")
		}
		return "1.0.0", nil
	}
	tick := func(n int) {
		for range n {
			s.n.Tick()
			s.settle()
		}
	}
	def := func(name string, deps ...string) tables.Role {
		return tables.Role{Name: name, Version: "1.0.0", Dependencies: deps, OnceDDL: []string{}}
	}
	tier := "storage"
	r := s.cas(s.pred(), tables.BatchOp(
		tables.Insert(tables.TablePicoRole, def("metrics").Tuple()...),
		tables.Insert(tables.TablePicoRole, def("api", "metrics").Tuple()...),
		tables.Insert(tables.TablePicoRole, def("cron").Tuple()...),
		tables.Insert(tables.TablePicoRoleTier, tables.RoleTier{Role: "api", Tier: tier}.Tuple()...),
		tables.Insert(tables.TablePicoRoleTier, tables.RoleTier{Role: "cron", Tier: tier}.Tuple()...)))
	require.Nil(t, r.Err)
	state := func(role string) tables.RoleState {
		top, err := s.n.Tables().ReadTopology()
		require.NoError(t, err)
		st, _ := top.RoleStateOf("storage_1_1", role)
		return st
	}
	online := func() bool {
		top, err := s.n.Tables().ReadTopology()
		require.NoError(t, err)
		i, _ := top.Instance("storage_1_1")
		return i.Current.Variant == tables.GradeOnline
	}
	tick(100)
	require.True(t, online(), "a failing role does not keep the instance from Online")
	require.Equal(t, []string{"start metrics", "start api", "start cron"}, calls[:3], "dependencies first")
	require.Equal(t, tables.RoleRunning, state("metrics").State)
	require.Equal(t, tables.RoleRunning, state("api").State)
	require.Equal(t, "1.0.0", state("api").Version)

	tick(2000) // the backoff doubles: 20, then 40 ticks
	require.Equal(t, tables.RoleRunning, state("cron").State, "retried until it started")
	require.Equal(t, 3, countOf(calls, "start cron"))
	require.Equal(t, 1, countOf(calls, "start api"), "what runs is not started again")
	require.Equal(t, map[string]string{"metrics": "1.0.0", "api": "1.0.0", "cron": "1.0.0"}, s.n.RunningRoles())

	calls = nil
	r = s.cas(s.pred(), tables.BatchOp(tables.Delete(tables.TablePicoRoleTier, "api", tier)))
	require.Nil(t, r.Err)
	tick(50)
	require.Equal(t, []string{"stop api", "stop metrics"}, calls, "a dependent before what it needs")
	require.Equal(t, tables.RoleStopped, state("api").State)
	require.Equal(t, tables.RoleStopped, state("metrics").State)
	require.Equal(t, tables.RoleRunning, state("cron").State)
	require.Equal(t, map[string]string{"cron": "1.0.0"}, s.n.RunningRoles())
}

func countOf(ss []string, s string) int {
	n := 0
	for _, x := range ss {
		if x == s {
			n++
		}
	}
	return n
}

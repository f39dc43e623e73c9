package node

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/raft"
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
	require.Equal(t, map[string]string{"metrics": "1.0.0", "api": "1.0.0", "cron": "1.0.0"}, s.n.roles.running)

	calls = nil
	r = s.cas(s.pred(), tables.BatchOp(tables.Delete(tables.TablePicoRoleTier, "api", tier)))
	require.Nil(t, r.Err)
	tick(50)
	require.Equal(t, []string{"stop api", "stop metrics"}, calls, "a dependent before what it needs")
	require.Equal(t, tables.RoleStopped, state("api").State)
	require.Equal(t, tables.RoleStopped, state("metrics").State)
	require.Equal(t, tables.RoleRunning, state("cron").State)
	require.Equal(t, map[string]string{"cron": "1.0.0"}, s.n.roles.running)

	// A graceful shutdown stops what runs before the instance stops.
	calls = nil
	s.n.Shutdown()
	tick(100)
	require.Equal(t, []string{"stop cron"}, calls)
	require.Empty(t, s.n.roles.running)
	require.Equal(t, PhaseStopped, s.n.Phase())
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

// TestRoleEnableDisable: `--init-cfg`'s roles are enabled at boot with
// their definitions (dependencies included); `.proc_role_enable` records
// a definition from this binary and enables it, refusing a role the binary
// lacks or a tier the cluster lacks; `.proc_role_disable` disables.
func TestRoleEnableDisable(t *testing.T) {
	defs := []tables.Role{
		{Name: "metrics", Version: "1.0.0", Dependencies: []string{}, OnceDDL: []string{}},
		{Name: "api", Version: "2.0.0", Dependencies: []string{"metrics"}, OnceDDL: []string{"CREATE TABLE t (a INT PRIMARY KEY)"}},
		{Name: "cron", Version: "0.1.0", Dependencies: []string{}, OnceDDL: []string{}},
	}
	s := newSoloWith(t, Config{Roles: defs, InitRoles: []tables.RoleTier{{Role: "api", Tier: "storage"}}})
	s.role = func(string, bool) (string, error) { return "v", nil }
	top := func() tables.Topology {
		top, err := s.n.Tables().ReadTopology()
		require.NoError(t, err)
		return top
	}
	require.Equal(t, []tables.Role{defs[1], defs[0]}, top().Roles, "the enabled role and what it needs")
	require.Equal(t, []tables.RoleTier{{Role: "api", Tier: "storage"}}, top().RoleTiers)

	require.Nil(t, s.do(api.RoleEnable{Role: "cron", Tier: "storage"}).Err)
	require.Contains(t, top().RoleTiers, tables.RoleTier{Role: "cron", Tier: "storage"})
	require.Len(t, top().Roles, 3)
	r := s.do(api.RoleEnable{Role: "ghost", Tier: "storage"})
	require.NotNil(t, r.Err)
	require.Contains(t, r.Err.Message, "this binary has no such role")
	r = s.do(api.RoleEnable{Role: "cron", Tier: "nowhere"})
	require.NotNil(t, r.Err)
	require.Contains(t, r.Err.Message, "no tier nowhere")
	require.Nil(t, s.do(api.RoleEnable{Role: "cron", Tier: "storage"}).Err, "enabling twice changes nothing")

	for range 100 {
		s.n.Tick()
		s.settle()
	}
	require.Equal(t, map[string]string{"metrics": "v", "api": "v", "cron": "v"}, s.n.roles.running)
	_, created := s.n.Tables().TableByName("t")
	require.True(t, created, "api's DDL ran once, before api started")
	for _, r := range top().Roles {
		require.Equal(t, uint64(len(r.OnceDDL)), r.DDLApplied, r.Name)
	}
	require.Nil(t, s.do(api.RoleDisable{Role: "cron", Tier: "storage"}).Err)
	for range 50 {
		s.n.Tick()
		s.settle()
	}
	require.Equal(t, map[string]string{"metrics": "v", "api": "v"}, s.n.roles.running)
}

// An initial configuration that enables a role the binary lacks stops the
// boot with the reason.
func TestInitRolesUnknown(t *testing.T) {
	n, err := New(Config{ClusterID: "c1", Tick: time.Millisecond, Self: Self{Address: "i1"}, Peers: []string{"i1"},
		Raft:      raft.Config{ElectionTick: 10, HeartbeatTick: 1, Rand: rand.New(rand.NewPCG(1, 1))},
		InitRoles: []tables.RoleTier{{Role: "ghost", Tier: "storage"}}}, ra.DiskState{})
	require.NoError(t, err)
	var fatal error
	for range 20 {
		for _, e := range n.TakeEffects() {
			switch e := e.(type) {
			case FailStop:
				fatal = e.Err
			case OutCall:
				n.Call(1000, "pico_service", e.Request)
				for _, r := range n.TakeEffects() {
					if rep, ok := r.(Reply); ok {
						var v any = rep.Values
						if len(rep.Values) == 1 {
							v = rep.Values[0]
						}
						n.CallDone(e.ID, v, rep.Err)
					}
				}
			case Persist:
				n.PersistDone(e.Stream, e.ID)
			}
		}
		n.Tick()
	}
	require.Error(t, fatal)
	require.Contains(t, fatal.Error(), "enables role ghost on tier storage")
}

// A rolling upgrade's last step: enabling a role again from a binary with
// a later version records it, once every instance running the role runs
// that version; its appended DDL is applied then. A downgrade, or DDL
// that changes what was applied, is refused.
func TestRoleUpgrade(t *testing.T) {
	v1 := []tables.Role{{Name: "api", Version: "1.0.0", Dependencies: []string{}, OnceDDL: []string{"CREATE TABLE t (a INT PRIMARY KEY)"}}}
	s := newSoloWith(t, Config{Roles: v1, InitRoles: []tables.RoleTier{{Role: "api", Tier: "storage"}}})
	running := "1.0.0" // the version this instance's binary runs
	s.role = func(string, bool) (string, error) { return running, nil }
	settle := func() {
		for range 100 {
			s.n.Tick()
			s.settle()
		}
	}
	recorded := func() tables.Role {
		top, err := s.n.Tables().ReadTopology()
		require.NoError(t, err)
		return top.Roles[0]
	}
	settle()
	require.Equal(t, "1.0.0", s.n.roles.running["api"])

	withVersion := func(version string, ddl ...string) {
		s.n.cfg.Roles = []tables.Role{{Name: "api", Version: version, Dependencies: []string{}, OnceDDL: ddl}}
	}
	withVersion("1.1.0", v1[0].OnceDDL[0], "CREATE TABLE u (a INT PRIMARY KEY)")
	r := s.do(api.RoleEnable{Role: "api", Tier: "storage"})
	require.NotNil(t, r.Err)
	require.Contains(t, r.Err.Message, "these run another: storage_1_1 (1.0.0)")
	require.Equal(t, "1.0.0", recorded().Version)

	// The instance restarts its role with the new binary.
	require.Nil(t, s.do(api.RoleDisable{Role: "api", Tier: "storage"}).Err)
	settle()
	running = "1.1.0"
	require.Nil(t, s.do(api.RoleEnable{Role: "api", Tier: "storage"}).Err)
	settle()
	require.Equal(t, "1.1.0", recorded().Version)
	require.Equal(t, uint64(2), recorded().DDLApplied, "the new statement applied")
	_, ok := s.n.Tables().TableByName("u")
	require.True(t, ok)
	require.Equal(t, "1.1.0", s.n.roles.running["api"])

	withVersion("1.0.5", v1[0].OnceDDL[0])
	r = s.do(api.RoleEnable{Role: "api", Tier: "storage"})
	require.NotNil(t, r.Err)
	require.Contains(t, r.Err.Message, "older than the cluster's 1.1.0: a role is not downgraded")
	running = "1.2.0"
	require.Nil(t, s.do(api.RoleDisable{Role: "api", Tier: "storage"}).Err)
	settle()
	withVersion("1.2.0", "CREATE TABLE t (a INT PRIMARY KEY, b INT)", "CREATE TABLE u (a INT PRIMARY KEY)")
	r = s.do(api.RoleEnable{Role: "api", Tier: "storage"})
	require.NotNil(t, r.Err)
	require.Contains(t, r.Err.Message, "applied statements cannot change")
}

// A role starts with its configuration from _pico_role_config; a running
// role is given a new one once, when it changes; roles hear of a new
// leader.
func TestRoleConfigAndLeader(t *testing.T) {
	defs := []tables.Role{{Name: "kv", Version: "1.0.0", Dependencies: []string{}, OnceDDL: []string{}}}
	s := newSoloWith(t, Config{Roles: defs, InitRoles: []tables.RoleTier{{Role: "kv", Tier: "storage"}}})
	s.role = func(string, bool) (string, error) { return "1.0.0", nil }
	settle := func() {
		for range 50 {
			s.n.Tick()
			s.settle()
		}
	}
	require.Nil(t, s.do(api.RoleConfig{Role: "kv", Config: map[string]any{"port": int64(8080)}}).Err)
	settle()
	require.Equal(t, []Effect{RoleStart{ID: 1, Name: "kv", Config: map[string]any{"port": uint16(8080)}}}, s.told, "as the tables decode it")

	s.told = nil
	require.Nil(t, s.do(api.RoleConfig{Role: "kv", Config: map[string]any{"port": int64(9090)}}).Err)
	settle()
	require.Equal(t, []Effect{RoleConfigure{ID: 2, Name: "kv", Config: map[string]any{"port": uint16(9090)}}}, s.told, "once")
	s.told = nil
	require.Nil(t, s.do(api.RoleConfig{Role: "kv", Config: map[string]any{"port": int64(9090)}}).Err)
	settle()
	require.Empty(t, s.told, "the same configuration again changes nothing")
	require.Nil(t, s.do(api.RoleConfig{Role: "kv"}).Err)
	settle()
	require.Equal(t, []Effect{RoleConfigure{ID: 3, Name: "kv"}}, s.told, "none")

	r := s.do(api.RoleConfig{Role: "ghost", Config: map[string]any{"a": true}})
	require.NotNil(t, r.Err)
	require.Contains(t, r.Err.Message, "no role ghost in _pico_role")

	s.told = nil
	s.n.roles.leaderChanged(7)
	s.settle()
	s.n.roles.leaderChanged(7)
	s.settle()
	require.Equal(t, []Effect{RoleLeader{ID: 4, Name: "kv", Leader: 7}}, s.told, "once per leader")
}

// The governor does not ask an instance to start or stop roles while an
// entry that writes the instance's role rows is in the log, not yet
// applied (seed 1123): the rows it planned on are about to change, and its
// answer could not be recorded. Here the record of a start's answer
// (flaky failed) waits for a quorum while the rows applied still say
// starting; flaky is disabled meanwhile. Asked again, flaky started, and
// that answer's record conflicted with the first; once applied, the first
// said failed while flaky ran, and nothing stopped it.
func TestRolesNotAskedWhileTheirRowsAreBeingWritten(t *testing.T) {
	s := newSolo(t)
	starts := 0
	s.role = func(name string, start bool) (string, error) {
		if !start {
			return "1.0.0", nil
		}
		if starts++; starts == 1 {
			s.hold = true // this answer's record is not committed for now
			return "1.0.0", errors.New("flaky: boom")
		}
		return "1.0.0", nil
	}
	tick := func(n int) {
		for range n {
			s.n.Tick()
			s.settle()
		}
	}
	r := s.cas(s.pred(), tables.BatchOp(
		tables.Insert(tables.TablePicoRole, tables.Role{Name: "flaky", Version: "1.0.0", Dependencies: []string{}, OnceDDL: []string{}}.Tuple()...),
		tables.Insert(tables.TablePicoRoleTier, tables.RoleTier{Role: "flaky", Tier: "storage"}.Tuple()...)))
	require.Nil(t, r.Err)
	for k := 0; !s.hold; k++ {
		require.Less(t, k, 100, "flaky is never started")
		tick(1)
	}
	s.next++
	s.n.Call(s.next, "admin", api.RoleDisable{Role: "flaky", Tier: "storage"})
	tick(200) // the record's proposal times out; the governor plans again
	s.release()
	tick(200)

	top, err := s.n.Tables().ReadTopology()
	require.NoError(t, err)
	require.Empty(t, top.RoleTiers, "disabled")
	st, _ := top.RoleStateOf("storage_1_1", "flaky")
	require.Empty(t, s.n.roles.running, "flaky's row says %s", st.State)
	require.Equal(t, 1, starts, "not asked again while its first answer's record was in flight")
}

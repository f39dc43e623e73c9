package node

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/semver"
	"github.com/picogo/picogo/core/tables"
)

// rolesModule runs no role code: application code is the driver's, run
// off the node's loop (docs/roles.md). It serves the governor's
// `.proc_role_start` and `.proc_role_stop` by asking the driver, one role
// at a time in the order given, to start or stop it (RoleStart, RoleStop
// effects), and answers once the driver has reported each (RoleDone). It
// keeps what runs here, as the driver reported it, and tells the roles
// that run of a new configuration in _pico_role_config (RoleConfigure)
// and of a new Raft leader (RoleLeader), through the same queue: the
// driver runs one lifecycle callback of a role at a time.
type rolesModule struct {
	*Node
	// running are the roles started here, by name: their versions;
	// started the same in the order they started (a stop of them all
	// goes the other way: dependents first).
	running map[string]string
	started []string
	// configs are the configurations the running roles were given (at
	// start or by RoleConfigure); configAt the stamp of _pico_role_config
	// they were last compared with.
	configs  map[string]map[string]any
	configAt tables.Stamp
	// leader is the Raft leader the roles were last told of.
	leader uint64
	// stopping: a graceful shutdown is stopping every role (stopAll).
	stopping bool
	// op is the role being started or stopped, if any; queue the calls
	// waiting behind it (one role at a time: a role starts after its
	// dependencies, which an earlier call may be starting).
	op    *roleOp
	queue []*roleOp
	next  RoleOpID
}

// RoleOpID identifies a RoleStart, RoleStop, RoleConfigure or RoleLeader
// the driver reports on.
type RoleOpID uint64

// RoleStart asks the driver to start role Name (its Init) with
// configuration Config (nil: none); it reports with RoleDone(ID, ...).
type RoleStart struct {
	ID     RoleOpID
	Name   string
	Config map[string]any
}

// RoleStop asks the driver to stop role Name (its Stop); it reports with
// RoleDone(ID, ...). The role counts as stopped whatever Stop returns.
type RoleStop struct {
	ID   RoleOpID
	Name string
}

// RoleConfigure gives running role Name its new configuration Config
// (its OnConfigChange, if it has one); the driver reports with
// RoleDone(ID, ...). On an error the role keeps its old configuration;
// it is not asked again until the configuration changes again.
type RoleConfigure struct {
	ID     RoleOpID
	Name   string
	Config map[string]any
}

// RoleLeader tells running role Name that the Raft leader is now raft id
// Leader (its OnLeaderChange, if it has one); the driver reports with
// RoleDone(ID, ...).
type RoleLeader struct {
	ID     RoleOpID
	Name   string
	Leader uint64
}

func (RoleStart) isEffect()     {}
func (RoleStop) isEffect()      {}
func (RoleConfigure) isEffect() {}
func (RoleLeader) isEffect()    {}

type roleOpKind uint8

const (
	opStart roleOpKind = iota
	opStop
	opConfigure
	opLeader
)

// roleOp is one call's work: roles to start, stop, configure or tell of
// the leader, in order, and the results so far.
type roleOp struct {
	kind roleOpKind
	// all: roles are every role running when the op begins, the last
	// started first (a graceful shutdown's stop).
	all     bool
	roles   []string
	leader  uint64 // opLeader
	results []api.RoleResult
	respond responder
	id      RoleOpID       // of the role the driver is on
	config  map[string]any // what it was given (opStart, opConfigure)
}

func newRoles(n *Node) *rolesModule {
	return &rolesModule{Node: n, running: map[string]string{}, configs: map[string]map[string]any{}}
}

func (m *rolesModule) register(r *registry) {
	serve(r, running, func(_ string, req api.RoleStart, respond responder) {
		m.atGovernorIndex(req.Proc(), req.Term, req.Index, req.Timeout, respond, func(respond responder) {
			m.enqueue(&roleOp{kind: opStart, roles: req.Roles, respond: respond})
		})
	})
	serve(r, running, m.enable)
	serve(r, running, m.disable)
	serve(r, running, m.configure)
	serve(r, running, func(_ string, req api.RoleStop, respond responder) {
		m.atGovernorIndex(req.Proc(), req.Term, req.Index, req.Timeout, respond, func(respond responder) {
			m.enqueue(&roleOp{kind: opStop, roles: req.Roles, respond: respond})
		})
	})
	r.tick(tickRoles, running, m.configChanged)
}

func (m *rolesModule) enqueue(op *roleOp) {
	m.queue = append(m.queue, op)
	if m.op == nil {
		m.advance()
	}
}

// configChanged tells the running roles whose configuration
// _pico_role_config changed (every tick; a stamp makes it cheap).
func (m *rolesModule) configChanged() {
	st := m.tables.Stamp(tables.TablePicoRoleConfig)
	if st == m.configAt || m.stopping {
		return
	}
	m.configAt = st
	if len(m.started) > 0 {
		m.enqueue(&roleOp{kind: opConfigure, roles: slices.Clone(m.started), respond: m.noted("configuring roles")})
	}
}

// leaderChanged tells the running roles of the new Raft leader.
func (m *rolesModule) leaderChanged(leader uint64) {
	if leader == raft.None || leader == m.leader {
		return
	}
	m.leader = leader
	if len(m.started) > 0 && !m.stopping {
		m.enqueue(&roleOp{kind: opLeader, roles: slices.Clone(m.started), leader: leader, respond: m.noted("telling roles of the leader")})
	}
}

// noted answers a call the node made itself: a role that failed is noted.
func (m *rolesModule) noted(what string) responder {
	return func(values []any, _ *api.Error) {
		report, _ := values[0].(api.RoleReport)
		for _, r := range report.Results {
			if r.Error != "" {
				m.emit(Note{Event: "roles", Detail: fmt.Sprintf("%s: %s: %s", what, r.Role, r.Error)})
			}
		}
	}
}

// configOf is role's configuration as applied here.
func (m *rolesModule) configOf(role string) map[string]any {
	return m.placement.topology().ConfigOf(role)
}

// advance works on the current call's next role, or the next call:
// roles already as asked (running for a start, not running for a stop,
// configured as _pico_role_config says) are answered at once.
func (m *rolesModule) advance() {
	for {
		if m.op == nil {
			if len(m.queue) == 0 {
				return
			}
			m.op, m.queue = m.queue[0], m.queue[1:]
			if m.op.all {
				m.op.roles = slices.Clone(m.started)
				slices.Reverse(m.op.roles)
			}
		}
		op := m.op
		if len(op.results) == len(op.roles) {
			m.op = nil
			op.respond([]any{api.RoleReport{Results: op.results, Running: m.runningReport()}}, nil)
			continue
		}
		name := op.roles[len(op.results)]
		version, runs := m.running[name]
		// ask is the driver's effect for this role; nil: answered now,
		// with res.
		var ask func(id RoleOpID) Effect
		res := api.RoleResult{Role: name, Version: version}
		switch op.kind {
		case opStart:
			switch {
			case runs:
			case m.stopping:
				res = api.RoleResult{Role: name, Error: "not started: the instance is shutting down"}
			case m.dependencyFailed(op):
				res = api.RoleResult{Role: name, Error: "not started: a role before it in the call failed"}
			default:
				if missing := m.missingDependency(name); missing != "" {
					res = api.RoleResult{Role: name, Error: fmt.Sprintf("not started: %s, which it needs, does not run here", missing)}
					break
				}
				op.config = m.configOf(name)
				ask = func(id RoleOpID) Effect { return RoleStart{ID: id, Name: name, Config: op.config} }
			}
		case opStop:
			if runs {
				ask = func(id RoleOpID) Effect { return RoleStop{ID: id, Name: name} }
			}
		case opConfigure:
			if op.config = m.configOf(name); runs && !reflect.DeepEqual(op.config, m.configs[name]) {
				ask = func(id RoleOpID) Effect { return RoleConfigure{ID: id, Name: name, Config: op.config} }
			}
		case opLeader:
			if runs {
				ask = func(id RoleOpID) Effect { return RoleLeader{ID: id, Name: name, Leader: op.leader} }
			}
		}
		if ask == nil {
			op.results = append(op.results, res)
			continue
		}
		m.next++
		op.id = m.next
		m.emit(ask(op.id))
		return
	}
}

// missingDependency is a role that role depends on (as _pico_role
// defines it) and that does not run here, "" if none: a role starts only
// after what it needs, whatever the call that asks for it assumed.
func (m *rolesModule) missingDependency(role string) string {
	top := m.placement.topology()
	i := slices.IndexFunc(top.Roles, func(r tables.Role) bool { return r.Name == role })
	if i < 0 {
		return ""
	}
	for _, d := range top.Roles[i].Dependencies {
		if _, ok := m.running[d]; !ok {
			return d
		}
	}
	return ""
}

// runningReport is what runs here, by name, for RoleReport.Running.
func (m *rolesModule) runningReport() []api.RoleResult {
	out := make([]api.RoleResult, 0, len(m.running))
	for _, name := range slices.Sorted(maps.Keys(m.running)) {
		out = append(out, api.RoleResult{Role: name, Version: m.running[name]})
	}
	return out
}

// dependencyFailed: a start call lists a role after what it needs, so a
// failure before it in the call may be one of its dependencies; the
// governor retries them together.
func (m *rolesModule) dependencyFailed(op *roleOp) bool {
	return slices.ContainsFunc(op.results, func(r api.RoleResult) bool { return r.Error != "" })
}

// RoleDone is the driver's report on RoleStart, RoleStop, RoleConfigure
// or RoleLeader id: the role's version, and the error of its callback
// (nil: it succeeded). A report on anything else (the node restarted its
// work since) is ignored.
func (n *Node) RoleDone(id RoleOpID, version string, err error) {
	m := n.roles
	op := m.op
	if op == nil || op.id != id {
		return
	}
	name := op.roles[len(op.results)]
	res := api.RoleResult{Role: name, Version: version}
	if err != nil {
		res.Error = err.Error()
	}
	switch {
	case op.kind == opStart && err == nil:
		m.running[name] = version
		m.started = append(m.started, name)
		m.configs[name] = op.config
	case op.kind == opStop:
		delete(m.running, name)
		delete(m.configs, name)
		m.started = slices.DeleteFunc(m.started, func(s string) bool { return s == name })
	case op.kind == opConfigure:
		// Failed or not, not asked again for this configuration.
		m.configs[name] = op.config
	}
	op.results = append(op.results, res)
	m.advance()
	n.collect()
}

// stopAll stops every role that runs here, the last started first, then
// calls done: a graceful shutdown, before the instance stops. The roles
// are those running once the calls queued before it are done (a start
// under way may add one); from now on no role starts. Called again
// meanwhile, it does nothing (done runs once).
func (m *rolesModule) stopAll(done func()) {
	if m.stopping {
		return
	}
	m.stopping = true
	m.enqueue(&roleOp{kind: opStop, all: true, respond: func([]any, *api.Error) { done() }})
}

// definitions are the _pico_role rows role needs: its own and its
// dependencies', transitively, as this binary has them (tables.StartOrder;
// ddl_applied kept from the rows the cluster has).
func (n *Node) definitions(role string, have func(string) (tables.Role, bool)) ([]tables.Role, *api.Error) {
	if !slices.ContainsFunc(n.cfg.Roles, func(r tables.Role) bool { return r.Name == role }) {
		return nil, api.Errorf(api.CodeIllegalParams, "role %s: this binary has no such role (it has %s)", role, roleList(n.cfg.Roles))
	}
	defs, err := tables.StartOrder(n.cfg.Roles, []string{role}, "this binary")
	if err != nil {
		return nil, api.Errorf(api.CodeIllegalParams, "%v", err)
	}
	for i, d := range defs {
		if old, ok := have(d.Name); ok {
			defs[i].DDLApplied = old.DDLApplied
		}
	}
	return defs, nil
}

func roleList(rs []tables.Role) string {
	if len(rs) == 0 {
		return "none"
	}
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.Name
	}
	return fmt.Sprint(names)
}

// leaderOnly answers NotALeader (naming the leader) unless this instance
// leads: the roles' tables change through CaS on the leader.
func (m *rolesModule) leaderOnly(proc string) *api.Error {
	st := m.ra.BasicStatus()
	if st.State == raft.StateLeader {
		return nil
	}
	if st.Lead == raft.None {
		return api.Errorf(api.CodeLeaderUnknown, "%s: the leader is unknown", proc)
	}
	return m.notALeader(proc, st.Lead)
}

// leaderTopology is the tables as this leader applied them, for a
// procedure served only on the leader (leaderOnly).
func (m *rolesModule) leaderTopology(proc string) (tables.Topology, *api.Error) {
	if e := m.leaderOnly(proc); e != nil {
		return tables.Topology{}, e
	}
	top, err := m.tables.ReadTopology()
	if err != nil {
		return top, api.Errorf(api.CodeProcLua, "%s: %v", proc, err)
	}
	return top, nil
}

// enable serves `.proc_role_enable`.
func (m *rolesModule) enable(_ string, req api.RoleEnable, respond responder) {
	top, e := m.leaderTopology(req.Proc())
	if e != nil {
		respond(nil, e)
		return
	}
	if _, ok := top.Tier(req.Tier); !ok {
		respond(nil, api.Errorf(api.CodeIllegalParams, "%s: no tier %s", req.Proc(), req.Tier))
		return
	}
	have := func(name string) (tables.Role, bool) {
		i := slices.IndexFunc(top.Roles, func(r tables.Role) bool { return r.Name == name })
		if i < 0 {
			return tables.Role{}, false
		}
		return top.Roles[i], true
	}
	defs, e := m.definitions(req.Role, have)
	if e != nil {
		respond(nil, e)
		return
	}
	for _, d := range defs {
		if old, ok := have(d.Name); ok {
			if err := checkUpgrade(&top, old, d); err != nil {
				respond(nil, api.Errorf(api.CodeIllegalParams, "%s: %v", req.Proc(), err))
				return
			}
		}
	}
	var ops []tables.Dml
	for _, d := range defs {
		ops = append(ops, tables.Replace(tables.TablePicoRole, d.Tuple()...))
	}
	ops = append(ops, tables.Replace(tables.TablePicoRoleTier, tables.RoleTier{Role: req.Role, Tier: req.Tier}.Tuple()...))
	m.proposeRoles(req.Proc(), ops, respond)
}

// checkUpgrade is nil if next, this binary's definition of a role, may
// replace old, the cluster's: the same version, or a later one that every
// instance running the role runs already (a rolling upgrade is over:
// docs/roles.md) and whose DDL begins with the statements applied.
func checkUpgrade(top *tables.Topology, old, next tables.Role) error {
	if old.Version == next.Version {
		return nil
	}
	ov, err := semver.Parse(old.Version)
	if err != nil {
		return fmt.Errorf("role %s: the cluster's version: %w", old.Name, err)
	}
	nv, err := semver.Parse(next.Version)
	if err != nil {
		return fmt.Errorf("role %s: this binary's version: %w", old.Name, err)
	}
	if nv.Less(ov) {
		return fmt.Errorf("role %s: this binary has version %s, older than the cluster's %s: a role is not downgraded", old.Name, nv, ov)
	}
	var behind []string
	for _, st := range top.RoleStates {
		if st.Role == old.Name && st.State == tables.RoleRunning && st.Version != next.Version {
			behind = append(behind, st.InstanceID+" ("+st.Version+")")
		}
	}
	if len(behind) > 0 {
		slices.Sort(behind)
		return fmt.Errorf("role %s: to record version %s, every instance running it must run it; these run another: %s (restart them with the new binary first)",
			old.Name, nv, strings.Join(behind, ", "))
	}
	if _, err := tables.AppendedDDL(old.OnceDDL[:min(old.DDLApplied, uint64(len(old.OnceDDL)))], next.OnceDDL); err != nil {
		return fmt.Errorf("role %s %s: %w", old.Name, nv, err)
	}
	return nil
}

// configure serves `.proc_role_config`.
func (m *rolesModule) configure(_ string, req api.RoleConfig, respond responder) {
	top, e := m.leaderTopology(req.Proc())
	if e != nil {
		respond(nil, e)
		return
	}
	if !slices.ContainsFunc(top.Roles, func(r tables.Role) bool { return r.Name == req.Role }) {
		respond(nil, api.Errorf(api.CodeIllegalParams, "%s: no role %s in %s: enable it first", req.Proc(), req.Role, tables.TablePicoRoleName))
		return
	}
	op := tables.Delete(tables.TablePicoRoleConfig, req.Role)
	if len(req.Config) > 0 {
		op = tables.Replace(tables.TablePicoRoleConfig, tables.RoleConfig{Role: req.Role, Config: req.Config}.Tuple()...)
	}
	m.proposeRoles(req.Proc(), []tables.Dml{op}, respond)
}

// disable serves `.proc_role_disable`.
func (m *rolesModule) disable(_ string, req api.RoleDisable, respond responder) {
	if e := m.leaderOnly(req.Proc()); e != nil {
		respond(nil, e)
		return
	}
	m.proposeRoles(req.Proc(), []tables.Dml{tables.Delete(tables.TablePicoRoleTier, req.Role, req.Tier)}, respond)
}

// proposeRoles proposes ops as of what this leader has applied, and
// answers true once they are committed and applied here (an op the
// tables refuse answers its error).
func (m *rolesModule) proposeRoles(proc string, ops []tables.Dml, respond responder) {
	op := tables.BatchOp(ops...)
	m.cas.proposeOp(op, nil, m.ra.BasicStatus().Applied, proc, respond, func(ra.Reply) ([]any, *api.Error) { return []any{true}, nil })
}

// initRoles are the boot entries of the roles --init-cfg enables: their
// definitions and the enablements.
func (n *Node) initRoles() ([]tables.Dml, error) {
	var ops []tables.Dml
	defined := map[string]bool{}
	for _, rt := range n.cfg.InitRoles {
		defs, e := n.definitions(rt.Role, func(string) (tables.Role, bool) { return tables.Role{}, false })
		if e != nil {
			return nil, fmt.Errorf("the initial configuration enables role %s on tier %s: %s", rt.Role, rt.Tier, e.Message)
		}
		for _, d := range defs {
			if !defined[d.Name] {
				defined[d.Name] = true
				ops = append(ops, tables.Insert(tables.TablePicoRole, d.Tuple()...))
			}
		}
		ops = append(ops, tables.Insert(tables.TablePicoRoleTier, rt.Tuple()...))
	}
	return ops, nil
}

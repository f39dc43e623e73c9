package node

import (
	"fmt"
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
// keeps what runs here, as the driver reported it.
type rolesModule struct {
	*Node
	// running are the roles started here, by name: their versions;
	// started the same in the order they started (a stop of them all
	// goes the other way: dependents first).
	running map[string]string
	started []string
	// stopping: a graceful shutdown is stopping every role (stopAll).
	stopping bool
	// op is the role being started or stopped, if any; queue the calls
	// waiting behind it (one role at a time: a role starts after its
	// dependencies, which an earlier call may be starting).
	op    *roleOp
	queue []*roleOp
	next  RoleOpID
}

// RoleOpID identifies a RoleStart or RoleStop the driver reports on.
type RoleOpID uint64

// RoleStart asks the driver to start role Name (its Init); it reports
// with RoleDone(ID, ...).
type RoleStart struct {
	ID   RoleOpID
	Name string
}

// RoleStop asks the driver to stop role Name (its Stop); it reports with
// RoleDone(ID, ...). The role counts as stopped whatever Stop returns.
type RoleStop struct {
	ID   RoleOpID
	Name string
}

func (RoleStart) isEffect() {}
func (RoleStop) isEffect()  {}

// roleOp is one call's work: roles to start or stop, in order, and the
// results so far.
type roleOp struct {
	start   bool
	roles   []string
	results []api.RoleResult
	respond responder
	id      RoleOpID // of the role the driver is on
}

func newRoles(n *Node) *rolesModule { return &rolesModule{Node: n, running: map[string]string{}} }

func (m *rolesModule) register(r *registry) {
	serve(r, running, func(_ string, req api.RoleStart, respond responder) {
		m.atGovernorIndex(req.Proc(), req.Term, req.Index, req.Timeout, respond, func(respond responder) {
			m.enqueue(&roleOp{start: true, roles: req.Roles, respond: respond})
		})
	})
	serve(r, running, m.enable)
	serve(r, running, m.disable)
	serve(r, running, func(_ string, req api.RoleStop, respond responder) {
		m.atGovernorIndex(req.Proc(), req.Term, req.Index, req.Timeout, respond, func(respond responder) {
			m.enqueue(&roleOp{roles: req.Roles, respond: respond})
		})
	})
}

func (m *rolesModule) enqueue(op *roleOp) {
	m.queue = append(m.queue, op)
	if m.op == nil {
		m.advance()
	}
}

// advance works on the current call's next role, or the next call:
// roles already as asked (running for a start, not running for a stop)
// are answered at once.
func (m *rolesModule) advance() {
	for {
		if m.op == nil {
			if len(m.queue) == 0 {
				return
			}
			m.op, m.queue = m.queue[0], m.queue[1:]
		}
		op := m.op
		if len(op.results) == len(op.roles) {
			m.op = nil
			op.respond([]any{op.results}, nil)
			continue
		}
		name := op.roles[len(op.results)]
		version, runs := m.running[name]
		switch {
		case op.start && runs, !op.start && !runs:
			op.results = append(op.results, api.RoleResult{Role: name, Version: version})
			continue
		case op.start && m.dependencyFailed(op):
			op.results = append(op.results, api.RoleResult{Role: name, Error: "not started: a role before it in the call failed"})
			continue
		}
		m.next++
		op.id = m.next
		if op.start {
			m.emit(RoleStart{ID: op.id, Name: name})
		} else {
			m.emit(RoleStop{ID: op.id, Name: name})
		}
		return
	}
}

// dependencyFailed: a start call lists a role after what it needs, so a
// failure before it in the call may be one of its dependencies; the
// governor retries them together.
func (m *rolesModule) dependencyFailed(op *roleOp) bool {
	return slices.ContainsFunc(op.results, func(r api.RoleResult) bool { return r.Error != "" })
}

// RoleDone is the driver's report on RoleStart or RoleStop id: the role's
// version, and the error of its Init or Stop (nil: it succeeded). A report
// on anything else (the node restarted its work since) is ignored.
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
	case op.start && err == nil:
		m.running[name] = version
		m.started = append(m.started, name)
	case !op.start:
		delete(m.running, name)
		m.started = slices.DeleteFunc(m.started, func(s string) bool { return s == name })
	}
	op.results = append(op.results, res)
	m.advance()
	n.collect()
}

// stopAll stops every role that runs here, the last started first, then
// calls done: a graceful shutdown, before the instance stops. Called
// again meanwhile, it does nothing (done runs once).
func (m *rolesModule) stopAll(done func()) {
	if m.stopping {
		return
	}
	m.stopping = true
	roles := slices.Clone(m.started)
	slices.Reverse(roles)
	m.enqueue(&roleOp{roles: roles, respond: func([]any, *api.Error) { done() }})
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

// enable serves `.proc_role_enable`.
func (m *rolesModule) enable(_ string, req api.RoleEnable, respond responder) {
	if e := m.leaderOnly(req.Proc()); e != nil {
		respond(nil, e)
		return
	}
	top, err := m.tables.ReadTopology()
	if err != nil {
		respond(nil, api.Errorf(api.CodeProcLua, "%s: %v", req.Proc(), err))
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

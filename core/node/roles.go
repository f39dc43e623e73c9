package node

import (
	"slices"

	"github.com/picogo/picogo/core/api"
)

// rolesModule runs no role code: application code is the driver's, run
// off the node's loop (docs/roles.md). It serves the governor's
// `.proc_role_start` and `.proc_role_stop` by asking the driver, one role
// at a time in the order given, to start or stop it (RoleStart, RoleStop
// effects), and answers once the driver has reported each (RoleDone). It
// keeps what runs here, as the driver reported it.
type rolesModule struct {
	*Node
	// running are the roles started here, by name: their versions.
	running map[string]string
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
	case !op.start:
		delete(m.running, name)
	}
	op.results = append(op.results, res)
	m.advance()
	n.collect()
}

// Running are the roles that run here (as the driver reported them), by
// name, with their versions.
func (n *Node) RunningRoles() map[string]string {
	out := make(map[string]string, len(n.roles.running))
	for k, v := range n.roles.running {
		out[k] = v
	}
	return out
}

package node

import (
	"slices"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/sharding"
	"github.com/picogo/picogo/core/tables"
	"github.com/vmihailenco/msgpack/v5"
)

// rpcModule calls roles' handlers (docs/roles.md "RPC"). `.proc_rpc_call`
// picks the instance its target names from this instance's applied
// tables — by bucket through the router, which retries while the bucket
// moves or its master changes; by replicaset, instance or role directly —
// and sends it `.proc_rpc_serve`. That one runs the handler here if the
// role runs here: the node runs no role code, it asks the driver
// (RoleCall) and answers once the driver reports (RoleCallDone).
type rpcModule struct {
	*Node
	next RoleCallID
	// calls are the RoleCalls the driver has not reported on: whom to
	// answer.
	calls map[RoleCallID]responder
	// turn spreads calls by role over the instances running it.
	turn int
}

// RoleCallID identifies a RoleCall the driver reports on.
type RoleCallID uint64

// RoleCall asks the driver to run handler Handler of running role Role
// with Args (a msgpack array) within Timeout; it reports with
// RoleCallDone(ID, ...).
type RoleCall struct {
	ID      RoleCallID
	Role    string
	Handler string
	Args    msgpack.RawMessage
	Timeout time.Duration
}

func (RoleCall) isEffect() {}

func newRPC(n *Node) *rpcModule { return &rpcModule{Node: n, calls: map[RoleCallID]responder{}} }

func (m *rpcModule) register(r *registry) {
	serve(r, running, m.call)
	serve(r, running, m.serve)
}

// call serves `.proc_rpc_call`.
func (m *rpcModule) call(user string, req api.RPCCall, respond responder) {
	proc, t := req.Proc(), req.Target
	if user == tables.GuestName {
		respond(nil, api.Errorf(api.CodeAccessDenied, "%s: guest may not call roles' handlers: log in as a user", proc))
		return
	}
	timeout := t.Wait()
	if timeout == 0 {
		timeout = m.cfg.RequestTimeout
	}
	serve := api.RPCServe{Role: req.Role, Handler: req.Handler, Args: req.Args, Timeout: timeout, Master: !t.Replica}
	top := m.placement.topology()
	switch t.Kind {
	case api.RPCByBucket:
		tier, ok := top.Tier(t.Tier)
		switch {
		case !ok:
			respond(nil, api.Errorf(api.CodeIllegalParams, "%s: no tier %s", proc, t.Tier))
			return
		case t.Bucket > tier.BucketCount:
			respond(nil, api.Errorf(api.CodeIllegalParams, "%s: tier %s has buckets 1..%d, not %d", proc, t.Tier, tier.BucketCount, t.Bucket))
			return
		}
		if e := m.roleOfTier(proc, top, req.Role, t.Tier); e != nil {
			respond(nil, e)
			return
		}
		serve.Tier, serve.Bucket = t.Tier, t.Bucket
		m.router.routeWithin(sharding.Request{Tier: t.Tier, Bucket: t.Bucket, Write: !t.Replica, PreferReplica: t.Replica, Call: serve},
			m.cfg.ticks(timeout), respond, rpcValue)
		return
	case api.RPCByReplicaset:
		if _, ok := top.Replicaset(t.Replicaset); !ok {
			respond(nil, api.Errorf(api.CodeIllegalParams, "%s: no replicaset %s", proc, t.Replicaset))
			return
		}
		addr, ok := m.placement.Master(t.Replicaset)
		if replicas := m.placement.Replicas(t.Replicaset); t.Replica && len(replicas) > 0 {
			addr, ok, serve.Master = replicas[m.spread(len(replicas))], true, false
		}
		if !ok {
			respond(nil, api.Errorf(api.CodeNotReady, "%s: replicaset %s has no known master", proc, t.Replicaset))
			return
		}
		m.direct(addr, serve, respond)
	case api.RPCByInstance:
		serve.Master = false
		inst, ok := top.Instance(t.Instance)
		if !ok || inst.Expelled() {
			respond(nil, api.Errorf(api.CodeIllegalParams, "%s: no instance %s", proc, t.Instance))
			return
		}
		addr, ok := m.address(inst.RaftID)
		if !ok {
			respond(nil, api.Errorf(api.CodeNoConnection, "%s: instance %s has no known address", proc, t.Instance))
			return
		}
		m.direct(addr, serve, respond)
	case api.RPCByRole:
		serve.Master = false
		addr, e := m.runningRole(proc, top, req.Role, t.Replica)
		if e != nil {
			respond(nil, e)
			return
		}
		m.direct(addr, serve, respond)
	}
}

// roleOfTier is nil if role runs on tier's instances (enabled there, or
// needed by a role that is).
func (m *rpcModule) roleOfTier(proc string, top *tables.Topology, role, tier string) *api.Error {
	roles, err := top.RolesOfTier(tier)
	if err != nil {
		return api.Errorf(api.CodeRoleNotRunning, "%s: %v", proc, err)
	}
	if !slices.ContainsFunc(roles, func(r tables.Role) bool { return r.Name == role }) {
		return api.Errorf(api.CodeRoleNotRunning, "%s: role %s is not enabled on tier %s", proc, role, tier)
	}
	return nil
}

// runningRole is the address of an instance running role as
// _pico_role_state records it: this one if it runs it, else the Online
// instances that do in turn — with replica, those that are not their
// replicaset's master first.
func (m *rpcModule) runningRole(proc string, top *tables.Topology, role string, replica bool) (string, *api.Error) {
	if _, ok := m.roles.running[role]; ok && !(replica && m.isMaster(top)) {
		return m.cfg.Self.Address, nil
	}
	var masters, others []string
	for _, st := range top.RoleStates {
		if st.Role != role || st.State != tables.RoleRunning {
			continue
		}
		inst, ok := top.Instance(st.InstanceID)
		if !ok || inst.Current.Variant != tables.GradeOnline || st.Incarnation != inst.Current.Incarnation {
			continue
		}
		addr, ok := m.address(inst.RaftID)
		if !ok {
			continue
		}
		if rs, _ := top.Replicaset(inst.ReplicasetID); rs.CurrentMasterID == inst.InstanceID {
			masters = append(masters, addr)
		} else {
			others = append(others, addr)
		}
	}
	pick := append(masters, others...)
	if replica && len(others) > 0 {
		pick = others
	}
	if len(pick) == 0 {
		if _, ok := m.roles.running[role]; ok {
			return m.cfg.Self.Address, nil
		}
		return "", api.Errorf(api.CodeRoleNotRunning, "%s: no Online instance runs role %s", proc, role)
	}
	return pick[m.spread(len(pick))], nil
}

// isMaster reports whether this instance is its replicaset's current
// master, as applied.
func (m *rpcModule) isMaster(top *tables.Topology) bool {
	rs, ok := top.Replicaset(m.identity.ReplicasetID)
	return ok && rs.CurrentMasterID != "" && rs.CurrentMasterID == m.identity.InstanceID
}

// spread is the next of n choices, in turn.
func (m *rpcModule) spread(n int) int {
	m.turn++
	return m.turn % n
}

// direct sends serve to the instance at addr (served here if that is this
// instance) and answers its handler's result.
func (m *rpcModule) direct(addr string, serve api.RPCServe, respond responder) {
	answer := func(result any, e *api.Error) {
		if e != nil {
			respond(nil, e)
			return
		}
		respond(rpcValue([]any{result}))
	}
	if m.router.isSelf(addr) {
		m.handle(tables.PicoServiceName, serve, func(values []any, e *api.Error) { answer(values, e) })
		return
	}
	m.callWithin(addr, serve, serve.Timeout, answer)
}

// rpcValue is the handler's result out of `.proc_rpc_serve`'s answer (a
// route has one result), as the one value `.proc_rpc_call` answers.
func rpcValue(results []any) ([]any, *api.Error) {
	res, ok := api.AsRPCResult(results[0])
	if !ok {
		return nil, api.Errorf(api.CodeProcLua, ".proc_rpc_call: the serving instance answered %v, not a handler's result", results[0])
	}
	return []any{res.Value}, nil
}

// serve serves `.proc_rpc_serve`: the handler runs here if this instance
// is where the call was meant to go, as applied here.
func (m *rpcModule) serve(_ string, req api.RPCServe, respond responder) {
	proc := req.Proc()
	if req.Tier != "" {
		if e := m.data.fence(req.Tier, req.Bucket, req.Master); e != nil {
			respond(nil, e)
			return
		}
	}
	if req.Master && (m.data.member == nil || !m.data.member.Role().Writable) {
		respond(nil, api.Errorf(api.CodeReadonly, "%s: this instance is not its replicaset's writable master", proc))
		return
	}
	if _, ok := m.roles.running[req.Role]; !ok {
		// Retryable: the governor may be starting it (a new master, an
		// instance back Online).
		respond(nil, api.Errorf(api.CodeNotReady, "%s: role %s does not run on instance %s", proc, req.Role, m.identity.InstanceID))
		return
	}
	m.next++
	m.calls[m.next] = respond
	m.emit(RoleCall{ID: m.next, Role: req.Role, Handler: req.Handler, Args: req.Args, Timeout: req.Timeout})
}

// RoleCallDone is the driver's report on RoleCall id: the handler's
// result as msgpack, or its error (the handler's own, or the driver's: a
// panic, the deadline, a handler the role lacks).
func (n *Node) RoleCallDone(id RoleCallID, result msgpack.RawMessage, err error) {
	m := n.rpc
	respond, ok := m.calls[id]
	if !ok {
		return
	}
	delete(m.calls, id)
	if err != nil {
		respond(nil, &api.Error{Code: api.CodeRoleHandler, Message: err.Error()})
	} else {
		respond([]any{api.RPCResult{Value: result}}, nil)
	}
	n.collect()
}

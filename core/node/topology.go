package node

import (
	"errors"
	"fmt"
	"slices"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/discovery"
	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/topology"
)

// The lifecycle module's topology procedures: join, update_instance, expel. They are decided on
// the leader (core/topology's rules over its tables, then one batch written
// like a CaS); a follower forwards them there.

// topologyChange handles RaftJoin, UpdateInstance and Expel.
func (m *lifecycle) topologyChange(req api.Request, respond responder) {
	if m.ra.BasicStatus().State == raft.StateLeader && !m.leaderCaughtUp() {
		// A new leader decides only on the whole history: until it has
		// applied an entry of its own term it may lack the tiers, or
		// the rows a join must see.
		respond(nil, api.Errorf(api.CodeNotReady, "%s: the leader is catching up, retry", req.Proc()))
		return
	}
	if m.ra.BasicStatus().State != raft.StateLeader {
		m.toLeader(req, func(result any, err *api.Error) {
			if err != nil {
				respond(nil, err)
				return
			}
			respond(resultValues(result), nil)
		})
		return
	}
	top, err := m.tables.ReadTopology()
	if err != nil {
		respond(nil, api.Errorf(api.CodeProcLua, "%s: reading the topology: %v", req.Proc(), err))
		return
	}
	switch r := req.(type) {
	case api.RaftJoin:
		m.leaderJoin(top, r, respond)
	case api.UpdateInstance:
		update := topology.UpdateRequest{
			InstanceID: r.InstanceID, ClusterID: r.ClusterID, TargetGrade: r.TargetGrade, FailureDomain: r.FailureDomain}
		inst, ops, err := topology.PlanUpdate(top, m.cfg.ClusterID, update)
		m.writeTopology(r.Proc(), inst, ops, topology.UpdateRanges(update), err, respond)
	case api.Expel:
		var inst tables.Instance
		var ops []tables.Dml
		err := topology.CheckClusterID(m.cfg.ClusterID, r.ClusterID)
		if err == nil {
			inst, ops, err = topology.PlanExpel(top, m.cfg.ClusterID, r.InstanceID)
		}
		m.writeTopology(r.Proc(), inst, ops, topology.ExpelRanges(), err, respond)
	case api.ReplicasetWeight:
		ops, err := topology.PlanWeight(top, m.cfg.ClusterID, r.ClusterID, r.ReplicasetID, r.Weight)
		if err != nil {
			respond(nil, api.Errorf(api.CodeTopology, "%s: %v", r.Proc(), err))
			return
		}
		if len(ops) == 0 {
			respond(nil, nil)
			return
		}
		m.emit(Note{Event: "lifecycle", Detail: fmt.Sprintf("%s: %s weight %g", r.Proc(), r.ReplicasetID, r.Weight)})
		m.cas.proposeOp(tables.BatchOp(ops...), topology.WeightRanges(), m.ra.BasicStatus().Applied, r.Proc(), respond,
			func(ra.Reply) ([]any, *api.Error) { return nil, nil })
	}
}

// leaderCaughtUp reports whether this leader has applied an entry of its
// own term: then its tables hold everything any earlier leader committed.
func (m *lifecycle) leaderCaughtUp() bool {
	st := m.ra.BasicStatus()
	t, ok := m.ra.Term(st.Applied)
	return ok && t == st.Term
}

// resultValues turns a forwarded call's decoded result back into return
// values.
func resultValues(result any) []any {
	switch r := result.(type) {
	case []any:
		return r
	case nil:
		return nil
	}
	return []any{result}
}

func (m *lifecycle) leaderJoin(top tables.Topology, r api.RaftJoin, respond responder) {
	req := topology.JoinRequest{
		ClusterID: r.ClusterID, InstanceID: r.InstanceID, ReplicasetID: r.ReplicasetID, Address: r.Address,
		FailureDomain: r.FailureDomain, Tier: r.Tier, InstanceUUID: r.InstanceUUID}
	m.passMutants(&req)
	plan, err := topology.PlanJoin(top, m.cfg.ClusterID, req, m.newUUID)
	if errors.Is(err, topology.ErrExpelled) {
		// Its uuid's row is expelled: the joiner itself is (its
		// answer lost, a retry), and terminates as expelled.
		respond(nil, api.Errorf(api.CodeExpelled, "%s: %v", r.Proc(), err))
		return
	}
	if err != nil {
		respond(nil, api.Errorf(api.CodeJoinRefused, "%s: %v", r.Proc(), err))
		return
	}
	answer := func() []any {
		res := api.JoinResult{Instance: api.RowOf(plan.Instance), BoxReplication: plan.BoxReplication}
		if next, err := m.tables.ReadTopology(); err == nil {
			top = next
		}
		for _, id := range sortedIDs(top.Addresses) {
			res.PeerAddresses = append(res.PeerAddresses, api.PeerAddress{RaftID: id, Address: top.Addresses[id]})
		}
		if !slices.ContainsFunc(res.PeerAddresses, func(p api.PeerAddress) bool { return p.RaftID == plan.Instance.RaftID }) {
			res.PeerAddresses = append(res.PeerAddresses, api.PeerAddress{RaftID: plan.Instance.RaftID, Address: r.Address})
		}
		return []any{res}
	}
	if len(plan.Ops) == 0 {
		respond(answer(), nil)
		return
	}
	m.emit(Note{Event: "lifecycle", Detail: fmt.Sprintf("join: %s (raft id %d) into %s", plan.Instance.InstanceID, plan.Instance.RaftID, plan.Instance.ReplicasetID)})
	m.cas.proposeOp(tables.BatchOp(plan.Ops...), plan.Ranges, m.ra.BasicStatus().Applied, r.Proc(), respond, func(ra.Reply) ([]any, *api.Error) { return answer(), nil })
}

// writeTopology writes a planned change of one instance row, guarded by the
// ranges a concurrent change must not have touched since it was planned.
func (m *lifecycle) writeTopology(proc string, inst tables.Instance, ops []tables.Dml, ranges []tables.Range, err error, respond responder) {
	if errors.Is(err, topology.ErrExpelled) {
		respond(nil, api.Errorf(api.CodeExpelled, "%s: %v", proc, err))
		return
	}
	if err != nil {
		respond(nil, api.Errorf(api.CodeTopology, "%s: %v", proc, err))
		return
	}
	if len(ops) == 0 {
		respond(nil, nil)
		return
	}
	m.emit(Note{Event: "lifecycle", Detail: fmt.Sprintf("%s: %s target %s", proc, inst.InstanceID, inst.Target)})
	m.cas.proposeOp(tables.BatchOp(ops...), ranges, m.ra.BasicStatus().Applied, proc, respond, func(ra.Reply) ([]any, *api.Error) { return nil, nil })
}

// expelRedirect has the leader expel an instance and answers once this
// instance has applied it Expelled.
func (m *lifecycle) expelRedirect(_ string, r api.ExpelRedirect, respond responder) {
	m.toLeader(api.Expel(r), func(_ any, err *api.Error) {
		if err != nil {
			respond(nil, err)
			return
		}
		m.whenExpelled(r.InstanceID, respond, m.ticks+m.cfg.ticks(m.cfg.RequestTimeout))
	})
}

// whenExpelled answers once the instance's current grade is Expelled here,
// or with a timeout.
func (m *lifecycle) whenExpelled(id string, respond responder, deadline int) {
	if row, ok, _ := m.tables.Get(tables.TablePicoInstance, []any{id}); ok {
		if inst, err := tables.InstanceFrom(row.Values()); err == nil && inst.ExpelDone() {
			respond(nil, nil)
			return
		}
	}
	if m.ticks >= deadline {
		respond(nil, api.Errorf(api.CodeTimeout, ".proc_expel_redirect: %s is not expelled yet", id))
		return
	}
	m.afterTick(func() { m.whenExpelled(id, respond, deadline) })
}

// discover answers `.proc_discover`: a running instance names its leader;
// a discovering one takes part.
func (m *lifecycle) discover(r api.Discover) discovery.Response {
	if m.phase == PhaseDiscovering {
		return m.discovery.Handle(r.Request, r.Receiver)
	}
	if m.ra != nil {
		if lead := m.ra.BasicStatus().Lead; lead != raft.None {
			if addr, ok := m.address(lead); ok {
				return discovery.Response{Done: &discovery.Done{LeaderAddress: addr}}
			}
		}
		return discovery.Response{Done: &discovery.Done{LeaderAddress: m.identity.Address}}
	}
	// Joining or starting: point at whom it joins through.
	return discovery.Response{Done: &discovery.Done{LeaderAddress: orDefault(m.joinVia, m.cfg.Self.Address)}}
}

func sortedIDs(m map[uint64]string) []uint64 {
	ids := make([]uint64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

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

// The topology procedures: join, update_instance, expel. They are decided on
// the leader (core/topology's rules over its tables, then one batch written
// like a CaS); a follower forwards them there.

// topologyChange handles RaftJoin, UpdateInstance and Expel.
func (n *Node) topologyChange(req api.Request, respond responder) {
	if n.ra.BasicStatus().State == raft.StateLeader && !n.leaderCaughtUp() {
		// A new leader decides only on the whole history: until it has
		// applied an entry of its own term it may lack the tiers, or
		// the rows a join must see.
		respond(nil, api.Errorf(api.CodeNotReady, "%s: the leader is catching up, retry", req.Proc()))
		return
	}
	if n.ra.BasicStatus().State != raft.StateLeader {
		n.toLeader(req, func(result any, err *api.Error) {
			if err != nil {
				respond(nil, err)
				return
			}
			respond(resultValues(result), nil)
		})
		return
	}
	top, err := n.tables.ReadTopology()
	if err != nil {
		respond(nil, api.Errorf(api.CodeProcLua, "%s: reading the topology: %v", req.Proc(), err))
		return
	}
	switch r := req.(type) {
	case api.RaftJoin:
		n.leaderJoin(top, r, respond)
	case api.UpdateInstance:
		update := topology.UpdateRequest{
			InstanceID: r.InstanceID, ClusterID: r.ClusterID, TargetGrade: r.TargetGrade, FailureDomain: r.FailureDomain}
		inst, ops, err := topology.PlanUpdate(top, n.cfg.ClusterID, update)
		n.writeTopology(r.Proc(), inst, ops, topology.UpdateRanges(update), err, respond)
	case api.Expel:
		var inst tables.Instance
		var ops []tables.Dml
		err := topology.CheckClusterID(n.cfg.ClusterID, r.ClusterID)
		if err == nil {
			inst, ops, err = topology.PlanExpel(top, n.cfg.ClusterID, r.InstanceID)
		}
		n.writeTopology(r.Proc(), inst, ops, topology.ExpelRanges(), err, respond)
	}
}

// leaderCaughtUp reports whether this leader has applied an entry of its
// own term: then its tables hold everything any earlier leader committed.
func (n *Node) leaderCaughtUp() bool {
	st := n.ra.BasicStatus()
	t, ok := n.ra.Term(st.Applied)
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

func (n *Node) leaderJoin(top tables.Topology, r api.RaftJoin, respond responder) {
	req := topology.JoinRequest{
		ClusterID: r.ClusterID, InstanceID: r.InstanceID, ReplicasetID: r.ReplicasetID, Address: r.Address,
		FailureDomain: r.FailureDomain, Tier: r.Tier, InstanceUUID: r.InstanceUUID}
	n.passMutants(&req)
	plan, err := topology.PlanJoin(top, n.cfg.ClusterID, req, n.newUUID)
	if err != nil {
		respond(nil, api.Errorf(api.CodeJoinRefused, "%s: %v", r.Proc(), err))
		return
	}
	answer := func() []any {
		res := api.JoinResult{Instance: api.RowOf(plan.Instance), BoxReplication: plan.BoxReplication}
		if next, err := n.tables.ReadTopology(); err == nil {
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
	n.emit(Note{Event: "lifecycle", Detail: fmt.Sprintf("join: %s (raft id %d) into %s", plan.Instance.InstanceID, plan.Instance.RaftID, plan.Instance.ReplicasetID)})
	n.proposeOp(tables.BatchOp(plan.Ops...), plan.Ranges, n.ra.BasicStatus().Applied, r.Proc(), respond, func(ra.Reply) ([]any, *api.Error) { return answer(), nil })
}

// writeTopology writes a planned change of one instance row, guarded by the
// ranges a concurrent change must not have touched since it was planned.
func (n *Node) writeTopology(proc string, inst tables.Instance, ops []tables.Dml, ranges []tables.Range, err error, respond responder) {
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
	n.emit(Note{Event: "lifecycle", Detail: fmt.Sprintf("%s: %s target %s", proc, inst.InstanceID, inst.Target)})
	n.proposeOp(tables.BatchOp(ops...), ranges, n.ra.BasicStatus().Applied, proc, respond, func(ra.Reply) ([]any, *api.Error) { return nil, nil })
}

// expelRedirect has the leader expel an instance and answers once this
// instance has applied it Expelled.
func (n *Node) expelRedirect(r api.ExpelRedirect, respond responder) {
	n.toLeader(api.Expel(r), func(_ any, err *api.Error) {
		if err != nil {
			respond(nil, err)
			return
		}
		n.whenExpelled(r.InstanceID, respond, n.ticks+n.cfg.ticks(n.cfg.RequestTimeout))
	})
}

// whenExpelled answers once the instance's current grade is Expelled here,
// or with a timeout.
func (n *Node) whenExpelled(id string, respond responder, deadline int) {
	if row, ok, _ := n.tables.Get(tables.TablePicoInstance, []any{id}); ok {
		if inst, err := tables.InstanceFrom(row.Values()); err == nil && inst.Current.Variant == tables.GradeExpelled {
			respond(nil, nil)
			return
		}
	}
	if n.ticks >= deadline {
		respond(nil, api.Errorf(api.CodeTimeout, ".proc_expel_redirect: %s is not expelled yet", id))
		return
	}
	n.afterTick(func() { n.whenExpelled(id, respond, deadline) })
}

// afterTick runs fn at the next tick.
func (n *Node) afterTick(fn func()) { n.local.nextTick = append(n.local.nextTick, fn) }

// discover answers `.proc_discover`: a running instance names its leader;
// a discovering one takes part.
func (n *Node) discover(r api.Discover) discovery.Response {
	if n.phase == PhaseDiscovering {
		return n.discovery.Handle(r.Request, r.Receiver)
	}
	if n.ra != nil {
		if lead := n.ra.BasicStatus().Lead; lead != raft.None {
			if addr, ok := n.address(lead); ok {
				return discovery.Response{Done: &discovery.Done{LeaderAddress: addr}}
			}
		}
		return discovery.Response{Done: &discovery.Done{LeaderAddress: n.identity.Address}}
	}
	// Joining or starting: point at whom it joins through.
	return discovery.Response{Done: &discovery.Done{LeaderAddress: orDefault(n.joinVia, n.cfg.Self.Address)}}
}

// instanceInfo answers `.proc_instance_info(instance_id?)`.
func (n *Node) instanceInfo(r api.InstanceInfo, respond responder) {
	id := orDefault(r.InstanceID, n.identity.InstanceID)
	row, ok, _ := n.tables.Get(tables.TablePicoInstance, []any{id})
	if !ok {
		respond(nil, api.Errorf(api.CodeProcLua, "instance %q not found", id))
		return
	}
	inst, err := tables.InstanceFrom(row.Values())
	if err != nil {
		respond(nil, api.Errorf(api.CodeProcLua, "%v", err))
		return
	}
	addr, _ := n.address(inst.RaftID)
	respond([]any{api.InstanceInfoResult{RaftID: inst.RaftID, AdvertiseAddress: addr, InstanceID: inst.InstanceID,
		InstanceUUID: inst.InstanceUUID, ReplicasetID: inst.ReplicasetID, ReplicasetUUID: inst.ReplicasetUUID,
		ClusterID: n.cfg.ClusterID, CurrentGrade: api.RowOf(inst).CurrentGrade, TargetGrade: api.RowOf(inst).TargetGrade,
		Tier: inst.Tier, FailureDomain: inst.FailureDomain}}, nil)
}

func sortedIDs(m map[uint64]string) []uint64 {
	ids := make([]uint64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

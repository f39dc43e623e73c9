package sim

import (
	"fmt"
	"iter"
	"slices"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/node"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/net/tcp"
	"github.com/picogo/picogo/proc"
)

// The cluster's lifecycle during the fault phase, as an operator would
// drive it: graceful shutdowns (most restart later, one may stay down for
// good), expels through `.proc_expel`, and at most one stop of the whole
// cluster. Joins are the late instances (see World.build).

// scheduleLifecycle arms the lifecycle events for the fault phase.
func (w *World) scheduleLifecycle() {
	p := w.params
	w.every(p.ShutdownEvery, w.shutdownOne)
	w.every(p.ExpelEvery, w.expelOne)
	w.every(p.ReweighEvery, w.reweighOne)
	if p.StopAllAt > 0 {
		w.sched.after(int64(p.StopAllAt), w.stopAll)
	}
}

// down counts the instances that are not running, or are on their way out.
func (w *World) down() int {
	n := 0
	for _, in := range w.instances {
		if !in.up() || in.stopping {
			n++
		}
	}
	return n
}

// running is the instances of the cluster under test whose node runs Raft
// (not discovering, joining or stopped), in order.
func (w *World) running() []*instance { return slices.Collect(w.eachRunning()) }

// eachRunning is running without the slice, for the checks after every
// event.
func (w *World) eachRunning() iter.Seq[*instance] {
	return func(yield func(*instance) bool) {
		for in := range w.membersOf(clusterID) {
			if n := in.node(); n != nil && n.Phase() == node.PhaseRunning && !in.stopping && !yield(in) {
				return
			}
		}
	}
}

// shutdownOne stops a running instance gracefully (SIGTERM): it asks for
// Offline and exits once it is. It restarts after a while, unless it is the
// one retired for good. A shutdown that does not finish in time ends in a
// kill, as an operator's would.
func (w *World) shutdownOne() {
	r := w.faultRng
	cands := w.running()
	if len(cands) == 0 || w.down()+1 > (len(w.instances)-1)/2 {
		return
	}
	in := cands[r.IntN(len(cands))]
	in.stopping = true
	// Retiring one needs others to take its vote: at least three voters
	// now (a sole voter leaving for good ends the cluster, by design).
	if lead := w.leader(); w.params.Retire && !w.retiredOne && len(w.instances) >= 4 && r.IntN(2) == 0 &&
		lead != nil && len(lead.node().Status().ConfState.Voters) >= 3 && !w.holdsBucketsAlone(lead, in) {
		in.retired, w.retiredOne = true, true
	}
	what := "graceful shutdown"
	if in.retired {
		what += " (for good)"
	}
	w.trace.printf("i%d %s", in.id, what)
	w.shutdown(in)
}

// shutdown stops a running instance gracefully (SIGTERM; the caller set
// in.stopping): it asks for Offline and exits once it is, then restarts
// after a while unless retired (stopped). A shutdown that does not finish
// in time ends in a kill, as an operator's would.
func (w *World) shutdown(in *instance) {
	alive := in.epochGuard()
	in.host.Shutdown()
	w.afterEvent(in)
	w.sched.after(int64(w.params.ShutdownTimeout), func() {
		if alive.ok() && in.stopping {
			// Killed, it may still hold a vote: it comes back.
			w.trace.printf("i%d did not stop within %v: kill", in.id, w.params.ShutdownTimeout)
			in.retired = false
			in.stopped()
		}
	})
}

// stopped handles an instance's process ending on its own (Terminate) or
// by a kill after a shutdown: it restarts later unless retired or
// expelled.
func (in *instance) stopped() {
	w := in.w
	in.stopping = false
	in.crash(false)
	if in.retired || in.terminated {
		return
	}
	w.sched.after(int64(between(w.faultRng, w.params.RestartAfter/2, w.params.RestartAfter*3/2)), func() {
		// Also after the faults stopped: a shutdown still under way then
		// ends in a restart like any other.
		if !w.scripted && !in.up() && !in.terminated && !in.retired && w.failure == nil {
			if err := in.start(); err != nil {
				w.fail(err)
			}
		}
	})
}

// expelOne asks a running instance to expel another, through the Proc API
// as an operator's `picogo expel` would (`.proc_expel` is forwarded to the
// leader). At most Expels per run.
func (w *World) expelOne() {
	r := w.faultRng
	cands := w.running()
	if w.expels >= w.params.Expels || len(cands) < 3 {
		return
	}
	top, err := cands[0].node().Tables().ReadTopology()
	if err != nil {
		return
	}
	var victims []tables.Instance
	for _, i := range top.Instances {
		if !i.Expelled() && !w.lastLiveMember(top, i) {
			victims = append(victims, i)
		}
	}
	if len(victims) < 3 {
		return
	}
	w.expels++
	victim := victims[r.IntN(len(victims))]
	via := cands[r.IntN(len(cands))]
	w.trace.printf("operator: expel %s (raft id %d) via i%d", victim.InstanceID, victim.RaftID, via.id)
	w.operatorCall(via, api.Expel{ClusterID: clusterID, InstanceID: victim.InstanceID}, func(_ any, e *api.Error) {
		if e != nil {
			w.trace.printf("operator: expel %s: %s", victim.InstanceID, e.Message)
			return
		}
		w.trace.printf("operator: expel %s: ok", victim.InstanceID)
	})
}

// lastLiveMember: every other member of i's replicaset not expelled was
// stopped for good by the world. Expelling i too would lose the
// replicaset's data (its buckets could go nowhere): two permanent
// failures of one replicaset, beyond the fault model (seed 805: a retired
// replica, then its master expelled, stranded a drain's last buckets).
func (w *World) lastLiveMember(top tables.Topology, i tables.Instance) bool {
	others := false
	for _, x := range top.Instances {
		if x.InstanceID == i.InstanceID || x.ReplicasetID != i.ReplicasetID || x.Expelled() {
			continue
		}
		others = true
		if in := w.byRaftID(x.RaftID); in == nil || !in.retired {
			return false
		}
	}
	return others
}

// reweighOne changes a ready replicaset's weight through
// `.proc_replicaset_weight`, as `picogo drain [--weight W]` does: most
// often to 0, a drain (after which its members may be expelled), else to
// 1, 2 or 0.5. A replicaset whose members are all stopped for good is left
// alone: the operator would give buckets to no one (picogo cannot tell a
// member stopped for good from one restarting).
func (w *World) reweighOne() {
	r := w.faultRng
	cands := w.running()
	top, ok := w.latestTopology()
	if len(cands) == 0 || !ok {
		return
	}
	var ready []string
	for _, rs := range top.Replicasets {
		if rs.State == tables.ReplicasetReady && slices.ContainsFunc(w.instances, func(in *instance) bool {
			i, ok := byRaftID(top, in.raftID)
			return ok && in.raftID != 0 && !in.retired && !in.terminated && !i.Expelled() && i.ReplicasetID == rs.ReplicasetID
		}) {
			ready = append(ready, rs.ReplicasetID)
		}
	}
	if len(ready) == 0 {
		return
	}
	rs := ready[r.IntN(len(ready))]
	weight := []float64{0, 0, 0, 1, 2, 0.5}[r.IntN(6)]
	via := cands[r.IntN(len(cands))]
	w.trace.printf("operator: weight of %s to %v via i%d", rs, weight, via.id)
	w.operatorCall(via, api.ReplicasetWeight{ClusterID: clusterID, ReplicasetID: rs, Weight: weight}, func(_ any, e *api.Error) {
		if e != nil {
			w.trace.printf("operator: weight of %s: %s", rs, e.Message)
			return
		}
		w.trace.printf("operator: weight of %s: ok", rs)
	})
}

// stopAll kills every instance at once and starts them all again a little
// later: the whole cluster must come back from its disks.
func (w *World) stopAll() {
	if !w.faultsOn {
		return
	}
	w.trace.printf("the whole cluster stops")
	var restart []*instance
	for _, in := range w.instances {
		if in.up() {
			in.stopping = false
			in.crash(false)
			restart = append(restart, in)
		}
	}
	w.sched.after(int64(between(w.faultRng, w.params.RestartAfter/2, w.params.RestartAfter*3/2)), func() {
		w.trace.printf("the whole cluster starts again")
		for _, in := range restart {
			if !in.up() && !in.terminated && !in.retired && w.failure == nil {
				if err := in.start(); err != nil {
					w.fail(err)
					return
				}
			}
		}
	})
}

// operatorCall is one call from the operator's console to an instance, as
// admin; then gets the decoded result.
func (w *World) operatorCall(to *instance, req api.Request, then func(any, *api.Error)) {
	w.operatorCallAs(to, proc.Admin, w.adminPassword, req, then)
}

// operatorCallAs is one call from the operator's console on a connection of
// its own that logs in as user with password, as each picogo command does.
func (w *World) operatorCallAs(to *instance, user, password string, req api.Request, then func(any, *api.Error)) {
	w.operatorSync++
	frame, err := proc.EncodeRequest(w.operatorSync, req)
	if err != nil {
		panic(fmt.Sprintf("sim: operator cannot encode %T: %v", req, err))
	}
	open := func() *conn { return w.dial(operatorAddr, to.addr, user, password, tcp.DefaultDialTimeout) }
	w.call(operatorAddr, to.addr, open, frame, w.params.OpTimeout, func(resp []byte, err error) {
		if err != nil {
			then(nil, errorOf(err))
			return
		}
		then(proc.DecodeReply(req, resp))
	})
}

// operatorAddr is the operator's host.
const operatorAddr = "operator"

// expelledRow reports whether the cluster, as the most advanced running
// instance knows it, has expelled raft id.
func (w *World) expelledRow(raftID uint64) bool {
	top, ok := w.latestTopology()
	if !ok || raftID == 0 {
		return false
	}
	i := slices.IndexFunc(top.Instances, func(i tables.Instance) bool { return i.RaftID == raftID })
	return i >= 0 && top.Instances[i].Expelled()
}

// latestTopology is the topology of the running instance that has applied
// the most: its tables' own (Store.Topology), for reading only.
func (w *World) latestTopology() (tables.Topology, bool) {
	best := w.mostAdvanced()
	if best == nil {
		return tables.Topology{}, false
	}
	top, err := best.node().Tables().Topology()
	if err != nil {
		return tables.Topology{}, false
	}
	return *top, true
}

// mostAdvanced is the running instance that has applied the most (nil if
// none runs).
func (w *World) mostAdvanced() *instance {
	var best *instance
	var applied uint64
	for in := range w.eachRunning() {
		if a := in.node().Status().Applied; best == nil || a > applied {
			best, applied = in, a
		}
	}
	return best
}

// holdsBucketsAlone reports an instance whose replicaset holds buckets
// (owns, receives, or has rows of some to delete) or is to own some (ready,
// weight > 0), and has no other member that is not expelled, as the
// leader's tables say: an operator stopping it for good would strand that
// data, or the buckets the rebalancing would move there (picogo refuses to
// expel it for the same reason), so the simulator's operator never retires
// it.
func (w *World) holdsBucketsAlone(lead, in *instance) bool {
	top, err := lead.node().Tables().ReadTopology()
	if err != nil || in.raftID == 0 {
		return true
	}
	i := slices.IndexFunc(top.Instances, func(x tables.Instance) bool { return x.RaftID == in.raftID })
	if i < 0 {
		return false
	}
	rs := top.Instances[i].ReplicasetID
	for _, x := range top.Instances {
		if x.RaftID != in.raftID && x.ReplicasetID == rs && x.Target.Variant != tables.GradeExpelled {
			return false
		}
	}
	if r, ok := top.Replicaset(rs); ok && r.State == tables.ReplicasetReady && r.Weight > 0 {
		return true // the rebalancing's goal gives it buckets, now or soon
	}
	return slices.ContainsFunc(top.Buckets, func(b tables.BucketRange) bool {
		return b.ReplicasetID == rs || b.Destination == rs || b.Garbage == rs
	})
}

// byRaftID is the world's instance with raft id id (nil if none has it).
func (w *World) byRaftID(id uint64) *instance {
	for _, in := range w.instances {
		if in.raftID == id && id != 0 {
			return in
		}
	}
	return nil
}

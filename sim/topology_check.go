package sim

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/picogo/picogo/core/node"
	"github.com/picogo/picogo/core/sharding"
	"github.com/picogo/picogo/core/tables"
)

// topologyChecker verifies the cluster manager's invariants (SPEC M3) on
// every running instance's tables, every few virtual milliseconds:
//
//   - a raft id is never reused, and a new one is above every earlier one;
//   - a replicaset's members (not expelled) are of its tier, no more than
//     the tier's replication factor, with no failure-domain value shared;
//   - a replicaset's masters are its own members;
//   - voters are only instances of tiers that vote.
//
// And once the cluster is at rest (restChecks): the voter count follows
// the 1/3/5 rule over the Online instances that may vote, all voters are
// Online; each replicaset has one master, which the instances themselves
// agree on (their replication role); every bucket of a bootstrapped tier
// belongs to exactly one ready replicaset, the same on every instance.
type topologyChecker struct {
	w    *World
	last int64
	// uuids is the instance uuid each raft id was first seen with.
	uuids     map[uint64]string
	maxRaftID uint64
	// checked is what each instance's last check saw: the same tables
	// and voters again pass again, so they are not read again.
	checked map[uint64]checkedTables
}

// checkedTables identifies an instance's tables (its store, and their
// stamp in it) and voters as they were checked.
type checkedTables struct {
	store  *tables.Store
	at     tables.Stamp
	voters []uint64
}

// checkEvery is how often (virtual time) the tables are checked.
const checkEvery = int64(20 * time.Millisecond)

func newTopologyChecker(w *World) *topologyChecker {
	return &topologyChecker{w: w, uuids: map[uint64]string{}, checked: map[uint64]checkedTables{}}
}

// maybeCheck checks every running instance's tables if it is time.
func (t *topologyChecker) maybeCheck() error {
	if t.w.sched.now-t.last < checkEvery {
		return nil
	}
	t.last = t.w.sched.now
	for _, in := range t.w.running() {
		if err := t.check(in); err != nil {
			return fmt.Errorf("i%d (applied %d): %w", in.id, in.node().Status().Applied, err)
		}
	}
	return nil
}

func (t *topologyChecker) check(in *instance) error {
	n := in.node()
	seen := checkedTables{store: n.Tables(), at: n.Tables().TopologyStamp(), voters: n.Status().ConfState.Voters}
	if last, ok := t.checked[in.id]; ok && last.store == seen.store && last.at == seen.at && slices.Equal(last.voters, seen.voters) {
		return nil
	}
	top, err := n.Tables().Topology() // read only: no copy
	if err != nil {
		return err
	}
	if err := t.checkTopology(*top, seen.voters); err != nil {
		return err
	}
	t.checked[in.id] = seen
	return nil
}

func (t *topologyChecker) checkTopology(top tables.Topology, voters []uint64) error {
	if err := t.raftIDs(top); err != nil {
		return err
	}
	if err := replicasets(top); err != nil {
		return err
	}
	for _, id := range voters {
		if i, ok := byRaftID(top, id); ok {
			if tier, ok := top.Tier(i.Tier); ok && !tier.CanVote {
				return fmt.Errorf("voters: %s (raft id %d) of tier %s, which does not vote, is a voter", i.InstanceID, id, i.Tier)
			}
		}
	}
	return nil
}

// raftIDs: unique, never reused, new ones above every earlier one.
func (t *topologyChecker) raftIDs(top tables.Topology) error {
	seen := map[uint64]string{}
	var fresh []uint64
	for _, i := range top.Instances {
		if other, dup := seen[i.RaftID]; dup {
			return fmt.Errorf("raft id %d is held by both %s and %s", i.RaftID, other, i.InstanceID)
		}
		seen[i.RaftID] = i.InstanceID
		uuid, known := t.uuids[i.RaftID]
		switch {
		case !known:
			fresh = append(fresh, i.RaftID)
		case uuid != i.InstanceUUID:
			return fmt.Errorf("raft id %d reused: first instance uuid %s, now %s (%s)", i.RaftID, uuid, i.InstanceUUID, i.InstanceID)
		}
	}
	for _, id := range fresh {
		if id <= t.maxRaftID {
			return fmt.Errorf("raft id %d appeared after raft id %d: ids must grow", id, t.maxRaftID)
		}
	}
	for _, i := range top.Instances {
		if _, known := t.uuids[i.RaftID]; !known {
			t.uuids[i.RaftID] = i.InstanceUUID
		}
		t.maxRaftID = max(t.maxRaftID, i.RaftID)
	}
	return nil
}

// replicasets: members of the replicaset's tier, within the replication
// factor, no failure-domain value shared; masters are members.
func replicasets(top tables.Topology) error {
	members := map[string][]tables.Instance{}
	for _, i := range top.Instances {
		if !i.Expelled() {
			members[i.ReplicasetID] = append(members[i.ReplicasetID], i)
		}
	}
	for _, rs := range top.Replicasets {
		ms := members[rs.ReplicasetID]
		tier, ok := top.Tier(rs.Tier)
		if !ok {
			return fmt.Errorf("replicaset %s: tier %q does not exist", rs.ReplicasetID, rs.Tier)
		}
		if uint64(len(ms)) > max(tier.ReplicationFactor, 1) {
			return fmt.Errorf("replicaset %s has %d members, tier %s's replication factor is %d: %v",
				rs.ReplicasetID, len(ms), tier.Name, tier.ReplicationFactor, names(ms))
		}
		for a := range ms {
			if ms[a].Tier != rs.Tier {
				return fmt.Errorf("replicaset %s of tier %s holds %s of tier %s", rs.ReplicasetID, rs.Tier, ms[a].InstanceID, ms[a].Tier)
			}
			for b := a + 1; b < len(ms); b++ {
				for _, k := range slices.Sorted(maps.Keys(ms[a].FailureDomain)) {
					if v, ok := ms[b].FailureDomain[k]; ok && v == ms[a].FailureDomain[k] {
						return fmt.Errorf("replicaset %s: %s and %s share failure domain %s=%s",
							rs.ReplicasetID, ms[a].InstanceID, ms[b].InstanceID, k, v)
					}
				}
			}
		}
		for _, m := range []string{rs.CurrentMasterID, rs.TargetMasterID} {
			if i, ok := top.Instance(m); m != "" && (!ok || i.ReplicasetID != rs.ReplicasetID) {
				return fmt.Errorf("replicaset %s: master %q is not one of its instances", rs.ReplicasetID, m)
			}
		}
	}
	return nil
}

// restChecks run once the cluster settled, on the leader's tables and
// every running instance's own state.
func (t *topologyChecker) restChecks() error {
	lead := t.w.leader()
	if lead == nil {
		return fmt.Errorf("at rest: no leader")
	}
	top, err := lead.node().Tables().ReadTopology()
	if err != nil {
		return err
	}
	if err := t.check(lead); err != nil {
		return fmt.Errorf("at rest: %w", err)
	}
	if err := voterRule(top, lead.node().Status().ConfState.Voters); err != nil {
		return fmt.Errorf("at rest: voters: %w", err)
	}
	running := map[string]*instance{}
	for _, in := range t.w.running() {
		if id, ok := in.node().Identity(); ok {
			running[id.InstanceID] = in
		}
	}
	if err := masters(top, running); err != nil {
		return fmt.Errorf("at rest: %w", err)
	}
	if err := buckets(top, running); err != nil {
		return fmt.Errorf("at rest: buckets: %w", err)
	}
	return nil
}

// voterRule: 5 voters if at least 5 instances may vote and are Online, 3 if
// 3 or 4, else all of them; every voter is one of them.
func voterRule(top tables.Topology, voters []uint64) error {
	var eligible []uint64
	for _, i := range top.Instances {
		tier, ok := top.Tier(i.Tier)
		if ok && tier.CanVote && !i.Expelled() && i.Current.Variant == tables.GradeOnline {
			eligible = append(eligible, i.RaftID)
		}
	}
	want := len(eligible)
	switch {
	case want >= 5:
		want = 5
	case want >= 3:
		want = 3
	}
	for _, v := range voters {
		if !slices.Contains(eligible, v) {
			i, _ := byRaftID(top, v)
			return fmt.Errorf("voter %d (%s, %s) is not an Online instance of a voting tier", v, i.InstanceID, i.Current)
		}
	}
	if len(voters) != want {
		return fmt.Errorf("%d voters %v; %d eligible %v want %d", len(voters), voters, len(eligible), eligible, want)
	}
	return nil
}

// masters: every replicaset with an Online member has one master, current
// and target alike, Online; each running member knows whether it is the
// master (the role the governor gave it).
func masters(top tables.Topology, running map[string]*instance) error {
	for _, rs := range top.Replicasets {
		var online []tables.Instance
		for _, i := range top.Instances {
			if i.ReplicasetID == rs.ReplicasetID && i.Current.Variant == tables.GradeOnline {
				online = append(online, i)
			}
		}
		if len(online) == 0 {
			continue
		}
		if rs.CurrentMasterID != rs.TargetMasterID {
			return fmt.Errorf("replicaset %s: current master %s, target %s", rs.ReplicasetID, rs.CurrentMasterID, rs.TargetMasterID)
		}
		if !slices.ContainsFunc(online, func(i tables.Instance) bool { return i.InstanceID == rs.CurrentMasterID }) {
			return fmt.Errorf("replicaset %s: master %s is not Online", rs.ReplicasetID, rs.CurrentMasterID)
		}
		for _, i := range online {
			in, ok := running[i.InstanceID]
			if !ok {
				continue
			}
			rep, _, _ := in.node().Local()
			isMaster := rep != nil && rep.IsMaster
			if isMaster != (i.InstanceID == rs.CurrentMasterID) {
				return fmt.Errorf("replicaset %s: master is %s, but %s (i%d, %s, target %s) believes it is master: %v",
					rs.ReplicasetID, rs.CurrentMasterID, i.InstanceID, in.id, i.Current, i.Target, isMaster)
			}
		}
	}
	return nil
}

// buckets: in a bootstrapped tier, every Online running instance holds the
// same map (_pico_bucket as it applied it), covering buckets
// 1..bucket_count exactly once, and each replicaset owns what the
// rebalancing's goal gives it (sharding.Goal: its weight's share over the
// tier's ready replicasets).
func buckets(top tables.Topology, running map[string]*instance) error {
	for _, tier := range top.Tiers {
		if !tier.VshardBootstrapped {
			continue
		}
		var ready []string
		for _, rs := range top.Replicasets {
			if rs.Tier == tier.Name && rs.State == tables.ReplicasetReady && rs.Weight > 0 {
				ready = append(ready, rs.ReplicasetID)
			}
		}
		slices.Sort(ready)
		var first []node.BucketRange
		var firstName string
		for _, i := range top.Instances {
			in, ok := running[i.InstanceID]
			if !ok || i.Tier != tier.Name || i.Current.Variant != tables.GradeOnline {
				continue
			}
			_, bs, _ := in.node().Local()
			next := uint64(1)
			var owners []string
			for _, b := range bs {
				if b.First != next || b.Last < b.First {
					return fmt.Errorf("tier %s: %s's map %v does not cover the buckets once from %d", tier.Name, i.InstanceID, bs, next)
				}
				next = b.Last + 1
				owners = append(owners, b.Replicaset)
			}
			if next != tier.BucketCount+1 {
				return fmt.Errorf("tier %s: %s's map %v covers %d of %d buckets", tier.Name, i.InstanceID, bs, next-1, tier.BucketCount)
			}
			slices.Sort(owners)
			owners = slices.Compact(owners)
			if slices.ContainsFunc(owners, func(o string) bool { return !slices.Contains(ready, o) }) {
				return fmt.Errorf("tier %s: %s's map %v names %v; the ready replicasets are %v", tier.Name, i.InstanceID, bs, owners, ready)
			}
			if got, want := ownedCounts(bs), goal(top, tier); !maps.Equal(got, want) {
				return fmt.Errorf("tier %s: %s's map %v gives %v; the goal is %v", tier.Name, i.InstanceID, bs, got, want)
			}
			if first == nil {
				first, firstName = bs, i.InstanceID
			} else if !slices.Equal(first, bs) {
				return fmt.Errorf("tier %s: %s holds %v, %s holds %v", tier.Name, firstName, first, i.InstanceID, bs)
			}
		}
	}
	return nil
}

func byRaftID(top tables.Topology, id uint64) (tables.Instance, bool) {
	for _, i := range top.Instances {
		if i.RaftID == id {
			return i, true
		}
	}
	return tables.Instance{}, false
}

func names(is []tables.Instance) []string {
	out := make([]string, len(is))
	for k, i := range is {
		out[k] = i.InstanceID
	}
	return out
}

// ownedCounts is how many buckets each replicaset owns in bs.
func ownedCounts(bs []node.BucketRange) map[string]uint64 {
	out := map[string]uint64{}
	for _, b := range bs {
		out[b.Replicaset] += b.Last - b.First + 1
	}
	return out
}

// goal is sharding.Goal for a tier: its ready replicasets with a member
// not expelled, by weight (as the governor plans it); the replicasets it
// gives none are left out.
func goal(top tables.Topology, tier tables.Tier) map[string]uint64 {
	targets := sharding.Targets(top, tier.Name)
	out := map[string]uint64{}
	for id, n := range sharding.Goal(tier.BucketCount, targets) {
		if n > 0 {
			out[id] = n
		}
	}
	return out
}

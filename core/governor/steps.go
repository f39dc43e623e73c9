package governor

import (
	"slices"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/mutant"
	"github.com/picogo/picogo/core/sharding"
	"github.com/picogo/picogo/core/tables"
)

// Steps 3 to 8: grades, masters, replication and sharding. Each handles the
// first instance, replicaset or tier (by name) that needs it.

// offline is step 3: an instance whose target is Offline and whose current
// grade is anything else (another variant, or Offline of another
// incarnation) gets current = target.
func (p *planner) offline() (Action, bool) {
	for _, i := range p.instances {
		if i.Target.Variant != tables.GradeOffline || i.Current == i.Target || i.ExpelDone() {
			continue
		}
		var r rows
		was := i.Current
		i.Current = i.Target
		r.putInstance(i)
		return Offline{Instance: i.InstanceID, From: was, To: i.Current, CaS: r.cas()}, true
	}
	return nil, false
}

// validMaster reports whether id names a member of rs whose target is
// Online.
func (p *planner) validMaster(rs tables.Replicaset, id string) (tables.Instance, bool) {
	m, ok := p.instance(id)
	return m, ok && m.ReplicasetID == rs.ReplicasetID && onlineBound(m)
}

// targetMaster is step 4: a replicaset whose target master is not bound for
// Online (target grade not Online, expelled, or not a member at all) gets
// as target master its first member by name whose target is Online and that
// is reachable; its target config version is bumped. A replicaset with no
// such member is left as it is.
func (p *planner) targetMaster() (Action, bool) {
	for _, rs := range p.replicasets {
		if _, ok := p.validMaster(rs, rs.TargetMasterID); ok {
			continue
		}
		var r rows
		members := p.members(rs.ReplicasetID)
		for _, m := range members {
			r.readInstance(m)
		}
		for _, m := range members {
			if !onlineBound(m) || p.unreachable(m) {
				continue
			}
			was := rs.TargetMasterID
			rs.TargetMasterID = m.InstanceID
			rs.TargetConfigVersion++
			r.putReplicaset(rs)
			return TargetMaster{Replicaset: rs.ReplicasetID, From: was, To: m.InstanceID,
				ConfigVersion: rs.TargetConfigVersion, CaS: r.cas()}, true
		}
	}
	return nil, false
}

// replication is step 5: a replicaset whose current config version is
// behind its target, or with a reachable member bound for Online whose
// current grade is below Replicated for its target incarnation, gets
// .proc_replication on every reachable member bound for Online; then its
// current master and config version catch up with the target, those members
// below Replicated become Replicated(target incarnation), and once as many
// members bound for Online are at Replicated or above as the tier's
// replication factor, the replicaset becomes ready with weight 1 and its
// tier's target vshard config version is bumped. A replicaset whose target
// master is unreachable, or with no reachable member bound for Online, is
// skipped for now; so is one whose config version moved while a member
// bound for Online is unreachable — recording the version would leave that
// member with the old configuration for good. A replicaset whose current
// master is set and is not its target master gets a Switchover first
// (switchover.go), or waits.
func (p *planner) replication() (Action, bool) {
	for _, rs := range p.replicasets {
		if needsSwitchover(rs) {
			if a, ok := p.switchover(rs); ok {
				return a, true
			}
			continue
		}
		members := p.members(rs.ReplicasetID)
		versionBehind := rs.CurrentConfigVersion < rs.TargetConfigVersion
		needed := versionBehind
		var targets []tables.Instance
		var addrs []string
		blocked := false
		for _, m := range members {
			if !onlineBound(m) {
				continue
			}
			a, ok := p.address(m)
			if !ok {
				blocked = blocked || m.InstanceID == rs.TargetMasterID || versionBehind
				continue
			}
			targets = append(targets, m)
			addrs = append(addrs, a)
			if !atLeast(m.Current, tables.GradeReplicated, m.Target.Incarnation) {
				needed = true
			}
		}
		if !needed || len(targets) == 0 || blocked {
			continue
		}

		var r rows
		r.readReplicaset(rs)
		var peers []string
		for _, m := range members {
			r.readInstance(m)
			if m.Expelled() {
				continue
			}
			r.readAddress(m.RaftID)
			if a, ok := p.in.Topology.Address(m.RaftID); ok {
				peers = append(peers, a)
			}
		}
		var rpcs []RPC
		for k, m := range targets {
			rpcs = append(rpcs, RPC{InstanceID: m.InstanceID, RaftID: m.RaftID, Address: addrs[k],
				Call: api.Replication{IsMaster: m.InstanceID == rs.TargetMasterID, Peers: peers}})
		}

		// The members' new grades, and how many are now replicated.
		replicated := 0
		for _, m := range members {
			if !onlineBound(m) {
				continue
			}
			target := false
			for _, t := range targets {
				target = target || t.InstanceID == m.InstanceID
			}
			if target && !atLeast(m.Current, tables.GradeReplicated, m.Target.Incarnation) {
				m.Current = tables.Grade{Variant: tables.GradeReplicated, Incarnation: m.Target.Incarnation}
				r.putInstance(m)
			}
			if atLeast(m.Current, tables.GradeReplicated, m.Target.Incarnation) {
				replicated++
			}
		}

		before := rs
		rs.CurrentMasterID = rs.TargetMasterID
		rs.CurrentConfigVersion = rs.TargetConfigVersion
		a := ConfigureReplication{Replicaset: rs.ReplicasetID, Master: rs.CurrentMasterID, Peers: peers, RPCs: rpcs}
		if tier, ok := p.tier(rs.Tier); ok {
			if rs.State != tables.ReplicasetReady && uint64(replicated) >= tier.ReplicationFactor {
				rs.State, rs.Weight = tables.ReplicasetReady, 1
				tier.TargetVshardConfigVersion++
				r.putTier(tier)
				a.Ready, a.Tier, a.VshardConfigVersion = true, tier.Name, tier.TargetVshardConfigVersion
			} else {
				r.readTier(tier)
			}
		}
		if rs.CurrentMasterID != before.CurrentMasterID || rs.CurrentConfigVersion != before.CurrentConfigVersion ||
			rs.State != before.State || rs.Weight != before.Weight {
			r.putReplicaset(rs)
		}
		a.CaS = r.cas()
		return a, true
	}
	return nil, false
}

// sharding is step 6: a tier whose current vshard config version is behind
// its target, or with a reachable instance bound for Online at
// Replicated(target incarnation), gets .proc_sharding on every reachable
// instance of the tier bound for Online and at Replicated or above for its
// target incarnation — do_reconfigure for all of them when the version moved,
// else only for those at Replicated; then the tier's current vshard config
// version catches up, and those at Replicated become ShardingInitialized.
// A tier with no such instance reachable is skipped for now; so is a tier
// whose version moved while one of those instances is unreachable — it
// would keep the old configuration for good.
func (p *planner) sharding() (Action, bool) {
next:
	for _, tier := range p.tiers {
		behind := tier.CurrentVshardConfigVersion < tier.TargetVshardConfigVersion
		var r rows
		var rpcs []RPC
		var targets []tables.Instance
		fresh := false
		for _, i := range p.instances {
			if i.Tier != tier.Name {
				continue
			}
			r.readInstance(i)
			if !onlineBound(i) || !atLeast(i.Current, tables.GradeReplicated, i.Target.Incarnation) {
				continue
			}
			a, ok := p.address(i)
			if !ok {
				if behind {
					continue next
				}
				continue
			}
			atReplicated := i.Current.Variant == tables.GradeReplicated
			fresh = fresh || atReplicated
			targets = append(targets, i)
			rpcs = append(rpcs, RPC{InstanceID: i.InstanceID, RaftID: i.RaftID, Address: a,
				Call: api.Sharding{DoReconfigure: behind || atReplicated}})
		}
		if len(targets) == 0 || !behind && !fresh {
			continue
		}
		for _, i := range targets {
			if i.Current.Variant == tables.GradeReplicated {
				i.Current.Variant = tables.GradeShardingInitialized
				r.putInstance(i)
			}
		}
		if behind {
			tier.CurrentVshardConfigVersion = tier.TargetVshardConfigVersion
			r.putTier(tier)
		} else {
			r.readTier(tier)
		}
		return ConfigureSharding{Tier: tier.Name, VshardConfigVersion: tier.CurrentVshardConfigVersion,
			Instances: ids(targets), RPCs: rpcs, CaS: r.cas()}, true
	}
	return nil, false
}

// shardingBootstrap is the rest of step 6: a tier not yet bootstrapped with
// a ready replicaset gets .proc_sharding_bootstrap on the master of its
// first ready replicaset (by name) whose current master is reachable, bound
// for Online and has its sharding initialized; then the tier is
// vshard_bootstrapped.
func (p *planner) shardingBootstrap() (Action, bool) {
	for _, tier := range p.tiers {
		again := false
		if tier.VshardBootstrapped {
			if !p.in.mutants.Has(mutant.BootstrapBucketsTwice) || !p.bucketlessTarget(tier) {
				continue
			}
			again = true
		}
		for _, rs := range p.replicasets {
			if rs.Tier != tier.Name || rs.State != tables.ReplicasetReady {
				continue
			}
			m, ok := p.validMaster(rs, rs.CurrentMasterID)
			if !ok || !atLeast(m.Current, tables.GradeShardingInitialized, m.Target.Incarnation) {
				continue
			}
			a, ok := p.address(m)
			if !ok {
				continue
			}
			var r rows
			r.readReplicaset(rs)
			r.readInstance(m)
			r.readAddress(m.RaftID)
			tier.VshardBootstrapped = true
			r.putTier(tier)
			// The tier's first bucket ranges, over the replicasets ready
			// now — unless it has some already: buckets are bootstrapped
			// once (the CaS reads all of _pico_bucket).
			if again {
				// BootstrapBucketsTwice: a fresh layout over the
				// existing ranges, _pico_bucket unread.
				var c sharding.Change
				c.Put = sharding.Bootstrap(tier.Name, tier.BucketCount, p.shardingTargets(tier.Name))
				r.changeBuckets(c)
			} else if r.readBuckets(); len(p.bucketRanges(tier.Name)) == 0 {
				var c sharding.Change
				c.Put = sharding.Bootstrap(tier.Name, tier.BucketCount, p.shardingTargets(tier.Name))
				r.changeBuckets(c)
			}
			return BootstrapSharding{Tier: tier.Name, Replicaset: rs.ReplicasetID, Master: m.InstanceID,
				RPC: RPC{InstanceID: m.InstanceID, RaftID: m.RaftID, Address: a, Call: api.ShardingBootstrap{}}, CaS: r.cas()}, true
		}
	}
	return nil, false
}

// online is step 7: an instance at ShardingInitialized(i) with target
// Online(i) gets current = target.
func (p *planner) online() (Action, bool) {
	for _, i := range p.instances {
		want := tables.Grade{Variant: tables.GradeShardingInitialized, Incarnation: i.Target.Incarnation}
		if i.Target.Variant != tables.GradeOnline || i.Current != want || !p.rolesSettled(i) {
			continue
		}
		var r rows
		i.Current = i.Target
		r.putInstance(i)
		return Online{Instance: i.InstanceID, From: want, To: i.Current, CaS: r.cas()}, true
	}
	return nil, false
}

// expel is step 8: an instance with target Expelled that no longer votes
// (step 2 made it a learner) gets current = target. It is still a learner
// then, so the entry reaches it and it stops; step 2 then removes it from
// the configuration.
func (p *planner) expel() (Action, bool) {
	cs := p.in.Conf
	for _, i := range p.instances {
		if !i.Expelled() || i.ExpelDone() {
			continue
		}
		if slices.Contains(cs.Voters, i.RaftID) || slices.Contains(cs.VotersOutgoing, i.RaftID) {
			continue
		}
		var r rows
		was := i.Current
		i.Current = i.Target
		r.putInstance(i)
		return Expel{Instance: i.InstanceID, From: was, To: i.Current, CaS: r.cas()}, true
	}
	return nil, false
}

// bucketlessTarget reports whether a replicaset the tier's buckets should
// go to owns none of its ranges (BootstrapBucketsTwice only).
func (p *planner) bucketlessTarget(tier tables.Tier) bool {
	ranges := p.bucketRanges(tier.Name)
	if len(ranges) == 0 {
		return false
	}
	owns := map[string]bool{}
	for _, r := range ranges {
		owns[r.ReplicasetID] = true
	}
	for _, r := range sharding.Bootstrap(tier.Name, tier.BucketCount, p.shardingTargets(tier.Name)) {
		if !owns[r.ReplicasetID] {
			return true
		}
	}
	return false
}

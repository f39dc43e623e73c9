package governor

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/tables"
)

// randomCluster is 1–3 tiers (the first votes, the others at random), RF
// 1–3, 1–9 instances with failure domains (DC, and RACK in half the
// clusters) placed in replicasets the way a join places them (the first of
// the tier with room, else a new one), all Offline(0)/Offline(0). s1 (raft
// id 1, first tier) leads and is the only voter; some others are learners
// already. It returns the topology, the configuration and the name of the
// first tier.
func randomCluster(rng *rand.Rand) (*topo, raft.ConfState, string) {
	t := newTopo()
	nTiers := 1 + rng.IntN(3)
	var tierNames []string
	for k := 0; k < nTiers; k++ {
		name := fmt.Sprintf("t%d", k)
		tierNames = append(tierNames, name)
		t.Tiers = append(t.Tiers, tables.Tier{Name: name, ReplicationFactor: uint64(1 + rng.IntN(3)),
			CanVote: k == 0 || rng.IntN(2) == 0, BucketCount: tables.DefaultBucketCount})
	}
	racks := rng.IntN(2) == 0
	n := 1 + rng.IntN(9)
	conf := voters(1)
	for k := 1; k <= n; k++ {
		tier := tierNames[0]
		if k > 1 {
			tier = tierNames[rng.IntN(nTiers)]
		}
		x, _ := t.Tier(tier)
		rs := ""
		for m := 1; rs == ""; m++ {
			id := fmt.Sprintf("%s_%d", tier, m)
			members := 0
			for _, i := range t.Instances {
				if i.ReplicasetID == id {
					members++
				}
			}
			if members < int(x.ReplicationFactor) {
				rs = id
			}
		}
		j := 1
		for _, i := range t.Instances {
			if i.ReplicasetID == rs {
				j++
			}
		}
		fd := []string{"DC=" + string(rune('A'+rng.IntN(3)))}
		if racks {
			fd = append(fd, "RACK="+string(rune('1'+rng.IntN(2))))
		}
		t.tierNow = tier
		t.add(fmt.Sprintf("%s_%d", rs, j), uint64(k), rs, off(0), off(0), fd...)
		if k > 1 && rng.IntN(2) == 0 {
			conf.Learners = append(conf.Learners, uint64(k))
		}
	}
	return t, conf, tierNames[0]
}

// TestConverge drives 500 random clusters to idle three times — targets
// set at random, then changed at random with some instances unreachable,
// then with all reachable again — and checks the fixpoint each time.
func TestConverge(t *testing.T) {
	const clusters, bound = 500, 200
	for seed := uint64(0); seed < clusters; seed++ {
		rng := rand.New(rand.NewPCG(seed, 1))
		top, conf, votingTier := randomCluster(rng)
		s := newSim(t, top, 1, conf)
		if seed%2 == 1 { // odd seeds: every tier replicates synchronously
			for _, x := range top.Tiers {
				s.sync[x.Name] = true
			}
		}
		phase := func(name string, strict bool) {
			trace := s.run(bound)
			for k := 1; k < len(trace); k++ {
				if strings.HasPrefix(trace[k], StepIdle) {
					continue
				}
				require.NotEqual(t, trace[k-1], trace[k], "seed %d %s: a step repeated:\n%s", seed, name,
					strings.Join(trace, "\n"))
			}
			checkFixpoint(t, s, strict, fmt.Sprintf("seed %d %s:\n%s", seed, name, strings.Join(trace, "\n")))
		}

		// Phase 1: every instance asks for a target; one of the voting
		// tier for Online (see anchorOf).
		anchor := anchorOf(s, rng, votingTier)
		for _, i := range s.topology().Instances {
			switch r := rng.IntN(10); {
			case i.InstanceID == anchor.InstanceID || r < 7:
				s.goOnline(i.InstanceID)
			case r < 9:
			default:
				s.expel(i.InstanceID)
			}
		}
		phase("phase 1", true)

		// Phase 2: restarts, shutdowns, expels, with some instances
		// unreachable (never the anchor, its replicaset or the leader).
		anchor = anchorOf(s, rng, votingTier)
		for _, i := range s.topology().Instances {
			if i.Expelled() {
				continue
			}
			switch r := rng.IntN(10); {
			case r < 3:
				s.goOnline(i.InstanceID) // a restart: a new incarnation
			case i.InstanceID == anchor.InstanceID:
				if i.Target.Variant != tables.GradeOnline {
					s.goOnline(i.InstanceID)
				}
			case r < 5:
				s.goOffline(i.InstanceID)
			case r < 6:
				s.expel(i.InstanceID)
			}
		}
		for _, i := range s.topology().Instances {
			if i.InstanceID != anchor.InstanceID && i.ReplicasetID != anchor.ReplicasetID &&
				i.RaftID != s.self && rng.IntN(4) == 0 {
				s.unreachable[i.InstanceID] = true
			}
		}
		phase("phase 2", false)

		// Phase 3: everyone reachable again.
		s.unreachable = map[string]bool{}
		phase("phase 3", true)
	}
}

// anchorOf picks an instance of the voting tier that is not expelled (one
// bound for Online if there is one): the perturbations keep it bound for
// Online and reachable, as an Offline or expelled leader needs an Online
// instance of a voting tier to hand over to (expel never takes the last
// instance).
func anchorOf(s *sim, rng *rand.Rand, votingTier string) tables.Instance {
	var candidates []tables.Instance
	for _, i := range s.topology().Instances {
		if i.Tier == votingTier && !i.Expelled() {
			if i.Target.Variant == tables.GradeOnline {
				return i
			}
			candidates = append(candidates, i)
		}
	}
	require.NotEmpty(s.t, candidates, "the voting tier is all expelled")
	return candidates[rng.IntN(len(candidates))]
}

// checkFixpoint checks an idle cluster. Strict: nobody is unreachable, so
// everything asked for is done. Otherwise an instance may wait if it is
// unreachable, its replicaset's target master is, or an instance of its
// tier bound for Online is (a configuration version is recorded only once
// every one of them has it), or its tier is synchronous and its
// replicaset's old master is unreachable (a failover may wait for a
// majority).
func checkFixpoint(t *testing.T, s *sim, strict bool, msg string) {
	top := s.topology()
	conf := s.conf
	require.False(t, conf.Joint(), msg)
	in := func(list []uint64, id uint64) bool { return slices.Contains(list, id) }
	tierOf := func(name string) tables.Tier { x, _ := top.Tier(name); return x }
	blocked := func(i tables.Instance) bool {
		if strict {
			return false
		}
		rs, _ := top.Replicaset(i.ReplicasetID)
		if s.unreachable[i.InstanceID] || s.unreachable[rs.TargetMasterID] {
			return true
		}
		if s.sync[i.Tier] && rs.CurrentMasterID != rs.TargetMasterID && s.unreachable[rs.CurrentMasterID] {
			return true // a failover waiting for a majority
		}
		for _, o := range top.Instances {
			if o.Tier == i.Tier && onlineBound(o) && s.unreachable[o.InstanceID] {
				return true
			}
		}
		return false
	}

	k := slices.IndexFunc(top.Instances, func(i tables.Instance) bool { return i.RaftID == s.self })
	require.GreaterOrEqual(t, k, 0, msg)
	leader := top.Instances[k]
	require.Equal(t, tables.GradeOnline, leader.Target.Variant, "the leader is bound for Online\n%s", msg)

	// Grades.
	for _, i := range top.Instances {
		switch i.Target.Variant {
		case tables.GradeOnline:
			if !blocked(i) {
				require.Equal(t, i.Target, i.Current, "%s is not Online\n%s", i.InstanceID, msg)
			}
		case tables.GradeOffline:
			require.Equal(t, i.Target, i.Current, "%s is not Offline\n%s", i.InstanceID, msg)
		case tables.GradeExpelled:
			require.Equal(t, i.Target, i.Current, "%s is not Expelled\n%s", i.InstanceID, msg)
			require.False(t, in(conf.Voters, i.RaftID) || in(conf.Learners, i.RaftID),
				"expelled %s is in the configuration %s\n%s", i.InstanceID, conf, msg)
		}
	}

	// Voters and learners.
	require.Contains(t, conf.Voters, s.self, msg)
	eligible := 0
	for _, i := range top.Instances {
		canVote := tierOf(i.Tier).CanVote && !i.Expelled()
		climbing := in(conf.Voters, i.RaftID) && i.Current.Variant != tables.GradeOffline // keeps its seat
		if canVote && (i.Current.Variant == tables.GradeOnline || climbing) {
			eligible++
		}
		switch {
		case in(conf.Voters, i.RaftID):
			if i.RaftID != s.self {
				require.True(t, canVote, "voter %s cannot vote\n%s", i.InstanceID, msg)
				require.NotEqual(t, tables.GradeOffline, i.Current.Variant, "voter %s is Offline\n%s", i.InstanceID, msg)
				if !blocked(i) {
					require.Equal(t, tables.GradeOnline, i.Current.Variant, "voter %s\n%s", i.InstanceID, msg)
				}
			}
		case !i.Expelled():
			require.True(t, in(conf.Learners, i.RaftID), "%s is neither voter nor learner\n%s", i.InstanceID, msg)
		}
	}
	wanted := wantedVoters(eligible)
	if strict {
		require.Len(t, conf.Voters, wanted, "voters %v with %d eligible\n%s", conf.Voters, eligible, msg)
	} else {
		require.LessOrEqual(t, len(conf.Voters), max(wanted, 1)+1, msg)
	}

	// Masters and replication: at most one master per replicaset among the
	// Online members, by what they were last told.
	for _, rs := range top.Replicasets {
		var online []tables.Instance
		for _, i := range top.Instances {
			if i.ReplicasetID == rs.ReplicasetID && i.Current.Variant == tables.GradeOnline {
				online = append(online, i)
			}
		}
		masters := 0
		for _, i := range online {
			if r, ok := lastReplication(s.got[i.InstanceID]); ok && r.IsMaster {
				masters++
				if strict {
					require.Equal(t, rs.CurrentMasterID, i.InstanceID, "%s: master\n%s", rs.ReplicasetID, msg)
				}
			}
		}
		require.LessOrEqual(t, masters, 1, "%s has %d masters\n%s", rs.ReplicasetID, masters, msg)
		if strict && len(online) > 0 {
			require.Equal(t, rs.TargetMasterID, rs.CurrentMasterID, "%s\n%s", rs.ReplicasetID, msg)
			require.Equal(t, rs.TargetConfigVersion, rs.CurrentConfigVersion, "%s\n%s", rs.ReplicasetID, msg)
			m, ok := top.Instance(rs.TargetMasterID)
			require.True(t, ok && m.Current.Variant == tables.GradeOnline, "%s: master %s\n%s", rs.ReplicasetID, m.InstanceID, msg)
			require.Equal(t, 1, masters, "%s: no master told so\n%s", rs.ReplicasetID, msg)
		}
		if strict && uint64(len(online)) >= tierOf(rs.Tier).ReplicationFactor {
			require.Equal(t, tables.ReplicasetReady, rs.State, "%s\n%s", rs.ReplicasetID, msg)
		}
	}

	// Sharding: versions caught up, buckets bootstrapped once per tier.
	for _, x := range top.Tiers {
		bootstraps, online := 0, false
		for _, i := range top.Instances {
			if i.Tier != x.Name {
				continue
			}
			online = online || i.Current.Variant == tables.GradeOnline
			for _, c := range s.got[i.InstanceID] {
				if _, ok := c.(api.ShardingBootstrap); ok {
					bootstraps++
				}
			}
		}
		require.LessOrEqual(t, bootstraps, 1, "tier %s bootstrapped %d times\n%s", x.Name, bootstraps, msg)
		require.Equal(t, x.VshardBootstrapped, bootstraps == 1, "tier %s\n%s", x.Name, msg)
		if !strict {
			continue
		}
		if online {
			require.Equal(t, x.TargetVshardConfigVersion, x.CurrentVshardConfigVersion, "tier %s\n%s", x.Name, msg)
		}
		for _, rs := range top.Replicasets {
			m, _ := top.Instance(rs.CurrentMasterID)
			if rs.Tier == x.Name && rs.State == tables.ReplicasetReady && m.Current.Variant == tables.GradeOnline {
				require.True(t, x.VshardBootstrapped, "tier %s has ready %s\n%s", x.Name, rs.ReplicasetID, msg)
			}
		}
	}
}

func lastReplication(calls []api.Request) (api.Replication, bool) {
	for _, c := range slices.Backward(calls) {
		if r, ok := c.(api.Replication); ok {
			return r, true
		}
	}
	return api.Replication{}, false
}

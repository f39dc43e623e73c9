package governor

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
)

// pair is a one-tier topology with RF 2 and one replicaset r1 = {s1
// (master), s2}, both Online(1)/Online(1) and settled; s1 is the leader.
func pair() *topo {
	return newTopo().tier("storage", 2, true).
		add("s1", 1, "r1", on(1), on(1)).
		add("s2", 2, "r1", on(1), on(1)).settled()
}

// rangeKeys describes an action's ranges as "table:key".
func rangeKeys(t *testing.T, a Action) []string {
	_, cas := as[Batch](t, a).Batch()
	names := map[uint32]string{tables.TablePicoInstance: "instance", tables.TablePicoReplicaset: "replicaset",
		tables.TablePicoTier: "tier", tables.TablePicoPeerAddress: "address"}
	var out []string
	for _, r := range cas.Ranges {
		if len(r.Key) == 0 {
			out = append(out, fmt.Sprintf("whole table %d", r.Table))
			continue
		}
		tup, err := tuple.New(r.Key)
		require.NoError(t, err)
		out = append(out, fmt.Sprintf("%s:%v", names[r.Table], tup.Values()[0]))
	}
	return out
}

func steps2(a Action) string { return a.Step() + ": " + a.Detail() }

func calls(t *testing.T, a Action) map[string]api.Request {
	rpcs, _ := as[Batch](t, a).Batch()
	out := map[string]api.Request{}
	for _, r := range rpcs {
		out[r.InstanceID] = r.Call
	}
	return out
}

func TestOffline(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cur, tgt tables.Grade
		want     tables.Grade // s2's current after the step; zero: step 3 does not fire
	}{
		{"Online going Offline", on(1), off(1), off(1)},
		{"a climbing instance going Offline", rep(2), off(2), off(2)},
		{"Offline of an older incarnation", off(0), off(1), off(1)},
		{"already Offline", off(1), off(1), tables.Grade{}},
		{"bound for Online", off(1), on(2), tables.Grade{}},
		{"expelled", expd(1), expd(1), tables.Grade{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, pair().grade("s2", tc.cur, tc.tgt), 1, withLearners(voters(1), 2))
			if tc.want.Variant == "" {
				a := s.plan()
				assert.NotEqual(t, StepOffline, a.Step(), a.Detail())
				return
			}
			a := s.step()
			o := as[Offline](t, a)
			assert.Equal(t, Offline{Instance: "s2", From: tc.cur, To: tc.want, CaS: o.CaS}, o)
			assert.Equal(t, fmt.Sprintf("s2: %s -> %s", tc.cur, tc.want), a.Detail())
			assert.Empty(t, o.Ranges, "it reads only the row it writes")
			assert.Equal(t, tc.want, s.instance("s2").Current)
			assert.Equal(t, tc.tgt, s.instance("s2").Target)
		})
	}
}

func TestTargetMaster(t *testing.T) {
	trio := func() *topo {
		return newTopo().tier("storage", 3, true).
			add("s1", 1, "r1", on(1), on(1)).
			add("s2", 2, "r1", on(1), on(1)).
			add("s3", 3, "r1", on(1), on(1)).settled()
	}
	for _, tc := range []struct {
		name        string
		top         *topo
		unreachable []string
		want        string // the new target master; "": step 4 does not fire
	}{
		{name: "the master went Offline: the first member bound for Online",
			top: trio().grade("s1", off(1), off(1)), want: "s2"},
		{name: "the master is being expelled",
			top: trio().grade("s1", on(1), expd(1)), want: "s2"},
		{name: "an unreachable member is passed over",
			top: trio().grade("s1", off(1), off(1)), unreachable: []string{"s2"}, want: "s3"},
		{name: "a member going Offline is passed over",
			top: trio().grade("s1", off(1), off(1)).grade("s2", off(1), off(1)), want: "s3"},
		{name: "no member bound for Online: left as it is",
			top: trio().grade("s1", off(1), off(1)).grade("s2", off(1), off(1)).grade("s3", off(1), off(1))},
		{name: "only an unreachable candidate: left as it is for now",
			top: trio().grade("s1", off(1), off(1)).grade("s2", off(1), off(1)), unreachable: []string{"s3"}},
		{name: "a master restarting (current Offline, target Online) stays master",
			top: trio().grade("s1", off(1), on(2))},
		{name: "a master that is not a member is replaced",
			top: trio().rs("r1", func(r *tables.Replicaset) { r.TargetMasterID = "elsewhere" }), want: "s1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, tc.top, 1, voters(1, 2, 3))
			for _, id := range tc.unreachable {
				s.unreachable[id] = true
			}
			s.conf = voters(s.self) // keep step 2 quiet: only the leader votes...
			for _, i := range tc.top.Instances {
				if i.RaftID != s.self {
					s.conf.Learners = append(s.conf.Learners, i.RaftID)
				}
			}
			in := s.input()
			in.Conf = raft.ConfState{VotersOutgoing: []uint64{1}, Voters: in.Conf.Voters, Learners: in.Conf.Learners}
			a := Plan(in) // ...and joint, so step 2 waits
			if tc.want == "" {
				assert.NotEqual(t, StepTargetMaster, a.Step(), a.Detail())
				return
			}
			before := s.topology()
			was, _ := before.Replicaset("r1")
			tm := as[TargetMaster](t, a)
			assert.Equal(t, TargetMaster{Replicaset: "r1", From: was.TargetMasterID, To: tc.want, ConfigVersion: 2, CaS: tm.CaS}, tm)
			s.exec(a)
			top := s.topology()
			rs, _ := top.Replicaset("r1")
			assert.Equal(t, tc.want, rs.TargetMasterID)
			assert.Equal(t, uint64(2), rs.TargetConfigVersion, "the target config version is bumped")
			assert.Equal(t, uint64(1), rs.CurrentConfigVersion)
			assert.Equal(t, "s1", rs.CurrentMasterID, "current master moves in step 5")
			assert.Equal(t, []string{"instance:s1", "instance:s2", "instance:s3"}, rangeKeys(t, a))
		})
	}
}

func TestReplication(t *testing.T) {
	t.Run("a fresh instance: RPC, Replicated, ready, tier version bumped", func(t *testing.T) {
		s := newSim(t, newTopo().tier("storage", 1, true).add("s1", 1, "r1", off(0), on(1)), 1, voters(1))
		a := s.step()
		r := as[ConfigureReplication](t, a)
		assert.Equal(t, ConfigureReplication{Replicaset: "r1", Master: "s1", Peers: []string{addr(1)},
			RPCs: []RPC{{InstanceID: "s1", RaftID: 1, Address: addr(1),
				Call: api.Replication{IsMaster: true, Peers: []string{addr(1)}}}},
			Ready: true, Tier: "storage", VshardConfigVersion: 1, CaS: r.CaS}, r)
		assert.Equal(t, "r1: master s1, peers [10.0.0.1:3301], ready (storage target vshard config version 1)", a.Detail())
		assert.Equal(t, rep(1), s.instance("s1").Current)
		top := s.topology()
		rs, _ := top.Replicaset("r1")
		assert.Equal(t, tables.Replicaset{ReplicasetID: "r1", ReplicasetUUID: "r1-uuid", CurrentMasterID: "s1",
			TargetMasterID: "s1", Tier: "storage", Weight: 1, State: tables.ReplicasetReady,
			CurrentConfigVersion: 1, TargetConfigVersion: 1, PromotionVclock: map[string]any{}}, rs)
		tier, _ := top.Tier("storage")
		assert.Equal(t, uint64(1), tier.TargetVshardConfigVersion)
		assert.Equal(t, uint64(0), tier.CurrentVshardConfigVersion)
		assert.Equal(t, []string{"address:1"}, rangeKeys(t, a))
	})
	t.Run("RF 2 with one member bound for Online: not ready", func(t *testing.T) {
		top := pair().grade("s1", on(1), on(1)).grade("s2", off(0), off(0)).
			rs("r1", func(r *tables.Replicaset) {
				r.State, r.Weight, r.TargetConfigVersion = tables.ReplicasetNotReady, 0, 2
			})
		s := newSim(t, top, 1, withLearners(voters(1), 2))
		a := s.step()
		require.Equal(t, StepReplication, a.Step())
		assert.Equal(t, "r1: master s1, peers [10.0.0.1:3301 10.0.0.2:3301]", a.Detail(),
			"peers are every member not expelled, Offline ones too")
		assert.Equal(t, map[string]api.Request{"s1": api.Replication{IsMaster: true, Peers: []string{addr(1), addr(2)}}}, calls(t, a))
		top2 := s.topology()
		rs, _ := top2.Replicaset("r1")
		assert.Equal(t, tables.ReplicasetNotReady, rs.State)
		assert.Equal(t, uint64(2), rs.CurrentConfigVersion)
		assert.Equal(t, off(0), s.instance("s2").Current)
		assert.Equal(t, []string{"address:1", "address:2", "instance:s1", "instance:s2", "tier:storage"},
			rangeKeys(t, a), "what it read, not what it wrote")
	})
	t.Run("a new target master: switchover, then is_master to it only", func(t *testing.T) {
		top := pair().rs("r1", func(r *tables.Replicaset) { r.TargetMasterID, r.TargetConfigVersion = "s2", 2 })
		s := newSim(t, top, 1, voters(1, 2))
		require.Equal(t, StepSwitchover, s.step().Step())
		a := s.step()
		require.Equal(t, StepReplication, a.Step())
		assert.Equal(t, map[string]api.Request{
			"s1": api.Replication{IsMaster: false, Peers: []string{addr(1), addr(2)}},
			"s2": api.Replication{IsMaster: true, Peers: []string{addr(1), addr(2)}},
		}, calls(t, a))
		top2 := s.topology()
		rs, _ := top2.Replicaset("r1")
		assert.Equal(t, "s2", rs.CurrentMasterID)
		assert.Equal(t, uint64(2), rs.CurrentConfigVersion)
		assert.Equal(t, on(1), s.instance("s1").Current, "a grade above Replicated stays")
		assert.Equal(t, StepIdle, s.plan().Step())
	})
	t.Run("an expelled member is not a peer", func(t *testing.T) {
		top := pair().grade("s2", expd(1), expd(1)).grade("s1", off(1), on(2))
		s := newSim(t, top, 1, voters(1))
		a := s.step()
		require.Equal(t, StepReplication, a.Step())
		assert.Equal(t, map[string]api.Request{"s1": api.Replication{IsMaster: true, Peers: []string{addr(1)}}}, calls(t, a))
	})
	t.Run("an unreachable member is skipped, and the step does not repeat for it", func(t *testing.T) {
		top := pair().grade("s1", off(1), on(2)).grade("s2", off(1), on(2))
		s := newSim(t, top, 1, withLearners(voters(1), 2))
		s.unreachable["s2"] = true
		a := s.step()
		require.Equal(t, StepReplication, a.Step())
		assert.Equal(t, []string{"s1"}, slices.Sorted(func(yield func(string) bool) {
			for id := range calls(t, a) {
				yield(id)
			}
		}))
		assert.Equal(t, rep(2), s.instance("s1").Current)
		assert.Equal(t, off(1), s.instance("s2").Current)
		assert.NotEqual(t, StepReplication, s.plan().Step())
		delete(s.unreachable, "s2")
		assert.Equal(t, StepReplication, s.plan().Step(), "back once reachable")
	})
	t.Run("the config version moved and a member is unreachable: the replicaset waits for it", func(t *testing.T) {
		top := pair().grade("s1", on(2), on(2)).grade("s2", on(2), on(2)).
			rs("r1", func(r *tables.Replicaset) { r.TargetConfigVersion++ })
		s := newSim(t, top, 1, voters(1, 2))
		s.unreachable["s2"] = true
		assert.NotEqual(t, StepReplication, s.plan().Step())
		delete(s.unreachable, "s2")
		a := s.step()
		require.Equal(t, StepReplication, a.Step())
		assert.Len(t, calls(t, a), 2)
	})
	t.Run("an unreachable target master: the replicaset waits", func(t *testing.T) {
		top := pair().grade("s1", off(1), on(2)).grade("s2", off(1), on(2))
		s := newSim(t, top, 2, withLearners(voters(2), 1))
		s.unreachable["s1"] = true
		a := s.plan()
		assert.Equal(t, StepIdle, a.Step(), a.Detail())
	})
	t.Run("every target unreachable: fall through to the next step", func(t *testing.T) {
		top := storage(2).grade("s2", off(1), on(2)).grade("s1", shi(1), on(1))
		s := newSim(t, top, 1, withLearners(voters(1), 2))
		s.unreachable["s2"] = true
		a := s.plan()
		assert.Equal(t, StepOnline, a.Step(), a.Detail())
	})
}

func TestSharding(t *testing.T) {
	t.Run("the tier's version moved: everyone reconfigures", func(t *testing.T) {
		top := storage(3).tierEdit("storage", func(x *tables.Tier) { x.TargetVshardConfigVersion = 2 }).
			grade("s3", off(1), off(1))
		s := newSim(t, top, 1, withLearners(voters(1, 2), 3))
		a := s.step()
		require.Equal(t, StepSharding, a.Step())
		assert.Equal(t, "storage: vshard config version 2 to [s1 s2]", a.Detail())
		assert.Equal(t, map[string]api.Request{"s1": api.Sharding{DoReconfigure: true}, "s2": api.Sharding{DoReconfigure: true}}, calls(t, a))
		top2 := s.topology()
		tier, _ := top2.Tier("storage")
		assert.Equal(t, uint64(2), tier.CurrentVshardConfigVersion)
		assert.Equal(t, []string{"instance:s1", "instance:s2", "instance:s3"}, rangeKeys(t, a))
		assert.Equal(t, StepIdle, s.plan().Step())
	})
	t.Run("a new instance at Replicated: it configures, the others only if changed", func(t *testing.T) {
		s := newSim(t, storage(3).grade("s3", rep(2), on(2)), 1, voters(1, 2, 3))
		a := s.step()
		require.Equal(t, StepSharding, a.Step())
		assert.Equal(t, map[string]api.Request{"s1": api.Sharding{}, "s2": api.Sharding{}, "s3": api.Sharding{DoReconfigure: true}}, calls(t, a))
		assert.Equal(t, shi(2), s.instance("s3").Current)
		assert.Equal(t, on(1), s.instance("s1").Current)
		assert.Contains(t, rangeKeys(t, a), "tier:storage")
	})
	t.Run("unreachable instances are skipped", func(t *testing.T) {
		s := newSim(t, storage(3).grade("s3", rep(2), on(2)).grade("s2", rep(2), on(2)), 1, voters(1, 2, 3))
		s.unreachable["s2"] = true
		a := s.step()
		require.Equal(t, StepSharding, a.Step())
		assert.Equal(t, map[string]api.Request{"s1": api.Sharding{}, "s3": api.Sharding{DoReconfigure: true}}, calls(t, a))
		assert.Equal(t, rep(2), s.instance("s2").Current)
		assert.Equal(t, "online: s3: ShardingInitialized(2) -> Online(2)", steps2(s.step()))
		assert.Equal(t, StepIdle, s.plan().Step(), "no repeat for the unreachable one")
	})
	t.Run("the version moved and an instance is unreachable: the tier waits for it", func(t *testing.T) {
		// Recording the version now would leave s2 with the old map for
		// good; the simulator found this (buckets at rest).
		top := storage(3).tierEdit("storage", func(x *tables.Tier) { x.TargetVshardConfigVersion++ })
		s := newSim(t, top, 1, voters(1, 2, 3))
		s.unreachable["s2"] = true
		assert.Equal(t, StepIdle, s.plan().Step())
		delete(s.unreachable, "s2")
		a := s.step()
		require.Equal(t, StepSharding, a.Step())
		assert.Len(t, calls(t, a), 3)
	})
	t.Run("every target unreachable: fall through", func(t *testing.T) {
		s := newSim(t, storage(2).grade("s2", rep(2), on(2)).grade("s1", shi(1), on(1)), 1, voters(1, 2))
		s.unreachable["s2"] = true
		assert.Equal(t, StepOnline, s.plan().Step())
	})
	t.Run("an instance below Replicated is not a target", func(t *testing.T) {
		top := storage(2).tierEdit("storage", func(x *tables.Tier) { x.TargetVshardConfigVersion = 2 }).
			grade("s2", on(1), on(2))
		s := newSim(t, top, 1, voters(1, 2))
		s.unreachable["s2"] = true // so step 5 waits for it
		a := s.step()
		require.Equal(t, StepSharding, a.Step())
		assert.Equal(t, map[string]api.Request{"s1": api.Sharding{DoReconfigure: true}}, calls(t, a))
	})
	t.Run("each tier on its own", func(t *testing.T) {
		top := newTopo().tier("a", 1, true).add("a1", 1, "ra1", rep(1), on(1)).
			tier("b", 1, true).add("b1", 2, "rb1", rep(1), on(1)).settled()
		s := newSim(t, top, 1, voters(1, 2))
		assert.Equal(t, "a: vshard config version 1 to [a1]", s.step().Detail())
		assert.Equal(t, "b: vshard config version 1 to [b1]", s.step().Detail())
	})
}

func TestShardingBootstrap(t *testing.T) {
	unbootstrapped := func() *topo {
		return storage(3).tierEdit("storage", func(x *tables.Tier) { x.VshardBootstrapped = false })
	}
	t.Run("on the first ready replicaset's master, once", func(t *testing.T) {
		s := newSim(t, unbootstrapped(), 1, voters(1, 2, 3))
		a := s.step()
		b := as[BootstrapSharding](t, a)
		assert.Equal(t, BootstrapSharding{Tier: "storage", Replicaset: "r1", Master: "s1",
			RPC: RPC{InstanceID: "s1", RaftID: 1, Address: addr(1), Call: api.ShardingBootstrap{}}, CaS: b.CaS}, b)
		assert.Equal(t, "storage: bootstrap buckets on r1 master s1", a.Detail())
		top := s.topology()
		tier, _ := top.Tier("storage")
		assert.True(t, tier.VshardBootstrapped)
		assert.Equal(t, []string{"address:1", "instance:s1", "replicaset:r1", "whole table 540"}, rangeKeys(t, a))
		var owners []string
		for _, b := range top.Buckets {
			owners = append(owners, b.String())
		}
		assert.Equal(t, []string{"storage 1-1000 r1 active", "storage 1001-2000 r2 active", "storage 2001-3000 r3 active"}, owners,
			"the tier's buckets spread over its ready replicasets")
		assert.Equal(t, StepIdle, s.plan().Step(), "once per tier")
	})
	t.Run("a tier whose buckets have owners keeps them", func(t *testing.T) {
		top := unbootstrapped()
		top.Buckets = []tables.BucketRange{{Tier: "storage", First: 1, Last: 3000, ReplicasetID: "r2", State: tables.BucketActive}}
		s := newSim(t, top, 1, voters(1, 2, 3))
		as[BootstrapSharding](t, s.step())
		assert.Equal(t, top.Buckets, s.topology().Buckets)
	})
	t.Run("not-ready replicasets and unreachable masters are passed over", func(t *testing.T) {
		top := unbootstrapped().rs("r1", func(r *tables.Replicaset) { r.State, r.Weight = tables.ReplicasetNotReady, 0 })
		s := newSim(t, top, 1, voters(1, 2, 3))
		s.unreachable["s2"] = true
		assert.Equal(t, "storage: bootstrap buckets on r3 master s3", s.plan().Detail())
	})
	t.Run("a master not yet initialized for its incarnation: not it", func(t *testing.T) {
		top := pair().tierEdit("storage", func(x *tables.Tier) { x.VshardBootstrapped = false }).
			grade("s1", on(1), on(2)).
			rs("r1", func(r *tables.Replicaset) { r.TargetMasterID, r.TargetConfigVersion = "s2", 2 })
		s := newSim(t, top, 1, voters(1, 2))
		s.unreachable["s2"] = true // step 5 waits for the target master
		assert.Equal(t, StepIdle, s.plan().Step())
	})
	t.Run("no ready replicaset: no bootstrap", func(t *testing.T) {
		top := unbootstrapped()
		for _, r := range []string{"r1", "r2", "r3"} {
			top.rs(r, func(r *tables.Replicaset) { r.State, r.Weight = tables.ReplicasetNotReady, 0 })
		}
		assert.Equal(t, StepIdle, newSim(t, top, 1, voters(1, 2, 3)).plan().Step())
	})
	t.Run("once per tier, each tier", func(t *testing.T) {
		top := newTopo().tier("a", 1, true).add("a1", 1, "ra1", on(1), on(1)).add("a2", 2, "ra2", on(1), on(1)).
			tier("b", 1, false).add("b1", 3, "rb1", on(1), on(1)).settled()
		top.tierEdit("a", func(x *tables.Tier) { x.VshardBootstrapped = false })
		top.tierEdit("b", func(x *tables.Tier) { x.VshardBootstrapped = false })
		s := newSim(t, top, 1, withLearners(voters(1, 2), 3))
		trace := s.run(10)
		assert.Equal(t, []string{
			"sharding bootstrap: a: bootstrap buckets on ra1 master a1",
			"sharding bootstrap: b: bootstrap buckets on rb1 master b1",
			"idle: nothing to do",
		}, trace)
	})
}

func TestOnline(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cur, tgt tables.Grade
		want     string
	}{
		{"ShardingInitialized(i) with target Online(i)", shi(2), on(2), StepOnline},
		{"ShardingInitialized of an older incarnation: climbs again", shi(1), on(2), StepReplication},
		{"already Online", on(2), on(2), StepIdle},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, storage(2).grade("s2", tc.cur, tc.tgt), 1, voters(1, 2))
			a := s.step()
			require.Equal(t, tc.want, a.Step(), a.Detail())
			if tc.want == StepOnline {
				assert.Equal(t, "s2: ShardingInitialized(2) -> Online(2)", a.Detail())
				assert.Equal(t, tc.tgt, s.instance("s2").Current)
				o := as[Online](t, a)
				assert.Equal(t, Online{Instance: "s2", From: shi(2), To: tc.tgt, CaS: o.CaS}, o)
			}
		})
	}
}

func TestExpel(t *testing.T) {
	t.Run("a voter: demoted to a learner, expelled, then removed", func(t *testing.T) {
		s := newSim(t, storage(3).grade("s3", off(1), expd(1)), 1, voters(1, 2, 3))
		a := s.step()
		assert.Equal(t, []raft.ConfChangeSingle{{Type: raft.AddLearner, NodeID: 3}}, as[ConfChange](t, a).Change.Changes)
		a = s.step()
		e := as[Expel](t, a)
		assert.Equal(t, Expel{Instance: "s3", From: off(1), To: expd(1), CaS: e.CaS}, e)
		assert.Equal(t, "s3: Offline(1) -> Expelled(1)", a.Detail())
		assert.Equal(t, expd(1), s.instance("s3").Current)
		a = s.step()
		assert.Equal(t, []raft.ConfChangeSingle{{Type: raft.RemoveNode, NodeID: 3}}, as[ConfChange](t, a).Change.Changes)
		assert.Equal(t, StepIdle, s.step().Step())
	})
	t.Run("not in the configuration: expelled, never added", func(t *testing.T) {
		s := newSim(t, storage(3).grade("s3", off(1), expd(1)), 1, voters(1, 2))
		a := s.step()
		require.Equal(t, StepExpel, a.Step(), a.Detail())
		assert.Equal(t, StepIdle, s.step().Step())
	})
	t.Run("in a joint configuration's outgoing voters: not yet", func(t *testing.T) {
		in := Input{Self: 1, Topology: storage(3).grade("s3", off(1), expd(1)).Topology,
			Conf: raft.ConfState{Voters: []uint64{1, 2}, VotersOutgoing: []uint64{1, 2, 3}, AutoLeave: true}}
		assert.Equal(t, StepIdle, Plan(in).Step())
	})
	t.Run("a voter becoming a learner in a joint configuration: not yet", func(t *testing.T) {
		in := Input{Self: 1, Topology: storage(3).grade("s3", off(1), expd(1)).Topology,
			Conf: raft.ConfState{Voters: []uint64{1, 2}, VotersOutgoing: []uint64{1, 2, 3}, LearnersNext: []uint64{3}}}
		assert.Equal(t, StepIdle, Plan(in).Step())
	})
}

// TestOrder: where several steps have work, the first in the plan's order
// wins; executing each, the steps come in order.
func TestOrder(t *testing.T) {
	for _, tc := range []struct {
		name string
		top  *topo
		conf raft.ConfState
		want string
	}{
		{"transfer before offline", storage(2).grade("s1", on(1), off(1)), voters(1, 2), StepTransferLeadership},
		{"conf change before offline", storage(3).grade("s3", on(1), off(1)).grade("s2", off(0), off(0)), voters(1, 3),
			StepConfChange},
		{"offline before online", storage(3).grade("s2", on(1), off(1)).grade("s3", shi(2), on(2)), voters(1, 2, 3),
			StepOffline},
		{"target master before replication",
			pair().grade("s1", shi(2), on(2)).grade("s2", off(1), off(1)).
				rs("r1", func(r *tables.Replicaset) { r.TargetMasterID = "s2"; r.TargetConfigVersion = 2 }),
			withLearners(voters(1), 2), StepTargetMaster},
		{"replication before sharding", storage(3).grade("s2", rep(2), on(2)).grade("s3", off(1), on(2)),
			withLearners(voters(1, 2), 3), StepReplication},
		{"sharding before online", storage(3).grade("s2", rep(2), on(2)).grade("s3", shi(2), on(2)),
			voters(1, 2, 3), StepSharding},
		{"online before expel", storage(3).grade("s2", shi(2), on(2)).grade("s3", off(1), expd(1)), voters(1, 2),
			StepOnline},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := Plan(Input{Self: 1, Topology: tc.top.Topology, Conf: tc.conf})
			assert.Equal(t, tc.want, a.Step(), a.Detail())
		})
	}

	t.Run("everything pending at once", func(t *testing.T) {
		top := newTopo().tier("storage", 1, true).
			add("s1", 1, "r1", on(1), on(1)).
			add("s2", 2, "r2", shi(1), on(1)).
			add("s3", 3, "r3", on(1), off(1)).
			add("s4", 4, "r4", off(1), expd(1)).
			add("s5", 5, "r5", off(0), on(1)).settled()
		s := newSim(t, top, 1, withLearners(voters(1), 2, 3, 4))
		assert.Equal(t, []string{
			StepConfChange,  // s5 a learner (s4, being expelled, stays one)
			StepOffline,     // s3
			StepReplication, // s5
			StepSharding,    // s5 initialized
			StepOnline,      // s2
			StepConfChange,  // s2 Online: two voters
			StepOnline,      // s5
			StepConfChange,  // s5 Online: three voters
			StepExpel,       // s4
			StepConfChange,  // s4 removed
			StepIdle,
		}, steps(s.run(30)))
	})
}

// TestDeterminism: the same input gives the same action, whatever the order
// of the rows and of the Unreachable map.
func TestDeterminism(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for n := 0; n < 200; n++ {
		top, conf, _ := randomCluster(rng)
		un := map[string]bool{}
		for _, i := range top.Instances {
			if rng.IntN(4) == 0 {
				un[i.InstanceID] = true
			}
		}
		in := Input{Self: 1, Topology: top.Topology, Conf: conf, Unreachable: un}
		want := Plan(in)
		for k := 0; k < 5; k++ {
			shuffled := in
			shuffled.Topology.Instances = slices.Clone(in.Topology.Instances)
			shuffled.Topology.Replicasets = slices.Clone(in.Topology.Replicasets)
			shuffled.Topology.Tiers = slices.Clone(in.Topology.Tiers)
			rng.Shuffle(len(shuffled.Topology.Instances), func(a, b int) {
				shuffled.Topology.Instances[a], shuffled.Topology.Instances[b] = shuffled.Topology.Instances[b], shuffled.Topology.Instances[a]
			})
			rng.Shuffle(len(shuffled.Topology.Replicasets), func(a, b int) {
				shuffled.Topology.Replicasets[a], shuffled.Topology.Replicasets[b] = shuffled.Topology.Replicasets[b], shuffled.Topology.Replicasets[a]
			})
			slices.Reverse(shuffled.Topology.Tiers)
			shuffled.Unreachable = map[string]bool{}
			for _, i := range slices.Backward(in.Topology.Instances) {
				if un[i.InstanceID] {
					shuffled.Unreachable[i.InstanceID] = true
				}
			}
			got := Plan(shuffled)
			require.True(t, reflect.DeepEqual(want, got), "%s: %s\nvs %s: %s", want.Step(), want.Detail(), got.Step(), got.Detail())
			wantBytes, err := tuple.Marshal(want)
			require.NoError(t, err)
			gotBytes, err := tuple.Marshal(got)
			require.NoError(t, err)
			require.Equal(t, wantBytes, gotBytes, "byte for byte")
		}
	}
}

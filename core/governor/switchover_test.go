package governor

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
	"github.com/picogo/picogo/core/vclock"
)

// casKeys describes a CaS's ranges as "table:key".
func casKeys(t *testing.T, cas CaS) []string {
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

func replicaset(t *testing.T, s *sim, id string) tables.Replicaset {
	top := s.topology()
	rs, ok := top.Replicaset(id)
	require.True(t, ok, id)
	return rs
}

// promotionVClock reads a replicaset's promotion_vclock back.
func promotionVClock(t *testing.T, rs tables.Replicaset) vclock.VClock {
	vc, err := VClockFrom(rs.PromotionVclock)
	require.NoError(t, err)
	return vc
}

// trio is r1 = {s1 (master), s2, s3}, RF 3, settled; s1 went Offline and
// r1's target master is s2 (as steps 3 and 4 leave it); s2 leads.
func trioFailover() *topo {
	return newTopo().tier("storage", 3, true).
		add("s1", 1, "r1", off(1), off(1)).
		add("s2", 2, "r1", on(1), on(1)).
		add("s3", 3, "r1", on(1), on(1)).settled().
		rs("r1", func(r *tables.Replicaset) { r.TargetMasterID, r.TargetConfigVersion = "s2", 2 })
}

func TestSwitchoverPlanned(t *testing.T) {
	old := vclock.VClock{1: 10, 2: 3}
	planned := func() *sim {
		top := pair().rs("r1", func(r *tables.Replicaset) { r.TargetMasterID, r.TargetConfigVersion = "s2", 2 })
		s := newSim(t, top, 1, voters(1, 2))
		s.vclocks["s1"] = old
		return s
	}

	t.Run("demote the old master, promote the new one with its vclock, then the CaS", func(t *testing.T) {
		s := planned()
		a := s.plan()
		sw := as[Switchover](t, a)
		assert.Equal(t, &RPC{InstanceID: "s1", RaftID: 1, Address: addr(1), Call: api.ReplicationDemote{}}, sw.Demote)
		assert.Equal(t, RPC{InstanceID: "s2", RaftID: 2, Address: addr(2), Call: api.ReplicationPromote{}}, sw.Promote)
		assert.Empty(t, sw.Survey)
		assert.Equal(t, "r1: master s1 -> s2: demote s1, promote s2", a.Detail())

		p, err := sw.AfterDemote(wireVClock(old))
		require.NoError(t, err)
		assert.Equal(t, &RPC{InstanceID: "s2", RaftID: 2, Address: addr(2), Call: api.ReplicationPromote{VClock: old}}, p.Promote)
		assert.Equal(t, "s2", p.Master)
		assert.Equal(t, "promote s2 with vclock {1: 10, 2: 3}", p.Detail())
		assert.Equal(t, []string{"address:1", "address:2", "instance:s1", "instance:s2"}, casKeys(t, p.CaS))

		s.exec(a)
		assert.Equal(t, []string{"s1 .proc_replication_demote", "s2 .proc_replication_promote", "cas: master switchover"}, s.log)
		rs := replicaset(t, s, "r1")
		assert.Equal(t, "s2", rs.CurrentMasterID)
		assert.Equal(t, old, promotionVClock(t, rs))
		assert.Equal(t, uint64(1), rs.CurrentConfigVersion, "step 5 records it once the members heard")
		assert.Equal(t, uint64(2), rs.TargetConfigVersion)

		// Then step 5 tells every member its master, as before.
		s.log = nil
		assert.Equal(t, []string{"replication: r1: master s2, peers [10.0.0.1:3301 10.0.0.2:3301]", "idle: nothing to do"}, s.run(5))
		assert.Equal(t, map[string]bool{"s1": false, "s2": true}, s.writable)
		assert.Equal(t, uint64(2), replicaset(t, s, "r1").CurrentConfigVersion)
	})

	t.Run("a config version caught up is bumped, so that the members hear of the master", func(t *testing.T) {
		top := pair().rs("r1", func(r *tables.Replicaset) { r.TargetMasterID = "s2" })
		s := newSim(t, top, 1, voters(1, 2))
		require.Equal(t, StepSwitchover, s.step().Step())
		rs := replicaset(t, s, "r1")
		assert.Equal(t, uint64(2), rs.TargetConfigVersion)
		assert.Equal(t, StepReplication, s.step().Step())
	})

	t.Run("the new master unreachable: nothing, not even the demote", func(t *testing.T) {
		s := planned()
		s.unreachable["s2"] = true
		a := s.plan()
		assert.NotEqual(t, StepSwitchover, a.Step(), a.Detail())
		assert.NotEqual(t, StepReplication, a.Step(), a.Detail())
	})

	t.Run("the demote failed: the old master is backed off, then a failover", func(t *testing.T) {
		s := planned()
		s.unreachable["s1"] = true // what the executor does to it
		s.vclocks["s2"] = vclock.VClock{1: 9}
		a := s.plan()
		sw := as[Switchover](t, a)
		assert.Nil(t, sw.Demote)
		assert.Equal(t, []RPC{{InstanceID: "s2", RaftID: 2, Address: addr(2), Call: api.GetVClock{Fence: true}}}, sw.Survey)
		s.exec(a)
		assert.Equal(t, []string{"s2 .proc_get_vclock", "s2 .proc_replication_promote", "cas: master switchover"}, s.log)
		assert.Equal(t, []api.Request{api.GetVClock{Fence: true}, api.ReplicationPromote{VClock: vclock.VClock{1: 9}}}, s.got["s2"])
		assert.Equal(t, "s2", replicaset(t, s, "r1").CurrentMasterID)
	})
}

func TestFailover(t *testing.T) {
	t.Run("the most of the old master's writes wins over a greater sum", func(t *testing.T) {
		s := newSim(t, trioFailover(), 2, withLearners(voters(2, 3), 1))
		s.unreachable["s1"] = true
		// s3 holds writes of an even older master (raft id 4) that s2
		// never saw — but fewer of s1's, which a quorum may have
		// acknowledged.
		s.vclocks["s2"] = vclock.VClock{1: 7}
		s.vclocks["s3"] = vclock.VClock{1: 5, 4: 9}
		sw := as[Switchover](t, s.plan())
		p, err := sw.AfterSurvey([]any{wireVClock(s.vclocks["s2"]), wireVClock(s.vclocks["s3"])})
		require.NoError(t, err)
		assert.Equal(t, "s2", p.Master)
	})
	t.Run("the greatest vclock is not the target master: it becomes the target, then is promoted", func(t *testing.T) {
		s := newSim(t, trioFailover(), 2, withLearners(voters(2, 3), 1))
		s.unreachable["s1"] = true
		s.vclocks["s2"] = vclock.VClock{1: 5}
		s.vclocks["s3"] = vclock.VClock{1: 7}
		a := s.plan()
		sw := as[Switchover](t, a)
		assert.Nil(t, sw.Demote)
		assert.Equal(t, []string{"s2", "s3"}, rpcTargets(sw.Survey))
		assert.Equal(t, "r1: master s1 -> s2: s1 unreachable, ask vclocks of [s2 s3] (need 1)", a.Detail())
		p, err := sw.AfterSurvey([]any{wireVClock(s.vclocks["s2"]), wireVClock(s.vclocks["s3"])})
		require.NoError(t, err)
		assert.Nil(t, p.Promote, "no promote of a member that is not the target master")
		assert.Equal(t, "s3 has the greatest vclock {1: 7}: it becomes the target master", p.Detail())

		trace := s.run(10)
		assert.Equal(t, []string{
			"master switchover: r1: master s1 -> s2: s1 unreachable, ask vclocks of [s2 s3] (need 1)",
			"master switchover: r1: master s1 -> s3: s1 unreachable, ask vclocks of [s2 s3] (need 1)",
			"replication: r1: master s3, peers [10.0.0.1:3301 10.0.0.2:3301 10.0.0.3:3301]",
			"idle: nothing to do",
		}, trace)
		assert.Equal(t, []string{
			"s2 .proc_get_vclock", "s3 .proc_get_vclock", "cas: master switchover",
			"s2 .proc_get_vclock", "s3 .proc_get_vclock", "s3 .proc_replication_promote", "cas: master switchover",
			"s2 .proc_replication", "s3 .proc_replication", "cas: replication",
		}, s.log)
		assert.Equal(t, api.ReplicationPromote{VClock: vclock.VClock{1: 7}}, s.got["s3"][2])
		rs := replicaset(t, s, "r1")
		assert.Equal(t, "s3", rs.CurrentMasterID)
		assert.Equal(t, "s3", rs.TargetMasterID)
		assert.Equal(t, vclock.VClock{1: 7}, promotionVClock(t, rs))
		assert.Empty(t, s.got["s1"], "nothing is sent to the unreachable old master")
	})

	t.Run("the target master is the greatest: promoted at once with its own vclock", func(t *testing.T) {
		s := newSim(t, trioFailover(), 2, withLearners(voters(2, 3), 1))
		s.unreachable["s1"] = true
		s.vclocks["s2"] = vclock.VClock{1: 8, 2: 1}
		s.vclocks["s3"] = vclock.VClock{1: 8}
		s.step()
		assert.Equal(t, []string{"s2 .proc_get_vclock", "s3 .proc_get_vclock", "s2 .proc_replication_promote",
			"cas: master switchover"}, s.log)
		assert.Equal(t, api.ReplicationPromote{VClock: vclock.VClock{1: 8, 2: 1}}, s.got["s2"][1])
		assert.Equal(t, "s2", replicaset(t, s, "r1").CurrentMasterID)
	})

	t.Run("equal vclocks: the first by name", func(t *testing.T) {
		top := trioFailover().rs("r1", func(r *tables.Replicaset) { r.TargetMasterID = "s3" })
		s := newSim(t, top, 2, withLearners(voters(2, 3), 1))
		s.unreachable["s1"] = true
		s.vclocks["s2"] = vclock.VClock{1: 8}
		s.vclocks["s3"] = vclock.VClock{1: 8}
		sw := as[Switchover](t, s.plan())
		p, err := sw.AfterSurvey([]any{wireVClock(s.vclocks["s3"]), wireVClock(s.vclocks["s2"])}[1:])
		require.Error(t, err, "one answer per RPC")
		p, err = sw.AfterSurvey([]any{wireVClock(s.vclocks["s2"]), wireVClock(s.vclocks["s3"])})
		require.NoError(t, err)
		assert.Equal(t, "s2", p.Master)
		assert.Nil(t, p.Promote)
	})

	t.Run("an old master without an address is unreachable", func(t *testing.T) {
		top := trioFailover()
		delete(top.Addresses, 1)
		s := newSim(t, top, 2, withLearners(voters(2, 3), 1))
		sw := as[Switchover](t, s.plan())
		assert.Nil(t, sw.Demote)
		assert.Equal(t, []string{"s2", "s3"}, rpcTargets(sw.Survey))
	})

	t.Run("no member reachable: the replicaset waits", func(t *testing.T) {
		s := newSim(t, trioFailover(), 2, withLearners(voters(2, 3), 1))
		for _, id := range []string{"s1", "s2", "s3"} {
			s.unreachable[id] = true
		}
		a := s.plan()
		assert.NotEqual(t, StepSwitchover, a.Step(), a.Detail())
		assert.NotEqual(t, StepReplication, a.Step(), a.Detail())
	})
}

func TestFailoverSyncTier(t *testing.T) {
	setup := func(sync bool) *sim {
		s := newSim(t, trioFailover(), 2, withLearners(voters(2, 3), 1))
		s.unreachable["s1"] = true
		s.unreachable["s3"] = true
		s.vclocks["s2"] = vclock.VClock{1: 4}
		s.sync["storage"] = sync
		return s
	}

	t.Run("a minority reachable: it waits", func(t *testing.T) {
		s := setup(true)
		a := s.plan()
		assert.NotEqual(t, StepSwitchover, a.Step(), a.Detail())
		assert.NotEqual(t, StepReplication, a.Step(), a.Detail())
		assert.Equal(t, "s1", replicaset(t, s, "r1").CurrentMasterID)
	})

	t.Run("asynchronous, the same: the one reachable is promoted", func(t *testing.T) {
		s := setup(false)
		sw := as[Switchover](t, s.step())
		assert.Equal(t, 1, sw.Quorum)
		assert.False(t, sw.Sync)
		assert.Equal(t, "s2", replicaset(t, s, "r1").CurrentMasterID)
	})

	t.Run("a majority reachable: the failover goes on", func(t *testing.T) {
		s := setup(true)
		delete(s.unreachable, "s3")
		s.vclocks["s3"] = vclock.VClock{1: 3}
		sw := as[Switchover](t, s.step())
		assert.True(t, sw.Sync)
		assert.Equal(t, 2, sw.Quorum)
		assert.Equal(t, []string{"s2 .proc_get_vclock", "s3 .proc_get_vclock", "s2 .proc_replication_promote",
			"cas: master switchover"}, s.log)

		// An answer missing is fewer than the majority: no promotion.
		_, err := sw.AfterSurvey([]any{wireVClock(vclock.VClock{1: 4}), nil})
		require.ErrorContains(t, err, "1 of 2 members answered their vclock, need 2")
	})

	t.Run("members that never followed a master and hold nothing do not count", func(t *testing.T) {
		// s3 joined while the master was down: empty and below
		// Replicated. With it, a "majority" of two would promote without
		// any member that had the acknowledged writes.
		s := setup(true)
		delete(s.unreachable, "s3")
		sw := as[Switchover](t, s.plan())
		for k, rpc := range sw.Survey {
			if rpc.InstanceID == "s3" {
				sw.followed[k] = false
			}
		}
		answers := make([]any, len(sw.Survey))
		for k, rpc := range sw.Survey {
			answers[k] = wireVClock(s.vclocks[rpc.InstanceID])
		}
		_, err := sw.AfterSurvey(answers)
		require.ErrorContains(t, err, "1 of 2 members answered their vclock, need 2")
	})

	t.Run("expelled members do not count", func(t *testing.T) {
		top := trioFailover().add("s4", 4, "r1", expd(1), expd(1)).add("s5", 5, "r1", expd(1), expd(1))
		s := newSim(t, top, 2, withLearners(voters(2, 3), 1))
		s.unreachable["s1"] = true
		s.sync["storage"] = true
		sw := as[Switchover](t, s.plan())
		assert.Equal(t, 2, sw.Quorum, "a majority of s1, s2, s3")
	})

	t.Run("members that never started do not count", func(t *testing.T) {
		// s4 joined and its process was gone before it asked to come
		// online: no master ever shipped to it or counted its acks.
		top := trioFailover().add("s4", 4, "r1", off(0), off(0)).add("s5", 5, "r1", off(0), off(0))
		s := newSim(t, top, 2, withLearners(voters(2, 3), 1, 4, 5))
		s.unreachable["s1"] = true
		s.sync["storage"] = true
		sw := as[Switchover](t, s.plan())
		assert.Equal(t, 2, sw.Quorum, "a majority of s1, s2, s3")
	})

	t.Run("a planned switchover needs no majority: the old master's vclock covers every write", func(t *testing.T) {
		top := trioFailover().grade("s1", on(1), on(1))
		s := newSim(t, top, 2, voters(1, 2, 3))
		s.unreachable["s3"] = true
		s.sync["storage"] = true
		sw := as[Switchover](t, s.plan())
		assert.NotNil(t, sw.Demote)
	})
}

func TestFirstMaster(t *testing.T) {
	t.Run("a new replicaset: is_master, no demote or promote", func(t *testing.T) {
		s := newSim(t, newTopo().tier("storage", 1, true).add("s1", 1, "r1", off(0), on(1)), 1, voters(1))
		s.run(10)
		assert.Equal(t, []api.Request{api.Replication{IsMaster: true, Peers: []string{addr(1)}},
			api.Sharding{DoReconfigure: true}, api.ShardingBootstrap{}}, s.got["s1"])
	})
	t.Run("no current master: is_master, no demote or promote", func(t *testing.T) {
		top := pair().rs("r1", func(r *tables.Replicaset) { r.CurrentMasterID, r.TargetConfigVersion = "", 2 })
		s := newSim(t, top, 1, voters(1, 2))
		a := s.step()
		require.Equal(t, StepReplication, a.Step())
		assert.Equal(t, []string{"s1 .proc_replication", "s2 .proc_replication", "cas: replication"}, s.log)
		assert.Equal(t, map[string]bool{"s1": true, "s2": false}, s.writable)
		assert.Equal(t, "s1", replicaset(t, s, "r1").CurrentMasterID)
	})
}

func TestVClockFrom(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   any
		want vclock.VClock
		err  string
	}{
		{name: "as msgpack decodes it", in: wireVClock(vclock.VClock{1: 5, 300: 70000}), want: vclock.VClock{1: 5, 300: 70000}},
		{name: "in a result array", in: []any{wireVClock(vclock.VClock{2: 1})}, want: vclock.VClock{2: 1}},
		{name: "map[any]any of mixed types", in: map[any]any{int8(1): uint16(5), uint64(2): int64(7), "3": 1.0},
			want: vclock.VClock{1: 5, 2: 7, 3: 1}},
		{name: "map[uint64]uint64", in: map[uint64]uint64{4: 2, 5: 0}, want: vclock.VClock{4: 2}},
		{name: "a VClock", in: vclock.VClock{1: 1}, want: vclock.VClock{1: 1}},
		{name: "map[string]any (promotion_vclock)", in: map[string]any{"7": uint8(9)}, want: vclock.VClock{7: 9}},
		{name: "nil is empty", in: nil, want: vclock.VClock{}},
		{name: "an empty map", in: map[any]any{}, want: vclock.VClock{}},
		{name: "a negative lsn", in: map[any]any{int8(1): int8(-1)}, err: "vclock: lsn of 1: -1 is negative"},
		{name: "a fractional lsn", in: map[any]any{int8(1): 1.5}, err: "vclock: lsn of 1: 1.5 is not a non-negative integer"},
		{name: "a string lsn", in: map[any]any{int8(1): "2"}, err: "vclock: lsn of 1: a string"},
		{name: "a bad key", in: map[any]any{"x": int8(1)}, err: `vclock: key x: strconv.ParseUint: parsing "x": invalid syntax`},
		{name: "a key twice", in: map[any]any{int8(1): int8(1), "1": int8(2)}, err: "vclock: key 1 appears twice"},
		{name: "several errors: the first in order", in: map[any]any{int8(1): int8(-1), int8(2): int8(-2), int8(3): "z"},
			err: "vclock: lsn of 1: -1 is negative"},
		{name: "two values", in: []any{nil, nil}, err: "vclock: a result of 2 values, want 1"},
		{name: "not a map", in: "x", err: "vclock: a string, want a map"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 10 { // map order must not show
				got, err := VClockFrom(tc.in)
				if tc.err != "" {
					require.EqualError(t, err, tc.err)
					continue
				}
				require.NoError(t, err)
				require.Equal(t, tc.want, got)
			}
		})
	}
	t.Run("a copy", func(t *testing.T) {
		in := vclock.VClock{1: 1}
		got, err := VClockFrom(in)
		require.NoError(t, err)
		got[1] = 2
		assert.Equal(t, uint64(1), in[1])
	})
}

// A synchronous failover may promote a member that never followed a master
// and holds nothing only when the old master is expelled: what only it had,
// the operator gave up; otherwise the replicaset waits for a member that
// has the acknowledged writes.
func TestFailoverAwayFromAnExpelledMaster(t *testing.T) {
	survey := func(gone bool) (Promotion, error) {
		sw := Switchover{Replicaset: "r1", From: "s1", To: "s3", Sync: true, Quorum: 1,
			Survey: []RPC{{InstanceID: "s3", RaftID: 3, Call: api.GetVClock{Fence: true}}}, followed: []bool{false},
			fromRaftID: 1, fromGone: gone,
			rs: tables.Replicaset{ReplicasetID: "r1", CurrentMasterID: "s1", TargetMasterID: "s3"}}
		return sw.AfterSurvey([]any{wireVClock(vclock.VClock{})})
	}
	_, err := survey(false)
	require.ErrorContains(t, err, "0 of 1 members answered their vclock")
	p, err := survey(true)
	require.NoError(t, err)
	assert.Equal(t, "s3", p.Master)
	assert.NotNil(t, p.Promote)
}

// A replicaset's first instance is its master from the join on; if it never
// started (a join retried under a new name leaves such a row behind), it
// wrote nothing: it is not demoted — its address may be the new name's, and
// the demote would act on that process — and the member that did start is
// promoted even empty, in a synchronous tier too.
func TestFailoverAwayFromAMasterThatNeverStarted(t *testing.T) {
	top := newTopo().tier("storage", 2, true).
		add("s1", 1, "r1", on(1), on(1)).
		add("ghost", 2, "r2", off(0), off(0)).
		add("s3", 3, "r1", on(1), on(1)).
		add("s4", 4, "r2", rep(1), on(1)).settled().
		rs("r2", func(r *tables.Replicaset) { r.TargetMasterID, r.TargetConfigVersion = "s4", 2 })
	top.Addresses[2] = addr(3) // the process that was to be "ghost" joined again as s3
	s := newSim(t, top, 1, withLearners(voters(1, 3), 2, 4))
	s.sync["storage"] = true
	sw := as[Switchover](t, s.plan())
	assert.Nil(t, sw.Demote)
	assert.Equal(t, []RPC{{InstanceID: "s4", RaftID: 4, Address: addr(4), Call: api.GetVClock{Fence: true}}}, sw.Survey)
	assert.Equal(t, 1, sw.Quorum)
	s.exec(sw)
	assert.Equal(t, []string{"s4 .proc_get_vclock", "s4 .proc_replication_promote", "cas: master switchover"}, s.log)
	assert.Empty(t, s.got["s3"], "nothing reached the process at the ghost's address")
	assert.Equal(t, "s4", replicaset(t, s, "r2").CurrentMasterID)
}

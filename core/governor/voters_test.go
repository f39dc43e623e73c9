package governor

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/tables"
)

// storage is a one-tier topology ("storage", RF 1, voting) with one
// replicaset per instance: the instances s1..sN with raft ids 1..N, each
// Online(1)/Online(1) unless grades say otherwise, in failure domains fds
// (if given).
func storage(n int, fds ...string) *topo {
	t := newTopo().tier("storage", 1, true)
	for k := 1; k <= n; k++ {
		var fd []string
		if k <= len(fds) && fds[k-1] != "" {
			fd = splitFD(fds[k-1])
		}
		id := "s" + string(rune('0'+k))
		t.add(id, uint64(k), "r"+string(rune('0'+k)), on(1), on(1), fd...)
	}
	return t.settled()
}

func splitFD(s string) []string {
	var out []string
	start := 0
	for k := 0; k <= len(s); k++ {
		if k == len(s) || s[k] == ',' {
			out = append(out, s[start:k])
			start = k + 1
		}
	}
	return out
}

// grade sets an instance's grades.
func (t *topo) grade(id string, cur, tgt tables.Grade) *topo {
	for k := range t.Instances {
		if t.Instances[k].InstanceID == id {
			t.Instances[k].Current, t.Instances[k].Target = cur, tgt
		}
	}
	return t
}

func TestTransferLeadership(t *testing.T) {
	for _, tc := range []struct {
		name        string
		top         *topo
		conf        raft.ConfState
		unreachable []string
		want        uint64 // 0: no transfer
		wantStep    string
	}{
		{name: "leader going Offline hands over to the first Online voter",
			top:  storage(3).grade("s1", on(1), off(1)),
			conf: voters(1, 2, 3), want: 2},
		{name: "leader being expelled hands over too",
			top:  storage(3).grade("s1", on(1), expd(1)),
			conf: voters(1, 2, 3), want: 2},
		{name: "an unreachable voter is passed over",
			top:  storage(3).grade("s1", on(1), off(1)),
			conf: voters(1, 2, 3), unreachable: []string{"s2"}, want: 3},
		{name: "a voter not current Online is passed over",
			top:  storage(3).grade("s1", on(1), off(1)).grade("s2", rep(2), on(2)),
			conf: voters(1, 2, 3), want: 3},
		{name: "a voter itself going Offline is passed over",
			top:  storage(3).grade("s1", on(1), off(1)).grade("s2", on(1), off(1)),
			conf: voters(1, 2, 3), want: 3},
		{name: "a learner is never handed leadership: step 2 promotes it first",
			top:  storage(2).grade("s1", on(1), off(1)),
			conf: withLearners(voters(1), 2), wantStep: StepConfChange},
		{name: "nobody to hand over to: the leader goes Offline itself (step 3)",
			top:  storage(1).grade("s1", on(1), off(1)),
			conf: voters(1), wantStep: StepOffline},
		{name: "a leader bound for Online stays",
			top:  storage(3),
			conf: voters(1, 2, 3), wantStep: StepIdle},
	} {
		t.Run(tc.name, func(t *testing.T) {
			un := map[string]bool{}
			for _, id := range tc.unreachable {
				un[id] = true
			}
			a := Plan(Input{Self: 1, Topology: tc.top.Topology, Conf: tc.conf, Unreachable: un})
			if tc.want != 0 {
				assert.Equal(t, tc.want, as[TransferLeadership](t, a).ToRaftID)
				return
			}
			assert.Equal(t, tc.wantStep, a.Step(), a.Detail())
		})
	}
}

func TestVoters(t *testing.T) {
	type want struct {
		voters, learners []uint64
	}
	for _, tc := range []struct {
		name        string
		top         *topo
		self        uint64
		conf        raft.ConfState
		unreachable []string
		want        *want  // the configuration after the conf change; nil: no conf change
		wantStep    string // the step planned instead (when want is nil)
	}{
		{name: "a sole voter: nothing to change",
			top: storage(1), conf: voters(1), wantStep: StepIdle},
		{name: "a newcomer becomes a learner",
			top:  storage(2).grade("s2", off(0), off(0)),
			conf: voters(1), want: &want{voters: []uint64{1}, learners: []uint64{2}}},
		{name: "an Offline learner is not promoted",
			top:  storage(2).grade("s2", off(1), off(1)),
			conf: withLearners(voters(1), 2), wantStep: StepIdle},
		{name: "two Online: both vote",
			top:  storage(2),
			conf: withLearners(voters(1), 2), want: &want{voters: []uint64{1, 2}}},
		{name: "three Online: three voters",
			top:  storage(3),
			conf: withLearners(voters(1, 2), 3), want: &want{voters: []uint64{1, 2, 3}}},
		{name: "four Online: still three",
			top:  storage(4),
			conf: withLearners(voters(1, 2, 3), 4), wantStep: StepIdle},
		{name: "five Online: five voters (joint: two change)",
			top:  storage(5),
			conf: withLearners(voters(1, 2, 3), 4, 5), want: &want{voters: []uint64{1, 2, 3, 4, 5}}},
		{name: "seven Online: five voters, two learners",
			top:  storage(7),
			conf: withLearners(voters(1), 2, 3, 4, 5, 6, 7),
			want: &want{voters: []uint64{1, 2, 3, 4, 5}, learners: []uint64{6, 7}}},
		{name: "3 DCs x 2, four Online: three voters, one per DC",
			top: storage(6, "DC=A", "DC=A", "DC=B", "DC=B", "DC=C", "DC=C").
				grade("s4", off(1), off(1)).grade("s6", off(1), off(1)),
			conf: withLearners(voters(1), 2, 3, 4, 5, 6),
			want: &want{voters: []uint64{1, 3, 5}, learners: []uint64{2, 4, 6}}},
		{name: "3 DCs x 2, all Online: five voters, at most two per DC",
			top:  storage(6, "DC=A", "DC=A", "DC=B", "DC=B", "DC=C", "DC=C"),
			conf: withLearners(voters(1), 2, 3, 4, 5, 6),
			want: &want{voters: []uint64{1, 2, 3, 4, 5}, learners: []uint64{6}}},
		{name: "3 DCs, voters spread though raft ids cluster in one DC",
			top:  storage(5, "DC=A", "DC=A", "DC=A", "DC=B", "DC=C"),
			conf: withLearners(voters(1), 2, 3, 4, 5),
			want: &want{voters: []uint64{1, 2, 3, 4, 5}}},
		{name: "two keys: the farthest first, then ties by raft id",
			top:  storage(4, "DC=A,RACK=1", "DC=A,RACK=2", "DC=B,RACK=1", "DC=B,RACK=2"),
			conf: withLearners(voters(1), 2, 3, 4),
			want: &want{voters: []uint64{1, 2, 4}, learners: []uint64{3}}},
		{name: "a key only one side has counts as a difference",
			top:  storage(4, "DC=A", "DC=A", "DC=A,ZONE=X", "DC=A"),
			conf: withLearners(voters(1), 2, 3, 4),
			want: &want{voters: []uint64{1, 2, 3}, learners: []uint64{4}}},
		{name: "a voter is swapped for a farther candidate",
			top:  storage(4, "DC=A", "DC=A", "DC=A", "DC=B"),
			conf: withLearners(voters(1, 2, 3), 4),
			want: &want{voters: []uint64{1, 2, 4}, learners: []uint64{3}}},
		{name: "no swap that does not spread the voters further",
			top:  storage(4, "DC=A", "DC=B", "DC=C", "DC=A"),
			conf: withLearners(voters(1, 2, 3), 4), wantStep: StepIdle},
		{name: "an Offline voter is demoted and replaced",
			top:  storage(4).grade("s3", off(1), off(1)),
			conf: withLearners(voters(1, 2, 3), 4),
			want: &want{voters: []uint64{1, 2, 4}, learners: []uint64{3}}},
		{name: "an Offline voter with no replacement is demoted: two voters",
			top:  storage(3).grade("s3", off(1), off(1)),
			conf: voters(1, 2, 3),
			want: &want{voters: []uint64{1, 2}, learners: []uint64{3}}},
		{name: "an Offline voter is replaced by the farthest candidate",
			top: storage(5, "DC=A", "DC=B", "DC=C", "DC=B", "DC=C").
				grade("s3", off(1), off(1)),
			conf: withLearners(voters(1, 2, 3), 4, 5),
			want: &want{voters: []uint64{1, 2, 5}, learners: []uint64{3, 4}}},
		{name: "a voter being expelled becomes a learner",
			top:  storage(4).grade("s3", on(1), expd(1)),
			conf: withLearners(voters(1, 2, 3), 4),
			want: &want{voters: []uint64{1, 2, 4}, learners: []uint64{3}}},
		{name: "an expelled voter is removed",
			top:  storage(4).grade("s3", expd(1), expd(1)),
			conf: withLearners(voters(1, 2, 3), 4),
			want: &want{voters: []uint64{1, 2, 4}}},
		{name: "an expelled learner is removed",
			top:  storage(4).grade("s4", expd(1), expd(1)),
			conf: withLearners(voters(1, 2, 3), 4),
			want: &want{voters: []uint64{1, 2, 3}}},
		{name: "an expelled instance out of the configuration stays out",
			top:  storage(4).grade("s4", expd(1), expd(1)),
			conf: voters(1, 2, 3), wantStep: StepIdle},
		{name: "too many voters: trimmed to three, the leader kept",
			top:  storage(5).grade("s5", off(1), off(1)),
			self: 4, conf: voters(1, 2, 3, 4, 5),
			want: &want{voters: []uint64{1, 2, 4}, learners: []uint64{3, 5}}},
		{name: "a non-voting tier never gets voters",
			top: func() *topo {
				t := storage(1).tier("router", 1, false)
				for k := 2; k <= 6; k++ {
					t.add("r"+string(rune('0'+k)), uint64(k), "rr"+string(rune('0'+k)), on(1), on(1))
				}
				return t.settled()
			}(),
			conf: withLearners(voters(1), 2, 3, 4, 5, 6), wantStep: StepIdle},
		{name: "a voter of a non-voting tier is demoted",
			top: func() *topo {
				t := storage(3).tier("router", 1, false)
				return t.add("r4", 4, "rr4", on(1), on(1)).settled()
			}(),
			conf: voters(1, 2, 3, 4),
			want: &want{voters: []uint64{1, 2, 3}, learners: []uint64{4}}},
		{name: "an unreachable candidate is not promoted",
			top:  storage(3),
			conf: withLearners(voters(1), 2, 3), unreachable: []string{"s2"},
			want: &want{voters: []uint64{1, 3}, learners: []uint64{2}}},
		{name: "an unreachable voter keeps its seat",
			top:  storage(3),
			conf: voters(1, 2, 3), unreachable: []string{"s2"}, wantStep: StepIdle},
		{name: "a voter climbing again after a restart keeps its seat",
			top:  storage(3).grade("s2", rep(2), on(2)).grade("s3", shi(2), on(2)),
			conf: voters(1, 2, 3), wantStep: StepSharding},
		{name: "an instance going Offline is not promoted",
			top:  storage(3).grade("s3", on(1), off(1)),
			conf: withLearners(voters(1, 2), 3), wantStep: StepOffline},
		{name: "joint configuration: no conf change, step 3 instead",
			top:      storage(4).grade("s4", on(1), off(1)),
			conf:     raft.ConfState{Voters: []uint64{1, 2, 3}, VotersOutgoing: []uint64{1}, Learners: []uint64{4}, AutoLeave: true},
			wantStep: StepOffline},
		{name: "the leader is never demoted by step 2, even current Offline",
			top:  storage(3).grade("s1", off(1), on(2)),
			conf: voters(1, 2, 3), wantStep: StepReplication},
		{name: "a leader that is not eligible does not take a seat",
			top:  storage(3).grade("s1", off(1), on(2)),
			conf: withLearners(voters(1, 2), 3),
			want: &want{voters: []uint64{1, 2, 3}}},
		{name: "a leader without a voter to hand over to gets one",
			top:  storage(2).grade("s1", off(1), off(1)),
			conf: withLearners(voters(1), 2),
			want: &want{voters: []uint64{1, 2}}},
		{name: "an expelled leader stays a voter until it hands over",
			top:  storage(2).grade("s1", on(1), expd(1)),
			conf: withLearners(voters(1), 2),
			want: &want{voters: []uint64{1, 2}}},
		{name: "a leader of a non-voting tier stays a voter",
			top: func() *topo {
				t := newTopo().tier("router", 1, false).add("x1", 1, "rx1", on(1), on(1))
				t.tier("storage", 1, true).add("s2", 2, "r2", on(1), on(1))
				return t.settled()
			}(),
			conf: withLearners(voters(1), 2),
			want: &want{voters: []uint64{1, 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			un := map[string]bool{}
			for _, id := range tc.unreachable {
				un[id] = true
			}
			self := tc.self
			if self == 0 {
				self = 1
			}
			in := Input{Self: self, Topology: tc.top.Topology, Conf: tc.conf, Unreachable: un}
			a := Plan(in)
			if tc.want == nil {
				require.Equal(t, tc.wantStep, a.Step(), a.Detail())
				return
			}
			cc := as[ConfChange](t, a)
			assert.Equal(t, raft.TransitionAuto, cc.Change.Transition)
			cs, err := applyConf(tc.conf, cc.Change)
			require.NoError(t, err)
			cs = raft.ConfState{Voters: cs.Voters, Learners: union(cs.Learners, cs.LearnersNext)}
			assert.Equal(t, tc.want.voters, cs.Voters, a.Detail())
			assert.Equal(t, tc.want.learners, cs.Learners, a.Detail())
			// Applied, the rule is satisfied: no further conf change.
			in.Conf = cs
			assert.NotEqual(t, StepConfChange, Plan(in).Step(), "not a fixpoint")
		})
	}
}

// TestVotersAsInstancesComeOnline: 1 → 2 → 3 → 3 → 5 voters as instances
// join and come Online one by one, in 3 DCs.
func TestVotersAsInstancesComeOnline(t *testing.T) {
	s := newSim(t, newTopo().tier("storage", 1, true).add("s1", 1, "r1", off(0), on(1), "DC=A"), 1, voters(1))
	s.run(50)
	require.Equal(t, on(1), s.instance("s1").Current)
	dcs := []string{"", "A", "A", "B", "B", "C", "C"}
	wantVoters := [][]uint64{2: {1, 2}, 3: {1, 2, 3}, 4: {1, 2, 3}, 5: {1, 2, 3, 4, 5}, 6: {1, 2, 3, 4, 5}}
	for k := 2; k <= 6; k++ {
		id := "s" + string(rune('0'+k))
		s.join(id, uint64(k), "r"+string(rune('0'+k)), "storage", "DC="+dcs[k])
		s.run(50)
		assert.Contains(t, s.conf.Learners, uint64(k), "a newcomer is a learner")
		s.goOnline(id)
		s.run(80) // the rebalancing moves buckets to the newcomer too
		assert.Equal(t, on(1), s.instance(id).Current)
		assert.Equal(t, wantVoters[k], s.conf.Voters, "with %d Online", k)
	}
	assert.Equal(t, []uint64{6}, s.conf.Learners)
}

// TestVotersAreSwappedForSpread: instances come Online one at a time, so
// the first voters are two in DC A; once DC C has an Online instance, one
// of them is swapped for it (one swap, a joint change), and no more.
func TestVotersAreSwappedForSpread(t *testing.T) {
	top := newTopo().tier("storage", 1, true).
		add("s1", 1, "r1", off(0), on(1), "DC=A").
		add("s2", 2, "r2", off(0), on(1), "DC=A").
		add("s3", 3, "r3", off(0), on(1), "DC=B").
		add("s4", 4, "r4", off(0), off(0), "DC=B").
		add("s5", 5, "r5", off(0), on(1), "DC=C").
		add("s6", 6, "r6", off(0), off(0), "DC=C")
	s := newSim(t, top, 1, voters(1))
	trace := s.run(100)
	assert.Equal(t, []uint64{1, 3, 5}, s.conf.Voters, "%v", trace)
	assert.Equal(t, []uint64{2, 4, 6}, s.conf.Learners)
}

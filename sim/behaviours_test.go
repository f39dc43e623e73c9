package sim

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/workload"
	"slices"
	"testing"
	"time"

	"github.com/picogo/picogo/core/node"
	"github.com/picogo/picogo/core/tables"
	"github.com/stretchr/testify/require"
)

// Picodata's lifecycle behaviours (notes/picodata.md, "Behaviours"), each
// on a simulated cluster: real nodes over the simulated network and disks,
// with the simulator's invariants checked after every event. On failure the
// test prints the cluster's trace.

const settle = 10 * time.Second

// newTestCluster is a scripted cluster whose trace is printed if the test
// fails.
func newTestCluster(t *testing.T, tiers ...tables.Tier) *Cluster {
	t.Helper()
	var trace bytes.Buffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("trace:\n%s", trace.String())
		}
	})
	return NewCluster(ClusterOptions{Seed: 1, Tiers: tiers, Trace: &trace})
}

func storageTier(rf uint64) tables.Tier {
	return tables.Tier{Name: "storage", ReplicationFactor: rf, CanVote: true, BucketCount: tables.DefaultBucketCount}
}

// startN starts n instances with the same peer list and waits for the
// cluster to settle.
func startN(t *testing.T, c *Cluster, n int, spec func(i int) Spec) []*Member {
	t.Helper()
	var peers []string
	for i := range n {
		peers = append(peers, addrOf(len(c.w.instances)+i+1))
	}
	var ms []*Member
	for i := range n {
		s := Spec{}
		if spec != nil {
			s = spec(i)
		}
		s.Peers = peers
		ms = append(ms, c.Start(s))
	}
	require.NoError(t, c.Settle(settle))
	return ms
}

func addrOf(id int) string { return fmt.Sprintf("i%d", id) }

func row(t *testing.T, m *Member) tables.Instance {
	t.Helper()
	r, ok := m.Row()
	require.True(t, ok, "%s has no row", m.Addr())
	return r
}

func TestThreeInstancesDiscoverBootAndGoOnline(t *testing.T) {
	c := newTestCluster(t)
	ms := startN(t, c, 3, nil)
	ids := map[uint64]bool{}
	for _, m := range ms {
		r := row(t, m)
		require.Equal(t, tables.Grade{Variant: tables.GradeOnline, Incarnation: 1}, r.Current)
		ids[r.RaftID] = true
	}
	require.Equal(t, map[uint64]bool{1: true, 2: true, 3: true}, ids)
	require.Len(t, c.Conf().Voters, 3)
}

func TestJoinThroughAFollower(t *testing.T) {
	c := newTestCluster(t)
	ms := startN(t, c, 3, nil)
	var follower *Member
	for _, m := range ms {
		if m.Node().Status().ID != c.Leader().Node().Status().ID {
			follower = m
		}
	}
	late := c.Start(Spec{Peers: []string{follower.Addr()}})
	require.NoError(t, c.Settle(settle))
	require.Equal(t, uint64(4), row(t, late).RaftID)
	require.Equal(t, tables.GradeOnline, row(t, late).Current.Variant)
}

func TestJoinsFollowALeaderThatMoved(t *testing.T) {
	c := newTestCluster(t)
	ms := startN(t, c, 3, nil)
	old := c.Leader()
	old.Kill()
	require.NoError(t, c.Until("a new leader", settle, func() bool { return c.Leader() != nil }))
	// The newcomer names only the old leader and one other: the dead one
	// does not answer, the other forwards to whoever leads now.
	var other *Member
	for _, m := range ms {
		if m.Addr() != old.Addr() {
			other = m
		}
	}
	late := c.Start(Spec{Peers: []string{old.Addr(), other.Addr()}})
	require.NoError(t, c.Until("the newcomer Online", settle, func() bool {
		r, ok := late.Row()
		return ok && r.Current.Variant == tables.GradeOnline
	}))
}

func TestReplicationFactorShapesReplicasets(t *testing.T) {
	for _, tc := range []struct {
		rf   uint64
		want map[string]int
	}{
		{rf: 2, want: map[string]int{"storage_1": 2, "storage_2": 1}},
		{rf: 1, want: map[string]int{"storage_1": 1, "storage_2": 1, "storage_3": 1}},
	} {
		c := newTestCluster(t, storageTier(tc.rf))
		startN(t, c, 3, nil)
		got := map[string]int{}
		for _, i := range c.Topology().Instances {
			got[i.ReplicasetID]++
		}
		require.Equal(t, tc.want, got, "replication factor %d", tc.rf)
	}
}

func TestAWrongClusterIDIsRefused(t *testing.T) {
	c := newTestCluster(t)
	ms := startN(t, c, 1, nil)
	_, err := c.Call(ms[0], api.RaftJoin{ClusterID: "other", Address: "x", Tier: "storage"})
	require.NotNil(t, err)
	require.Equal(t, api.CodeJoinRefused, err.Code)
	require.Contains(t, err.Message, "cluster_id mismatch")

	stranger := c.Start(Spec{ClusterID: "other", Peers: []string{ms[0].Addr()}})
	require.NoError(t, c.Until("the stranger's join refused", settle, func() bool { return stranger.Fatal() != nil }))
	require.ErrorContains(t, stranger.Fatal(), "cluster_id mismatch")
	require.False(t, stranger.Up())
}

// ---------------------------------------------------------------------------
// Helpers for the behaviours below.

// zone is a failure domain with one key, as the tests give it.
func zone(z string) map[string]string { return map[string]string{"zone": z} }

// untilRow runs until m's row, as the leader has it, satisfies cond.
func untilRow(t *testing.T, c *Cluster, m *Member, what string, limit time.Duration, cond func(tables.Instance) bool) {
	t.Helper()
	require.NoError(t, c.Until(m.Addr()+": "+what, limit, func() bool {
		r, ok := m.Row()
		return ok && cond(r)
	}))
}

// grade is a grade as rows hold it.
func grade(variant string, incarnation uint64) tables.Grade {
	return tables.Grade{Variant: variant, Incarnation: incarnation}
}

// sorted is the raft ids, in order (nil for none).
func sorted(ids []uint64) []uint64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// raftIDs is the members' raft ids, in order.
func raftIDs(ms ...*Member) []uint64 {
	var out []uint64
	for _, m := range ms {
		out = append(out, m.RaftID())
	}
	return sorted(out)
}

// others is ms without the member that has raft id id.
func others(ms []*Member, id uint64) []*Member {
	var out []*Member
	for _, m := range ms {
		if m.RaftID() != id {
			out = append(out, m)
		}
	}
	return out
}

// byID is the member of ms with raft id id.
func byID(t *testing.T, ms []*Member, id uint64) *Member {
	t.Helper()
	for _, m := range ms {
		if m.RaftID() == id {
			return m
		}
	}
	require.Failf(t, "no member", "raft id %d", id)
	return nil
}

// coversAllBuckets checks that a bucket map covers buckets 1..count once,
// in contiguous ranges.
func coversAllBuckets(t *testing.T, bs []node.BucketRange, count uint64) {
	t.Helper()
	next := uint64(1)
	for _, b := range bs {
		require.Equal(t, next, b.First, "bucket map %v", bs)
		require.GreaterOrEqual(t, b.Last, b.First, "bucket map %v", bs)
		next = b.Last + 1
	}
	require.Equal(t, count+1, next, "bucket map %v", bs)
}

// writeThroughCas creates the kv table (two-phase DDL) and inserts one row through
// `.proc_cas` on the leader, as an application would; then reads the row
// back from the leader's tables.
func writeThroughCas(t *testing.T, c *Cluster, key, value string) {
	t.Helper()
	require.NoError(t, c.Until("a leader that applied an entry of its term", settle, func() bool {
		l := c.Leader()
		if l == nil {
			return false
		}
		st := l.Node().Status()
		term, ok := l.Node().Term(st.Applied)
		return ok && term == st.Term
	}))
	l := c.Leader()
	pred := func() api.Predicate {
		st := l.Node().Status()
		return api.Predicate{Index: st.Applied, Term: st.Term}
	}
	if _, ok := l.Node().Tables().Table(workload.Table); !ok {
		_, err := c.Call(l, api.Cas{ClusterID: clusterID, Predicate: pred(), Op: tables.PrepareCreateTableOp(workload.Def, 0), AsUser: tables.AdminID})
		require.Nil(t, err, "ddl_prepare through .proc_cas on %s", l.Addr())
	}
	require.NoError(t, c.Until("the kv table committed", settle, func() bool {
		def, ok := l.Node().Tables().Table(workload.Table)
		return ok && def.Operable
	}))
	_, err := c.Call(l, api.Cas{ClusterID: clusterID, Predicate: pred(),
		Op: tables.DmlOp(tables.Insert(workload.Table, key, value)), AsUser: tables.AdminID})
	require.Nil(t, err, "insert through .proc_cas on %s", l.Addr())
	row, ok, gerr := l.Node().Tables().Get(workload.Table, []any{key})
	require.NoError(t, gerr)
	require.True(t, ok, "the row %s is in the leader's tables", key)
	require.Equal(t, []any{key, value}, row.Values())
}

// ---------------------------------------------------------------------------
// Failure domains.

// Picodata: a join whose failure domain lacks a key the cluster's
// instances use is refused ("missing failure domain names: ZONE"); the
// newcomer's process stops.
func TestAJoinMissingAFailureDomainKeyIsRefused(t *testing.T) {
	c := newTestCluster(t)
	startN(t, c, 2, func(i int) Spec { return Spec{FailureDomain: zone(fmt.Sprint("z", i+1))} })

	_, err := c.Call(c.Leader(), api.RaftJoin{ClusterID: clusterID, Address: "x", Tier: "storage"})
	require.NotNil(t, err)
	require.Equal(t, api.CodeJoinRefused, err.Code)
	require.Contains(t, err.Message, "missing failure domain names: ZONE")

	newcomer := c.Start(Spec{})
	require.NoError(t, c.Until("the newcomer's join refused", settle, func() bool { return newcomer.Fatal() != nil }))
	require.ErrorContains(t, newcomer.Fatal(), "missing failure domain names: ZONE")
	require.False(t, newcomer.Up())
	require.Equal(t, uint64(0), newcomer.RaftID())
	require.NoError(t, c.Settle(settle))
	require.Len(t, c.Topology().Instances, 2, "no row for the refused instance")
}

// Picodata: automatic placement never puts two instances whose failure
// domains intersect (share a key=value) into one replicaset. RF 2 and
// zones z1, z1, z2, z2: each replicaset gets one instance of each zone.
func TestOverlappingFailureDomainsNeverShareAReplicaset(t *testing.T) {
	c := newTestCluster(t, storageTier(2))
	zones := []string{"z1", "z1", "z2", "z2"}
	startN(t, c, 4, func(i int) Spec { return Spec{FailureDomain: zone(zones[i])} })

	got := map[string][]string{}
	for _, i := range c.Topology().Instances {
		got[i.ReplicasetID] = append(got[i.ReplicasetID], i.FailureDomain["ZONE"])
	}
	for _, zs := range got {
		slices.Sort(zs)
	}
	require.Equal(t, map[string][]string{"storage_1": {"Z1", "Z2"}, "storage_2": {"Z1", "Z2"}}, got)
}

// ---------------------------------------------------------------------------
// Names and uuids.

// Picodata: joining under the name of a live instance is refused ("... is
// already joined"); the newcomer's process stops.
func TestReusingALiveInstanceNameIsRefused(t *testing.T) {
	c := newTestCluster(t)
	ms := startN(t, c, 2, nil)
	name := row(t, ms[1]).InstanceID
	require.Equal(t, "storage_2_1", name)

	_, err := c.Call(ms[0], api.RaftJoin{ClusterID: clusterID, InstanceID: name, Address: "x", Tier: "storage"})
	require.NotNil(t, err)
	require.Equal(t, api.CodeJoinRefused, err.Code)
	require.Contains(t, err.Message, `"storage_2_1" is already joined`)

	dup := c.Start(Spec{InstanceID: name})
	require.NoError(t, c.Until("the duplicate's join refused", settle, func() bool { return dup.Fatal() != nil }))
	require.ErrorContains(t, dup.Fatal(), `"storage_2_1" is already joined`)
	require.False(t, dup.Up())
	require.NoError(t, c.Settle(settle))
	require.Len(t, c.Topology().Instances, 2)
	require.Equal(t, uint64(2), row(t, ms[1]).RaftID, "the live instance keeps its row")
}

// Picodata: a join repeated with the instance uuid the first one used (a
// retry whose answer was lost) is idempotent: the same row, the same raft
// id, nothing new written.
func TestARepeatedJoinWithTheSameUUIDIsIdempotent(t *testing.T) {
	c := newTestCluster(t)
	ms := startN(t, c, 1, nil)
	const uuid = "6f1c6c2e-1111-4222-8333-444455556666"
	join := api.RaftJoin{ClusterID: clusterID, Address: "x1", Tier: "storage", InstanceUUID: uuid}

	first, err := c.Call(ms[0], join)
	require.Nil(t, err)
	res := first.(api.JoinResult)
	require.Equal(t, uint64(2), res.Instance.RaftID)
	require.Equal(t, uuid, res.Instance.InstanceUUID)
	require.Equal(t, "storage_2_1", res.Instance.InstanceID)
	c.Run(time.Second)
	applied := c.Leader().Node().Status().Applied

	again, err := c.Call(ms[0], join)
	require.Nil(t, err)
	require.Equal(t, res.Instance, again.(api.JoinResult).Instance)
	c.Run(time.Second)
	top := c.Topology()
	require.Len(t, top.Instances, 2, "no new row")
	i, ok := top.Instance("storage_2_1")
	require.True(t, ok)
	require.Equal(t, uint64(2), i.RaftID)
	require.Equal(t, uuid, i.InstanceUUID)
	require.Equal(t, applied, c.Leader().Node().Status().Applied, "the repeated join wrote nothing")
	require.NoError(t, c.Failure())
}

// ---------------------------------------------------------------------------
// Voters.

// Picodata: an instance of a tier with can_vote (raft_voter) false is never
// a voter, only a learner — also when it is the first in the peer list.
func TestATierThatCannotVoteNeverGetsAVoter(t *testing.T) {
	router := tables.Tier{Name: "router", ReplicationFactor: 1, CanVote: false, BucketCount: tables.DefaultBucketCount}
	for _, tc := range []struct {
		name      string
		storageAt int // which of the five is the storage instance
	}{
		{name: "storage first", storageAt: 0},
		// The routers have the smaller addresses: discovery passes them
		// over (they cannot be the first voter).
		{name: "storage last", storageAt: 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestCluster(t, storageTier(1), router)
			ms := startN(t, c, 5, func(i int) Spec {
				if i == tc.storageAt {
					return Spec{Tier: "storage"}
				}
				return Spec{Tier: "router"}
			})
			storage := ms[tc.storageAt]
			var routers []*Member
			for i, m := range ms {
				if i != tc.storageAt {
					routers = append(routers, m)
					require.Equal(t, "router", row(t, m).Tier)
				}
			}
			cs := c.Conf()
			require.Equal(t, []uint64{storage.RaftID()}, sorted(cs.Voters))
			require.Equal(t, raftIDs(routers...), sorted(cs.Learners))
		})
	}
}

// Picodata: 5 voters once at least 5 instances of voting tiers are
// Online, 3 with 3 or 4, all of them below; chosen to spread over failure
// domains; a voter that goes Offline is replaced by a learner.
func TestVotersFollowTheOneThreeFiveRuleAndSpreadOverFailureDomains(t *testing.T) {
	c := newTestCluster(t)
	// Zones: a, a, b, c. Three voters of four: one in each zone.
	zones := []string{"a", "a", "b", "c"}
	ms := startN(t, c, 4, func(i int) Spec { return Spec{FailureDomain: zone(zones[i])} })
	cs := c.Conf()
	require.Len(t, cs.Voters, 3)
	require.Len(t, cs.Learners, 1)
	voterZones := map[string]bool{}
	for _, id := range cs.Voters {
		voterZones[row(t, byID(t, ms, id)).FailureDomain["ZONE"]] = true
	}
	require.Equal(t, map[string]bool{"A": true, "B": true, "C": true}, voterZones, "voters %v", cs.Voters)

	// A fifth: five voters.
	ms = append(ms, c.Start(Spec{FailureDomain: zone("b")}))
	require.NoError(t, c.Settle(settle))
	require.Equal(t, []uint64{1, 2, 3, 4, 5}, sorted(c.Conf().Voters))
	require.Empty(t, c.Conf().Learners)

	// A sixth: still five, the sixth a learner.
	sixth := c.Start(Spec{FailureDomain: zone("c")})
	ms = append(ms, sixth)
	require.NoError(t, c.Settle(settle))
	require.Equal(t, []uint64{1, 2, 3, 4, 5}, sorted(c.Conf().Voters))
	require.Equal(t, []uint64{6}, sorted(c.Conf().Learners))

	// A voter (not the leader) stops: the learner takes its seat.
	leader := c.Leader()
	var gone *Member
	for _, m := range ms[:5] {
		if m.RaftID() != leader.RaftID() {
			gone = m
			break
		}
	}
	gone.Shutdown()
	require.NoError(t, c.Until("the stopped voter exits", settle, func() bool { return !gone.Up() }))
	require.NoError(t, c.Settle(settle))
	require.Equal(t, grade(tables.GradeOffline, 1), row(t, gone).Current)
	want := sorted(append(raftIDs(others(ms[:5], gone.RaftID())...), sixth.RaftID()))
	require.Equal(t, want, sorted(c.Conf().Voters))
	require.Equal(t, []uint64{gone.RaftID()}, sorted(c.Conf().Learners))
}

// ---------------------------------------------------------------------------
// Expel.

// drain drains m's replicaset (weight 0) and waits until the governor has
// moved all its buckets away: picogo refuses to expel the last instance of
// a replicaset that still holds buckets.
func drain(t *testing.T, c *Cluster, m *Member) {
	t.Helper()
	rs := row(t, m).ReplicasetID
	require.NoError(t, c.Until("the weight set", settle, func() bool {
		_, err := c.Call(c.Leader(), api.ReplicasetWeight{ClusterID: clusterID, ReplicasetID: rs, Weight: 0})
		return err == nil
	}))
	require.NoError(t, c.Until("replicaset "+rs+" drained", settle, func() bool {
		return !slices.ContainsFunc(c.Topology().Buckets, func(b tables.BucketRange) bool {
			return b.ReplicasetID == rs || b.Destination == rs || b.Garbage == rs
		})
	}))
}

// Picodata: expelling a follower makes it Expelled/Expelled, takes it out
// of the Raft configuration, and its process exits; its raft id is never
// given to anyone else: the next instance to join gets raft id 4.
func TestExpellingAFollowerRemovesItForGood(t *testing.T) {
	c := newTestCluster(t)
	ms := startN(t, c, 3, nil)
	victim := byID(t, ms, 3)
	require.NotEqual(t, victim.RaftID(), c.Leader().RaftID(), "raft id 3 is a follower")
	name := row(t, victim).InstanceID

	_, err := c.Call(c.Leader(), api.Expel{ClusterID: clusterID, InstanceID: name})
	require.NotNil(t, err, "its replicaset owns buckets")
	require.Contains(t, err.Message, "drain it first")
	drain(t, c, victim)
	_, err = c.Call(c.Leader(), api.Expel{ClusterID: clusterID, InstanceID: name})
	require.Nil(t, err)
	untilRow(t, c, victim, "Expelled", settle, func(r tables.Instance) bool {
		return r.Current.Variant == tables.GradeExpelled
	})
	require.NoError(t, c.Until("the expelled instance exits", settle, func() bool { return !victim.Up() }))
	require.True(t, victim.Terminated(), "it stopped because it is expelled")
	require.NoError(t, c.Settle(settle))
	r := row(t, victim)
	require.Equal(t, grade(tables.GradeExpelled, 1), r.Current)
	require.Equal(t, grade(tables.GradeExpelled, 1), r.Target)
	cs := c.Conf()
	require.Equal(t, []uint64{1, 2}, sorted(cs.Voters))
	require.Empty(t, cs.Learners)
	require.Empty(t, cs.VotersOutgoing)

	// The next instance gets raft id 4, not 3.
	late := c.Start(Spec{})
	require.NoError(t, c.Settle(settle))
	require.Equal(t, uint64(4), late.RaftID())
	require.Equal(t, uint64(4), row(t, late).RaftID)
	require.Equal(t, grade(tables.GradeOnline, 1), row(t, late).Current)
	require.NotEqual(t, name, row(t, late).InstanceID)
	require.Len(t, c.Topology().Instances, 4, "the expelled row stays")
	require.Equal(t, grade(tables.GradeExpelled, 1), row(t, victim).Current)
}

// Picodata: an expelled instance that is started again refuses to run
// ("current instance is expelled"): its own state says so, or the cluster
// tells it, and it stops — whether it restarts at once, long after, or was
// killed while being expelled (it had learnt its target Expelled, not yet
// its current grade).
func TestAnExpelledInstanceRefusesToRestart(t *testing.T) {
	for _, tc := range []struct {
		name string
		// killedMidway: the instance is killed once it has applied its
		// target Expelled and its demotion to a learner, before it hears
		// its current grade is Expelled; else it exits by itself then.
		killedMidway bool
		// settle: restart only once the cluster is at rest again.
		settle bool
	}{
		{name: "at once"},
		// Its log may end before current Expelled (it is no member by
		// then): target Expelled is enough, it never votes again.
		{name: "after the cluster settled", settle: true},
		{name: "killed while being expelled", killedMidway: true, settle: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestCluster(t)
			ms := startN(t, c, 3, nil)
			victim := byID(t, ms, 3)
			name := row(t, victim).InstanceID
			drain(t, c, victim)
			_, err := c.Call(c.Leader(), api.Expel{ClusterID: clusterID, InstanceID: name})
			require.Nil(t, err)
			if tc.killedMidway {
				// Demoted to a learner, it has applied (and durably knows
				// committed) its target Expelled; its current grade comes
				// next.
				require.NoError(t, c.Until("the victim is demoted to a learner", settle, func() bool {
					return slices.Contains(victim.Node().Status().ConfState.Learners, victim.RaftID())
				}))
				r, ok, _ := victim.Node().Tables().Get(tables.TablePicoInstance, []any{name})
				require.True(t, ok)
				i, err := tables.InstanceFrom(r.Values())
				require.NoError(t, err)
				require.Equal(t, grade(tables.GradeExpelled, 1), i.Target)
				require.Equal(t, grade(tables.GradeOnline, 1), i.Current)
				victim.Kill()
			}
			require.NoError(t, c.Until("the expelled instance is down", settle, func() bool { return !victim.Up() }))
			if tc.settle {
				untilRow(t, c, victim, "Expelled", settle, func(r tables.Instance) bool {
					return r.Current.Variant == tables.GradeExpelled
				})
				require.NoError(t, c.Settle(settle))
			}

			victim.Restart()
			require.NoError(t, c.Until("the restarted expelled instance stops", settle, func() bool { return !victim.Up() }))
			require.True(t, errors.Is(victim.Fatal(), node.ErrExpelled) || victim.Terminated(),
				"it stops because it is expelled (fatal: %v)", victim.Fatal())
			require.NoError(t, c.Settle(settle))
			require.Equal(t, grade(tables.GradeExpelled, 1), row(t, victim).Current)
			require.Equal(t, []uint64{1, 2}, sorted(c.Conf().Voters))
			require.Empty(t, c.Conf().Learners)
		})
	}
}

// Picodata: expelling the leader: it hands leadership over first, then ends
// Expelled and exits like any other.
func TestExpellingTheLeaderHandsLeadershipOver(t *testing.T) {
	c := newTestCluster(t)
	ms := startN(t, c, 3, nil)
	old := c.Leader()
	name := row(t, old).InstanceID
	drain(t, c, old)

	_, err := c.Call(old, api.Expel{ClusterID: clusterID, InstanceID: name})
	require.Nil(t, err)
	// Handed over: another leads while the old one still runs.
	require.NoError(t, c.Until("another leader while the old one runs", settle, func() bool {
		l := c.Leader()
		return l != nil && l.RaftID() != old.RaftID() && old.Up()
	}))
	require.NoError(t, c.Until("the old leader expelled and gone", settle, func() bool {
		l := c.Leader()
		if l == nil || l.RaftID() == old.RaftID() || old.Up() {
			return false
		}
		r, ok := old.Row()
		return ok && r.Current.Variant == tables.GradeExpelled
	}))
	require.NoError(t, c.Settle(settle))
	require.NotEqual(t, old.RaftID(), c.Leader().RaftID())
	r := row(t, old)
	require.Equal(t, grade(tables.GradeExpelled, 1), r.Current)
	require.Equal(t, grade(tables.GradeExpelled, 1), r.Target)
	require.Equal(t, raftIDs(others(ms, old.RaftID())...), sorted(c.Conf().Voters))
	require.Empty(t, c.Conf().Learners)
}

// Picodata: the last instance cannot be expelled.
func TestTheLastInstanceCannotBeExpelled(t *testing.T) {
	c := newTestCluster(t)
	ms := startN(t, c, 1, nil)
	_, err := c.Call(ms[0], api.Expel{ClusterID: clusterID, InstanceID: row(t, ms[0]).InstanceID})
	require.NotNil(t, err)
	require.Equal(t, api.CodeTopology, err.Code)
	require.Contains(t, err.Message, "cannot expel the last instance")
	require.NoError(t, c.Settle(settle))
	require.Equal(t, grade(tables.GradeOnline, 1), row(t, ms[0]).Target)
	require.True(t, ms[0].Up())
}

// ---------------------------------------------------------------------------
// Restarts and failures.

// Picodata: an instance that restarts — after a crash or a graceful
// shutdown — comes back Online with incarnation 2, and its sharding
// configuration is set again.
func TestARestartComesBackOnlineWithTheNextIncarnation(t *testing.T) {
	for _, how := range []string{"kill", "shutdown"} {
		t.Run(how, func(t *testing.T) {
			c := newTestCluster(t)
			ms := startN(t, c, 3, nil)
			m := others(ms, c.Leader().RaftID())[0]
			if how == "kill" {
				m.Kill()
			} else {
				m.Shutdown()
				require.NoError(t, c.Until("the instance stops", settle, func() bool { return !m.Up() }))
				require.Equal(t, grade(tables.GradeOffline, 1), row(t, m).Current)
			}
			require.False(t, m.Up())
			m.Restart()
			require.NoError(t, c.Settle(settle))
			r := row(t, m)
			require.Equal(t, grade(tables.GradeOnline, 2), r.Current)
			require.Equal(t, grade(tables.GradeOnline, 2), r.Target)
			_, buckets, _ := m.Node().Local()
			coversAllBuckets(t, buckets, tables.DefaultBucketCount)
			require.Len(t, c.Conf().Voters, 3)
		})
	}
}

// Picodata: stopping the leader of two: the other becomes leader, and the
// old one is Offline/Offline in its tables.
func TestStoppingTheLeaderOfTwo(t *testing.T) {
	c := newTestCluster(t)
	ms := startN(t, c, 2, nil)
	old := c.Leader()
	other := others(ms, old.RaftID())[0]

	old.Shutdown()
	require.NoError(t, c.Until("the old leader stops", settle, func() bool { return !old.Up() }))
	require.NoError(t, c.Settle(settle))
	require.Equal(t, other.RaftID(), c.Leader().RaftID())
	r := row(t, old)
	require.Equal(t, grade(tables.GradeOffline, 1), r.Current)
	require.Equal(t, grade(tables.GradeOffline, 1), r.Target)
	require.Equal(t, []uint64{other.RaftID()}, sorted(c.Conf().Voters))
	require.Equal(t, []uint64{old.RaftID()}, sorted(c.Conf().Learners))
}

// Picodata: killing the leader of three: the other two elect a leader and
// the cluster serves writes; the dead one is set Offline.
func TestKillingTheLeaderOfThree(t *testing.T) {
	c := newTestCluster(t)
	ms := startN(t, c, 3, nil)
	old := c.Leader()
	old.Kill()
	require.NoError(t, c.Until("a new leader", settle, func() bool {
		l := c.Leader()
		return l != nil && l.RaftID() != old.RaftID()
	}))
	writeThroughCas(t, c, "k", "after the leader died")
	untilRow(t, c, old, "set Offline by the sentinel", settle, func(r tables.Instance) bool {
		return r.Current.Variant == tables.GradeOffline
	})
	require.NoError(t, c.Settle(settle))
	require.NotEqual(t, old.RaftID(), c.Leader().RaftID())
	r := row(t, old)
	require.Equal(t, grade(tables.GradeOffline, 1), r.Current)
	require.Equal(t, grade(tables.GradeOffline, 1), r.Target)
	require.Equal(t, raftIDs(others(ms, old.RaftID())...), sorted(c.Conf().Voters))
}

// Picodata: stopping all three instances and starting two of them: they
// elect a leader and the cluster works.
func TestStoppingAllThreeAndStartingTwo(t *testing.T) {
	c := newTestCluster(t)
	ms := startN(t, c, 3, nil)
	writeThroughCas(t, c, "before", "1")
	for _, m := range ms {
		m.Kill()
	}
	c.Run(time.Second)
	require.Nil(t, c.Leader())
	ms[0].Restart()
	ms[1].Restart()
	require.NoError(t, c.Until("a leader", settle, func() bool { return c.Leader() != nil }))
	writeThroughCas(t, c, "after", "2")
	untilRow(t, c, ms[2], "set Offline by the sentinel", settle, func(r tables.Instance) bool {
		return r.Current.Variant == tables.GradeOffline
	})
	require.NoError(t, c.Settle(settle))
	for _, m := range ms[:2] {
		require.Equal(t, grade(tables.GradeOnline, 2), row(t, m).Current, m.Addr())
	}
	require.Equal(t, grade(tables.GradeOffline, 1), row(t, ms[2]).Current)
	require.Equal(t, raftIDs(ms[:2]...), sorted(c.Conf().Voters))
	// Both kept what was written before the stop.
	for _, m := range ms[:2] {
		_, ok, err := m.Node().Tables().Get(workload.Table, []any{"before"})
		require.NoError(t, err)
		require.True(t, ok, m.Addr())
	}
}

// Picodata: the sentinel sets an instance it cannot reach Offline; once it
// is reachable again it asks to be Online and is, with a new incarnation.
func TestAnUnreachableInstanceIsSetOfflineAndComesBackOnline(t *testing.T) {
	c := newTestCluster(t)
	ms := startN(t, c, 3, nil)
	m := others(ms, c.Leader().RaftID())[0]

	c.Isolate(m)
	untilRow(t, c, m, "set Offline by the sentinel", settle, func(r tables.Instance) bool {
		return r.Target.Variant == tables.GradeOffline && r.Current.Variant == tables.GradeOffline
	})
	r := row(t, m)
	require.Equal(t, grade(tables.GradeOffline, 1), r.Target)
	require.Equal(t, grade(tables.GradeOffline, 1), r.Current)
	require.True(t, m.Up(), "the isolated process still runs")

	c.Heal()
	require.NoError(t, c.Settle(settle))
	r = row(t, m)
	require.Equal(t, grade(tables.GradeOnline, 2), r.Current)
	require.Equal(t, grade(tables.GradeOnline, 2), r.Target)
	require.Len(t, c.Conf().Voters, 3)
}

// ---------------------------------------------------------------------------
// Replicasets and sharding.

// Picodata: killing a replicaset's master makes its replica the master;
// the old master, restarted, is a replica.
func TestKillingAReplicasetMasterPromotesTheReplica(t *testing.T) {
	c := newTestCluster(t, storageTier(2))
	ms := startN(t, c, 4, nil)
	// A replicaset whose master is not the Raft leader.
	top := c.Topology()
	var rs tables.Replicaset
	for _, r := range top.Replicasets {
		if m, _ := top.Instance(r.CurrentMasterID); m.RaftID != c.Leader().RaftID() {
			rs = r
		}
	}
	require.NotEmpty(t, rs.ReplicasetID)
	var master, replica *Member
	for _, m := range ms {
		switch r := row(t, m); {
		case r.InstanceID == rs.CurrentMasterID:
			master = m
		case r.ReplicasetID == rs.ReplicasetID:
			replica = m
		}
	}
	require.NotNil(t, master)
	require.NotNil(t, replica)
	rep, _, _ := replica.Node().Local()
	require.False(t, rep.IsMaster)

	master.Kill()
	untilRow(t, c, master, "set Offline by the sentinel", settle, func(r tables.Instance) bool {
		return r.Current.Variant == tables.GradeOffline
	})
	require.NoError(t, c.Settle(settle))
	top = c.Topology()
	rs, _ = top.Replicaset(rs.ReplicasetID)
	replicaName := row(t, replica).InstanceID
	require.Equal(t, replicaName, rs.CurrentMasterID)
	require.Equal(t, replicaName, rs.TargetMasterID)
	rep, _, _ = replica.Node().Local()
	require.True(t, rep.IsMaster)
	require.Equal(t, grade(tables.GradeOffline, 1), row(t, master).Current)

	master.Restart()
	require.NoError(t, c.Settle(settle))
	require.Equal(t, grade(tables.GradeOnline, 2), row(t, master).Current)
	top = c.Topology()
	rs, _ = top.Replicaset(rs.ReplicasetID)
	require.Equal(t, replicaName, rs.CurrentMasterID)
	rep, _, _ = master.Node().Local()
	require.False(t, rep.IsMaster, "the old master is a replica now")
	rep, _, _ = replica.Node().Local()
	require.True(t, rep.IsMaster)
}

// Picodata: a cluster of one instance owns all 3000 buckets.
func TestOneInstanceOwnsAllBuckets(t *testing.T) {
	c := newTestCluster(t)
	ms := startN(t, c, 1, nil)
	rep, buckets, bootstrapped := ms[0].Node().Local()
	require.Equal(t, []node.BucketRange{{Replicaset: "storage_1", First: 1, Last: 3000}}, buckets)
	require.True(t, bootstrapped)
	require.True(t, rep.IsMaster)
	top := c.Topology()
	tier, ok := top.Tier("storage")
	require.True(t, ok)
	require.True(t, tier.VshardBootstrapped)
}

// Picodata: with replication factor 2, buckets are bootstrapped only once a
// replicaset is full: the first instance alone is Online but its
// replicaset is not ready and it has no buckets; when the second joins,
// the replicaset is ready and both hold the map of all 3000 buckets.
func TestShardingWaitsUntilAReplicasetIsFull(t *testing.T) {
	c := newTestCluster(t, storageTier(2))
	first := c.Start(Spec{})
	require.NoError(t, c.Settle(settle))
	c.Run(time.Second)
	require.Equal(t, grade(tables.GradeOnline, 1), row(t, first).Current)
	top := c.Topology()
	tier, _ := top.Tier("storage")
	require.False(t, tier.VshardBootstrapped)
	rs, _ := top.Replicaset("storage_1")
	require.Equal(t, tables.ReplicasetNotReady, rs.State)
	_, buckets, bootstrapped := first.Node().Local()
	require.Empty(t, buckets)
	require.False(t, bootstrapped)

	second := c.Start(Spec{})
	require.NoError(t, c.Settle(settle))
	top = c.Topology()
	tier, _ = top.Tier("storage")
	require.True(t, tier.VshardBootstrapped)
	rs, _ = top.Replicaset("storage_1")
	require.Equal(t, tables.ReplicasetReady, rs.State)
	for _, m := range []*Member{first, second} {
		require.Equal(t, grade(tables.GradeOnline, 1), row(t, m).Current, m.Addr())
		require.Equal(t, "storage_1", row(t, m).ReplicasetID)
		_, buckets, _ := m.Node().Local()
		require.Equal(t, []node.BucketRange{{Replicaset: "storage_1", First: 1, Last: 3000}}, buckets, m.Addr())
	}
	_, _, bootstrapped = first.Node().Local()
	require.True(t, bootstrapped, "the master bootstrapped the buckets")
}

// TestTwoInstancesWithoutPeersFormTwoClusters: each instance knows only
// its own address, so each boots a cluster of its own and leads it, though
// the network would let them reach each other. (The second is given another
// cluster id so that the simulator checks its Raft group apart.)
func TestTwoInstancesWithoutPeersFormTwoClusters(t *testing.T) {
	c := newTestCluster(t)
	a := c.Start(Spec{Peers: []string{addrOf(1)}})
	b := c.Start(Spec{ClusterID: "other", Peers: []string{addrOf(2)}})
	require.NoError(t, c.Settle(settle))
	for _, m := range []*Member{a, b} {
		st := m.Node().Status()
		require.Equal(t, st.ID, st.Lead, "%s leads its own cluster", m.Addr())
		require.Equal(t, uint64(1), m.RaftID())
		require.Equal(t, []uint64{1}, m.Node().Status().ConfState.Voters)
		topo, err := m.Node().Tables().ReadTopology()
		require.NoError(t, err)
		require.Len(t, topo.Instances, 1, "%s sees only itself", m.Addr())
	}
}

// TestRaisingTheReplicationFactorFillsExistingReplicasets: with factor 1
// two instances make two replicasets; an operator raises the tier's factor
// to 2 through .proc_cas, and the next two joins fill those replicasets
// instead of making new ones.
func TestRaisingTheReplicationFactorFillsExistingReplicasets(t *testing.T) {
	c := newTestCluster(t, storageTier(1))
	startN(t, c, 2, nil)
	l := c.Leader()
	st := l.Node().Status()
	_, err := c.Call(l, api.Cas{ClusterID: clusterID, Predicate: api.Predicate{Index: st.Applied, Term: st.Term},
		Op:     tables.DmlOp(tables.Update(tables.TablePicoTier, []any{"storage"}, []any{"=", "replication_factor", uint64(2)})),
		AsUser: tables.AdminID})
	require.Nil(t, err, "raise the replication factor through .proc_cas")
	c.Start(Spec{})
	c.Start(Spec{})
	require.NoError(t, c.Settle(settle))
	got := map[string]int{}
	for _, i := range c.Topology().Instances {
		got[i.ReplicasetID]++
	}
	require.Equal(t, map[string]int{"storage_1": 2, "storage_2": 2}, got)
}

// Picodata's sentinel sets an instance it cannot reach Offline; when the
// instance comes back and asks for Online, that request is contact: its
// grade goes Offline(n) -> Online(n+1) with no Offline in between, however
// long it was away — the leader counts unreachability from the last contact,
// and only while it wants the instance Online. Real processes showed the
// bug: the leader's dials to the restarted process were still backing off
// while the process's own request set it Online, and the sentinel, counting
// from before the crash, set it Offline at once (and again, and again).
func TestARestartAfterTheSentinelGoesStraightBackOnline(t *testing.T) {
	for _, away := range []time.Duration{0, time.Minute, 10 * time.Minute} {
		t.Run(fmt.Sprint("away ", away), func(t *testing.T) {
			c := newTestCluster(t)
			ms := startN(t, c, 3, nil)
			leader := c.Leader()
			m := others(ms, leader.RaftID())[0]
			m.Kill()
			untilRow(t, c, m, "set Offline by the sentinel", settle, func(r tables.Instance) bool {
				return r.Target == grade(tables.GradeOffline, 1) && r.Current == grade(tables.GradeOffline, 1)
			})
			c.Run(away)
			c.FailDials(leader, m)
			m.Restart()
			var history []string
			record := func() bool {
				r, ok := m.Row()
				if !ok {
					return false
				}
				seen := fmt.Sprintf("%s/%s", r.Current, r.Target)
				if len(history) == 0 || history[len(history)-1] != seen {
					history = append(history, seen)
				}
				return r.Current == grade(tables.GradeOnline, 2)
			}
			require.NoError(t, c.Until("target Online(2)", settle, func() bool {
				record()
				r, _ := m.Row()
				return r.Target == grade(tables.GradeOnline, 2)
			}))
			c.Run(time.Second) // well within the sentinel's timeout
			record()
			c.Heal()
			require.NoError(t, c.Until("back Online(2)", settle, record))
			for _, h := range history {
				require.NotContains(t, h, "/Offline(2)", "the sentinel fought the restart: %v", history)
				require.NotContains(t, h, "(3)", "the sentinel fought the restart: %v", history)
			}
			require.NoError(t, c.Settle(settle))
			require.Equal(t, grade(tables.GradeOnline, 2), row(t, m).Target)
		})
	}
}

// A disk that fails a write stops its instance (fail-stop, as etcd and
// TigerBeetle do): it does not wait for ever for a write that will not come,
// nor guess what reached the disk; the others go on without it.
func TestAFailedDiskWriteStopsTheInstance(t *testing.T) {
	c := newTestCluster(t)
	ms := startN(t, c, 3, nil)
	m := others(ms, c.Leader().RaftID())[0]
	m.FailDisk()
	l := c.Leader()
	st := l.Node().Status()
	_, err := c.Call(l, api.Cas{ClusterID: clusterID, Predicate: api.Predicate{Index: st.Applied, Term: st.Term},
		Op: tables.PrepareCreateTableOp(workload.Def, 0), AsUser: tables.AdminID}) // a write for m's disk to fail
	require.Nil(t, err)
	require.NoError(t, c.Until("the instance stops", settle, func() bool { return !m.Up() }))
	require.ErrorContains(t, m.Fatal(), "disk write")
	require.ErrorContains(t, m.Fatal(), "input/output error")
	untilRow(t, c, m, "set Offline by the sentinel", settle, func(r tables.Instance) bool {
		return r.Current.Variant == tables.GradeOffline
	})
	require.NotNil(t, c.Leader(), "the others go on")
}

package sim

import (
	"bytes"
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

func addrOf(id int) string { return "i" + string(rune('0'+id)) }

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
	_, err := c.Call(ms[0], node.RaftJoin{ClusterID: "other", Address: "x", Tier: "storage"})
	require.NotNil(t, err)
	require.Equal(t, node.CodeJoinRefused, err.Code)
	require.Contains(t, err.Message, "cluster_id mismatch")

	stranger := c.Start(Spec{ClusterID: "other", Peers: []string{ms[0].Addr()}})
	require.NoError(t, c.Until("the stranger's join refused", settle, func() bool { return stranger.Fatal() != nil }))
	require.ErrorContains(t, stranger.Fatal(), "cluster_id mismatch")
	require.False(t, stranger.Up())
}

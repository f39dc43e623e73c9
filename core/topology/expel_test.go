package topology_test

import (
	"testing"

	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/topology"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExpelRefusals(t *testing.T) {
	tests := []struct {
		name     string
		topo     tables.Topology
		instance string
		want     string
	}{
		{"unknown instance", build(storage, row{name: "a", raftID: 1, rs: "storage_1"}), "nobody",
			"no such instance nobody"},
		{"the only instance", build(storage, row{name: "a", raftID: 1, rs: "storage_1"}), "a",
			"cannot expel the last instance"},
		{"the last non-expelled instance", build(storage,
			row{name: "a", raftID: 1, rs: "storage_1"},
			row{name: "b", raftID: 2, rs: "storage_2", cur: expelled(1), tgt: expelled(1)},
			row{name: "c", raftID: 3, rs: "storage_3", tgt: expelled(1)},
		), "a", "cannot expel the last instance"},
		{"the last instance that can vote", build(
			[]tables.Tier{tier("storage", 1), {Name: "router", ReplicationFactor: 1}},
			row{name: "a", raftID: 1, rs: "storage_1"},
			row{name: "r", raftID: 2, rs: "router_1", tier: "router"},
		), "a", "cannot expel the last instance of a tier that can vote"},
	}
	withBuckets := func(bs ...tables.BucketRange) tables.Topology {
		top := build(storage,
			row{name: "a", raftID: 1, rs: "storage_1"},
			row{name: "b", raftID: 2, rs: "storage_2"},
			row{name: "b2", raftID: 3, rs: "storage_2", cur: expelled(1), tgt: expelled(1)},
		)
		top.Buckets = bs
		return top
	}
	br := func(first, last uint64, rs string) tables.BucketRange {
		return tables.BucketRange{Tier: "storage", First: first, Last: last, ReplicasetID: rs, State: tables.BucketActive}
	}
	hint := "; drain it first (picogo drain storage_2) and wait until it holds no buckets"
	tests = append(tests, []struct {
		name     string
		topo     tables.Topology
		instance string
		want     string
	}{
		{"the last of a replicaset owning buckets", withBuckets(br(1, 2000, "storage_1"), br(2001, 3000, "storage_2")), "b",
			"cannot expel b, the last instance of replicaset storage_2: it owns 1000 buckets" + hint},
		{"the last of a replicaset receiving buckets", withBuckets(tables.BucketRange{Tier: "storage", First: 1, Last: 3000,
			ReplicasetID: "storage_1", State: tables.BucketSending, Destination: "storage_2"}), "b",
			"cannot expel b, the last instance of replicaset storage_2: it is receiving buckets 1-3000" + hint},
		{"the last of a replicaset with rows to delete", withBuckets(tables.BucketRange{Tier: "storage", First: 1, Last: 3000,
			ReplicasetID: "storage_1", State: tables.BucketActive, Garbage: "storage_2"}), "b",
			"cannot expel b, the last instance of replicaset storage_2: it still holds rows of buckets 1-3000 to delete" + hint},
	}...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ops, err := topology.PlanExpel(tt.topo, cid, tt.instance)
			require.EqualError(t, err, tt.want)
			assert.Nil(t, ops)
		})
	}
}

// A drained replicaset's last instance goes; so does one of two members of
// a replicaset that owns buckets (the other keeps them).
func TestExpelOfADrainedReplicaset(t *testing.T) {
	top := build(storage,
		row{name: "a", raftID: 1, rs: "storage_1"},
		row{name: "b", raftID: 2, rs: "storage_2"},
		row{name: "c", raftID: 3, rs: "storage_1"},
	)
	top.Buckets = []tables.BucketRange{{Tier: "storage", First: 1, Last: 3000, ReplicasetID: "storage_1", State: tables.BucketActive}}
	_, _, err := topology.PlanExpel(top, cid, "b")
	require.NoError(t, err)
	_, _, err = topology.PlanExpel(top, cid, "c")
	require.NoError(t, err)

	// storage_1 being drained, storage_2 (no buckets yet, weight 1) is
	// where they are to go: its last instance stays.
	top.Replicasets[0].Weight = 0
	_, _, err = topology.PlanExpel(top, cid, "b")
	require.EqualError(t, err, "cannot expel b, the last instance of replicaset storage_2: it is the last of tier storage "+
		"with a weight above 0, its buckets would have nowhere to go; give another replicaset of the tier a weight first")
	top.Buckets = nil
	_, _, err = topology.PlanExpel(top, cid, "b")
	require.NoError(t, err, "before the bootstrap there are no buckets to place")
}

func TestExpel(t *testing.T) {
	topo := build(storage,
		row{name: "a", raftID: 1, rs: "storage_1"},
		row{name: "b", raftID: 2, rs: "storage_2", cur: offline(2), tgt: offline(3)},
	)
	got, ops, err := topology.PlanExpel(topo, cid, "b")
	require.NoError(t, err)
	assert.Equal(t, expelled(3), got.Target, "the target's incarnation is kept")
	assert.Equal(t, offline(2), got.Current, "only the governor moves current")
	assert.Equal(t, []tables.Dml{
		tables.Update(tables.TablePicoInstance, []any{"b"}, []any{"=", "target_grade", []any{tables.GradeExpelled, uint64(3)}}),
		tables.Update(tables.TablePicoReplicaset, []any{"storage_2"}, []any{"+", "target_config_version", 1}),
	}, ops)
}

func TestExpelIsIdempotent(t *testing.T) {
	for _, g := range []struct{ cur, tgt tables.Grade }{
		{online(1), expelled(1)},   // being expelled
		{expelled(1), expelled(1)}, // expelled
	} {
		topo := build(storage,
			row{name: "a", raftID: 1, rs: "storage_1"},
			row{name: "b", raftID: 2, rs: "storage_2", cur: g.cur, tgt: g.tgt},
		)
		stored, _ := topo.Instance("b")
		got, ops, err := topology.PlanExpel(topo, cid, "b")
		require.NoError(t, err)
		assert.Equal(t, stored, got)
		assert.Empty(t, ops)
	}
}

func TestExpelAppliesAndBumpsTheReplicaset(t *testing.T) {
	c := newCluster(t, tier("storage", 2))
	a := c.join(topology.JoinRequest{})
	b := c.join(topology.JoinRequest{})
	require.Equal(t, a.ReplicasetID, b.ReplicasetID)
	c.expel(b.InstanceID)

	topo := c.topology()
	stored, _ := topo.Instance(b.InstanceID)
	assert.Equal(t, expelled(0), stored.Target)
	rs, _ := topo.Replicaset(a.ReplicasetID)
	assert.Equal(t, uint64(3), rs.TargetConfigVersion, "1 at creation, +1 for b joining, +1 for b leaving")

	_, _, err := topology.PlanExpel(topo, cid, a.InstanceID)
	require.EqualError(t, err, "cannot expel the last instance")
}

func TestExpelRanges(t *testing.T) {
	assert.Equal(t, []tables.Range{{Table: tables.TablePicoInstance}, {Table: tables.TablePicoBucket}, {Table: tables.TablePicoReplicaset}}, topology.ExpelRanges())

	// Two expels planned on the same read of a two-instance cluster: each
	// alone is fine, but once one commits the other's CaS must fail, or the
	// cluster would be left with none.
	c := newCluster(t, tier("storage", 1))
	a := c.join(topology.JoinRequest{})
	b := c.join(topology.JoinRequest{})
	topo := c.topology()
	_, opsA, err := topology.PlanExpel(topo, cid, a.InstanceID)
	require.NoError(t, err)
	_, _, err = topology.PlanExpel(topo, cid, b.InstanceID)
	require.NoError(t, err)
	assert.True(t, conflicts(t, c.store, topology.ExpelRanges(), tables.BatchOp(opsA...)))
}

func TestCheckClusterID(t *testing.T) {
	require.NoError(t, topology.CheckClusterID(cid, cid))
	require.EqualError(t, topology.CheckClusterID(cid, ""),
		`cluster_id mismatch: cluster_id of the instance = "", cluster_id of the cluster = "cluster-1"`)
}

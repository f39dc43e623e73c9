package topology_test

import (
	"testing"

	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/topology"
	"github.com/picogo/picogo/core/tuple"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// joinReq is a join request to cluster cid, tier storage, address new:3301.
func joinReq(f func(*topology.JoinRequest)) topology.JoinRequest {
	req := topology.JoinRequest{ClusterID: cid, Address: "new:3301", Tier: "storage"}
	if f != nil {
		f(&req)
	}
	return req
}

func TestJoinFirstInstanceIsTheBootstrap(t *testing.T) {
	topo := tables.Topology{Tiers: storage}
	plan, err := topology.PlanJoin(topo, cid, joinReq(nil), uuids("u"))
	require.NoError(t, err)

	want := tables.Instance{
		InstanceID: "storage_1_1", InstanceUUID: "u1", RaftID: 1,
		ReplicasetID: "storage_1", ReplicasetUUID: "u2",
		Current: offline(0), Target: offline(0), FailureDomain: map[string]string{}, Tier: "storage",
	}
	wantRS := tables.Replicaset{
		ReplicasetID: "storage_1", ReplicasetUUID: "u2", CurrentMasterID: "storage_1_1", TargetMasterID: "storage_1_1",
		Tier: "storage", Weight: 0, State: tables.ReplicasetNotReady, CurrentConfigVersion: 0, TargetConfigVersion: 1,
		PromotionVclock: map[string]any{},
	}
	assert.Equal(t, want, plan.Instance)
	assert.Equal(t, []tables.Dml{
		tables.Insert(tables.TablePicoPeerAddress, uint64(1), "new:3301"),
		tables.Insert(tables.TablePicoInstance, want.Tuple()...),
		tables.Insert(tables.TablePicoReplicaset, wantRS.Tuple()...),
	}, plan.Ops)
	assert.Equal(t, []string{"new:3301"}, plan.BoxReplication)
	assert.False(t, plan.Idempotent())

	// The ops apply to a real store and read back as planned.
	c := newCluster(t, storage...)
	c.apply(plan.Ops...)
	got := c.topology()
	assert.Equal(t, []tables.Instance{want}, got.Instances)
	assert.Equal(t, []tables.Replicaset{wantRS}, got.Replicasets)
	assert.Equal(t, map[uint64]string{1: "new:3301"}, got.Addresses)
}

func TestJoinRefusals(t *testing.T) {
	topo := build([]tables.Tier{tier("storage", 2), tier("router", 1)},
		row{name: "a", raftID: 1, rs: "storage_1", fd: "DC=A,RACK=1"},
		row{name: "gone", raftID: 2, rs: "storage_1", fd: "DC=B,ROW=9", tgt: expelled(1)},
		row{name: "going", raftID: 3, rs: "storage_2", fd: "DC=C,RACK=2", tgt: expelled(1)},
		row{name: "r", raftID: 4, rs: "router_1", tier: "router", fd: "DC=A,RACK=3"},
	)
	tests := []struct {
		name string
		req  func(*topology.JoinRequest)
		want string
	}{
		{"another cluster", func(r *topology.JoinRequest) { r.ClusterID = "cluster-2" },
			`cluster_id mismatch: cluster_id of the instance = "cluster-2", cluster_id of the cluster = "cluster-1"`},
		{"unknown tier", func(r *topology.JoinRequest) { r.Tier = "nope"; r.FailureDomain = fd("DC=X,RACK=X") },
			`tier "nope" does not exist`},
		{"no failure domain", nil, "missing failure domain names: DC, RACK"},
		{"a missing name", func(r *topology.JoinRequest) { r.FailureDomain = fd("rack=1") },
			"missing failure domain names: DC"},
		{"an empty name", func(r *topology.JoinRequest) { r.FailureDomain = map[string]string{"": "x"} },
			"failure domain has an empty name"},
		{"a name twice", func(r *topology.JoinRequest) { r.FailureDomain = fd("dc=a,DC=b,RACK=1") },
			"failure domain name DC is given twice"},
		{"a live name", func(r *topology.JoinRequest) { r.InstanceID = "a"; r.FailureDomain = fd("DC=X,RACK=X") },
			`"a" is already joined`},
		{"a name still being expelled", func(r *topology.JoinRequest) {
			r.InstanceID = "going"
			r.FailureDomain = fd("DC=X,RACK=X")
		}, `"going" is still being expelled`},
		{"a replicaset of another tier", func(r *topology.JoinRequest) {
			r.ReplicasetID = "router_1"
			r.FailureDomain = fd("DC=X,RACK=X")
		}, `tier mismatch: requested replicaset "router_1" is from tier "router", but specified tier is "storage"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := topology.PlanJoin(topo, cid, joinReq(tt.req), noUUID(t))
			require.EqualError(t, err, tt.want)
		})
	}
}

func TestJoinFailureDomain(t *testing.T) {
	topo := build(storage,
		row{name: "a", raftID: 1, rs: "storage_1", fd: "DC=A"},
		row{name: "gone", raftID: 2, rs: "storage_2", fd: "DC=B,ROW=9", tgt: expelled(1)},
	)
	// Names and values are upper-cased; ROW, used only by an expelled
	// instance, is not required; a new name (ZONE) may be introduced.
	plan, err := topology.PlanJoin(topo, cid, joinReq(func(r *topology.JoinRequest) {
		r.FailureDomain = fd("dc=b,zone=North")
	}), uuids("u"))
	require.NoError(t, err)
	assert.Equal(t, fd("DC=B,ZONE=NORTH"), plan.Instance.FailureDomain)
}

func TestJoinRaftID(t *testing.T) {
	tests := []struct {
		name string
		topo tables.Topology
		want uint64
	}{
		{"empty cluster", tables.Topology{Tiers: storage}, 1},
		{"max of the instances", build(storage,
			row{name: "a", raftID: 1, rs: "storage_1"},
			row{name: "b", raftID: 5, rs: "storage_2"},
			row{name: "c", raftID: 3, rs: "storage_3"}), 6},
		{"expelled rows count", build(storage,
			row{name: "a", raftID: 1, rs: "storage_1"},
			row{name: "b", raftID: 7, rs: "storage_2", cur: expelled(1), tgt: expelled(1)}), 8},
		{"peer addresses count (a row overwritten by name reuse)", func() tables.Topology {
			topo := build(storage, row{name: "a", raftID: 1, rs: "storage_1"})
			topo.Addresses[9] = "old:3301"
			return topo
		}(), 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := topology.PlanJoin(tt.topo, cid, joinReq(nil), uuids("u"))
			require.NoError(t, err)
			assert.Equal(t, tt.want, plan.Instance.RaftID)
			assert.Equal(t, tables.Insert(tables.TablePicoPeerAddress, tt.want, "new:3301"), plan.Ops[0])
		})
	}
}

func TestJoinName(t *testing.T) {
	topo := build([]tables.Tier{tier("storage", 3)},
		row{name: "storage_1_1", raftID: 1, rs: "storage_1"},
		row{name: "storage_1_2", raftID: 2, rs: "storage_1", cur: expelled(1), tgt: expelled(1)},
		row{name: "storage_1_4", raftID: 3, rs: "storage_2"}, // an explicit name in another replicaset
		row{name: "old", raftID: 4, rs: "storage_2", cur: expelled(2), tgt: expelled(2)},
	)
	tests := []struct {
		name      string
		requested string
		want      string
		replace   bool
	}{
		{"generated: smallest k no row holds, expelled rows count", "", "storage_1_3", false},
		{"requested and free", "fresh", "fresh", false},
		{"requested and held by an expelled instance: the row is replaced", "old", "old", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := topology.PlanJoin(topo, cid, joinReq(func(r *topology.JoinRequest) {
				r.InstanceID = tt.requested
			}), uuids("u"))
			require.NoError(t, err)
			assert.Equal(t, tt.want, plan.Instance.InstanceID)
			assert.Equal(t, "storage_1", plan.Instance.ReplicasetID)
			kind := tables.DmlInsert
			if tt.replace {
				kind = tables.DmlReplace
			}
			assert.Equal(t, tables.Insert(tables.TablePicoInstance, plan.Instance.Tuple()...).Tuple, plan.Ops[1].Tuple)
			assert.Equal(t, kind, plan.Ops[1].Kind)
		})
	}
	// Joining storage_1_4's replicaset generates past the names it holds.
	plan, err := topology.PlanJoin(topo, cid, joinReq(func(r *topology.JoinRequest) { r.ReplicasetID = "storage_2" }), uuids("u"))
	require.NoError(t, err)
	assert.Equal(t, "storage_2_1", plan.Instance.InstanceID)
}

func TestJoinAutomaticReplicaset(t *testing.T) {
	tiers := []tables.Tier{tier("storage", 2), tier("router", 2)}
	tests := []struct {
		name  string
		rows  []row
		fd    string
		want  string
		isNew bool
	}{
		{"the first with room, by name", []row{
			{name: "c", raftID: 1, rs: "storage_3"},
			{name: "b", raftID: 2, rs: "storage_2"},
			{name: "a1", raftID: 3, rs: "storage_1"},
			{name: "a2", raftID: 4, rs: "storage_1"},
		}, "", "storage_2", false},
		{"expelled members do not count", []row{
			{name: "a1", raftID: 1, rs: "storage_1"},
			{name: "a2", raftID: 2, rs: "storage_1", tgt: expelled(1)},
		}, "", "storage_1", false},
		{"a replicaset whose members are all expelled is dead", []row{
			{name: "a1", raftID: 1, rs: "storage_1", tgt: expelled(1)},
			{name: "b1", raftID: 2, rs: "storage_2"},
			{name: "b2", raftID: 3, rs: "storage_2"},
		}, "", "storage_3", true},
		{"intersecting failure domains are skipped", []row{
			{name: "a1", raftID: 1, rs: "storage_1", fd: "DC=A,RACK=1"},
			{name: "b1", raftID: 2, rs: "storage_2", fd: "DC=B,RACK=2"},
			{name: "c1", raftID: 3, rs: "storage_3", fd: "DC=C,RACK=1"},
		}, "dc=a,rack=2", "storage_3", false},
		{"stored domains compare upper-cased", []row{
			{name: "a1", raftID: 1, rs: "storage_1", fd: "dc=a"},
		}, "DC=A", "storage_2", true},
		{"an expelled member's domain does not matter", []row{
			{name: "a1", raftID: 1, rs: "storage_1", fd: "DC=B"},
			{name: "a2", raftID: 2, rs: "storage_1", fd: "DC=A", tgt: expelled(1)},
		}, "DC=A", "storage_1", false},
		{"other tiers are skipped", []row{
			{name: "r1", raftID: 1, rs: "router_1", tier: "router"},
		}, "", "storage_1", true},
		{"a new one gets the smallest free number, of any tier", []row{
			{name: "a1", raftID: 1, rs: "storage_1"},
			{name: "a2", raftID: 2, rs: "storage_1"},
			{name: "x1", raftID: 3, rs: "storage_2", tier: "router"},
			{name: "x2", raftID: 4, rs: "storage_2", tier: "router"},
			{name: "d1", raftID: 5, rs: "storage_4"},
			{name: "d2", raftID: 6, rs: "storage_4"},
		}, "", "storage_3", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topo := build(tiers, tt.rows...)
			plan, err := topology.PlanJoin(topo, cid, joinReq(func(r *topology.JoinRequest) {
				r.FailureDomain = fd(tt.fd)
			}), uuids("u"))
			require.NoError(t, err)
			assert.Equal(t, tt.want, plan.Instance.ReplicasetID)
			assert.Equal(t, tables.DmlInsert == plan.Ops[2].Kind, tt.isNew, "a new replicaset row is inserted")
		})
	}
}

func TestJoinRequestedReplicaset(t *testing.T) {
	topo := build([]tables.Tier{tier("storage", 2)},
		row{name: "a1", raftID: 1, rs: "storage_1", fd: "DC=A"},
		row{name: "a2", raftID: 2, rs: "storage_1", fd: "DC=B"},
		row{name: "dead", raftID: 3, rs: "storage_2", fd: "DC=C", cur: expelled(1), tgt: expelled(1)},
	)
	tests := []struct {
		name  string
		rs    string
		isNew bool
	}{
		{"existing, full and intersecting: explicit placement is the operator's call", "storage_1", false},
		{"existing with every member expelled", "storage_2", false},
		{"new", "mine", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := topology.PlanJoin(topo, cid, joinReq(func(r *topology.JoinRequest) {
				r.ReplicasetID = tt.rs
				r.FailureDomain = fd("DC=A")
			}), uuids("u"))
			require.NoError(t, err)
			assert.Equal(t, tt.rs, plan.Instance.ReplicasetID)
			if tt.isNew {
				assert.Equal(t, "u2", plan.Instance.ReplicasetUUID)
				assert.Equal(t, tables.DmlInsert, plan.Ops[2].Kind)
			} else {
				assert.Equal(t, "rsuuid-"+tt.rs, plan.Instance.ReplicasetUUID)
				assert.Equal(t, tables.Update(tables.TablePicoReplicaset, []any{tt.rs},
					[]any{"+", "target_config_version", 1}), plan.Ops[2])
			}
		})
	}
}

func TestJoinExistingReplicasetBumpsTargetConfigVersion(t *testing.T) {
	c := newCluster(t, tier("storage", 2))
	first := c.join(topology.JoinRequest{})
	topo := c.topology()
	rs, _ := topo.Replicaset(first.ReplicasetID)
	assert.Equal(t, [2]uint64{0, 1}, [2]uint64{rs.CurrentConfigVersion, rs.TargetConfigVersion})

	second := c.join(topology.JoinRequest{})
	require.Equal(t, first.ReplicasetID, second.ReplicasetID)
	topo = c.topology()
	rs, _ = topo.Replicaset(first.ReplicasetID)
	assert.Equal(t, [2]uint64{0, 2}, [2]uint64{rs.CurrentConfigVersion, rs.TargetConfigVersion})
	assert.Equal(t, first.InstanceID, rs.TargetMasterID, "the master stays")
}

func TestJoinBoxReplication(t *testing.T) {
	topo := build([]tables.Tier{tier("storage", 4)},
		row{name: "z", raftID: 1, rs: "storage_1"},
		row{name: "y", raftID: 2, rs: "storage_1", tgt: expelled(1)},
		row{name: "x", raftID: 3, rs: "storage_1", cur: offline(1), tgt: offline(1)},
		row{name: "w", raftID: 4, rs: "storage_2"},
		row{name: "v", raftID: 5, rs: "storage_1"},
	)
	delete(topo.Addresses, 5) // a member without an address is left out
	plan, err := topology.PlanJoin(topo, cid, joinReq(nil), uuids("u"))
	require.NoError(t, err)
	assert.Equal(t, []string{"z:3301", "x:3301", "new:3301"}, plan.BoxReplication)
}

func TestJoinUUIDs(t *testing.T) {
	topo := build(storage, row{name: "a", raftID: 1, rs: "storage_1"})

	// An unknown uuid in the request becomes the instance's: only the
	// replicaset's uuid is generated.
	calls := 0
	plan, err := topology.PlanJoin(topo, cid, joinReq(func(r *topology.JoinRequest) { r.InstanceUUID = "mine" }),
		func() string { calls++; return "rs-uuid" })
	require.NoError(t, err)
	assert.Equal(t, "mine", plan.Instance.InstanceUUID)
	assert.Equal(t, "rs-uuid", plan.Instance.ReplicasetUUID)
	assert.Equal(t, 1, calls)

	// A generator that repeats itself is an error, not a duplicate.
	_, err = topology.PlanJoin(topo, cid, joinReq(nil), func() string { return "uuid-a" })
	require.EqualError(t, err, "generated instance uuid uuid-a is already in use")
	two := build(storage, row{name: "a", raftID: 1, rs: "storage_1"}, row{name: "b", raftID: 2, rs: "storage_2"})
	_, err = topology.PlanJoin(two, cid, joinReq(nil), uuids("rsuuid-storage_"))
	require.EqualError(t, err, "generated replicaset uuid rsuuid-storage_2 is already in use")
}

func TestJoinIsIdempotentForTheSameUUID(t *testing.T) {
	c := newCluster(t, tier("storage", 2))
	c.joinIn("DC=A")
	first, err := c.planJoin(topology.JoinRequest{FailureDomain: fd("dc=b"), Address: "b:3301"})
	require.NoError(t, err)
	c.apply(first.Ops...)
	topo := c.topology()
	stored, _ := topo.Instance(first.Instance.InstanceID)

	retry := topology.JoinRequest{FailureDomain: fd("DC=b"), Address: "b:3301", InstanceUUID: stored.InstanceUUID}
	again, err := c.planJoin(retry)
	require.NoError(t, err)
	assert.True(t, again.Idempotent())
	assert.Empty(t, again.Ops)
	assert.Empty(t, again.Ranges)
	assert.Equal(t, stored, again.Instance)
	assert.Equal(t, first.BoxReplication, again.BoxReplication)

	// Naming what it was given is fine too.
	retry.InstanceID, retry.ReplicasetID = stored.InstanceID, stored.ReplicasetID
	again, err = c.planJoin(retry)
	require.NoError(t, err)
	assert.Equal(t, stored, again.Instance)
}

func TestJoinWithAStoredUUIDRefusals(t *testing.T) {
	topo := build([]tables.Tier{tier("storage", 1), tier("router", 1)},
		row{name: "a", raftID: 1, rs: "storage_1", fd: "DC=A"},
		row{name: "fresh", raftID: 2, rs: "storage_2", fd: "DC=B", cur: offline(0), tgt: offline(0)},
		row{name: "started", raftID: 3, rs: "storage_3", fd: "DC=C", cur: offline(0), tgt: online(1)},
		row{name: "stopped", raftID: 4, rs: "storage_4", fd: "DC=D", cur: offline(1), tgt: offline(1)},
		row{name: "gone", raftID: 5, rs: "storage_5", fd: "DC=E", cur: offline(0), tgt: expelled(0)},
	)
	retry := func(name string, f func(*topology.JoinRequest)) topology.JoinRequest {
		i, _ := topo.Instance(name)
		req := joinReq(func(r *topology.JoinRequest) {
			r.InstanceUUID = i.InstanceUUID
			r.FailureDomain = i.FailureDomain
		})
		if f != nil {
			f(&req)
		}
		return req
	}
	tests := []struct {
		name string
		req  topology.JoinRequest
		want string
	}{
		{"another cluster", retry("fresh", func(r *topology.JoinRequest) { r.ClusterID = "x" }),
			`cluster_id mismatch: cluster_id of the instance = "x", cluster_id of the cluster = "cluster-1"`},
		{"another name", retry("fresh", func(r *topology.JoinRequest) { r.InstanceID = "other" }),
			`instance with uuid uuid-fresh is already joined with name "fresh", not "other"`},
		{"another replicaset", retry("fresh", func(r *topology.JoinRequest) { r.ReplicasetID = "storage_1" }),
			`instance with uuid uuid-fresh is already joined with replicaset "storage_2", not "storage_1"`},
		{"another tier", retry("fresh", func(r *topology.JoinRequest) { r.Tier = "router" }),
			`instance with uuid uuid-fresh is already joined with tier "storage", not "router"`},
		{"another failure domain", retry("fresh", func(r *topology.JoinRequest) { r.FailureDomain = fd("DC=A") }),
			`instance with uuid uuid-fresh is already joined with failure domain {DC=B}, not {DC=A}`},
		{"activated", retry("started", nil),
			`instance "started" with uuid uuid-started has already been activated (Offline(0)/Online(1)); it must restart, not join again`},
		{"activated and stopped", retry("stopped", nil),
			`instance "stopped" with uuid uuid-stopped has already been activated (Offline(1)/Offline(1)); it must restart, not join again`},
		{"expelled", retry("gone", nil), `instance "gone" with uuid uuid-gone is expelled`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := topology.PlanJoin(topo, cid, tt.req, noUUID(t))
			require.EqualError(t, err, tt.want)
		})
	}
}

func TestJoinRanges(t *testing.T) {
	c := newCluster(t, tier("storage", 2))
	c.join(topology.JoinRequest{Address: "a:3301"})
	plan, err := c.planJoin(topology.JoinRequest{})
	require.NoError(t, err)
	assert.Equal(t, []tables.Range{
		{Table: tables.TablePicoInstance},
		{Table: tables.TablePicoReplicaset},
		{Table: tables.TablePicoTier, Key: mustMarshal(t, []any{"storage"})},
		{Table: tables.TablePicoPeerAddress, Min: &tables.Bound{Key: mustMarshal(t, []any{uint64(2)}), Included: true}},
	}, plan.Ranges)
	for _, r := range plan.Ranges {
		require.NoError(t, c.store.CheckRange(r))
	}
}

// conflicts reports whether a CaS protecting ranges fails once op is
// applied in between.
func conflicts(t *testing.T, s *tables.Store, ranges []tables.Range, op tables.Op) bool {
	t.Helper()
	keys, err := s.OpKeys(op)
	require.Nil(t, err)
	for _, r := range ranges {
		for _, k := range keys {
			in, err := s.RangeContains(r, k)
			require.NoError(t, err)
			if in {
				return true
			}
		}
	}
	return false
}

func TestConcurrentJoinsConflict(t *testing.T) {
	c := newCluster(t, tier("storage", 2))
	c.join(topology.JoinRequest{})

	// Two joins planned on the same read: once one commits, the other's
	// CaS fails (both would take raft id 2 and the same replicaset slot).
	a, err := c.planJoin(topology.JoinRequest{Address: "a:3301"})
	require.NoError(t, err)
	b, err := c.planJoin(topology.JoinRequest{Address: "b:3301", InstanceID: "b"})
	require.NoError(t, err)
	assert.True(t, conflicts(t, c.store, b.Ranges, tables.BatchOp(a.Ops...)))

	// Raising the tier's replication factor changes the decision too.
	assert.True(t, conflicts(t, c.store, b.Ranges, tables.DmlOp(
		tables.Update(tables.TablePicoTier, []any{"storage"}, []any{"=", "replication_factor", 3}))))

	// An older instance changing its address does not.
	assert.False(t, conflicts(t, c.store, b.Ranges, tables.DmlOp(
		tables.Replace(tables.TablePicoPeerAddress, uint64(1), "moved:3301"))))
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := tuple.Marshal(v)
	require.NoError(t, err)
	return b
}

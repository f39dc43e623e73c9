package topology_test

import (
	"testing"

	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/topology"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The behaviours of Picodata's test suite (notes/picodata.md, "Behaviours")
// that these rules decide, each on a real store.

func TestBehaviourReplicationFactor2ThreeJoinsFormTwoReplicasets(t *testing.T) {
	c := newCluster(t, tier("storage", 2))
	for range 3 {
		c.join(topology.JoinRequest{})
	}
	assert.Equal(t, map[string][]string{
		"storage_1": {"storage_1_1", "storage_1_2"},
		"storage_2": {"storage_2_1"},
	}, layout(c.topology()))
}

func TestBehaviourReplicationFactor1OneReplicasetPerInstance(t *testing.T) {
	c := newCluster(t, tier("storage", 1))
	for range 3 {
		c.join(topology.JoinRequest{})
	}
	assert.Equal(t, map[string][]string{
		"storage_1": {"storage_1_1"},
		"storage_2": {"storage_2_1"},
		"storage_3": {"storage_3_1"},
	}, layout(c.topology()))
}

func TestBehaviourAWrongClusterIDIsRefused(t *testing.T) {
	c := newCluster(t, tier("storage", 1))
	c.join(topology.JoinRequest{})
	_, err := c.planJoin(topology.JoinRequest{ClusterID: "other"})
	require.ErrorContains(t, err, "cluster_id mismatch")
	_, _, err = topology.PlanUpdate(c.topology(), cid, topology.UpdateRequest{InstanceID: "storage_1_1", ClusterID: "other"})
	require.ErrorContains(t, err, "cluster_id mismatch")
}

func TestBehaviourAJoinMissingAFailureDomainKeyIsRefused(t *testing.T) {
	c := newCluster(t, tier("storage", 1))
	c.joinIn("DC=A,RACK=1")
	_, err := c.planJoin(topology.JoinRequest{FailureDomain: fd("dc=b")})
	require.EqualError(t, err, "missing failure domain names: RACK")
	_, err = c.planJoin(topology.JoinRequest{})
	require.EqualError(t, err, "missing failure domain names: DC, RACK")
}

func TestBehaviourOverlappingDomainsNeverShareAReplicaset(t *testing.T) {
	c := newCluster(t, tier("storage", 3))
	a := c.joinIn("DC=A,RACK=1")
	b := c.joinIn("DC=A,RACK=2") // shares DC=A with a
	d := c.joinIn("DC=B,RACK=1") // shares RACK=1 with a, nothing with b
	e := c.joinIn("DC=C,RACK=3") // shares nothing with a
	assert.Equal(t, "storage_1", a.ReplicasetID)
	assert.Equal(t, "storage_2", b.ReplicasetID)
	assert.Equal(t, "storage_2", d.ReplicasetID)
	assert.Equal(t, "storage_1", e.ReplicasetID)
}

func TestBehaviourReusingALiveInstanceNameFails(t *testing.T) {
	c := newCluster(t, tier("storage", 1))
	c.join(topology.JoinRequest{InstanceID: "i1"})
	c.join(topology.JoinRequest{InstanceID: "i2"})
	_, err := c.planJoin(topology.JoinRequest{InstanceID: "i1"})
	require.EqualError(t, err, `"i1" is already joined`)

	// Expelled, and once the governor has done its part, the name is free.
	c.expel("i1")
	_, err = c.planJoin(topology.JoinRequest{InstanceID: "i1"})
	require.EqualError(t, err, `"i1" is still being expelled`)
	c.finishExpel("i1")
	again := c.join(topology.JoinRequest{InstanceID: "i1"})
	assert.Equal(t, uint64(3), again.RaftID)
}

func TestBehaviourARepeatedJoinWithTheSameUUIDIsIdempotent(t *testing.T) {
	c := newCluster(t, tier("storage", 1))
	first := c.join(topology.JoinRequest{Address: "a:3301"})
	before := c.topology()

	plan, err := c.planJoin(topology.JoinRequest{Address: "a:3301", InstanceUUID: first.InstanceUUID})
	require.NoError(t, err)
	assert.Empty(t, plan.Ops)
	assert.Equal(t, first, plan.Instance)
	assert.Equal(t, []string{"a:3301"}, plan.BoxReplication)
	assert.Equal(t, before, c.topology())
}

func TestBehaviourRaisingTheReplicationFactorFillsExistingReplicasets(t *testing.T) {
	c := newCluster(t, tier("storage", 1))
	c.join(topology.JoinRequest{})
	c.join(topology.JoinRequest{})
	c.setReplicationFactor("storage", 2)
	c.join(topology.JoinRequest{})
	c.join(topology.JoinRequest{})
	c.join(topology.JoinRequest{})
	assert.Equal(t, map[string][]string{
		"storage_1": {"storage_1_1", "storage_1_2"},
		"storage_2": {"storage_2_1", "storage_2_2"},
		"storage_3": {"storage_3_1"},
	}, layout(c.topology()))
}

func TestBehaviourTheNextJoinAfterExpellingRaftID3GetsRaftID4(t *testing.T) {
	c := newCluster(t, tier("storage", 1))
	for range 3 {
		c.join(topology.JoinRequest{})
	}
	c.expel("storage_3_1")
	assert.Equal(t, uint64(4), c.join(topology.JoinRequest{}).RaftID)
	c.finishExpel("storage_3_1")
	assert.Equal(t, uint64(5), c.join(topology.JoinRequest{}).RaftID)

	// Even once its row is overwritten by name reuse, raft id 3 stays taken
	// (its peer address remains), and so does the largest.
	c.expel("storage_3_1") // idempotent: already expelled
	reused := c.join(topology.JoinRequest{InstanceID: "storage_3_1"})
	assert.Equal(t, uint64(6), reused.RaftID)
}

func TestBehaviourTiersNeverShareAReplicaset(t *testing.T) {
	c := newCluster(t, tier("storage", 2), tier("router", 2))
	s1 := c.join(topology.JoinRequest{Tier: "storage"})
	r1 := c.join(topology.JoinRequest{Tier: "router"})
	s2 := c.join(topology.JoinRequest{Tier: "storage"})
	r2 := c.join(topology.JoinRequest{Tier: "router"})
	assert.Equal(t, "storage_1", s1.ReplicasetID)
	assert.Equal(t, "storage_1", s2.ReplicasetID)
	assert.Equal(t, "router_1", r1.ReplicasetID)
	assert.Equal(t, "router_1", r2.ReplicasetID)

	_, err := c.planJoin(topology.JoinRequest{Tier: "router", ReplicasetID: "storage_1"})
	require.ErrorContains(t, err, "tier mismatch")
}

func TestBehaviourARestartIsOnlineWithIncarnation2(t *testing.T) {
	c := newCluster(t, tier("storage", 1))
	c.join(topology.JoinRequest{})
	i := c.join(topology.JoinRequest{})
	assert.Equal(t, online(1), c.update(topology.UpdateRequest{InstanceID: i.InstanceID, TargetGrade: tables.GradeOnline}).Target)
	// The governor brings it Online; then a graceful shutdown and a restart.
	c.apply(tables.Update(tables.TablePicoInstance, []any{i.InstanceID}, []any{"=", "current_grade", []any{"Online", 1}}))
	assert.Equal(t, offline(1), c.update(topology.UpdateRequest{InstanceID: i.InstanceID, TargetGrade: tables.GradeOffline}).Target)
	c.apply(tables.Update(tables.TablePicoInstance, []any{i.InstanceID}, []any{"=", "current_grade", []any{"Offline", 1}}))
	assert.Equal(t, online(2), c.update(topology.UpdateRequest{InstanceID: i.InstanceID, TargetGrade: tables.GradeOnline}).Target)
}

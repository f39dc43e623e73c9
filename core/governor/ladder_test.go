package governor

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/vclock"
)

// Whole flows through the in-test executor: each Action's CaS applied to a
// real tables.Store, the topology read back for the next Plan.

func TestLadderFreshCluster(t *testing.T) {
	// As boot writes it, then .proc_update_instance(target Online).
	top := newTopo().tier("storage", 1, true).add("storage_1_1", 1, "storage_1", off(0), off(0))
	s := newSim(t, top, 1, voters(1))
	assert.Equal(t, []string{"idle: nothing to do"}, s.run(10), "nothing to do before it asks for Online")
	s.goOnline("storage_1_1")
	assert.Equal(t, []string{
		"replication: storage_1: master storage_1_1, peers [10.0.0.1:3301], ready (storage target vshard config version 1)",
		"sharding: storage: vshard config version 1 to [storage_1_1]",
		"sharding bootstrap: storage: bootstrap buckets on storage_1 master storage_1_1",
		"online: storage_1_1: ShardingInitialized(1) -> Online(1)",
		"idle: nothing to do",
	}, s.run(10))
	assert.Equal(t, []api.Request{
		api.Replication{IsMaster: true, Peers: []string{addr(1)}},
		api.Sharding{DoReconfigure: true},
		api.ShardingBootstrap{},
	}, s.got["storage_1_1"])
	top2 := s.topology()
	tier, _ := top2.Tier("storage")
	assert.Equal(t, tables.Tier{Name: "storage", ReplicationFactor: 1, CanVote: true, CurrentVshardConfigVersion: 1,
		TargetVshardConfigVersion: 1, VshardBootstrapped: true, BucketCount: tables.DefaultBucketCount}, tier)
	assert.Equal(t, voters(1), s.conf)
}

// TestLadderJoinRF2: a second instance joins a replicaset with RF 2; it
// climbs Offline → Replicated → ShardingInitialized → Online, the
// replicaset becomes ready, and the buckets are bootstrapped only then.
func TestLadderJoinRF2(t *testing.T) {
	top := newTopo().tier("storage", 2, true).add("storage_1_1", 1, "storage_1", off(0), on(1))
	s := newSim(t, top, 1, voters(1))
	assert.Equal(t, []string{
		"replication: storage_1: master storage_1_1, peers [10.0.0.1:3301]",
		"sharding: storage: vshard config version 0 to [storage_1_1]",
		"online: storage_1_1: ShardingInitialized(1) -> Online(1)",
		"idle: nothing to do",
	}, s.run(10))
	rs := func() tables.Replicaset { top := s.topology(); r, _ := top.Replicaset("storage_1"); return r }
	assert.Equal(t, tables.ReplicasetNotReady, rs().State, "one of two: not ready, no bootstrap")

	s.join("storage_1_2", 2, "storage_1", "storage")
	assert.Equal(t, []string{
		"conf change: voters [1], learners [2]: l2",
		"replication: storage_1: master storage_1_1, peers [10.0.0.1:3301 10.0.0.2:3301]",
		"idle: nothing to do",
	}, s.run(10), "the join bumped the config version: the master hears of the newcomer")

	s.goOnline("storage_1_2")
	var grades []tables.Grade
	for {
		a := s.step()
		grades = append(grades, s.instance("storage_1_2").Current)
		if a.Step() == StepIdle {
			break
		}
	}
	assert.Equal(t, []string{
		"replication: storage_1: master storage_1_1, peers [10.0.0.1:3301 10.0.0.2:3301], ready (storage target vshard config version 1)",
		"sharding: storage: vshard config version 1 to [storage_1_1 storage_1_2]",
		"sharding bootstrap: storage: bootstrap buckets on storage_1 master storage_1_1",
		"online: storage_1_2: ShardingInitialized(1) -> Online(1)",
		"conf change: voters [1 2], learners []: v2",
		"idle: nothing to do",
	}, s.trace[len(s.trace)-6:])
	assert.Equal(t, []tables.Grade{rep(1), shi(1), shi(1), on(1), on(1), on(1)}, grades)
	assert.Equal(t, tables.ReplicasetReady, rs().State)
	assert.Equal(t, 1.0, rs().Weight)
	assert.Equal(t, []api.Request{
		api.Replication{IsMaster: false, Peers: []string{addr(1), addr(2)}},
		api.Sharding{DoReconfigure: true},
	}, s.got["storage_1_2"])
	assert.Equal(t, []api.Request{
		api.Replication{IsMaster: true, Peers: []string{addr(1)}},
		api.Sharding{DoReconfigure: true},
		api.Replication{IsMaster: true, Peers: []string{addr(1), addr(2)}},
		api.Replication{IsMaster: true, Peers: []string{addr(1), addr(2)}},
		api.Sharding{DoReconfigure: true},
		api.ShardingBootstrap{},
	}, s.got["storage_1_1"])
}

// TestReincarnation: a restarted instance (target Online(2), current
// Online(1)) climbs the ladder again; the voters stay as they are.
func TestReincarnation(t *testing.T) {
	s := newSim(t, storage(3), 1, voters(1, 2, 3))
	s.goOnline("s2")
	assert.Equal(t, []string{
		"replication: r2: master s2, peers [10.0.0.2:3301]",
		"sharding: storage: vshard config version 1 to [s1 s2 s3]",
		"online: s2: ShardingInitialized(2) -> Online(2)",
		"idle: nothing to do",
	}, s.run(10))
	assert.Equal(t, on(2), s.instance("s2").Current)
	assert.Equal(t, voters(1, 2, 3), s.conf, "a climbing voter keeps its seat")
	assert.Equal(t, []api.Request{api.Sharding{}}, s.got["s1"], "the others keep their sharding config")
	assert.Equal(t, []api.Request{api.Replication{IsMaster: true, Peers: []string{addr(2)}}, api.Sharding{DoReconfigure: true}},
		s.got["s2"])
}

// TestShutdownAndRestart: a voter stopped gracefully is demoted and
// replaced; back, it climbs again and waits as a learner (no swaps).
func TestShutdownAndRestart(t *testing.T) {
	s := newSim(t, storage(4), 1, withLearners(voters(1, 2, 3), 4))
	s.goOffline("s3")
	assert.Equal(t, []string{
		"offline: s3: Online(1) -> Offline(1)",
		"conf change: voters [1 2 4], learners [3]: l3 v4",
		"idle: nothing to do",
	}, s.run(10))
	s.goOnline("s3")
	assert.Equal(t, []string{StepReplication, StepSharding, StepOnline, StepIdle}, steps(s.run(10)))
	assert.Equal(t, on(2), s.instance("s3").Current)
	assert.Equal(t, withLearners(voters(1, 2, 4), 3), s.conf)
}

// TestLeaderShutdown: the leader going Offline hands over first; the new
// leader takes it down and demotes it.
func TestLeaderShutdown(t *testing.T) {
	s := newSim(t, storage(3), 1, voters(1, 2, 3))
	s.goOffline("s1")
	assert.Equal(t, []string{
		"transfer leadership: leader s1 (raft id 1) has target Offline(1): hand over to s2 (raft id 2)",
		"offline: s1: Online(1) -> Offline(1)",
		"conf change: voters [2 3], learners [1]: l1",
		"idle: nothing to do",
	}, s.run(10))
	assert.Equal(t, uint64(2), s.self)
}

// TestLastInstanceShutdown: alone, the leader takes itself down.
func TestLastInstanceShutdown(t *testing.T) {
	s := newSim(t, storage(1), 1, voters(1))
	s.goOffline("s1")
	assert.Equal(t, []string{"offline: s1: Online(1) -> Offline(1)", "idle: nothing to do"}, s.run(10))
	assert.Equal(t, voters(1), s.conf)
}

// TestMasterReelection: the master of a replicaset goes Offline; another
// member becomes master; back, the old master is a replica.
func TestMasterReelection(t *testing.T) {
	top := newTopo().tier("storage", 2, true).
		add("s1", 1, "r1", on(1), on(1)).add("s2", 2, "r1", on(1), on(1)).
		add("s3", 3, "r2", on(1), on(1)).add("s4", 4, "r2", on(1), on(1)).settled()
	s := newSim(t, top, 3, withLearners(voters(1, 2, 3), 4))
	s.goOffline("s1")
	assert.Equal(t, []string{
		"offline: s1: Online(1) -> Offline(1)",
		"conf change: voters [2 3 4], learners [1]: l1 v4",
		`target master: r1: target master "s1" -> "s2", target config version 2`,
		"master switchover: r1: master s1 -> s2: demote s1, promote s2",
		"replication: r1: master s2, peers [10.0.0.1:3301 10.0.0.2:3301]",
		"idle: nothing to do",
	}, s.run(10))
	assert.Equal(t, []api.Request{api.ReplicationPromote{VClock: vclock.VClock{}},
		api.Replication{IsMaster: true, Peers: []string{addr(1), addr(2)}}}, s.got["s2"])
	assert.Equal(t, []api.Request{api.ReplicationDemote{}}, s.got["s1"],
		"going Offline but still reachable: demoted first")

	s.goOnline("s1")
	s.run(10)
	assert.Equal(t, api.Replication{IsMaster: false, Peers: []string{addr(1), addr(2)}}, s.got["s1"][1])
	top2 := s.topology()
	rs, _ := top2.Replicaset("r1")
	assert.Equal(t, "s2", rs.CurrentMasterID)
	assert.Equal(t, on(2), s.instance("s1").Current)
}

// TestExpelFlow: an expelled voter is demoted to a learner, its current
// grade follows (it still hears of it), then it leaves the configuration;
// the leader expelled hands over first.
func TestExpelFlow(t *testing.T) {
	s := newSim(t, storage(4), 1, withLearners(voters(1, 2, 3), 4))
	s.expel("s3")
	assert.Equal(t, []string{
		"conf change: voters [1 2 4], learners [3]: l3 v4",
		"expel: s3: Online(1) -> Expelled(1)",
		"conf change: voters [1 2 4], learners []: r3",
		"idle: nothing to do",
	}, s.run(10))

	s.expel("s1")
	assert.Equal(t, []string{
		"transfer leadership: leader s1 (raft id 1) has target Expelled(1): hand over to s2 (raft id 2)",
		"conf change: voters [2 4], learners [1]: l1",
		"expel: s1: Online(1) -> Expelled(1)",
		"conf change: voters [2 4], learners []: r1",
		"idle: nothing to do",
	}, s.run(10))
	assert.Equal(t, voters(2, 4), s.conf)
	for _, id := range []string{"s1", "s3"} {
		require.Equal(t, expd(1), s.instance(id).Current)
	}
}

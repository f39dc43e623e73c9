package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/picogo/picogo/core/tables"
	"github.com/stretchr/testify/require"
)

func testTopology() tables.Topology {
	g := func(v string, i uint64) tables.Grade { return tables.Grade{Variant: v, Incarnation: i} }
	return tables.Topology{
		Tiers: []tables.Tier{{Name: "storage", ReplicationFactor: 2, CanVote: true, BucketCount: 3000, VshardBootstrapped: true}},
		Replicasets: []tables.Replicaset{
			{ReplicasetID: "storage_1", CurrentMasterID: "storage_1_1", TargetMasterID: "storage_1_1", Tier: "storage", Weight: 1, State: "ready"},
			{ReplicasetID: "storage_2", CurrentMasterID: "storage_2_1", TargetMasterID: "storage_2_2", Tier: "storage", State: "not-ready"},
		},
		Instances: []tables.Instance{
			{InstanceID: "storage_2_1", RaftID: 3, ReplicasetID: "storage_2", Tier: "storage", Current: g("Expelled", 1), Target: g("Expelled", 1)},
			{InstanceID: "storage_1_1", RaftID: 1, ReplicasetID: "storage_1", Tier: "storage", Current: g("Online", 1), Target: g("Online", 1),
				FailureDomain: map[string]string{"DC": "MSK"}},
			{InstanceID: "storage_1_2", RaftID: 2, ReplicasetID: "storage_1", Tier: "storage", Current: g("Offline", 1), Target: g("Online", 2)},
			{InstanceID: "storage_2_2", RaftID: 4, ReplicasetID: "storage_2", Tier: "storage", Current: g("Online", 1), Target: g("Online", 1)},
		},
		Buckets: []tables.BucketRange{
			{Tier: "storage", First: 1, Last: 2900, ReplicasetID: "storage_1", State: tables.BucketActive},
			{Tier: "storage", First: 2901, Last: 3000, ReplicasetID: "storage_1", State: tables.BucketSending, Destination: "storage_2"},
		},
		Addresses: map[uint64]string{1: "10.0.0.1:3301", 2: "10.0.0.2:3301", 3: "10.0.0.3:3301", 4: "10.0.0.4:3301"},
	}
}

func TestStatusText(t *testing.T) {
	v := buildTopology(testTopology(), 1, &raftConf{Voters: []uint64{1, 4}, Learners: []uint64{2}})
	v.Instances[0].Raft = &memberRaft{State: "Leader", Term: 3, Applied: 40, LeaderID: 1}
	v.Instances[1].Raft = &memberRaft{Error: "connection refused"}
	v.Instances[3].Raft = &memberRaft{State: "Candidate", Term: 4, Applied: 39}
	st := &clusterStatus{Cluster: "demo", Source: "10.0.0.1:3301", Applied: 40, Governor: "idle",
		Leader: &leaderView{RaftID: 1, Instance: "storage_1_1", Address: "10.0.0.1:3301", Term: 3}, topologyView: v}
	var b bytes.Buffer
	st.print(&b)
	got := b.String()
	lines := strings.Split(got, "\n")
	require.Equal(t, []string{
		"cluster demo, as 10.0.0.1:3301 has applied it (index 40)",
		"leader: storage_1_1 (raft id 1, 10.0.0.1:3301), term 3; governor: idle",
		"",
		"TIER     RF  CAN_VOTE  BUCKETS  REPLICASETS",
		"storage  2   true      3000     2",
		"",
		"REPLICASET  TIER     MASTER                      STATE      INSTANCES  WEIGHT  BUCKETS",
		"storage_1   storage  storage_1_1                 ready      2/2        1       3000",
		"storage_2   storage  storage_2_1 -> storage_2_2  not-ready  1/2        0       0",
		"  moving: storage 2901-3000 storage_1 sending to storage_2",
		"",
		"INSTANCE     RAFT_ID  ADDRESS        REPLICASET  TIER     CURRENT      TARGET       RAFT                  APPLIED",
		"storage_1_1  1        10.0.0.1:3301  storage_1   storage  Online(1)    Online(1)    leader, voter         40",
		"storage_1_2  2        10.0.0.2:3301  storage_1   storage  Offline(1)   Online(2)    learner, unreachable  -",
		"storage_2_1  3        10.0.0.3:3301  storage_2   storage  Expelled(1)  Expelled(1)  -                     -",
		"storage_2_2  4        10.0.0.4:3301  storage_2   storage  Online(1)    Online(1)    voter, candidate      39",
		"  unreachable: storage_1_2 (10.0.0.2:3301): connection refused",
		"",
	}, lines, got)
}

func TestStatusJSON(t *testing.T) {
	v := buildTopology(testTopology(), 0, nil)
	b, err := json.Marshal(&clusterStatus{Cluster: "demo", Governor: "unknown", topologyView: v})
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	require.Nil(t, m["leader"])
	require.Len(t, m["tiers"], 1)
	require.Len(t, m["replicasets"], 2)
	instances := m["instances"].([]any)
	require.Len(t, instances, 4)
	first := instances[0].(map[string]any)
	require.Equal(t, "storage_1_1", first["name"], "instances by raft id")
	require.Equal(t, map[string]any{"variant": "Online", "incarnation": float64(1)}, first["current_grade"])
	require.Equal(t, map[string]any{"DC": "MSK"}, first["failure_domain"])
	require.Equal(t, false, first["leader"])
	require.NotContains(t, first, "voter", "unknown without the Raft configuration")
	rs := m["replicasets"].([]any)[1].(map[string]any)
	require.Equal(t, float64(1), rs["instances"], "expelled members do not count")
}

// Roles, when the cluster has some, follow: what each is and where it is
// enabled, then what each instance did with it.
func TestStatusRoles(t *testing.T) {
	top := testTopology()
	top.Roles = []tables.Role{
		{Name: "api", Version: "1.2.0", Dependencies: []string{"metrics"}, OnceDDL: []string{"CREATE TABLE a (id INT PRIMARY KEY)"}, DDLApplied: 1},
		{Name: "metrics", Version: "1.0.0", Dependencies: []string{}, OnceDDL: []string{}},
	}
	top.RoleTiers = []tables.RoleTier{{Role: "api", Tier: "storage"}}
	top.RoleStates = []tables.RoleState{
		{InstanceID: "storage_1_1", Role: "api", State: tables.RoleRunning, Version: "1.2.0", Incarnation: 1},
		{InstanceID: "storage_2_2", Role: "api", State: tables.RoleFailed, Error: "listen tcp :8080: address already in use", Version: "1.2.0", Incarnation: 1},
	}
	var b bytes.Buffer
	buildTopology(top, 1, nil).print(&b)
	got := b.String()
	require.Contains(t, got, strings.Join([]string{
		"ROLE     VERSION  NEEDS    TIERS    DDL",
		"api      1.2.0    metrics  storage  1/1",
		"metrics  1.0.0    -        -        0/0",
		"",
		"INSTANCE     ROLE  STATE    VERSION  ERROR",
		"storage_1_1  api   running  1.2.0    -",
		"storage_2_2  api   failed   1.2.0    listen tcp :8080: address already in use",
		""}, "\n"), got)

	var plain bytes.Buffer
	buildTopology(testTopology(), 1, nil).print(&plain)
	require.NotContains(t, plain.String(), "ROLE", "no roles, no table")
}

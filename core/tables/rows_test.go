package tables

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTopologyRowsRoundTrip(t *testing.T) {
	s := New()
	inst := Instance{InstanceID: "storage_1_1", InstanceUUID: "u1", RaftID: 1, ReplicasetID: "storage_1",
		ReplicasetUUID: "r1", Current: Grade{GradeOffline, 0}, Target: Grade{GradeOnline, 1},
		FailureDomain: map[string]string{"DC": "MSK"}, Tier: "storage"}
	rs := Replicaset{ReplicasetID: "storage_1", ReplicasetUUID: "r1", CurrentMasterID: "storage_1_1",
		TargetMasterID: "storage_1_1", Tier: "storage", Weight: 1, State: ReplicasetReady, CurrentConfigVersion: 2, TargetConfigVersion: 3}
	tier := Tier{Name: "storage", ReplicationFactor: 2, CanVote: true, TargetVshardConfigVersion: 1, BucketCount: DefaultBucketCount}
	res := s.ApplyOp(BatchOp(
		Insert(TablePicoInstance, inst.Tuple()...), Insert(TablePicoReplicaset, rs.Tuple()...),
		Insert(TablePicoTier, tier.Tuple()...), Insert(TablePicoPeerAddress, uint64(1), "a:1")))
	require.Nil(t, res.Err)
	top, err := s.ReadTopology()
	require.NoError(t, err)
	rs.PromotionVclock = map[string]any{}
	require.Equal(t, []Instance{inst}, top.Instances)
	require.Equal(t, []Replicaset{rs}, top.Replicasets)
	require.Equal(t, []Tier{tier}, top.Tiers)
	require.Equal(t, map[uint64]string{1: "a:1"}, top.Addresses)
	got, ok := top.Instance("storage_1_1")
	require.True(t, ok)
	require.Equal(t, inst, got)
	_, ok = top.Replicaset("nope")
	require.False(t, ok)

	_, err = InstanceFrom([]any{"x"})
	require.Error(t, err)
	_, err = InstanceFrom([]any{"i", "u", 1, "r", "ru", "Online", []any{"Online", 1}, map[string]any{}, "t"})
	require.ErrorContains(t, err, "is not [variant, incarnation]")
}

// An address that an instance joined later, and started, advertises too is
// that one's: the process that listened there for the older name lost its
// data and joined again, so the older name has no address any more. A
// later join that never started (5, at b:1: a stale join forwarded late,
// its process gone) takes nothing over.
func TestTopologyAddressTakenOverByALaterJoin(t *testing.T) {
	started := Instance{Target: Grade{Variant: GradeOnline, Incarnation: 1}}
	never := Instance{Target: Grade{Variant: GradeOffline}}
	top := Topology{Addresses: map[uint64]string{1: "a:1", 2: "b:1", 3: "a:1", 4: "", 5: "b:1"}}
	for id, i := range map[uint64]Instance{1: started, 2: started, 3: started, 5: never} {
		i.RaftID = id
		top.Instances = append(top.Instances, i)
	}
	for _, tc := range []struct {
		id   uint64
		want string
		ok   bool
	}{{1, "", false}, {2, "b:1", true}, {3, "a:1", true}, {4, "", false}, {5, "b:1", true}, {6, "", false}} {
		got, ok := top.Address(tc.id)
		assert.Equal(t, tc.ok, ok, "raft id %d", tc.id)
		assert.Equal(t, tc.want, got, "raft id %d", tc.id)
	}
}

// Expelled: target or current Expelled (on its way out, or out);
// ExpelDone: current Expelled only.
func TestInstanceExpelled(t *testing.T) {
	for _, tt := range []struct {
		current, target string
		expelled, done  bool
	}{
		{GradeOnline, GradeOnline, false, false},
		{GradeOffline, GradeOffline, false, false},
		{GradeOnline, GradeExpelled, true, false},  // being expelled
		{GradeOffline, GradeExpelled, true, false}, // being expelled
		{GradeExpelled, GradeExpelled, true, true}, // expelled
		{GradeExpelled, GradeOnline, true, true},   // no rule writes it; both still say so
	} {
		i := Instance{Current: Grade{Variant: tt.current}, Target: Grade{Variant: tt.target}}
		assert.Equal(t, tt.expelled, i.Expelled(), "%s/%s", tt.current, tt.target)
		assert.Equal(t, tt.done, i.ExpelDone(), "%s/%s", tt.current, tt.target)
	}
}

// The topology is kept decoded between reads, and only the tables written
// since are decoded again: after a write to any one of them, and after a
// snapshot is restored, it must be what a fresh decoding of every table
// gives, and a copy the caller may change without changing the next one.
func TestTopologyKeptUntilItsTablesChange(t *testing.T) {
	s := New()
	fresh := func() Topology {
		m, err := s.readTopology(&topologyMemo{})
		require.NoError(t, err)
		return m.top
	}
	check := func(what string) {
		top, err := s.ReadTopology()
		require.NoError(t, err, what)
		require.Equal(t, fresh(), top, what)
	}
	apply := func(what string, ds ...Dml) {
		require.Nil(t, s.ApplyOp(BatchOp(ds...)).Err, what)
		check(what)
	}
	check("empty")
	inst := Instance{InstanceID: "i1", InstanceUUID: "u1", RaftID: 1, ReplicasetID: "r1", ReplicasetUUID: "ru1",
		Current: Grade{GradeOffline, 0}, Target: Grade{GradeOnline, 1}, FailureDomain: map[string]string{}, Tier: "default"}
	apply("instance", Insert(TablePicoInstance, inst.Tuple()...))
	rs := Replicaset{ReplicasetID: "r1", ReplicasetUUID: "ru1", Tier: "default", Weight: 1, State: ReplicasetReady}
	apply("replicaset", Insert(TablePicoReplicaset, rs.Tuple()...))
	apply("tier", Insert(TablePicoTier, Tier{Name: "default", ReplicationFactor: 1, CanVote: true, BucketCount: DefaultBucketCount}.Tuple()...))
	apply("address", Insert(TablePicoPeerAddress, uint64(1), "a:1"))
	apply("bucket", Insert(TablePicoBucket, BucketRange{Tier: "default", First: 1, Last: 3000, ReplicasetID: "r1", State: "active"}.Tuple()...))
	apply("role", Insert(TablePicoRole, Role{Name: "api", Version: "1.0.0"}.Tuple()...))
	apply("role tier", Insert(TablePicoRoleTier, RoleTier{Role: "api", Tier: "default"}.Tuple()...))
	apply("role state", Insert(TablePicoRoleState, RoleState{InstanceID: "i1", Role: "api", State: "running", Version: "1.0.0"}.Tuple()...))
	apply("role config", Insert(TablePicoRoleConfig, RoleConfig{Role: "api", Config: map[string]any{"k": "v"}}.Tuple()...))
	inst.Current = Grade{GradeOnline, 1}
	apply("instance again", Replace(TablePicoInstance, inst.Tuple()...))
	apply("address gone", Delete(TablePicoPeerAddress, uint64(1)))

	// A copy is the caller's.
	top, err := s.ReadTopology()
	require.NoError(t, err)
	top.Instances[0].InstanceID = "changed"
	top.Addresses[7] = "x"
	check("after the caller changed its copy")

	// A restored snapshot is other tables altogether.
	other := New()
	require.Nil(t, other.ApplyOp(BatchOp(Insert(TablePicoTier, Tier{Name: "t2", ReplicationFactor: 1, BucketCount: 10}.Tuple()...))).Err)
	require.NoError(t, s.Restore(readChunks(t, other.Snapshot())))
	check("restored")
	require.Len(t, fresh().Tiers, 1)
	require.Equal(t, "t2", fresh().Tiers[0].Name)
}

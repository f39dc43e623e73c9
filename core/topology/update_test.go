package topology_test

import (
	"testing"

	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/topology"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUpdateRefusals(t *testing.T) {
	topo := build([]tables.Tier{tier("storage", 3)},
		row{name: "a", raftID: 1, rs: "storage_1", fd: "DC=A,RACK=1"},
		row{name: "b", raftID: 2, rs: "storage_1", fd: "DC=B,RACK=2"},
		row{name: "c", raftID: 3, rs: "storage_2", fd: "DC=C,RACK=3"},
		row{name: "going", raftID: 4, rs: "storage_2", fd: "DC=D", cur: online(1), tgt: expelled(1)},
		row{name: "gone", raftID: 5, rs: "storage_3", fd: "DC=E", cur: expelled(1), tgt: expelled(1)},
	)
	tests := []struct {
		name string
		req  topology.UpdateRequest
		want string
	}{
		{"another cluster", topology.UpdateRequest{InstanceID: "a", ClusterID: "x"},
			`cluster_id mismatch: cluster_id of the instance = "x", cluster_id of the cluster = "cluster-1"`},
		{"unknown instance", topology.UpdateRequest{InstanceID: "nobody", ClusterID: cid}, "no such instance nobody"},
		{"being expelled", topology.UpdateRequest{InstanceID: "going", ClusterID: cid, TargetGrade: tables.GradeOnline},
			"instance going is being expelled"},
		{"expelled", topology.UpdateRequest{InstanceID: "gone", ClusterID: cid}, "instance gone is expelled"},
		{"target Expelled", topology.UpdateRequest{InstanceID: "a", ClusterID: cid, TargetGrade: tables.GradeExpelled},
			`target grade must be Online or Offline, not "Expelled"`},
		{"target Replicated", topology.UpdateRequest{InstanceID: "a", ClusterID: cid, TargetGrade: tables.GradeReplicated},
			`target grade must be Online or Offline, not "Replicated"`},
		{"a failure domain dropping a name in use",
			topology.UpdateRequest{InstanceID: "a", ClusterID: cid, FailureDomain: fd("DC=Z")},
			"missing failure domain names: RACK"},
		{"a failure domain intersecting a replicaset member's",
			topology.UpdateRequest{InstanceID: "a", ClusterID: cid, FailureDomain: fd("dc=z,rack=2")},
			"failure domain {DC=Z, RACK=2} of a would share RACK=2 with b of replicaset storage_1"},
		{"a malformed failure domain",
			topology.UpdateRequest{InstanceID: "a", ClusterID: cid, FailureDomain: fd("DC=Z,dc=y")},
			"failure domain name DC is given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ops, err := topology.PlanUpdate(topo, cid, tt.req)
			require.EqualError(t, err, tt.want)
			assert.Nil(t, ops)
		})
	}
}

func TestUpdateTargetGrade(t *testing.T) {
	tests := []struct {
		name      string
		cur, tgt  tables.Grade
		requested string
		want      tables.Grade
	}{
		{"Online after a restart reincarnates", offline(1), offline(1), tables.GradeOnline, online(2)},
		{"Online after joining", offline(0), offline(0), tables.GradeOnline, online(1)},
		{"Online counts from the larger incarnation (target)", offline(1), offline(3), tables.GradeOnline, online(4)},
		{"Online counts from the larger incarnation (current)", online(5), offline(2), tables.GradeOnline, online(6)},
		{"Online again still reincarnates", online(2), online(2), tables.GradeOnline, online(3)},
		{"Offline keeps the target incarnation", online(2), online(3), tables.GradeOffline, offline(3)},
		{"Offline keeps the target incarnation (target behind)", online(4), online(2), tables.GradeOffline, offline(2)},
		{"no target leaves it", online(2), online(2), "", online(2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topo := build(storage,
				row{name: "a", raftID: 1, rs: "storage_1", cur: tt.cur, tgt: tt.tgt},
				row{name: "b", raftID: 2, rs: "storage_2"})
			got, ops, err := topology.PlanUpdate(topo, cid,
				topology.UpdateRequest{InstanceID: "a", ClusterID: cid, TargetGrade: tt.requested})
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.Target)
			assert.Equal(t, tt.cur, got.Current, "only the governor moves current")
			if tt.want == tt.tgt {
				assert.Empty(t, ops)
				return
			}
			assert.Equal(t, []tables.Dml{tables.Update(tables.TablePicoInstance, []any{"a"},
				[]any{"=", "target_grade", []any{tt.want.Variant, tt.want.Incarnation}})}, ops)
		})
	}
}

func TestUpdateFailureDomain(t *testing.T) {
	rows := []row{
		{name: "a", raftID: 1, rs: "storage_1", fd: "DC=A,ONLYME=1"},
		{name: "b", raftID: 2, rs: "storage_1", fd: "DC=B"},
		{name: "c", raftID: 3, rs: "storage_2", fd: "DC=C"},
		{name: "x", raftID: 4, rs: "storage_1", fd: "DC=X,RACK=9", tgt: expelled(1)},
	}
	tests := []struct {
		name string
		fd   map[string]string
		want map[string]string // nil: unchanged, no ops
	}{
		{"nil leaves it", nil, nil},
		{"the same domain in another case is no change", fd("dc=a,onlyme=1"), nil},
		{"upper-cased", fd("dc=z"), fd("DC=Z")},
		{"a name only it uses may go", fd("DC=Z"), fd("DC=Z")},
		{"a new name may come", fd("DC=Z,ONLYME=1,ZONE=n"), fd("DC=Z,ONLYME=1,ZONE=N")},
		{"sharing with another replicaset's member is fine", fd("DC=C"), fd("DC=C")},
		{"sharing with an expelled member is fine", fd("DC=X"), fd("DC=X")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topo := build([]tables.Tier{tier("storage", 3)}, rows...)
			got, ops, err := topology.PlanUpdate(topo, cid,
				topology.UpdateRequest{InstanceID: "a", ClusterID: cid, FailureDomain: tt.fd})
			require.NoError(t, err)
			if tt.want == nil {
				assert.Equal(t, fd("DC=A,ONLYME=1"), got.FailureDomain)
				assert.Empty(t, ops)
				return
			}
			assert.Equal(t, tt.want, got.FailureDomain)
			require.Len(t, ops, 1)
		})
	}
}

func TestUpdateOfAnUnchangedDomainIsNotRechecked(t *testing.T) {
	// a and b were placed together explicitly although they share DC=A; a
	// restart, which reports the same domain, must still go through.
	topo := build([]tables.Tier{tier("storage", 2)},
		row{name: "a", raftID: 1, rs: "storage_1", fd: "DC=A", cur: offline(1), tgt: offline(1)},
		row{name: "b", raftID: 2, rs: "storage_1", fd: "DC=A"},
	)
	got, ops, err := topology.PlanUpdate(topo, cid, topology.UpdateRequest{
		InstanceID: "a", ClusterID: cid, TargetGrade: tables.GradeOnline, FailureDomain: fd("dc=a")})
	require.NoError(t, err)
	assert.Equal(t, online(2), got.Target)
	assert.Len(t, ops, 1)
}

func TestUpdateOpsApplyToTheStore(t *testing.T) {
	c := newCluster(t, tier("storage", 2))
	a := c.joinIn("DC=A")
	c.joinIn("DC=B")
	c.joinIn("DC=C")

	got := c.update(topology.UpdateRequest{InstanceID: a.InstanceID, TargetGrade: tables.GradeOnline, FailureDomain: fd("dc=d")})
	topo := c.topology()
	stored, _ := topo.Instance(a.InstanceID)
	assert.Equal(t, got, stored)
	assert.Equal(t, online(1), stored.Target)
	assert.Equal(t, fd("DC=D"), stored.FailureDomain)

	// A concurrent governor write of current_grade survives: the update
	// only sets the fields it changes.
	c.apply(tables.Update(tables.TablePicoInstance, []any{a.InstanceID},
		[]any{"=", "current_grade", []any{tables.GradeReplicated, uint64(1)}}))
	_, ops, err := topology.PlanUpdate(topo, cid, topology.UpdateRequest{InstanceID: a.InstanceID, ClusterID: cid,
		TargetGrade: tables.GradeOffline})
	require.NoError(t, err)
	c.apply(ops...)
	topo = c.topology()
	stored, _ = topo.Instance(a.InstanceID)
	assert.Equal(t, tables.Grade{Variant: tables.GradeReplicated, Incarnation: 1}, stored.Current)
	assert.Equal(t, offline(1), stored.Target)
}

func TestUpdateRanges(t *testing.T) {
	s := tables.New()
	key := mustMarshal(t, []any{"a"})
	assert.Equal(t, []tables.Range{{Table: tables.TablePicoInstance, Key: key}},
		topology.UpdateRanges(topology.UpdateRequest{InstanceID: "a", TargetGrade: tables.GradeOnline}))
	assert.Equal(t, []tables.Range{{Table: tables.TablePicoInstance}},
		topology.UpdateRanges(topology.UpdateRequest{InstanceID: "a", FailureDomain: fd("")}))
	for _, r := range topology.UpdateRanges(topology.UpdateRequest{InstanceID: "a"}) {
		require.NoError(t, s.CheckRange(r))
	}
}

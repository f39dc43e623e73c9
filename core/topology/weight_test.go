package topology_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/topology"
)

func TestPlanWeight(t *testing.T) {
	top := build(storage, row{name: "a", raftID: 1, rs: "storage_1"}, row{name: "b", raftID: 2, rs: "storage_2"},
		row{name: "c", raftID: 3, rs: "storage_3"})
	top.Replicasets[0].State, top.Replicasets[0].Weight = tables.ReplicasetReady, 1
	top.Replicasets[1].State = tables.ReplicasetNotReady
	top.Replicasets[2].State, top.Replicasets[2].Weight = tables.ReplicasetReady, 0
	for _, tc := range []struct {
		name    string
		rs      string
		weight  float64
		cluster string
		want    []tables.Dml
		err     string
	}{
		{name: "weigh a drained one again", rs: "storage_3", weight: 2,
			want: []tables.Dml{tables.Update(tables.TablePicoReplicaset, []any{"storage_3"}, []any{"=", "weight", 2.0})}},
		{name: "drain the last with a weight", rs: "storage_1", weight: 0,
			err: "replicaset storage_1 is the last of tier storage with a weight above 0: give another replicaset of the tier a weight first"},
		{name: "the same weight: nothing to write", rs: "storage_1", weight: 1},
		{name: "a negative weight", rs: "storage_1", weight: -1, err: "weight -1: a weight is a finite number, 0 or more"},
		{name: "NaN", rs: "storage_1", weight: math.NaN(), err: "weight NaN: a weight is a finite number, 0 or more"},
		{name: "unknown replicaset", rs: "nope", weight: 1, err: "no such replicaset nope"},
		{name: "not ready", rs: "storage_2", weight: 2, err: "replicaset storage_2 is not ready yet: its weight is the governor's until it is"},
		{name: "another cluster", rs: "storage_1", weight: 2, cluster: "other", err: "cluster_id mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cluster := cid
			if tc.cluster != "" {
				cluster = tc.cluster
			}
			ops, err := topology.PlanWeight(top, cid, cluster, tc.rs, tc.weight)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, ops)
		})
	}
	top.Replicasets[2].Weight = 1
	ops, err := topology.PlanWeight(top, cid, cid, "storage_1", 0)
	require.NoError(t, err, "another replicaset of the tier has a weight now")
	require.Equal(t, []tables.Dml{tables.Update(tables.TablePicoReplicaset, []any{"storage_1"}, []any{"=", "weight", 0.0})}, ops)
	require.Equal(t, []tables.Range{{Table: tables.TablePicoReplicaset}, {Table: tables.TablePicoInstance}}, topology.WeightRanges(),
		"the whole tables: two drains at once, or a drain and an expel, must not both pass as not the last")
	top.Instances[2].Target = expelled(1)
	_, err = topology.PlanWeight(top, cid, cid, "storage_1", 0)
	require.ErrorContains(t, err, "the last of tier storage with a weight above 0", "storage_3's only member is being expelled")
}

package topology

import (
	"fmt"
	"math"

	"github.com/picogo/picogo/core/tables"
)

// PlanWeight decides a change of a replicaset's weight — its share of its
// tier's buckets, 0 to drain it (the governor then moves its buckets
// away, docs/sharding.md): the DML that writes it (none if it has that
// weight already). Only a ready replicaset has a weight to change: the
// governor gives one 1 when it becomes ready.
func PlanWeight(t tables.Topology, clusterID, requested, replicaset string, weight float64) ([]tables.Dml, error) {
	if err := CheckClusterID(clusterID, requested); err != nil {
		return nil, err
	}
	if math.IsNaN(weight) || math.IsInf(weight, 0) || weight < 0 {
		return nil, fmt.Errorf("weight %v: a weight is a finite number, 0 or more", weight)
	}
	rs, ok := t.Replicaset(replicaset)
	if !ok {
		return nil, fmt.Errorf("no such replicaset %s", replicaset)
	}
	if rs.State != tables.ReplicasetReady {
		return nil, fmt.Errorf("replicaset %s is not ready yet: its weight is the governor's until it is", replicaset)
	}
	if rs.Weight == weight {
		return nil, nil
	}
	return []tables.Dml{tables.Update(tables.TablePicoReplicaset, []any{replicaset}, []any{"=", "weight", weight})}, nil
}

// WeightRanges is what the CaS of PlanWeight's ops must protect: the
// replicaset's row (its state).
func WeightRanges(replicaset string) []tables.Range {
	return []tables.Range{{Table: tables.TablePicoReplicaset, Key: key(replicaset)}}
}

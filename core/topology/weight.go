package topology

import (
	"fmt"
	"math"
	"slices"

	"github.com/picogo/picogo/core/sharding"
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
	if weight == 0 && !otherWeighted(t, rs) {
		// Draining it would leave the tier's buckets nowhere to go: the
		// governor would keep them where they are and the drain would
		// never end.
		return nil, fmt.Errorf("replicaset %s is the last of tier %s with a weight above 0: give another replicaset of the tier a weight first", replicaset, rs.Tier)
	}
	return []tables.Dml{tables.Update(tables.TablePicoReplicaset, []any{replicaset}, []any{"=", "weight", weight})}, nil
}

// otherWeighted reports whether rs's tier has another replicaset that may
// own buckets: ready, with a weight above 0 and a member not expelled (as
// the governor's rebalancing counts them).
func otherWeighted(t tables.Topology, rs tables.Replicaset) bool {
	return slices.ContainsFunc(sharding.Targets(t, rs.Tier), func(o sharding.Target) bool {
		return o.ID != rs.ReplicasetID && o.Owns()
	})
}

// WeightRanges is what the CaS of PlanWeight's ops must protect: every
// replicaset's row and every instance's (its state, and whether another
// replicaset of its tier may own buckets: two drains at once, or a drain
// and an expel, must not both pass as "not the last").
func WeightRanges() []tables.Range {
	return []tables.Range{{Table: tables.TablePicoReplicaset}, wholeInstanceTable()}
}

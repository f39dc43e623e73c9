package topology

import (
	"errors"
	"fmt"
	"slices"

	"github.com/picogo/picogo/core/tables"
)

// PlanExpel decides an expel: the instance's row after it and the DML that
// writes it (none when it is already expelled). See the package doc for the
// rules; ExpelRanges is what the CaS must protect.
//
// clusterID is the cluster's id, as for PlanJoin and PlanUpdate; the
// request's cluster id does not reach PlanExpel, so the caller checks it
// first with CheckClusterID.
func PlanExpel(t tables.Topology, clusterID, instanceID string) (tables.Instance, []tables.Dml, error) {
	old, ok := t.Instance(instanceID)
	if !ok {
		return tables.Instance{}, nil, fmt.Errorf("no such instance %s", instanceID)
	}
	if old.Expelled() {
		return old, nil, nil
	}
	live, voters := 0, 0
	canVote := func(i tables.Instance) bool {
		tier, ok := t.Tier(i.Tier)
		return ok && tier.CanVote
	}
	for _, i := range t.Instances {
		if !i.Expelled() {
			live++
			if canVote(i) {
				voters++
			}
		}
	}
	switch {
	case live <= 1:
		return tables.Instance{}, nil, errors.New("cannot expel the last instance")
	case canVote(old) && voters <= 1:
		// Nobody could take its vote: the cluster would stop for good.
		return tables.Instance{}, nil, errors.New("cannot expel the last instance of a tier that can vote")
	}
	if lastOf(t, old) {
		if held := bucketsHeld(t, old.ReplicasetID); held != "" {
			// Its rows would go with it: buckets move only between
			// replicasets that run.
			return tables.Instance{}, nil, fmt.Errorf("cannot expel %s, the last instance of replicaset %s: it %s; "+
				"drain it first (picogo drain %s) and wait until it holds no buckets", old.InstanceID, old.ReplicasetID, held,
				old.ReplicasetID)
		}
		if rs, ok := t.Replicaset(old.ReplicasetID); ok && rs.State == tables.ReplicasetReady && rs.Weight > 0 &&
			bootstrapped(t, rs.Tier) && !otherWeighted(t, rs) {
			// Its tier's buckets would have nowhere to be: the others
			// are being drained (or there are none).
			return tables.Instance{}, nil, fmt.Errorf("cannot expel %s, the last instance of replicaset %s: it is the last "+
				"of tier %s with a weight above 0, its buckets would have nowhere to go; give another replicaset of the "+
				"tier a weight first", old.InstanceID, old.ReplicasetID, rs.Tier)
		}
	}
	upd := old
	upd.Target = tables.Grade{Variant: tables.GradeExpelled, Incarnation: old.Target.Incarnation}
	ops := []tables.Dml{
		tables.Update(tables.TablePicoInstance, []any{old.InstanceID}, []any{"=", "target_grade", gradeTuple(upd.Target)}),
		tables.Update(tables.TablePicoReplicaset, []any{old.ReplicasetID}, []any{"+", "target_config_version", 1}),
	}
	return upd, ops, nil
}

// lastOf reports whether i is the last instance of its replicaset not
// expelled.
func lastOf(t tables.Topology, i tables.Instance) bool {
	for _, x := range t.Instances {
		if x.InstanceID != i.InstanceID && x.ReplicasetID == i.ReplicasetID && !x.Expelled() {
			return false
		}
	}
	return true
}

// bucketsHeld says how a replicaset still holds buckets ("" if it does
// not): it owns some, some are being sent to it, or rows of buckets it no
// longer owns are still to be deleted there.
func bucketsHeld(t tables.Topology, rs string) string {
	var owned uint64
	for _, b := range t.Buckets {
		switch {
		case b.Destination == rs:
			return fmt.Sprintf("is receiving buckets %d-%d", b.First, b.Last)
		case b.Garbage == rs:
			return fmt.Sprintf("still holds rows of buckets %d-%d to delete", b.First, b.Last)
		case b.ReplicasetID == rs:
			owned += b.Count()
		}
	}
	if owned > 0 {
		return fmt.Sprintf("owns %d buckets", owned)
	}
	return ""
}

// bootstrapped reports whether tier's buckets have owners.
func bootstrapped(t tables.Topology, tier string) bool {
	return slices.ContainsFunc(t.Buckets, func(b tables.BucketRange) bool { return b.Tier == tier })
}

// ExpelRanges is what the CaS of PlanExpel's ops must protect: every
// instance row, since "not the last instance" reads them all, every
// bucket range, since "holds no buckets" reads them all, and every
// replicaset, since "not the last with a weight" reads them all.
func ExpelRanges() []tables.Range {
	return []tables.Range{wholeInstanceTable(), {Table: tables.TablePicoBucket}, {Table: tables.TablePicoReplicaset}}
}

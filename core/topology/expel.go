package topology

import (
	"errors"
	"fmt"

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
	if expelled(old) {
		return old, nil, nil
	}
	live, voters := 0, 0
	canVote := func(i tables.Instance) bool {
		tier, ok := t.Tier(i.Tier)
		return ok && tier.CanVote
	}
	for _, i := range t.Instances {
		if !expelled(i) {
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
	upd := old
	upd.Target = tables.Grade{Variant: tables.GradeExpelled, Incarnation: old.Target.Incarnation}
	ops := []tables.Dml{
		tables.Update(tables.TablePicoInstance, []any{old.InstanceID}, []any{"=", "target_grade", gradeTuple(upd.Target)}),
		tables.Update(tables.TablePicoReplicaset, []any{old.ReplicasetID}, []any{"+", "target_config_version", 1}),
	}
	return upd, ops, nil
}

// ExpelRanges is what the CaS of PlanExpel's ops must protect: every
// instance row, since "not the last instance" reads them all.
func ExpelRanges() []tables.Range { return []tables.Range{wholeInstanceTable()} }

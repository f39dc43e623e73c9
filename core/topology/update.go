package topology

import (
	"fmt"
	"maps"

	"github.com/picogo/picogo/core/tables"
)

// UpdateRequest is a .proc_update_instance request as far as the rules go:
// the instance asks for a target grade and reports its failure domain.
type UpdateRequest struct {
	InstanceID string
	ClusterID  string
	// TargetGrade is tables.GradeOnline, tables.GradeOffline, or "" to
	// leave the target as it is.
	TargetGrade string
	// FailureDomain is the instance's failure domain; nil leaves it.
	FailureDomain map[string]string
}

// PlanUpdate decides an update_instance request: the instance's row after it
// and the DML that writes it (none when nothing changes). See the package
// doc for the rules; UpdateRanges is what the CaS must protect.
func PlanUpdate(t tables.Topology, clusterID string, req UpdateRequest) (tables.Instance, []tables.Dml, error) {
	if err := CheckClusterID(clusterID, req.ClusterID); err != nil {
		return tables.Instance{}, nil, err
	}
	old, ok := t.Instance(req.InstanceID)
	if !ok {
		return tables.Instance{}, nil, fmt.Errorf("no such instance %s", req.InstanceID)
	}
	switch {
	case old.ExpelDone():
		return tables.Instance{}, nil, fmt.Errorf("instance %s is %w", req.InstanceID, ErrExpelled)
	case old.Expelled():
		return tables.Instance{}, nil, fmt.Errorf("instance %s is being expelled", req.InstanceID)
	}
	upd := old
	var ops [][]any

	switch req.TargetGrade {
	case "":
	case tables.GradeOnline:
		upd.Target = tables.Grade{Variant: tables.GradeOnline,
			Incarnation: max(old.Current.Incarnation, old.Target.Incarnation) + 1}
	case tables.GradeOffline:
		upd.Target = tables.Grade{Variant: tables.GradeOffline, Incarnation: old.Target.Incarnation}
	default:
		return tables.Instance{}, nil, fmt.Errorf("target grade must be %s or %s, not %q",
			tables.GradeOnline, tables.GradeOffline, req.TargetGrade)
	}
	if upd.Target != old.Target {
		ops = append(ops, []any{"=", "target_grade", gradeTuple(upd.Target)})
	}

	if req.FailureDomain != nil {
		fd, err := normalizeFailureDomain(req.FailureDomain)
		if err != nil {
			return tables.Instance{}, nil, err
		}
		if !maps.Equal(fd, upper(old.FailureDomain)) {
			if err := checkDomainChange(t, old, fd); err != nil {
				return tables.Instance{}, nil, err
			}
			upd.FailureDomain = fd
			ops = append(ops, []any{"=", "failure_domain", domainValue(fd)})
		}
	}

	if len(ops) == 0 {
		return upd, nil, nil
	}
	return upd, []tables.Dml{tables.Update(tables.TablePicoInstance, []any{old.InstanceID}, ops...)}, nil
}

// checkDomainChange checks an instance's new failure domain against the
// other non-expelled instances: it names every name they use, and shares no
// name=value pair with a member of its replicaset.
func checkDomainChange(t tables.Topology, i tables.Instance, fd map[string]string) error {
	instances := sortedInstances(t.Instances)
	if err := checkNames(fd, namesInUse(instances, i.InstanceID)); err != nil {
		return err
	}
	for _, m := range instances {
		if m.InstanceID == i.InstanceID || m.ReplicasetID != i.ReplicasetID || m.Expelled() {
			continue
		}
		if pair, clash := shared(fd, upper(m.FailureDomain)); clash {
			return fmt.Errorf("failure domain %s of %s would share %s with %s of replicaset %s",
				formatDomain(fd), i.InstanceID, pair, m.InstanceID, i.ReplicasetID)
		}
	}
	return nil
}

// UpdateRanges is what the CaS of PlanUpdate's ops must protect: the
// instance's row (its grades decide the incarnation) and, when the request
// carries a failure domain, every instance row (the domain was checked
// against them).
func UpdateRanges(req UpdateRequest) []tables.Range {
	if req.FailureDomain != nil {
		return []tables.Range{wholeInstanceTable()}
	}
	return []tables.Range{instanceKey(req.InstanceID)}
}

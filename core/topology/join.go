package topology

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/picogo/picogo/core/mutant"
	"github.com/picogo/picogo/core/tables"
)

// JoinRequest is a .proc_raft_join request.
type JoinRequest struct {
	ClusterID string
	// InstanceID is the requested name; "" lets the leader generate one.
	InstanceID string
	// ReplicasetID is the requested replicaset; "" lets the leader choose.
	ReplicasetID  string
	Address       string
	FailureDomain map[string]string
	Tier          string
	// mutants are the deliberate bugs switched on: always none outside a
	// -tags mutants build (SetMutants). Zero bytes in production.
	mutants mutant.Set
	// InstanceUUID is "" for a first join, or the uuid a retried join was
	// given (or chose itself): see the package doc, Idempotence.
	InstanceUUID string
}

// JoinPlan is the leader's decision on a join.
type JoinPlan struct {
	// Instance is the row the newcomer gets (or already has, when the join
	// is idempotent).
	Instance tables.Instance
	// Ops is the batch to apply: the peer address, the instance row, the
	// new replicaset row or the existing one's config version bump. Empty
	// when the join is idempotent.
	Ops []tables.Dml
	// Ranges is what the CaS predicate must protect: the rows read to
	// decide. Empty when the join is idempotent (there is nothing to write).
	Ranges []tables.Range
	// BoxReplication is the addresses of the replicaset's non-expelled
	// members, the newcomer last.
	BoxReplication []string
}

// Idempotent reports whether the plan is the answer to a retried join that
// already committed: nothing to write.
func (p JoinPlan) Idempotent() bool { return len(p.Ops) == 0 }

// PlanJoin decides where and as what a newcomer joins. See the package doc
// for every rule.
func PlanJoin(t tables.Topology, clusterID string, req JoinRequest, newUUID func() string) (JoinPlan, error) {
	if err := CheckClusterID(clusterID, req.ClusterID); err != nil {
		return JoinPlan{}, err
	}
	instances := sortedInstances(t.Instances)
	if req.InstanceUUID != "" {
		if i := slices.IndexFunc(instances, func(i tables.Instance) bool {
			return i.InstanceUUID == req.InstanceUUID
		}); i >= 0 {
			return rejoin(t, instances, req, instances[i])
		}
	}
	fd, err := normalizeFailureDomain(req.FailureDomain)
	if err != nil {
		return JoinPlan{}, err
	}
	tier, ok := t.Tier(req.Tier)
	if !ok {
		return JoinPlan{}, fmt.Errorf("tier %q does not exist", req.Tier)
	}
	if err := checkNames(fd, namesInUse(instances, "")); err != nil {
		return JoinPlan{}, err
	}
	replace, err := checkRequestedName(t, req.InstanceID)
	if err != nil {
		return JoinPlan{}, err
	}
	rs, isNew, err := chooseReplicaset(t, instances, tier, req.ReplicasetID, fd, req.mutants.Has(mutant.JoinIgnoresFailureDomains))
	if err != nil {
		return JoinPlan{}, err
	}

	name := req.InstanceID
	if name == "" {
		name = generateName(instances, rs.ReplicasetID)
	}
	raftID := nextRaftID(t)
	uuid := req.InstanceUUID
	if uuid == "" {
		uuid = newUUID()
		if slices.ContainsFunc(instances, func(i tables.Instance) bool { return i.InstanceUUID == uuid }) {
			return JoinPlan{}, fmt.Errorf("generated instance uuid %s is already in use", uuid)
		}
	}
	if isNew {
		rs.ReplicasetUUID = newUUID()
		if slices.ContainsFunc(t.Replicasets, func(r tables.Replicaset) bool {
			return r.ReplicasetUUID == rs.ReplicasetUUID
		}) {
			return JoinPlan{}, fmt.Errorf("generated replicaset uuid %s is already in use", rs.ReplicasetUUID)
		}
		rs.CurrentMasterID, rs.TargetMasterID = name, name
		rs.State = tables.ReplicasetNotReady
		rs.CurrentConfigVersion, rs.TargetConfigVersion = 0, 1
		rs.PromotionVclock = map[string]any{}
	}

	inst := tables.Instance{
		InstanceID:     name,
		InstanceUUID:   uuid,
		RaftID:         raftID,
		ReplicasetID:   rs.ReplicasetID,
		ReplicasetUUID: rs.ReplicasetUUID,
		Current:        tables.Grade{Variant: tables.GradeOffline},
		Target:         tables.Grade{Variant: tables.GradeOffline},
		FailureDomain:  fd,
		Tier:           tier.Name,
	}
	ops := []tables.Dml{tables.Insert(tables.TablePicoPeerAddress, raftID, req.Address)}
	if replace {
		ops = append(ops, tables.Replace(tables.TablePicoInstance, inst.Tuple()...))
	} else {
		ops = append(ops, tables.Insert(tables.TablePicoInstance, inst.Tuple()...))
	}
	if isNew {
		ops = append(ops, tables.Insert(tables.TablePicoReplicaset, rs.Tuple()...))
	} else {
		ops = append(ops, tables.Update(tables.TablePicoReplicaset, []any{rs.ReplicasetID},
			[]any{"+", "target_config_version", 1}))
	}
	return JoinPlan{
		Instance: inst,
		Ops:      ops,
		Ranges: []tables.Range{
			wholeInstanceTable(),
			{Table: tables.TablePicoReplicaset},
			{Table: tables.TablePicoTier, Key: key(tier.Name)},
			{Table: tables.TablePicoPeerAddress, Min: &tables.Bound{Key: key(raftID), Included: true}},
		},
		BoxReplication: append(replicationAddresses(t, instances, rs.ReplicasetID), req.Address),
	}, nil
}

// rejoin answers a join whose uuid is already stored.
func rejoin(t tables.Topology, instances []tables.Instance, req JoinRequest, i tables.Instance) (JoinPlan, error) {
	differs := func(what, stored, requested string) error {
		return fmt.Errorf("instance with uuid %s is already joined with %s %s, not %s",
			i.InstanceUUID, what, stored, requested)
	}
	if i.Expelled() {
		// ErrExpelled, not a refusal like the others: the joiner is this
		// instance (its uuid), and it must stop as expelled — say a
		// retry whose first answer was lost, expelled meanwhile.
		return JoinPlan{}, fmt.Errorf("instance %q with uuid %s is %w", i.InstanceID, i.InstanceUUID, ErrExpelled)
	}
	if req.InstanceID != "" && req.InstanceID != i.InstanceID {
		return JoinPlan{}, differs("name", fmt.Sprintf("%q", i.InstanceID), fmt.Sprintf("%q", req.InstanceID))
	}
	if req.ReplicasetID != "" && req.ReplicasetID != i.ReplicasetID {
		return JoinPlan{}, differs("replicaset", fmt.Sprintf("%q", i.ReplicasetID), fmt.Sprintf("%q", req.ReplicasetID))
	}
	if req.Tier != i.Tier {
		return JoinPlan{}, differs("tier", fmt.Sprintf("%q", i.Tier), fmt.Sprintf("%q", req.Tier))
	}
	fd, err := normalizeFailureDomain(req.FailureDomain)
	if err != nil {
		return JoinPlan{}, err
	}
	if stored := upper(i.FailureDomain); !maps.Equal(stored, fd) {
		return JoinPlan{}, differs("failure domain", formatDomain(stored), formatDomain(fd))
	}
	if i.Current.Variant != tables.GradeOffline || i.Target != (tables.Grade{Variant: tables.GradeOffline}) {
		return JoinPlan{}, fmt.Errorf("instance %q with uuid %s has already been activated (%s/%s); it must restart, not join again",
			i.InstanceID, i.InstanceUUID, i.Current, i.Target)
	}
	return JoinPlan{Instance: i, BoxReplication: replicationAddresses(t, instances, i.ReplicasetID)}, nil
}

// checkRequestedName checks a requested instance name and reports whether
// the join overwrites an expelled row of that name.
func checkRequestedName(t tables.Topology, name string) (replace bool, err error) {
	if name == "" {
		return false, nil
	}
	holder, ok := t.Instance(name)
	switch {
	case !ok:
		return false, nil
	case holder.ExpelDone():
		return true, nil
	case holder.Expelled():
		return false, fmt.Errorf("%q is still being expelled", name)
	default:
		return false, fmt.Errorf("%q is already joined", name)
	}
}

// chooseReplicaset picks the newcomer's replicaset: the requested one, or an
// automatic choice. isNew says the returned row is to be created (only its
// id and tier are set then).
func chooseReplicaset(t tables.Topology, instances []tables.Instance, tier tables.Tier, requested string,
	fd map[string]string, ignoreDomains bool) (rs tables.Replicaset, isNew bool, err error) {
	if requested != "" {
		if rs, ok := t.Replicaset(requested); ok {
			if rs.Tier != tier.Name {
				return rs, false, fmt.Errorf("tier mismatch: requested replicaset %q is from tier %q, but specified tier is %q",
					requested, rs.Tier, tier.Name)
			}
			return rs, false, nil
		}
		return tables.Replicaset{ReplicasetID: requested, Tier: tier.Name}, true, nil
	}

	rf := max(tier.ReplicationFactor, 1)
	members := map[string][]tables.Instance{} // replicaset -> non-expelled members
	for _, i := range instances {
		if !i.Expelled() {
			members[i.ReplicasetID] = append(members[i.ReplicasetID], i)
		}
	}
	byName := slices.SortedStableFunc(slices.Values(t.Replicasets), func(a, b tables.Replicaset) int {
		return cmp.Compare(a.ReplicasetID, b.ReplicasetID)
	})
next:
	for _, rs := range byName {
		live := members[rs.ReplicasetID]
		if rs.Tier != tier.Name || len(live) == 0 || uint64(len(live)) >= rf {
			continue
		}
		for _, m := range live {
			if _, clash := shared(upper(m.FailureDomain), fd); clash && !ignoreDomains {
				continue next
			}
		}
		return rs, false, nil
	}
	for n := 1; ; n++ {
		id := fmt.Sprintf("%s_%d", tier.Name, n)
		if _, taken := t.Replicaset(id); !taken {
			return tables.Replicaset{ReplicasetID: id, Tier: tier.Name}, true, nil
		}
	}
}

// generateName is <replicaset>_<k> with the smallest k no row holds.
func generateName(instances []tables.Instance, replicaset string) string {
	for k := 1; ; k++ {
		name := fmt.Sprintf("%s_%d", replicaset, k)
		if !slices.ContainsFunc(instances, func(i tables.Instance) bool { return i.InstanceID == name }) {
			return name
		}
	}
}

// nextRaftID is one more than any raft id an instance row or a peer address
// holds.
func nextRaftID(t tables.Topology) uint64 {
	var top uint64
	for _, i := range t.Instances {
		top = max(top, i.RaftID)
	}
	for id := range t.Addresses {
		top = max(top, id)
	}
	return top + 1
}

// replicationAddresses is the stored addresses of the replicaset's
// non-expelled members, by raft id.
func replicationAddresses(t tables.Topology, instances []tables.Instance, replicaset string) []string {
	var live []tables.Instance
	for _, i := range instances {
		if i.ReplicasetID == replicaset && !i.Expelled() {
			live = append(live, i)
		}
	}
	slices.SortStableFunc(live, func(a, b tables.Instance) int { return cmp.Compare(a.RaftID, b.RaftID) })
	out := []string{}
	for _, i := range live {
		if addr, ok := t.Addresses[i.RaftID]; ok {
			out = append(out, addr)
		}
	}
	return out
}

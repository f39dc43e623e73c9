package governor

import (
	"github.com/picogo/picogo/core/mutant"
	"slices"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/tables"
)

// schemaChange is two-phase DDL's governor step: with a schema change
// pending, ask the current master of every replicaset of the tiers it
// concerns (Topology.PendingSchemaTiers, from tables.Store.TiersConcerned:
// every tier for a global table, the table's tier for a sharded one or an
// index on it) whether it can apply it; replicasets of other tiers are not
// asked. (A topology that names no tiers — built by hand — asks every
// replicaset.) Every master whose target grade is Online must be asked: if one is
// unreachable (or has no address), the step waits for it rather than go
// without it. A master whose target is Offline or Expelled is left out, as
// Picodata's plan does ("replicaset master is going offline"): the
// sentinel or an operator has taken it out, steps 4 and 5 move its
// replicaset to a new master first when there is one, and for a global
// table the change reaches it through the Raft log when it returns.
func (p *planner) schemaChange() (Action, bool) {
	ver := p.in.Topology.PendingSchemaVersion
	if ver == 0 {
		return nil, false
	}
	var r rows
	r.read = append(r.read, keyOf(tables.TablePicoProperty, tables.PropPendingSchemaVersion))
	a := ApplySchemaChange{SchemaVersion: ver, Commit: tables.DdlCommitOp(ver), Abort: tables.DdlAbortOp(ver)}
	tiers := p.in.Topology.PendingSchemaTiers
	away := false // a master not asked now that may come back
	for _, rs := range p.replicasets {
		if len(tiers) > 0 && !slices.Contains(tiers, rs.Tier) {
			continue
		}
		m, ok := p.instance(rs.CurrentMasterID)
		if !ok || !onlineBound(m) {
			away = away || ok && !m.Expelled()
			continue
		}
		r.readReplicaset(rs)
		addr, ok := p.address(m)
		if !ok {
			if p.in.mutants.Has(mutant.DdlSkipsUnreachableMaster) {
				continue
			}
			return nil, false // wait for it: never skipped
		}
		a.Masters = append(a.Masters, m.InstanceID)
		a.RPCs = append(a.RPCs, RPC{InstanceID: m.InstanceID, RaftID: m.RaftID, Address: addr, Call: api.ApplySchemaChange{}})
	}
	if len(a.RPCs) == 0 {
		if away {
			return nil, false // one of them comes back first
		}
		// Nobody to ask: the change concerns tiers without a replicaset
		// (a table created in a tier no instance has joined yet), or
		// whose masters are all expelled. It commits as it is; a
		// replicaset that appears meanwhile conflicts with the CaS.
		r.read = append(r.read, rowKey{table: tables.TablePicoReplicaset})
	}
	a.Ranges = r.ranges()
	return a, true
}

// SchemaChangeOutcome is the op to propose once every master answered
// (answers in RPC order, each a reply of .proc_apply_schema_change): the
// Abort op if any answered Abort (and the first reason, by master), else
// Commit. A reply of the wrong shape is an error.
func (a ApplySchemaChange) SchemaChangeOutcome(answers []any) (op tables.Op, reason string, err error) {
	for _, v := range answers {
		abort, why, err := api.SchemaChangeResult(v)
		if err != nil {
			return tables.Op{}, "", err
		}
		if abort {
			return a.Abort, why, nil
		}
	}
	return a.Commit, "", nil
}

package governor

import (
	"fmt"

	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/tables"
)

// Action is one governor step: one struct per step, each holding what that
// step needs, as Picodata's Plan enum. The node carries out the three kinds
// of work: a TransferLeadership, a ConfChange, or a Batch (RPCs, then one
// CaS batch); ApplySchemaChange and Switchover are RPCs whose answers decide
// what comes next (pure methods of theirs say what).
type Action interface {
	// Step is the step's name, one of the Step constants.
	Step() string
	// Detail is one readable line for logs and the simulator's trace.
	Detail() string
	isAction()
}

// Batch is an Action that writes the tables: its RPCs are sent in
// parallel, all must succeed, then its CaS is proposed.
type Batch interface {
	Action
	Batch() ([]RPC, CaS)
}

// CaS is the batch that finalizes a step, written like a compare-and-swap.
type CaS struct {
	Ops []tables.Dml
	// Ranges are the rows the plan read to decide and does not write, for
	// the CaS predicate (the rows it writes are implicit).
	Ranges []tables.Range
}

// TransferLeadership is step 1: the leader, bound for Offline or Expelled,
// hands leadership to an Online voter.
type TransferLeadership struct {
	Leader       string
	LeaderRaftID uint64
	LeaderTarget tables.Grade
	To           string
	ToRaftID     uint64
}

// ConfChange is step 2: the Raft configuration change that makes Voters
// the voters and Learners the learners.
type ConfChange struct {
	Voters   []uint64
	Learners []uint64
	Change   raft.ConfChange
}

// Offline is step 3: an instance's current grade becomes its target
// Offline.
type Offline struct {
	Instance string
	From, To tables.Grade
	CaS
}

// TargetMaster is step 4: a replicaset gets a new target master, and its
// target config version is bumped to ConfigVersion.
type TargetMaster struct {
	Replicaset    string
	From, To      string
	ConfigVersion uint64
	CaS
}

// ConfigureReplication is step 5: .proc_replication on a replicaset's
// members, then its current master and config version catch up with the
// target and the members called become Replicated. When Ready, the
// replicaset became ready and Tier's target vshard config version was
// bumped to VshardConfigVersion.
type ConfigureReplication struct {
	Replicaset          string
	Master              string
	Peers               []string
	RPCs                []RPC
	Ready               bool
	Tier                string
	VshardConfigVersion uint64
	CaS
}

// Switchover (switchover.go) is the rest of step 5: a replicaset's master
// changes, demote then promote (or a failover), then a CaS.

// ConfigureSharding is step 6: .proc_sharding on Instances of a tier, then
// the tier's current vshard config version is VshardConfigVersion and the
// instances at Replicated become ShardingInitialized.
type ConfigureSharding struct {
	Tier                string
	VshardConfigVersion uint64
	Instances           []string
	RPCs                []RPC
	CaS
}

// BootstrapSharding is the rest of step 6: .proc_sharding_bootstrap on the
// master of one of a tier's ready replicasets, then the tier is
// vshard_bootstrapped.
type BootstrapSharding struct {
	Tier       string
	Replicaset string
	Master     string
	RPC        RPC
	CaS
}

// Online is step 7: an instance at ShardingInitialized becomes Online.
type Online struct {
	Instance string
	From, To tables.Grade
	CaS
}

// Expel is step 8: an instance that no longer votes becomes Expelled.
type Expel struct {
	Instance string
	From, To tables.Grade
	CaS
}

// ApplySchemaChange is two-phase DDL's second phase (Picodata's step
// 12): .proc_apply_schema_change on the current master of every
// replicaset; if all answer "Ok", Commit is proposed, if any answers
// {Abort: {reason}}, Abort; either with Ranges as the CaS predicate. An RPC
// that fails (unreachable, timeout) fails the step, which is retried.
type ApplySchemaChange struct {
	SchemaVersion uint64
	Masters       []string
	RPCs          []RPC
	Commit, Abort tables.Op
	Ranges        []tables.Range
}

// Idle is step 9: nothing to do.
type Idle struct{}

func (TransferLeadership) Step() string   { return StepTransferLeadership }
func (ConfChange) Step() string           { return StepConfChange }
func (Offline) Step() string              { return StepOffline }
func (TargetMaster) Step() string         { return StepTargetMaster }
func (ConfigureReplication) Step() string { return StepReplication }
func (ConfigureSharding) Step() string    { return StepSharding }
func (BootstrapSharding) Step() string    { return StepShardingBootstrap }
func (Online) Step() string               { return StepOnline }
func (Expel) Step() string                { return StepExpel }
func (ApplySchemaChange) Step() string    { return StepSchemaChange }
func (Idle) Step() string                 { return StepIdle }

func (a TransferLeadership) Detail() string {
	return fmt.Sprintf("leader %s (raft id %d) has target %s: hand over to %s (raft id %d)",
		a.Leader, a.LeaderRaftID, a.LeaderTarget, a.To, a.ToRaftID)
}
func (a ConfChange) Detail() string {
	return fmt.Sprintf("voters %v, learners %v: %s", a.Voters, a.Learners, a.Change)
}
func (a Offline) Detail() string { return gradeChange(a.Instance, a.From, a.To) }
func (a TargetMaster) Detail() string {
	return fmt.Sprintf("%s: target master %q -> %q, target config version %d",
		a.Replicaset, a.From, a.To, a.ConfigVersion)
}
func (a ConfigureReplication) Detail() string {
	d := fmt.Sprintf("%s: master %s, peers %v", a.Replicaset, a.Master, a.Peers)
	if a.Ready {
		d += fmt.Sprintf(", ready (%s target vshard config version %d)", a.Tier, a.VshardConfigVersion)
	}
	return d
}
func (a ConfigureSharding) Detail() string {
	return fmt.Sprintf("%s: vshard config version %d to %v", a.Tier, a.VshardConfigVersion, a.Instances)
}
func (a BootstrapSharding) Detail() string {
	return fmt.Sprintf("%s: bootstrap buckets on %s master %s", a.Tier, a.Replicaset, a.Master)
}
func (a Online) Detail() string { return gradeChange(a.Instance, a.From, a.To) }
func (a Expel) Detail() string  { return gradeChange(a.Instance, a.From, a.To) }
func (a ApplySchemaChange) Detail() string {
	return fmt.Sprintf("schema version %d: ask masters %v", a.SchemaVersion, a.Masters)
}
func (Idle) Detail() string { return "nothing to do" }

func gradeChange(instance string, from, to tables.Grade) string {
	return fmt.Sprintf("%s: %s -> %s", instance, from, to)
}

func (a Offline) Batch() ([]RPC, CaS)              { return nil, a.CaS }
func (a TargetMaster) Batch() ([]RPC, CaS)         { return nil, a.CaS }
func (a ConfigureReplication) Batch() ([]RPC, CaS) { return a.RPCs, a.CaS }
func (a ConfigureSharding) Batch() ([]RPC, CaS)    { return a.RPCs, a.CaS }
func (a BootstrapSharding) Batch() ([]RPC, CaS)    { return []RPC{a.RPC}, a.CaS }
func (a Online) Batch() ([]RPC, CaS)               { return nil, a.CaS }
func (a Expel) Batch() ([]RPC, CaS)                { return nil, a.CaS }

func (TransferLeadership) isAction()   {}
func (ConfChange) isAction()           {}
func (Offline) isAction()              {}
func (TargetMaster) isAction()         {}
func (ConfigureReplication) isAction() {}
func (ConfigureSharding) isAction()    {}
func (BootstrapSharding) isAction()    {}
func (Online) isAction()               {}
func (Expel) isAction()                {}
func (ApplySchemaChange) isAction()    {}
func (Idle) isAction()                 {}

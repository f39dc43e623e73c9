// Package governor decides the governor's next step: Plan is a pure function
// from what the Raft leader knows (the topology tables as applied, the Raft
// configuration in force, its own raft id, and which instances failed RPCs
// lately) to one Action, which the node then carries out — a leadership
// transfer, a Raft configuration change, or RPCs to instances followed by one
// CaS batch that records their outcome. Action is a sum type (actions.go):
// one struct per step, holding exactly what that step needs.
//
// The plan follows docs/lifecycle.md, section "The governor": nine steps in
// order (and two-phase DDL after step 8), the first that has something to
// do wins. The governor runs the plan
// again after every step (and on every committed change), so each Action
// moves the cluster one step towards the state the target grades ask for and
// the next Plan sees the result.
//
// Decisions the spec leaves open, and how they are settled here:
//
//   - Unreachable instances (Input.Unreachable) are never RPC targets, never
//     chosen as a new voter, transfer target or target master (an instance
//     without a peer address is not an RPC target either). A step whose every
//     target is unreachable is skipped for now: the plan falls through to
//     the next step (or the next replicaset or tier of the same step), and
//     comes back once the executor's backoff clears the instance. Steps with
//     several targets go ahead with the reachable ones, and they only fire
//     for work a reachable instance can do, so a step never repeats forever
//     because of an unreachable one.
//   - Step 2 (voters): see confChange in voters.go for the rule in full.
//     A voter is demoted when its current grade is Offline (the spec's "went
//     Offline"); a voter still climbing the ladder after a restart
//     (Replicated, ShardingInitialized) is kept, so that restarting a
//     cluster does not churn its voters. With two eligible instances there
//     are two voters ("else all eligible"), and then both are needed for a
//     quorum. Instances come Online one at a time, so besides filling seats
//     by spread, a voter is swapped for a farther candidate (one swap per
//     step, only when the voters' summed distance strictly grows). The
//     leader is never demoted by step 2; when it is not itself eligible it
//     does not take an eligible instance's seat, so that an Offline-bound
//     leader can always get an Online voter to hand over to.
//   - Step 3 sets current = target whenever they differ (also an Offline of
//     another incarnation), so a stopped instance's row reads Offline/Offline
//     with the same incarnation.
//   - Step 5 skips a replicaset whose target master is unreachable: the
//     master must hear is_master before the tables say it is one. A
//     replicaset whose current master is set and is not its target master
//     gets a Switchover instead (switchover.go): demote the old master,
//     promote the new one, then record it; or, the old master unreachable,
//     a failover to the member with the greatest vclock. At most one
//     writable master per replicaset: the new one is never promoted before
//     the old one is demoted or known unreachable.
//   - Step 6 sends do_reconfigure=true to everyone when the tier's vshard
//     config version moved, and otherwise only to the instances at
//     Replicated (a (re)started instance must apply the config even if it
//     still has one from before a partition).
//   - Sharding bootstrap goes to the first ready replicaset (by name) whose
//     master is reachable and has its sharding initialized.
//   - Two-phase DDL (schemaChange, after step 8): a pending schema change
//     goes to the current master of every replicaset whose target grade is
//     Online (global tables concern them all). A master that is
//     unreachable, or has no address, is never skipped: the step waits
//     (falls through) until the executor's backoff lets it back, and then
//     asks it again. A master bound for Offline or Expelled is left out,
//     as in Picodata.
//   - Rebalancing (rebalance.go, last) moves buckets towards
//     sharding.Goal, one tier and one step at a time, while no schema
//     change is pending; a step whose replicaset master is unreachable or
//     unknown waits.
//   - Each of steps 3, 4, 5, 6, 7 and 8 handles one instance, replicaset or
//     tier per Action, the first by name; the CaS predicate's ranges are the
//     rows the plan read (by primary key) that the batch does not write.
//
// Like all of core/, the package is deterministic: the same Input gives the
// same Action, whatever the order of the Topology's slices and maps.
package governor

import (
	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/mutant"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/tables"
)

// Step names, as Action.Step reports them: in logs, governor_loop_status
// and the simulator's trace.
const (
	StepTransferLeadership = "transfer leadership"
	StepConfChange         = "conf change"
	StepOffline            = "offline"
	StepTargetMaster       = "target master"
	StepReplication        = "replication"
	StepSwitchover         = "master switchover"
	StepSharding           = "sharding"
	StepShardingBootstrap  = "sharding bootstrap"
	StepOnline             = "online"
	StepExpel              = "expel"
	StepSchemaChange       = "apply schema change"
	StepRebalance          = "rebalance"
	StepIdle               = "idle"
)

// Input is everything the plan depends on.
type Input struct {
	// Self is the leader's raft id (the governor runs only on the leader).
	Self uint64
	// Topology is the tables as applied on the leader.
	Topology tables.Topology
	// Conf is the Raft configuration in force.
	Conf raft.ConfState
	// mutants are the deliberate bugs switched on: always none outside a
	// -tags mutants build (SetMutants). Zero bytes in production.
	mutants mutant.Set
	// Unreachable holds the instances whose RPCs failed recently: they are
	// skipped as RPC targets, and never picked as a new voter, transfer
	// target or target master, until the executor's backoff lets them back.
	Unreachable map[string]bool
	// MoveSizes is, per tier, how many buckets the next move may take
	// (MoveSize of the rows the tier's last move copied per bucket; a tier
	// not in it: FirstMoveBuckets).
	MoveSizes map[string]uint64
	// RoleBackoff holds the roles on instances (RoleBackoffKey) whose
	// start failed recently: not retried until the executor's backoff
	// lets them.
	RoleBackoff map[string]bool
}

// RPC is one call to an instance.
type RPC struct {
	InstanceID string
	RaftID     uint64
	Address    string
	// Call is the procedure: api.Replication, api.Sharding,
	// api.ShardingBootstrap, api.ApplySchemaChange, a switchover's
	// api.ReplicationDemote, api.GetVClock, api.ReplicationPromote, or a
	// move's api.BucketExport, api.BucketImport, api.BucketDelete. The
	// executor fills in what is its own: the (term, index) the receiver
	// waits for, and the timeout.
	Call api.Request
}

// Plan returns the governor's next step. It is pure: the same Input always
// gives the same Action.
func Plan(in Input) Action {
	p := newPlanner(in)
	steps := []func() (Action, bool){
		p.transferLeadership, // 1
		p.confChange,         // 2
		p.offline,            // 3
		p.targetMaster,       // 4
		p.replication,        // 5
		p.sharding,           // 6
		p.shardingBootstrap,  // 6, once per tier
		p.roles,              // the roles of an instance's tier (roles.go)
		p.online,             // 7
		p.expel,              // 8
		p.schemaChange,       // Picodata's 12: two-phase DDL
		p.roleDDL,            // roles' once-per-cluster DDL (roles.go)
		p.rebalance,          // bucket moves (rebalance.go)
	}
	for _, step := range steps {
		if a, ok := step(); ok {
			return a
		}
	}
	return Idle{}
}

//go:build mutants

package sim

import (
	"fmt"
	"strings"

	"github.com/picogo/picogo/core/mutant"
)

// Mutant is a known bug the simulator can switch on, to prove its checks
// catch it. Each is a bug from Raft's or a CaS system's history.
type Mutant struct {
	Name  string
	About string
	Bugs  mutant.Set
}

// MutantList is every mutant, in a fixed order.
var MutantList = []Mutant{
	{"commit-previous-term", "commit an earlier term's entry by counting replicas (Raft paper, Figure 8)",
		mutant.Of(mutant.CommitPreviousTerm)},
	{"vote-without-persist", "send votes and vote grants before the term and vote are durable",
		mutant.Of(mutant.VoteWithoutPersist)},
	{"ack-before-fsync", "acknowledge appended entries before they are durable (etcd #14370)",
		mutant.Of(mutant.AckBeforeFsync)},
	{"read-index-without-round", "answer ReadIndex without the heartbeat round that proves leadership",
		mutant.Of(mutant.ReadIndexWithoutRound)},
	{"vote-for-stale-log", "grant votes without checking the candidate's log is up to date",
		mutant.Of(mutant.VoteForStaleLog)},
	{"cas-skips-uncommitted", "the CaS conflict scan looks at committed entries only",
		mutant.Of(mutant.CasSkipsUncommitted)},
	{"apply-before-commit", "apply entries as soon as they are in the log",
		mutant.Of(mutant.ApplyBeforeCommit)},
	{"stale-leader-reads", "a leader that lost its quorum keeps leading and answers reads from its own state",
		mutant.Of(mutant.NoCheckQuorumStepDown, mutant.ReadIndexWithoutRound)},
	{"keep-offline-voters", "the governor does not replace a voter that went Offline",
		mutant.Of(mutant.KeepOfflineVoters)},
	{"join-ignores-failure-domains", "automatic placement puts an instance beside one of its own failure domain",
		mutant.Of(mutant.JoinIgnoresFailureDomains)},
	{"promote-without-wait", "a promoted replica turns writable at once, without first reaching the old master's vclock",
		mutant.Of(mutant.PromoteWithoutWait)},
	{"sync-ack-before-quorum", "a synchronous master acknowledges a write once durable locally, before a majority of its replicaset has it",
		mutant.Of(mutant.SyncAckBeforeQuorum)},
	{"replica-accepts-writes", "a replica takes a write instead of refusing it",
		mutant.Of(mutant.ReplicaAcceptsWrites)},
	{"schema-before-commit", "an instance applies a pending schema change to its engine before the change commits",
		mutant.Of(mutant.SchemaBeforeCommit)},
	{"ddl-skips-unreachable-master", "the governor decides a schema change without the masters it cannot reach",
		mutant.Of(mutant.DdlSkipsUnreachableMaster)},
	{"write-on-sending-bucket", "a storage takes writes to a bucket it is sending away",
		mutant.Of(mutant.WriteOnSendingBucket)},
	{"flip-before-copy", "the bucket copy flips a range without copying its rows",
		mutant.Of(mutant.FlipBeforeCopy)},
	{"delete-source-before-flip", "the source deletes the rows it exports before the range has flipped",
		mutant.Of(mutant.DeleteSourceBeforeFlip)},
	{"route-without-fencing", "a storage applies writes to buckets its replicaset does not own",
		mutant.Of(mutant.RouteWithoutFencing)},
	{"bootstrap-buckets-twice", "a replicaset joining a bootstrapped tier gets the tier's buckets bootstrapped again over the existing ranges",
		mutant.Of(mutant.BootstrapBucketsTwice)},
	{"roles-ignore-dependencies", "the governor starts an instance's roles by name, not dependencies first",
		mutant.Of(mutant.RolesIgnoreDependencies)},
	{"roles-survive-restart", "a role's state of an earlier incarnation counts as the restarted process's, so its roles are not started again",
		mutant.Of(mutant.RolesSurviveRestart)},
}

// ParseMutant finds a mutant by name.
func ParseMutant(name string) (mutant.Set, error) {
	for _, m := range MutantList {
		if m.Name == name {
			return m.Bugs, nil
		}
	}
	names := make([]string, len(MutantList))
	for i, m := range MutantList {
		names[i] = m.Name
	}
	return mutant.Set{}, fmt.Errorf("unknown mutant %q (known: %s)", name, strings.Join(names, ", "))
}

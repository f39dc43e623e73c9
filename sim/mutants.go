package sim

import (
	"fmt"
	"strings"
)

// Mutant is a known bug the simulator can switch on, to prove its checks
// catch it. Each is a bug from Raft's or a CaS system's history.
type Mutant struct {
	Name  string
	About string
	set   func(*Mutants)
}

// MutantList is every mutant, in a fixed order.
var MutantList = []Mutant{
	{"commit-previous-term", "commit an earlier term's entry by counting replicas (Raft paper, Figure 8)",
		func(m *Mutants) { m.Raft.CommitPreviousTerm = true }},
	{"vote-without-persist", "send votes and vote grants before the term and vote are durable",
		func(m *Mutants) { m.Raft.VoteWithoutPersist = true }},
	{"ack-before-fsync", "acknowledge appended entries before they are durable (etcd #14370)",
		func(m *Mutants) { m.Raft.AckBeforeFsync = true }},
	{"read-index-without-round", "answer ReadIndex without the heartbeat round that proves leadership",
		func(m *Mutants) { m.Raft.ReadIndexWithoutRound = true }},
	{"vote-for-stale-log", "grant votes without checking the candidate's log is up to date",
		func(m *Mutants) { m.Raft.VoteForStaleLog = true }},
	{"cas-skips-uncommitted", "the CaS conflict scan looks at committed entries only",
		func(m *Mutants) { m.Node.CasSkipsUncommitted = true }},
	{"apply-before-commit", "apply entries as soon as they are in the log",
		func(m *Mutants) { m.Raft.ApplyBeforeCommit = true }},
	{"stale-leader-reads", "a leader that lost its quorum keeps leading and answers reads from its own state",
		func(m *Mutants) { m.Raft.NoCheckQuorumStepDown, m.Raft.ReadIndexWithoutRound = true, true }},
	{"keep-offline-voters", "the governor does not replace a voter that went Offline",
		func(m *Mutants) { m.Node.Governor.KeepOfflineVoters = true }},
	{"join-ignores-failure-domains", "automatic placement puts an instance beside one of its own failure domain",
		func(m *Mutants) { m.Node.Topology.JoinIgnoresFailureDomains = true }},
	{"sharding-skips-wait", "an instance configures sharding without first applying the governor's (term, index)",
		func(m *Mutants) { m.Node.ShardingSkipsWait = true }},
}

// ParseMutant finds a mutant by name.
func ParseMutant(name string) (Mutants, error) {
	var m Mutants
	for _, mu := range MutantList {
		if mu.Name == name {
			mu.set(&m)
			return m, nil
		}
	}
	names := make([]string, len(MutantList))
	for i, mu := range MutantList {
		names[i] = mu.Name
	}
	return m, fmt.Errorf("unknown mutant %q (known: %s)", name, strings.Join(names, ", "))
}

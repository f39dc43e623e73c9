//go:build mutants

package rafttest

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/picogo/picogo/core/mutant"
	"github.com/picogo/picogo/core/raft"
)

// raftMutants are the Raft mutants a script may switch on, by name.
var raftMutants = map[string]mutant.Bug{
	"commit-previous-term":           mutant.CommitPreviousTerm,
	"vote-without-persist":           mutant.VoteWithoutPersist,
	"ack-before-fsync":               mutant.AckBeforeFsync,
	"read-index-without-round":       mutant.ReadIndexWithoutRound,
	"vote-for-stale-log":             mutant.VoteForStaleLog,
	"no-check-quorum-step-down":      mutant.NoCheckQuorumStepDown,
	"advertise-unsynced-conf-commit": mutant.AdvertiseUnsyncedConfCommit,
}

// setMutants switches on the named mutants (mutants=(...)).
func setMutants(cfg *raft.Config, names []string) error {
	var bugs []mutant.Bug
	for _, name := range names {
		b, ok := raftMutants[name]
		if !ok {
			known := slices.Sorted(maps.Keys(raftMutants))
			return fmt.Errorf("unknown mutant %q (known: %s)", name, strings.Join(known, ", "))
		}
		bugs = append(bugs, b)
	}
	cfg.SetMutants(mutant.Of(bugs...))
	return nil
}

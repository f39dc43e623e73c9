//go:build mutants

package node

import (
	"testing"

	"github.com/picogo/picogo/core/mutant"
	"github.com/stretchr/testify/require"
)

func TestCasSkipsUncommittedMutant(t *testing.T) {
	// TestCasUncommittedEntriesConflict with the mutant: the conflict scan
	// does not see the uncommitted first write and appends the second too.
	var cfg Config
	cfg.SetMutants(mutant.Of(mutant.CasSkipsUncommitted))
	s := newSoloWith(t, cfg)
	require.Nil(t, s.casTwiceOnOnePredicate(), "the mutant appended the second write too")
	_, ents := s.n.Log()
	require.Equal(t, 2, countCommands(ents, "a"))
}

//go:build mutants

package node

import (
	"testing"

	"github.com/picogo/picogo/core/mutant"
	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/tables"
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
	require.Equal(t, 2, countKVWrites(ents))
}

// countKVWrites counts the log's entries that write the kv table.
func countKVWrites(ents []raft.Entry) int {
	n := 0
	for _, e := range ents {
		if data, ok := ra.CommandData(e); ok {
			if op, err := tables.DecodeOp(data); err == nil && op.Dml != nil && op.Dml.Table == kv {
				n++
			}
		}
	}
	return n
}

package node

import (
	"testing"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/tables"
	"github.com/stretchr/testify/require"
)

// TestStatsCountWhatHappened: each counter moves with its event, and only
// with it.
func TestStatsCountWhatHappened(t *testing.T) {
	s := newSolo(t)
	before := s.n.Stats()
	require.GreaterOrEqual(t, before.LeaderChanges, uint64(1), "the election")
	require.GreaterOrEqual(t, before.Proposals, uint64(2), "the tables created at start")

	require.Nil(t, s.cas(s.pred(), tables.DmlOp(tables.Insert(kv, "a", "1"))).Err)
	after := s.n.Stats()
	require.Equal(t, before.Proposals+1, after.Proposals, "a CaS write is one proposal")

	stale := s.pred()
	require.Nil(t, s.cas(s.pred(), tables.DmlOp(tables.Insert(kv, "b", "1"))).Err)
	requireCode(t, s.cas(stale, tables.DmlOp(tables.Replace(kv, "b", "2"))), api.CodeConflictFound)
	require.Equal(t, after.Proposals+1, s.n.Stats().Proposals, "a write refused by its predicate proposes nothing")

	require.Zero(t, s.n.Stats().GovernorSteps)
	require.Equal(t, "idle", s.n.GovernorStep(), "nothing planned before the first tick")
	for range 100 {
		s.n.Tick()
		s.settle()
	}
	st := s.n.Stats()
	require.GreaterOrEqual(t, st.GovernorSteps, uint64(4), "replication, sharding, bootstrap, online")
	require.Zero(t, st.GovernorStepFailures)
	require.Zero(t, st.SentinelOfflines)
	require.Equal(t, before.LeaderChanges, st.LeaderChanges, "no election since")
}

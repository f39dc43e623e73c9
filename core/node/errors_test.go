package node

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNotALeaderNamesTheLeader(t *testing.T) {
	s := newSolo(t, Mutants{})
	e := s.n.notALeader("NotALeader", 1)
	require.Equal(t, CodeNotALeader, e.Code)
	require.Equal(t, "NotALeader: not a leader, the leader is raft id 1 at i1", e.Message)
	require.Equal(t, uint64(1), e.LeaderID)
	// An id with no known address: the id alone.
	require.Equal(t, ".proc_x: not a leader, the leader is raft id 7", s.n.notALeader(".proc_x", 7).Message)
}

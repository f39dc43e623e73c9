package node

import (
	"testing"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/raft"
	"github.com/stretchr/testify/require"
)

// The consensus module's procedures on a single-voter leader.
func TestConsensusProcedures(t *testing.T) {
	s := newSolo(t)
	applied := s.n.Status().Applied
	tests := []struct {
		req  api.Request
		want []any // nil: check code instead
		code uint32
	}{
		{req: api.RaftInfo{}, want: []any{api.RaftInfoResult{ID: 1, Term: s.n.Status().Term, Applied: applied, LeaderID: 1, State: "Leader"}}},
		{req: api.GetIndex{}, want: []any{applied}},
		{req: api.ReadIndex{Timeout: time.Second}, want: []any{applied}},
		{req: api.WaitIndex{Target: applied, Timeout: time.Second}, want: []any{applied}},
		{req: api.RaftPromote{}, want: []any(nil)},
		{req: api.RaftInteract{}, want: []any(nil)},
		{req: api.GetPeerAddress{RaftID: 1}, want: []any{"i1"}},
		{req: api.GetPeerAddress{RaftID: 7}, want: []any{nil}},
		{req: api.SnapshotNextChunk{Term: 1, Index: 99}, code: api.CodeProcLua}, // no such snapshot
	}
	for _, tt := range tests {
		r, ok := s.expect(t, tt.req.Proc(), tt.req, tt.code)
		if !ok {
			continue
		}
		require.Equal(t, tt.want, r.Values, tt.req.Proc())
	}
}

// A Raft message's sender address is where this instance answers it until
// its tables know one; `.proc_get_peer_address` shows it.
func TestSenderAddressIsLearnt(t *testing.T) {
	s := newSolo(t)
	msg := raft.Message{Type: raft.MsgHeartbeatResp, From: 5, To: 1, Term: s.n.Status().Term}
	require.Nil(t, s.do(api.RaftInteract{Messages: []raft.Message{msg}, SenderAddress: "i5"}).Err)
	require.Equal(t, []any{"i5"}, s.do(api.GetPeerAddress{RaftID: 5}).Values)
	// An address the tables have is not replaced by a sender's.
	msg.From = 1
	require.Nil(t, s.do(api.RaftInteract{Messages: []raft.Message{msg}, SenderAddress: "elsewhere"}).Err)
	require.Equal(t, []any{"i1"}, s.do(api.GetPeerAddress{RaftID: 1}).Values)
}

func TestRaftInfoAndIndexProcs(t *testing.T) {
	s := newSolo(t)
	info := s.do(api.RaftInfo{}).Values[0].(api.RaftInfoResult)
	require.Equal(t, uint64(1), info.ID)
	require.Equal(t, uint64(1), info.LeaderID)
	require.Equal(t, "Leader", info.State)
	require.Equal(t, info.Applied, s.do(api.GetIndex{}).Values[0])
	ri := s.do(api.ReadIndex{Timeout: time.Second})
	require.Nil(t, ri.Err)
	require.Equal(t, info.Applied, ri.Values[0])
	wi := s.do(api.WaitIndex{Target: info.Applied, Timeout: time.Second})
	require.Equal(t, info.Applied, wi.Values[0])
	v := s.do(api.VersionInfo{}).Values[0].(api.VersionInfoResult)
	require.Equal(t, api.Version, v.PicodataVersion)
}

func TestWaitIndexTimesOut(t *testing.T) {
	s := newSolo(t)
	s.next++
	id := s.next
	s.n.Call(id, "admin", api.WaitIndex{Target: 1000, Timeout: 30 * time.Millisecond})
	for range 3 {
		s.n.Tick()
		s.settle()
	}
	r, ok := s.replies[id]
	require.True(t, ok)
	requireCode(t, r, api.CodeTimeout)
}

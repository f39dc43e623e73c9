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
	require.Nil(t, s.interact(msg, "i5").Err)
	require.Equal(t, []any{"i5"}, s.do(api.GetPeerAddress{RaftID: 5}).Values)
	// An address the tables have is not replaced by a sender's.
	msg.From = 1
	require.Nil(t, s.interact(msg, "elsewhere").Err)
	require.Equal(t, []any{"i1"}, s.do(api.GetPeerAddress{RaftID: 1}).Values)
}

// interact sends one Raft message in `.proc_raft_interact` and returns its
// reply, ticking until it comes (the call is held for the messages back).
func (s *solo) interact(m raft.Message, sender string) Reply {
	s.t.Helper()
	id := s.sendInteract(m, sender)
	for range 3 {
		if rep, ok := s.replies[id]; ok {
			return rep
		}
		s.n.Tick()
		s.settle()
	}
	s.t.Fatalf("no reply to .proc_raft_interact")
	return Reply{}
}

// sendInteract sends one Raft message in `.proc_raft_interact` and returns
// the call's id, without waiting for its reply.
func (s *solo) sendInteract(m raft.Message, sender string) CallID {
	s.next++
	s.n.Call(s.next, "pico_service", api.RaftInteract{Messages: []raft.Message{m}, SenderAddress: sender})
	s.settle()
	return s.next
}

// A `.proc_raft_interact` is answered when this instance next has Raft
// messages for the caller, and they ride on the reply instead of going in
// a call of their own; the call held before from the same peer, and any
// left at a tick, are answered empty.
func TestRaftMessagesRideOnTheReply(t *testing.T) {
	s := newSolo(t)
	term := s.n.Status().Term
	var calls []OutCall
	s.elsewhere = func(c OutCall) bool { calls = append(calls, c); return true }

	// Nothing to answer a heartbeat's response with: held.
	resp := raft.Message{Type: raft.MsgHeartbeatResp, From: 5, To: 1, Term: term}
	first := s.sendInteract(resp, "i5")
	_, answered := s.replies[first]
	require.False(t, answered, "answered with nothing to send")

	// The next call from 5 releases the first, empty, and is held.
	second := s.sendInteract(resp, "i5")
	require.Contains(t, s.replies, first)
	require.Nil(t, s.replies[first].Values)
	require.Nil(t, s.replies[first].Err)
	require.NotContains(t, s.replies, second)

	// A heartbeat of an older term makes this leader answer 5 with its
	// term: on the held reply, not in a call.
	stale := raft.Message{Type: raft.MsgHeartbeat, From: 5, To: 1, Term: term - 1}
	third := s.sendInteract(stale, "i5")
	require.Contains(t, s.replies, second)
	require.Nil(t, s.replies[second].Values)
	rep, ok := s.replies[third]
	require.True(t, ok, "the answer to 5 did not ride on the reply")
	require.Len(t, rep.Values, 1)
	msgs, ok := rep.Values[0].([]raft.Message)
	require.True(t, ok, "reply %v", rep.Values)
	require.Len(t, msgs, 1)
	require.Equal(t, raft.MsgAppResp, msgs[0].Type)
	require.Equal(t, uint64(5), msgs[0].To)
	require.Equal(t, term, msgs[0].Term)
	for _, c := range calls {
		_, isRaft := c.Request.(api.RaftInteract)
		require.False(t, isRaft, "a Raft call to %s besides the reply", c.To)
	}

	// A held call is answered, empty, at the next tick.
	fourth := s.sendInteract(resp, "i5")
	require.NotContains(t, s.replies, fourth)
	s.n.Tick()
	s.settle()
	require.Contains(t, s.replies, fourth)
	require.Nil(t, s.replies[fourth].Values)
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

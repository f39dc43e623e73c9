package raft

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testConfig(id uint64) Config {
	return Config{
		ID:              id,
		ElectionTick:    10,
		HeartbeatTick:   1,
		MaxMsgBytes:     1 << 20,
		MaxMsgEntries:   100,
		MaxInflightMsgs: 16,
		Rand:            rand.New(rand.NewPCG(id, 42)),
	}
}

func newTestNode(t *testing.T, cfg Config, voters ...uint64) *Node {
	t.Helper()
	st, err := Bootstrap(voters...)
	require.NoError(t, err)
	n, err := New(cfg, st)
	require.NoError(t, err)
	return n
}

// quiescence is what running a node to quiescence produced.
type quiescence struct {
	committed []Entry
	results   []ConfChangeResult
	msgs      []Message
	writes    []*Write
}

// runToQuiescence hands out Ready until there is nothing left, treating every
// Write as durable and applied at once.
func runToQuiescence(t *testing.T, n *Node) quiescence {
	t.Helper()
	var q quiescence
	for i := 0; n.HasReady(); i++ {
		require.Less(t, i, 100, "node does not quiesce")
		rd := n.Ready()
		q.msgs = append(q.msgs, rd.Messages...)
		if len(rd.CommittedEntries) > 0 {
			q.committed = append(q.committed, rd.CommittedEntries...)
			q.results = append(q.results, n.Applied()...)
		}
		if rd.Write != nil {
			q.writes = append(q.writes, rd.Write)
			q.msgs = append(q.msgs, rd.Write.MessagesAfterPersist...)
			n.Advance()
		}
	}
	return q
}

// singleLeader is a one-voter node that has campaigned, won and applied its
// empty entry.
func singleLeader(t *testing.T) *Node {
	t.Helper()
	n := newTestNode(t, testConfig(1), 1)
	require.NoError(t, n.Campaign())
	runToQuiescence(t, n)
	require.Equal(t, StateLeader, n.Status().State)
	return n
}

func TestNewConfigErrors(t *testing.T) {
	st, err := Bootstrap(1)
	require.NoError(t, err)
	tests := []struct {
		name    string
		mutate  func(c *Config)
		wantErr string
	}{
		{"ID 0", func(c *Config) { c.ID = 0 }, "ID"},
		{"election equals heartbeat", func(c *Config) { c.ElectionTick = c.HeartbeatTick }, "ElectionTick"},
		{"election below heartbeat", func(c *Config) { c.ElectionTick, c.HeartbeatTick = 3, 5 }, "ElectionTick"},
		{"heartbeat 0", func(c *Config) { c.HeartbeatTick = 0 }, "HeartbeatTick"},
		{"no inflight messages", func(c *Config) { c.MaxInflightMsgs = 0 }, "MaxInflightMsgs"},
		{"no entries per message", func(c *Config) { c.MaxMsgEntries = 0 }, "MaxMsgEntries"},
		{"nil Rand", func(c *Config) { c.Rand = nil }, "Rand"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(1)
			tt.mutate(&cfg)
			n, err := New(cfg, st)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.Nil(t, n)
		})
	}

	t.Run("defaults filled in", func(t *testing.T) {
		cfg := testConfig(1)
		cfg.MaxMsgBytes, cfg.MaxInflightBytes = 0, 0
		n, err := New(cfg, st)
		require.NoError(t, err)
		assert.Equal(t, uint64(1<<20), n.r.cfg.MaxMsgBytes)
		assert.NotZero(t, n.r.cfg.MaxInflightBytes)
	})
	t.Run("DefaultConfig is valid", func(t *testing.T) {
		_, err := New(DefaultConfig(1, rand.New(rand.NewPCG(1, 1))), st)
		require.NoError(t, err)
	})
}

func TestNewRestoredState(t *testing.T) {
	t.Run("commit beyond the log", func(t *testing.T) {
		st, err := Bootstrap(1)
		require.NoError(t, err)
		st.HardState.Commit = 2
		n, err := New(testConfig(1), st)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "commit 2")
		assert.Nil(t, n)
	})
	t.Run("commit beyond the log after a snapshot", func(t *testing.T) {
		st := State{
			HardState: HardState{Term: 3, Commit: 12},
			Snapshot:  SnapshotMeta{Index: 10, Term: 3, ConfState: ConfState{Voters: []uint64{1}}},
			Entries:   entsFrom(11, 3),
		}
		_, err := New(testConfig(1), st)
		require.Error(t, err)
	})
	t.Run("snapshot and entries", func(t *testing.T) {
		st := State{
			HardState: HardState{Term: 3, Vote: 1, Commit: 11},
			Snapshot:  SnapshotMeta{Index: 10, Term: 3, ConfState: ConfState{Voters: []uint64{1, 2}}},
			Entries:   entsFrom(11, 3, 3),
		}
		n, err := New(testConfig(1), st)
		require.NoError(t, err)
		s := n.Status()
		assert.Equal(t, HardState{Term: 3, Vote: 1, Commit: 11}, s.HardState)
		assert.Equal(t, uint64(10), s.Applied)
		assert.Equal(t, uint64(11), s.FirstIndex)
		assert.Equal(t, uint64(12), s.LastIndex)
		assert.Equal(t, []uint64{1, 2}, s.ConfState.Voters)
		assert.Equal(t, StateFollower, s.State)
	})
	t.Run("empty state knows no members and cannot campaign", func(t *testing.T) {
		n, err := New(testConfig(4), State{})
		require.NoError(t, err)
		var ce *CampaignError
		require.ErrorAs(t, n.Campaign(), &ce)
		assert.Equal(t, uint64(4), ce.ID)
		assert.False(t, n.HasReady())
	})
}

func TestBootstrap(t *testing.T) {
	_, err := Bootstrap()
	require.Error(t, err)

	_, err = Bootstrap(1, 0)
	var ice *InvalidConfChangeError
	require.ErrorAs(t, err, &ice)

	st, err := Bootstrap(3, 1, 2)
	require.NoError(t, err)
	assert.Equal(t, HardState{Term: 1, Commit: 1}, st.HardState)
	require.Len(t, st.Entries, 1)
	e := st.Entries[0]
	assert.Equal(t, uint64(1), e.Index)
	assert.Equal(t, uint64(1), e.Term)
	assert.Equal(t, EntryConfChange, e.Type)
	cc, err := UnmarshalConfChange(e.Data)
	require.NoError(t, err)
	cs, err := applyConfChange(ConfState{}, cc)
	require.NoError(t, err)
	assert.Equal(t, []uint64{1, 2, 3}, cs.Voters)

	// A founder knows the membership before applying anything.
	n, err := New(testConfig(2), st)
	require.NoError(t, err)
	assert.Equal(t, []uint64{1, 2, 3}, n.Status().ConfState.Voters)
	assert.Equal(t, uint64(0), n.Status().Applied)
}

func TestStepRefusals(t *testing.T) {
	tests := []struct {
		name   string
		m      Message
		target error // errors.Is target; nil: any error
		lead   bool  // node 3 is known as the leader
	}{
		{"MsgHup from the network", Message{Type: MsgHup, To: 1, From: 2, Term: 1}, ErrStepLocalMsg, false},
		{"MsgBeat from the network", Message{Type: MsgBeat, To: 1, From: 2, Term: 1}, ErrStepLocalMsg, false},
		{"MsgCheckQuorum from the network", Message{Type: MsgCheckQuorum, To: 1, From: 2, Term: 1}, ErrStepLocalMsg, false},
		{"local type without a term", Message{Type: MsgHup, To: 1, From: 2}, ErrStepLocalMsg, false},
		{"for another node", Message{Type: MsgHeartbeat, To: 2, From: 3, Term: 1}, nil, false},
		{"for node 0", Message{Type: MsgHeartbeat, To: 0, From: 3, Term: 1}, nil, false},
		{"from node 0", Message{Type: MsgHeartbeat, To: 1, From: 0, Term: 1}, nil, false},
		{"from itself", Message{Type: MsgHeartbeat, To: 1, From: 1, Term: 1}, nil, false},
		{"term 0", Message{Type: MsgHeartbeat, To: 1, From: 2}, nil, false},
		{"vote without term", Message{Type: MsgVote, To: 1, From: 2}, nil, false},
		{"unknown type", Message{Type: msgTypeCount, To: 1, From: 2, Term: 1}, nil, false},
		{"type 255", Message{Type: 255, To: 1, From: 2, Term: 1}, nil, false},
		{"empty MsgProp", Message{Type: MsgProp, To: 1, From: 2, Term: 1}, nil, false},
		{"empty MsgProp with a leader to forward to", Message{Type: MsgProp, To: 1, From: 2, Term: 1}, nil, true},
		{"MsgHup with a leader", Message{Type: MsgHup, To: 1, From: 2, Term: 1}, ErrStepLocalMsg, true},
		{"response from a stranger", Message{Type: MsgAppResp, To: 1, From: 7, Term: 1}, ErrStepPeerNotFound, false},
		{"vote response from a stranger", Message{Type: MsgVoteResp, To: 1, From: 7, Term: 5}, ErrStepPeerNotFound, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newTestNode(t, testConfig(1), 1, 2, 3)
			if tt.lead {
				require.NoError(t, n.Step(Message{Type: MsgHeartbeat, To: 1, From: 3, Term: 1, Commit: 1}))
			}
			runToQuiescence(t, n)
			before := n.Status()
			err := n.Step(tt.m)
			require.Error(t, err)
			if tt.target != nil {
				assert.ErrorIs(t, err, tt.target)
			}
			assert.Equal(t, before, n.Status(), "a refused message changes nothing")
			assert.False(t, n.HasReady(), "a refused message produces nothing")
		})
	}

	t.Run("a good message is accepted", func(t *testing.T) {
		n := newTestNode(t, testConfig(1), 1, 2, 3)
		runToQuiescence(t, n)
		require.NoError(t, n.Step(Message{Type: MsgHeartbeat, To: 1, From: 2, Term: 1, Commit: 1, Round: 1}))
		assert.Equal(t, uint64(2), n.Status().Lead)
		q := runToQuiescence(t, n)
		require.Len(t, q.msgs, 1)
		assert.Equal(t, MsgHeartbeatResp, q.msgs[0].Type)
		assert.Equal(t, uint64(2), q.msgs[0].To)
		assert.Equal(t, uint64(1), q.msgs[0].Round)
	})
}

func TestSingleVoterLifecycle(t *testing.T) {
	n := newTestNode(t, testConfig(1), 1)
	s := n.Status()
	assert.Equal(t, uint64(1), s.ID)
	assert.Equal(t, HardState{Term: 1, Commit: 1}, s.HardState)
	assert.Equal(t, StateFollower, s.State)
	assert.Equal(t, None, s.Lead)
	assert.Equal(t, uint64(0), s.Applied)
	assert.Equal(t, uint64(1), s.FirstIndex)
	assert.Equal(t, uint64(1), s.LastIndex)
	assert.Nil(t, s.Progress, "no progress on a follower")
	n.WithProgress(func(id uint64, _ Progress) { t.Errorf("a follower visited the progress of %d", id) })

	require.NoError(t, n.Campaign())
	rd := n.Ready()
	require.NotNil(t, rd.SoftState)
	assert.Equal(t, SoftState{Lead: 1, State: StateLeader}, *rd.SoftState)
	require.NotNil(t, rd.Write)
	require.NotNil(t, rd.Write.HardState)
	assert.Equal(t, HardState{Term: 2, Vote: 1, Commit: 1}, *rd.Write.HardState)
	assert.True(t, rd.Write.MustSync)
	require.Len(t, rd.Write.Entries, 1)
	assert.Equal(t, Entry{Term: 2, Index: 2}, rd.Write.Entries[0])
	require.Len(t, rd.CommittedEntries, 1, "the bootstrap entry is committed and durable: applied at once")
	assert.Equal(t, EntryConfChange, rd.CommittedEntries[0].Type)
	assert.Panics(t, func() { n.Ready() }, "Ready before Applied")
	assert.Empty(t, n.Applied(), "the bootstrap configuration was adopted at start")
	assert.False(t, n.HasReady(), "nothing more while a write is outstanding")
	assert.Nil(t, n.Ready().Write)
	n.Advance()

	q := runToQuiescence(t, n)
	require.Len(t, q.committed, 1)
	assert.Equal(t, uint64(2), q.committed[0].Index, "the leader's empty entry commits")

	idx, term, err := n.Propose([]byte("x"), []byte("y"))
	require.NoError(t, err)
	assert.Equal(t, uint64(3), idx)
	assert.Equal(t, uint64(2), term)

	q = runToQuiescence(t, n)
	require.Len(t, q.committed, 2)
	assert.Equal(t, Entry{Term: 2, Index: 3, Data: []byte("x")}, q.committed[0])
	assert.Equal(t, Entry{Term: 2, Index: 4, Data: []byte("y")}, q.committed[1])

	s = n.Status()
	assert.Equal(t, HardState{Term: 2, Vote: 1, Commit: 4}, s.HardState)
	assert.Equal(t, uint64(4), s.Applied)
	assert.Equal(t, uint64(1), s.Lead)
	assert.Equal(t, StateLeader, s.State)
	assert.Equal(t, uint64(1), s.FirstIndex)
	assert.Equal(t, uint64(4), s.LastIndex)
	assert.Equal(t, []uint64{1}, s.ConfState.Voters)
	assert.Equal(t, None, s.LeadTransferee)
	require.Contains(t, s.Progress, uint64(1))
	assert.Equal(t, uint64(4), s.Progress[1].Match)
	assert.Equal(t, uint64(5), s.Progress[1].Next)
	visited := map[uint64]Progress{}
	n.WithProgress(func(id uint64, pr Progress) { visited[id] = pr })
	assert.Equal(t, s.Progress, visited, "WithProgress visits what Status copies")

	prev, ents := n.Log()
	assert.Equal(t, uint64(0), prev)
	assert.Len(t, ents, 4)

	_, _, err = n.Propose()
	require.Error(t, err, "empty proposal")

	// A read on the only voter is answered at once.
	require.NoError(t, n.ReadIndex([]byte("r1")))
	rd = n.Ready()
	require.Len(t, rd.ReadStates, 1)
	assert.Equal(t, ReadState{Index: 4, Context: []byte("r1")}, rd.ReadStates[0])
}

func TestFollowerRefusals(t *testing.T) {
	n := newTestNode(t, testConfig(1), 1, 2, 3)
	runToQuiescence(t, n)

	_, _, err := n.Propose([]byte("x"))
	assert.ErrorIs(t, err, ErrProposalDropped, "no leader to forward to")
	assert.ErrorIs(t, n.ReadIndex(nil), ErrProposalDropped)

	var nle *NotLeaderError
	require.ErrorAs(t, n.Heartbeat(), &nle)
	assert.Equal(t, None, nle.Leader)
	require.ErrorAs(t, n.AllowNextRevert(2, true), &nle)

	// Once a leader is known, it is named.
	require.NoError(t, n.Step(Message{Type: MsgHeartbeat, To: 1, From: 3, Term: 2, Commit: 1}))
	require.ErrorAs(t, n.Heartbeat(), &nle)
	assert.Equal(t, uint64(3), nle.Leader)
	require.ErrorAs(t, n.AllowNextRevert(2, false), &nle)
	assert.Equal(t, uint64(3), nle.Leader)

	// Proposals now go to the leader.
	runToQuiescence(t, n)
	idx, _, err := n.Propose([]byte("x"))
	require.NoError(t, err)
	assert.Equal(t, uint64(0), idx, "a forwarded proposal has no index yet")
	q := runToQuiescence(t, n)
	require.Len(t, q.msgs, 1)
	assert.Equal(t, MsgProp, q.msgs[0].Type)
	assert.Equal(t, uint64(3), q.msgs[0].To)
}

func TestSnapshotMetaAndTaken(t *testing.T) {
	t.Run("nothing applied", func(t *testing.T) {
		n := newTestNode(t, testConfig(1), 1)
		_, err := n.SnapshotMeta()
		assert.ErrorIs(t, err, ErrNoSnapshot)
	})

	n := singleLeader(t)
	_, _, err := n.Propose([]byte("a"), []byte("b"))
	require.NoError(t, err)
	runToQuiescence(t, n)
	require.Equal(t, uint64(4), n.Status().Applied)

	meta, err := n.SnapshotMeta()
	require.NoError(t, err)
	assert.Equal(t, uint64(4), meta.Index)
	assert.Equal(t, uint64(2), meta.Term)
	assert.Equal(t, []uint64{1}, meta.ConfState.Voters)

	err = n.SnapshotTaken(SnapshotMeta{Index: 5, Term: 2})
	require.Error(t, err, "beyond applied")
	assert.Contains(t, err.Error(), "beyond applied")
	err = n.SnapshotTaken(SnapshotMeta{Index: 4, Term: 1})
	require.Error(t, err, "term does not match the log")
	assert.NotErrorIs(t, err, ErrSnapshotOutOfDate)
	assert.Equal(t, uint64(0), n.Status().Snapshot.Index, "refused snapshots are not recorded")

	require.NoError(t, n.SnapshotTaken(meta))
	assert.Equal(t, meta, n.Status().Snapshot)

	assert.ErrorIs(t, n.SnapshotTaken(meta), ErrSnapshotOutOfDate, "the same one again")
	assert.ErrorIs(t, n.SnapshotTaken(SnapshotMeta{Index: 3, Term: 2}), ErrSnapshotOutOfDate, "an older one")
	_, err = n.SnapshotMeta()
	assert.ErrorIs(t, err, ErrNoSnapshot, "nothing applied since")
}

func TestPurgeLog(t *testing.T) {
	n := singleLeader(t)
	_, _, err := n.Propose([]byte("a"), []byte("b"))
	require.NoError(t, err)
	runToQuiescence(t, n) // applied 4

	// No snapshot yet: nothing may go.
	n.PurgeLog(3)
	assert.Equal(t, uint64(1), n.Status().FirstIndex)
	assert.False(t, n.HasReady())

	// The snapshot lets the waiting purge happen, up to what was asked.
	meta, err := n.SnapshotMeta()
	require.NoError(t, err)
	require.NoError(t, n.SnapshotTaken(meta))
	assert.Equal(t, uint64(4), n.Status().FirstIndex)
	q := runToQuiescence(t, n)
	require.Len(t, q.writes, 1)
	assert.Equal(t, uint64(3), q.writes[0].PurgeTo)

	// Asking for more purges up to the snapshot only.
	n.PurgeLog(100)
	assert.Equal(t, uint64(5), n.Status().FirstIndex)
	prev, ents := n.Log()
	assert.Equal(t, uint64(4), prev)
	assert.Empty(t, ents)
	q = runToQuiescence(t, n)
	require.Len(t, q.writes, 1)
	assert.Equal(t, uint64(4), q.writes[0].PurgeTo)

	// New entries stay until the next snapshot, then the pending request
	// takes them.
	_, _, err = n.Propose([]byte("c"), []byte("d"))
	require.NoError(t, err)
	runToQuiescence(t, n)
	s := n.Status()
	assert.Equal(t, uint64(5), s.FirstIndex)
	assert.Equal(t, uint64(6), s.LastIndex)
	meta, err = n.SnapshotMeta()
	require.NoError(t, err)
	require.NoError(t, n.SnapshotTaken(meta))
	s = n.Status()
	assert.Equal(t, uint64(7), s.FirstIndex)
	assert.Equal(t, s.Snapshot.Index+1, s.FirstIndex)
	assert.Equal(t, uint64(6), s.Commit)
}

// singleLeaderWithLearner is a one-voter leader that has added node 2 as a
// learner.
func singleLeaderWithLearner(t *testing.T) *Node {
	t.Helper()
	n := singleLeader(t)
	idx, term, err := n.ProposeConfChange(ccOf(TransitionAuto, al(2)))
	require.NoError(t, err)
	assert.Equal(t, uint64(3), idx)
	assert.Equal(t, uint64(2), term)
	q := runToQuiescence(t, n)
	require.Len(t, q.results, 1)
	require.NoError(t, q.results[0].Err)
	assert.Equal(t, uint64(3), q.results[0].Index)
	requireConfEqual(t, ConfState{Voters: []uint64{1}, Learners: []uint64{2}}, q.results[0].ConfState)
	return n
}

func TestTransferLeaderErrors(t *testing.T) {
	n := singleLeaderWithLearner(t)
	var te *TransferError
	require.ErrorAs(t, n.TransferLeader(9), &te)
	assert.Equal(t, uint64(9), te.To)
	assert.Contains(t, te.Reason, "not a member")

	require.ErrorAs(t, n.TransferLeader(2), &te)
	assert.Equal(t, uint64(2), te.To)
	assert.Contains(t, te.Reason, "not a voter")
	assert.Equal(t, None, n.Status().LeadTransferee)

	require.NoError(t, n.TransferLeader(1), "to itself: already done")
	assert.Equal(t, None, n.Status().LeadTransferee)
	assert.Equal(t, StateLeader, n.Status().State)
}

func TestAllowNextRevert(t *testing.T) {
	n := singleLeaderWithLearner(t)
	assert.ErrorIs(t, n.AllowNextRevert(9, true), ErrUnknownPeer)
	assert.ErrorIs(t, n.AllowNextRevert(1, true), ErrUnknownPeer, "not for itself")
	require.NoError(t, n.AllowNextRevert(2, true))
	assert.True(t, n.r.allowRevert[2])
	require.NoError(t, n.AllowNextRevert(2, false))
	assert.False(t, n.r.allowRevert[2])
}

func TestHeartbeatOnLeader(t *testing.T) {
	n := singleLeaderWithLearner(t)
	require.NoError(t, n.Heartbeat())
	rd := n.Ready()
	require.Len(t, rd.Messages, 1)
	m := rd.Messages[0]
	assert.Equal(t, MsgHeartbeat, m.Type)
	assert.Equal(t, uint64(2), m.To)
	assert.Equal(t, uint64(2), m.Term)
}

func TestProposeConfChangeErrors(t *testing.T) {
	n := newTestNode(t, testConfig(1), 1)
	require.NoError(t, n.Campaign())

	// The new leader's empty entry is not applied yet.
	_, _, err := n.ProposeConfChange(ccOf(TransitionAuto, al(2)))
	require.ErrorIs(t, err, ErrConfChangePending)

	runToQuiescence(t, n)
	var ice *InvalidConfChangeError
	_, _, err = n.ProposeConfChange(LeaveJoint())
	require.ErrorAs(t, err, &ice)
	_, _, err = n.ProposeConfChange(ccOf(TransitionAuto, av(0)))
	require.ErrorAs(t, err, &ice)
	_, _, err = n.ProposeConfChange(ccOf(TransitionAuto, rm(1)))
	require.ErrorAs(t, err, &ice)
	assert.Equal(t, uint64(2), n.Status().LastIndex, "nothing appended for refused changes")

	idx, _, err := n.ProposeConfChange(ccOf(TransitionAuto, al(2)))
	require.NoError(t, err)
	assert.Equal(t, uint64(3), idx)
	_, _, err = n.ProposeConfChange(ccOf(TransitionAuto, al(3)))
	require.ErrorIs(t, err, ErrConfChangePending, "the first is not applied yet")
	assert.Equal(t, uint64(3), n.Status().LastIndex)

	// Normal proposals are not held back.
	idx, _, err = n.Propose([]byte("x"))
	require.NoError(t, err)
	assert.Equal(t, uint64(4), idx)

	runToQuiescence(t, n)
	_, _, err = n.ProposeConfChange(ccOf(TransitionAuto, al(3)))
	require.NoError(t, err, "once applied the next may go")
}

func TestJointConfChangeAutoLeave(t *testing.T) {
	n := singleLeader(t)
	_, _, err := n.ProposeConfChange(ccOf(TransitionJointImplicit, al(2)))
	require.NoError(t, err)
	q := runToQuiescence(t, n)
	require.Len(t, q.results, 2, "enter and leave the joint configuration")
	require.NoError(t, q.results[0].Err)
	assert.True(t, q.results[0].ConfState.Joint())
	require.NoError(t, q.results[1].Err)
	requireConfEqual(t, ConfState{Voters: []uint64{1}, Learners: []uint64{2}}, q.results[1].ConfState)
	requireConfEqual(t, ConfState{Voters: []uint64{1}, Learners: []uint64{2}}, n.Status().ConfState)
}

// --- Random messages -------------------------------------------------------

type fuzzKind uint8

const (
	fuzzStep fuzzKind = iota
	fuzzReady
	fuzzAdvance
	fuzzTick
	fuzzCampaign
	fuzzPropose
	fuzzConfChange
	fuzzReadIndex
	fuzzTransfer
	fuzzSnapshot
	fuzzPurge
	fuzzAllowRevert
	fuzzUnreachable
	fuzzReportSnapshot
	fuzzHeartbeat
	fuzzKinds
)

// fuzzAction is one event handed to the node under test. Advance is only
// called when a Write is outstanding, so any subsequence of actions is a
// valid run, which lets a failure be minimized.
type fuzzAction struct {
	kind fuzzKind
	msg  Message
	id   uint64
	cc   ConfChange
	flag bool
}

func (a fuzzAction) String() string {
	switch a.kind {
	case fuzzStep:
		return fmt.Sprintf("n.Step(%s)", fmtMsg(a.msg))
	case fuzzReady:
		return "n.Ready()"
	case fuzzAdvance:
		return "n.Advance() // if a Write is outstanding"
	case fuzzTick:
		return "n.Tick()"
	case fuzzCampaign:
		return "n.Campaign()"
	case fuzzPropose:
		return `n.Propose([]byte("p"))`
	case fuzzConfChange:
		return fmt.Sprintf("n.ProposeConfChange(%#v)", a.cc)
	case fuzzReadIndex:
		return "n.ReadIndex(nil)"
	case fuzzTransfer:
		return fmt.Sprintf("n.TransferLeader(%d)", a.id)
	case fuzzSnapshot:
		return "n.SnapshotTaken(n.SnapshotMeta())"
	case fuzzPurge:
		return fmt.Sprintf("n.PurgeLog(%d)", a.id)
	case fuzzAllowRevert:
		return fmt.Sprintf("n.AllowNextRevert(%d, %v)", a.id, a.flag)
	case fuzzUnreachable:
		return fmt.Sprintf("n.ReportUnreachable(%d)", a.id)
	case fuzzReportSnapshot:
		return fmt.Sprintf("n.ReportSnapshot(%d, %v)", a.id, a.flag)
	case fuzzHeartbeat:
		return "n.Heartbeat()"
	}
	return fmt.Sprintf("fuzzKind(%d)", a.kind)
}

// fmtMsg prints a message as a Go literal with only the fields that are set.
func fmtMsg(m Message) string {
	var b strings.Builder
	if m.Type < msgTypeCount {
		fmt.Fprintf(&b, "Message{Type: %s", m.Type)
	} else {
		fmt.Fprintf(&b, "Message{Type: %d", uint8(m.Type))
	}
	fmt.Fprintf(&b, ", To: %d, From: %d, Term: %d", m.To, m.From, m.Term)
	for _, f := range []struct {
		name string
		v    uint64
	}{{"LogTerm", m.LogTerm}, {"Index", m.Index}, {"Commit", m.Commit}, {"Match", m.Match}, {"Round", m.Round}, {"RejectHint", m.RejectHint}} {
		if f.v != 0 {
			fmt.Fprintf(&b, ", %s: %d", f.name, f.v)
		}
	}
	for _, f := range []struct {
		name string
		v    bool
	}{{"Reject", m.Reject}, {"Reverted", m.Reverted}, {"Transfer", m.Transfer}} {
		if f.v {
			fmt.Fprintf(&b, ", %s: true", f.name)
		}
	}
	if len(m.Entries) > 0 {
		b.WriteString(", Entries: []Entry{")
		for i, e := range m.Entries {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "{Term: %d, Index: %d", e.Term, e.Index)
			if e.Type != EntryNormal {
				fmt.Fprintf(&b, ", Type: %d", e.Type)
			}
			if len(e.Data) > 0 {
				fmt.Fprintf(&b, ", Data: %#v", e.Data)
			}
			b.WriteString("}")
		}
		b.WriteString("}")
	}
	if m.Snapshot != nil {
		fmt.Fprintf(&b, ", Snapshot: &Snapshot{Meta: %#v}", m.Snapshot.Meta)
	}
	if len(m.Context) > 0 {
		fmt.Fprintf(&b, ", Context: %#v", m.Context)
	}
	b.WriteString("}")
	return b.String()
}

// fuzzNode is node 1 of a bootstrapped 3-node cluster driven by actions.
type fuzzNode struct {
	n           *Node
	outstanding bool
}

func newFuzzNode(cfg Config) *fuzzNode {
	st, err := Bootstrap(1, 2, 3)
	if err != nil {
		panic(err)
	}
	n, err := New(cfg, st)
	if err != nil {
		panic(err)
	}
	return &fuzzNode{n: n}
}

func (f *fuzzNode) apply(a fuzzAction) {
	n := f.n
	switch a.kind {
	case fuzzStep:
		// Step may modify the entries it is given; keep the recorded action
		// intact for replays.
		m := a.msg
		m.Entries = append([]Entry(nil), m.Entries...)
		_ = n.Step(m)
	case fuzzReady:
		rd := n.Ready()
		if len(rd.CommittedEntries) > 0 {
			n.Applied()
		}
		if rd.Write != nil {
			f.outstanding = true
		}
	case fuzzAdvance:
		if f.outstanding {
			f.outstanding = false
			n.Advance()
		}
	case fuzzTick:
		n.Tick()
	case fuzzCampaign:
		_ = n.Campaign()
	case fuzzPropose:
		_, _, _ = n.Propose([]byte("p"))
	case fuzzConfChange:
		_, _, _ = n.ProposeConfChange(a.cc)
	case fuzzReadIndex:
		_ = n.ReadIndex(nil)
	case fuzzTransfer:
		_ = n.TransferLeader(a.id)
	case fuzzSnapshot:
		if meta, err := n.SnapshotMeta(); err == nil {
			_ = n.SnapshotTaken(meta)
		}
	case fuzzPurge:
		n.PurgeLog(a.id)
	case fuzzAllowRevert:
		_ = n.AllowNextRevert(a.id, a.flag)
	case fuzzUnreachable:
		n.ReportUnreachable(a.id)
	case fuzzReportSnapshot:
		n.ReportSnapshot(a.id, a.flag)
	case fuzzHeartbeat:
		_ = n.Heartbeat()
	}
	f.check()
}

// check panics if the node's log lost its shape: every held entry at its own
// index, terms never decreasing, applied <= commit <= last index.
func (f *fuzzNode) check() {
	prev, ents := f.n.Log()
	s := f.n.Status()
	lastTerm := f.n.r.log.prevTerm
	for i, e := range ents {
		if e.Index != prev+uint64(i)+1 {
			panic(fmt.Sprintf("invariant: entry at position %d after %d has index %d", i, prev, e.Index))
		}
		if e.Term < lastTerm {
			panic(fmt.Sprintf("invariant: entry %d has term %d below the previous term %d", e.Index, e.Term, lastTerm))
		}
		lastTerm = e.Term
	}
	if s.Commit > s.LastIndex || s.Applied > s.Commit {
		panic(fmt.Sprintf("invariant: applied %d, commit %d, last index %d", s.Applied, s.Commit, s.LastIndex))
	}
	if has, w := f.n.hasWrite(), f.n.peekWrite(); has == w.empty() {
		panic(fmt.Sprintf("invariant: hasWrite %v for the write %+v", has, *w))
	}
}

// catch runs fn and returns what it panicked with, if anything.
func catch(fn func()) (p any) {
	defer func() { p = recover() }()
	fn()
	return nil
}

// fuzzReplay runs actions on a fresh node; it returns the panic, if any, and
// the index of the action that raised it.
func fuzzReplay(cfg func() Config, actions []fuzzAction) (any, int) {
	f := newFuzzNode(cfg())
	for i, a := range actions {
		if p := catch(func() { f.apply(a) }); p != nil {
			return p, i
		}
	}
	return nil, -1
}

// fuzzGen draws actions that look at the node: terms and indexes are chosen
// around the node's own so that messages get past the term checks and touch
// the log, with a share of nonsense (bad types, ids, terms, indexes,
// inconsistent entries, snapshots, conf changes).
type fuzzGen struct {
	rng *rand.Rand
}

func (g *fuzzGen) u(n uint64) uint64 { return g.rng.Uint64N(n) }
func (g *fuzzGen) chance(k int) bool { return g.rng.IntN(k) == 0 }

func (g *fuzzGen) action(n *Node) fuzzAction {
	switch r := g.rng.IntN(100); {
	case r < 60:
		return fuzzAction{kind: fuzzStep, msg: g.message(n)}
	case r < 72:
		return fuzzAction{kind: fuzzReady}
	case r < 84:
		return fuzzAction{kind: fuzzAdvance}
	case r < 92:
		return fuzzAction{kind: fuzzTick}
	default:
		return fuzzAction{
			kind: fuzzTick + fuzzKind(g.rng.IntN(int(fuzzKinds-fuzzTick))),
			id:   g.u(6), flag: g.chance(2), cc: g.confChange(),
		}
	}
}

func (g *fuzzGen) confChange() ConfChange {
	cc := ConfChange{Transition: Transition(g.rng.IntN(4))}
	for range g.rng.IntN(3) {
		cc.Changes = append(cc.Changes, ConfChangeSingle{Type: ConfChangeType(g.rng.IntN(5)), NodeID: g.u(6)})
	}
	return cc
}

func (g *fuzzGen) message(n *Node) Message {
	s := n.Status()
	last := s.LastIndex
	m := Message{
		Type: MessageType(g.rng.IntN(int(msgTypeCount))),
		To:   1,
		From: 2 + g.u(3),
		Term: s.Term,
	}
	switch r := g.rng.IntN(10); {
	case r == 0:
		m.Term++
	case r == 1 && m.Term > 1:
		m.Term--
	}
	if m.Type == MsgPreVoteResp && g.chance(2) {
		m.Term = s.Term + 1
	}
	if g.chance(20) {
		m.Type = msgTypeCount + MessageType(g.rng.IntN(3))
	}
	if g.chance(20) {
		m.To = g.u(6)
	}
	if g.chance(20) {
		m.From = g.u(6)
	}
	if g.chance(30) {
		m.Term = g.u(s.Term + 5)
	}
	index := func() uint64 { return g.u(last + 3) }
	termAt := func(i uint64) uint64 {
		if g.chance(3) {
			return g.u(s.Term + 2)
		}
		if i+1 >= s.FirstIndex && i <= last {
			if i+1 == s.FirstIndex {
				return n.r.log.prevTerm
			}
			t, _ := n.r.log.term(i)
			return t
		}
		return g.u(s.Term + 2)
	}
	m.Index = index()
	m.LogTerm = termAt(m.Index)
	if g.chance(2) {
		m.Commit = index()
	}
	if g.chance(3) {
		m.Match = index()
	}
	if g.chance(3) {
		m.Round = g.u(5)
	}
	if g.chance(3) {
		m.Reject = true
		m.RejectHint = index()
	}
	m.Reverted = g.chance(10)
	m.Transfer = g.chance(5)
	if g.chance(5) {
		m.Context = []byte{byte(g.rng.IntN(256))}
	}
	if k := g.rng.IntN(4); k > 0 && (m.Type == MsgApp || m.Type == MsgProp || g.chance(10)) {
		consistent := !g.chance(5)
		term := max(m.LogTerm, 1)
		for i := range k {
			e := Entry{Index: m.Index + 1 + uint64(i), Term: term}
			if !consistent {
				e.Index, e.Term = index(), g.u(s.Term+2)
			} else if g.chance(3) && term < m.Term {
				term++
				e.Term = term
			}
			switch g.rng.IntN(8) {
			case 0:
				e.Type = EntryConfChange
				e.Data = g.confChange().Marshal()
			case 1:
				e.Type = EntryConfChange
				e.Data = []byte{0xc1}
			case 2:
				e.Type = EntryType(2 + g.rng.IntN(3))
			default:
				e.Data = []byte{byte(g.rng.IntN(256))}
			}
			m.Entries = append(m.Entries, e)
		}
	}
	if m.Type == MsgSnap && !g.chance(5) {
		cs := ConfState{Voters: []uint64{1, 2, 3}}
		if g.chance(3) {
			cs = ConfState{}
			for id := uint64(1); id <= 4; id++ {
				switch g.rng.IntN(3) {
				case 0:
					cs.Voters = append(cs.Voters, id)
				case 1:
					cs.Learners = append(cs.Learners, id)
				}
			}
		}
		idx := last + g.u(6)
		if g.chance(3) {
			idx = g.u(last + 1)
		}
		m.Snapshot = &Snapshot{Meta: SnapshotMeta{Index: idx, Term: termAt(idx), ConfState: cs}}
	}
	return m
}

// fuzzRun generates and applies count actions; it returns them and the
// panic, if any, with the index of the action that raised it.
func fuzzRun(cfg func() Config, seed uint64, count int) ([]fuzzAction, any, int) {
	g := &fuzzGen{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	f := newFuzzNode(cfg())
	var actions []fuzzAction
	steps := 0
	for steps < count {
		a := g.action(f.n)
		actions = append(actions, a)
		if a.kind == fuzzStep {
			steps++
		}
		if p := catch(func() { f.apply(a) }); p != nil {
			return actions, p, len(actions) - 1
		}
	}
	return actions, nil, -1
}

// minimizeFuzz drops actions while the run still panics the same way, so a
// failure can be reported as a short reproduction.
func minimizeFuzz(cfg func() Config, actions []fuzzAction, same func(any) bool) []fuzzAction {
	fails := func(as []fuzzAction) bool {
		p, _ := fuzzReplay(cfg, as)
		return p != nil && same(p)
	}
	if !fails(actions) {
		return actions
	}
	for chunk := len(actions) / 2; chunk >= 1; chunk /= 2 {
		for i := 0; i+chunk <= len(actions); {
			try := append(append([]fuzzAction(nil), actions[:i]...), actions[i+chunk:]...)
			if fails(try) {
				actions = try
			} else {
				i += chunk
			}
		}
	}
	return actions
}

// panicKind is a panic message without its numbers, to tell whether a
// smaller run fails the same way.
func panicKind(p any) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return -1
		}
		return r
	}, fmt.Sprint(p))
}

// TestStepRandomMessagesNeverPanic steps 5000 random messages (and the
// node's own events, Ready and Advance) into node 1 of a 3-node cluster:
// whatever arrives from the network, the node must not panic, and its log
// keeps its shape (fuzzNode.check). A failure is minimized and printed as a
// sequence of calls that reproduces it.
func TestStepRandomMessagesNeverPanic(t *testing.T) {
	variants := []struct {
		name                 string
		preVote, checkQuorum bool
	}{
		{"plain", false, false},
		{"prevote", true, false},
		{"checkquorum", false, true},
		{"prevote+checkquorum", true, true},
	}
	for vi, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			cfg := func() Config {
				c := testConfig(1)
				c.PreVote, c.CheckQuorum = v.preVote, v.checkQuorum
				c.MaxInflightMsgs = 4
				c.MaxMsgEntries = 3
				return c
			}
			actions, p, at := fuzzRun(cfg, uint64(7+vi), 5000)
			if p == nil {
				return
			}
			kind := panicKind(p)
			repro := minimizeFuzz(cfg, actions[:at+1], func(q any) bool { return panicKind(q) == kind })
			var b strings.Builder
			for _, a := range repro {
				fmt.Fprintf(&b, "\n\t%s", a)
			}
			msg := fmt.Sprintf("panic at action %d: %v\nminimized reproduction on node 1 of Bootstrap(1, 2, 3) with PreVote=%v CheckQuorum=%v:%s",
				at, p, v.preVote, v.checkQuorum, b.String())
			t.Fatal(msg)
		})
	}
}

// TestStepProposalEntriesNotMutated: the entries of a stepped message belong
// to the caller (a transport may still hold the message, e.g. to deliver it
// again or to log it).
func TestStepProposalEntriesNotMutated(t *testing.T) {

	n := singleLeaderWithLearner(t)
	ents := []Entry{{Data: []byte("x")}}
	require.NoError(t, n.Step(Message{Type: MsgProp, To: 1, From: 2, Term: 2, Entries: ents}))
	_, held := n.Log()
	assert.Equal(t, Entry{Term: 2, Index: 4, Data: []byte("x")}, held[len(held)-1])
	assert.Equal(t, Entry{Data: []byte("x")}, ents[0], "the caller's entries were modified")
}

// --- Reproductions of bugs found by these tests (some fixed since) ---------

// threeNodeLeader is node 1 of Bootstrap(1, 2, 3), elected in term 2 with
// node 2's vote; node 2 has acknowledged the empty entry, which is applied.
func threeNodeLeader(t *testing.T) *Node {
	t.Helper()
	n := newTestNode(t, testConfig(1), 1, 2, 3)
	runToQuiescence(t, n)
	require.NoError(t, n.Campaign())
	runToQuiescence(t, n)
	require.NoError(t, n.Step(Message{Type: MsgVoteResp, To: 1, From: 2, Term: 2}))
	runToQuiescence(t, n)
	require.Equal(t, StateLeader, n.Status().State)
	require.NoError(t, n.Step(Message{Type: MsgAppResp, To: 1, From: 2, Term: 2, Index: 2}))
	runToQuiescence(t, n)
	s := n.Status()
	require.Equal(t, uint64(2), s.Commit)
	require.Equal(t, uint64(2), s.Applied)
	return n
}

// logInvariant checks that every held entry sits at its own index.
func logInvariant(t *testing.T, n *Node) {
	t.Helper()
	prev, ents := n.Log()
	for i, e := range ents {
		assert.Equal(t, prev+uint64(i)+1, e.Index, "entry at position %d", i)
	}
	assert.LessOrEqual(t, n.Status().Commit, prev+uint64(len(ents)))
}

// TestStepMalformedAppendEntries: a MsgApp whose entries are not numbered on
// from Index+1 is refused. (Regression: such messages used to panic the node
// or put entries at the wrong positions.)
func TestStepMalformedAppendEntries(t *testing.T) {
	testMalformedAppend(t, []struct {
		name string
		ents []Entry
	}{
		{"entry at prevIndex with another term", []Entry{{Index: 1, Term: 2}}},
		{"gap after prevIndex", []Entry{{Index: 5, Term: 2}}},
		{"index 0", []Entry{{Index: 0, Term: 2}}},
		{"duplicate index", []Entry{{Index: 2, Term: 2}, {Index: 2, Term: 2}}},
		{"out of order", []Entry{{Index: 3, Term: 2}, {Index: 2, Term: 2}}},
		{"gap between entries", []Entry{{Index: 2, Term: 2}, {Index: 7, Term: 2}}},
	})
}

// TestStepAppendEntriesBadTerms: entries whose terms decrease, fall below
// the previous entry's, or exceed the term of the leader sending them cannot
// come from a correct leader and are refused like other malformed messages.
func TestStepAppendEntriesBadTerms(t *testing.T) {

	testMalformedAppend(t, []struct {
		name string
		ents []Entry
	}{
		{"term 0", []Entry{{Index: 2, Term: 0}}},
		{"terms decrease", []Entry{{Index: 2, Term: 2}, {Index: 3, Term: 1}}},
		{"term above the message's", []Entry{{Index: 2, Term: 3}}},
	})
}

// testMalformedAppend steps a MsgApp{Term: 2, Index: 1, LogTerm: 1, Commit: 2}
// carrying each set of entries into node 1 of a fresh 3-node cluster.
func testMalformedAppend(t *testing.T, tests []struct {
	name string
	ents []Entry
}) {
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newTestNode(t, testConfig(1), 1, 2, 3)
			runToQuiescence(t, n)
			var err error
			p := catch(func() {
				err = n.Step(Message{Type: MsgApp, To: 1, From: 2, Term: 2, Index: 1, LogTerm: 1, Commit: 2, Entries: tt.ents})
			})
			require.Nil(t, p, "Step panicked")
			assert.Error(t, err, "a malformed MsgApp is refused")
			logInvariant(t, n)
			assert.Equal(t, uint64(1), n.Status().LastIndex, "nothing of a malformed MsgApp is kept")
			assert.Equal(t, uint64(1), n.Status().Commit)
		})
	}
}

// TestForwardedConfChangeIsChecked: a conf change forwarded by a follower
// (ProposeConfChange on a follower arrives as MsgProp) must pass the same
// checks as a local one: one change in flight at a time. (Regression: the
// leader used to append forwarded conf changes unchecked.)
func TestForwardedConfChangeIsChecked(t *testing.T) {
	n := threeNodeLeader(t)
	cc := func(c ConfChange) []Entry { return []Entry{{Type: EntryConfChange, Data: c.Marshal()}} }

	require.NoError(t, n.Step(Message{Type: MsgProp, To: 1, From: 2, Term: 2, Entries: cc(ccOf(TransitionAuto, av(4)))}))
	_ = n.Step(Message{Type: MsgProp, To: 1, From: 3, Term: 2, Entries: cc(ccOf(TransitionAuto, av(5)))})
	_, _, err := n.ProposeConfChange(ccOf(TransitionAuto, al(6)))
	assert.ErrorIs(t, err, ErrConfChangePending, "a forwarded change is pending too")

	_, ents := n.Log()
	changes := 0
	for _, e := range ents {
		if e.Index > 2 && e.Type == EntryConfChange {
			changes++
		}
	}
	assert.Equal(t, 1, changes, "conf change entries in flight at once")
}

// TestTransferLeaderForwarded: TransferLeader(x) on a follower asks the
// leader to hand over to x. (Regression: send() used to overwrite the From
// that names the target with the follower's own id.)
func TestTransferLeaderForwarded(t *testing.T) {
	leader := threeNodeLeader(t)

	follower := newTestNode(t, testConfig(2), 1, 2, 3)
	runToQuiescence(t, follower)
	require.NoError(t, follower.Step(Message{Type: MsgHeartbeat, To: 2, From: 1, Term: 2, Commit: 1}))
	runToQuiescence(t, follower)
	require.Equal(t, uint64(1), follower.Status().Lead)

	require.NoError(t, follower.TransferLeader(3))
	q := runToQuiescence(t, follower)
	require.Len(t, q.msgs, 1)
	m := q.msgs[0]
	require.Equal(t, MsgTransferLeader, m.Type)
	require.Equal(t, uint64(1), m.To)

	require.NoError(t, leader.Step(m))
	assert.Equal(t, uint64(3), leader.Status().LeadTransferee)
}

// TestStepSnapshotMalformedConfState: a snapshot's configuration is what the
// node will count votes and commits with; one that no correct leader could
// send (unsorted or repeated ids, node 0, a node both voter and learner, no
// incoming voters) is refused and changes nothing.
func TestStepSnapshotMalformedConfState(t *testing.T) {

	for name, cs := range map[string]ConfState{
		"unsorted with a repeated voter": {Voters: []uint64{3, 1, 2, 2}},
		"voter 0":                        {Voters: []uint64{0, 1, 2}},
		"voter and learner":              {Voters: []uint64{1, 2}, Learners: []uint64{1}},
		"outgoing without incoming":      {VotersOutgoing: []uint64{1, 2, 3}},
		"no voters":                      {Learners: []uint64{1}},
	} {
		t.Run(name, func(t *testing.T) {
			n := newTestNode(t, testConfig(1), 1, 2, 3)
			runToQuiescence(t, n)
			err := n.Step(Message{Type: MsgSnap, To: 1, From: 2, Term: 2,
				Snapshot: &Snapshot{Meta: SnapshotMeta{Index: 5, Term: 2, ConfState: cs}}})
			assert.Error(t, err)
			requireConfEqual(t, ConfState{Voters: []uint64{1, 2, 3}}, n.Status().ConfState)
			assert.Equal(t, uint64(1), n.Status().LastIndex)
		})
	}
}

package raft

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// to keeps the messages of msgs for peer.
func to(peer uint64, msgs []Message) []Message {
	var out []Message
	for _, m := range msgs {
		if m.To == peer {
			out = append(out, m)
		}
	}
	return out
}

// TestCoalescedAppendsStepAsTheRun: a leader proposing entry by entry sends
// a follower one MsgApp each; merged, they leave a follower in the state
// the run leaves another in, answered by one MsgAppResp instead of one
// per entry, and the leader takes that answer as it takes the last of the
// run's.
func TestCoalescedAppendsStepAsTheRun(t *testing.T) {
	lead := newTestNode(t, testConfig(1), 1, 2, 3)
	runToQuiescence(t, lead)
	require.NoError(t, lead.Campaign())
	q := runToQuiescence(t, lead)
	term := lead.Status().Term
	for _, m := range q.msgs {
		require.NoError(t, lead.Step(Message{Type: MsgVoteResp, From: m.To, To: 1, Term: term}))
	}
	q = runToQuiescence(t, lead)
	require.Equal(t, StateLeader, lead.Status().State)

	run, merged := newTestNode(t, testConfig(2), 1, 2, 3), newTestNode(t, testConfig(2), 1, 2, 3)
	step := func(n *Node, msgs []Message) []Message {
		for _, m := range msgs {
			require.NoError(t, n.Step(m))
		}
		return to(1, runToQuiescence(t, n).msgs)
	}
	// The leader's first MsgApp (its term's empty entry) to both, and the
	// answer back, so that the leader pipelines to follower 2.
	first := to(2, q.msgs)
	step(merged, first)
	for _, m := range step(run, first) {
		require.NoError(t, lead.Step(m))
	}
	runToQuiescence(t, lead)

	var apps []Message
	for i := range 5 {
		_, _, err := lead.Propose([]byte{byte('a' + i)})
		require.NoError(t, err)
		apps = append(apps, to(2, runToQuiescence(t, lead).msgs)...)
	}
	require.Len(t, apps, 5, "a MsgApp per proposal")
	before := append([]Message(nil), apps...)

	one := CoalesceAppends(apps)
	require.Len(t, one, 1)
	require.Len(t, one[0].Entries, 5)
	require.Equal(t, before, apps, "the run is not modified")

	runAcks, mergedAcks := step(run, apps), step(merged, one)
	require.Len(t, runAcks, 5)
	require.Len(t, mergedAcks, 1)
	require.Equal(t, runAcks[len(runAcks)-1], mergedAcks[0])
	rs, ms := run.Status(), merged.Status()
	require.Equal(t, rs.HardState, ms.HardState)
	require.Equal(t, rs.LastIndex, ms.LastIndex)
}

// TestCoalesceKeepsWhatDoesNotContinue: messages of other kinds, to other
// peers, with a gap, or with another match stay as they are.
func TestCoalesceKeepsWhatDoesNotContinue(t *testing.T) {
	app := func(to, index uint64, n int) Message {
		m := Message{Type: MsgApp, To: to, From: 1, Term: 2, Index: index, LogTerm: 2, Commit: index}
		for i := range n {
			m.Entries = append(m.Entries, Entry{Term: 2, Index: index + 1 + uint64(i)})
		}
		return m
	}
	withMatch := app(2, 12, 1)
	withMatch.Match = 5
	for _, msgs := range [][]Message{
		{app(2, 10, 1), {Type: MsgHeartbeat, To: 2, From: 1, Term: 2}, app(2, 11, 1)},
		{app(2, 10, 1), app(3, 11, 1)},
		{app(2, 10, 1), app(2, 12, 1)},
		{app(2, 10, 2), withMatch},
	} {
		require.Equal(t, msgs, CoalesceAppends(msgs))
	}
	got := CoalesceAppends([]Message{app(2, 10, 2), app(2, 12, 0), app(2, 12, 3), app(3, 1, 1)})
	require.Len(t, got, 2)
	require.Equal(t, uint64(10), got[0].Index)
	require.Len(t, got[0].Entries, 5)
	require.Equal(t, uint64(12), got[0].Commit)
}

// TestCoalescerInPieces: messages given to a Coalescer a few at a time
// end as CoalesceAppends makes them of all at once, and none of what it
// was given changes.
func TestCoalescerInPieces(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 500 {
		var all []Message
		next := map[uint64]uint64{2: 10, 3: 10}
		for range 1 + r.IntN(12) {
			to := uint64(2 + r.IntN(2))
			switch r.IntN(5) {
			case 0:
				all = append(all, Message{Type: MsgHeartbeat, To: to, From: 1, Term: 2})
			case 1:
				next[to] += uint64(1 + r.IntN(2)) // a gap
				fallthrough
			default:
				m := Message{Type: MsgApp, To: to, From: 1, Term: 2, Index: next[to], LogTerm: 2, Commit: next[to]}
				// Room past the entries, as a slice of Raft's log has:
				// what is there must stay.
				m.Entries = make([]Entry, 0, 5)
				for range r.IntN(3) {
					next[to]++
					m.Entries = append(m.Entries, Entry{Term: 2, Index: next[to], Data: []byte{byte(next[to])}})
				}
				for i := len(m.Entries); i < cap(m.Entries); i++ {
					m.Entries[:cap(m.Entries)][i] = Entry{Term: 99}
				}
				all = append(all, m)
			}
		}
		var pieces [][]Message
		for rest := all; len(rest) > 0; {
			n := 1 + r.IntN(len(rest))
			pieces, rest = append(pieces, rest[:n]), rest[n:]
		}
		full := func(ms []Message) [][]Entry {
			var out [][]Entry
			for _, m := range ms {
				out = append(out, append([]Entry(nil), m.Entries[:cap(m.Entries)]...))
			}
			return out
		}
		before, beforeEntries := append([]Message(nil), all...), full(all)
		want := CoalesceAppends(all)
		var c Coalescer
		for _, p := range pieces {
			c.Add(p)
		}
		require.Equal(t, want, c.Messages())
		require.Equal(t, before, all)
		require.Equal(t, beforeEntries, full(all))
	}
}

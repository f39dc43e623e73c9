package raft

// CoalesceAppends merges each run of MsgApps in msgs that continue one
// another — the same sender, receiver, term, match and round, each one's
// entries starting right after the previous one's, commits not going
// back — into one MsgApp with all their entries and the last one's
// commit. A follower steps the merged message as it would have stepped
// the run, one after another (each would have passed the same match check
// and appended in turn, and the last commit is the highest), and answers
// it once.
//
// A busy leader proposes entry by entry, and each proposal sends every
// follower a MsgApp of its own: a driver that sends many messages to a
// peer at once (runtime.Host's batches) merges them here, so that the
// follower does not step, and answer, each entry on its own (at 64
// clients: one MsgApp and one MsgAppResp per entry, docs/BENCHMARKS.md).
//
// msgs is not modified: with nothing to merge it is returned as is, else
// a new slice with new entry slices.
func CoalesceAppends(msgs []Message) []Message {
	merges := false
	for i := 1; i < len(msgs) && !merges; i++ {
		merges = continues(&msgs[i-1], &msgs[i])
	}
	if !merges {
		return msgs
	}
	out := make([]Message, 0, len(msgs))
	for i := 0; i < len(msgs); {
		j, n := i+1, len(msgs[i].Entries)
		for j < len(msgs) && continues(&msgs[j-1], &msgs[j]) {
			n += len(msgs[j].Entries)
			j++
		}
		m := msgs[i]
		if j > i+1 {
			m.Entries = make([]Entry, 0, n)
			for k := i; k < j; k++ {
				m.Entries = append(m.Entries, msgs[k].Entries...)
			}
			m.Commit = msgs[j-1].Commit
		}
		out = append(out, m)
		i = j
	}
	return out
}

// continues reports whether b is a MsgApp that takes up where MsgApp a
// ends, so that the two can travel as one.
func continues(a, b *Message) bool {
	if a.Type != MsgApp || b.Type != MsgApp || a.To != b.To || a.From != b.From || a.Term != b.Term ||
		a.Match != b.Match || a.Round != b.Round || a.Commit > b.Commit ||
		a.Snapshot != nil || b.Snapshot != nil || a.Reject || b.Reject || a.Reverted || b.Reverted ||
		a.Transfer || b.Transfer || a.RejectHint != 0 || b.RejectHint != 0 ||
		len(a.Context) != 0 || len(b.Context) != 0 {
		return false
	}
	lastIndex, lastTerm := a.Index, a.LogTerm
	if k := len(a.Entries); k > 0 {
		last := &a.Entries[k-1]
		if last.Index != a.Index+uint64(k) {
			return false // malformed: let the receiver refuse it as it is
		}
		lastIndex, lastTerm = last.Index, last.Term
	}
	return b.Index == lastIndex && b.LogTerm == lastTerm
}

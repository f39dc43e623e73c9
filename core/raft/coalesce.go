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
// peer at once (runtime.Host's batches) merges them, so that the follower
// does not step, and answer, each entry on its own (at 64 clients: one
// MsgApp and one MsgAppResp per entry, docs/BENCHMARKS.md).
//
// msgs is not modified: with nothing to merge it is returned as is, else
// a new slice with new entry slices.
func CoalesceAppends(msgs []Message) []Message {
	var c Coalescer
	c.Add(msgs)
	return c.Messages()
}

// Coalescer is CoalesceAppends for messages that come a few at a time: it
// gathers what Add is given into the messages CoalesceAppends would make
// of all of it at once, merging as it goes, so that the run of a batch's
// MsgApps is never held message by message. It changes nothing it is
// given (it copies a slice before writing into it). The zero value is
// empty.
type Coalescer struct {
	msgs       []Message
	ownMsgs    bool // msgs is the Coalescer's own array
	ownEntries bool // so is the last message's Entries
}

// Add appends msgs, merging each MsgApp into the message before it when
// it continues it.
func (c *Coalescer) Add(msgs []Message) {
	if len(c.msgs) == 0 && !anyContinues(msgs) {
		// The common first Add: kept as it is, without a copy.
		c.msgs, c.ownMsgs, c.ownEntries = msgs[:len(msgs):len(msgs)], false, false
		return
	}
	for i := range msgs {
		m := &msgs[i]
		n := len(c.msgs)
		if n == 0 || !continues(&c.msgs[n-1], m) {
			c.own(1)
			c.msgs = append(c.msgs, *m)
			c.ownEntries = false
			continue
		}
		c.own(0)
		last := &c.msgs[n-1]
		if !c.ownEntries {
			ents := make([]Entry, len(last.Entries), 2*(len(last.Entries)+len(m.Entries)))
			copy(ents, last.Entries)
			last.Entries, c.ownEntries = ents, true
		}
		last.Entries = append(last.Entries, m.Entries...)
		last.Commit = m.Commit
	}
}

// own makes msgs the Coalescer's own array, with room for more.
func (c *Coalescer) own(more int) {
	if !c.ownMsgs {
		c.msgs = append(make([]Message, 0, 2*len(c.msgs)+more), c.msgs...)
		c.ownMsgs = true
	}
}

// Messages is what Add gathered.
func (c *Coalescer) Messages() []Message { return c.msgs }

func anyContinues(msgs []Message) bool {
	for i := 1; i < len(msgs); i++ {
		if continues(&msgs[i-1], &msgs[i]) {
			return true
		}
	}
	return false
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

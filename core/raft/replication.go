package raft

import "github.com/picogo/picogo/core/mutant"

// Log replication: the leader streams entries to each follower within its
// flow-control limits, followers append what matches and say how far they
// match, and the leader commits what a quorum holds — but only by counting
// replicas of an entry of its own term (Raft paper, Figure 8).

// bcastAppend sends what each follower is missing, or at least the new
// commit index.
func (r *raft) bcastAppend() {
	r.forEachPeer(func(id uint64, _ *Progress) { r.maybeSendAppend(id, true) })
}

// maybeSendAppend sends the next batch of entries to a follower unless flow
// control pauses it; sendIfEmpty sends a MsgApp even with no entries (to
// carry the commit index). It reports whether something was sent.
func (r *raft) maybeSendAppend(to uint64, sendIfEmpty bool) bool {
	pr := r.progress[to]
	if pr.isPaused() {
		return false
	}
	prevIndex := pr.Next - 1
	prevTerm, okTerm := r.log.term(prevIndex)
	ents, okEnts := r.log.slice(pr.Next, r.log.lastIndex()+1, r.cfg.MaxMsgBytes, r.cfg.MaxMsgEntries)
	if !okTerm || !okEnts {
		return r.sendSnapshot(to, pr)
	}
	if len(ents) == 0 && !sendIfEmpty {
		return false
	}
	r.send(Message{
		To: to, Type: MsgApp,
		Index: prevIndex, LogTerm: prevTerm, Entries: ents,
		Commit: r.advertisedCommit(), Match: pr.Match,
	})
	last := prevIndex + uint64(len(ents))
	pr.sent(last, entriesSize(ents), len(ents))
	return true
}

// sendSnapshot offers the newest snapshot to a follower that needs purged
// entries. The layer above attaches the data (or streams it in chunks).
func (r *raft) sendSnapshot(to uint64, pr *Progress) bool {
	if !pr.RecentActive {
		// Do not ship a snapshot to a node that may be down.
		return false
	}
	snap := r.log.snapshot
	if snap.Index < r.log.prevIndex {
		panic("raft: entries purged past the newest snapshot")
	}
	r.send(Message{To: to, Type: MsgSnap, Snapshot: &Snapshot{Meta: snap}})
	pr.becomeSnapshot(snap.Index)
	return true
}

// bcastHeartbeat starts a new heartbeat round. Its acknowledgements prove
// leadership for read indexes registered before it.
func (r *raft) bcastHeartbeat() {
	r.reads.round++
	r.forEachPeer(func(id uint64, pr *Progress) {
		r.send(Message{
			To: id, Type: MsgHeartbeat,
			// A follower may not hold more than its match; committing
			// beyond it would commit entries it does not have.
			Commit: min(pr.Match, r.advertisedCommit()),
			Match:  pr.Match,
			Round:  r.reads.round,
		})
	})
}

// advertisedCommit is the commit index the leader tells followers. It stops
// short of a committed conf change entry until a synced write holds a commit
// index past it. A voter that the change removes or demotes may leave for
// good once it hears the change is committed; were the leader to crash with
// that commit unsynced, it would restart in the old configuration, needing
// the departed voter's vote for ever (simulator seed 4891: voters [1 3] →
// [3], 1 shut down, 3 restarted as a pre-candidate with no one to vote).
// The write that moves commit past a conf change is synced (peekWrite), so
// the hold lasts one fsync, on membership changes only.
func (r *raft) advertisedCommit() uint64 {
	if i, ok := r.log.unsyncedCommittedConfChange(); ok && !r.cfg.mutants.Has(mutant.AdvertiseUnsyncedConfCommit) {
		return i - 1
	}
	return r.log.committed
}

// maybeCommit advances the commit index to what a quorum holds, if that
// entry is of the current term.
func (r *raft) maybeCommit() bool {
	idx := r.voters.committed(func(id uint64) uint64 { return r.progress[id].Match })
	if idx <= r.log.committed {
		return false
	}
	if t, _ := r.log.term(idx); t != r.term && !r.cfg.mutants.Has(mutant.CommitPreviousTerm) {
		// Counting replicas of an older term's entry is not enough: a later
		// leader could still overwrite it. It commits with the first entry
		// of this term.
		return false
	}
	r.log.commitTo(idx)
	r.releaseReadsAwaitingCommit()
	return true
}

// handleAppend is a follower receiving entries.
func (r *raft) handleAppend(m Message) {
	if r.reverted(m) {
		return
	}
	r.leaderCommit = max(r.leaderCommit, m.Commit)
	if m.Index < r.log.committed {
		// Everything up to our commit matches the leader (it is committed);
		// tell it where to continue.
		r.send(Message{To: m.From, Type: MsgAppResp, Index: r.log.committed})
		return
	}
	if last, ok := r.log.maybeAppend(m.Index, m.LogTerm, m.Commit, m.Entries); ok {
		r.send(Message{To: m.From, Type: MsgAppResp, Index: last})
		return
	}
	hint, hintTerm := r.log.hintFor(m.Index, m.LogTerm)
	r.send(Message{To: m.From, Type: MsgAppResp, Index: m.Index, Reject: true, RejectHint: hint, LogTerm: hintTerm})
}

func (r *raft) handleHeartbeat(m Message) {
	if r.reverted(m) {
		return
	}
	r.leaderCommit = max(r.leaderCommit, m.Commit)
	r.log.commitTo(min(m.Commit, r.log.lastIndex()))
	r.send(Message{To: m.From, Type: MsgHeartbeatResp, Round: m.Round})
}

// reverted checks what the leader believes this node durably holds. Holding
// less means acknowledged entries were lost (a wiped or lying disk): say so
// instead of quietly accepting a rewrite.
func (r *raft) reverted(m Message) bool {
	if m.Match <= r.log.lastIndex() {
		return false
	}
	r.send(Message{To: m.From, Type: MsgAppResp, Index: m.Index, Reject: true, Reverted: true,
		RejectHint: r.log.lastIndex(), LogTerm: r.log.lastTerm(), Match: m.Match})
	return true
}

// handleAppendResponse is the leader learning where a follower stands.
func (r *raft) handleAppendResponse(m Message, pr *Progress) {
	if m.Reverted {
		r.handleReversion(m, pr)
		return
	}
	if m.Reject {
		probe := m.RejectHint
		if m.LogTerm > 0 {
			// Skip every entry of ours from terms the follower cannot match.
			probe, _ = r.log.hintFor(m.RejectHint, m.LogTerm)
		}
		if pr.maybeDecrTo(m.Index, probe) {
			if pr.State == StateReplicate {
				pr.becomeProbe()
			}
			r.maybeSendAppend(m.From, false)
		}
		return
	}
	wasPaused := pr.isPaused()
	if !pr.maybeUpdate(m.Index) {
		return
	}
	switch {
	case pr.State == StateProbe:
		pr.becomeReplicate()
	case pr.State == StateSnapshot && pr.Match+1 >= r.log.firstIndex():
		pr.becomeProbe()
		pr.becomeReplicate()
	case pr.State == StateReplicate:
		pr.inflights.freeLE(m.Index)
	}
	if r.maybeCommit() {
		r.bcastAppend()
	} else if wasPaused {
		r.maybeSendAppend(m.From, true)
	}
	for r.maybeSendAppend(m.From, false) {
	}
	if m.From == r.leadTransferee && pr.Match == r.log.lastIndex() {
		r.sendTimeoutNow(m.From)
	}
	r.maybePurge()
}

func (r *raft) handleHeartbeatResponse(m Message, pr *Progress) {
	pr.RoundAcked = max(pr.RoundAcked, m.Round)
	// The follower is reachable, and whatever it has not answered may have
	// been lost: unpause a probe, free one in-flight slot, and send (if need
	// be an empty MsgApp, whose rejection says where the follower stands).
	// Otherwise a lost probe or a lost last MsgApp stalls it for good.
	pr.ProbeSent = false
	if pr.State == StateReplicate && pr.inflights.full() {
		pr.inflights.freeLE(pr.inflights.last[0])
	}
	if pr.Match < r.log.lastIndex() {
		r.maybeSendAppend(m.From, true)
	}
	r.confirmReads()
}

// handleReversion: the follower holds less than it acknowledged. A report
// about a match older than what we now know is a stale echo and is ignored.
func (r *raft) handleReversion(m Message, pr *Progress) {
	if m.Match > pr.Match || m.RejectHint >= m.Match {
		return
	}
	if r.allowRevert[m.From] {
		delete(r.allowRevert, m.From)
		r.restartReplication(m.From, pr, m.RejectHint)
		return
	}
	if pr.reverted {
		return // already reported
	}
	pr.reverted = true
	r.errors = append(r.errors, &LogReversionError{Peer: m.From, Match: pr.Match, LastHeld: m.RejectHint})
}

// restartReplication forgets what was known of a follower and probes it from
// what it holds now.
func (r *raft) restartReplication(id uint64, pr *Progress, held uint64) {
	pr.reverted = false
	pr.Match = 0
	pr.becomeProbe()
	pr.Next = held + 1
	r.maybeSendAppend(id, true)
}

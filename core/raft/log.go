package raft

import (
	"fmt"
	"slices"
)

// raftLog is the node's whole log in memory: entries after the purge point,
// persisted or not. The driver persists what Ready hands it and reloads it
// all at restart, so the node never reads storage while deciding.
//
//	prevIndex/prevTerm  the entry just before entries[0] (purged or snapshotted)
//	stable              entries up to here are durable
//	committed           known committed
//	applying            handed to the application in a Ready
//	applied             the application confirmed (Advance)
type raftLog struct {
	prevIndex, prevTerm uint64
	entries             []Entry
	// confs are the indexes of the conf change entries among entries, in
	// order: few, and looked up on every Ready.
	confs []uint64

	stable    uint64
	committed uint64
	applying  uint64
	applied   uint64
	// committedSynced is the commit index of the newest synced write: the
	// commit index this node still knows after any crash.
	committedSynced uint64

	// snapshot is the newest snapshot this node holds; pendingSnapshot is one
	// received from the leader and not yet persisted and restored.
	snapshot        SnapshotMeta
	pendingSnapshot *Snapshot
}

func newLog(snap SnapshotMeta, ents []Entry, commit uint64) *raftLog {
	l := &raftLog{
		prevIndex: snap.Index, prevTerm: snap.Term,
		snapshot: snap,
	}
	for i, e := range ents {
		if e.Index != snap.Index+uint64(i)+1 {
			panic(fmt.Sprintf("raft: restored entries not contiguous after snapshot %d: entry %d has index %d", snap.Index, i, e.Index))
		}
	}
	l.entries = append([]Entry(nil), ents...)
	l.noteConfs(ents)
	l.stable = l.lastIndex()
	if commit < snap.Index {
		commit = snap.Index
	}
	if commit > l.lastIndex() {
		panic(fmt.Sprintf("raft: restored commit %d beyond last index %d", commit, l.lastIndex()))
	}
	l.committed, l.committedSynced = commit, commit
	l.applying, l.applied = snap.Index, snap.Index
	return l
}

func (l *raftLog) firstIndex() uint64 { return l.prevIndex + 1 }

func (l *raftLog) lastIndex() uint64 { return l.prevIndex + uint64(len(l.entries)) }

func (l *raftLog) lastTerm() uint64 {
	t, _ := l.term(l.lastIndex())
	return t
}

// term returns the term of the entry at i; ok is false when i is purged or
// beyond the log.
func (l *raftLog) term(i uint64) (uint64, bool) {
	switch {
	case i == l.prevIndex:
		return l.prevTerm, true
	case i < l.prevIndex || i > l.lastIndex():
		return 0, false
	}
	return l.entries[i-l.prevIndex-1].Term, true
}

func (l *raftLog) matchTerm(i, term uint64) bool {
	t, ok := l.term(i)
	return ok && t == term
}

// isUpToDate is the voting rule: a candidate whose last entry is (index, term)
// has a log at least as complete as ours.
func (l *raftLog) isUpToDate(index, term uint64) bool {
	last := l.lastTerm()
	return term > last || (term == last && index >= l.lastIndex())
}

// slice returns entries [lo, hi) limited to maxBytes (at least one entry) and
// maxCount; ok is false if lo is purged.
func (l *raftLog) slice(lo, hi uint64, maxBytes uint64, maxCount int) ([]Entry, bool) {
	if lo <= l.prevIndex {
		return nil, false
	}
	if hi > l.lastIndex()+1 {
		hi = l.lastIndex() + 1
	}
	if lo >= hi {
		return nil, true
	}
	src := l.entries[lo-l.prevIndex-1 : hi-l.prevIndex-1]
	var size uint64
	n := 0
	for n < len(src) && n < maxCount {
		size += src[n].size()
		if n > 0 && size > maxBytes {
			break
		}
		n++
	}
	return src[:n:n], true
}

// append adds entries that continue the log or replace its tail from
// ents[0].Index on. Replacing a committed entry is a safety violation.
func (l *raftLog) append(ents ...Entry) {
	if len(ents) == 0 {
		return
	}
	at := ents[0].Index
	if at <= l.committed {
		panic(fmt.Sprintf("raft: append at %d would overwrite committed entries (committed %d)", at, l.committed))
	}
	if at > l.lastIndex()+1 {
		panic(fmt.Sprintf("raft: append at %d leaves a gap after %d", at, l.lastIndex()))
	}
	keep := l.entries[:at-l.prevIndex-1]
	if at <= l.lastIndex() {
		// Replacing the tail: copy, because messages and writes already
		// handed out may still refer to the entries being replaced.
		keep = append([]Entry(nil), keep...)
	}
	l.entries = append(keep, ents...)
	l.confs = slices.DeleteFunc(l.confs, func(i uint64) bool { return i >= at })
	l.noteConfs(ents)
	if l.stable >= at {
		l.stable = at - 1
	}
}

func (l *raftLog) noteConfs(ents []Entry) {
	for _, e := range ents {
		if e.Type == EntryConfChange {
			l.confs = append(l.confs, e.Index)
		}
	}
}

// findConflict returns the index of the first of ents that the log does not
// hold with the same term, or 0 when the log holds them all.
func (l *raftLog) findConflict(ents []Entry) uint64 {
	for i := range ents {
		if !l.matchTerm(ents[i].Index, ents[i].Term) {
			return ents[i].Index
		}
	}
	return 0
}

// maybeAppend is a follower's append: if the log matches (prevIndex,
// prevTerm), ents are merged in and commit advanced. It returns the last index
// known to match the leader.
func (l *raftLog) maybeAppend(prevIndex, prevTerm, commit uint64, ents []Entry) (uint64, bool) {
	if !l.matchTerm(prevIndex, prevTerm) {
		return 0, false
	}
	lastNew := prevIndex + uint64(len(ents))
	if ci := l.findConflict(ents); ci != 0 {
		if ci <= l.committed {
			panic(fmt.Sprintf("raft: entry %d conflicts with a committed entry (committed %d)", ci, l.committed))
		}
		l.append(ents[ci-prevIndex-1:]...)
	}
	l.commitTo(min(commit, lastNew))
	return lastNew, true
}

// hintFor is fast backtracking: the largest index <= index whose term is <=
// term. A leader that rejected entry (index, term) can probe there next,
// skipping a whole term of conflicting entries per round trip.
func (l *raftLog) hintFor(index, term uint64) (uint64, uint64) {
	if index < l.prevIndex {
		// Purged here: nothing to compare; only a snapshot can help.
		return index, 0
	}
	for i := min(index, l.lastIndex()); i > l.prevIndex; i-- {
		if t, _ := l.term(i); t <= term {
			return i, t
		}
	}
	return l.prevIndex, l.prevTerm
}

// firstConfChange returns the index of the first conf change entry in
// [lo, hi]; entries before the log's first index are in a durable snapshot
// and count as none.
func (l *raftLog) firstConfChange(lo, hi uint64) (uint64, bool) {
	k, _ := slices.BinarySearch(l.confs, lo)
	if k < len(l.confs) && l.confs[k] <= hi {
		return l.confs[k], true
	}
	return 0, false
}

// unsyncedCommittedConfChange reports whether a conf change entry is
// committed past the synced commit index.
func (l *raftLog) unsyncedCommittedConfChange() (uint64, bool) {
	return l.firstConfChange(l.committedSynced+1, l.committed)
}

func (l *raftLog) commitTo(i uint64) {
	if i <= l.committed {
		return
	}
	if i > l.lastIndex() {
		panic(fmt.Sprintf("raft: commit %d beyond last index %d", i, l.lastIndex()))
	}
	l.committed = i
}

// stableTo marks entries up to (i, t) durable, unless the tail was replaced
// while the write was in flight.
func (l *raftLog) stableTo(i, t uint64) {
	if i > l.stable && l.matchTerm(i, t) {
		l.stable = i
	}
}

func (l *raftLog) unstableEntries() []Entry {
	if l.stable >= l.lastIndex() {
		return nil
	}
	from := max(l.stable, l.prevIndex)
	return l.entries[from-l.prevIndex:]
}

// applyLimit is the last entry that may be applied: committed and durable
// here (with the apply-before-commit mutant: any entry in the log).
func (l *raftLog) applyLimit(beforeCommit bool) uint64 {
	if beforeCommit {
		return l.lastIndex()
	}
	limit := min(l.committed, l.stable, l.lastIndex())
	if i, ok := l.unsyncedCommittedConfChange(); ok {
		// A conf change takes effect here only once this node's commit
		// index past it is synced: a leader removed by it steps down at
		// once, and must have told the others first (advertisedCommit).
		limit = min(limit, i-1)
	}
	return limit
}

func (l *raftLog) hasNextCommitted(beforeCommit bool) bool {
	return l.pendingSnapshot == nil && l.applying < l.applyLimit(beforeCommit)
}

// nextCommitted returns the entries that may be applied and were not handed
// out yet, up to maxBytes (at least one).
func (l *raftLog) nextCommitted(maxBytes uint64, beforeCommit bool) []Entry {
	if !l.hasNextCommitted(beforeCommit) {
		return nil
	}
	hi := l.applyLimit(beforeCommit)
	ents, ok := l.slice(l.applying+1, hi+1, maxBytes, int(^uint(0)>>1))
	if !ok {
		panic(fmt.Sprintf("raft: committed entries from %d are purged", l.applying+1))
	}
	return ents
}

// purgeTo drops entries up to i; i never exceeds the snapshot's index.
func (l *raftLog) purgeTo(i uint64) {
	if i <= l.prevIndex {
		return
	}
	if i > l.snapshot.Index || i > l.applied {
		panic(fmt.Sprintf("raft: purge to %d past snapshot %d / applied %d", i, l.snapshot.Index, l.applied))
	}
	t, _ := l.term(i)
	l.entries = append([]Entry(nil), l.entries[i-l.prevIndex:]...)
	l.confs = slices.DeleteFunc(l.confs, func(c uint64) bool { return c <= i })
	l.prevIndex, l.prevTerm = i, t
}

// restore replaces the log with a snapshot received from the leader.
func (l *raftLog) restore(s *Snapshot) {
	l.prevIndex, l.prevTerm = s.Meta.Index, s.Meta.Term
	l.entries = nil
	l.confs = nil
	l.snapshot = s.Meta
	l.pendingSnapshot = s
	l.committed = s.Meta.Index
	l.stable = s.Meta.Index
}

func (l *raftLog) String() string {
	return fmt.Sprintf("prev=%d/%d last=%d stable=%d commit=%d synced-commit=%d applying=%d applied=%d snap=%d",
		l.prevIndex, l.prevTerm, l.lastIndex(), l.stable, l.committed, l.committedSynced, l.applying, l.applied, l.snapshot.Index)
}

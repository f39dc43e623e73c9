package raft

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// entsFrom builds entries with consecutive indexes from first, one per term.
func entsFrom(first uint64, terms ...uint64) []Entry {
	ents := make([]Entry, len(terms))
	for i, t := range terms {
		ents[i] = Entry{Index: first + uint64(i), Term: t}
	}
	return ents
}

// termsOf lists the (index, term) pairs of ents as "index/term" for compact
// comparisons.
func termsOf(ents []Entry) [][2]uint64 {
	out := make([][2]uint64, len(ents))
	for i, e := range ents {
		out[i] = [2]uint64{e.Index, e.Term}
	}
	return out
}

// testLog is a log after snapshot 5/2 holding 6/3 7/3 8/4 9/4 10/6, all
// durable, committed up to commit.
func testLog(commit uint64) *raftLog {
	return newLog(SnapshotMeta{Index: 5, Term: 2}, entsFrom(6, 3, 3, 4, 4, 6), commit)
}

func TestNewLog(t *testing.T) {
	l := newLog(SnapshotMeta{Index: 5, Term: 2}, entsFrom(6, 3, 3), 0)
	assert.Equal(t, uint64(6), l.firstIndex())
	assert.Equal(t, uint64(7), l.lastIndex())
	assert.Equal(t, uint64(3), l.lastTerm())
	assert.Equal(t, uint64(7), l.stable)
	assert.Equal(t, uint64(5), l.committed, "commit is at least the snapshot")
	assert.Equal(t, uint64(5), l.applied)
	assert.Equal(t, uint64(5), l.applying)

	empty := newLog(SnapshotMeta{}, nil, 0)
	assert.Equal(t, uint64(1), empty.firstIndex())
	assert.Equal(t, uint64(0), empty.lastIndex())
	assert.Equal(t, uint64(0), empty.lastTerm())

	assert.Panics(t, func() { newLog(SnapshotMeta{Index: 5}, entsFrom(7, 1), 0) }, "gap after the snapshot")
	assert.Panics(t, func() { newLog(SnapshotMeta{}, []Entry{{Index: 1}, {Index: 3}}, 0) }, "gap between entries")
	assert.Panics(t, func() { newLog(SnapshotMeta{}, entsFrom(1, 1), 2) }, "commit beyond the log")
}

func TestLogTerm(t *testing.T) {
	l := testLog(0)
	tests := []struct {
		index  uint64
		want   uint64
		wantOK bool
	}{
		{0, 0, false},
		{4, 0, false},
		{5, 2, true}, // prevIndex: the snapshot's term
		{6, 3, true},
		{7, 3, true},
		{8, 4, true},
		{10, 6, true},
		{11, 0, false},
		{100, 0, false},
	}
	for _, tt := range tests {
		got, ok := l.term(tt.index)
		assert.Equal(t, tt.wantOK, ok, "term(%d) ok", tt.index)
		assert.Equal(t, tt.want, got, "term(%d)", tt.index)
	}

	match := []struct {
		index, term uint64
		want        bool
	}{
		{5, 2, true},
		{5, 3, false},
		{4, 0, false}, // purged: unknown, not "term 0"
		{6, 3, true},
		{8, 3, false},
		{10, 6, true},
		{11, 0, false},
		{11, 6, false},
	}
	for _, tt := range match {
		assert.Equal(t, tt.want, l.matchTerm(tt.index, tt.term), "matchTerm(%d, %d)", tt.index, tt.term)
	}
}

func TestLogIsUpToDate(t *testing.T) {
	l := testLog(0) // last 10/6
	for _, tt := range []struct {
		index, term uint64
		want        bool
	}{
		{10, 6, true},
		{11, 6, true},
		{9, 6, false},
		{1, 7, true},
		{100, 5, false},
	} {
		assert.Equal(t, tt.want, l.isUpToDate(tt.index, tt.term), "isUpToDate(%d, %d)", tt.index, tt.term)
	}
}

func TestLogAppend(t *testing.T) {
	tests := []struct {
		name       string
		ents       []Entry
		want       [][2]uint64
		wantStable uint64
	}{
		{"nothing", nil, termsOf(entsFrom(6, 3, 3, 4, 4, 6)), 10},
		{"continue", entsFrom(11, 6, 7), termsOf(entsFrom(6, 3, 3, 4, 4, 6, 6, 7)), 10},
		{"replace last", entsFrom(10, 7), termsOf(entsFrom(6, 3, 3, 4, 4, 7)), 9},
		{"replace tail and extend", entsFrom(8, 5, 5, 5, 5), termsOf(entsFrom(6, 3, 3, 5, 5, 5, 5)), 7},
		{"replace everything after commit", entsFrom(7, 8), termsOf(entsFrom(6, 3, 8)), 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := testLog(6)
			l.append(tt.ents...)
			assert.Equal(t, tt.want, termsOf(l.entries))
			assert.Equal(t, tt.wantStable, l.stable)
			assert.Equal(t, uint64(6), l.committed)
		})
	}
}

func TestLogAppendPanics(t *testing.T) {
	assert.Panics(t, func() { testLog(7).append(entsFrom(7, 9)...) }, "at the commit index")
	assert.Panics(t, func() { testLog(7).append(entsFrom(6, 9)...) }, "below the commit index")
	assert.Panics(t, func() { testLog(7).append(entsFrom(12, 9)...) }, "gap after the last entry")
	assert.NotPanics(t, func() { testLog(7).append(entsFrom(8, 9)...) }, "just after the commit index")
}

// TestLogAppendNoAliasing: entries handed out before the tail is replaced
// (in messages, in writes) keep their old contents.
func TestLogAppendNoAliasing(t *testing.T) {
	l := testLog(5)
	before, ok := l.slice(6, 11, ^uint64(0), 100)
	require.True(t, ok)
	unstable := func() []Entry {
		l.stable = 5
		defer func() { l.stable = 10 }()
		return l.unstableEntries()
	}()
	require.Len(t, unstable, 5)
	all := l.entries

	l.append(entsFrom(7, 9, 9)...)
	require.Equal(t, termsOf(entsFrom(6, 3, 9, 9)), termsOf(l.entries))

	old := termsOf(entsFrom(6, 3, 3, 4, 4, 6))
	assert.Equal(t, old, termsOf(before), "a slice taken before the replacement")
	assert.Equal(t, old, termsOf(unstable), "unstable entries taken before the replacement")
	assert.Equal(t, old, termsOf(all), "the entries slice itself before the replacement")

	// Appending to a slice handed out must not write into the log.
	s, _ := l.slice(6, 7, ^uint64(0), 100)
	require.Len(t, s, 1)
	_ = append(s, Entry{Index: 7, Term: 100})
	assert.Equal(t, uint64(9), l.entries[1].Term)
}

func TestLogFindConflict(t *testing.T) {
	l := testLog(0)
	tests := []struct {
		name string
		ents []Entry
		want uint64
	}{
		{"none", nil, 0},
		{"all held", entsFrom(6, 3, 3, 4, 4, 6), 0},
		{"prefix held", entsFrom(6, 3, 3), 0},
		{"middle held", entsFrom(8, 4, 4), 0},
		{"including prevIndex", entsFrom(5, 2, 3), 0},
		{"conflict at first", entsFrom(6, 4), 6},
		{"conflict in middle", entsFrom(7, 3, 5, 5), 8},
		{"new entries after a match", entsFrom(9, 4, 6, 6, 7), 11},
		{"new entries only", entsFrom(11, 6), 11},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, l.findConflict(tt.ents), tt.name)
	}
}

func TestLogMaybeAppend(t *testing.T) {
	tests := []struct {
		name                    string
		commit                  uint64 // the log's commit before
		prevIndex, prevTerm, lc uint64
		ents                    []Entry
		wantLast                uint64
		wantOK                  bool
		wantCommit              uint64
		wantLog                 [][2]uint64
	}{
		{
			name: "prev term mismatch", prevIndex: 8, prevTerm: 5, lc: 10,
			ents: entsFrom(9, 5), wantOK: false, wantCommit: 5,
			wantLog: termsOf(entsFrom(6, 3, 3, 4, 4, 6)),
		},
		{
			name: "prev beyond the log", prevIndex: 11, prevTerm: 6, lc: 12,
			ents: entsFrom(12, 6), wantOK: false, wantCommit: 5,
			wantLog: termsOf(entsFrom(6, 3, 3, 4, 4, 6)),
		},
		{
			name: "prev purged", prevIndex: 4, prevTerm: 1, lc: 6,
			ents: entsFrom(5, 2, 3), wantOK: false, wantCommit: 5,
			wantLog: termsOf(entsFrom(6, 3, 3, 4, 4, 6)),
		},
		{
			name: "heartbeat-like empty append at last", prevIndex: 10, prevTerm: 6, lc: 8,
			wantLast: 10, wantOK: true, wantCommit: 8,
			wantLog: termsOf(entsFrom(6, 3, 3, 4, 4, 6)),
		},
		{
			name: "append new entries", prevIndex: 10, prevTerm: 6, lc: 11,
			ents: entsFrom(11, 6, 6), wantLast: 12, wantOK: true, wantCommit: 11,
			wantLog: termsOf(entsFrom(6, 3, 3, 4, 4, 6, 6, 6)),
		},
		{
			name: "commit capped at last new entry", prevIndex: 7, prevTerm: 3, lc: 10,
			ents: entsFrom(8, 4), wantLast: 8, wantOK: true, wantCommit: 8,
			wantLog: termsOf(entsFrom(6, 3, 3, 4, 4, 6)),
		},
		{
			name: "commit capped at prev with no entries", prevIndex: 6, prevTerm: 3, lc: 10,
			wantLast: 6, wantOK: true, wantCommit: 6,
			wantLog: termsOf(entsFrom(6, 3, 3, 4, 4, 6)),
		},
		{
			name: "held entries are not truncated", prevIndex: 5, prevTerm: 2, lc: 7,
			ents: entsFrom(6, 3, 3), wantLast: 7, wantOK: true, wantCommit: 7,
			wantLog: termsOf(entsFrom(6, 3, 3, 4, 4, 6)),
		},
		{
			name: "conflict replaces the tail", prevIndex: 7, prevTerm: 3, lc: 9,
			ents: entsFrom(8, 4, 7), wantLast: 9, wantOK: true, wantCommit: 9,
			wantLog: termsOf(entsFrom(6, 3, 3, 4, 7)),
		},
		{
			name: "conflict after matching prefix", prevIndex: 6, prevTerm: 3, lc: 6,
			ents: entsFrom(7, 3, 5, 5, 5, 5), wantLast: 11, wantOK: true, wantCommit: 6,
			wantLog: termsOf(entsFrom(6, 3, 3, 5, 5, 5, 5)),
		},
		{
			name: "commit never decreases", commit: 9, prevIndex: 6, prevTerm: 3, lc: 7,
			wantLast: 6, wantOK: true, wantCommit: 9,
			wantLog: termsOf(entsFrom(6, 3, 3, 4, 4, 6)),
		},
		{
			name: "commit at prevIndex of the snapshot", prevIndex: 5, prevTerm: 2, lc: 100,
			wantLast: 5, wantOK: true, wantCommit: 5,
			wantLog: termsOf(entsFrom(6, 3, 3, 4, 4, 6)),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := testLog(max(tt.commit, 5))
			last, ok := l.maybeAppend(tt.prevIndex, tt.prevTerm, tt.lc, tt.ents)
			assert.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.wantLast, last)
			assert.Equal(t, tt.wantCommit, l.committed)
			assert.Equal(t, tt.wantLog, termsOf(l.entries))
		})
	}
}

func TestLogMaybeAppendConflictWithCommittedPanics(t *testing.T) {
	l := testLog(8)
	assert.Panics(t, func() { l.maybeAppend(6, 3, 10, entsFrom(7, 3, 5)) })
}

func TestLogHintFor(t *testing.T) {
	// prev 5/2; 6/3 7/3 8/4 9/4 10/6
	l := testLog(0)
	tests := []struct {
		index, term         uint64
		wantIndex, wantTerm uint64
	}{
		{10, 6, 10, 6}, // the entry itself matches
		{10, 7, 10, 6}, // our last term is lower: the last entry
		{10, 5, 9, 4},  // skip the term-6 entry
		{10, 4, 9, 4},
		{10, 3, 7, 3}, // skip all of term 4
		{9, 3, 7, 3},
		{8, 3, 7, 3},
		{7, 3, 7, 3},
		{10, 2, 5, 2}, // nothing above the snapshot: prevIndex
		{10, 1, 5, 2}, // nothing lower known: prevIndex anyway
		{20, 4, 9, 4}, // beyond our log: start from our last
		{20, 9, 10, 6},
		{6, 3, 6, 3},
		{5, 2, 5, 2},
	}
	for _, tt := range tests {
		i, term := l.hintFor(tt.index, tt.term)
		assert.Equal(t, [2]uint64{tt.wantIndex, tt.wantTerm}, [2]uint64{i, term}, "hintFor(%d, %d)", tt.index, tt.term)
	}
}

func TestLogSlice(t *testing.T) {
	const unlimited = ^uint64(0)
	l := newLog(SnapshotMeta{Index: 5, Term: 2}, entsFrom(6, 3, 3, 4, 4, 6), 0)
	for i := range l.entries {
		l.entries[i].Data = make([]byte, 10) // size 34 each
	}
	tests := []struct {
		name     string
		lo, hi   uint64
		maxBytes uint64
		maxCount int
		want     []uint64 // indexes
		wantOK   bool
	}{
		{"all", 6, 11, unlimited, 100, []uint64{6, 7, 8, 9, 10}, true},
		{"hi capped at last+1", 8, 50, unlimited, 100, []uint64{8, 9, 10}, true},
		{"empty range", 8, 8, unlimited, 100, nil, true},
		{"inverted range", 9, 8, unlimited, 100, nil, true},
		{"beyond the log", 11, 12, unlimited, 100, nil, true},
		{"lo at prevIndex is purged", 5, 8, unlimited, 100, nil, false},
		{"lo purged", 2, 8, unlimited, 100, nil, false},
		{"count limit", 6, 11, unlimited, 2, []uint64{6, 7}, true},
		{"count limit one", 6, 11, unlimited, 1, []uint64{6}, true},
		{"bytes exactly two", 6, 11, 68, 100, []uint64{6, 7}, true},
		{"bytes just under two", 6, 11, 67, 100, []uint64{6}, true},
		{"bytes under one still gives one", 6, 11, 1, 100, []uint64{6}, true},
		{"zero bytes still gives one", 8, 11, 0, 100, []uint64{8}, true},
		{"bytes and count: count wins", 6, 11, 1000, 3, []uint64{6, 7, 8}, true},
		{"bytes and count: bytes win", 6, 11, 110, 4, []uint64{6, 7, 8}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := l.slice(tt.lo, tt.hi, tt.maxBytes, tt.maxCount)
			assert.Equal(t, tt.wantOK, ok)
			var idx []uint64
			for _, e := range got {
				idx = append(idx, e.Index)
			}
			assert.Equal(t, tt.want, idx)
			assert.Equal(t, len(got), cap(got), "a slice handed out has no spare capacity into the log")
		})
	}
}

func TestLogStableTo(t *testing.T) {
	newUnstable := func() *raftLog {
		// 6/3 7/3 durable, 8/4 9/4 not yet.
		l := newLog(SnapshotMeta{Index: 5, Term: 2}, entsFrom(6, 3, 3), 5)
		l.append(entsFrom(8, 4, 4)...)
		return l
	}
	tests := []struct {
		name       string
		mutate     func(l *raftLog)
		i, t       uint64
		wantStable uint64
	}{
		{"write completes", nil, 9, 4, 9},
		{"part of the entries", nil, 8, 4, 8},
		{"older write is not a step back", nil, 6, 3, 7},
		{"wrong term", nil, 9, 5, 7},
		{"beyond the log", nil, 10, 4, 7},
		{
			"tail replaced while the write was out",
			func(l *raftLog) { l.append(entsFrom(9, 5)...) },
			9, 4, 7,
		},
		{
			"tail replaced below the write",
			func(l *raftLog) { l.append(entsFrom(8, 5)...) },
			9, 4, 7,
		},
		{
			"tail replaced, new entries persisted",
			func(l *raftLog) { l.append(entsFrom(9, 5)...) },
			9, 5, 9,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newUnstable()
			require.Equal(t, uint64(7), l.stable)
			if tt.mutate != nil {
				tt.mutate(l)
			}
			l.stableTo(tt.i, tt.t)
			assert.Equal(t, tt.wantStable, l.stable)
		})
	}
	t.Run("replacement at or below stable pulls it back", func(t *testing.T) {
		l := testLog(5)
		require.Equal(t, uint64(10), l.stable)
		l.append(entsFrom(8, 7)...)
		assert.Equal(t, uint64(7), l.stable)
		assert.Equal(t, termsOf(entsFrom(8, 7)), termsOf(l.unstableEntries()))
	})
}

func TestLogUnstableEntries(t *testing.T) {
	l := newLog(SnapshotMeta{Index: 5, Term: 2}, entsFrom(6, 3), 5)
	assert.Empty(t, l.unstableEntries())
	l.append(entsFrom(7, 3, 4)...)
	assert.Equal(t, termsOf(entsFrom(7, 3, 4)), termsOf(l.unstableEntries()))
	l.stableTo(7, 3)
	assert.Equal(t, termsOf(entsFrom(8, 4)), termsOf(l.unstableEntries()))
	l.stableTo(8, 4)
	assert.Empty(t, l.unstableEntries())

	empty := newLog(SnapshotMeta{}, nil, 0)
	assert.Empty(t, empty.unstableEntries())
	empty.append(entsFrom(1, 1)...)
	assert.Equal(t, termsOf(entsFrom(1, 1)), termsOf(empty.unstableEntries()))
}

func TestLogNextCommitted(t *testing.T) {
	const unlimited = ^uint64(0)
	tests := []struct {
		name     string
		setup    func(l *raftLog)
		maxBytes uint64
		want     []uint64
	}{
		{"nothing committed", func(l *raftLog) {}, unlimited, nil},
		{"committed prefix", func(l *raftLog) { l.committed = 8 }, unlimited, []uint64{6, 7, 8}},
		{"after applying", func(l *raftLog) { l.committed, l.applying = 9, 7 }, unlimited, []uint64{8, 9}},
		{"all handed out", func(l *raftLog) { l.committed, l.applying = 9, 9 }, unlimited, nil},
		{"byte limit gives at least one", func(l *raftLog) { l.committed = 10 }, 1, []uint64{6}},
		{"byte limit", func(l *raftLog) { l.committed = 10 }, 48, []uint64{6, 7}},
		{
			"pending snapshot holds entries back",
			func(l *raftLog) { l.committed = 10; l.pendingSnapshot = &Snapshot{} },
			unlimited, nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := testLog(0) // entries of size 24
			tt.setup(l)
			var idx []uint64
			for _, e := range l.nextCommitted(tt.maxBytes, false) {
				idx = append(idx, e.Index)
			}
			assert.Equal(t, tt.want, idx)
		})
	}
}

func TestLogPurgeTo(t *testing.T) {
	setup := func(snap, applied uint64) *raftLog {
		l := testLog(10)
		l.applying, l.applied = applied, applied
		if snap > 5 {
			term, _ := l.term(snap)
			l.snapshot = SnapshotMeta{Index: snap, Term: term}
		}
		return l
	}

	t.Run("purge to the snapshot", func(t *testing.T) {
		l := setup(8, 9)
		handedOut, _ := l.slice(6, 11, ^uint64(0), 100)
		l.purgeTo(8)
		assert.Equal(t, uint64(8), l.prevIndex)
		assert.Equal(t, uint64(4), l.prevTerm)
		assert.Equal(t, uint64(9), l.firstIndex())
		assert.Equal(t, uint64(10), l.lastIndex())
		assert.Equal(t, termsOf(entsFrom(9, 4, 6)), termsOf(l.entries))
		assert.Equal(t, termsOf(entsFrom(6, 3, 3, 4, 4, 6)), termsOf(handedOut))
		_, ok := l.term(7)
		assert.False(t, ok)
		assert.True(t, l.matchTerm(8, 4))
	})
	t.Run("purge below the snapshot", func(t *testing.T) {
		l := setup(9, 9)
		l.purgeTo(7)
		assert.Equal(t, uint64(7), l.prevIndex)
		assert.Equal(t, uint64(3), l.prevTerm)
	})
	t.Run("at or below prevIndex is a no-op", func(t *testing.T) {
		l := setup(9, 9)
		l.purgeTo(5)
		l.purgeTo(2)
		assert.Equal(t, uint64(5), l.prevIndex)
		assert.Len(t, l.entries, 5)
	})
	t.Run("past the snapshot panics", func(t *testing.T) {
		l := setup(8, 10)
		assert.Panics(t, func() { l.purgeTo(9) })
		assert.Equal(t, uint64(5), l.prevIndex)
	})
	t.Run("without a snapshot panics", func(t *testing.T) {
		l := setup(0, 10)
		assert.Panics(t, func() { l.purgeTo(6) })
	})
	t.Run("past applied panics", func(t *testing.T) {
		l := setup(10, 8)
		assert.Panics(t, func() { l.purgeTo(9) })
		assert.NotPanics(t, func() { l.purgeTo(8) })
		assert.Equal(t, uint64(8), l.prevIndex)
	})
}

func TestLogRestore(t *testing.T) {
	l := testLog(7)
	l.applying, l.applied = 7, 7
	s := &Snapshot{Meta: SnapshotMeta{Index: 20, Term: 9, ConfState: ConfState{Voters: []uint64{1, 2}}}}
	l.restore(s)
	assert.Equal(t, uint64(20), l.prevIndex)
	assert.Equal(t, uint64(9), l.prevTerm)
	assert.Equal(t, uint64(21), l.firstIndex())
	assert.Equal(t, uint64(20), l.lastIndex())
	assert.Equal(t, uint64(9), l.lastTerm())
	assert.Empty(t, l.entries)
	assert.Equal(t, uint64(20), l.committed)
	assert.Equal(t, uint64(20), l.stable)
	assert.Equal(t, s.Meta, l.snapshot)
	assert.Same(t, s, l.pendingSnapshot)
	assert.Equal(t, uint64(7), l.applied, "applied moves when the snapshot is restored (Advance)")
	assert.Empty(t, l.unstableEntries())
	assert.Empty(t, l.nextCommitted(^uint64(0), false))

	// The log continues after the snapshot.
	l.append(entsFrom(21, 9)...)
	assert.Equal(t, uint64(21), l.lastIndex())
	assert.True(t, l.matchTerm(20, 9))
}

// The log keeps the indexes of its conf change entries through appends,
// tail replacements, purges and restores; firstConfChange finds them.
func TestLogConfChangeIndexes(t *testing.T) {
	conf := func(ents []Entry, at ...uint64) []Entry {
		for i := range ents {
			for _, a := range at {
				if ents[i].Index == a {
					ents[i].Type = EntryConfChange
				}
			}
		}
		return ents
	}
	l := newLog(SnapshotMeta{Index: 5, Term: 2}, conf(entsFrom(6, 3, 3, 3), 7), 6)
	assert.Equal(t, []uint64{7}, l.confs)
	l.append(conf(entsFrom(9, 3, 3), 10)...)
	assert.Equal(t, []uint64{7, 10}, l.confs)

	i, ok := l.firstConfChange(8, 10)
	assert.True(t, ok)
	assert.Equal(t, uint64(10), i)
	_, ok = l.firstConfChange(8, 9)
	assert.False(t, ok, "none in [8, 9]")

	l.append(entsFrom(10, 4)...) // replaces the tail from 10: its conf change goes
	assert.Equal(t, []uint64{7}, l.confs)

	l.stable, l.committed, l.committedSynced = 10, 10, 6
	i, ok = l.unsyncedCommittedConfChange()
	assert.True(t, ok)
	assert.Equal(t, uint64(7), i)
	assert.Equal(t, uint64(6), l.applyLimit(false), "7 waits until the commit past it is synced")
	l.committedSynced = 7
	assert.Equal(t, uint64(10), l.applyLimit(false))

	l.applied, l.snapshot = 8, SnapshotMeta{Index: 8, Term: 3}
	l.purgeTo(8)
	assert.Empty(t, l.confs)
	l.restore(&Snapshot{Meta: SnapshotMeta{Index: 20, Term: 5}})
	assert.Empty(t, l.confs)
}

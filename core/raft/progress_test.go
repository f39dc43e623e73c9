package raft

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newTestProgress(state ProgressState, match, next uint64) *Progress {
	pr := &Progress{Match: match, Next: next, inflights: inflights{maxCount: 3, maxBytes: 100}}
	pr.State = state
	return pr
}

func TestProgressTransitions(t *testing.T) {
	pr := newTestProgress(StateProbe, 5, 6)
	pr.sent(5, 0, 0)
	require.True(t, pr.ProbeSent, "a probe was sent")

	pr.becomeReplicate()
	assert.Equal(t, StateReplicate, pr.State)
	assert.Equal(t, uint64(6), pr.Next)
	assert.False(t, pr.ProbeSent)

	pr.sent(8, 30, 3)
	pr.sent(10, 20, 2)
	assert.Equal(t, uint64(11), pr.Next)
	assert.Equal(t, 2, pr.inflights.count())

	pr.becomeSnapshot(20)
	assert.Equal(t, StateSnapshot, pr.State)
	assert.Equal(t, uint64(20), pr.PendingSnapshot)
	assert.Equal(t, 0, pr.inflights.count(), "in-flight messages are forgotten")
	assert.Equal(t, uint64(0), pr.inflights.bytes)

	pr.becomeProbe()
	assert.Equal(t, StateProbe, pr.State)
	assert.Equal(t, uint64(21), pr.Next, "probing continues after the pending snapshot")
	assert.Equal(t, uint64(0), pr.PendingSnapshot)
	assert.Equal(t, uint64(5), pr.Match)
}

func TestProgressBecomeProbe(t *testing.T) {
	tests := []struct {
		name     string
		pr       *Progress
		wantNext uint64
	}{
		{"from replicate", newTestProgress(StateReplicate, 5, 12), 6},
		{"from probe", newTestProgress(StateProbe, 5, 9), 6},
		{"from snapshot: after the snapshot", func() *Progress {
			pr := newTestProgress(StateReplicate, 5, 12)
			pr.becomeSnapshot(10)
			return pr
		}(), 11},
		{"from snapshot: match beyond the snapshot", func() *Progress {
			pr := newTestProgress(StateReplicate, 5, 12)
			pr.becomeSnapshot(10)
			pr.Match = 15
			return pr
		}(), 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.pr.ProbeSent = true
			tt.pr.becomeProbe()
			assert.Equal(t, StateProbe, tt.pr.State)
			assert.Equal(t, tt.wantNext, tt.pr.Next)
			assert.False(t, tt.pr.ProbeSent)
			assert.Equal(t, uint64(0), tt.pr.PendingSnapshot)
		})
	}
}

func TestProgressMaybeUpdate(t *testing.T) {
	tests := []struct {
		name        string
		match, next uint64
		n           uint64
		wantUpdated bool
		wantMatch   uint64
		wantNext    uint64
	}{
		{"stale", 5, 8, 4, false, 5, 8},
		{"same", 5, 8, 5, false, 5, 8},
		{"advance below next", 5, 8, 6, true, 6, 8},
		{"advance to next-1", 5, 8, 7, true, 7, 8},
		{"advance past next", 5, 8, 10, true, 10, 11},
		{"from nothing", 0, 1, 3, true, 3, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr := newTestProgress(StateProbe, tt.match, tt.next)
			pr.ProbeSent = true
			assert.Equal(t, tt.wantUpdated, pr.maybeUpdate(tt.n))
			assert.Equal(t, tt.wantMatch, pr.Match)
			assert.Equal(t, tt.wantNext, pr.Next)
			assert.Equal(t, !tt.wantUpdated, pr.ProbeSent, "an update unpauses a probe")
		})
	}
}

func TestProgressMaybeDecrTo(t *testing.T) {
	tests := []struct {
		name            string
		state           ProgressState
		match, next     uint64
		rejected, probe uint64
		want            bool
		wantNext        uint64
	}{
		// Replicate: any rejection above Match sends Next back to Match+1.
		{"replicate: stale below match", StateReplicate, 5, 10, 4, 0, false, 10},
		{"replicate: stale at match", StateReplicate, 5, 10, 5, 0, false, 10},
		{"replicate: rejection", StateReplicate, 5, 10, 7, 2, true, 6},
		{"replicate: rejection of next-1", StateReplicate, 5, 10, 9, 8, true, 6},

		// Probe: only the rejection of Next-1 counts.
		{"probe: not the last probe", StateProbe, 5, 10, 8, 6, false, 10},
		{"probe: beyond next", StateProbe, 5, 10, 10, 6, false, 10},
		{"probe: hint jumps back", StateProbe, 5, 10, 9, 6, true, 7},
		{"probe: hint never below match+1", StateProbe, 5, 10, 9, 2, true, 6},
		{"probe: hint beyond rejected steps back one", StateProbe, 5, 10, 9, 20, true, 9},
		{"probe: hint at rejected", StateProbe, 5, 10, 9, 9, true, 9},
		{"probe: hint one below", StateProbe, 5, 10, 9, 8, true, 9},
		{"probe: from nothing", StateProbe, 0, 10, 9, 0, true, 1},
		{"probe: next just after match", StateProbe, 5, 6, 5, 0, true, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr := newTestProgress(tt.state, tt.match, tt.next)
			if tt.state == StateProbe {
				pr.ProbeSent = true
			}
			assert.Equal(t, tt.want, pr.maybeDecrTo(tt.rejected, tt.probe))
			assert.Equal(t, tt.wantNext, pr.Next)
			assert.Equal(t, tt.match, pr.Match, "match never changes on a rejection")
			if tt.state == StateProbe {
				assert.Equal(t, !tt.want, pr.ProbeSent, "a counted rejection unpauses the probe")
			}
		})
	}
}

func TestProgressSent(t *testing.T) {
	t.Run("probe pauses", func(t *testing.T) {
		pr := newTestProgress(StateProbe, 5, 6)
		pr.sent(8, 30, 3)
		assert.True(t, pr.ProbeSent)
		assert.Equal(t, uint64(6), pr.Next, "a probe does not advance Next")
		assert.Equal(t, 0, pr.inflights.count())
	})
	t.Run("replicate streams", func(t *testing.T) {
		pr := newTestProgress(StateReplicate, 5, 6)
		pr.sent(8, 30, 3)
		assert.Equal(t, uint64(9), pr.Next)
		assert.Equal(t, 1, pr.inflights.count())
		assert.Equal(t, uint64(30), pr.inflights.bytes)
	})
	t.Run("replicate empty message takes no slot", func(t *testing.T) {
		pr := newTestProgress(StateReplicate, 5, 6)
		pr.sent(5, 0, 0)
		assert.Equal(t, uint64(6), pr.Next)
		assert.Equal(t, 0, pr.inflights.count())
		assert.False(t, pr.ProbeSent)
	})
	t.Run("snapshot sends nothing", func(t *testing.T) {
		pr := newTestProgress(StateSnapshot, 5, 6)
		pr.sent(8, 30, 3)
		assert.Equal(t, uint64(6), pr.Next)
		assert.False(t, pr.ProbeSent)
	})
}

func TestProgressIsPaused(t *testing.T) {
	tests := []struct {
		name  string
		setup func(pr *Progress)
		want  bool
	}{
		{"probe idle", func(pr *Progress) { pr.State = StateProbe }, false},
		{"probe sent", func(pr *Progress) { pr.State = StateProbe; pr.ProbeSent = true }, true},
		{"replicate empty", func(pr *Progress) { pr.State = StateReplicate }, false},
		{"replicate not full", func(pr *Progress) {
			pr.State = StateReplicate
			pr.inflights.add(7, 10)
			pr.inflights.add(8, 10)
		}, false},
		{"replicate full by count", func(pr *Progress) {
			pr.State = StateReplicate
			pr.inflights.add(7, 10)
			pr.inflights.add(8, 10)
			pr.inflights.add(9, 10)
		}, true},
		{"replicate full by bytes", func(pr *Progress) {
			pr.State = StateReplicate
			pr.inflights.add(7, 100)
		}, true},
		{"replicate ignores ProbeSent", func(pr *Progress) { pr.State = StateReplicate; pr.ProbeSent = true }, false},
		{"snapshot", func(pr *Progress) { pr.becomeSnapshot(10) }, true},
		{"reverted probe", func(pr *Progress) { pr.State = StateProbe; pr.reverted = true }, true},
		{"reverted replicate", func(pr *Progress) { pr.State = StateReplicate; pr.reverted = true }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr := newTestProgress(StateProbe, 5, 6)
			tt.setup(pr)
			assert.Equal(t, tt.want, pr.isPaused())
		})
	}
}

func TestInflights(t *testing.T) {
	in := inflights{maxCount: 3, maxBytes: 100}
	assert.False(t, in.full())

	in.add(5, 10)
	in.add(7, 20)
	assert.Equal(t, 2, in.count())
	assert.Equal(t, uint64(30), in.bytes)
	assert.False(t, in.full())

	in.add(9, 10)
	assert.True(t, in.full(), "full by count")

	in.freeLE(4)
	assert.Equal(t, 3, in.count(), "nothing acknowledged")

	in.freeLE(7)
	assert.Equal(t, 1, in.count())
	assert.Equal(t, uint64(10), in.bytes)
	assert.Equal(t, []uint64{9}, in.last)
	assert.False(t, in.full())

	in.add(12, 89)
	assert.Equal(t, uint64(99), in.bytes)
	assert.False(t, in.full(), "99 bytes of 100")
	in.freeLE(9)
	in.add(13, 90)
	assert.Equal(t, uint64(179), in.bytes)
	assert.True(t, in.full(), "full by bytes")

	in.freeLE(12)
	assert.Equal(t, []uint64{13}, in.last)
	assert.Equal(t, uint64(90), in.bytes)
	assert.False(t, in.full())

	in.freeLE(100)
	assert.Equal(t, 0, in.count())
	assert.Equal(t, uint64(0), in.bytes)

	in.add(20, 1)
	in.reset()
	assert.Equal(t, 0, in.count())
	assert.Equal(t, uint64(0), in.bytes)
	assert.False(t, in.full())
}

func TestInflightsFreeLE(t *testing.T) {
	tests := []struct {
		name      string
		index     uint64
		wantLast  []uint64
		wantBytes uint64
	}{
		{"below all", 1, []uint64{3, 6, 9}, 60},
		{"exactly the first", 3, []uint64{6, 9}, 50},
		{"between", 7, []uint64{9}, 30},
		{"exactly the last", 9, []uint64{}, 0},
		{"beyond", 50, []uint64{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := inflights{maxCount: 10, maxBytes: 1000}
			in.add(3, 10)
			in.add(6, 20)
			in.add(9, 30)
			in.freeLE(tt.index)
			assert.Equal(t, tt.wantLast, in.last)
			assert.Equal(t, len(tt.wantLast), len(in.size))
			assert.Equal(t, tt.wantBytes, in.bytes)
		})
	}
}

func TestProgressString(t *testing.T) {
	pr := newTestProgress(StateReplicate, 5, 6)
	pr.IsLearner = true
	pr.sent(7, 10, 2)
	assert.Equal(t, "Replicate match=5 next=8 learner inflight=1", pr.String())
	pr.becomeSnapshot(9)
	pr.reverted = true
	assert.Equal(t, "Snapshot match=5 next=8 learner pending_snap=9 reverted", pr.String())
}

package raft

import "fmt"

// ProgressState is how the leader replicates to one follower.
type ProgressState uint8

const (
	// StateProbe: the follower's position is unknown; send one MsgApp at a
	// time and wait for the answer.
	StateProbe ProgressState = iota
	// StateReplicate: the position is known; stream entries optimistically,
	// up to the in-flight limits.
	StateReplicate
	// StateSnapshot: the follower needs entries that are purged; a snapshot is
	// on its way and nothing else is sent until it lands.
	StateSnapshot
)

func (s ProgressState) String() string {
	switch s {
	case StateProbe:
		return "Probe"
	case StateReplicate:
		return "Replicate"
	case StateSnapshot:
		return "Snapshot"
	}
	return fmt.Sprintf("ProgressState(%d)", uint8(s))
}

// Progress is the leader's view of one follower.
type Progress struct {
	// Match is the highest index known to be durable on the follower; Next
	// is the next index to send.
	Match, Next uint64
	State       ProgressState
	// PendingSnapshot is the index of the snapshot being sent (StateSnapshot).
	PendingSnapshot uint64
	// RecentActive: heard from within the current election timeout.
	RecentActive bool
	// ProbeSent pauses a probing follower until it answers.
	ProbeSent bool
	IsLearner bool
	// RoundAcked is the highest heartbeat round the follower answered.
	RoundAcked uint64

	// reverted halts replication to a follower whose log went backwards,
	// until AllowNextRevert.
	reverted bool

	inflights     inflights
	snapshotTicks int
}

func (pr *Progress) reset(state ProgressState) {
	pr.State = state
	pr.ProbeSent = false
	pr.PendingSnapshot = 0
	pr.snapshotTicks = 0
	pr.inflights.reset()
}

func (pr *Progress) becomeProbe() {
	if pr.State == StateSnapshot {
		// The snapshot may have landed; start probing after it.
		pending := pr.PendingSnapshot
		pr.reset(StateProbe)
		pr.Next = max(pr.Match+1, pending+1)
		return
	}
	pr.reset(StateProbe)
	pr.Next = pr.Match + 1
}

func (pr *Progress) becomeReplicate() {
	pr.reset(StateReplicate)
	pr.Next = pr.Match + 1
}

func (pr *Progress) becomeSnapshot(index uint64) {
	pr.reset(StateSnapshot)
	pr.PendingSnapshot = index
}

// maybeUpdate records that the follower holds everything up to n.
func (pr *Progress) maybeUpdate(n uint64) bool {
	updated := false
	if pr.Match < n {
		pr.Match = n
		updated = true
		pr.ProbeSent = false
	}
	pr.Next = max(pr.Next, n+1)
	return updated
}

// maybeDecrTo handles a rejection of the MsgApp whose previous entry was
// rejected; probe is where the follower's log may match. A rejection that
// answers an older message is ignored.
func (pr *Progress) maybeDecrTo(rejected, probe uint64) bool {
	if pr.State == StateReplicate {
		if rejected <= pr.Match {
			return false
		}
		pr.Next = pr.Match + 1
		return true
	}
	if pr.Next-1 != rejected {
		return false
	}
	pr.Next = max(min(rejected, probe+1), pr.Match+1)
	pr.ProbeSent = false
	return true
}

// sent records a MsgApp carrying entries up to last (bytes in all).
func (pr *Progress) sent(last uint64, bytes uint64, n int) {
	switch pr.State {
	case StateReplicate:
		if n > 0 {
			pr.Next = last + 1
			pr.inflights.add(last, bytes)
		}
	case StateProbe:
		pr.ProbeSent = true
	}
}

func (pr *Progress) isPaused() bool {
	if pr.reverted {
		return true
	}
	switch pr.State {
	case StateProbe:
		return pr.ProbeSent
	case StateReplicate:
		return pr.inflights.full()
	}
	return true
}

func (pr *Progress) String() string {
	s := fmt.Sprintf("%s match=%d next=%d", pr.State, pr.Match, pr.Next)
	if pr.IsLearner {
		s += " learner"
	}
	if pr.State == StateSnapshot {
		s += fmt.Sprintf(" pending_snap=%d", pr.PendingSnapshot)
	}
	if pr.inflights.count() > 0 {
		s += fmt.Sprintf(" inflight=%d", pr.inflights.count())
		if pr.inflights.full() {
			s += "[full]"
		}
	}
	if pr.ProbeSent {
		s += " paused"
	}
	if pr.reverted {
		s += " reverted"
	}
	return s
}

// inflights bounds the MsgApps sent to one follower and not yet acknowledged,
// by count and by bytes: flow control for optimistic pipelining.
type inflights struct {
	maxCount int
	maxBytes uint64
	last     []uint64 // last index of each in-flight message, ascending
	size     []uint64
	bytes    uint64
}

func (in *inflights) add(last, bytes uint64) {
	in.last = append(in.last, last)
	in.size = append(in.size, bytes)
	in.bytes += bytes
}

// freeLE releases every message whose entries are all acknowledged.
func (in *inflights) freeLE(index uint64) {
	n := 0
	for n < len(in.last) && in.last[n] <= index {
		in.bytes -= in.size[n]
		n++
	}
	in.last = append(in.last[:0], in.last[n:]...)
	in.size = append(in.size[:0], in.size[n:]...)
}

func (in *inflights) full() bool {
	return len(in.last) >= in.maxCount || in.bytes >= in.maxBytes
}

func (in *inflights) count() int { return len(in.last) }

func (in *inflights) reset() {
	in.last, in.size, in.bytes = in.last[:0], in.size[:0], 0
}

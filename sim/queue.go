package sim

import "container/heap"

// event is something that happens at a virtual instant. Events at the same
// instant run in the order they were scheduled: seq breaks ties, so the
// order never depends on the heap's internals.
type event struct {
	at  int64 // virtual nanoseconds
	seq uint64
	fn  func()
}

type eventHeap []event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(event)) }
func (h *eventHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// scheduler is virtual time: a priority queue of events.
type scheduler struct {
	now    int64
	seq    uint64
	events eventHeap
	ran    uint64
}

// at schedules fn to run at virtual time t (not before now).
func (s *scheduler) at(t int64, fn func()) {
	if t < s.now {
		t = s.now
	}
	s.seq++
	heap.Push(&s.events, event{at: t, seq: s.seq, fn: fn})
}

// after schedules fn to run d nanoseconds from now.
func (s *scheduler) after(d int64, fn func()) { s.at(s.now+d, fn) }

// step runs the next event; false when there is none or it lies beyond
// until.
func (s *scheduler) step(until int64) bool {
	if len(s.events) == 0 || s.events[0].at > until {
		return false
	}
	e := heap.Pop(&s.events).(event)
	s.now = e.at
	s.ran++
	e.fn()
	return true
}

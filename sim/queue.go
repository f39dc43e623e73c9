package sim

// event is something that happens at a virtual instant. Events at the same
// instant run in the order they were scheduled: seq breaks ties, so the
// order never depends on the heap's internals.
type event struct {
	at  int64 // virtual nanoseconds
	seq uint64
	fn  func()
}

// eventHeap is a 4-ary min-heap of events by (at, seq), typed so that
// pushing and popping an event allocates nothing (container/heap boxes
// each one in an interface). Four children per node, and an element moved
// into its hole rather than swapped level by level: the heap holds every
// call's timeout, thousands deep, and its sifting was 4% of the
// simulator's time as a binary heap.
type eventHeap []event

func (e *event) before(o *event) bool {
	return e.at < o.at || (e.at == o.at && e.seq < o.seq)
}

func (h *eventHeap) push(e event) {
	*h = append(*h, e)
	q := *h
	i := len(q) - 1
	for i > 0 {
		parent := (i - 1) / 4
		if !e.before(&q[parent]) {
			break
		}
		q[i] = q[parent]
		i = parent
	}
	q[i] = e
}

func (h *eventHeap) pop() event {
	q := *h
	top := q[0]
	last := len(q) - 1
	e := q[last]
	q[last] = event{} // let the closure go
	q = q[:last]
	*h = q
	if last == 0 {
		return top
	}
	i := 0
	for {
		first := 4*i + 1
		if first >= last {
			break
		}
		small := first
		for c := first + 1; c < first+4 && c < last; c++ {
			if q[c].before(&q[small]) {
				small = c
			}
		}
		if !q[small].before(&e) {
			break
		}
		q[i] = q[small]
		i = small
	}
	q[i] = e
	return top
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
	s.events.push(event{at: t, seq: s.seq, fn: fn})
}

// after schedules fn to run d nanoseconds from now.
func (s *scheduler) after(d int64, fn func()) { s.at(s.now+d, fn) }

// step runs the next event; false when there is none or it lies beyond
// until.
func (s *scheduler) step(until int64) bool {
	if len(s.events) == 0 || s.events[0].at > until {
		return false
	}
	e := s.events.pop()
	s.now = e.at
	s.ran++
	e.fn()
	return true
}

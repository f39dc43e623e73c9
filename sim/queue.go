package sim

// event is something that happens at a virtual instant. Events at the same
// instant run in the order they were scheduled: seq breaks ties, so the
// order never depends on the heap's internals.
type event struct {
	at  int64 // virtual nanoseconds
	seq uint64
	fn  func()
}

// eventHeap is a binary min-heap of events by (at, seq), typed so that
// pushing and popping an event allocates nothing (container/heap boxes
// each one in an interface).
type eventHeap []event

func (h eventHeap) less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}

func (h *eventHeap) push(e event) {
	*h = append(*h, e)
	q := *h
	for i := len(q) - 1; i > 0; {
		parent := (i - 1) / 2
		if !q.less(i, parent) {
			break
		}
		q[i], q[parent] = q[parent], q[i]
		i = parent
	}
}

func (h *eventHeap) pop() event {
	q := *h
	top := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q[last] = event{} // let the closure go
	q = q[:last]
	for i := 0; ; {
		small, l, r := i, 2*i+1, 2*i+2
		if l < len(q) && q.less(l, small) {
			small = l
		}
		if r < len(q) && q.less(r, small) {
			small = r
		}
		if small == i {
			break
		}
		q[i], q[small] = q[small], q[i]
		i = small
	}
	*h = q
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

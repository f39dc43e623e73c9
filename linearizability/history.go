package linearizability

import (
	"fmt"
	"math"
	"sync"
)

// never is the return time of an operation whose outcome is unknown: it is
// after every other event, so porcupine may linearize it anywhere after its
// call.
const never int64 = math.MaxInt64

// History records client operations. The zero value is ready to use, and all
// methods may be called from many goroutines at once.
//
// Client ids label the rows of the visualization; keep them small and
// zero-based.
type History struct {
	mu  sync.Mutex
	ops []record
}

type record struct {
	id       int
	client   int
	op       Op
	call     int64
	ret      int64
	out      Outcome
	returned bool
	note     string // set by settle
}

// Call records that client invoked op at time at and returns the id to pass
// to [History.Return]. It panics on an op with no valid Kind or a negative
// client.
func (h *History) Call(client int, op Op, at int64) (id int) {
	if op.Kind < OpGet || op.Kind > OpCas {
		panic(fmt.Sprintf("linearizability: Call with invalid op kind %v", op.Kind))
	}
	if client < 0 {
		panic(fmt.Sprintf("linearizability: Call with negative client id %d", client))
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ops = append(h.ops, record{id: len(h.ops), client: client, op: op, call: at, ret: never, out: Outcome{Kind: Unknown}})
	return len(h.ops) - 1
}

// Return records how operation id ended, at time at. An Unknown outcome's
// time is ignored: the operation may take effect at any point after its call.
// Operations never returned count as Unknown. It panics on an unknown id, a
// second Return of the same id, an invalid outcome kind, or a return before
// the call.
func (h *History) Return(id int, out Outcome, at int64) {
	if out.Kind < Ok || out.Kind > Unknown {
		panic(fmt.Sprintf("linearizability: Return with invalid outcome kind %v", out.Kind))
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if id < 0 || id >= len(h.ops) {
		panic(fmt.Sprintf("linearizability: Return of unknown operation %d", id))
	}
	r := &h.ops[id]
	if r.returned {
		panic(fmt.Sprintf("linearizability: operation %d returned twice", id))
	}
	if at < r.call {
		panic(fmt.Sprintf("linearizability: operation %d returns at %d, before its call at %d", id, at, r.call))
	}
	r.returned = true
	r.out = out
	if out.Kind != Unknown {
		r.ret = at
	}
}

// Len returns the number of operations recorded so far.
func (h *History) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.ops)
}

// snapshot copies the records under the lock.
func (h *History) snapshot() []record {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]record(nil), h.ops...)
}

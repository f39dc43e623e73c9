package runtime

import (
	"time"

	"github.com/picogo/picogo/clock"
)

// MaxBatch bounds how many queued events one Drain hands the node before
// it sends the Raft messages they made: under load, one call per peer
// carries what would have been a call per request, and the bound keeps a
// busy loop's replies and ticks going.
const MaxBatch = 256

// Drain is the one batching policy of both drivers: the loop hands the node
// first and then whatever else is already queued (next says, without
// waiting), at most MaxBatch events, holding the Raft messages the node
// sends meanwhile; then they leave as one `.proc_raft_interact` per
// address, in order (one frame, one decoding, one Raft step loop on the
// receiver, where each request would have made its own). Messages are
// neither reordered per address nor delayed past the batch. The daemon's
// queue is a channel; the simulator's is an instance's inbox in virtual
// time.
func (h *Host) Drain(first func(), next func() (func(), bool)) {
	h.batching = true
	defer func() {
		h.batching = false
		h.flush()
	}()
	first()
	for range MaxBatch - 1 {
		fn, ok := next()
		if !ok {
			return
		}
		fn()
	}
}

// Ticker passes the node's ticks: every period of the clock, tick runs on
// the driver's loop. It keeps to the clock's schedule (a late tick does not
// push the next ones later) and never queues more than one tick: a loop
// that fell behind skips ticks rather than running a burst of them.
type Ticker struct {
	clock   clock.Clock
	period  time.Duration
	tick    func()
	next    time.Time
	timer   clock.Timer
	stopped bool
	fired   func() // fire, as a func made once, not at every tick
}

// StartTicker starts passing ticks.
func StartTicker(c clock.Clock, period time.Duration, tick func()) *Ticker {
	t := &Ticker{clock: c, period: period, tick: tick, next: c.Now()}
	t.fired = t.fire
	t.schedule()
	return t
}

func (t *Ticker) schedule() {
	now := t.clock.Now()
	t.next = t.next.Add(t.period)
	if behind := now.Sub(t.next); behind > 0 {
		// Skip the ticks the loop had no time for.
		t.next = t.next.Add(behind.Truncate(t.period) + t.period)
	}
	t.timer = t.clock.AfterFunc(t.next.Sub(now), t.fired)
}

func (t *Ticker) fire() {
	if t.stopped {
		return
	}
	t.tick()
	if !t.stopped {
		t.schedule()
	}
}

// Stop stops the ticks; a tick already posted to the loop does not run.
func (t *Ticker) Stop() {
	t.stopped = true
	if t.timer != nil {
		t.timer.Stop()
	}
}

package runtime

import (
	"testing"
	"time"

	"github.com/picogo/picogo/clock"
	"github.com/stretchr/testify/require"
)

// manualClock is a clock a test moves: AfterFunc callbacks run when
// advance passes their time (the "loop" is the test itself).
type manualClock struct {
	now     time.Time
	pending []*manualTimer
}

type manualTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func (t *manualTimer) Stop() bool { was := !t.stopped; t.stopped = true; return was }

func (c *manualClock) Now() time.Time { return c.now }

func (c *manualClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	t := &manualTimer{at: c.now.Add(d), f: f}
	c.pending = append(c.pending, t)
	return t
}

// advance moves to now+d, running each due callback at its time.
func (c *manualClock) advance(d time.Duration) {
	end := c.now.Add(d)
	for {
		var next *manualTimer
		for _, t := range c.pending {
			if !t.stopped && !t.at.After(end) && (next == nil || t.at.Before(next.at)) {
				next = t
			}
		}
		if next == nil {
			c.now = end
			return
		}
		next.stopped = true
		if next.at.After(c.now) {
			c.now = next.at
		}
		next.f()
	}
}

func TestTickerKeepsTheClocksSchedule(t *testing.T) {
	c := &manualClock{now: time.Unix(100, 0)}
	var at []time.Duration
	start := c.now
	tk := StartTicker(c, 10*time.Millisecond, func() { at = append(at, c.now.Sub(start)) })
	c.advance(35 * time.Millisecond)
	require.Equal(t, []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond}, at)

	// A loop that was busy for 25 ms runs one late tick, then keeps to
	// the schedule: no burst of the ticks it missed.
	at = nil
	c.now = c.now.Add(25 * time.Millisecond) // the pending 40 ms tick is now 20 ms late
	c.advance(0)
	c.advance(15 * time.Millisecond)
	require.Equal(t, []time.Duration{60 * time.Millisecond, 70 * time.Millisecond}, at)

	tk.Stop()
	at = nil
	c.advance(time.Second)
	require.Empty(t, at, "a stopped ticker ticks no more")
}

func TestDrainHandsAtMostMaxBatchEvents(t *testing.T) {
	s := newSoloHost(t)
	queued := MaxBatch + 10
	ran := 0
	next := func() (func(), bool) {
		if queued == 0 {
			return nil, false
		}
		queued--
		return func() { ran++ }, true
	}
	s.h.Drain(func() { ran++ }, next)
	require.Equal(t, MaxBatch, ran, "one batch: the first event and MaxBatch-1 queued ones")
	require.Equal(t, 11, queued, "the rest waits for the next batch")
}

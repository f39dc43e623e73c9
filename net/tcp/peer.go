package tcp

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// maxTombstones is how many timed-out calls a connection may leave
// unanswered before it is recycled: a peer that stopped answering should
// not make the pool remember syncs forever.
const maxTombstones = 1024

var errTooManyTimeouts = errors.New("too many requests left unanswered after their timeout")

// call is one request in flight. Its fields are guarded by its peer's mu.
type call struct {
	sync  uint64
	frame []byte
	done  func([]byte, error)
	timer *time.Timer
	// sent: handed to the connection's writer (so a reply may come).
	sent bool
	// finished: done has been posted. A call finished but still in
	// pending is a tombstone: it timed out after being sent, and its sync
	// stays taken until the reply comes or the connection ends.
	finished bool
}

// peer is the pool's state for one address: at most one connection, or a
// dial in progress with the calls waiting for it, or neither (then maybe a
// backoff after failed dials).
type peer struct {
	pool *Pool
	addr string

	mu         sync.Mutex
	closed     bool
	conn       *clientConn // nil: none
	dialing    bool
	queue      []*call // calls waiting for the dial
	pending    map[uint64]*call
	tombstones int
	failures   int       // failed dials in a row
	retryAt    time.Time // no dial before then
	lastErr    error     // of the last failed dial
}

func newPeer(p *Pool, addr string) *peer {
	return &peer{pool: p, addr: addr, pending: map[uint64]*call{}}
}

// submit puts c in flight, or returns why it cannot be.
func (pr *peer) submit(c *call, timeout time.Duration) error {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if pr.closed {
		return ErrPoolClosed
	}
	if old, ok := pr.pending[c.sync]; ok {
		if old.finished {
			return fmt.Errorf("%w: sync %d to %s (its call timed out and the reply has not come yet)", ErrSyncInFlight, c.sync, pr.addr)
		}
		return fmt.Errorf("%w: sync %d to %s", ErrSyncInFlight, c.sync, pr.addr)
	}
	switch {
	case pr.conn != nil:
		if !pr.conn.enqueue(c.frame) {
			return fmt.Errorf("%w: %s", ErrQueueFull, pr.addr)
		}
		c.sent = true
	case pr.dialing:
		pr.queue = append(pr.queue, c)
	default:
		if wait := time.Until(pr.retryAt); wait > 0 {
			return fmt.Errorf("tcp: %s unreachable, next dial in %v: %w", pr.addr, wait.Round(time.Millisecond), pr.lastErr)
		}
		pr.dialing = true
		pr.queue = append(pr.queue, c)
		pr.pool.wg.Add(1) // before Close can wait: Close marks pr closed under pr.mu
		go pr.dial()
	}
	pr.pending[c.sync] = c
	if timeout > 0 {
		c.timer = time.AfterFunc(timeout, func() {
			pr.abandon(c, fmt.Errorf("%w: %s, sync %d, after %v", ErrTimeout, pr.addr, c.sync, timeout))
		})
	}
	return nil
}

// abandon fails c with err (a timeout, a cancelled context) unless it has
// finished already.
func (pr *peer) abandon(c *call, err error) {
	pr.mu.Lock()
	if c.finished {
		pr.mu.Unlock()
		return
	}
	c.finished = true
	if c.timer != nil {
		c.timer.Stop()
	}
	var recycle *clientConn
	if c.sent {
		// Keep the sync taken until the reply comes: a tombstone.
		pr.tombstones++
		if pr.tombstones > maxTombstones {
			recycle = pr.conn
		}
	} else {
		delete(pr.pending, c.sync) // still queued for the dial: never sent
	}
	pr.mu.Unlock()
	if recycle != nil {
		recycle.close(errTooManyTimeouts)
	}
	pr.pool.cb.post(c.done, nil, err)
}

// dial connects, then sends the queued calls, or fails them.
func (pr *peer) dial() {
	defer pr.pool.wg.Done()
	cc, err := pr.pool.connect(pr)

	pr.mu.Lock()
	pr.dialing = false
	if pr.closed { // Close failed the queue
		pr.mu.Unlock()
		if cc != nil {
			cc.nc.Close()
		}
		return
	}
	queue := pr.queue
	pr.queue = nil
	var failed []*call
	var failure error
	if err != nil {
		pr.failures++
		attempt := pr.failures
		wait := pr.pool.cfg.Backoff(attempt)
		pr.retryAt = time.Now().Add(wait)
		pr.lastErr = err
		failure = err
		for _, c := range queue {
			if !c.finished {
				delete(pr.pending, c.sync)
				failed = append(failed, pr.finish(c))
			}
		}
		pr.mu.Unlock()
		pr.pool.log.Info("iproto dial failed", "addr", pr.addr, "attempt", attempt, "retry_in", wait, "err", err.Error())
	} else {
		pr.failures, pr.retryAt, pr.lastErr = 0, time.Time{}, nil
		pr.conn = cc
		failure = fmt.Errorf("%w: %s", ErrQueueFull, pr.addr)
		for _, c := range queue {
			switch {
			case c.finished:
			case cc.enqueue(c.frame):
				c.sent = true
			default:
				delete(pr.pending, c.sync)
				failed = append(failed, pr.finish(c))
			}
		}
		pr.pool.wg.Add(2) // under pr.mu, before Close can wait
		pr.mu.Unlock()
		pr.pool.log.Debug("iproto connected", "addr", pr.addr)
		go cc.readLoop()
		go cc.writeLoop()
	}
	for _, c := range failed {
		pr.pool.cb.post(c.done, nil, failure)
	}
}

// finish marks c finished and stops its timer (under pr.mu); the caller
// posts its completion.
func (pr *peer) finish(c *call) *call {
	c.finished = true
	if c.timer != nil {
		c.timer.Stop()
	}
	return c
}

// deliver completes the call a response is for. Responses of a connection
// that is no longer the peer's, and to unknown syncs, are dropped.
func (pr *peer) deliver(cc *clientConn, sync uint64, packet []byte) {
	pr.mu.Lock()
	if pr.conn != cc {
		pr.mu.Unlock()
		return
	}
	c, ok := pr.pending[sync]
	if !ok {
		pr.mu.Unlock()
		pr.pool.log.Debug("iproto reply to no call; dropped", "addr", pr.addr, "sync", sync)
		return
	}
	delete(pr.pending, sync)
	if c.finished { // a tombstone
		pr.tombstones--
		pr.mu.Unlock()
		return
	}
	pr.finish(c)
	pr.mu.Unlock()
	pr.pool.cb.post(c.done, packet, nil)
}

// lost fails every call sent on cc, which has just closed.
func (pr *peer) lost(cc *clientConn, err error) {
	pr.mu.Lock()
	if pr.conn != cc {
		pr.mu.Unlock()
		return
	}
	pr.conn = nil
	failed := pr.takePending()
	pr.mu.Unlock()
	pr.pool.log.Info("iproto connection lost", "addr", pr.addr, "err", err.Error(), "failed_calls", len(failed))
	for _, c := range failed {
		pr.pool.cb.post(c.done, nil, err)
	}
}

// takePending empties pending (under pr.mu), returning the calls to fail.
func (pr *peer) takePending() []*call {
	var failed []*call
	for _, c := range pr.pending {
		if !c.finished {
			failed = append(failed, pr.finish(c))
		}
	}
	pr.pending = map[uint64]*call{}
	pr.tombstones = 0
	return failed
}

// shutdown is the pool's Close for this peer.
func (pr *peer) shutdown() {
	pr.mu.Lock()
	pr.closed = true
	cc := pr.conn
	pr.conn = nil
	pr.queue = nil
	failed := pr.takePending()
	pr.mu.Unlock()
	if cc != nil {
		cc.close(ErrPoolClosed)
	}
	for _, c := range failed {
		pr.pool.cb.post(c.done, nil, ErrPoolClosed)
	}
}

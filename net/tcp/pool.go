package tcp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// PoolConfig configures a Pool.
type PoolConfig struct {
	// User and Password authenticate every connection (chap-sha1). An
	// empty User sends no AUTH: the sessions are guest's.
	User, Password string
	// DialTimeout bounds the dial and, again, the greeting and AUTH
	// exchange that follow it (default 1s).
	DialTimeout time.Duration
	// MaxFrame bounds response frames (iproto.DefaultMaxFrameSize if <= 0);
	// a bigger one ends its connection.
	MaxFrame int
	// Backoff is the pause after the attempt-th failed dial in a row to an
	// address (attempt >= 1), during which calls to it fail at once.
	// Default: 50ms doubling to 2s.
	Backoff func(attempt int) time.Duration
	// Logger gets connection events (dial failures, lost connections);
	// nil discards.
	Logger *slog.Logger
}

// DefaultDialTimeout is the default PoolConfig.DialTimeout.
const DefaultDialTimeout = time.Second

// DefaultBackoff is the default PoolConfig.Backoff: 50ms, 100ms, 200ms, ...
// up to 2s.
func DefaultBackoff(attempt int) time.Duration {
	const first, most = 50 * time.Millisecond, 2 * time.Second
	if attempt < 1 {
		attempt = 1
	}
	if attempt > 7 {
		return most
	}
	return min(first<<(attempt-1), most)
}

// Errors a call can fail with besides dial, AUTH and connection errors.
// They are wrapped with the address and sync: test with errors.Is.
var (
	ErrPoolClosed = errors.New("tcp: pool closed")
	ErrTimeout    = errors.New("tcp: request timed out")
	// ErrSyncInFlight: the request's sync is that of a call still in
	// flight to the same address, or of one that timed out and whose reply
	// has not come yet (see Pool.Roundtrip).
	ErrSyncInFlight = errors.New("tcp: sync already in flight")
	// ErrQueueFull: the connection has too many requests waiting to be
	// written.
	ErrQueueFull = errors.New("tcp: send queue full")
	// ErrConnLost: the connection ended with the call on it — written to
	// the instance or not: like a timeout, the call may have been served.
	ErrConnLost = errors.New("tcp: connection lost")
)

// Pool is a set of outgoing iproto connections, one per address, each
// authenticated as the configured user. It implements net.Transport.
//
// Goroutines: per connection, a reader (matches responses to calls) and a
// writer (writes queued requests in order); per dial, a dialer (dial,
// greeting, AUTH); and a callback goroutine, started on demand, that runs
// done callbacks one at a time, in the order the calls completed.
type Pool struct {
	cfg    PoolConfig
	log    *slog.Logger
	ctx    context.Context // cancelled by Close: aborts dials and handshakes
	cancel context.CancelFunc
	cb     dispatcher

	mu     sync.Mutex
	closed bool
	peers  map[string]*peer
	wg     sync.WaitGroup // dialers, readers, writers
}

// NewPool makes an empty pool; connections are dialled on first use.
func NewPool(cfg PoolConfig) *Pool {
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.Backoff == nil {
		cfg.Backoff = DefaultBackoff
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Pool{cfg: cfg, log: log, ctx: ctx, cancel: cancel, peers: map[string]*peer{}}
}

// Roundtrip implements net.Transport. It sends frame (a complete request
// frame, length prefix included) to addr over the pool's connection to it,
// dialling and authenticating first if there is none. It never blocks.
//
// done is called exactly once, never from within Roundtrip, on the pool's
// callback goroutine: with the response packet (as iproto.ReadFrame
// returns it; an error reply is a packet too) or with an error — the frame
// is malformed, the pool is closed, the sync collides, the address is in
// its backoff after a failed dial (the dial's error is wrapped), the dial
// or AUTH fails, the connection is lost (ErrConnLost: whether or not the
// request got there), the write queue is full, or timeout passes
// (ErrTimeout; timeout <= 0 means no timeout).
//
// frame is written as is, later: do not modify it afterwards.
//
// Responses are matched by the SYNC of the frame's header, which the caller
// chooses: it must differ from the syncs of the calls in flight to addr,
// or the call fails with ErrSyncInFlight. A call that timed out keeps its
// sync in flight until its reply comes (and is dropped) or the connection
// ends, so that a late reply is never taken for another call's.
func (p *Pool) Roundtrip(addr string, frame []byte, timeout time.Duration, done func(packet []byte, err error)) {
	p.roundtrip(addr, frame, timeout, done)
}

// roundtrip is Roundtrip returning the call, if it got in flight, so that
// Call can abandon it.
func (p *Pool) roundtrip(addr string, frame []byte, timeout time.Duration, done func([]byte, error)) (*peer, *call) {
	h, err := frameHeader(frame)
	if err != nil {
		p.cb.post(done, nil, fmt.Errorf("tcp: request to %s: bad frame: %w", addr, err))
		return nil, nil
	}
	pr, err := p.peer(addr)
	if err != nil {
		p.cb.post(done, nil, err)
		return nil, nil
	}
	c := &call{sync: h.sync, frame: frame, done: done}
	if err := pr.submit(c, timeout); err != nil {
		p.cb.post(done, nil, err)
		return nil, nil
	}
	return pr, c
}

// peer is addr's connection state, made on first use.
func (p *Pool) peer(addr string) (*peer, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrPoolClosed
	}
	pr := p.peers[addr]
	if pr == nil {
		pr = newPeer(p, addr)
		p.peers[addr] = pr
	}
	return pr, nil
}

// Close fails the calls in flight with ErrPoolClosed, closes the
// connections and waits for the pool's network goroutines. It does not wait
// for the done callbacks of the failed calls, which may run after it
// returns. Later calls fail with ErrPoolClosed.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.wg.Wait()
		return nil
	}
	p.closed = true
	peers := make([]*peer, 0, len(p.peers))
	for _, pr := range p.peers {
		peers = append(peers, pr)
	}
	p.mu.Unlock()

	for _, pr := range peers {
		pr.shutdown()
	}
	p.cancel() // aborts dials and handshakes in progress
	p.wg.Wait()
	return nil
}

// dispatcher runs done callbacks one at a time on a goroutine of its own,
// started when there is something to run and gone when there is not.
type dispatcher struct {
	mu      sync.Mutex
	queue   []completion
	running bool
}

type completion struct {
	done   func([]byte, error)
	packet []byte
	err    error
}

func (d *dispatcher) post(done func([]byte, error), packet []byte, err error) {
	d.mu.Lock()
	d.queue = append(d.queue, completion{done, packet, err})
	if d.running {
		d.mu.Unlock()
		return
	}
	d.running = true
	d.mu.Unlock()
	go d.run()
}

func (d *dispatcher) run() {
	for {
		d.mu.Lock()
		batch := d.queue
		d.queue = nil
		if len(batch) == 0 {
			d.running = false
			d.mu.Unlock()
			return
		}
		d.mu.Unlock()
		for _, c := range batch {
			c.done(c.packet, c.err)
		}
	}
}

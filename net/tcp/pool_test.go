package tcp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	pnet "github.com/picogo/picogo/net"
	"github.com/picogo/picogo/net/iproto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

type result struct {
	packet []byte
	err    error
}

// roundtrip runs Pool.Roundtrip and returns the channel done reports on.
func roundtrip(p *Pool, addr string, frame []byte, timeout time.Duration) <-chan result {
	ch := make(chan result, 1)
	p.Roundtrip(addr, frame, timeout, func(packet []byte, err error) { ch <- result{packet, err} })
	return ch
}

func newTestPool(t *testing.T, cfg PoolConfig) *Pool {
	t.Helper()
	p := NewPool(cfg)
	t.Cleanup(func() { require.NoError(t, p.Close()) })
	return p
}

// echoData decodes an echoServe reply: [user, function, args].
func echoData(t *testing.T, packet []byte) (resp iproto.Response, user, fn string) {
	t.Helper()
	resp, err := iproto.DecodeResponse(packet)
	require.NoError(t, err)
	require.Nil(t, resp.Err)
	var data []any
	require.NoError(t, msgpack.Unmarshal(resp.Data, &data))
	require.Len(t, data, 3)
	return resp, data[0].(string), data[1].(string)
}

func adminServer(t *testing.T, cfg ServerConfig) string {
	t.Helper()
	cfg.Auth = newTestAuth("pico_service", "pw", "guest", "")
	if cfg.Serve == nil {
		cfg.Serve = echoServe
	}
	_, addr := startServer(t, cfg)
	return addr
}

func TestPoolRoundtrip(t *testing.T) {
	addr := adminServer(t, ServerConfig{})
	p := newTestPool(t, PoolConfig{User: "pico_service", Password: "pw"})
	for i := range 3 {
		r := eventually(t, roundtrip(p, addr, iproto.EncodeCall(uint64(i+1), ".proc_raft_info", nil), ioTimeout), "the reply")
		require.NoError(t, r.err)
		resp, user, fn := echoData(t, r.packet)
		assert.Equal(t, uint64(i+1), resp.Sync)
		assert.Equal(t, "pico_service", user)
		assert.Equal(t, ".proc_raft_info", fn)
	}
}

func TestPoolGuest(t *testing.T) {
	addr := adminServer(t, ServerConfig{})
	p := newTestPool(t, PoolConfig{})
	r := eventually(t, roundtrip(p, addr, iproto.EncodeCall(1, "f", nil), ioTimeout), "the reply")
	require.NoError(t, r.err)
	_, user, _ := echoData(t, r.packet)
	assert.Equal(t, Guest, user)
}

func TestPoolErrorReplyIsAPacket(t *testing.T) {
	addr := adminServer(t, ServerConfig{})
	p := newTestPool(t, PoolConfig{User: "pico_service", Password: "pw"})
	r := eventually(t, roundtrip(p, addr, iproto.EncodeEval(4, "return 1", nil), ioTimeout), "the reply")
	require.NoError(t, r.err)
	resp, err := iproto.DecodeResponse(r.packet)
	require.NoError(t, err)
	require.NotNil(t, resp.Err)
	assert.EqualValues(t, iproto.CodeUnknownRequestType, resp.Err.Code)
}

func TestPoolAuthFailure(t *testing.T) {
	addr := adminServer(t, ServerConfig{})
	p := newTestPool(t, PoolConfig{User: "pico_service", Password: "wrong"})
	r := eventually(t, roundtrip(p, addr, iproto.EncodeCall(1, "f", nil), ioTimeout), "the failure")
	require.Error(t, r.err)
	var ne *pnet.Error
	require.ErrorAs(t, r.err, &ne)
	assert.EqualValues(t, iproto.CodePasswordMismatch, ne.Code)
	assert.Contains(t, r.err.Error(), addr)

	// The next call, within the backoff, fails at once with the same cause.
	r = eventually(t, roundtrip(p, addr, iproto.EncodeCall(2, "f", nil), ioTimeout), "the failure")
	require.ErrorAs(t, r.err, &ne)
	assert.Contains(t, r.err.Error(), "next dial in")
}

func TestPoolDialRefusedFailsFast(t *testing.T) {
	l, err := netListen()
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	p := newTestPool(t, PoolConfig{DialTimeout: 3 * time.Second})
	start := time.Now()
	r := eventually(t, roundtrip(p, addr, iproto.EncodeCall(1, "f", nil), 0), "the failure")
	require.Error(t, r.err)
	assert.Less(t, time.Since(start), time.Second)
	var opErr *net.OpError
	assert.ErrorAs(t, r.err, &opErr)

	syncCall := make(chan error, 1)
	go func() {
		_, err := Call(context.Background(), p, addr, iproto.EncodePing(2))
		syncCall <- err
	}()
	assert.Error(t, eventually(t, syncCall, "Call"))
}

func TestPoolReconnect(t *testing.T) {
	l, err := netListen()
	require.NoError(t, err)
	addr := l.Addr().String()
	auth := newTestAuth("pico_service", "pw")
	start := func(l net.Listener) *Server {
		s := NewServer(ServerConfig{Listener: l, Auth: auth, Serve: echoServe, SchemaVersion: func() uint64 { return testSchema }})
		go func() { _ = s.Serve() }()
		return s
	}
	srv := start(l)

	// Long enough that the call right after the failure is certainly
	// within it, even on a loaded machine.
	const backoff = time.Second
	var attempts []int
	var mu sync.Mutex
	p := newTestPool(t, PoolConfig{User: "pico_service", Password: "pw", Backoff: func(attempt int) time.Duration {
		mu.Lock()
		attempts = append(attempts, attempt)
		mu.Unlock()
		return backoff
	}})
	call := func(sync uint64) error {
		r := eventually(t, roundtrip(p, addr, iproto.EncodeCall(sync, "f", nil), ioTimeout), "the reply")
		return r.err
	}
	require.NoError(t, call(1))

	// The server goes away: the connection is lost, the dial is refused.
	require.NoError(t, srv.Close())
	var lost error
	for sync := uint64(2); lost == nil || errors.Is(lost, ErrQueueFull); sync++ {
		lost = call(sync) // the first may still get through the dying connection's buffers
	}
	require.Error(t, lost)
	var failedAt time.Time
	for sync := uint64(100); ; sync++ {
		err := call(sync)
		require.Error(t, err)
		if !errors.Is(err, ErrPoolClosed) && attemptsSoFar(&mu, &attempts) > 0 {
			failedAt = time.Now()
			break
		}
	}

	// A new server on the same address.
	l2, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	srv2 := start(l2)
	defer srv2.Close()

	// Within the backoff calls fail at once, without dialling.
	err = call(200)
	require.Less(t, time.Since(failedAt), backoff, "the machine took the whole backoff to get here: nothing was tested")
	require.Error(t, err, "a call within the backoff dialled the new server")
	assert.Contains(t, err.Error(), "next dial in")
	time.Sleep(time.Until(failedAt.Add(backoff)) + 10*time.Millisecond)
	require.NoError(t, call(300), "the next call after the backoff reconnects")
	require.NoError(t, call(301))
	mu.Lock()
	assert.Equal(t, 1, attempts[0], "backoff counts failed dials from 1")
	mu.Unlock()
}

func attemptsSoFar(mu *sync.Mutex, attempts *[]int) int {
	mu.Lock()
	defer mu.Unlock()
	return len(*attempts)
}

func TestPoolBackoffGrows(t *testing.T) {
	l, err := netListen()
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	var mu sync.Mutex
	var attempts []int
	p := newTestPool(t, PoolConfig{Backoff: func(attempt int) time.Duration {
		mu.Lock()
		attempts = append(attempts, attempt)
		mu.Unlock()
		return time.Millisecond
	}})
	for i := range 3 {
		for {
			r := eventually(t, roundtrip(p, addr, iproto.EncodePing(uint64(i)), 0), "the failure")
			require.Error(t, r.err)
			if attemptsSoFar(&mu, &attempts) > i {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	mu.Lock()
	assert.Equal(t, []int{1, 2, 3}, attempts)
	mu.Unlock()

	assert.Equal(t, 50*time.Millisecond, DefaultBackoff(1))
	assert.Equal(t, 100*time.Millisecond, DefaultBackoff(2))
	assert.Equal(t, 1600*time.Millisecond, DefaultBackoff(6))
	assert.Equal(t, 2*time.Second, DefaultBackoff(7))
	assert.Equal(t, 2*time.Second, DefaultBackoff(1000))
}

// holdServe keeps every request's reply callback, never answering.
type holdServe struct {
	mu      sync.Mutex
	replies map[uint64]func([]byte)
	got     chan uint64
}

func newHoldServe() *holdServe {
	return &holdServe{replies: map[uint64]func([]byte){}, got: make(chan uint64, 1000)}
}

func (h *holdServe) serve(s *Session, p []byte, reply func([]byte)) {
	hd, _ := readHeader(p)
	h.mu.Lock()
	h.replies[hd.sync] = func(f []byte) { reply(f) }
	h.mu.Unlock()
	h.got <- hd.sync
}

// release answers sync like echoServe.
func (h *holdServe) release(sync uint64) {
	h.mu.Lock()
	reply := h.replies[sync]
	delete(h.replies, sync)
	h.mu.Unlock()
	reply(iproto.EncodeCallReply(sync, testSchema, mp("released"), mp("f"), mp([]any{})))
}

func TestPoolTimeout(t *testing.T) {
	hold := newHoldServe()
	addr := adminServer(t, ServerConfig{Serve: hold.serve})
	p := newTestPool(t, PoolConfig{User: "pico_service", Password: "pw"})

	start := time.Now()
	r := eventually(t, roundtrip(p, addr, iproto.EncodeCall(1, "f", nil), 100*time.Millisecond), "the timeout")
	require.ErrorIs(t, r.err, ErrTimeout)
	assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)
	eventually(t, hold.got, "the request at the server")

	// The timed-out sync stays taken until its reply comes...
	r = eventually(t, roundtrip(p, addr, iproto.EncodeCall(1, "f", nil), ioTimeout), "the rejection")
	require.ErrorIs(t, r.err, ErrSyncInFlight)
	// ...which is dropped, freeing it.
	hold.release(1)
	require.NoError(t, p.ping(t, addr, 2))
	ch := roundtrip(p, addr, iproto.EncodeCall(1, "f", nil), ioTimeout)
	eventually(t, hold.got, "the request at the server")
	hold.release(1)
	r = eventually(t, ch, "the reply")
	require.NoError(t, r.err)
}

// ping is a PING roundtrip (answered by the server itself).
func (p *Pool) ping(t *testing.T, addr string, sync uint64) error {
	t.Helper()
	return eventually(t, roundtrip(p, addr, iproto.EncodePing(sync), ioTimeout), "the ping").err
}

func TestPoolSyncCollision(t *testing.T) {
	hold := newHoldServe()
	addr := adminServer(t, ServerConfig{Serve: hold.serve})
	p := newTestPool(t, PoolConfig{User: "pico_service", Password: "pw"})

	first := roundtrip(p, addr, iproto.EncodeCall(5, "f", nil), ioTimeout)
	second := roundtrip(p, addr, iproto.EncodeCall(5, "f", nil), ioTimeout)
	r := eventually(t, second, "the rejection")
	require.ErrorIs(t, r.err, ErrSyncInFlight)

	assert.Equal(t, uint64(5), eventually(t, hold.got, "the first request"))
	hold.release(5)
	r = eventually(t, first, "the first reply")
	require.NoError(t, r.err)
	_, user, _ := echoData(t, r.packet)
	assert.Equal(t, "released", user)
	select {
	case s := <-hold.got:
		t.Fatalf("the colliding request (sync %d) reached the server", s)
	default:
	}
}

func TestPoolCloseFailsInFlight(t *testing.T) {
	hold := newHoldServe()
	addr := adminServer(t, ServerConfig{Serve: hold.serve})
	p := NewPool(PoolConfig{User: "pico_service", Password: "pw"})

	var chans []<-chan result
	for i := range 10 {
		chans = append(chans, roundtrip(p, addr, iproto.EncodeCall(uint64(i), "f", nil), 0))
	}
	for range 10 {
		eventually(t, hold.got, "the requests at the server")
	}
	closed := make(chan error, 1)
	go func() { closed <- p.Close() }()
	require.NoError(t, eventually(t, closed, "Close"))
	for _, ch := range chans {
		require.ErrorIs(t, eventually(t, ch, "the failure").err, ErrPoolClosed)
	}

	// Afterwards: ErrPoolClosed, and never from within Roundtrip (done
	// blocks until Roundtrip has returned: called from within, it would
	// never return).
	release := make(chan struct{})
	called := make(chan error, 1)
	returned := make(chan struct{})
	go func() {
		p.Roundtrip(addr, iproto.EncodePing(1), 0, func(_ []byte, err error) {
			<-release
			called <- err
		})
		close(returned)
	}()
	eventually(t, returned, "Roundtrip to return")
	close(release)
	require.ErrorIs(t, eventually(t, called, "done"), ErrPoolClosed)
	require.NoError(t, p.Close(), "Close twice")
}

func TestPoolCloseDuringDial(t *testing.T) {
	// A listener that accepts but never greets: the dial hangs in the
	// handshake until Close.
	l, err := netListen()
	require.NoError(t, err)
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	p := NewPool(PoolConfig{DialTimeout: time.Minute})
	ch := roundtrip(p, l.Addr().String(), iproto.EncodePing(1), 0)
	time.Sleep(20 * time.Millisecond)
	closed := make(chan error, 1)
	go func() { closed <- p.Close() }()
	require.NoError(t, eventually(t, closed, "Close"))
	require.ErrorIs(t, eventually(t, ch, "the failure").err, ErrPoolClosed)
}

func TestPoolHandshakeTimeout(t *testing.T) {
	l, err := netListen()
	require.NoError(t, err)
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	p := newTestPool(t, PoolConfig{DialTimeout: 100 * time.Millisecond})
	r := eventually(t, roundtrip(p, l.Addr().String(), iproto.EncodePing(1), 0), "the failure")
	require.Error(t, r.err)
	assert.Contains(t, r.err.Error(), "greeting")
}

func TestPoolNotAServer(t *testing.T) {
	l, err := netListen()
	require.NoError(t, err)
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte(fmt.Sprintf("%-127s\n", "HTTP/1.1 400 Bad Request")))
			_ = c.Close()
		}
	}()
	p := newTestPool(t, PoolConfig{})
	r := eventually(t, roundtrip(p, l.Addr().String(), iproto.EncodePing(1), 0), "the failure")
	assert.ErrorContains(t, r.err, "bad greeting")
}

func TestPoolConnectionLost(t *testing.T) {
	hold := newHoldServe()
	srv, addr := startServer(t, ServerConfig{Auth: newTestAuth("pico_service", "pw"), Serve: hold.serve})
	p := newTestPool(t, PoolConfig{User: "pico_service", Password: "pw"})
	ch := roundtrip(p, addr, iproto.EncodeCall(1, "f", nil), 0)
	eventually(t, hold.got, "the request")
	require.NoError(t, srv.Close())
	r := eventually(t, ch, "the failure")
	require.Error(t, r.err)
	assert.Contains(t, r.err.Error(), "lost")
}

func TestPoolBadFrame(t *testing.T) {
	p := newTestPool(t, PoolConfig{})
	for _, f := range [][]byte{nil, {0x05, 0x80}, {0x01, 0x01}, append([]byte{0x03}, 0x81, 0x01, 0xa1)} {
		r := eventually(t, roundtrip(p, "127.0.0.1:1", f, 0), "the failure")
		assert.ErrorContains(t, r.err, "bad frame")
	}
}

func TestPoolConcurrent(t *testing.T) {
	addr := adminServer(t, ServerConfig{Serve: func(s *Session, p []byte, reply func([]byte)) {
		user := s.User()
		p = bytes.Clone(p) // kept past Serve
		go reply(echoReply(user, p))
	}})
	p := newTestPool(t, PoolConfig{User: "pico_service", Password: "pw"})
	var wg sync.WaitGroup
	errs := make(chan error, 800)
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				sync := uint64(g*1000 + i)
				r := <-roundtrip(p, addr, iproto.EncodeCall(sync, "f", mp([]any{sync})), ioTimeout)
				if r.err != nil {
					errs <- r.err
					continue
				}
				resp, err := iproto.DecodeResponse(r.packet)
				if err == nil && resp.Sync != sync {
					err = fmt.Errorf("sync %d got the reply to %d", sync, resp.Sync)
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestPoolManyAddresses(t *testing.T) {
	a := adminServer(t, ServerConfig{})
	b := adminServer(t, ServerConfig{})
	p := newTestPool(t, PoolConfig{User: "pico_service", Password: "pw"})
	// The same sync to two addresses is no collision.
	ra := roundtrip(p, a, iproto.EncodeCall(1, "a", nil), ioTimeout)
	rb := roundtrip(p, b, iproto.EncodeCall(1, "b", nil), ioTimeout)
	for _, want := range []struct {
		ch <-chan result
		fn string
	}{{ra, "a"}, {rb, "b"}} {
		r := eventually(t, want.ch, "the reply")
		require.NoError(t, r.err)
		_, _, fn := echoData(t, r.packet)
		assert.Equal(t, want.fn, fn)
	}
}

func TestCall(t *testing.T) {
	hold := newHoldServe()
	addr := adminServer(t, ServerConfig{Serve: hold.serve})
	p := newTestPool(t, PoolConfig{User: "pico_service", Password: "pw"})

	packet, err := Call(context.Background(), p, addr, iproto.EncodePing(1))
	require.NoError(t, err)
	resp, err := iproto.DecodeResponse(packet)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), resp.Sync)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = Call(ctx, p, addr, iproto.EncodeCall(2, "f", nil))
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrTimeout) || errors.Is(err, context.DeadlineExceeded), err)

	ctx, cancel = context.WithCancel(context.Background())
	go func() {
		eventually(t, hold.got, "the request")
		eventually(t, hold.got, "the request")
		cancel()
	}()
	_, err = Call(ctx, p, addr, iproto.EncodeCall(3, "f", nil))
	require.ErrorIs(t, err, context.Canceled)

	_, err = Call(ctx, p, addr, iproto.EncodePing(4))
	require.ErrorIs(t, err, context.Canceled, "a done context is not even sent")
}

func TestPoolRecyclesConnectionAfterTooManyTimeouts(t *testing.T) {
	var sessions sync.Map // session id -> struct{}
	addr := adminServer(t, ServerConfig{Serve: func(s *Session, p []byte, reply func([]byte)) {
		sessions.Store(s.ID, struct{}{})
		req, err := iproto.DecodeRequest(p)
		if err != nil {
			return
		}
		if fn, _ := req.FunctionName(); fn == "hang" {
			return // never answered
		}
		reply(echoReply(s.User(), p))
	}})
	p := newTestPool(t, PoolConfig{User: "pico_service", Password: "pw"})
	require.NoError(t, p.ping(t, addr, 1))

	var chans []<-chan result
	for i := range maxTombstones + 1 {
		chans = append(chans, roundtrip(p, addr, iproto.EncodeCall(uint64(10+i), "hang", nil), 50*time.Millisecond))
	}
	for _, ch := range chans {
		require.ErrorIs(t, eventually(t, ch, "the timeout").err, ErrTimeout)
	}
	// The connection was recycled: its syncs are free again, and the next
	// call comes on a new session.
	r := eventually(t, roundtrip(p, addr, iproto.EncodeCall(10, "echo", nil), ioTimeout), "the reply")
	require.NoError(t, r.err)
	n := 0
	sessions.Range(func(any, any) bool { n++; return true })
	assert.Equal(t, 2, n)
}

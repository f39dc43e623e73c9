package tcp

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/picogo/picogo/net/iproto"
)

// clientQueue is how many requests may wait to be written on one outgoing
// connection; more fail with ErrQueueFull.
const clientQueue = 4096

// clientConn is one outgoing connection, past its greeting and AUTH.
type clientConn struct {
	peer *peer
	nc   net.Conn
	br   *bufio.Reader
	out  chan []byte
	done chan struct{}
	once sync.Once
}

// connect dials pr's address, reads the greeting and authenticates.
func (p *Pool) connect(pr *peer) (*clientConn, error) {
	addr := pr.addr
	d := net.Dialer{Timeout: p.cfg.DialTimeout}
	nc, err := d.DialContext(p.ctx, "tcp", addr)
	if p.ctx.Err() != nil {
		if nc != nil {
			_ = nc.Close()
		}
		return nil, ErrPoolClosed
	}
	if err != nil {
		return nil, fmt.Errorf("tcp: dial %s: %w", addr, err)
	}
	// Close aborts the handshake by closing the socket.
	stop := context.AfterFunc(p.ctx, func() { _ = nc.Close() })
	br, err := p.handshake(nc, addr)
	if !stop() {
		err = ErrPoolClosed
	}
	if err != nil {
		_ = nc.Close()
		return nil, err
	}
	return &clientConn{peer: pr, nc: nc, br: br, out: make(chan []byte, clientQueue), done: make(chan struct{})}, nil
}

// handshake reads the greeting and, if the pool has a user, authenticates,
// all within DialTimeout.
func (p *Pool) handshake(nc net.Conn, addr string) (*bufio.Reader, error) {
	_ = nc.SetDeadline(time.Now().Add(p.cfg.DialTimeout))
	br := bufio.NewReaderSize(nc, readBuffer)
	var g [iproto.GreetingSize]byte
	if _, err := io.ReadFull(br, g[:]); err != nil {
		return nil, fmt.Errorf("tcp: %s: reading the greeting: %w", addr, err)
	}
	_, _, salt, err := iproto.ParseGreeting(g[:])
	if err != nil {
		return nil, fmt.Errorf("tcp: %s: %w", addr, err)
	}
	if p.cfg.User != "" {
		auth := iproto.EncodeAuth(0, p.cfg.User, iproto.Scramble(salt, p.cfg.Password))
		if _, err := nc.Write(auth); err != nil {
			return nil, fmt.Errorf("tcp: %s: sending AUTH: %w", addr, err)
		}
		packet, err := iproto.ReadFrame(br, p.cfg.MaxFrame)
		if err != nil {
			return nil, fmt.Errorf("tcp: %s: reading the AUTH reply: %w", addr, err)
		}
		resp, err := iproto.DecodeResponse(packet)
		if err != nil {
			return nil, fmt.Errorf("tcp: %s: the AUTH reply: %w", addr, err)
		}
		if resp.Err != nil {
			return nil, fmt.Errorf("tcp: %s: AUTH as %q: %w", addr, p.cfg.User, resp.Err)
		}
	}
	_ = nc.SetDeadline(time.Time{})
	return br, nil
}

// enqueue hands a frame to the writer without blocking; false if the queue
// is full.
func (cc *clientConn) enqueue(frame []byte) bool {
	select {
	case cc.out <- frame:
		return true
	default:
		return false
	}
}

// close closes the connection once and fails its calls with err.
func (cc *clientConn) close(err error) {
	cc.once.Do(func() {
		close(cc.done)
		_ = cc.nc.Close()
		cc.peer.lost(cc, fmt.Errorf("%w: %s: %w", ErrConnLost, cc.peer.addr, err))
	})
}

func (cc *clientConn) writeLoop() {
	defer cc.peer.pool.wg.Done()
	if err := writeLoop(cc.nc, cc.out, cc.done); err != nil {
		cc.close(err)
	}
}

// readLoop hands every response to the peer, skipping pushes (CHUNK).
func (cc *clientConn) readLoop() {
	defer cc.peer.pool.wg.Done()
	for {
		packet, err := iproto.ReadFrame(cc.br, cc.peer.pool.cfg.MaxFrame)
		if err != nil {
			cc.close(err)
			return
		}
		h, err := readHeader(packet)
		if err != nil {
			// The reply cannot be matched: its call would only time out.
			cc.close(fmt.Errorf("reply header: %w", err))
			return
		}
		if h.typ == iproto.TypeChunk {
			continue
		}
		cc.peer.deliver(cc, h.sync, packet)
	}
}

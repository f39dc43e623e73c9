package tcp

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/picogo/picogo/net/iproto"
)

// A server connection runs two goroutines:
//   - the reader reads frames, answers AUTH, ID and PING itself and hands
//     everything else to Serve (so both run on it, one request at a time);
//   - the writer writes the greeting, then the frames queued in the
//     outbox, in the order they were queued, each batch with one write.
//
// Nothing ever blocks on the outbox: a reply that finds it full closes the
// connection (the client is not reading), one that finds the connection
// closed is dropped. Closing (once, for whatever reason first) closes
// done and the socket, which stops both goroutines, and logs one line.

const (
	readBuffer = 64 << 10
	// holdFrames is how many buffered requests the reader answers before
	// it lets the writer go even though it has more: replies to a long
	// burst start leaving before the burst is all answered.
	holdFrames = 32
	// oversizeGrace is how long the reader waits for the header of an
	// oversized frame, to answer it before closing.
	oversizeGrace = 100 * time.Millisecond
	// oversizePeek is how much of an oversized frame is read for its
	// header.
	oversizePeek = 64
	// flushGrace is how long a connection closed after a last reply waits
	// for the writer to flush it; also how long a connection half-closed
	// after one discards what the client still sends (lingerAfterFlush).
	flushGrace = time.Second
)

var (
	errServerClosed = errors.New("server closed")
	errSlowClient   = errors.New("client does not read its replies: write queue full")
)

type conn struct {
	srv  *Server
	nc   net.Conn
	sess *Session
	salt [32]byte
	log  *slog.Logger
	box  *outbox
	// raw is the socket for writes that must not wait (writeNow); nil if
	// the connection has none (a test's pipe).
	raw  syscall.RawConn
	done chan struct{} // closed by close; == sess.done

	closeOnce   sync.Once
	flushReason atomic.Pointer[error] // why lingerAfterFlush closes
	// flushed is closed by the writer once the last reply is written
	// (lingerAfterFlush).
	flushed chan struct{}
}

func newConn(s *Server, nc net.Conn, id uint64) *conn {
	remote := nc.RemoteAddr().String()
	c := &conn{
		srv:     s,
		nc:      nc,
		sess:    newSession(id, remote),
		log:     s.log.With("conn", id, "remote", remote),
		flushed: make(chan struct{}),
	}
	c.done = c.sess.done
	rand.Read(c.salt[:]) // never fails (crypto/rand)
	g := iproto.Greeting(s.cfg.Version, s.cfg.UUID, c.salt)
	c.box = newOutbox(s.cfg.WriteQueue+1, g[:]) // +1: the greeting
	if sc, ok := nc.(syscall.Conn); ok {
		c.raw, _ = sc.SyscallConn()
	}
	return c
}

// close closes the connection once, logging why (protocol violations
// within the server's violationLog limit).
func (c *conn) close(reason error) {
	c.closeOnce.Do(func() {
		if !isViolation(reason) || c.srv.violationLog.Allow() {
			c.log.Log(context.Background(), closeLevel(reason), "iproto connection closed", "reason", reason.Error())
		}
		close(c.done)
		_ = c.nc.Close()
		c.srv.forget(c)
	})
}

// closeLevel: protocol violations and slow clients are warnings; a client
// going away or the server stopping is routine.
func closeLevel(reason error) slog.Level {
	if isViolation(reason) || errors.Is(reason, errSlowClient) {
		return slog.LevelWarn
	}
	return slog.LevelDebug
}

// isViolation: the client sent what is not iproto, or a frame over the
// limit.
func isViolation(reason error) bool {
	var tooLarge *iproto.FrameTooLargeError
	return errors.Is(reason, iproto.ErrMalformed) || errors.As(reason, &tooLarge)
}

// send queues a frame for the writer without ever blocking.
func (c *conn) send(frame []byte) {
	if len(frame) == 0 {
		return
	}
	select {
	case <-c.done:
		return // closed: dropped
	default:
	}
	if !c.box.put(frame) {
		c.close(errSlowClient)
	}
}

// replier is the reply callback for one request: it sends at most once.
func (c *conn) replier() func([]byte) {
	var used atomic.Bool
	return func(frame []byte) {
		if !used.CompareAndSwap(false, true) {
			c.log.Debug("iproto reply sent twice; dropped")
			return
		}
		c.send(frame)
	}
}

func (c *conn) writeLoop() {
	defer c.srv.wg.Done()
	err := c.box.writeTo(c.nc, c.done)
	switch {
	case err == nil: // closed
	case errors.Is(err, errFlushed): // the last reply is out (lingerAfterFlush)
		close(c.flushed)
		if hc, ok := c.nc.(interface{ CloseWrite() error }); ok && hc.CloseWrite() == nil {
			return // the reader closes
		}
		c.close(*c.flushReason.Load())
	default:
		c.close(fmt.Errorf("writing: %w", err))
	}
}

// readLoop reads and handles requests. While it has whole requests
// buffered (a client's pipelined burst, read with one system call), their
// replies are held back and leave together when it runs out (outbox), at
// least every holdFrames requests.
func (c *conn) readLoop() {
	defer c.srv.wg.Done()
	br := bufio.NewReaderSize(c.nc, readBuffer)
	held := 0
	for {
		if held == holdFrames || !iproto.FrameBuffered(br) {
			c.box.release(c.writeNow) // about to wait for the client: let the replies go
			held = 0
		}
		packet, n, err := iproto.PeekFrame(br, c.srv.cfg.MaxFrame)
		if err != nil {
			c.readFailed(br, err)
			return
		}
		c.box.hold()
		held++
		c.handle(packet)
		_, _ = br.Discard(n) // peeked: it is there
	}
}

// writeNow writes what of b the socket takes without waiting (one
// write(2) on the non-blocking socket) and returns how much; errors are
// left to the writer, whose write meets them again.
func (c *conn) writeNow(b []byte) int {
	if c.raw == nil {
		return 0
	}
	n := 0
	err := c.raw.Write(func(fd uintptr) bool {
		n, _ = syscall.Write(int(fd), b)
		return true // never wait for the socket: the writer does
	})
	if err != nil {
		return 0
	}
	return n
}

// readFailed ends the connection after ReadFrame failed.
func (c *conn) readFailed(br *bufio.Reader, err error) {
	var tooLarge *iproto.FrameTooLargeError
	switch {
	case errors.Is(err, io.EOF):
		c.close(errors.New("client closed the connection"))
	case errors.As(err, &tooLarge):
		c.rejectOversized(br, tooLarge)
	default:
		// A bad length prefix, a connection lost inside a frame, or the
		// connection closed under us: framing is gone either way.
		c.close(fmt.Errorf("reading frame: %w", err))
	}
}

// rejectOversized answers a frame over MaxFrame with an error, if its
// header comes along soon enough to be read, and closes the connection.
func (c *conn) rejectOversized(br *bufio.Reader, e *iproto.FrameTooLargeError) {
	_ = c.nc.SetReadDeadline(time.Now().Add(oversizeGrace))
	head, _ := br.Peek(int(min(e.Size, oversizePeek)))
	h, err := readHeader(head)
	if err != nil {
		c.close(e)
		return
	}
	c.send(iproto.EncodeError(h.sync, c.srv.cfg.SchemaVersion(), iproto.CodeProtocol,
		fmt.Sprintf("Request of %d bytes exceeds the limit of %d bytes", e.Size, e.Max)))
	c.lingerAfterFlush(br, int64(e.Size), e)
}

// lingerAfterFlush closes the connection after a last reply without losing
// it. Closing a socket with unread data in it makes the kernel send a
// reset, and a client that gets the reset before it has read the reply
// loses the reply ("Connection reset by peer"): so the writer half-closes
// once the reply is written, and the reader discards what the client still
// sends — at most limit bytes, for at most flushGrace — then closes.
func (c *conn) lingerAfterFlush(br *bufio.Reader, limit int64, reason error) {
	c.flushReason.Store(&reason)
	c.box.finish()
	deadline := time.Now().Add(flushGrace)
	_ = c.nc.SetReadDeadline(deadline)
	_, _ = io.CopyN(io.Discard, br, limit)
	// The client may have sent everything before the writer got to the
	// reply: closing now would drop the reply unwritten.
	wait := time.NewTimer(max(time.Until(deadline), 0))
	defer wait.Stop()
	select {
	case <-c.flushed:
	case <-c.done:
	case <-wait.C:
	}
	c.close(reason)
}

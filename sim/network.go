package sim

import (
	"errors"
	"fmt"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/auth"
	pnet "github.com/picogo/picogo/net"
	"github.com/picogo/picogo/net/iproto"
	"github.com/picogo/picogo/net/tcp"
	"github.com/picogo/picogo/proc"
)

// maxFrame bounds a frame, as the TCP transport will.
const maxFrame = 16 << 20

// unframe reads a frame's packet the way a socket reader does.
//
// The packet is a view of frame, not a copy: a frame is the sender's own
// bytes, never written again (TCP's reader likewise hands out a view of its
// buffer, and the daemon copies only what outlives the read).
func unframe(frame []byte) ([]byte, error) {
	size, packet, err := iproto.ReadUint(frame)
	switch {
	case err != nil:
		return nil, fmt.Errorf("frame length: %w", err)
	case size > maxFrame:
		return nil, &iproto.FrameTooLargeError{Size: size, Max: maxFrame}
	case uint64(len(packet)) < size:
		return nil, fmt.Errorf("frame of %d bytes holds %d", size, len(packet))
	case uint64(len(packet)) > size:
		return nil, fmt.Errorf("%d bytes after the frame", uint64(len(packet))-size)
	}
	return packet, nil
}

// The simulated network carries iproto frames between addresses with a
// latency drawn per message; it may drop, duplicate (and by latency,
// reorder) them, and links may be cut one way or both. A frame to a process
// that is down is refused quickly; one to a paused process waits until it
// resumes.
//
// Every request travels on a connection (conn): a session with one
// incarnation of a process, which the caller first dials and authenticates
// (greeting with a salt, AUTH with a chap-sha1 scramble, the instance's
// verdict) and which then carries requests as the user it logged in as.

var (
	// errTimeout is the transport's timeout: net/tcp's, for errors.Is
	// (runtime tells a node a timeout from a connection that failed).
	errTimeout error = timeoutError{}
	errRefused       = errors.New("connection refused")
)

// timeoutError reads "timeout" and is net/tcp's ErrTimeout.
type timeoutError struct{}

func (timeoutError) Error() string        { return "timeout" }
func (timeoutError) Is(target error) bool { return target == tcp.ErrTimeout }

// refusal is a login the instance refused: its error, as the AUTH reply
// carries it.
type refusal struct{ err *pnet.Error }

func (r refusal) Error() string { return r.err.Message }

// errorOf is how a caller sees a transport error: a refused login with the
// instance's code, anything else as a timeout (nothing is known of the
// request's fate).
func errorOf(err error) *api.Error {
	var r refusal
	if errors.As(err, &r) {
		return &api.Error{Code: r.err.Code, Message: r.err.Message}
	}
	return &api.Error{Code: api.CodeTimeout, Message: err.Error()}
}

// transport is an instance's pool of connections to the others (net/tcp's
// Pool): one per address, dialled on first use and again once it is lost,
// logged in as pico_service with the service password. Each incarnation
// has its own.
type transport struct {
	w     *World
	from  string
	conns map[string]*conn
}

func (t *transport) Roundtrip(to string, request []byte, timeout time.Duration, done func([]byte, error)) {
	t.w.call(t.from, to, func() *conn {
		c := t.conns[to]
		if c == nil || c.state == connLost {
			c = t.w.dial(t.from, to, proc.PicoService, t.w.servicePassword, tcp.DefaultDialTimeout)
			t.conns[to] = c
		}
		return c
	}, request, timeout, done)
}

// connState is where a connection is in its life.
type connState int

const (
	connDialling connState = iota // greeting and AUTH under way
	connReady                     // logged in: requests go
	connLost                      // refused, timed out, or reset by a restart
)

// conn is a connection from one endpoint to one process: once that process
// restarts, the connection is gone, and every call on it is refused. (Over
// TCP a restart resets the connection; a client cannot carry on a
// multi-step operation with the new process as if nothing happened, and
// must log in again.)
type conn struct {
	from, to string
	// user is who the connection logs in as; password is what the caller
	// believes is that user's password.
	user, password string
	// epoch is the incarnation of `to` that accepted the connection.
	epoch int
	state connState
	err   error // why it was lost
	// waiting are the calls made while it dials.
	waiting []func(error)
	// heldBack is how long the instance held its refusal back
	// (auth.Verdict.Delay).
	heldBack time.Duration
}

// whenReady runs fn once the connection is logged in (err nil) or lost.
func (c *conn) whenReady(fn func(err error)) {
	switch c.state {
	case connReady:
		fn(nil)
	case connLost:
		fn(c.err)
	default:
		c.waiting = append(c.waiting, fn)
	}
}

// settle ends the dialling: logged in (err nil) or not.
func (c *conn) settle(err error) {
	if c.state != connDialling {
		return
	}
	c.state, c.err = connReady, err
	if err != nil {
		c.state = connLost
	}
	waiting := c.waiting
	c.waiting = nil
	for _, fn := range waiting {
		fn(err)
	}
}

// lose marks the connection lost (the process it reached is gone).
func (c *conn) lose(err error) {
	if c.state == connDialling {
		c.settle(err)
		return
	}
	if c.state == connReady {
		c.state, c.err = connLost, err
	}
}

func (w *World) latency() int64 {
	return int64(between(w.netRng, w.params.NetLatencyMin, w.params.NetLatencyMax))
}

// linkUp reports whether frames from a reach b now.
func (w *World) linkUp(a, b string) bool { return !w.cut[[2]string{a, b}] }

// hop carries one message of a connection's handshake from a to b: after
// a latency, unless it is dropped or the link is cut (then the handshake
// times out). Handshake messages are never duplicated (TCP).
func (w *World) hop(a, b string, arrive func()) {
	if w.faulty() && w.netRng.Float64() < w.params.Drop {
		return
	}
	w.sched.after(w.latency(), func() {
		if w.linkUp(a, b) {
			arrive()
		}
	})
}

// atCaller runs fn where the caller of a connection reads its socket: an
// instance reads it only while running (and, paused, once it resumes).
func (w *World) atCaller(from string, fn func()) {
	src := w.byAddr[from]
	if src == nil {
		fn()
		return
	}
	alive := src.epochGuard()
	src.post(func() {
		if alive.ok() {
			fn()
			w.afterEvent(src)
		}
	})
}

// dial opens a connection from `from` to the process at `to` and logs in
// as user with password: the process greets it with a salt drawn from the
// world's randomness, the caller answers with user and scramble, the
// process checks them by its login rules (runtime.Host.Login) and answers —
// at once when they are right, after the verdict's delay when not. The
// whole exchange must end within timeout.
func (w *World) dial(from, to, user, password string, timeout time.Duration) *conn {
	c := &conn{from: from, to: to, user: user, password: password}
	w.sched.after(int64(timeout), func() { c.settle(errTimeout) })
	reset := func() { w.sched.after(w.latency(), func() { w.atCaller(from, func() { c.settle(errRefused) }) }) }
	w.hop(from, to, func() {
		dst := w.byAddr[to]
		if dst == nil || !dst.up() {
			reset()
			return
		}
		c.epoch = dst.epoch
		alive := dst.epochGuard()
		dst.post(func() {
			if !alive.ok() {
				reset()
				return
			}
			salt := w.salt()
			w.hop(to, from, func() {
				w.atCaller(from, func() {
					scramble := iproto.Scramble(salt, password)
					w.hop(from, to, func() {
						if !alive.ok() {
							reset()
							return
						}
						dst.post(func() {
							if !alive.ok() {
								reset()
								return
							}
							a := auth.Attempt{User: user, Address: from, Proof: auth.ChapSha1{Salt: salt, Scramble: scramble}}
							v := dst.host.Login(a)
							c.heldBack = v.Delay
							w.checkLogin(dst, c, v)
							w.afterEvent(dst)
							answer := func() {
								if !alive.ok() {
									reset()
									return
								}
								w.hop(to, from, func() {
									w.atCaller(from, func() {
										if v.Err != nil {
											c.settle(refusal{v.Err})
											return
										}
										c.settle(nil)
									})
								})
							}
							if v.Err == nil {
								answer()
								return
							}
							// Held back off the event loop: the process
							// goes on meanwhile.
							w.sched.after(int64(v.Delay), answer)
						})
					})
				})
			})
		})
	})
	return c
}

// salt is a greeting's salt (Tarantool's: 32 bytes, of which chap-sha1
// uses 20).
func (w *World) salt() []byte {
	s := make([]byte, 32)
	for i := 0; i < len(s); i += 8 {
		v := w.authRng.Uint64()
		for j := range 8 {
			s[i+j] = byte(v >> (8 * j))
		}
	}
	return s
}

// call sends a request frame from `from` to `to` on the connection open
// gives (dialling one if need be) and brings the response back to done,
// exactly once: the response, a refusal, or a timeout.
func (w *World) call(from, to string, open func() *conn, request []byte, timeout time.Duration, done func([]byte, error)) {
	settled := false
	settle := func(resp []byte, err error) {
		if !settled {
			settled = true
			done(resp, err)
		}
	}
	w.sched.after(int64(timeout), func() { settle(nil, errTimeout) })
	if w.noDial[[2]string{from, to}] {
		w.sched.after(w.latency(), func() { settle(nil, errRefused) })
		return
	}
	c := open()
	c.whenReady(func(err error) {
		switch {
		case settled:
		case err != nil:
			settle(nil, err)
		default:
			w.send(c, request, settle)
		}
	})
}

// send carries a request on a logged-in connection.
func (w *World) send(on *conn, request []byte, settle func([]byte, error)) {
	from, to := on.from, on.to
	copies := 1
	if w.faulty() {
		switch {
		case w.netRng.Float64() < w.params.Drop:
			copies = 0
		case w.byAddr[from] != nil && w.netRng.Float64() < w.params.Duplicate:
			// Instances' messages may arrive twice (Raft must not care).
			// A client's request never does: over TCP that would be a
			// blind retry, whose outcome no client could know.
			copies = 2
		}
	}
	for range copies {
		w.sched.after(w.latency(), func() {
			if !w.linkUp(from, to) {
				return
			}
			dst := w.byAddr[to]
			if dst == nil || !dst.up() || on.epoch != dst.epoch {
				w.sched.after(w.latency(), func() {
					on.lose(errRefused)
					settle(nil, errRefused)
				})
				return
			}
			alive := dst.epochGuard()
			dst.post(func() {
				if !alive.ok() {
					return
				}
				packet, err := unframe(request)
				if err != nil {
					w.fail(fmt.Errorf("%s sent %s a broken frame: %v", from, to, err))
					return
				}
				dst.host.Handle(on.user, packet, func(resp []byte) {
					w.respond(to, from, resp, settle)
				})
				w.afterEvent(dst)
			})
		})
	}
}

// respond carries a response frame back; the caller gets the packet.
func (w *World) respond(from, to string, frame []byte, settle func([]byte, error)) {
	if w.faulty() && w.netRng.Float64() < w.params.Drop {
		return
	}
	resp, err := unframe(frame)
	if err != nil {
		w.fail(fmt.Errorf("%s answered %s with a broken frame: %v", from, to, err))
		return
	}
	w.sched.after(w.latency(), func() {
		if !w.linkUp(from, to) {
			return
		}
		src := w.byAddr[to]
		if src != nil {
			// The caller is an instance: it must still be the process that
			// asked, and a paused one reads its socket later.
			alive := src.epochGuard()
			src.post(func() {
				if alive.ok() {
					settle(resp, nil)
					w.afterEvent(src)
				}
			})
			return
		}
		settle(resp, nil)
	})
}

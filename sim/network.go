package sim

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/picogo/picogo/net/iproto"
)

// maxFrame bounds a frame, as the TCP transport will.
const maxFrame = 16 << 20

// unframe reads a frame's packet the way a socket reader does.
func unframe(frame []byte) ([]byte, error) {
	r := bytes.NewReader(frame)
	packet, err := iproto.ReadFrame(r, maxFrame)
	if err == nil && r.Len() != 0 {
		err = fmt.Errorf("%d bytes after the frame", r.Len())
	}
	return packet, err
}

// The simulated network carries iproto frames between addresses with a
// latency drawn per message; it may drop, duplicate (and by latency,
// reorder) them, and links may be cut one way or both. A frame to a process
// that is down is refused quickly; one to a paused process waits until it
// resumes.

var (
	errTimeout = errors.New("timeout")
	errRefused = errors.New("connection refused")
)

// transport is one endpoint's view of the network: requests from `from`,
// authenticated as user.
type transport struct {
	w     *World
	from  string
	user  string
	epoch func() bool // nil for clients, which never crash
}

func (t *transport) Roundtrip(to string, request []byte, timeout time.Duration, done func([]byte, error)) {
	t.w.roundtrip(t.from, to, t.user, request, timeout, nil, done)
}

// conn is a client's connection to one process: once that process restarts,
// the connection is gone, and every call on it is refused. (Over TCP a
// restart resets the connection; a client cannot carry on a multi-step
// operation with the new process as if nothing happened.)
type conn struct {
	to    string
	epoch int
}

func (w *World) latency() int64 {
	return int64(between(w.netRng, w.params.NetLatencyMin, w.params.NetLatencyMax))
}

// linkUp reports whether frames from a reach b now.
func (w *World) linkUp(a, b string) bool { return !w.cut[[2]string{a, b}] }

// roundtrip sends a request frame and brings the response back to done,
// exactly once: the response, a refusal, or a timeout.
func (w *World) roundtrip(from, to, user string, request []byte, timeout time.Duration, on *conn, done func([]byte, error)) {
	settled := false
	settle := func(resp []byte, err error) {
		if !settled {
			settled = true
			done(resp, err)
		}
	}
	w.sched.after(int64(timeout), func() { settle(nil, errTimeout) })
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
	if w.noDial[[2]string{from, to}] {
		w.sched.after(w.latency(), func() { settle(nil, errRefused) })
		return
	}
	for range copies {
		w.sched.after(w.latency(), func() {
			if !w.linkUp(from, to) {
				return
			}
			dst := w.byAddr[to]
			if dst == nil || !dst.up() || (on != nil && on.epoch != dst.epoch) {
				w.sched.after(w.latency(), func() { settle(nil, errRefused) })
				return
			}
			alive := dst.epochGuard()
			dst.post(func() {
				if !alive() {
					return
				}
				packet, err := unframe(request)
				if err != nil {
					w.fail(fmt.Errorf("%s sent %s a broken frame: %v", from, to, err))
					return
				}
				dst.host.Handle(user, packet, func(resp []byte) {
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
				if alive() {
					settle(resp, nil)
					w.afterEvent(src)
				}
			})
			return
		}
		settle(resp, nil)
	})
}

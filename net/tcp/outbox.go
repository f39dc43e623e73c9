package tcp

import (
	"io"
	"sync"
	"sync/atomic"
)

// outbox is a server connection's replies on their way to the socket:
// frames appended back to back in one buffer, taken whole and written
// with one system call. Whoever replies appends (put) and never waits.
//
// While the reader works through requests it already has (hold), replies
// wait for it to run out of them (release) instead of waking the writer
// each: the replies to a burst of pipelined requests leave together. When
// the reader runs out, it writes them itself if the socket takes them at
// once (a non-blocking write): no wake-up of the writer goroutine, whose
// work is left to what the socket does not take and to replies made
// elsewhere (on the event loop).
type outbox struct {
	limit int           // frames that may wait; put refuses more
	wake  chan struct{} // capacity 1: the writer may have something to take
	held  atomic.Bool   // the reader has more requests buffered: it releases

	mu        sync.Mutex
	buf       []byte // frames not yet taken, back to back
	frames    int    // how many (a partly written one counts)
	writing   bool   // taken and being written, by the writer or the reader
	finishing bool   // the writer stops after writing buf; put drops

	spare []byte // the reader's empty buffer for the next batch
}

// maxSpare is the largest buffer kept for the next batch (a burst of big
// replies should not pin its memory for good).
const maxSpare = 1 << 20

func newOutbox(limit int, first []byte) *outbox {
	o := &outbox{limit: limit, wake: make(chan struct{}, 1), buf: append([]byte(nil), first...), frames: 1}
	o.wake <- struct{}{}
	return o
}

// put queues frame (copied). It returns false, queueing nothing, if limit
// frames wait already (the client does not read its replies). After finish
// it drops frame.
func (o *outbox) put(frame []byte) bool {
	o.mu.Lock()
	if o.finishing {
		o.mu.Unlock()
		return true
	}
	if o.frames >= o.limit {
		o.mu.Unlock()
		return false
	}
	o.buf = append(o.buf, frame...)
	o.frames++
	first := o.frames == 1
	o.mu.Unlock()
	// Held: release sees the frame. Checked after the append, as release
	// looks at frames after clearing held: one of the two sees the other.
	if first && !o.held.Load() {
		o.signal()
	}
	return true
}

func (o *outbox) signal() {
	select {
	case o.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// hold defers the writing of replies until release (the reader's
// goroutine only).
func (o *outbox) hold() { o.held.Store(true) }

// release lets the waiting replies go (the reader's goroutine only, before
// it waits for the client): it writes them with writeNow, which writes
// what the socket takes without waiting and says how much, unless a write
// is under way; the writer gets the rest. writeNow nil: the writer writes
// everything.
func (o *outbox) release(writeNow func([]byte) int) {
	o.held.Store(false)
	o.mu.Lock()
	if o.frames == 0 {
		o.mu.Unlock()
		return
	}
	if o.writing || o.finishing || writeNow == nil {
		o.mu.Unlock()
		o.signal()
		return
	}
	b := o.buf
	o.buf, o.frames, o.writing = o.spare[:0], 0, true
	o.mu.Unlock()

	n := max(writeNow(b), 0)

	o.mu.Lock()
	o.writing = false
	if n < len(b) {
		// What the socket did not take goes first, before what was put
		// meanwhile.
		rest := append(b[:copy(b, b[n:])], o.buf...)
		o.spare, o.buf = o.buf[:0], rest
		o.frames++
	} else {
		o.spare = b[:0]
	}
	if cap(o.spare) > maxSpare {
		o.spare = nil
	}
	waiting := o.frames > 0
	o.mu.Unlock()
	if waiting {
		o.signal()
	}
}

// finish makes the writer stop once it has written what is queued.
func (o *outbox) finish() {
	o.mu.Lock()
	o.finishing = true
	o.mu.Unlock()
	o.signal()
}

// writeTo is the writer: woken, it takes what waits and writes it (with
// one Write, which may block), until done is closed or a write fails;
// after finish it writes the last batch and returns errFlushed. The
// caller closes the connection.
func (o *outbox) writeTo(w io.Writer, done <-chan struct{}) error {
	var spare []byte
	for {
		select {
		case <-done:
			return nil
		case <-o.wake:
		}
		o.mu.Lock()
		if o.writing || (o.frames == 0 && !o.finishing) {
			// The reader is writing (it signals after, if need be), or
			// it wrote everything.
			o.mu.Unlock()
			continue
		}
		b, last := o.buf, o.finishing
		o.buf, o.frames, o.writing = spare[:0], 0, true
		o.mu.Unlock()
		if len(b) > 0 {
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		if last {
			return errFlushed
		}
		o.mu.Lock()
		o.writing = false
		waiting := o.frames > 0
		o.mu.Unlock()
		if waiting {
			o.signal() // put while writing may have left it to us
		}
		if spare = b; cap(spare) > maxSpare {
			spare = nil
		}
	}
}

package tcp

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sink records what is written to it and fails the test if two writes
// overlap (the writer and the reader's writeNow must take turns).
type sink struct {
	t       *testing.T
	busy    atomic.Bool
	mu      sync.Mutex
	buf     bytes.Buffer
	writes  int
	partial func(n int) int // how much of n bytes writeNow takes (nil: all)
	delay   time.Duration   // each writer Write takes this long
}

func (s *sink) enter() {
	if !s.busy.CompareAndSwap(false, true) {
		s.t.Error("two writes at once")
	}
}

func (s *sink) Write(b []byte) (int, error) {
	s.enter()
	defer s.busy.Store(false)
	time.Sleep(s.delay)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	return s.buf.Write(b)
}

func (s *sink) writeNow(b []byte) int {
	s.enter()
	defer s.busy.Store(false)
	n := len(b)
	if s.partial != nil {
		n = s.partial(n)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	s.buf.Write(b[:n])
	return n
}

func (s *sink) bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.buf.Bytes())
}

// testFrame is a frame naming its source and sequence number, of a
// length that varies with them: 4 bytes of length, then the text.
func testFrame(src, seq int) []byte {
	text := fmt.Sprintf("%d:%d:%s", src, seq, bytes.Repeat([]byte{'x'}, (src*7+seq)%50))
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(text))), text...)
}

// frames splits what a sink got into its frames.
func frames(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(b) > 0 {
		require.GreaterOrEqual(t, len(b), 4, "a frame cut short")
		n := int(binary.BigEndian.Uint32(b))
		require.GreaterOrEqual(t, len(b), 4+n, "a frame cut short")
		out = append(out, b[:4+n])
		b = b[4+n:]
	}
	return out
}

// taken empties o as the writer's taking it would.
func taken(o *outbox) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf, o.frames = nil, 0
}

func startWriter(o *outbox, w *sink) (done chan struct{}, result chan error) {
	done, result = make(chan struct{}), make(chan error, 1)
	go func() { result <- o.writeTo(w, done) }()
	return done, result
}

// TestOutboxOrderAndIntact: frames put from several goroutines, while the
// reader holds, releases and writes what the socket takes at once (a part
// of it, at random), all arrive intact, each goroutine's in its order,
// the reader's too, and never two writes at once.
func TestOutboxOrderAndIntact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var rngMu sync.Mutex
	w := &sink{t: t, delay: 50 * time.Microsecond, partial: func(n int) int {
		rngMu.Lock()
		defer rngMu.Unlock()
		return rng.IntN(n + 1)
	}}
	o := newOutbox(1<<20, testFrame(0, 0))
	done, result := startWriter(o, w)
	const sources, each = 4, 500
	var wg sync.WaitGroup
	for src := 1; src <= sources; src++ {
		wg.Go(func() {
			for seq := range each {
				require.True(t, o.put(testFrame(src, seq)))
			}
		})
	}
	wg.Go(func() { // the reader: bursts held, then released
		seq := 0
		for seq < each {
			o.hold()
			for range 1 + seq%7 {
				if seq < each {
					require.True(t, o.put(testFrame(sources+1, seq)))
					seq++
				}
			}
			o.release(w.writeNow)
		}
	})
	wg.Wait()
	o.release(w.writeNow)
	want := 1 + (sources+1)*each
	// Written up to a frame's end, the rest of which the writer may still
	// be writing.
	size := 0
	for f := range want {
		if f == 0 {
			size += len(testFrame(0, 0))
			continue
		}
		size += len(testFrame((f-1)/each+1, (f-1)%each))
	}
	require.Eventually(t, func() bool { return len(w.bytes()) == size }, 5*time.Second, time.Millisecond)
	close(done)
	require.NoError(t, <-result)

	next := map[int]int{}
	for _, f := range frames(t, w.bytes()) {
		var src, seq int
		_, err := fmt.Sscanf(string(f[4:]), "%d:%d:", &src, &seq)
		require.NoError(t, err)
		require.Equal(t, testFrame(src, seq), f, "intact")
		require.Equal(t, next[src], seq, "source %d in order", src)
		next[src]++
	}
}

// TestOutboxHoldBatches: replies put while held are not written until
// release, which writes them all with one write, on the caller's
// goroutine.
func TestOutboxHoldBatches(t *testing.T) {
	w := &sink{t: t}
	o := newOutbox(100, testFrame(0, 0))
	done, result := startWriter(o, w)
	require.Eventually(t, func() bool { return len(w.bytes()) > 0 }, time.Second, time.Millisecond, "the greeting")
	o.hold()
	var want []byte
	for seq := range 10 {
		require.True(t, o.put(testFrame(1, seq)))
		want = append(want, testFrame(1, seq)...)
	}
	time.Sleep(20 * time.Millisecond)
	assert.Equal(t, 1, w.writes, "held: nothing written but the greeting")
	o.release(w.writeNow)
	assert.Equal(t, 2, w.writes, "one write for the ten")
	assert.Equal(t, append(testFrame(0, 0), want...), w.bytes())
	close(done)
	require.NoError(t, <-result)
}

// TestOutboxWriterTakesWhatTheSocketLeft: what writeNow does not take is
// written by the writer, before what was put meanwhile and after.
func TestOutboxWriterTakesWhatTheSocketLeft(t *testing.T) {
	o := newOutbox(100, nil)
	w := &sink{t: t, partial: func(n int) int {
		require.True(t, o.put(testFrame(2, 0))) // another goroutine's, while the socket is written
		return 3
	}}
	taken(o) // no greeting here
	done, result := startWriter(o, w)
	o.hold()
	require.True(t, o.put(testFrame(1, 0)))
	require.True(t, o.put(testFrame(1, 1)))
	o.release(w.writeNow)
	require.True(t, o.put(testFrame(1, 2)))
	want := slices.Concat(testFrame(1, 0), testFrame(1, 1), testFrame(2, 0), testFrame(1, 2))
	require.Eventually(t, func() bool { return bytes.Equal(w.bytes(), want) }, time.Second, time.Millisecond)
	close(done)
	require.NoError(t, <-result)
}

// TestOutboxLimit: a client that lets limit frames pile up is refused the
// next (the connection closes it); what the writer took no longer counts.
func TestOutboxLimit(t *testing.T) {
	o := newOutbox(3, testFrame(0, 0))
	require.True(t, o.put(testFrame(1, 0)))
	require.True(t, o.put(testFrame(1, 1)))
	require.False(t, o.put(testFrame(1, 2)), "greeting and two: full")
	taken(o)
	require.True(t, o.put(testFrame(1, 2)))
}

// TestOutboxFinish: the writer writes what is queued, then stops; frames
// put after finish are dropped.
func TestOutboxFinish(t *testing.T) {
	w := &sink{t: t}
	o := newOutbox(100, testFrame(0, 0))
	require.True(t, o.put(testFrame(1, 0)))
	o.finish()
	require.True(t, o.put(testFrame(1, 1)), "dropped, not refused")
	_, result := startWriter(o, w)
	require.ErrorIs(t, <-result, errFlushed)
	assert.Equal(t, append(testFrame(0, 0), testFrame(1, 0)...), w.bytes())
}

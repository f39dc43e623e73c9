package pebble_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/disk"
	"github.com/picogo/picogo/disk/disktest"
	"github.com/picogo/picogo/disk/pebble"
	"github.com/picogo/picogo/disk/simdisk"
)

func open(t *testing.T, dir string) *pebble.Store {
	t.Helper()
	s, err := pebble.Open(dir, pebble.Options{})
	require.NoError(t, err)
	return s
}

func TestConformance(t *testing.T) {
	disktest.Run(t, func(t *testing.T) disk.Store { return open(t, t.TempDir()) })
}

func TestConformanceReopen(t *testing.T) {
	var mu sync.Mutex
	dirs := map[disk.Store]string{}
	disktest.RunReopen(t,
		func(t *testing.T) disk.Store {
			dir := t.TempDir()
			s := open(t, dir)
			mu.Lock()
			dirs[s] = dir
			mu.Unlock()
			return s
		},
		func(t *testing.T, s disk.Store) disk.Store {
			mu.Lock()
			dir := dirs[s]
			mu.Unlock()
			require.NotEmpty(t, dir)
			require.NoError(t, s.Close())
			return open(t, dir)
		})
}

func commit(t *testing.T, s disk.Store, sync bool, fill func(b *disk.Batch)) {
	t.Helper()
	var b disk.Batch
	fill(&b)
	require.NoError(t, s.Commit(&b, sync))
}

func dump(t *testing.T, s disk.Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, s.Scan(nil, nil, func(k, v []byte) bool {
		out[string(k)] = string(v)
		return true
	}))
	return out
}

// A directory that does not exist is created; a path that is a file is an
// error, not a panic.
func TestOpenCreatesDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	s := open(t, dir)
	require.NoError(t, s.Close())
	require.DirExists(t, dir)

	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o600))
	_, err := pebble.Open(file, pebble.Options{})
	require.Error(t, err)
}

// The database directory is locked: a second Open of it fails while the
// first store is open, and works once it is closed.
func TestOpenTwiceFails(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	_, err := pebble.Open(dir, pebble.Options{})
	require.Error(t, err)
	require.NoError(t, s.Close())
	s = open(t, dir)
	require.NoError(t, s.Close())
}

type recordingLogger struct {
	mu    sync.Mutex
	infos []string
}

func (l *recordingLogger) Infof(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.infos = append(l.infos, fmt.Sprintf(format, args...))
}
func (l *recordingLogger) Errorf(format string, args ...any) { l.Infof(format, args...) }
func (l *recordingLogger) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

// Pebble's messages (here: its WAL recovery on Open) go to Options.Logger.
func TestLogger(t *testing.T) {
	l := &recordingLogger{}
	s, err := pebble.Open(t.TempDir(), pebble.Options{Logger: l, CacheSize: 1 << 20})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	l.mu.Lock()
	defer l.mu.Unlock()
	require.NotEmpty(t, l.infos)
}

func TestDurableAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	want := map[string]string{}
	for i := range 100 {
		k := fmt.Sprintf("log/%04d", i)
		commit(t, s, true, func(b *disk.Batch) {
			b.Set([]byte(k), []byte(strconv.Itoa(i)))
			b.Set([]byte("hard"), []byte(strconv.Itoa(i)))
		})
		want[k] = strconv.Itoa(i)
	}
	want["hard"] = "99"
	// Truncate the log's tail with an unbounded range, and a key that sorts
	// after every log key, then remove it again.
	commit(t, s, true, func(b *disk.Batch) {
		b.Set([]byte("\xff\xff\xff"), []byte("max"))
		b.DeleteRange([]byte("log/0090"), nil)
	})
	for i := 90; i < 100; i++ {
		delete(want, fmt.Sprintf("log/%04d", i))
	}
	require.NoError(t, s.Commit(&disk.Batch{}, true))
	require.NoError(t, s.Close())

	s = open(t, dir)
	defer s.Close()
	require.Equal(t, want, dump(t, s))
	commit(t, s, true, func(b *disk.Batch) { b.DeleteRange(nil, nil) })
	require.Empty(t, dump(t, s))
}

// Keys over a small alphabet rich in 0x00 and 0xff, random batches of every
// operation with bounded, unbounded and empty ranges: Pebble and the
// simulator's disk must agree after every batch and after a reopen.
func TestAgainstSimdisk(t *testing.T) {
	dir := t.TempDir()
	ps := open(t, dir)
	ref := simdisk.New(simdisk.Options{})
	r := rand.New(rand.NewPCG(7, 8))
	alphabet := []byte{0x00, 0x01, 'a', 0x7f, 0x80, 0xfe, 0xff}
	key := func() []byte {
		k := make([]byte, r.IntN(4))
		for i := range k {
			k[i] = alphabet[r.IntN(len(alphabet))]
		}
		if len(k) == 0 && r.IntN(2) == 0 {
			return nil
		}
		return k
	}
	for round := range 300 {
		var b disk.Batch
		for range 1 + r.IntN(8) {
			switch p := r.IntN(100); {
			case p < 60:
				b.Set(key(), []byte(fmt.Sprint(round)))
			case p < 80:
				b.Delete(key())
			case p < 90:
				b.DeleteRange(key(), key())
			default:
				b.DeleteRange(key(), nil)
			}
		}
		sync := r.IntN(3) == 0
		require.NoError(t, ref.Commit(&b, sync))
		require.NoError(t, ps.Commit(&b, sync))
		require.Equal(t, dump(t, ref), dump(t, ps), "round %d", round)
		lo, hi := key(), key()
		var want, got []string
		require.NoError(t, ref.Scan(lo, hi, func(k, _ []byte) bool { want = append(want, string(k)); return true }))
		require.NoError(t, ps.Scan(lo, hi, func(k, _ []byte) bool { got = append(got, string(k)); return true }))
		require.Equal(t, want, got, "Scan(%q, %q) in round %d", lo, hi, round)
	}
	require.NoError(t, ps.Close())
	ps = open(t, dir)
	defer ps.Close()
	require.Equal(t, dump(t, ref), dump(t, ps))
}

// A Scan whose callback commits goes on from the key after the last one it
// passed, as the store now stands, exactly as simdisk's does.
func TestScanCallbackCommits(t *testing.T) {
	run := func(s disk.Store) []string {
		var b disk.Batch
		for _, k := range []string{"a", "c", "e", "g", "i"} {
			b.Set([]byte(k), []byte(k))
		}
		require.NoError(t, s.Commit(&b, false))
		var seen []string
		require.NoError(t, s.Scan(nil, []byte("z"), func(k, v []byte) bool {
			seen = append(seen, string(k)+"="+string(v))
			var b disk.Batch
			switch string(k) {
			case "a":
				b.Set([]byte("b"), []byte("new")) // ahead: seen
				b.Set([]byte("0"), []byte("new")) // behind: not seen
				b.Delete([]byte("e"))             // ahead: not seen
			case "c":
				b.Set([]byte("c"), []byte("over")) // itself: not seen again
				b.DeleteRange([]byte("f"), nil)    // the rest
				b.Set([]byte("h"), []byte("back")) // after the range: seen
			}
			require.NoError(t, s.Commit(&b, false))
			return true
		}))
		return seen
	}
	ps := open(t, t.TempDir())
	defer ps.Close()
	want := run(simdisk.New(simdisk.Options{}))
	require.Equal(t, []string{"a=a", "b=new", "c=c", "h=back"}, want)
	require.Equal(t, want, run(ps))
}

func TestErrorsAfterClose(t *testing.T) {
	s := open(t, t.TempDir())
	commit(t, s, true, func(b *disk.Batch) { b.Set([]byte("a"), []byte("1")) })
	require.NoError(t, s.Close())
	_, _, err := s.Get([]byte("a"))
	require.ErrorIs(t, err, pebble.ErrClosed)
	require.ErrorIs(t, s.Scan(nil, nil, func(_, _ []byte) bool { return true }), pebble.ErrClosed)
	require.ErrorIs(t, s.Commit(&disk.Batch{}, true), pebble.ErrClosed)
	require.ErrorIs(t, s.Commit(nil, false), pebble.ErrClosed)
	require.ErrorIs(t, s.Close(), pebble.ErrClosed)
}

// Readers run Get and Scan while one goroutine commits; each batch writes a
// group of keys, so a reader that sees a group's last key must see all of
// it. Then Close runs while the readers still read: they get ErrClosed,
// nothing panics, and the race detector has nothing to say.
func TestConcurrentReadsWhileCommitting(t *testing.T) {
	s := open(t, t.TempDir())
	const group = 5
	gk := func(i, j int) []byte { return fmt.Appendf(nil, "g/%05d/%d", i, j) }
	var committed atomic.Int64 // groups committed so far
	stop := make(chan struct{})
	var wg sync.WaitGroup

	wg.Go(func() { // the writer
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			var b disk.Batch
			for j := range group {
				b.Set(gk(i, j), []byte(strconv.Itoa(i)))
			}
			if i%10 == 9 { // churn: a range deleted and written again
				b.DeleteRange([]byte("tmp/"), nil)
				b.Set([]byte("tmp/x"), nil)
			}
			if err := s.Commit(&b, i%4 == 0); err != nil {
				assert.ErrorIs(t, err, pebble.ErrClosed)
				return
			}
			committed.Store(int64(i + 1))
		}
	})

	var reads atomic.Int64
	for seed := range 4 {
		wg.Go(func() { // readers
			r := rand.New(rand.NewPCG(uint64(seed), 0))
			lastCount := 0
			for {
				n := int(committed.Load())
				if n > 0 {
					i := r.IntN(n)
					for j := range group {
						v, ok, err := s.Get(gk(i, j))
						if errors.Is(err, pebble.ErrClosed) {
							return
						}
						if !assert.NoError(t, err) || !assert.True(t, ok, "group %d was committed", i) ||
							!assert.Equal(t, strconv.Itoa(i), string(v)) {
							return
						}
					}
				}
				count, ordered := 0, true
				var prev []byte
				err := s.Scan([]byte("g/"), []byte("g0"), func(k, v []byte) bool {
					ordered = assert.True(t, prev == nil || bytes.Compare(prev, k) < 0, "out of order: %q then %q", prev, k)
					prev = k
					count++
					return ordered
				})
				if errors.Is(err, pebble.ErrClosed) {
					return
				}
				if !ordered || !assert.NoError(t, err) ||
					!assert.GreaterOrEqual(t, count, n*group, "Scan misses committed groups") ||
					!assert.GreaterOrEqual(t, count, lastCount, "keys vanished") {
					return
				}
				lastCount = count
				reads.Add(1)
			}
		})
	}

	deadline := time.Now().Add(time.Minute)
	for (reads.Load() < 200 || committed.Load() < 200) && !t.Failed() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	require.NoError(t, s.Close())
	close(stop)
	wg.Wait()
	require.GreaterOrEqual(t, reads.Load(), int64(200))
	require.GreaterOrEqual(t, committed.Load(), int64(200))
}

// The crash tests re-run this test binary as a child that writes to the
// store in childDirEnv and dies without closing it.
const (
	childDirEnv  = "PICOGO_PEBBLE_CHILD_DIR"
	childModeEnv = "PICOGO_PEBBLE_CHILD_MODE"
)

// TestMain runs the child's work when the test binary is started as one.
func TestMain(m *testing.M) {
	if dir := os.Getenv(childDirEnv); dir != "" {
		os.Exit(child(dir, os.Getenv(childModeEnv)))
	}
	os.Exit(m.Run())
}

// pairBatch writes the pair p/i/a, p/i/b: atomicity means both or neither.
func pairBatch(prefix string, i int) *disk.Batch {
	var b disk.Batch
	b.Set(fmt.Appendf(nil, "%s/%06d/a", prefix, i), []byte(strconv.Itoa(i)))
	b.Set(fmt.Appendf(nil, "%s/%06d/b", prefix, i), []byte(strconv.Itoa(i)))
	return &b
}

// child writes to the store in dir and exits without closing it. In mode
// "exit" it writes 200 synced batches, then 50 unsynced ones followed by an
// empty synced batch (an fsync), then 50 unsynced ones, and exits. In mode
// "kill" it writes synced batches, interleaved with unsynced ones, for ever,
// and prints the index of each synced one once Commit has returned, until
// the parent kills it.
func child(dir, mode string) int {
	s, err := pebble.Open(dir, pebble.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	must := func(err error) {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	switch mode {
	case "exit":
		for i := range 200 {
			must(s.Commit(pairBatch("synced", i), true))
		}
		for i := range 50 {
			must(s.Commit(pairBatch("flushed", i), false))
		}
		must(s.Commit(&disk.Batch{}, true))
		for i := range 50 {
			must(s.Commit(pairBatch("unsynced", i), false))
		}
	case "kill":
		out := bufio.NewWriter(os.Stdout)
		for i := 0; ; i++ {
			must(s.Commit(pairBatch("unsynced", i), false))
			must(s.Commit(pairBatch("synced", i), true))
			fmt.Fprintln(out, i)
			must(out.Flush())
		}
	default:
		return 2
	}
	return 0 // no Close: the process just ends
}

func startChild(t *testing.T, dir, mode string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childDirEnv+"="+dir, childModeEnv+"="+mode)
	cmd.Stderr = os.Stderr
	return cmd
}

// checkPairs checks that, under prefix, batches 0..synced-1 are all there
// and that no batch is there by half. It returns how many batches are there.
func checkPairs(t *testing.T, s disk.Store, prefix string, synced int) int {
	t.Helper()
	got := map[int]int{}
	require.NoError(t, s.Scan([]byte(prefix+"/"), []byte(prefix+"0"), func(k, v []byte) bool {
		i, err := strconv.Atoi(string(k[len(prefix)+1 : len(prefix)+7]))
		require.NoError(t, err)
		require.Equal(t, strconv.Itoa(i), string(v))
		got[i]++
		return true
	}))
	for i, n := range got {
		require.Equal(t, 2, n, "%s batch %d is there by half", prefix, i)
	}
	for i := range synced {
		require.Contains(t, got, i, "%s batch %d was synced and is lost", prefix, i)
	}
	return len(got)
}

// The child exits without Close: every synced batch, and every batch before
// a synced one, is there when the store is opened again.
func TestCrashExitWithoutClose(t *testing.T) {
	dir := t.TempDir()
	cmd := startChild(t, dir, "exit")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Run(), "child: %s", &stderr)
	require.Empty(t, stderr.String(), "with a nil Logger, Pebble writes nothing to stderr")

	s := open(t, dir)
	defer s.Close()
	checkPairs(t, s, "synced", 200)
	checkPairs(t, s, "flushed", 50) // synced by the empty synced batch
	n := checkPairs(t, s, "unsynced", 0)
	t.Logf("%d of 50 unsynced batches survived", n)
}

// The child is killed with SIGKILL while it commits: every batch it reported
// synced is there, and no batch is there by half.
func TestCrashSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	cmd := startChild(t, dir, "kill")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	lines := bufio.NewScanner(stdout)
	reported := 0
	for reported < 300 && lines.Scan() {
		reported++
	}
	require.Equal(t, 300, reported, "child stopped early")
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	for lines.Scan() { // what it printed before it died was synced too
		i, err := strconv.Atoi(lines.Text())
		require.NoError(t, err)
		reported = i + 1
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	require.Equal(t, syscall.SIGKILL, exit.Sys().(syscall.WaitStatus).Signal())

	s := open(t, dir)
	defer s.Close()
	n := checkPairs(t, s, "synced", reported)
	require.LessOrEqual(t, n, reported+1, "at most the batch in flight is there unreported")
	checkPairs(t, s, "unsynced", reported) // each came before a synced one
	commit(t, s, true, func(b *disk.Batch) { b.Set([]byte("after"), []byte("crash")) })
}

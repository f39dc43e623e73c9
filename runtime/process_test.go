package runtime

import (
	"errors"
	"math/rand/v2"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picogo/picogo/core/node"
	"github.com/picogo/picogo/disk"
	"github.com/picogo/picogo/disk/pebble"
	"github.com/picogo/picogo/net/iproto"
	"github.com/picogo/picogo/proc"
	"github.com/stretchr/testify/require"
)

// loopback is the transport of a lone instance: its calls to itself come
// back in through its own loop, as over a socket to its own listener.
type loopback struct {
	self string
	p    atomic.Pointer[Process]
}

func (l *loopback) Roundtrip(to string, frame []byte, _ time.Duration, done func([]byte, error)) {
	p := l.p.Load()
	if to != l.self || p == nil {
		done(nil, errors.New("no route to "+to))
		return
	}
	p.Post(func() { p.Host().Handle(proc.PicoService, frame[5:], func(b []byte) { done(b[5:], nil) }) })
}

// failingStore fails every write once failing is set.
type failingStore struct {
	disk.Store
	failing atomic.Bool
}

func (s *failingStore) Commit(b *disk.Batch, sync bool) error {
	if s.failing.Load() {
		return errors.New("input/output error")
	}
	return s.Store.Commit(b, sync)
}

func startLone(t *testing.T, store disk.Store) (*Process, Started, *[]node.Effect) {
	t.Helper()
	lb := &loopback{self: "127.0.0.1:1"}
	var seen []node.Effect
	p, s, err := StartProcess(ProcessConfig{
		Store: store,
		Instance: Instance{ClusterID: "c", Self: node.Self{Address: lb.self}, Peers: []string{lb.self},
			Tick: 5 * time.Millisecond, Rand: rand.New(rand.NewPCG(1, 2)), Limits: ProductionLimits},
		Transport: lb,
		Observe:   func(e node.Effect) { seen = append(seen, e) },
	})
	require.NoError(t, err)
	lb.p.Store(p)
	return p, s, &seen
}

// onLoop runs fn on p's loop and waits for it.
func onLoop[T any](p *Process, fn func() T) T {
	res := make(chan T, 1)
	p.Post(func() { res <- fn() })
	return <-res
}

// call serves a CALL as admin through the process's loop and waits for the
// reply.
func call(t *testing.T, p *Process, name string) iproto.Response {
	t.Helper()
	res := make(chan []byte, 1)
	frame := iproto.EncodeCall(1, name, args(t))
	p.Post(func() { p.Host().Handle(proc.Admin, frame[5:], func(b []byte) { res <- b }) })
	select {
	case b := <-res:
		resp, err := iproto.DecodeResponse(b[5:])
		require.NoError(t, err)
		return resp
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no reply", name)
		return iproto.Response{}
	}
}

func waitRunning(t *testing.T, p *Process) {
	t.Helper()
	require.Eventually(t, func() bool {
		return onLoop(p, func() bool { return p.Host().Node().Status().Lead != 0 })
	}, 10*time.Second, 5*time.Millisecond, "the lone instance leads")
}

// TestTheProductionRuntimeInProcess runs production's runtime — start-up
// sequence, loop, disk writer, real-clock ticks — on Pebble in this test:
// a new instance boots a cluster and leads it, serves a call, stops; the
// same disk starts it again as the same instance.
func TestTheProductionRuntimeInProcess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	store, err := pebble.Open(dir, pebble.Options{})
	require.NoError(t, err)
	p, s, seen := startLone(t, store)
	require.Nil(t, s.Identity, "an empty disk is a new instance")
	waitRunning(t, p)
	resp := call(t, p, ".proc_raft_info")
	require.Nil(t, resp.Err)
	applied := onLoop(p, func() uint64 { return p.Host().Node().Status().Applied })
	require.Positive(t, applied)
	started := onLoop(p, func() bool {
		for _, e := range *seen {
			if _, ok := e.(node.Started); ok {
				return true
			}
		}
		return false
	})
	require.True(t, started, "the observer heard the instance start")
	p.Stop()
	require.NoError(t, store.Close())

	store, err = pebble.Open(dir, pebble.Options{})
	require.NoError(t, err)
	defer store.Close()
	p, s, _ = startLone(t, store)
	defer p.Stop()
	require.NotNil(t, s.Identity, "the disk says who the instance is")
	require.GreaterOrEqual(t, s.Disk.HardState.Commit, applied)
	waitRunning(t, p)
	require.Nil(t, call(t, p, ".proc_raft_info").Err)
}

// TestAFailedDiskWriteEndsTheProcess: a write the disk refuses fail-stops
// the instance: Exited says why, rather than the node waiting for ever.
func TestAFailedDiskWriteEndsTheProcess(t *testing.T) {
	inner, err := pebble.Open(filepath.Join(t.TempDir(), "db"), pebble.Options{})
	require.NoError(t, err)
	defer inner.Close()
	store := &failingStore{Store: inner}
	store.failing.Store(true)
	p, _, _ := startLone(t, store)
	defer p.Stop()
	select {
	case x := <-p.Exited():
		require.ErrorContains(t, x.FailStop, "input/output error")
	case <-time.After(10 * time.Second):
		t.Fatal("the process did not stop after a failed write")
	}
}

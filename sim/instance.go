package sim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/picogo/picogo/clock"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/node"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/disk"
	"github.com/picogo/picogo/disk/simdisk"
	"github.com/picogo/picogo/runtime"
)

// instance is one simulated process: a node driven by a runtime.Host, its disk,
// and its clock. A crash drops the process and every event scheduled for it;
// the disk stays (minus what was not synced).
type instance struct {
	w      *World
	id     uint64
	addr   string
	disk   *simdisk.Store
	host   *runtime.Host // nil while down
	epoch  int           // bumped by each crash: events of an older epoch are void
	paused bool
	// inbox is what waits for the process's loop (post); waking: the loop
	// is due to drain it, by drain (one closure per incarnation, not one
	// per wake).
	inbox  inbox
	waking bool
	drain  func()
	ticker *runtime.Ticker
	// tickEvery is this instance's tick period, skewed.
	tickEvery int64
	// writing is the disk write in flight on each stream, torn or lost if
	// a crash comes first.
	writing [node.Streams]*pendingWrite
	// incarnations counts starts, to seed each one differently.
	incarnations uint64
	// roles runs the process's roles (roles.go); nil while it is down.
	roles *roleRunner
	// terminated: the node stopped itself (expelled, cluster deleted).
	terminated bool
	// promised is the latest vote this instance granted: it must survive
	// any crash (a grant leaves only once the vote is durable).
	promised votePromise
	// raftID is the raft id the instance got (0 before it joined).
	raftID uint64
	// Where it runs and in which tier, fixed at first start.
	tier          string
	failureDomain map[string]string
	// late instances join the cluster during the fault phase.
	late bool
	// stopping: a graceful shutdown is under way. retired: stopped for
	// good by the operator (not expelled).
	stopping, retired bool
	// spec is what a scripted cluster started it with (zero in a seed's
	// world: the world's cluster id and peers).
	spec Spec
	// fatal is the error a scripted instance stopped with.
	fatal error
	// diskFails: every write fails from now on (sim.Member.FailDisk).
	diskFails bool
}

type votePromise struct{ term, candidate uint64 }

// errDiskFailed is the error of a disk whose writes fail (FailDisk).
var errDiskFailed = errors.New("input/output error (the simulator failed this disk)")

type pendingWrite struct {
	batch *disk.Batch
	sync  bool
}

func (in *instance) up() bool { return in.host != nil }

// cluster is the cluster id it was started with.
func (in *instance) cluster() string { return orDefault(in.spec.ClusterID, clusterID) }

func (in *instance) node() *node.Node {
	if in.host == nil {
		return nil
	}
	return in.host.Node()
}

// start runs the process from what its disk holds, through production's
// start-up sequence (runtime.Start).
func (in *instance) start() error {
	w := in.w
	if _, err := in.disk.Recover(); err != nil {
		return fmt.Errorf("i%d: disk recovery: %w", in.id, err)
	}
	in.incarnations++
	s, err := runtime.Start(in.disk, in.runtimeInstance(), nil)
	if err != nil && w.scripted {
		w.trace.printf("i%d refuses to start: %v", in.id, err)
		in.fatal, in.terminated = err, true
		return nil
	}
	if err != nil {
		if errors.As(err, new(*runtime.ExpelledError)) && in.w.expelledRow(in.raftID) {
			in.terminated = true
			w.trace.printf("i%d refuses to start: %v", in.id, err)
			return nil
		}
		return fmt.Errorf("i%d: start: %w", in.id, err)
	}
	if p, hs := in.promised, s.Disk.HardState; hs.Term < p.term || (hs.Term == p.term && hs.Vote != p.candidate) {
		return fmt.Errorf("durability: i%d granted its vote in term %d to i%d, but after a crash its disk holds term %d vote %d",
			in.id, p.term, p.candidate, hs.Term, hs.Vote)
	}
	if s.Identity != nil {
		in.raftID = s.Identity.RaftID
	}
	n := s.Node
	in.epoch++
	in.paused, in.waking, in.writing = false, false, [node.Streams]*pendingWrite{}
	in.inbox.reset()
	in.drain = in.drainer()
	in.host = runtime.NewHost(n, &transport{w: w, from: in.addr, conns: map[string]*conn{}},
		&writer{in: in}, in.observe)
	in.roles = newRoleRunner(in)
	in.host.SetRoleRunner(in.roles)
	w.trace.printf("i%d start (incarnation %d, %s, applied %d)", in.id, in.incarnations, n.Phase(), n.Status().Applied)
	in.ticker = runtime.StartTicker(in.clock(), w.params.Tick, func() {
		in.host.Tick()
		in.w.afterEvent(in)
	})
	return nil
}

// epochGuard is a check that the process is still the one that scheduled
// a callback. A value, not a closure: one is taken for most events, and
// their allocation was 4% of the simulator's.
func (in *instance) epochGuard() epochGuard { return epochGuard{in, in.epoch} }

type epochGuard struct {
	in    *instance
	epoch int
}

func (g epochGuard) ok() bool { return g.in.host != nil && g.in.epoch == g.epoch }

// crash stops the process at once: the write in flight reaches the disk
// unsynced at most, and the disk loses (maybe tears) what was not synced.
func (in *instance) crash(tear bool) {
	if in.host == nil {
		return
	}
	in.host.Stop()
	in.host = nil
	in.roles = nil // the process's roles die with it
	in.epoch++
	for _, p := range in.writing {
		if p != nil {
			_ = in.disk.Commit(p.batch, false)
		}
	}
	in.ticker.Stop()
	in.writing, in.waking, in.paused = [node.Streams]*pendingWrite{}, false, false
	in.inbox.reset()
	in.disk.Crash(in.w.diskRng, tear)
	how := ""
	if tear {
		how = " (a torn write)"
	}
	in.w.trace.printf("i%d crash%s", in.id, how)
}

func (in *instance) pause() {
	in.paused = true
	in.w.trace.printf("i%d pause", in.id)
}

func (in *instance) resume() {
	if !in.paused {
		return
	}
	in.paused = false
	in.w.trace.printf("i%d resume (%d events queued)", in.id, in.inbox.len())
	in.wake()
}

// post queues an event for the process's loop — a delivery, a disk
// completion, a timer — as the daemon's sockets, disk writer and clock post
// to its loop. A paused process queues and does not run.
func (in *instance) post(fn func()) {
	in.inbox.push(fn)
	in.wake()
}

// wake has the loop come around, LoopDelay from now, and drain the inbox
// (runtime.Host.Drain: production's batching policy): what arrives
// meanwhile goes in the same batch, as on a busy daemon.
func (in *instance) wake() {
	if in.waking || in.paused || in.host == nil || in.inbox.len() == 0 {
		return
	}
	in.waking = true
	in.w.sched.after(int64(in.w.params.LoopDelay), in.drain)
}

// drainer is the event wake schedules for this incarnation: void once the
// process crashed.
func (in *instance) drainer() func() {
	alive := in.epochGuard()
	next := func() (func(), bool) {
		if in.inbox.len() == 0 {
			return nil, false
		}
		return in.inbox.pop(), true
	}
	return func() {
		if !alive.ok() {
			return
		}
		in.waking = false
		if in.paused {
			return
		}
		in.host.Drain(in.inbox.pop(), next)
		in.wake()
	}
}

// inbox is a FIFO of a process's events whose backing array is reused
// once drained: posting is most of the simulator's events.
type inbox struct {
	fns  []func()
	head int
}

func (q *inbox) len() int { return len(q.fns) - q.head }

func (q *inbox) push(fn func()) { q.fns = append(q.fns, fn) }

func (q *inbox) pop() func() {
	fn := q.fns[q.head]
	q.fns[q.head] = nil
	q.head++
	if q.head == len(q.fns) {
		q.fns, q.head = q.fns[:0], 0
	}
	return fn
}

// reset drops what is queued (a crash, a new incarnation).
func (q *inbox) reset() {
	clear(q.fns)
	q.fns, q.head = q.fns[:0], 0
}

// clock is the process's clock (clock.Clock), in virtual time and skewed:
// its period passes in tickEvery of world time. Its callbacks are events
// on the process's loop.
func (in *instance) clock() clock.Clock { return &instanceClock{in: in, alive: in.epochGuard()} }

type instanceClock struct {
	in    *instance
	alive epochGuard
}

func (c *instanceClock) Now() time.Time {
	p := c.in.w.params
	return time.Unix(0, 0).Add(time.Duration(float64(c.in.w.sched.now) * float64(p.Tick) / float64(c.in.tickEvery)))
}

func (c *instanceClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	in := c.in
	t := &simTimer{}
	world := int64(math.Ceil(float64(d) * float64(in.tickEvery) / float64(in.w.params.Tick)))
	in.w.sched.after(world, func() {
		if t.stopped || !c.alive.ok() {
			return
		}
		t.fired = true
		in.post(func() {
			if c.alive.ok() {
				f()
			}
		})
	})
	return t
}

type simTimer struct{ stopped, fired bool }

func (t *simTimer) Stop() bool {
	was := !t.stopped && !t.fired
	t.stopped = true
	return was
}

// notePromises learns the votes granted among messages sent.
func (in *instance) notePromises(ms []raft.Message) {
	for _, m := range ms {
		if m.Type == raft.MsgVoteResp && !m.Reject && m.Term >= in.promised.term {
			in.promised = votePromise{term: m.Term, candidate: m.To}
		}
	}
}

// observe receives the node's effects: notes, fatal errors, termination —
// and the calls it makes, to learn what it promised.
func (in *instance) observe(e node.Effect) {
	switch e := e.(type) {
	case node.OutCall:
		if ri, ok := e.Request.(api.RaftInteract); ok {
			in.notePromises(ri.Messages)
		}
	case node.Reply:
		// Raft messages ride on `.proc_raft_interact`'s replies too.
		for _, v := range e.Values {
			if ms, ok := v.([]raft.Message); ok {
				in.notePromises(ms)
			}
		}
	case node.Note:
		in.w.trace.printf("i%d %s: %s", in.id, e.Event, e.Detail)
		in.w.observeNote(in, e.Event, e.Detail)
	case node.FailStop:
		if in.w.scripted {
			// A test may expect it (a refused join, a failed disk): the
			// process exits, as picogo run does.
			in.w.trace.printf("i%d fail-stop: %v", in.id, e.Err)
			in.fatal, in.terminated = e.Err, true
			in.crash(false)
			return
		}
		in.w.fail(fmt.Errorf("i%d fatal: %v", in.id, e.Err))
	case node.Alert:
		// Nothing in a simulated run may make an instance alert (a
		// follower's log reverted only if a disk lost what it promised).
		in.w.trace.printf("i%d alert: %v", in.id, e.Err)
		if !in.w.scripted {
			in.w.fail(fmt.Errorf("i%d fatal: %v", in.id, e.Err))
		}
	case node.Terminate:
		in.w.trace.printf("i%d terminate: %s", in.id, e.Reason)
		if e.Expelled || e.Delete {
			in.terminated = true
		}
		in.stopped()
	case node.Started:
		in.raftID = e.Identity.RaftID
		in.w.trace.printf("i%d is %s (raft id %d)", in.id, e.Identity.InstanceID, e.Identity.RaftID)
	}
}

// writer is the instance's disk with virtual latency: a write reaches the
// disk (synced as asked) after the latency, then the node hears it is done.
type writer struct{ in *instance }

func (wr *writer) Write(stream node.Stream, b *disk.Batch, sync bool, done func(error)) {
	in := wr.in
	w := in.w
	alive := in.epochGuard()
	if in.writing[stream] != nil {
		w.fail(fmt.Errorf("i%d wrote on the %s with a write in flight there: a stream has one at a time", in.id, stream))
		return
	}
	in.writing[stream] = &pendingWrite{batch: b, sync: sync}
	latency := int64(between(w.diskRng, w.params.DiskLatencyMin, w.params.DiskLatencyMax))
	if w.faulty() && w.faultRng.Float64() < w.params.CrashInWrite {
		// Power fails while this write is in flight.
		w.sched.after(w.faultRng.Int64N(latency+1), func() {
			if alive.ok() && w.faulty() {
				w.crashAndRestart(in)
			}
		})
	}
	w.sched.after(latency, func() {
		if !alive.ok() {
			return
		}
		in.writing[stream] = nil
		err := errDiskFailed
		if !in.diskFails {
			err = in.disk.Commit(b, sync)
		}
		// The completion is an event on the process's loop, as the
		// daemon's disk writer posts it.
		in.post(func() {
			if alive.ok() {
				done(err)
				w.afterEvent(in)
			}
		})
	})
}

func (p Params) tickOf(r *rand.Rand) int64 {
	skew := 1 + (r.Float64()*2-1)*p.Skew
	return int64(float64(p.Tick) * skew)
}

// livePeers are the --peer an operator gives an instance joining late: the
// members that joined and have not left for good (the founders if none
// has): a founder expelled meanwhile would leave it discovering for ever
// (seed 1117).
func (w *World) livePeers(self *instance) []string {
	var out []string
	for _, in := range w.instances {
		if in != self && in.raftID != 0 && !in.terminated && !in.retired {
			out = append(out, in.addr)
		}
	}
	if len(out) == 0 {
		return w.peers
	}
	return out
}

// runtimeInstance is what the instance's next start is: production's
// configuration (runtime.NodeConfig), with the world's limits and passwords.
func (in *instance) runtimeInstance() runtime.Instance {
	w := in.w
	admin, service := w.authOf()
	peers := w.peers
	if in.late {
		peers = w.livePeers(in)
	}
	if in.spec.Peers != nil {
		peers = in.spec.Peers
	}
	return runtime.Instance{
		ClusterID: in.cluster(),
		Self: node.Self{Address: in.addr, Tier: in.tier, FailureDomain: in.failureDomain,
			InstanceID: in.spec.InstanceID, ReplicasetID: in.spec.ReplicasetID},
		Peers:       peers,
		InitTiers:   w.params.Tiers,
		Roles:       simRoles,
		Tick:        w.params.Tick,
		Rand:        rand.New(rand.NewPCG(w.seed, in.id<<32|in.incarnations)),
		Clock:       in.clock().Now,
		Limits:      w.params.Limits,
		Mutants:     w.mutants,
		AdminAuth:   admin,
		ServiceAuth: service,
	}
}

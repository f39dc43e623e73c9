package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"

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
	// held are deliveries that arrived while paused; a paused process reads
	// its socket when it resumes.
	held []func()
	// tickEvery is this instance's tick period, skewed.
	tickEvery int64
	// writing is the disk write in flight, torn or lost if a crash comes
	// first.
	writing *pendingWrite
	// incarnations counts starts, to seed each one differently.
	incarnations uint64
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

// start runs the process from what its disk holds.
func (in *instance) start() error {
	w := in.w
	if _, err := in.disk.Recover(); err != nil {
		return fmt.Errorf("i%d: disk recovery: %w", in.id, err)
	}
	state, _, err := node.Load(in.disk)
	if err != nil {
		return fmt.Errorf("i%d: %w", in.id, err)
	}
	identity, found, err := node.LoadIdentity(in.disk)
	if err != nil {
		return fmt.Errorf("i%d: %w", in.id, err)
	}
	if p, hs := in.promised, state.HardState; hs.Term < p.term || (hs.Term == p.term && hs.Vote != p.candidate) {
		return fmt.Errorf("durability: i%d granted its vote in term %d to i%d, but after a crash its disk holds term %d vote %d",
			in.id, p.term, p.candidate, hs.Term, hs.Vote)
	}
	in.incarnations++
	cfg := in.nodeConfig()
	if in.spec.Peers != nil {
		cfg.Peers = in.spec.Peers
	}
	if found {
		cfg.Identity = &identity
		in.raftID = identity.RaftID
	}
	w.switchMutantsOn(&cfg)
	n, err := node.New(cfg, state)
	if err != nil && w.scripted {
		w.trace.printf("i%d refuses to start: %v", in.id, err)
		in.fatal, in.terminated = err, true
		return nil
	}
	if err != nil {
		if found && in.w.expelledRow(in.raftID) {
			in.terminated = true
			w.trace.printf("i%d refuses to start: %v", in.id, err)
			return nil
		}
		return fmt.Errorf("i%d: start: %w", in.id, err)
	}
	in.epoch++
	in.paused, in.held, in.writing = false, nil, nil
	in.host = runtime.NewHost(n, &transport{w: w, from: in.addr, conns: map[string]*conn{}},
		&writer{in: in}, in.observe)
	w.trace.printf("i%d start (incarnation %d, %s, applied %d)", in.id, in.incarnations, n.Phase(), n.Status().Applied)
	in.scheduleTick()
	return nil
}

// epochGuard returns a check that the process is still the one that
// scheduled a callback.
func (in *instance) epochGuard() func() bool {
	e := in.epoch
	return func() bool { return in.host != nil && in.epoch == e }
}

func (in *instance) scheduleTick() {
	alive := in.epochGuard()
	in.w.sched.after(in.tickEvery, func() {
		if !alive() {
			return
		}
		if !in.paused {
			in.host.Tick()
			in.w.afterEvent(in)
		}
		in.scheduleTick()
	})
}

// crash stops the process at once: the write in flight reaches the disk
// unsynced at most, and the disk loses (maybe tears) what was not synced.
func (in *instance) crash(tear bool) {
	if in.host == nil {
		return
	}
	in.host.Stop()
	in.host = nil
	in.epoch++
	if p := in.writing; p != nil {
		_ = in.disk.Commit(p.batch, false)
	}
	in.writing, in.held, in.paused = nil, nil, false
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
	in.w.trace.printf("i%d resume (%d deliveries held)", in.id, len(in.held))
	held := in.held
	in.held = nil
	if in.host == nil {
		return
	}
	// A process that was stopped finds its input queued and handles it in
	// one go, as the daemon's loop drains its queue: the Raft messages it
	// sends meanwhile leave merged, one call per peer (runtime.Host.Batch).
	in.host.Batch(func() {
		for _, d := range held {
			d()
		}
	})
}

// deliver runs a delivery now, or holds it while paused.
func (in *instance) deliver(fn func()) {
	if in.paused {
		in.held = append(in.held, fn)
		return
	}
	fn()
}

// observe receives the node's effects: notes, fatal errors, termination —
// and the calls it makes, to learn what it promised.
func (in *instance) observe(e node.Effect) {
	switch e := e.(type) {
	case node.OutCall:
		if ri, ok := e.Request.(node.RaftInteract); ok {
			for _, m := range ri.Messages {
				if m.Type == raft.MsgVoteResp && !m.Reject && m.Term >= in.promised.term {
					in.promised = votePromise{term: m.Term, candidate: m.To}
				}
			}
		}
	case node.Note:
		in.w.trace.printf("i%d %s: %s", in.id, e.Event, e.Detail)
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

func (wr *writer) Write(b *disk.Batch, sync bool, done func(error)) {
	in := wr.in
	w := in.w
	alive := in.epochGuard()
	in.writing = &pendingWrite{batch: b, sync: sync}
	latency := int64(between(w.diskRng, w.params.DiskLatencyMin, w.params.DiskLatencyMax))
	if w.faulty() && w.faultRng.Float64() < w.params.CrashInWrite {
		// Power fails while this write is in flight.
		w.sched.after(w.faultRng.Int64N(latency+1), func() {
			if alive() && w.faulty() {
				w.crashAndRestart(in)
			}
		})
	}
	w.sched.after(latency, func() {
		if !alive() {
			return
		}
		in.writing = nil
		if in.diskFails {
			done(errDiskFailed)
			w.afterEvent(in)
			return
		}
		if err := in.disk.Commit(b, sync); err != nil {
			done(err)
			return
		}
		done(nil)
		w.afterEvent(in)
	})
}

func (p Params) tickOf(r *rand.Rand) int64 {
	skew := 1 + (r.Float64()*2-1)*p.Skew
	return int64(float64(p.Tick) * skew)
}

// nodeConfig is the configuration of the instance's next start: production's
// (runtime.NodeConfig), with the world's limits and passwords.
func (in *instance) nodeConfig() node.Config {
	w := in.w
	admin, service := w.authOf()
	return runtime.NodeConfig(runtime.Instance{
		ClusterID: in.cluster(),
		Self: node.Self{Address: in.addr, Tier: in.tier, FailureDomain: in.failureDomain,
			InstanceID: in.spec.InstanceID, ReplicasetID: in.spec.ReplicasetID},
		Peers:       w.peers,
		InitTiers:   w.params.Tiers,
		Tick:        w.params.Tick,
		Rand:        rand.New(rand.NewPCG(w.seed, in.id<<32|in.incarnations)),
		Limits:      w.params.Limits,
		AdminAuth:   admin,
		ServiceAuth: service,
	})
}

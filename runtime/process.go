package runtime

import (
	"sync"
	"time"

	"github.com/picogo/picogo/clock/realclock"
	"github.com/picogo/picogo/core/node"
	"github.com/picogo/picogo/disk"
	"github.com/picogo/picogo/net"
)

// Process is one instance in production: a node, its event loop and its
// disk writer on goroutines, its ticks from the real clock. The loop is
// the only goroutine that touches the node; sockets, the disk writer and
// the clock post events to it, and it hands them to the node in batches
// (Drain) — the same Host, start-up sequence, batching and ticks as the
// simulator's instances. The driver (cmd/picogo) gives it a store, a
// transport and an observer, and serves its sockets through Post.
type Process struct {
	store    disk.Store
	host     *Host
	ticker   *Ticker
	events   chan func()
	writes   [node.Streams]chan diskWrite
	diskDone chan struct{} // closed when the disk writers stop
	quit     chan struct{} // asks the loop to stop
	done     chan struct{} // closed when the loop stops
	exit     chan Exit
	observe  func(node.Effect)
	written  func(b *disk.Batch, sync bool, took time.Duration)
}

// Exit is why a process stops by itself.
type Exit struct {
	// FailStop is why the instance cannot go on (node.FailStop), or nil.
	FailStop error
	// Terminate is the node's own stop (expelled, cluster deleted) when
	// FailStop is nil.
	Terminate node.Terminate
	// ExpelledAtStart: the instance was expelled before this start (the
	// cluster never took it back).
	ExpelledAtStart bool
}

// ProcessConfig is what a driver gives a Process.
type ProcessConfig struct {
	// Store is the instance's opened disk.
	Store    disk.Store
	Instance Instance
	// InitCluster reads the tiers (and roles) a new instance would boot
	// with (nil: those of Instance).
	InitCluster func() (InitCluster, error)
	// Transport carries calls to other instances; its callbacks may run on
	// any goroutine (the process posts them to its loop).
	Transport net.Transport
	// Observe sees, on the loop, the effects the driver reports (Note,
	// Alert, FailStop, Terminate, Started; see Host).
	Observe func(node.Effect)
	// Written, if set, hears of every disk write, on the writer's
	// goroutine (metrics).
	Written func(b *disk.Batch, sync bool, took time.Duration)
	// Roles runs the roles' code (nil: the binary has none): its done
	// callbacks must reach the loop through Post.
	Roles RoleRunner
}

type diskWrite struct {
	batch *disk.Batch
	sync  bool
	done  func(error)
}

// queueLength bounds the events waiting for the loop: a socket that posts
// to a full queue waits (backpressure on clients).
const queueLength = 4096

// StartProcess starts an instance: the start-up sequence (Start), then its
// loop, disk writer and ticks. Nothing runs on the node before it returns
// except on the loop.
func StartProcess(cfg ProcessConfig) (*Process, Started, error) {
	s, err := Start(cfg.Store, cfg.Instance, cfg.InitCluster)
	if err != nil {
		return nil, Started{}, err
	}
	p := &Process{store: cfg.Store, events: make(chan func(), queueLength),
		diskDone: make(chan struct{}), quit: make(chan struct{}), done: make(chan struct{}),
		exit: make(chan Exit, 1), observe: cfg.Observe, written: cfg.Written}
	for i := range p.writes {
		p.writes[i] = make(chan diskWrite, 64)
	}
	if p.observe == nil {
		p.observe = func(node.Effect) {}
	}
	p.host = NewHost(s.Node, postingTransport{p, cfg.Transport}, p, p.observeEffect)
	if cfg.Roles != nil {
		p.host.SetRoleRunner(cfg.Roles)
	}
	p.ticker = StartTicker(realclock.New(p.Post), cfg.Instance.Tick, p.host.Tick)
	var writers sync.WaitGroup
	for _, w := range p.writes {
		writers.Go(func() { p.diskLoop(w) })
	}
	go func() { writers.Wait(); close(p.diskDone) }()
	go p.loop()
	return p, s, nil
}

// Post runs fn on the loop (dropped once the loop has stopped).
func (p *Process) Post(fn func()) {
	select {
	case p.events <- fn:
	case <-p.done:
	}
}

// Host is the host of the node: touch it only on the loop (but for its
// Answer and SchemaVersion, safe anywhere).
func (p *Process) Host() *Host { return p.host }

// Done is closed when the loop has stopped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited delivers, once, why the instance stopped by itself.
func (p *Process) Exited() <-chan Exit { return p.exit }

// Shutdown starts the graceful stop: the node asks the cluster for target
// Offline, and Exited delivers its Terminate once it is Offline.
func (p *Process) Shutdown() { p.Post(p.host.Shutdown) }

// Stop stops the process: nothing more reaches the node, the writes
// already queued reach the disk, the loop stops. The store stays open
// (the driver opened it).
func (p *Process) Stop() {
	stopped := make(chan struct{})
	p.Post(func() { p.ticker.Stop(); p.host.Stop(); close(stopped) })
	select {
	case <-stopped:
	case <-p.done:
		return
	}
	for _, w := range p.writes {
		close(w)
	}
	<-p.diskDone
	close(p.quit)
	<-p.done
}

func (p *Process) loop() {
	next := func() (func(), bool) {
		select {
		case fn := <-p.events:
			return fn, true
		default:
			return nil, false
		}
	}
	for {
		select {
		case fn := <-p.events:
			p.host.Drain(fn, next)
		case <-p.quit:
			close(p.done)
			return
		}
	}
}

// diskLoop is the disk writer of one stream: its writes are applied in
// order, and their completions go back to the loop. Streams write
// concurrently (the store commits batches atomically).
func (p *Process) diskLoop(writes <-chan diskWrite) {
	for w := range writes {
		start := time.Now()
		err := p.store.Commit(w.batch, w.sync)
		if p.written != nil {
			p.written(w.batch, w.sync, time.Since(start))
		}
		done := w.done
		p.Post(func() { done(err) })
	}
}

// Write implements Writer: on the loop, it queues the write for its
// stream's disk writer.
func (p *Process) Write(stream node.Stream, b *disk.Batch, sync bool, done func(error)) {
	p.writes[stream] <- diskWrite{batch: b, sync: sync, done: done}
}

// observeEffect reports the node's effects to the driver, and ends the
// process's life when the node fail-stops or terminates.
func (p *Process) observeEffect(e node.Effect) {
	p.observe(e)
	var x Exit
	switch e := e.(type) {
	case node.FailStop:
		x.FailStop = e.Err
	case node.Terminate:
		x.Terminate = e
		// Expelled before this start: its target Online was never
		// accepted this time. An instance with no identity yet was
		// expelled while it joined (its answer lost, a retry refused):
		// its data dir holds nothing of it and may start again.
		_, joined := p.host.Node().Identity()
		x.ExpelledAtStart = e.Expelled && joined && !p.host.Node().Activated()
	default:
		return
	}
	select {
	case p.exit <- x:
	default:
	}
}

// postingTransport answers a transport's calls on the process's loop.
type postingTransport struct {
	p *Process
	t net.Transport
}

func (t postingTransport) Roundtrip(addr string, frame []byte, timeout time.Duration, done func([]byte, error)) {
	t.t.Roundtrip(addr, frame, timeout, func(b []byte, err error) { t.p.Post(func() { done(b, err) }) })
}

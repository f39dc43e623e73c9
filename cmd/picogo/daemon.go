package main

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	stdnet "net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/picogo/picogo/core/node"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/disk"
	"github.com/picogo/picogo/disk/pebble"
	"github.com/picogo/picogo/net/iproto"
	"github.com/picogo/picogo/net/tcp"
	"github.com/picogo/picogo/proc"
	"github.com/picogo/picogo/runtime"
)

// daemon is one running instance. Its event loop is the only goroutine that
// touches the node; sockets, the disk and the clock post closures to it.
type daemon struct {
	cfg      *runConfig
	log      *slog.Logger
	store    disk.Store
	identity node.Identity
	node     *node.Node // read only on the event loop
	host     *runtime.Host
	pool     *tcp.Pool
	server   *tcp.Server
	http     *http.Server
	events   chan func()
	writes   chan diskWrite
	diskDone chan struct{} // closed when the disk writer stops
	quit     chan struct{} // asks the loop to stop
	done     chan struct{} // closed when the loop stops
	// adminCheck, until done, looks whether PICOGO_ADMIN_PASSWORD is
	// ignored (loop-owned).
	adminCheck *adminPasswordCheck
	metrics    *metrics
	// arrived is when the request being handed to the host arrived on its
	// connection (loop-owned; read by the request observer).
	arrived time.Time
	// terminated receives the node's Terminate (once): the process stops.
	terminated chan termination
	// expelledMessage: what to say when the instance turns out to have
	// been expelled before this start.
	expelledMessage string
}

// termination is the node's Terminate, and whether it says the instance
// was already expelled when this process started.
type termination struct {
	node.Terminate
	expelledAtStart bool
	// failed is why the instance fail-stopped (node.FailStop).
	failed error
}

// usageError is a start refused because of what the operator gave
// (--init-cfg): `picogo run` exits with 2, as for a bad flag.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

type diskWrite struct {
	batch *disk.Batch
	sync  bool
	done  func(error)
}

// defaultGCPercent is the daemon's GOGC unless the environment sets one.
const defaultGCPercent = 400

// runDaemon is `picogo run`.
func runDaemon(args []string) int {
	cfg, err := parseRunConfig(args, os.Getenv, os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(os.Stderr, "picogo run:", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	if os.Getenv("GOGC") == "" {
		// An instance under load allocates per request and per Raft
		// message, and with Go's default (100) the collector took a
		// quarter of a leader's CPU (docs/BENCHMARKS.md). Memory is the
		// cheaper resource here; GOGC in the environment still decides.
		debug.SetGCPercent(defaultGCPercent)
	}
	d, err := startDaemon(cfg, log, openPebble)
	if err != nil {
		fmt.Fprintln(os.Stderr, "picogo run:", err)
		if errors.As(err, new(usageError)) {
			return 2
		}
		return 1
	}
	return d.run()
}

// openPebble opens the instance's store: Pebble, in production.
func openPebble(path string) (disk.Store, error) { return pebble.Open(path, pebble.Options{}) }

// startDaemon starts an instance on the store open opens (a test gives it
// one whose writes fail).
func startDaemon(cfg *runConfig, log *slog.Logger, open func(path string) (disk.Store, error)) (*daemon, error) {
	// The addresses first: a start refused because one is taken leaves
	// nothing behind on disk.
	ln, err := stdnet.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("--listen: %w", err)
	}
	var hl stdnet.Listener
	if cfg.HTTPListen != "" {
		if hl, err = stdnet.Listen("tcp", cfg.HTTPListen); err != nil {
			ln.Close()
			return nil, fmt.Errorf("--http-listen: %w", err)
		}
	}
	closeListeners := func() {
		ln.Close()
		if hl != nil {
			hl.Close()
		}
	}
	// A data directory this start creates is removed if the start fails:
	// a half-made one would look like an instance that never ran.
	_, statErr := os.Stat(cfg.DataDir)
	created := os.IsNotExist(statErr)
	undo := func() {
		closeListeners()
		if created {
			os.RemoveAll(cfg.DataDir)
		}
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		closeListeners()
		return nil, err
	}
	store, err := open(filepath.Join(cfg.DataDir, "db"))
	if err != nil {
		undo()
		return nil, fmt.Errorf("opening %s: %w", cfg.DataDir, err)
	}
	d := &daemon{cfg: cfg, log: log, store: store,
		events: make(chan func(), 4096), writes: make(chan diskWrite, 64),
		diskDone: make(chan struct{}), quit: make(chan struct{}), done: make(chan struct{}),
		terminated: make(chan termination, 1)}
	fail := func(err error) (*daemon, error) { store.Close(); undo(); return nil, err }

	identity, found, err := node.LoadIdentity(store)
	if err != nil {
		return fail(err)
	}
	var known *node.Identity
	var initTiers []tables.Tier
	if found {
		known = &identity
		if cfg.InitCfg != "" {
			log.Info("--init-cfg is ignored: this instance already belongs to a cluster, whose tiers are in _pico_tier",
				"init_cfg", cfg.InitCfg, "instance", identity.InstanceID)
		}
		if identity.ClusterID != cfg.ClusterID {
			return fail(fmt.Errorf("%s belongs to cluster %q, not --cluster-id %q", cfg.DataDir, identity.ClusterID, cfg.ClusterID))
		}
		if identity.Address != cfg.Advertise {
			log.Warn("advertise address differs from the one this instance joined with; peers know it by the old one",
				"joined", identity.Address, "advertise", cfg.Advertise)
		}
		d.identity = identity
	} else {
		// Used only if this instance turns out to boot the cluster; read
		// now so that a bad file is refused at once.
		if initTiers, err = cfg.initTiers(); err != nil {
			return fail(usageError{err})
		}
	}
	servicePassword, err := servicePassword(cfg, log)
	if err != nil {
		return fail(err)
	}

	state, _, err := node.Load(store)
	if err != nil {
		return fail(err)
	}
	var adminAuth []byte
	if pw := os.Getenv("PICOGO_ADMIN_PASSWORD"); pw != "" {
		h := iproto.Hash2(pw)
		adminAuth = h[:]
		d.adminCheck = &adminPasswordCheck{initial: h, committedAtStart: state.HardState.Commit}
	} else {
		log.Warn("PICOGO_ADMIN_PASSWORD is not set: admin cannot log in until an instance started with it has set it")
	}
	peers := cfg.Peers
	if len(peers) == 0 {
		peers = []string{cfg.Advertise}
	}
	seed := uint64(time.Now().UnixNano())
	n, err := node.New(runtime.NodeConfig(runtime.Instance{
		ClusterID: cfg.ClusterID,
		Identity:  known,
		Self: node.Self{Address: cfg.Advertise, InstanceID: cfg.InstanceID, ReplicasetID: cfg.ReplicasetID,
			Tier: cfg.Tier, FailureDomain: cfg.FailureDomain},
		Peers:       peers,
		InitTiers:   initTiers,
		Tick:        cfg.Tick,
		Rand:        mrand.New(mrand.NewPCG(seed, uint64(os.Getpid()))),
		AdminAuth:   adminAuth,
		ServiceAuth: iproto.Hash2(servicePassword),
		Limits:      runtime.ProductionLimits,
	}), state)
	expelled := func() error {
		return fmt.Errorf("instance %s is expelled; its data dir cannot run again (remove %s to start a new instance there)",
			identity.InstanceID, cfg.DataDir)
	}
	if err != nil {
		if found && errors.Is(err, node.ErrExpelled) {
			err = expelled()
		}
		return fail(err)
	}
	// node.New refuses an instance whose row it has applied Expelled, but
	// it applies the entries on disk only once running: a Terminate
	// (Expelled) before this start's activation says the same.
	d.expelledMessage = expelled().Error()
	d.pool = tcp.NewPool(tcp.PoolConfig{User: proc.PicoService, Password: servicePassword, Logger: log.With("part", "pool")})
	d.node = n // before NewHost, which may already report effects
	d.host = runtime.NewHost(n, d, d, d.observe)
	d.metrics = newMetrics(d)
	d.host.ObserveRequests(func(what string) func(uint32) { return d.metrics.request(what, d.arrived) })

	d.server = tcp.NewServer(tcp.ServerConfig{
		Listener: ln, UUID: instanceUUID(cfg.ClusterID, cfg.Advertise), Auth: authenticator{d}, Serve: d.serve,
		SchemaVersion: d.host.SchemaVersion, Logger: log.With("part", "server"),
	})
	if hl != nil {
		d.http = d.serveHTTP(hl)
	}
	st, phase := n.Status(), n.Phase() // read before the loop owns the node
	go d.diskLoop()
	go d.eventLoop()
	go func() {
		if err := d.server.Serve(); err != nil {
			log.Error("server stopped", "err", err)
		}
	}()
	log.Info("started", "phase", phase.String(), "instance", identity.InstanceID, "raft_id", identity.RaftID,
		"cluster", cfg.ClusterID, "listen", cfg.Listen, "peers", strings.Join(peers, ","), "data_dir", cfg.DataDir,
		"term", st.Term, "applied", st.Applied)
	return d, nil
}

// post runs fn on the event loop.
func (d *daemon) post(fn func()) {
	select {
	case d.events <- fn:
	case <-d.done:
	}
}

func (d *daemon) eventLoop() {
	ticker := time.NewTicker(d.cfg.Tick)
	defer ticker.Stop()
	for {
		select {
		case fn := <-d.events:
			// Whatever else is queued goes in the same batch (bounded, so
			// that ticks keep their pace): the Raft messages all those
			// events make leave as one call per peer.
			d.host.Batch(func() {
				fn()
				for range maxBatchEvents - 1 {
					select {
					case fn := <-d.events:
						fn()
					default:
						return
					}
				}
			})
		case <-ticker.C:
			d.host.Tick()
			if d.adminCheck != nil && d.adminCheck.check(d) {
				d.adminCheck = nil
			}
		case <-d.quit:
			close(d.done)
			return
		}
	}
}

// maxBatchEvents bounds how many queued events the loop hands the node
// before it sends the Raft messages they made.
const maxBatchEvents = 256

// diskLoop is the one disk writer: writes are applied in order, and their
// completions go back to the event loop.
func (d *daemon) diskLoop() {
	defer close(d.diskDone)
	for w := range d.writes {
		start := time.Now()
		err := d.store.Commit(w.batch, w.sync)
		d.metrics.diskWrite(w.batch, w.sync, time.Since(start))
		done := w.done
		d.post(func() { done(err) })
	}
}

// Write implements runtime.Writer.
func (d *daemon) Write(b *disk.Batch, sync bool, done func(error)) {
	d.writes <- diskWrite{batch: b, sync: sync, done: done}
}

// Roundtrip implements net.Transport over the pool, answering on the loop.
func (d *daemon) Roundtrip(addr string, frame []byte, timeout time.Duration, done func([]byte, error)) {
	d.pool.Roundtrip(addr, frame, timeout, func(p []byte, err error) { d.post(func() { done(p, err) }) })
}

// serve hands a request to the node, on the loop.
func (d *daemon) serve(s *tcp.Session, packet []byte, reply func([]byte)) {
	user := s.User()
	arrived := time.Now()
	d.post(func() {
		d.arrived = arrived
		d.host.Handle(user, packet, reply)
	})
}

// observe logs what the node reports.
func (d *daemon) observe(e node.Effect) {
	switch e := e.(type) {
	case node.Note:
		d.log.Info(e.Detail, "event", e.Event)
	case node.Alert:
		d.log.Warn("alert", "err", e.Err)
	case node.FailStop:
		d.log.Error("the instance cannot go on: stopping", "err", e.Err)
		select {
		case d.terminated <- termination{failed: e.Err}:
		default:
		}
	case node.Terminate:
		d.log.Info("the instance stops", "reason", e.Reason, "delete_data", e.Delete)
		// Expelled before this start: the cluster never took it back
		// (Activated: its target Online was accepted).
		t := termination{Terminate: e, expelledAtStart: e.Expelled && !d.node.Activated()}
		select {
		case d.terminated <- t:
		default:
		}
	case node.Started:
		d.identity = e.Identity // on the event loop, like every reader
		d.log.Info("running", "instance", e.Identity.InstanceID, "raft_id", e.Identity.RaftID,
			"replicaset", e.Identity.ReplicasetID, "tier", e.Identity.Tier)
	}
}

// run waits until the instance should stop, stops it and returns the
// exit code:
//   - the first SIGINT/SIGTERM stops gracefully: the node asks the cluster
//     for target Offline and says Terminate once it is Offline (a leader
//     hands its leadership over first), at most --shutdown-timeout; a
//     second signal exits at once;
//   - the node stops by itself (expelled): exit 0 after logging why — or
//     1 when it was expelled before this start.
func (d *daemon) run() int {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	select {
	case s := <-sig:
		go func() {
			<-sig
			d.log.Warn("second signal: exiting at once")
			os.Exit(1)
		}()
		d.shutdown(s)
	case t := <-d.terminated:
		d.stop()
		if t.failed != nil {
			fmt.Fprintln(os.Stderr, "picogo run: the instance cannot go on:", t.failed)
			return 1
		}
		if t.expelledAtStart {
			d.log.Error("cannot run", "err", d.expelledMessage)
			fmt.Fprintln(os.Stderr, "picogo run:", d.expelledMessage)
			return 1
		}
		d.log.Info("stopped by itself", "reason", t.Reason)
		if t.Delete {
			d.deleteData()
		}
	}
	d.log.Info("stopped")
	return 0
}

// shutdown is the graceful stop: Offline first, within --shutdown-timeout.
func (d *daemon) shutdown(s os.Signal) {
	timeout := d.cfg.ShutdownTimeout
	d.log.Info("stopping: asking the cluster to set this instance Offline", "signal", s.String(), "timeout", timeout)
	d.post(d.host.Shutdown)
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case t := <-d.terminated:
		d.log.Info("stopping", "reason", t.Reason)
	case <-timer.C:
		d.log.Warn("not Offline within --shutdown-timeout: stopping anyway (the leader's sentinel will set it Offline)",
			"timeout", timeout)
	}
	d.stop()
}

// deleteData removes the instance's data after the cluster was deleted
// (Terminate with Delete): the directory can start a new instance.
func (d *daemon) deleteData() {
	path := filepath.Join(d.cfg.DataDir, "db")
	if err := os.RemoveAll(path); err != nil {
		d.log.Error("deleting the data", "path", path, "err", err)
		return
	}
	d.log.Info("data deleted", "path", path)
}

// stop shuts down: no new requests or calls, the writes already queued
// reach the disk, the loop stops, the store closes.
func (d *daemon) stop() {
	if d.http != nil {
		d.http.Close()
	}
	d.server.Close()
	d.pool.Close()
	// Writes are queued by the loop; queue nothing more, then let the
	// writer finish what is queued.
	stopped := make(chan struct{})
	d.post(func() { d.host.Stop(); close(stopped) })
	<-stopped
	close(d.writes)
	<-d.diskDone
	close(d.quit)
	<-d.done
	if err := d.store.Close(); err != nil {
		d.log.Error("closing the store", "err", err)
	}
}

// devCookie is the service password when none is configured: fine on one
// machine, never in production (a warning says so).
const devCookie = "picogo-development-cookie"

// servicePassword is the instance's service password (serviceSecret);
// without one it writes the development default to the data directory's
// cookie, with a warning.
func servicePassword(cfg *runConfig, log *slog.Logger) (string, error) {
	pw, found, err := serviceSecret(cfg.ServicePasswordFile, cfg.ServicePassword, cfg.DataDir)
	if err != nil || found {
		return pw, err
	}
	log.Warn("no --service-password-file or --service-password: instances use the development default; give every instance the same secret in production")
	return pw, os.WriteFile(filepath.Join(cfg.DataDir, "cookie"), []byte(pw+"\n"), 0o600)
}

// serviceSecret is the service password as every picogo command finds it:
// the content of file, else password, else the cookie of dataDir; found is
// false when none of them gives one, and pw is then the development
// default. A file that cannot be read or is empty is a usage error.
func serviceSecret(file, password, dataDir string) (pw string, found bool, err error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", false, usageError{fmt.Errorf("--service-password-file: %w", err)}
		}
		if pw = strings.TrimSpace(string(b)); pw == "" {
			return "", false, usageError{fmt.Errorf("--service-password-file %s is empty", file)}
		}
		return pw, true, nil
	}
	if password != "" {
		return password, true, nil
	}
	b, err := os.ReadFile(filepath.Join(dataDir, "cookie"))
	switch {
	case err == nil && strings.TrimSpace(string(b)) != "":
		return strings.TrimSpace(string(b)), true, nil
	case err != nil && !os.IsNotExist(err):
		return "", false, err
	}
	return devCookie, false, nil
}

// instanceUUID is a stable uuid for the greeting, derived from the cluster
// and the address (the greeting is sent before the instance may know its
// name).
func instanceUUID(cluster, address string) string {
	h := sha1.Sum([]byte(cluster + "/" + address))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	s := hex.EncodeToString(h[:16])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

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
	"strings"
	"syscall"
	"time"

	"github.com/picogo/picogo/core/node"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/disk"
	"github.com/picogo/picogo/disk/pebble"
	"github.com/picogo/picogo/net/iproto"
	"github.com/picogo/picogo/net/tcp"
	"github.com/picogo/picogo/proc"
)

// daemon is one running instance. Its event loop is the only goroutine that
// touches the node; sockets, the disk and the clock post closures to it.
type daemon struct {
	cfg      *runConfig
	log      *slog.Logger
	store    *pebble.Store
	identity node.Identity
	host     *proc.Host
	pool     *tcp.Pool
	server   *tcp.Server
	http     *http.Server
	events   chan func()
	writes   chan diskWrite
	diskDone chan struct{} // closed when the disk writer stops
	quit     chan struct{} // asks the loop to stop
	done     chan struct{} // closed when the loop stops
	auth     *authenticator
}

type diskWrite struct {
	batch *disk.Batch
	sync  bool
	done  func(error)
}

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
	d, err := startDaemon(cfg, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	return d.waitForSignals()
}

func startDaemon(cfg *runConfig, log *slog.Logger) (*daemon, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, err
	}
	store, err := pebble.Open(filepath.Join(cfg.DataDir, "db"), pebble.Options{})
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", cfg.DataDir, err)
	}
	d := &daemon{cfg: cfg, log: log, store: store,
		events: make(chan func(), 4096), writes: make(chan diskWrite, 64),
		diskDone: make(chan struct{}), quit: make(chan struct{}), done: make(chan struct{})}
	fail := func(err error) (*daemon, error) { store.Close(); return nil, err }

	identity, found, err := node.LoadIdentity(store)
	if err != nil {
		return fail(err)
	}
	var known *node.Identity
	if found {
		known = &identity
		if identity.ClusterID != cfg.ClusterID {
			return fail(fmt.Errorf("%s belongs to cluster %q, not --cluster-id %q", cfg.DataDir, identity.ClusterID, cfg.ClusterID))
		}
		if identity.Address != cfg.Advertise {
			log.Warn("advertise address differs from the one this instance joined with; peers know it by the old one",
				"joined", identity.Address, "advertise", cfg.Advertise)
		}
		d.identity = identity
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
	} else {
		log.Warn("PICOGO_ADMIN_PASSWORD is not set: admin cannot log in until an instance started with it has set it")
	}
	peers := cfg.Peers
	if len(peers) == 0 {
		peers = []string{cfg.Advertise}
	}
	seed := uint64(time.Now().UnixNano())
	n, err := node.New(node.Config{
		ClusterID: cfg.ClusterID,
		Identity:  known,
		Self: node.Self{Address: cfg.Advertise, InstanceID: cfg.InstanceID, ReplicasetID: cfg.ReplicasetID,
			Tier: cfg.Tier, FailureDomain: cfg.FailureDomain},
		Peers: peers,
		Raft: raft.Config{
			ElectionTick: 10, HeartbeatTick: 1, PreVote: true, CheckQuorum: true,
			MaxMsgBytes: 1 << 20, MaxMsgEntries: 1024, MaxInflightMsgs: 256,
			Rand: mrand.New(mrand.NewPCG(seed, uint64(os.Getpid()))),
		},
		Tick:          cfg.Tick,
		SnapshotEvery: 16384,
		AdminAuth:     adminAuth,
	}, state)
	if err != nil {
		return fail(err)
	}
	d.pool = tcp.NewPool(tcp.PoolConfig{User: proc.PicoService, Password: servicePassword, Logger: log.With("part", "pool")})
	d.host = proc.NewHost(n, d, d, d.observe)
	d.auth = newAuthenticator(d, servicePassword, adminAuth)

	ln, err := stdnet.Listen("tcp", cfg.Listen)
	if err != nil {
		d.pool.Close()
		return fail(err)
	}
	d.server = tcp.NewServer(tcp.ServerConfig{
		Listener: ln, UUID: instanceUUID(cfg.ClusterID, cfg.Advertise), Auth: d.auth, Serve: d.serve,
		SchemaVersion: proc.SchemaVersion, Logger: log.With("part", "server"),
	})
	if cfg.HTTPListen != "" {
		hl, err := stdnet.Listen("tcp", cfg.HTTPListen)
		if err != nil {
			ln.Close()
			d.pool.Close()
			return fail(fmt.Errorf("--http-listen: %w", err))
		}
		d.http = d.serveHTTP(hl)
	}
	go d.diskLoop()
	go d.eventLoop()
	go func() {
		if err := d.server.Serve(); err != nil {
			log.Error("server stopped", "err", err)
		}
	}()
	st := n.Status()
	log.Info("started", "phase", n.Phase().String(), "instance", identity.InstanceID, "raft_id", identity.RaftID,
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
			fn()
		case <-ticker.C:
			d.host.Tick()
		case <-d.quit:
			close(d.done)
			return
		}
	}
}

// diskLoop is the one disk writer: writes are applied in order, and their
// completions go back to the event loop.
func (d *daemon) diskLoop() {
	defer close(d.diskDone)
	for w := range d.writes {
		err := d.store.Commit(w.batch, w.sync)
		done := w.done
		d.post(func() { done(err) })
	}
}

// Write implements proc.Writer.
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
	d.post(func() { d.host.Handle(user, packet, reply) })
}

// observe logs what the node reports.
func (d *daemon) observe(e node.Effect) {
	switch e := e.(type) {
	case node.Note:
		d.log.Info(e.Detail, "event", e.Event)
	case node.Fatal:
		d.log.Error("fatal", "err", e.Err)
	case node.Terminate:
		d.log.Warn("terminating", "reason", e.Reason)
	case node.Started:
		d.identity = e.Identity // on the event loop, like every reader
		d.log.Info("running", "instance", e.Identity.InstanceID, "raft_id", e.Identity.RaftID,
			"replicaset", e.Identity.ReplicasetID, "tier", e.Identity.Tier)
	}
}

// waitForSignals runs until SIGINT/SIGTERM: the first stops gracefully, a
// second exits at once.
func (d *daemon) waitForSignals() int {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	s := <-sig
	d.log.Info("stopping", "signal", s.String())
	go func() {
		<-sig
		d.log.Warn("second signal: exiting at once")
		os.Exit(1)
	}()
	d.stop()
	d.log.Info("stopped")
	return 0
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

// servicePassword: --service-password, else the data directory's cookie,
// else the development default (written to the cookie).
func servicePassword(cfg *runConfig, log *slog.Logger) (string, error) {
	if cfg.ServicePassword != "" {
		return cfg.ServicePassword, nil
	}
	path := filepath.Join(cfg.DataDir, "cookie")
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	} else if !os.IsNotExist(err) {
		return "", err
	}
	log.Warn("no --service-password: instances use the development default; set the same --service-password on every instance in production")
	return devCookie, os.WriteFile(path, []byte(devCookie+"\n"), 0o600)
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

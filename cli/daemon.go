package cli

import (
	"bytes"
	crand "crypto/rand"
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

	"github.com/picogo/picogo/core/auth"
	"github.com/picogo/picogo/core/node"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/disk"
	"github.com/picogo/picogo/disk/pebble"
	"github.com/picogo/picogo/internal/gogc"
	"github.com/picogo/picogo/net/iproto"
	"github.com/picogo/picogo/net/pgwire"
	"github.com/picogo/picogo/net/tcp"
	"github.com/picogo/picogo/proc"
	"github.com/picogo/picogo/role"
	rolerunner "github.com/picogo/picogo/role/runner"
	"github.com/picogo/picogo/runtime"
)

// daemon is one running instance: the production runtime (runtime.Process:
// the node, its loop, its disk writer, its ticks) wired to TCP, Pebble,
// HTTP, logs and signals.
type daemon struct {
	cfg      *runConfig
	log      *slog.Logger
	store    disk.Store
	identity node.Identity // loop-owned
	proc     *runtime.Process
	pool     *tcp.Pool
	server   *tcp.Server
	http     *http.Server
	pg       *pgwire.Server // nil without --pg-listen
	metrics  *metrics
	roles    *rolerunner.Runner // nil without roles
	// arrived is when the request being handed to the host arrived on its
	// connection (loop-owned; read by the request observer).
	arrived time.Time
	// expelledMessage: what to say when the instance turns out to have
	// been expelled before this start.
	expelledMessage string
}

// usageError is a start refused because of what the operator gave
// (--init-cfg): `picogo run` exits with 2, as for a bad flag.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// runGCPercent is the GOGC of `picogo run` unless the environment sets
// one: it allocates per message over a small live heap, and memory is the
// cheaper resource here (gogc.Use). `picogo sim` runs with sim.UseGCPercent.
const runGCPercent = 400

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
	// An instance under load allocates per request and per Raft message,
	// and with Go's default (100) the collector took a quarter of a
	// leader's CPU (docs/BENCHMARKS.md).
	gogc.Use(runGCPercent, "runGCPercent")
	cfg.Roles = compiledRoles
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
	var hl, pl stdnet.Listener
	if cfg.HTTPListen != "" {
		if hl, err = stdnet.Listen("tcp", cfg.HTTPListen); err != nil {
			ln.Close()
			return nil, fmt.Errorf("--http-listen: %w", err)
		}
	}
	if cfg.PgListen != "" {
		if pl, err = stdnet.Listen("tcp", cfg.PgListen); err != nil {
			ln.Close()
			if hl != nil {
				hl.Close()
			}
			return nil, fmt.Errorf("--pg-listen: %w", err)
		}
	}
	closeListeners := func() {
		for _, l := range []stdnet.Listener{ln, hl, pl} {
			if l != nil {
				l.Close()
			}
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
	d := &daemon{cfg: cfg, log: log, store: store}
	fail := func(err error) (*daemon, error) { store.Close(); undo(); return nil, err }

	servicePassword, err := servicePassword(cfg, log)
	if err != nil {
		return fail(err)
	}
	var adminAuth *tables.UserAuth
	if pw := os.Getenv("PICOGO_ADMIN_PASSWORD"); pw != "" {
		salt := make([]byte, auth.SaltSize)
		if _, err := crand.Read(salt); err != nil {
			return fail(fmt.Errorf("drawing a salt for the admin password: %w", err))
		}
		a := auth.Secrets(tables.AdminName, pw, salt)
		adminAuth = &a
	} else {
		log.Warn("PICOGO_ADMIN_PASSWORD is not set: admin cannot log in until an instance started with it has set it")
	}
	peers := cfg.Peers
	if len(peers) == 0 {
		peers = []string{cfg.Advertise}
	}
	roles, defs, err := d.roleRunner(cfg, log)
	if err != nil {
		return fail(usageError{err})
	}
	d.pool = tcp.NewPool(tcp.PoolConfig{User: proc.PicoService, Password: servicePassword, Logger: log.With("part", "pool")})
	d.metrics = newMetrics(d)
	seed := uint64(time.Now().UnixNano())
	p, s, err := runtime.StartProcess(runtime.ProcessConfig{
		Store: store,
		Instance: runtime.Instance{
			ClusterID: cfg.ClusterID,
			Self: node.Self{Address: cfg.Advertise, InstanceID: cfg.InstanceID, ReplicasetID: cfg.ReplicasetID,
				Tier: cfg.Tier, FailureDomain: cfg.FailureDomain},
			Peers:       peers,
			Tick:        cfg.Tick,
			Rand:        mrand.New(mrand.NewPCG(seed, uint64(os.Getpid()))),
			Clock:       time.Now,
			AdminAuth:   adminAuth,
			ServiceAuth: iproto.Hash2(servicePassword),
			Roles:       defs,
			Limits:      runtime.ProductionLimits,
		},
		InitCluster: func() (runtime.InitCluster, error) {
			init, err := cfg.initCluster()
			if err != nil {
				return init, usageError{err}
			}
			return init, nil
		},
		Transport: d.pool,
		Roles:     roles,
		Observe:   d.observe,
		Written:   d.metrics.diskWrite,
	})
	if err != nil {
		d.pool.Close()
		var expelled *runtime.ExpelledError
		switch {
		case errors.As(err, &expelled):
			err = fmt.Errorf("%w (remove %s to start a new instance there)", err, cfg.DataDir)
		case errors.Is(err, runtime.ErrWrongCluster):
			err = fmt.Errorf("%s: %w (--cluster-id)", cfg.DataDir, err)
		}
		return fail(err)
	}
	d.proc = p
	var instanceID string
	if s.Identity != nil {
		instanceID = s.Identity.InstanceID
		if cfg.InitCfg != "" {
			log.Info("--init-cfg is ignored: this instance already belongs to a cluster, whose tiers are in _pico_tier",
				"init_cfg", cfg.InitCfg, "instance", instanceID)
		}
		if s.Identity.Address != cfg.Advertise {
			log.Warn("advertise address differs from the one this instance joined with; peers know it by the old one",
				"joined", s.Identity.Address, "advertise", cfg.Advertise)
		}
	}
	// node.New refuses an instance whose row it has applied Expelled, but
	// it applies the entries on disk only once running: a Terminate
	// (Expelled) before this start's activation says the same.
	d.expelledMessage = (&runtime.ExpelledError{InstanceID: instanceID}).Error() +
		fmt.Sprintf(" (remove %s to start a new instance there)", cfg.DataDir)
	st, phase := s.Node.Status(), s.Node.Phase() // the loop may run already: read what Start returned only
	p.Post(func() {
		if s.Identity != nil {
			d.setIdentity(*s.Identity)
		}
		p.Host().ObserveRequests(func(what string) func(uint32) { return d.metrics.request(what, d.arrived) })
	})
	d.server = tcp.NewServer(tcp.ServerConfig{
		Listener: ln, UUID: instanceUUID(cfg.ClusterID, cfg.Advertise), Auth: authenticator{d}, Serve: d.serve,
		SchemaVersion: p.Host().SchemaVersion, Logger: log.With("part", "server"),
	})
	if hl != nil {
		d.http = d.serveHTTP(hl)
	}
	go func() {
		if err := d.server.Serve(); err != nil {
			log.Error("server stopped", "err", err)
		}
	}()
	if pl != nil {
		d.pg = pgwire.NewServer(pgwire.ServerConfig{Listener: pl, Backend: pgBackend{d}, AuthMethod: cfg.PgAuth,
			Logger: log.With("part", "pgwire")})
		go func() {
			if err := d.pg.Serve(); err != nil {
				log.Error("PostgreSQL protocol server stopped", "err", err)
			}
		}()
	}
	log.Info("started", "phase", phase.String(), "instance", instanceID, "raft_id", st.ID,
		"cluster", cfg.ClusterID, "listen", cfg.Listen, "pg_listen", cfg.PgListen, "peers", strings.Join(peers, ","), "data_dir", cfg.DataDir,
		"term", st.Term, "applied", st.Applied)
	return d, nil
}

// roleRunner runs the instance's roles (nil when it has none): the
// binary's and those of --app-dir's plugins (appRoles). Their callbacks run
// off the event loop, with deadlines, their results posted back to it;
// their Context's SQL is roleSQL. defs are their definitions for the node.
func (d *daemon) roleRunner(cfg *runConfig, log *slog.Logger) (runtime.RoleRunner, []tables.Role, error) {
	roles, err := appRoles(cfg.Roles, cfg.AppDir, log)
	if err != nil {
		return nil, nil, err
	}
	if len(roles) == 0 {
		return nil, nil, nil
	}
	if err := role.Validate(roles); err != nil {
		if cfg.AppDir != "" {
			return nil, nil, fmt.Errorf("the roles of the binary and of --app-dir %s: %w", cfg.AppDir, err)
		}
		return nil, nil, fmt.Errorf("the binary's roles: %w", err)
	}
	// The instance's name and replicaset may be known only once it has
	// joined: setIdentity tells the runner then, before any role
	// starts (the governor starts them later).
	r, err := rolerunner.New(rolerunner.Config{Roles: roles, Log: log.With("part", "roles"),
		Instance: role.Instance{Address: cfg.Advertise, Tier: cfg.Tier, ClusterID: cfg.ClusterID, Name: cfg.InstanceID,
			Replicaset: cfg.ReplicasetID},
		SQL: roleSQL{d},
		// The loop exists once a callback can finish: Start is asked by
		// the node, on it.
		Post: func(fn func()) { d.post(fn) }, RPC: roleRPC{d}})
	if err != nil {
		return nil, nil, err
	}
	d.roles = r
	defs := make([]tables.Role, len(roles))
	for i, x := range roles {
		defs[i] = tables.Role{Name: x.Name(), Version: x.Version(), Dependencies: append([]string{}, x.Dependencies()...),
			OnceDDL: append([]string{}, x.OnceDDL()...)}
	}
	return r.ForHost(), defs, nil
}

// setIdentity records who this instance is (on the loop), for the roles
// too: the Instance their Context gives.
func (d *daemon) setIdentity(id node.Identity) {
	d.identity = id
	if d.roles != nil {
		d.roles.SetInstance(role.Instance{Name: id.InstanceID, Replicaset: id.ReplicasetID, Tier: id.Tier,
			Address: d.cfg.Advertise, ClusterID: id.ClusterID})
	}
}

// post runs fn on the event loop.
func (d *daemon) post(fn func()) { d.proc.Post(fn) }

// serve answers a request that needs nothing of the node at once, on the
// connection's goroutine (runtime.Host.Answer), and hands the others to
// the node, on the loop.
func (d *daemon) serve(s *tcp.Session, packet []byte, reply func([]byte)) {
	user := s.User()
	arrived := time.Now()
	if frame, what := d.proc.Host().Answer(user, packet); frame != nil {
		d.metrics.request(what, arrived)(0)
		reply(frame)
		return
	}
	packet = bytes.Clone(packet) // the connection's buffer: it is read again
	d.post(func() {
		d.arrived = arrived
		d.proc.Host().Handle(user, packet, reply)
	})
}

// observe logs what the node reports (on the loop).
func (d *daemon) observe(e node.Effect) {
	switch e := e.(type) {
	case node.Note:
		d.log.Info(e.Detail, "event", e.Event)
	case node.Alert:
		d.log.Warn("alert", "err", e.Err)
	case node.FailStop:
		d.log.Error("the instance cannot go on: stopping", "err", e.Err)
	case node.Terminate:
		d.log.Info("the instance stops", "reason", e.Reason, "delete_data", e.Delete)
	case node.Started:
		d.setIdentity(e.Identity)
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
//   - the node stops by itself (expelled, or it cannot go on): exit 0 after
//     logging why — or 1 when it was expelled before this start or
//     fail-stopped.
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
	case x := <-d.proc.Exited():
		d.stop()
		if x.FailStop != nil {
			fmt.Fprintln(os.Stderr, "picogo run: the instance cannot go on:", x.FailStop)
			return 1
		}
		if x.ExpelledAtStart {
			d.log.Error("cannot run", "err", d.expelledMessage)
			fmt.Fprintln(os.Stderr, "picogo run:", d.expelledMessage)
			return 1
		}
		d.log.Info("stopped by itself", "reason", x.Terminate.Reason)
		if x.Terminate.Delete {
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
	d.proc.Shutdown()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case x := <-d.proc.Exited():
		d.log.Info("stopping", "reason", x.Terminate.Reason)
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
	if d.pg != nil {
		d.pg.Close()
	}
	d.pool.Close()
	d.proc.Stop()
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

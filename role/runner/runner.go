package runner

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/picogo/picogo/role"
	"github.com/prometheus/client_golang/prometheus"
)

// Default deadlines, for a Config that gives none.
const (
	DefaultInitTimeout = 30 * time.Second
	DefaultStopTimeout = 10 * time.Second
	DefaultCallTimeout = 5 * time.Second
)

// Config is what a Runner runs and how.
type Config struct {
	// Roles are the roles compiled into the instance; they must pass
	// role.Validate.
	Roles []role.Role
	// Instance is the instance the roles run on, as known at New; see
	// SetInstance for what is learnt later.
	Instance role.Instance
	// Log is the instance's logger; nil discards.
	Log *slog.Logger
	// SQL and RPC are handed to the roles in their Context; nil while the
	// daemon offers none.
	SQL role.SQL
	RPC role.RPC
	// Post runs a done callback where the caller wants it (on the daemon's
	// event loop); every done callback goes through it. The Runner calls it
	// from its own goroutines, several at once, so it must be safe for
	// that and should not block. Nil runs done on the goroutine that
	// finished the call.
	Post func(func())
	// InitTimeout bounds Init and OnConfigChange, StopTimeout Stop,
	// CallTimeout a handler that Call gives no timeout and OnLeaderChange.
	// Zero means the Default.
	InitTimeout, StopTimeout, CallTimeout time.Duration
}

// Status is where a role is in its lifecycle on this instance.
type Status uint8

const (
	Stopped  Status = iota // not started, or stopped
	Starting               // Init is running
	Running                // Init succeeded; handlers are served
	Stopping               // Stop is running
	Failed                 // Init failed, panicked or timed out
)

func (s Status) String() string {
	switch s {
	case Stopped:
		return "stopped"
	case Starting:
		return "starting"
	case Running:
		return "running"
	case Stopping:
		return "stopping"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// State is a role's state on this instance, for status and metrics.
type State struct {
	Name    string
	Version string
	Status  Status
	// Err is why the role failed (Failed) or why its last Stop failed
	// (Stopped); nil otherwise.
	Err error
	// Busy names the lifecycle callback that is running, "" if none; with
	// Status Failed or Stopped it is one that was abandoned at its deadline
	// and has not returned yet.
	Busy string
	// Since is when Busy began.
	Since time.Time
	// Calls is the number of handler calls that have not returned,
	// abandoned ones included.
	Calls int
}

// Runner runs a fixed set of roles on one instance. Its methods may be
// called from any goroutine; they never block on role code or on Post, and
// never call done before they return.
type Runner struct {
	cfg      Config
	log      *slog.Logger
	outcomes *prometheus.CounterVec
	mu       sync.Mutex
	roles    map[string]*entry
	// instance is what the Contexts of later starts say (mu): Config's,
	// until SetInstance.
	instance role.Instance
}

// entry is one role and its state; mu guards everything but the fields
// fixed at New.
type entry struct {
	name     string
	role     role.Role
	version  string
	deps     []string
	handlers map[string]role.Handler
	log      *slog.Logger

	status    Status
	err       error
	busy      string
	busySince time.Time
	calls     int
	// c is the Context callbacks get now; nil while the role is stopped or
	// failed. life ends when the role stops or fails; handlers' contexts
	// derive from it.
	c         *role.Context
	life      context.Context
	endOfLife context.CancelFunc
}

// New returns a Runner with every role of cfg stopped.
func New(cfg Config) (*Runner, error) {
	if err := role.Validate(cfg.Roles); err != nil {
		return nil, err
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Post == nil {
		cfg.Post = func(f func()) { f() }
	}
	if cfg.InitTimeout <= 0 {
		cfg.InitTimeout = DefaultInitTimeout
	}
	if cfg.StopTimeout <= 0 {
		cfg.StopTimeout = DefaultStopTimeout
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	r := &Runner{cfg: cfg, log: cfg.Log, outcomes: newOutcomes(), roles: make(map[string]*entry, len(cfg.Roles)),
		instance: cfg.Instance}
	for _, ro := range cfg.Roles {
		name := ro.Name()
		r.roles[name] = &entry{
			name:     name,
			role:     ro,
			version:  ro.Version(),
			deps:     slices.Clone(ro.Dependencies()),
			handlers: ro.Handlers(),
			log:      cfg.Log.With("role", name),
		}
	}
	return r, nil
}

// SetInstance sets the instance the roles run on, for an instance that
// learns who it is after New (its name, replicaset and tier are assigned
// by the cluster when it joins): every role started afterwards gets inst
// in its Context. A role already started keeps the Context it was given
// (Contexts handed out never change), so the daemon calls it before the
// first Start, as soon as it knows. It is safe for concurrent use.
func (r *Runner) SetInstance(inst role.Instance) {
	r.mu.Lock()
	r.instance = inst
	r.mu.Unlock()
}

// Instance returns the instance the roles started from now on see.
func (r *Runner) Instance() role.Instance {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.instance
}

// Roles returns the roles a Runner runs, in the order of Config.Roles.
func (r *Runner) Roles() []role.Role { return slices.Clone(r.cfg.Roles) }

// States returns every role's state by name.
func (r *Runner) States() map[string]State {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := make(map[string]State, len(r.roles))
	for name, e := range r.roles {
		m[name] = e.state()
	}
	return m
}

// StateList returns every role's state, sorted by name.
func (r *Runner) StateList() []State {
	m := r.States()
	list := make([]State, 0, len(m))
	for _, s := range m {
		list = append(list, s)
	}
	slices.SortFunc(list, func(a, b State) int { return strings.Compare(a.Name, b.Name) })
	return list
}

func (e *entry) state() State {
	return State{Name: e.name, Version: e.version, Status: e.status, Err: e.err, Busy: e.busy, Since: e.busySince, Calls: e.calls}
}

// lookup returns the role called name, or an error for done.
func (r *Runner) lookup(name string) (*entry, error) {
	e, ok := r.roles[name]
	if !ok {
		return nil, fmt.Errorf("no role %q on this instance", name)
	}
	return e, nil
}

// free returns an error if a lifecycle callback of e is running.
func (e *entry) free() error {
	if e.busy == "" {
		return nil
	}
	return fmt.Errorf("role %s: its %s has not returned (running for %v)", e.name, e.busy, time.Since(e.busySince).Round(time.Millisecond))
}

func (e *entry) setBusy(what string) {
	e.busy, e.busySince = what, time.Now()
}

// end ends e's life: the role no longer runs, its handlers' contexts end
// and its metrics are no longer exported.
func (e *entry) end() {
	if e.endOfLife != nil {
		e.endOfLife()
	}
	e.c, e.life, e.endOfLife = nil, nil, nil
}

// answer posts f, an answer known before any role code runs, from a
// goroutine of its own: the caller is typically the loop Post feeds, and
// a Post that waits for that loop must not find it waiting in Post.
func (r *Runner) answer(f func()) {
	go r.cfg.Post(f)
}

func (r *Runner) fail(done func(error), err error) {
	r.answer(func() { done(err) })
}

// Start starts role name with configuration cfg: it runs the role's Init
// with InitTimeout and then calls done with its error, or with an error
// saying why the role cannot start (unknown, already starting or running,
// a callback still running, a dependency not running).
func (r *Runner) Start(name string, cfg map[string]any, done func(error)) {
	r.mu.Lock()
	e, err := r.lookup(name)
	if err == nil {
		err = e.free()
	}
	if err == nil && e.status != Stopped && e.status != Failed {
		err = fmt.Errorf("role %s is already %v", name, e.status)
	}
	if err == nil {
		for _, d := range e.deps {
			if s := r.roles[d].status; s != Running {
				err = fmt.Errorf("role %s depends on role %s, which is %v", name, d, s)
				break
			}
		}
	}
	if err != nil {
		r.mu.Unlock()
		r.fail(done, err)
		return
	}
	e.status, e.err = Starting, nil
	e.setBusy("Init")
	e.life, e.endOfLife = context.WithCancel(context.Background())
	e.c = &role.Context{
		Instance: r.instance,
		Log:      e.log,
		Metrics:  prometheus.NewRegistry(),
		Config:   cfg,
		SQL:      r.cfg.SQL,
		RPC:      r.cfg.RPC,
	}
	c := e.c
	r.mu.Unlock()

	e.log.Info("starting role", "version", e.version)
	r.invoke(e, "Init", context.Background(), r.cfg.InitTimeout,
		func(ctx context.Context) (any, error) { return nil, e.role.Init(ctx, c) },
		func(_ any, err error, returned bool) {
			r.mu.Lock()
			if err != nil {
				e.status, e.err = Failed, err
				e.end()
			} else {
				e.status = Running
			}
			if returned {
				e.idle()
			}
			r.mu.Unlock()
			if err != nil {
				e.log.Error("role failed to start", "err", err)
			} else {
				e.log.Info("role started")
			}
			r.cfg.Post(func() { done(err) })
		},
		func(err error) {
			if err != nil {
				r.idle(e)(err)
				return
			}
			// The role started after all, but it counts as failed: stop
			// what it started, keeping it busy meanwhile.
			e.log.Warn("role's abandoned Init returned success; stopping it")
			r.mu.Lock()
			e.setBusy("Stop")
			r.mu.Unlock()
			r.invoke(e, "Stop", context.Background(), r.cfg.StopTimeout,
				func(ctx context.Context) (any, error) { return nil, e.role.Stop(ctx, c) },
				func(_ any, err error, returned bool) {
					if err != nil {
						e.log.Error("role failed to stop after its abandoned Init", "err", err)
					}
					if returned {
						r.idle(e)(nil)
					}
				},
				r.idle(e))
		})
}

// idle returns a function that marks e's lifecycle callback over, for an
// abandoned callback that returns.
func (r *Runner) idle(e *entry) func(error) {
	return func(error) {
		r.mu.Lock()
		e.idle()
		r.mu.Unlock()
	}
}

// idle marks e's lifecycle callback over.
func (e *entry) idle() {
	e.busy, e.busySince = "", time.Time{}
}

// Stop stops role name: it runs the role's Stop with StopTimeout and calls
// done with its error. The role is stopped afterwards whatever Stop did.
// Stopping a stopped role does nothing; stopping a failed one marks it
// stopped without calling Stop. It is an error while a lifecycle callback
// of the role is running, and while a role depending on it is not stopped
// or failed.
func (r *Runner) Stop(name string, done func(error)) {
	r.mu.Lock()
	e, err := r.lookup(name)
	if err == nil {
		err = e.free()
	}
	if err == nil && (e.status == Stopped || e.status == Failed) {
		e.status, e.err = Stopped, nil
		r.mu.Unlock()
		r.answer(func() { done(nil) })
		return
	}
	if err == nil {
		for _, other := range sortedNames(r.roles) {
			o := r.roles[other]
			if slices.Contains(o.deps, name) && o.status != Stopped && o.status != Failed {
				err = fmt.Errorf("role %s cannot stop: role %s, which depends on it, is %v", name, other, o.status)
				break
			}
		}
	}
	if err != nil {
		r.mu.Unlock()
		r.fail(done, err)
		return
	}
	e.status = Stopping
	e.setBusy("Stop")
	c := e.c
	r.mu.Unlock()

	e.log.Info("stopping role")
	r.invoke(e, "Stop", context.Background(), r.cfg.StopTimeout,
		func(ctx context.Context) (any, error) { return nil, e.role.Stop(ctx, c) },
		func(_ any, err error, returned bool) {
			r.mu.Lock()
			e.status, e.err = Stopped, err
			e.end()
			if returned {
				e.idle()
			}
			r.mu.Unlock()
			if err != nil {
				e.log.Error("role stopped with an error", "err", err)
			} else {
				e.log.Info("role stopped")
			}
			r.cfg.Post(func() { done(err) })
		},
		r.idle(e))
}

// Call calls handler of role name with args and calls done with its result
// or error. The handler's own error reaches done unchanged; a role that is
// not running, an unknown handler (the error lists the role's handlers), a
// panic and the deadline are the Runner's errors. timeout bounds the call;
// zero means CallTimeout.
func (r *Runner) Call(name, handler string, args []any, timeout time.Duration, done func(any, error)) {
	if timeout <= 0 {
		timeout = r.cfg.CallTimeout
	}
	r.mu.Lock()
	e, err := r.lookup(name)
	var h role.Handler
	if err == nil && e.status != Running {
		err = fmt.Errorf("role %s is %v", name, e.status)
	}
	if err == nil {
		if h = e.handlers[handler]; h == nil {
			err = fmt.Errorf("role %s has no handler %q (it has %s)", name, handler, handlerList(e.handlers))
		}
	}
	if err != nil {
		r.mu.Unlock()
		r.answer(func() { done(nil, err) })
		return
	}
	e.calls++
	c, life := e.c, e.life
	r.mu.Unlock()

	r.invoke(e, "handler "+handler, life, timeout,
		func(ctx context.Context) (any, error) { return h(ctx, c, args) },
		func(res any, err error, returned bool) {
			if returned {
				r.mu.Lock()
				e.calls--
				r.mu.Unlock()
			}
			r.cfg.Post(func() { done(res, err) })
		},
		func(error) {
			r.mu.Lock()
			e.calls--
			r.mu.Unlock()
		})
}

func handlerList(hs map[string]role.Handler) string {
	if len(hs) == 0 {
		return "none"
	}
	names := sortedNames(hs)
	for i, n := range names {
		names[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(names, ", ")
}

// ConfigChanged gives running role name its new configuration cfg: a role
// implementing role.ConfigWatcher gets OnConfigChange (with InitTimeout)
// and keeps its old configuration if that fails; other roles just see cfg
// in the Context of later calls. done gets the error. An OnConfigChange
// abandoned at its deadline that later returns success still applies cfg:
// the role has taken it.
func (r *Runner) ConfigChanged(name string, cfg map[string]any, done func(error)) {
	r.mu.Lock()
	e, err := r.runningAndFree(name)
	if err != nil {
		r.mu.Unlock()
		r.fail(done, err)
		return
	}
	w, watches := e.role.(role.ConfigWatcher)
	if !watches {
		e.c = withConfig(e.c, cfg)
		r.mu.Unlock()
		r.answer(func() { done(nil) })
		return
	}
	e.setBusy("OnConfigChange")
	c := e.c
	r.mu.Unlock()

	r.invoke(e, "OnConfigChange", context.Background(), r.cfg.InitTimeout,
		func(ctx context.Context) (any, error) { return nil, w.OnConfigChange(ctx, c, cfg) },
		func(_ any, err error, returned bool) {
			r.mu.Lock()
			if err == nil {
				e.c = withConfig(c, cfg)
			}
			if returned {
				e.idle()
			}
			r.mu.Unlock()
			if err != nil {
				e.log.Error("role rejected its new configuration", "err", err)
			}
			r.cfg.Post(func() { done(err) })
		},
		func(err error) {
			r.mu.Lock()
			// The role took the configuration after all: later calls see
			// what it has. It is still running with Context c, as every
			// other lifecycle call is refused while this one runs.
			if err == nil {
				e.c = withConfig(c, cfg)
			}
			e.idle()
			r.mu.Unlock()
		})
}

// withConfig returns a copy of c with configuration cfg: Contexts already
// handed out never change.
func withConfig(c *role.Context, cfg map[string]any) *role.Context {
	n := *c
	n.Config = cfg
	return &n
}

// LeaderChanged tells running role name, if it implements
// role.LeaderWatcher, that the Raft leader is now leaderID; done gets the
// Runner's error (a panic, the deadline CallTimeout, a role not running or
// busy).
func (r *Runner) LeaderChanged(name string, leaderID uint64, done func(error)) {
	r.mu.Lock()
	e, err := r.runningAndFree(name)
	if err != nil {
		r.mu.Unlock()
		r.fail(done, err)
		return
	}
	w, watches := e.role.(role.LeaderWatcher)
	if !watches {
		r.mu.Unlock()
		r.answer(func() { done(nil) })
		return
	}
	e.setBusy("OnLeaderChange")
	c := e.c
	r.mu.Unlock()

	r.invoke(e, "OnLeaderChange", context.Background(), r.cfg.CallTimeout,
		func(ctx context.Context) (any, error) { w.OnLeaderChange(ctx, c, leaderID); return nil, nil },
		func(_ any, err error, returned bool) {
			if returned {
				r.idle(e)(nil)
			}
			r.cfg.Post(func() { done(err) })
		},
		r.idle(e))
}

func (r *Runner) runningAndFree(name string) (*entry, error) {
	e, err := r.lookup(name)
	if err != nil {
		return nil, err
	}
	if e.status != Running {
		return nil, fmt.Errorf("role %s is %v", name, e.status)
	}
	return e, e.free()
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

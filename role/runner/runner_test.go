package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picogo/picogo/role"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/require"
)

// testRole is a role made of functions; nil ones succeed at once.
type testRole struct {
	name     string
	deps     []string
	init     func(ctx context.Context, c *role.Context) error
	stop     func(ctx context.Context, c *role.Context) error
	handlers map[string]role.Handler
	stops    atomic.Int32 // calls of Stop
}

func (r *testRole) Name() string           { return r.name }
func (r *testRole) Version() string        { return "1.2.3" }
func (r *testRole) Dependencies() []string { return r.deps }
func (r *testRole) OnceDDL() []string      { return nil }
func (r *testRole) Init(ctx context.Context, c *role.Context) error {
	if r.init == nil {
		return nil
	}
	return r.init(ctx, c)
}
func (r *testRole) Stop(ctx context.Context, c *role.Context) error {
	r.stops.Add(1)
	if r.stop == nil {
		return nil
	}
	return r.stop(ctx, c)
}
func (r *testRole) Handlers() map[string]role.Handler { return r.handlers }

// watchingRole also watches its configuration and the leader.
type watchingRole struct {
	*testRole
	onConfig func(cfg map[string]any) error
	leaders  chan uint64
}

func (w watchingRole) OnConfigChange(_ context.Context, _ *role.Context, cfg map[string]any) error {
	return w.onConfig(cfg)
}
func (w watchingRole) OnLeaderChange(_ context.Context, _ *role.Context, id uint64) {
	if id == 666 {
		panic("no such leader")
	}
	w.leaders <- id
}

// loop stands for the daemon's event loop: done callbacks are posted to
// it and the test runs them one at a time, so a done that bypassed Post
// would leave next waiting.
type loop struct{ posted chan func() }

func newLoop() *loop { return &loop{posted: make(chan func(), 1000)} }

func (l *loop) post(f func()) { l.posted <- f }

// next runs the next posted callback.
func (l *loop) next(t *testing.T) {
	t.Helper()
	select {
	case f := <-l.posted:
		f()
	case <-time.After(5 * time.Second):
		t.Fatal("nothing was posted within 5s")
	}
}

type fixture struct {
	t      *testing.T
	r      *Runner
	loop   *loop
	logbuf *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newFixture(t *testing.T, roles ...role.Role) *fixture {
	f := &fixture{t: t, loop: newLoop(), logbuf: &syncBuffer{}}
	r, err := New(Config{
		Roles:       roles,
		Instance:    role.Instance{Name: "i1", Replicaset: "r1", Tier: "red", Address: "127.0.0.1:3301", ClusterID: "c"},
		Log:         slog.New(slog.NewTextHandler(f.logbuf, nil)),
		Post:        f.loop.post,
		InitTimeout: 200 * time.Millisecond,
		StopTimeout: 200 * time.Millisecond,
		CallTimeout: 200 * time.Millisecond,
	})
	require.NoError(t, err)
	f.r = r
	return f
}

func (f *fixture) start(name string, cfg map[string]any) error {
	var got error
	f.r.Start(name, cfg, func(err error) { got = err })
	f.loop.next(f.t)
	return got
}

func (f *fixture) stop(name string) error {
	var got error
	f.r.Stop(name, func(err error) { got = err })
	f.loop.next(f.t)
	return got
}

func (f *fixture) call(name, handler string, args ...any) (any, error) {
	var res any
	var got error
	f.r.Call(name, handler, args, 0, func(v any, err error) { res, got = v, err })
	f.loop.next(f.t)
	return res, got
}

func (f *fixture) configChanged(name string, cfg map[string]any) error {
	var got error
	f.r.ConfigChanged(name, cfg, func(err error) { got = err })
	f.loop.next(f.t)
	return got
}

func (f *fixture) leaderChanged(name string, id uint64) error {
	var got error
	f.r.LeaderChanged(name, id, func(err error) { got = err })
	f.loop.next(f.t)
	return got
}

func (f *fixture) status(name string) Status { return f.r.States()[name].Status }

// eventually waits for cond, which an abandoned callback makes true when
// it returns.
func eventually(t *testing.T, cond func() bool, what string) {
	t.Helper()
	require.Eventually(t, cond, 5*time.Second, time.Millisecond, what)
}

// The daemon's loop calls the Runner and receives its answers: with a
// Post that waits for the loop, an answer the Runner knows at once must
// not be posted while the loop is still in the call.
func TestNeverBlocksTheCaller(t *testing.T) {
	f := newFixture(t, &testRole{name: "a"})
	f.loop.posted = make(chan func()) // Post waits for next
	var errs []error
	f.r.Start("nope", nil, func(err error) { errs = append(errs, err) })
	f.r.Stop("a", func(err error) { errs = append(errs, err) })
	f.r.Call("a", "h", nil, 0, func(_ any, err error) { errs = append(errs, err) })
	f.r.ConfigChanged("a", nil, func(err error) { errs = append(errs, err) })
	f.r.LeaderChanged("a", 1, func(err error) { errs = append(errs, err) })
	require.Empty(t, errs, "done never runs before the call returns")
	for range 5 {
		f.loop.next(t)
	}
	require.Len(t, errs, 5)
}

func TestNewValidates(t *testing.T) {
	_, err := New(Config{Roles: []role.Role{&testRole{name: "a", deps: []string{"b"}}}})
	require.ErrorContains(t, err, `role "a" depends on "b", which is not a role`)
}

// The whole life of a role: Init sees its context, handlers answer, a new
// configuration reaches it, Stop ends it.
func TestLifecycle(t *testing.T) {
	var initCtx *role.Context
	kv := &testRole{name: "kv",
		init: func(_ context.Context, c *role.Context) error { initCtx = c; return nil },
		handlers: map[string]role.Handler{
			"echo":   func(_ context.Context, _ *role.Context, args []any) (any, error) { return args, nil },
			"config": func(_ context.Context, c *role.Context, _ []any) (any, error) { return c.Config["greeting"], nil },
		}}
	f := newFixture(t, kv)
	require.Equal(t, State{Name: "kv", Version: "1.2.3", Status: Stopped}, f.r.States()["kv"])

	require.NoError(t, f.start("kv", map[string]any{"greeting": "hello"}))
	require.Equal(t, Running, f.status("kv"))
	require.Equal(t, "i1", initCtx.Instance.Name)
	require.Equal(t, "red", initCtx.Instance.Tier)
	require.NotNil(t, initCtx.Metrics)
	initCtx.Log.Info("from the role")
	require.Contains(t, f.logbuf.String(), `msg="from the role" role=kv`)

	res, err := f.call("kv", "echo", int64(1), "two")
	require.NoError(t, err)
	require.Equal(t, []any{int64(1), "two"}, res)
	res, err = f.call("kv", "config")
	require.NoError(t, err)
	require.Equal(t, "hello", res)

	// A role that does not watch its configuration sees it in later calls.
	require.NoError(t, f.configChanged("kv", map[string]any{"greeting": "hi"}))
	res, _ = f.call("kv", "config")
	require.Equal(t, "hi", res)
	require.Equal(t, "hello", initCtx.Config["greeting"], "a Context handed out never changes")
	require.NoError(t, f.leaderChanged("kv", 2), "a role that does not watch the leader is not told")

	require.ErrorContains(t, f.start("kv", nil), "role kv is already running")
	require.NoError(t, f.stop("kv"))
	require.Equal(t, State{Name: "kv", Version: "1.2.3", Status: Stopped}, f.r.States()["kv"])
	require.EqualValues(t, 1, kv.stops.Load())
	require.NoError(t, f.stop("kv"), "stopping a stopped role does nothing")
	require.EqualValues(t, 1, kv.stops.Load())

	_, err = f.call("kv", "echo")
	require.ErrorContains(t, err, "role kv is stopped")
	require.ErrorContains(t, f.configChanged("kv", nil), "role kv is stopped")
	require.ErrorContains(t, f.start("nope", nil), `no role "nope" on this instance`)
	require.NoError(t, f.start("kv", nil), "a stopped role starts again")
}

func TestInitFails(t *testing.T) {
	broken := errors.New("no kafka")
	kafka := &testRole{name: "kafka", init: func(context.Context, *role.Context) error { return broken }}
	f := newFixture(t, kafka)
	err := f.start("kafka", nil)
	require.ErrorIs(t, err, broken)
	require.EqualError(t, err, "role kafka: Init: no kafka")
	s := f.r.States()["kafka"]
	require.Equal(t, Failed, s.Status)
	require.ErrorIs(t, s.Err, broken)
	require.Empty(t, s.Busy)

	require.NoError(t, f.stop("kafka"))
	require.Equal(t, Stopped, f.status("kafka"))
	require.Zero(t, kafka.stops.Load(), "the Stop of a role whose Init failed is not called")
}

func TestInitPanics(t *testing.T) {
	var starts atomic.Int32
	p := &testRole{name: "p", init: func(context.Context, *role.Context) error {
		if starts.Add(1) == 1 {
			panic("kafka is unreachable")
		}
		return nil
	}}
	f := newFixture(t, p)
	err := f.start("p", nil)
	var pe *PanicError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "Init", pe.Callback)
	require.EqualError(t, err, "role p: Init panicked: kafka is unreachable")
	require.Equal(t, Failed, f.status("p"))
	log := f.logbuf.String()
	require.Contains(t, log, "role callback panicked")
	require.Contains(t, log, "runner.TestInitPanics", "the stack names where it panicked")
	require.NotContains(t, log, "runtime/panic.go", "the stack starts below the runtime's panic")

	require.NoError(t, f.start("p", nil), "a failed role may start again")
	require.Equal(t, Running, f.status("p"))
}

// An Init that blocks past its deadline fails the start at the deadline
// and holds the role until it returns; if it returns success, Stop undoes
// what it did.
func TestInitBlocks(t *testing.T) {
	release := make(chan struct{})
	var blocked atomic.Bool
	blocked.Store(true)
	slow := &testRole{name: "slow", init: func(ctx context.Context, _ *role.Context) error {
		if blocked.Load() {
			<-release // ignores ctx, as a stuck role does
		}
		return nil
	}}
	f := newFixture(t, slow)
	began := time.Now()
	err := f.start("slow", nil)
	require.EqualError(t, err, "role slow: Init did not return within 200ms")
	require.Less(t, time.Since(began), 2*time.Second)
	s := f.r.States()["slow"]
	require.Equal(t, Failed, s.Status)
	require.Equal(t, "Init", s.Busy)

	require.ErrorContains(t, f.start("slow", nil), "role slow: its Init has not returned (running for")
	require.ErrorContains(t, f.stop("slow"), "role slow: its Init has not returned")

	blocked.Store(false)
	close(release)
	eventually(t, func() bool { return f.r.States()["slow"].Busy == "" }, "the abandoned Init returns and is stopped")
	require.EqualValues(t, 1, slow.stops.Load(), "a late successful Init is followed by Stop")
	require.Equal(t, Failed, f.status("slow"), "it still counts as failed")
	require.Contains(t, f.logbuf.String(), "abandoned role callback returned")

	require.NoError(t, f.start("slow", nil))
	require.Equal(t, Running, f.status("slow"))
}

// A role is stopped after Stop, whatever Stop did.
func TestStopFailsPanicsBlocks(t *testing.T) {
	broken := errors.New("cannot flush")
	release := make(chan struct{})
	defer close(release)
	roles := []*testRole{
		{name: "fails", stop: func(context.Context, *role.Context) error { return broken }},
		{name: "panics", stop: func(context.Context, *role.Context) error { panic(fmt.Errorf("wrapped %w", broken)) }},
		{name: "blocks", stop: func(context.Context, *role.Context) error { <-release; return nil }},
	}
	f := newFixture(t, roles[0], roles[1], roles[2])
	for _, r := range roles {
		require.NoError(t, f.start(r.name, nil))
	}

	err := f.stop("fails")
	require.ErrorIs(t, err, broken)
	require.Equal(t, State{Name: "fails", Version: "1.2.3", Status: Stopped, Err: err}, f.r.States()["fails"])

	err = f.stop("panics")
	require.EqualError(t, err, "role panics: Stop panicked: wrapped cannot flush")
	require.Equal(t, Stopped, f.status("panics"))

	err = f.stop("blocks")
	require.EqualError(t, err, "role blocks: Stop did not return within 200ms")
	s := f.r.States()["blocks"]
	require.Equal(t, Stopped, s.Status)
	require.Equal(t, "Stop", s.Busy)
	require.ErrorContains(t, f.start("blocks", nil), "its Stop has not returned")
}

func TestCall(t *testing.T) {
	mine := errors.New("key not found")
	var canceledOnStop atomic.Bool
	inHandler := make(chan struct{})
	h := &testRole{name: "h", handlers: map[string]role.Handler{
		"get":   func(context.Context, *role.Context, []any) (any, error) { return nil, mine },
		"crash": func(_ context.Context, _ *role.Context, args []any) (any, error) { return args[5], nil },
		"hang": func(ctx context.Context, _ *role.Context, _ []any) (any, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		},
		"wait": func(ctx context.Context, _ *role.Context, _ []any) (any, error) {
			close(inHandler)
			<-ctx.Done()
			canceledOnStop.Store(true)
			return nil, ctx.Err()
		},
	}}
	f := newFixture(t, h, &testRole{name: "bare"})
	_, err := f.call("h", "get")
	require.ErrorContains(t, err, "role h is stopped")
	require.NoError(t, f.start("h", nil))
	require.NoError(t, f.start("bare", nil))

	_, err = f.call("h", "get")
	require.Same(t, mine, err, "the handler's own error reaches the caller unchanged")

	_, err = f.call("h", "put")
	require.EqualError(t, err, `role h has no handler "put" (it has "crash", "get", "hang", "wait")`)
	_, err = f.call("bare", "x")
	require.EqualError(t, err, `role bare has no handler "x" (it has none)`)

	_, err = f.call("h", "crash", 1)
	require.EqualError(t, err, "role h: handler crash panicked: runtime error: index out of range [5] with length 1")
	require.Equal(t, Running, f.status("h"), "a handler's panic fails only the call")

	// The call's own timeout, shorter than CallTimeout.
	var got error
	f.r.Call("h", "hang", nil, 20*time.Millisecond, func(_ any, err error) { got = err })
	f.loop.next(t)
	require.EqualError(t, got, "role h: handler hang did not return within 20ms", "whether the handler gave up first or not")
	require.ErrorIs(t, got, context.DeadlineExceeded)
	eventually(t, func() bool { return f.r.States()["h"].Calls == 0 }, "the handler saw its deadline and returned")

	// A handler's context ends when its role stops.
	f.r.Call("h", "wait", nil, time.Minute, func(_ any, err error) { got = err })
	<-inHandler
	require.Equal(t, 1, f.r.States()["h"].Calls)
	require.NoError(t, f.stop("h"))
	f.loop.next(t)
	require.ErrorIs(t, got, context.Canceled)
	require.True(t, canceledOnStop.Load())
}

func TestConfigAndLeaderWatchers(t *testing.T) {
	w := watchingRole{testRole: &testRole{name: "w", handlers: map[string]role.Handler{
		"config": func(_ context.Context, c *role.Context, _ []any) (any, error) { return c.Config["n"], nil },
	}}, leaders: make(chan uint64, 10)}
	w.onConfig = func(cfg map[string]any) error {
		switch cfg["n"] {
		case 2:
			return errors.New("n must be odd")
		case 4:
			time.Sleep(time.Second)
		}
		return nil
	}
	f := newFixture(t, w)
	require.NoError(t, f.start("w", map[string]any{"n": 1}))

	require.EqualError(t, f.configChanged("w", map[string]any{"n": 2}), "role w: OnConfigChange: n must be odd")
	res, _ := f.call("w", "config")
	require.Equal(t, 1, res, "a rejected configuration is not taken")
	require.Equal(t, Running, f.status("w"), "nor does it stop the role")

	require.NoError(t, f.configChanged("w", map[string]any{"n": 3}))
	res, _ = f.call("w", "config")
	require.Equal(t, 3, res)

	require.NoError(t, f.leaderChanged("w", 7))
	require.Equal(t, uint64(7), <-w.leaders)
	require.EqualError(t, f.leaderChanged("w", 666), "role w: OnLeaderChange panicked: no such leader")

	require.EqualError(t, f.configChanged("w", map[string]any{"n": 4}), "role w: OnConfigChange did not return within 200ms")
	require.ErrorContains(t, f.leaderChanged("w", 8), "role w: its OnConfigChange has not returned")
	require.ErrorContains(t, f.stop("w"), "role w: its OnConfigChange has not returned")
	eventually(t, func() bool { return f.r.States()["w"].Busy == "" }, "the slow OnConfigChange returns")
	res, _ = f.call("w", "config")
	require.Equal(t, 4, res, "an abandoned OnConfigChange that succeeds late still applies: the role took it")
	require.NoError(t, f.stop("w"))
}

// Roles start in role.Order and stop in its reverse; the Runner refuses
// any other order.
func TestDependencies(t *testing.T) {
	var mu sync.Mutex
	var log []string
	record := func(name, what string) func(context.Context, *role.Context) error {
		return func(context.Context, *role.Context) error {
			mu.Lock()
			defer mu.Unlock()
			log = append(log, what+" "+name)
			return nil
		}
	}
	mk := func(name string, deps ...string) role.Role {
		return &testRole{name: name, deps: deps, init: record(name, "init"), stop: record(name, "stop")}
	}
	roles := []role.Role{mk("api", "storage", "zabbix"), mk("storage", "zabbix"), mk("zabbix"), mk("other")}
	f := newFixture(t, roles...)

	require.EqualError(t, f.start("storage", nil), "role storage depends on role zabbix, which is stopped")
	order, err := role.Order(roles, []string{"api"})
	require.NoError(t, err)
	for _, name := range order {
		require.NoError(t, f.start(name, nil))
	}
	require.EqualError(t, f.stop("zabbix"), "role zabbix cannot stop: role api, which depends on it, is running")
	for i := len(order) - 1; i >= 0; i-- {
		require.NoError(t, f.stop(order[i]))
	}
	require.Equal(t, []string{"init zabbix", "init storage", "init api", "stop api", "stop storage", "stop zabbix"}, log)
	var names []string
	for _, s := range f.r.StateList() {
		names = append(names, s.Name)
	}
	require.Equal(t, []string{"api", "other", "storage", "zabbix"}, names, "StateList is sorted by name")

	// A dependent that failed to start does not hold its dependency.
	roles[0].(*testRole).init = func(context.Context, *role.Context) error { return errors.New("no port") }
	require.NoError(t, f.start("zabbix", nil))
	require.NoError(t, f.start("storage", nil))
	require.Error(t, f.start("api", nil))
	require.NoError(t, f.stop("storage"))
}

func TestMetrics(t *testing.T) {
	counting := func(name string) *testRole {
		return &testRole{name: name, init: func(_ context.Context, c *role.Context) error {
			n := prometheus.NewCounter(prometheus.CounterOpts{Name: "app_messages_total", Help: "Messages handled."})
			n.Add(float64(len(name)))
			return c.Metrics.Register(n)
		}}
	}
	clashing := &testRole{name: "clash", init: func(_ context.Context, c *role.Context) error {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "app_clash", Help: "x"}, []string{RoleLabel})
		g.WithLabelValues("mine").Set(1)
		return c.Metrics.Register(g)
	}}
	f := newFixture(t, counting("kafka"), counting("storage"), clashing)
	require.NoError(t, f.start("kafka", nil))
	require.NoError(t, f.start("storage", nil))

	want := `# HELP app_messages_total Messages handled.
# TYPE app_messages_total counter
app_messages_total{role="kafka"} 5
app_messages_total{role="storage"} 7
`
	require.Equal(t, want, exposition(t, f.r.Gatherer()))
	// Gathering twice does not label twice.
	require.Equal(t, want, exposition(t, f.r.Gatherer()))

	require.NoError(t, f.stop("kafka"))
	require.Equal(t, `# HELP app_messages_total Messages handled.
# TYPE app_messages_total counter
app_messages_total{role="storage"} 7
`, exposition(t, f.r.Gatherer()), "a stopped role's metrics are gone")
	require.NoError(t, f.start("kafka", nil), "a restarted role registers afresh")

	require.NoError(t, f.start("clash", nil))
	families, err := f.r.Gatherer().Gather()
	require.ErrorContains(t, err, `role clash: metric app_clash has its own "role" label; left out`)
	require.Len(t, families, 1)
	require.Len(t, families[0].Metric, 2)
}

// exposition is what g gathers, as /metrics shows it.
func exposition(t *testing.T, g prometheus.Gatherer) string {
	t.Helper()
	families, err := g.Gather()
	require.NoError(t, err)
	var b bytes.Buffer
	for _, mf := range families {
		_, err := expfmt.MetricFamilyToText(&b, mf)
		require.NoError(t, err)
	}
	return b.String()
}

// Many calls at once, while the configuration changes and a role stops
// and starts: run with -race.
func TestConcurrentCalls(t *testing.T) {
	var served atomic.Int64
	kv := &testRole{name: "kv", handlers: map[string]role.Handler{
		"add": func(_ context.Context, c *role.Context, args []any) (any, error) {
			served.Add(1)
			return args[0].(int64) + int64(len(c.Config)), nil
		},
	}}
	f := newFixture(t, kv)
	require.NoError(t, f.start("kv", map[string]any{}))
	f.r.cfg.Post = func(fn func()) { fn() } // done runs on the runner's goroutines

	const callers, calls = 8, 50
	var wg sync.WaitGroup
	var ok, refused atomic.Int64
	for i := range callers {
		wg.Go(func() {
			for j := range calls {
				res := make(chan error, 1)
				f.r.Call("kv", "add", []any{int64(i*calls + j)}, time.Second, func(v any, err error) {
					if err == nil && v.(int64) < int64(i*calls+j) {
						err = fmt.Errorf("bad result %v", v)
					}
					res <- err
				})
				if err := <-res; err == nil {
					ok.Add(1)
				} else {
					require.ErrorContains(t, err, "role kv is")
					refused.Add(1)
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 20 {
			res := make(chan error, 1)
			f.r.ConfigChanged("kv", map[string]any{"i": i}, func(err error) { res <- err })
			<-res
			_ = f.r.States()
		}
		res := make(chan error, 1)
		f.r.Stop("kv", func(err error) { res <- err })
		require.NoError(t, <-res)
		f.r.Start("kv", nil, func(err error) { res <- err })
		require.NoError(t, <-res)
	})
	wg.Wait()
	require.Equal(t, int64(callers*calls), ok.Load()+refused.Load())
	require.Equal(t, ok.Load(), served.Load())
	require.Zero(t, f.r.States()["kv"].Calls)
}

// The Runner's own metrics show each role's status and how its callbacks
// ended.
func TestRunnerMetrics(t *testing.T) {
	var starts atomic.Int32
	a := &testRole{name: "a",
		init: func(context.Context, *role.Context) error {
			if starts.Add(1) == 1 {
				return errors.New("not yet")
			}
			return nil
		},
		handlers: map[string]role.Handler{
			"ok":    func(context.Context, *role.Context, []any) (any, error) { return 1, nil },
			"crash": func(context.Context, *role.Context, []any) (any, error) { panic("crash") },
			"hang": func(ctx context.Context, _ *role.Context, _ []any) (any, error) {
				<-ctx.Done()
				return nil, ctx.Err()
			},
		}}
	f := newFixture(t, a)
	reg := prometheus.NewRegistry()
	reg.MustRegister(f.r.Collector())

	require.Error(t, f.start("a", nil))
	require.NoError(t, f.start("a", nil))
	for _, h := range []string{"ok", "ok", "crash", "hang"} {
		_, _ = f.call("a", h)
	}
	// hang may have been abandoned a moment before it gave up.
	eventually(t, func() bool { return f.r.States()["a"].Calls == 0 }, "hang returns")
	require.Equal(t, `# HELP picogo_role_callbacks_total Role callbacks by role, callback (Init, Stop, OnConfigChange, OnLeaderChange, handler <name>) and outcome (ok, error, panic, timeout).
# TYPE picogo_role_callbacks_total counter
picogo_role_callbacks_total{callback="Init",outcome="error",role="a"} 1
picogo_role_callbacks_total{callback="Init",outcome="ok",role="a"} 1
picogo_role_callbacks_total{callback="handler crash",outcome="panic",role="a"} 1
picogo_role_callbacks_total{callback="handler hang",outcome="timeout",role="a"} 1
picogo_role_callbacks_total{callback="handler ok",outcome="ok",role="a"} 2
# HELP picogo_role_calls_in_flight Handler calls of each role that have not returned, abandoned ones included.
# TYPE picogo_role_calls_in_flight gauge
picogo_role_calls_in_flight{role="a"} 0
# HELP picogo_role_status Where each role is in its lifecycle on this instance: 1 for its status, 0 for the others.
# TYPE picogo_role_status gauge
picogo_role_status{role="a",status="failed"} 0
picogo_role_status{role="a",status="running"} 1
picogo_role_status{role="a",status="starting"} 0
picogo_role_status{role="a",status="stopped"} 0
picogo_role_status{role="a",status="stopping"} 0
`, exposition(t, reg))
}

// An instance that learns its name when it joins: roles started after
// SetInstance see it; one started before keeps what it was given.
func TestSetInstance(t *testing.T) {
	got := make(chan role.Instance, 2)
	mk := func(name string) *testRole {
		return &testRole{name: name, init: func(_ context.Context, c *role.Context) error { got <- c.Instance; return nil }}
	}
	f := newFixture(t, mk("early"), mk("late"))
	require.NoError(t, f.start("early", nil))
	require.Equal(t, "i1", (<-got).Name)

	joined := role.Instance{Name: "storage_1_1", Replicaset: "storage_1", Tier: "storage", Address: "127.0.0.1:3301", ClusterID: "c"}
	var wg sync.WaitGroup
	for range 4 { // concurrent use, for -race
		wg.Add(1)
		go func() { defer wg.Done(); f.r.SetInstance(joined); _ = f.r.Instance() }()
	}
	wg.Wait()
	require.Equal(t, joined, f.r.Instance())
	require.NoError(t, f.start("late", nil))
	require.Equal(t, joined, <-got)
	require.NoError(t, f.stop("early"))
	require.NoError(t, f.start("early", nil))
	require.Equal(t, joined, <-got, "a start after SetInstance sees the new instance")
}

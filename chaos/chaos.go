package chaos

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/workload"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	lin "github.com/picogo/picogo/linearizability"
	"github.com/picogo/picogo/proc"
)

// Config is one chaos run.
type Config struct {
	// Binary is the picogo executable to run instances of.
	Binary string
	// Instances is the cluster's size, 3 to 5 (default 3).
	Instances int
	// Clients is the number of concurrent clients, each one goroutine
	// (default 6).
	Clients int
	// Cycles is the number of fault cycles (0: none, the clients run on
	// a healthy cluster for a second).
	Cycles int
	// Seed seeds the fault choices and the clients' choices of keys and
	// operations (default 1). Timing is real, so a seed does not replay a
	// run; it replays the dice.
	Seed uint64
	// Dir is where the run's directory (instances' data and logs, the
	// history's HTML) is made; default: the system's temporary directory.
	Dir string
	// Keep keeps the run's directory when the run passes (a failing run
	// always keeps it).
	Keep bool
	// Tick is the instances' --tick (default 30ms: elections in 0.3–0.6 s).
	Tick time.Duration
	// Keys is the number of keys the clients write (default 8).
	Keys int
	// MaxOpsPerClient bounds each client's operations (default 200000);
	// the faults end the run, this only bounds the history.
	MaxOpsPerClient int
	// CheckTimeout bounds the linearizability check (default 5 minutes);
	// a check cut short fails the run.
	CheckTimeout time.Duration
	// Sharded runs the sharded workload instead: a synchronous tier of
	// replication factor 2, 4 instances (2 replicasets) at the start, a
	// sharded table written and read through the routers of random
	// instances; during the cycles a third replicaset joins and later one
	// of the first two is drained. Instances is then ignored.
	Sharded bool
	// Out receives progress lines (nil: discarded).
	Out io.Writer
}

func (c *Config) defaults() error {
	if c.Binary == "" {
		return errors.New("chaos: no picogo binary given")
	}
	if c.Sharded {
		c.Instances = shardedInstances
	}
	if c.Instances == 0 {
		c.Instances = 3
	}
	if c.Instances < 3 || c.Instances > 5 {
		return fmt.Errorf("chaos: %d instances; want 3 to 5", c.Instances)
	}
	if c.Clients == 0 {
		c.Clients = 6
	}
	if c.Clients < 1 || c.Clients > 64 {
		return fmt.Errorf("chaos: %d clients; want 1 to 64", c.Clients)
	}
	if c.Cycles < 0 {
		return fmt.Errorf("chaos: %d cycles", c.Cycles)
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Tick == 0 {
		c.Tick = 30 * time.Millisecond
	}
	if c.Keys == 0 {
		c.Keys = 8
	}
	if c.MaxOpsPerClient == 0 {
		c.MaxOpsPerClient = 200000
	}
	if c.CheckTimeout == 0 {
		c.CheckTimeout = 5 * time.Minute
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	return nil
}

// Report is a run's outcome.
type Report struct {
	// Dir is the run's directory: i1/, i2/... (data), i1.log, ... and,
	// on a linearizability failure, history.html. Removed after a passing
	// run unless Config.Keep.
	Dir  string
	Kept bool

	Cycles        int // fault cycles run
	Ops           int // operations in the history, final reads included
	Reads         int // clients' linearizable reads (final reads not included)
	Writes        int // CaS writes sent
	Acked         int // writes acknowledged
	Indeterminate int // operations that ended Unknown (timeout, lost connection)

	// Lin is the linearizability check's result; HTML is porcupine's
	// view of the history when it is not linearizable.
	Lin  lin.Result
	HTML string
	// Lost describes every acknowledged write the final state lost.
	Lost []string
	// Problems is everything else that fails the run: an instance that
	// exited by itself, a cluster that did not recover or settle, a
	// replica that differs, a final state nobody wrote.
	Problems []string
}

// Linearizable reports whether the check said yes.
func (r Report) Linearizable() bool { return r.Lin.Verdict == lin.VerdictOk }

// Passed reports whether the run passed: linearizable, no write lost, no
// other problem.
func (r Report) Passed() bool {
	return r.Linearizable() && len(r.Lost) == 0 && len(r.Problems) == 0
}

// Summary is the report as `picogo chaos` prints it.
func (r Report) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cycles run: %d\n", r.Cycles)
	fmt.Fprintf(&b, "operations: %d (%d reads, %d writes, the rest final reads)\n", r.Ops, r.Reads, r.Writes)
	fmt.Fprintf(&b, "acked writes: %d\n", r.Acked)
	fmt.Fprintf(&b, "indeterminate ops: %d\n", r.Indeterminate)
	fmt.Fprintf(&b, "lost writes: %d\n", len(r.Lost))
	for _, l := range r.Lost {
		fmt.Fprintf(&b, "  LOST: %s\n", l)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "  PROBLEM: %s\n", p)
	}
	switch r.Lin.Verdict {
	case lin.VerdictOk:
		fmt.Fprintf(&b, "linearizable: yes\n")
	case lin.VerdictIllegal:
		fmt.Fprintf(&b, "linearizable: no (first failing key %q)\n", r.Lin.Failing)
	default:
		fmt.Fprintf(&b, "linearizable: no (the check did not finish: %q)\n", r.Lin.Verdict)
	}
	if r.HTML != "" {
		fmt.Fprintf(&b, "history visualization: %s\n", r.HTML)
	}
	if r.Kept {
		fmt.Fprintf(&b, "data and logs kept in: %s\n", r.Dir)
	}
	return b.String()
}

// runner is one run in progress.
type runner struct {
	cfg             Config
	out             func(format string, a ...any)
	adminPassword   string
	servicePassword string
	c               *cluster
	w               *load

	// The sharded workload's: the instances that join during the run,
	// the harness's admin connections, its own dice, the replicaset
	// drained, and the buckets' owners at rest.
	extra   []*instance
	admin   *rpc
	rng     *rand.Rand
	drained string
	owners  map[string]uint64
}

// Run runs the chaos test. The error is for a run that could not be
// carried out at all (the cluster did not form, a process did not start);
// a run that found something wrong returns a Report that did not pass.
// ctx cancels the run: faults stop, processes are killed.
func Run(ctx context.Context, cfg Config) (rep Report, err error) {
	if err := cfg.defaults(); err != nil {
		return Report{}, err
	}
	if _, err := os.Stat(cfg.Binary); err != nil {
		return Report{}, fmt.Errorf("chaos: the picogo binary: %w", err)
	}
	dir, err := os.MkdirTemp(cfg.Dir, "picogo-chaos-")
	if err != nil {
		return Report{}, err
	}
	rep.Dir = dir
	var outMu sync.Mutex
	r := &runner{cfg: cfg, adminPassword: secret(), servicePassword: secret(),
		out: func(format string, a ...any) {
			outMu.Lock()
			defer outMu.Unlock()
			fmt.Fprintf(cfg.Out, "%s %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, a...))
		}}
	var more []string
	extra := 0
	if cfg.Sharded {
		if more, err = writeInitCfg(dir); err != nil {
			return rep, err
		}
		extra = shardedExtra
	}
	ins, extras, err := newInstances(dir, cfg.Binary, cfg.Instances, extra, cfg.Tick, r.servicePassword, r.adminPassword, more...)
	if err != nil {
		return rep, err
	}
	r.extra = extras
	r.rng = rand.New(rand.NewPCG(cfg.Seed, 0x5a4d))
	r.admin = newRPC(proc.Admin, r.adminPassword)
	defer r.admin.close()
	r.c = newCluster(ins, extras, r.servicePassword)
	collected := 0 // problems already in the report
	defer func() {
		r.c.killAll()
		rep.Problems = append(rep.Problems, r.c.takeProblems()[collected:]...) // a kill that failed
		if err != nil || !rep.Passed() || cfg.Keep {
			rep.Kept = true
			return
		}
		if e := os.RemoveAll(dir); e != nil {
			rep.Kept = true
		}
	}()
	workloadName := "global table, CaS"
	if cfg.Sharded {
		workloadName = fmt.Sprintf("sharded table through the router, sync tier RF 2, +%d instances during the run", extra)
	}
	r.out("chaos (%s): %d instances, %d clients, %d cycles, seed %d, tick %v; data and logs in %s",
		workloadName, cfg.Instances, cfg.Clients, cfg.Cycles, cfg.Seed, cfg.Tick, dir)
	if err := r.setup(ctx); err != nil {
		return rep, err
	}
	rep.Cycles, err = r.chaos(ctx)
	if err != nil {
		return rep, err
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	finish := r.finish
	if cfg.Sharded {
		finish = r.shardedFinish
	}
	ev, err := finish(ctx)
	ev.writes = r.w.writeRecords()
	if err != nil {
		rep.Problems = append(rep.Problems, err.Error())
	}
	r.out("checking %d operations for linearizability", r.w.history.Len())
	checkBegan := time.Now()
	v := judge(ev, cfg.CheckTimeout)
	r.out("checked in %.1fs: %v", time.Since(checkBegan).Seconds(), v.lin)
	rep.Lin, rep.Lost = v.lin, v.lost
	rep.Problems = append(rep.Problems, v.other...)
	problems := r.c.takeProblems()
	collected = len(problems)
	rep.Problems = append(problems, rep.Problems...)
	rep.Ops = r.w.history.Len()
	rep.Reads = int(r.w.stats.reads.Load())
	rep.Writes = int(r.w.stats.writes.Load())
	rep.Acked = int(r.w.stats.acked.Load())
	rep.Indeterminate = int(r.w.stats.unknown.Load())
	if v.lin.Verdict == lin.VerdictIllegal {
		html := filepath.Join(dir, "history.html")
		if err := lin.WriteVisualization(v.lin, html); err != nil {
			rep.Problems = append(rep.Problems, "writing the history's visualization: "+err.Error())
		} else {
			rep.HTML = html
		}
	}
	return rep, nil
}

// secret is a random password for the run.
func secret() string {
	b := make([]byte, 12)
	_, _ = crand.Read(b)
	return hex.EncodeToString(b)
}

// setup starts the cluster, waits until it has settled and admin's
// password is applied everywhere, and creates the kv table.
func (r *runner) setup(ctx context.Context) error {
	began := time.Now()
	for _, in := range r.c.members() {
		if err := in.start(); err != nil {
			return err
		}
	}
	var leader *instance
	err := eventually(ctx, 60*time.Second, "the cluster forms and settles", func() error {
		if p := r.c.takeProblems(); len(p) > 0 {
			return fmt.Errorf("%s", strings.Join(p, "; "))
		}
		l, infos, err := r.c.settled()
		if err == nil {
			leader = l
			r.c.learnIDs(infos)
		}
		return err
	})
	if err != nil {
		return r.withLogs(err)
	}
	for _, in := range r.c.members() {
		if err := eventually(ctx, 20*time.Second, in.name+" applies admin's password", func() error {
			return r.c.adminPasswordApplied(in)
		}); err != nil {
			return r.withLogs(err)
		}
	}
	admin := newRPC(proc.Admin, r.adminPassword)
	defer admin.close()
	err = eventually(ctx, 30*time.Second, "creating the kv table", func() error {
		if l := r.c.leader(); l != nil {
			leader = l
		}
		if r.cfg.Sharded {
			return createShardedTable(admin, leader)
		}
		return createTable(admin, leader)
	})
	if err != nil {
		return r.withLogs(err)
	}
	if r.cfg.Sharded {
		err = eventually(ctx, 60*time.Second, "every instance routes to the sharded table", func() error {
			return r.routable(admin)
		})
		if err != nil {
			return r.withLogs(err)
		}
	}
	r.out("cluster settled, leader %s, table kv created (%.1fs)", leader.name, time.Since(began).Seconds())
	return nil
}

// withLogs adds the tail of every instance's log to a setup failure.
func (r *runner) withLogs(err error) error {
	if err == errStopped {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%v", err)
	for _, in := range r.c.members() {
		fmt.Fprintf(&b, "\n---- tail of %s ----\n%s", in.logPath, in.logTail(4<<10))
	}
	return errors.New(b.String())
}

// chaos runs the clients and, meanwhile, the fault cycles; then stops the
// clients and waits for them. It returns the cycles run.
func (r *runner) chaos(ctx context.Context) (int, error) {
	r.w = &load{c: r.c, keys: r.cfg.Keys, sharded: r.cfg.Sharded, started: time.Now()}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range r.cfg.Clients {
		cl := newClient(r.w, i, r.cfg.Seed, r.adminPassword)
		wg.Go(func() {
			defer cl.close()
			cl.run(stop, r.cfg.MaxOpsPerClient, 5*time.Millisecond)
		})
	}
	f := &faults{c: r.c, rng: rand.New(rand.NewPCG(r.cfg.Seed, 0xfa17)), out: r.out}
	// Let the clients work on a healthy cluster first.
	select {
	case <-ctx.Done():
	case <-time.After(time.Second):
	}
	cycles := 0
	var err error
	// The sharded workload's topology changes: a replicaset joins before
	// cycle addAt, one is drained before cycle drainAt (after the last
	// cycle when there are fewer).
	addAt, drainAt := max(1, r.cfg.Cycles/3), max(2, 2*r.cfg.Cycles/3)
	added, drained := !r.cfg.Sharded, !r.cfg.Sharded
	topology := func(n int) error {
		if !added && n >= addAt {
			added = true
			if err := r.addReplicaset(ctx); err != nil {
				return err
			}
		}
		if !drained && n >= drainAt {
			drained = true
			if err := r.drain(ctx); err != nil {
				return err
			}
		}
		return nil
	}
	for n := 1; n <= r.cfg.Cycles && ctx.Err() == nil; n++ {
		if err = topology(n); err != nil {
			break
		}
		if err = f.cycle(ctx, n, r.cfg.Cycles); err != nil {
			break
		}
		cycles++
	}
	if err == nil && ctx.Err() == nil {
		err = topology(max(addAt, drainAt))
	}
	if err == nil && ctx.Err() == nil {
		// And after the last fault.
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	close(stop)
	// Every call has its timeout, so each client stops within a few
	// seconds; the wait is bounded all the same.
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		return cycles, errors.New("chaos: clients did not stop within a minute of being told to")
	}
	r.out("faults stopped after %d cycles; clients stopped: %d operations", cycles, r.w.history.Len())
	return cycles, err
}

// bringBackAndSettle resumes and starts every member, and waits (at most
// limit) until the cluster settles; it answers the leader.
func (r *runner) bringBackAndSettle(ctx context.Context, limit time.Duration) (*instance, error) {
	for _, in := range r.c.members() {
		if err := in.resume(); err != nil {
			return nil, err
		}
		if !in.running() {
			if err := in.start(); err != nil {
				return nil, err
			}
		}
	}
	began := time.Now()
	var leader *instance
	err := eventually(ctx, limit, "the cluster settles after the faults", func() error {
		l, _, err := r.c.settled()
		leader = l
		return err
	})
	if err != nil {
		return nil, err
	}
	r.out("cluster settled after the faults (%.1fs), leader %s", time.Since(began).Seconds(), leader.name)
	return leader, nil
}

// finish brings every instance back, waits for the cluster to settle, and
// gathers the final state: each key read linearizably (into the history,
// as one more client), and each instance's whole kv table once it has
// applied what the leader had.
func (r *runner) finish(ctx context.Context) (evidence, error) {
	ev := evidence{history: &r.w.history, final: map[string]finalValue{}, replicas: map[string]map[string]string{}}
	leader, err := r.bringBackAndSettle(ctx, 90*time.Second)
	if err != nil {
		return ev, err
	}

	final := newRPC(proc.Admin, r.adminPassword)
	defer final.close()
	finalClient := r.cfg.Clients // the next client id
	for k := range r.cfg.Keys {
		key := fmt.Sprintf("k%d", k)
		err := eventually(ctx, 20*time.Second, "final read of "+key, func() error {
			id := r.w.history.Call(finalClient, lin.Get(key), r.w.now())
			out, e := readOnce(final, leader.addr, key)
			r.w.history.Return(id, out, r.w.now())
			if out.Kind != lin.Ok {
				if e != nil {
					return e
				}
				return errors.New("no answer")
			}
			ev.final[key] = finalValue{Value: out.Value, Found: out.Found}
			return nil
		})
		if err != nil {
			return ev, err
		}
	}
	info, err := final.raftInfo(leader.addr, callTimeout)
	if err != nil {
		return ev, fmt.Errorf("the leader's raft info after the final reads: %v", err)
	}
	for _, in := range r.c.members() {
		if _, e, err := final.call(in.addr, api.WaitIndex{Target: info.Applied, Timeout: 10 * time.Second}, 11*time.Second); err != nil || e != nil {
			return ev, fmt.Errorf("%s: waiting for index %d: %v%v", in.name, info.Applied, err, e)
		}
		rows, e, err := final.rows(in.addr, workload.Table, nil, 5*time.Second)
		if err != nil || e != nil {
			return ev, fmt.Errorf("%s: reading the kv table: %v%v", in.name, err, e)
		}
		table := map[string]string{}
		for _, row := range rows {
			if len(row) != 2 {
				return ev, fmt.Errorf("%s: kv row %v", in.name, row)
			}
			k, _ := row[0].(string)
			v, _ := row[1].(string)
			table[k] = v
		}
		ev.replicas[in.name] = table
	}
	return ev, nil
}

package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/internal/procs"
)

// The phases, in the order they run.
const (
	PhaseWrites   = "writes"
	PhaseCalls    = "calls"
	PhaseInserts  = "inserts"
	PhaseRestart  = "restart"
	PhaseSQL      = "sql"
	PhaseSQLScan  = "sql-scan"
	PhasePG       = "pg"
	PhaseSharding = "sharding"
	PhaseSim      = "sim"
)

var phases = []string{PhaseWrites, PhaseCalls, PhaseInserts, PhaseSQL, PhaseSQLScan, PhasePG, PhaseRestart, PhaseSharding, PhaseSim}

// Config is what `picogo bench` is asked to do.
type Config struct {
	Duration  time.Duration // measured time of one round
	Warmup    time.Duration // unmeasured load before each round
	Rounds    int           // rounds per system per client count
	Clients   []int         // concurrent clients, one load level each
	Only      []string      // phases to run (all when empty)
	Conns     int           // connections per system, shared by its clients
	KeySize   int
	ValueSize int
	SimSeeds  int // seeds of the simulator phase
	// RestartRows: rows in the table the restart phase restarts with.
	RestartRows int
	// RestartEntries: Raft log entries (.proc_cas writes) written before
	// the restart phase restarts picogo with them (0: not measured).
	RestartEntries int
	// ShardingRows: rows loaded before the sharding phase's rebalance (0:
	// no rebalance); ShardingReplicasets: the replicaset counts its routed
	// writes run at.
	ShardingRows        int
	ShardingReplicasets []int
	// SQLRows: rows in the table the sql-scan phase aggregates;
	// SQLReplicasets: picogo's replicaset counts (one instance each) it
	// runs at; SQLQueries: runs of the query per system.
	SQLRows        int
	SQLReplicasets []int
	SQLQueries     int
	// SQLLoaders: goroutines loading the sql-scan rows, one multi-row
	// INSERT at a time each (over sqlScanConns connections).
	SQLLoaders int

	Picogo, Etcd, Tarantool string // binaries (Picogo empty: this executable)
	// Postgres is the directory of PostgreSQL's initdb and postgres (empty:
	// the newest /usr/lib/postgresql/*/bin, else postgres on PATH).
	Postgres string

	WorkDir string // data and logs ("" : a new temporary directory)
	Keep    bool   // keep WorkDir after the run
	// Profile: save a CPU profile of picogo (the leader for writes) for
	// every picogo round into this directory.
	Profile string
	Out     string // also write the report here
	Command string // the command line, for the report's header
}

// DefaultConfig is `picogo bench` without flags.
func DefaultConfig() Config {
	return Config{Duration: 10 * time.Second, Warmup: time.Second, Rounds: 2, Clients: []int{1, 16, 64},
		Conns: 1, KeySize: 16, ValueSize: 100, SimSeeds: 100, RestartRows: 1_000_000, RestartEntries: 1_000_000,
		ShardingRows: 1_000_000, ShardingReplicasets: []int{1, 2, 3},
		SQLRows: 1_000_000, SQLReplicasets: []int{1, 2, 3}, SQLQueries: 5, SQLLoaders: 8,
		Etcd: "etcd", Tarantool: "tarantool"}
}

// listFlag is a comma-separated flag value.
type listFlag struct {
	set func(string) error
	get func() string
}

func (l listFlag) Set(s string) error { return l.set(s) }
func (l listFlag) String() string {
	if l.get == nil {
		return ""
	}
	return l.get()
}

// RegisterFlags defines the bench's flags on fs, writing into cfg (which
// holds the defaults).
func RegisterFlags(fs *flag.FlagSet, cfg *Config) {
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "measured time of one round")
	fs.DurationVar(&cfg.Warmup, "warmup", cfg.Warmup, "load before each round that is not measured")
	fs.IntVar(&cfg.Rounds, "rounds", cfg.Rounds, "rounds per system at each client count (A/B/A/B...)")
	fs.Var(listFlag{
		set: func(s string) (err error) { cfg.Clients, err = ParseClients(s); return err },
		get: func() string { return joinInts(cfg.Clients) },
	}, "clients", "comma-separated numbers of concurrent clients")
	fs.Var(listFlag{
		set: func(s string) (err error) { cfg.Only, err = ParseOnly(s); return err },
		get: func() string { return strings.Join(cfg.Only, ",") },
	}, "only", "run only these phases: "+strings.Join(phases, ", ")+" (comma-separated; default all)")
	fs.IntVar(&cfg.Conns, "conns", cfg.Conns, "connections per system, shared by its clients round-robin")
	fs.IntVar(&cfg.KeySize, "key-size", cfg.KeySize, "bytes per key written")
	fs.IntVar(&cfg.ValueSize, "value-size", cfg.ValueSize, "bytes per value written")
	fs.IntVar(&cfg.SimSeeds, "sim-seeds", cfg.SimSeeds, "simulator seeds to run (from seed 1)")
	fs.IntVar(&cfg.RestartRows, "restart-rows", cfg.RestartRows, "rows loaded before the restart phase restarts picogo (0: not measured)")
	fs.IntVar(&cfg.RestartEntries, "restart-entries", cfg.RestartEntries, "Raft log entries (.proc_cas writes) written before the restart phase restarts picogo with them (0: not measured)")
	fs.IntVar(&cfg.ShardingRows, "sharding-rows", cfg.ShardingRows, "rows loaded before the sharding phase's rebalance (0: no rebalance)")
	fs.Var(listFlag{
		set: func(s string) (err error) { cfg.ShardingReplicasets, err = ParseClients(s); return err },
		get: func() string { return joinInts(cfg.ShardingReplicasets) },
	}, "sharding-replicasets", "comma-separated replicaset counts (2 instances each) the sharding phase's routed writes run at")
	fs.IntVar(&cfg.SQLRows, "sql-rows", cfg.SQLRows, "rows the sql-scan phase aggregates (loaded by multi-row INSERTs of 1000)")
	fs.Var(listFlag{
		set: func(s string) (err error) { cfg.SQLReplicasets, err = ParseClients(s); return err },
		get: func() string { return joinInts(cfg.SQLReplicasets) },
	}, "sql-replicasets", "comma-separated picogo replicaset counts (1 instance each) the sql-scan phase runs at")
	fs.IntVar(&cfg.SQLQueries, "sql-queries", cfg.SQLQueries, "runs of the sql-scan aggregate per system (the median is reported)")
	fs.IntVar(&cfg.SQLLoaders, "sql-loaders", cfg.SQLLoaders, "concurrent multi-row INSERTs loading the sql-scan rows (over 4 connections; SQLite: one)")
	fs.StringVar(&cfg.Picogo, "picogo", cfg.Picogo, "picogo binary to start (default: this one)")
	fs.StringVar(&cfg.Etcd, "etcd", cfg.Etcd, "etcd binary")
	fs.StringVar(&cfg.Tarantool, "tarantool", cfg.Tarantool, "tarantool binary")
	fs.StringVar(&cfg.Postgres, "postgres", cfg.Postgres, "directory of PostgreSQL's initdb and postgres (default: the newest "+pgDebianRoot+"/*/bin, else postgres on PATH)")
	fs.StringVar(&cfg.WorkDir, "work-dir", cfg.WorkDir, "directory for the processes' data and logs (default: a new temporary one)")
	fs.BoolVar(&cfg.Keep, "keep", cfg.Keep, "keep the data and logs after the run (and say where)")
	fs.StringVar(&cfg.Out, "out", cfg.Out, "also write the report (markdown, with the machine and versions) to this file")
	fs.StringVar(&cfg.Profile, "profile", cfg.Profile, "save a CPU profile of picogo's leader for each picogo round into this directory (writes-16-r1.pprof, ...)")
}

// ParseClients parses "1,16,64": positive, distinct, in the order given.
func ParseClients(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("clients: %q is not a positive number", f)
		}
		if n > 4096 {
			return nil, fmt.Errorf("clients: %d is more than 4096", n)
		}
		if slices.Contains(out, n) {
			return nil, fmt.Errorf("clients: %d given twice", n)
		}
		out = append(out, n)
	}
	return out, nil
}

// ParseOnly parses "writes,sim": known phases, each once.
func ParseOnly(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if !slices.Contains(phases, f) {
			return nil, fmt.Errorf("only: unknown phase %q (%s)", f, strings.Join(phases, ", "))
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// Validate checks the configuration's bounds.
func (c Config) Validate() error {
	switch {
	case c.Duration <= 0:
		return errors.New("duration must be positive")
	case c.Warmup < 0:
		return errors.New("warmup must not be negative")
	case c.Rounds < 1:
		return errors.New("rounds must be at least 1")
	case len(c.Clients) == 0:
		return errors.New("no client counts")
	case c.Conns < 1:
		return errors.New("conns must be at least 1")
	case c.KeySize < 8 || c.KeySize > 1024:
		return errors.New("key-size must be within 8..1024")
	case c.ValueSize < 1 || c.ValueSize > 64<<10:
		return errors.New("value-size must be within 1..65536")
	case c.SimSeeds < 1:
		return errors.New("sim-seeds must be at least 1")
	case c.RestartRows < 0 || c.RestartEntries < 0 || c.RestartRows+c.RestartEntries < 1:
		return errors.New("restart-rows and restart-entries must not be negative, and not both 0")
	case c.ShardingRows < 0:
		return errors.New("sharding-rows must not be negative")
	case c.SQLRows < 1:
		return errors.New("sql-rows must be at least 1")
	case len(c.SQLReplicasets) == 0:
		return errors.New("no sql-replicasets")
	case c.SQLQueries < 1:
		return errors.New("sql-queries must be at least 1")
	case c.SQLLoaders < 1:
		return errors.New("sql-loaders must be at least 1")
	}
	return nil
}

func (c Config) runs(phase string) bool {
	return len(c.Only) == 0 || slices.Contains(c.Only, phase)
}

// keySource hands out unique keys of a fixed size: a prefix, zeros, a
// counter.
type keySource struct {
	n      *atomic.Uint64
	prefix string
	size   int
}

func newKeySource(prefix string, size int) keySource {
	return keySource{n: new(atomic.Uint64), prefix: prefix, size: size}
}

func (k keySource) next() string {
	num := strconv.FormatUint(k.n.Add(1), 10)
	pad := k.size - len(k.prefix) - len(num)
	if pad < 0 {
		return k.prefix + num // the counter outgrew the size: keep keys unique
	}
	return k.prefix + strings.Repeat("0", pad) + num
}

// benchValue is the value every write writes: size random letters and
// digits (the same bytes for both systems).
func benchValue(size int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	rng := rand.New(rand.NewPCG(6, 1))
	b := make([]byte, size)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

// Run runs the phases cfg asks for and prints the report to stdout (and
// cfg.Out); progress goes to stderr. Whatever happens, every process it
// started is killed before it returns; on an error, what was measured
// until then is still printed.
func Run(ctx context.Context, cfg Config, stdout, stderr io.Writer) (err error) {
	if err := cfg.Validate(); err != nil {
		return err
	}
	progress := func(s string) { fmt.Fprintf(stderr, "%s %s\n", time.Now().Format("15:04:05"), s) }
	if cfg.Picogo == "" && (cfg.runs(PhaseWrites) || cfg.runs(PhaseCalls) || cfg.runs(PhaseInserts) && picogoInserts != nil || cfg.runs(PhaseSQL) || cfg.runs(PhaseSQLScan) || cfg.runs(PhasePG) ||
		cfg.runs(PhaseRestart) || cfg.runs(PhaseSharding)) {
		if cfg.Picogo, err = os.Executable(); err != nil {
			return err
		}
	}
	for _, need := range []struct {
		bin   *string
		phase string
	}{{&cfg.Etcd, PhaseWrites}, {&cfg.Tarantool, PhaseCalls}, {&cfg.Tarantool, PhaseInserts}, {&cfg.Tarantool, PhaseSQL}, {&cfg.Tarantool, PhaseSQLScan}} {
		if cfg.runs(need.phase) {
			path, err := exec.LookPath(*need.bin)
			if err != nil {
				return fmt.Errorf("%s: %w (scripts/install-bench-deps installs etcd-server and tarantool)", *need.bin, err)
			}
			*need.bin = path
		}
	}
	if cfg.runs(PhasePG) {
		if cfg.Postgres, err = findPostgres(cfg.Postgres, pgDebianRoot); err != nil {
			return err
		}
	}
	dir := cfg.WorkDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "picogo-bench-"); err != nil {
			return err
		}
	} else if err = os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// Kept on request, and after a failure (its logs say why); removed
	// otherwise, an interrupted run's too. Runs after the kills below.
	defer func() {
		switch {
		case cfg.Keep:
			progress("data and logs kept in " + dir)
		case err != nil && !errors.Is(err, context.Canceled):
			progress("the run failed: data and logs kept in " + dir)
		default:
			os.RemoveAll(dir)
		}
	}()
	ps := &procs.Registry{}
	defer func() {
		if kerr := ps.KillAll(); kerr != nil {
			err = errors.Join(err, kerr)
		}
	}()

	rep := &Report{Header: header(cfg, dir)}
	defer func() {
		text := rep.Markdown()
		if err != nil {
			text += fmt.Sprintf("\n## The run failed\n\n%s\n", oneLine(err.Error()))
		}
		fmt.Fprint(stdout, text)
		if cfg.Out != "" {
			if werr := os.WriteFile(cfg.Out, []byte(text), 0o644); werr != nil {
				err = errors.Join(err, werr)
			} else {
				progress("report written to " + cfg.Out)
			}
		}
	}()

	if cfg.runs(PhaseWrites) {
		c := &Comparison{Title: "Durable replicated writes", Unit: "writes/s", A: "picogo", B: "etcd", Goal: 2, GoalClients: 2,
			How: fmt.Sprintf("picogo: 3 instances (`picogo run`), each write one `.proc_cas` inserting a unique %d-byte key and a %d-byte value "+
				"into a GLOBAL table, sent to the leader, answered once applied (Pebble syncs the Raft log). "+
				"etcd: 3 members (etcd's defaults, fsync on), each write one put of a key and value of the same sizes with go.etcd.io/etcd/client/v3, sent to the leader. "+
				"Both on 127.0.0.1.", cfg.KeySize, cfg.ValueSize)}
		rep.Comparisons = append(rep.Comparisons, c)
		if err := runWrites(ctx, cfg, ps, filepath.Join(dir, "writes"), c, progress); err != nil {
			return fmt.Errorf("writes: %w", err)
		}
		if err := ps.KillAll(); err != nil {
			return err
		}
	}
	if cfg.runs(PhaseCalls) {
		c := &Comparison{Title: "Trivial iproto calls", Unit: "calls/s", A: "picogo", B: "tarantool",
			How: "picogo: `.proc_version_info` on a single instance. Tarantool: a Lua function returning the same map. " +
				"Both called as guest with CALL through go-tarantool v2, on 127.0.0.1."}
		rep.Comparisons = append(rep.Comparisons, c)
		if err := runCalls(ctx, cfg, ps, filepath.Join(dir, "calls"), c, progress); err != nil {
			return fmt.Errorf("calls: %w", err)
		}
		if err := ps.KillAll(); err != nil {
			return err
		}
	}
	if cfg.runs(PhaseInserts) {
		c := insertsComparison(cfg)
		rep.Comparisons = append(rep.Comparisons, c)
		if err := runInserts(ctx, cfg, ps, filepath.Join(dir, "inserts"), c, progress); err != nil {
			return fmt.Errorf("inserts: %w", err)
		}
		if err := ps.KillAll(); err != nil {
			return err
		}
	}
	if cfg.runs(PhaseSQL) {
		ins, sel := sqlPointComparisons()
		rep.Comparisons = append(rep.Comparisons, ins, sel)
		if err := runSQLPoint(ctx, cfg, ps, filepath.Join(dir, "sql"), ins, sel, progress); err != nil {
			return fmt.Errorf("sql: %w", err)
		}
		if err := ps.KillAll(); err != nil {
			return err
		}
	}
	if cfg.runs(PhaseSQLScan) {
		rep.SQLScan = &SQLScanResult{}
		if err := runSQLScan(ctx, cfg, ps, filepath.Join(dir, "sql-scan"), rep.SQLScan, progress); err != nil {
			return fmt.Errorf("sql-scan: %w", err)
		}
		if err := ps.KillAll(); err != nil {
			return err
		}
	}
	if cfg.runs(PhasePG) {
		ins, sel := pgComparisons(cfg)
		rep.Comparisons = append(rep.Comparisons, ins, sel)
		if err := runPG(ctx, cfg, ps, filepath.Join(dir, "pg"), ins, sel, progress); err != nil {
			return fmt.Errorf("pg: %w", err)
		}
		if err := ps.KillAll(); err != nil {
			return err
		}
	}
	if cfg.runs(PhaseRestart) {
		rep.Restart = &RestartResult{}
		if err := runRestart(ctx, cfg, ps, filepath.Join(dir, "restart"), rep.Restart, progress); err != nil {
			return fmt.Errorf("restart: %w", err)
		}
		if err := ps.KillAll(); err != nil {
			return err
		}
	}
	if cfg.runs(PhaseSharding) {
		rep.Sharding = &ShardingResult{}
		if err := runSharding(ctx, cfg, ps, filepath.Join(dir, "sharding"), rep.Sharding, progress); err != nil {
			return fmt.Errorf("sharding: %w", err)
		}
		if err := ps.KillAll(); err != nil {
			return err
		}
	}
	if cfg.runs(PhaseSim) {
		res, err := runSim(ctx, cfg.SimSeeds, max(cfg.Duration*time.Duration(cfg.Rounds), 10*time.Second), progress)
		rep.Sim = &res
		rep.SimNote = fmt.Sprintf("The simulator's default mix of worlds (1–7 instances, faults, lifecycle), seeds 1–%d, each run to its end; "+
			"porcupine checking a generated linearizable history (50 keys, 100 clients, one operation in twenty Unknown) as linearizability's BenchmarkCheck10kOps does; "+
			"both with the collector as `picogo sim` runs it (%s).", res.Seeds, res.GC)
		if err != nil {
			return fmt.Errorf("sim: %w", err)
		}
	}
	return nil
}

// runWrites measures durable writes: a picogo cluster and an etcd
// cluster, both running throughout, loaded in turn.
func runWrites(ctx context.Context, cfg Config, ps *procs.Registry, dir string, c *Comparison, progress func(string)) error {
	progress("writes: starting 3 picogo instances")
	pins, leader, err := startPicogo(ctx, ps, cfg.Picogo, dir, 3, cfg.Profile != "")
	if err != nil {
		return err
	}
	progress(fmt.Sprintf("writes: picogo leader %s at %s", leader.name, leader.addr))
	value := benchValue(cfg.ValueSize)
	pw, err := newCasWriter(ctx, leader, cfg.Conns, newKeySource("p", cfg.KeySize), value)
	if err != nil {
		return err
	}
	defer pw.close()
	if err := pw.createTable(); err != nil {
		return err
	}
	progress("writes: starting 3 etcd members")
	members, etcdLeader, err := startEtcd(ctx, ps, cfg.Etcd, dir, 3)
	if err != nil {
		return err
	}
	progress("writes: etcd leader at " + etcdLeader)
	ew, err := newEtcdWriter(etcdLeader, cfg.Conns, newKeySource("e", cfg.KeySize), value)
	if err != nil {
		return err
	}
	defer ew.close()
	var pprocs, eprocs []*procs.Process
	for _, in := range pins {
		pprocs = append(pprocs, in.proc)
	}
	for _, m := range members {
		eprocs = append(eprocs, m.proc)
	}
	return alternate(ctx, cfg, c, []target{{pw.write, cpuOf(pprocs...), leader.http}, {ew.write, cpuOf(eprocs...), ""}}, alive(ps), progress)
}

// runCalls measures trivial calls: one picogo instance and one Tarantool,
// both running throughout, loaded in turn.
func runCalls(ctx context.Context, cfg Config, ps *procs.Registry, dir string, c *Comparison, progress func(string)) error {
	progress("calls: starting 1 picogo instance")
	in, err := startPicogoOne(ctx, ps, cfg.Picogo, dir, cfg.Profile != "")
	if err != nil {
		return err
	}
	pc, err := newCaller(ctx, in.addr, cfg.Conns, ".proc_version_info")
	if err != nil {
		return err
	}
	defer pc.close()
	result, err := callOne[any](pc.conns[0], ".proc_version_info")
	if err != nil {
		return err
	}
	progress(fmt.Sprintf("calls: picogo's .proc_version_info is %v; starting tarantool serving the same", result))
	taddr, tproc, err := startTarantool(ctx, ps, cfg.Tarantool, dir, result)
	if err != nil {
		return err
	}
	tc, err := newCaller(ctx, taddr, cfg.Conns, tarantoolFunction)
	if err != nil {
		return err
	}
	defer tc.close()
	mirrored, err := callOne[any](tc.conns[0], tarantoolFunction)
	if err != nil {
		return err
	}
	if fmt.Sprint(mirrored) != fmt.Sprint(result) {
		return fmt.Errorf("tarantool returns %v, picogo %v", mirrored, result)
	}
	return alternate(ctx, cfg, c, []target{{pc.call, cpuOf(in.proc), in.http}, {tc.call, cpuOf(tproc), ""}}, alive(ps), progress)
}

// target is one system under load: its operation, the CPU time its
// server processes have used, and (picogo with --profile) the HTTP address
// that serves the profiles of the process that does the most work.
type target struct {
	op      opFunc
	cpu     func() time.Duration
	profile string
}

// alternate runs, at each client count, cfg.Rounds rounds of each system
// in turn (A, B, A, B, ...), recording them in c. After every round alive
// must report that no server died.
func alternate(ctx context.Context, cfg Config, c *Comparison, targets []target, alive func() error, progress func(string)) error {
	systems := []string{c.A, c.B}
	for _, n := range cfg.Clients {
		for round := 1; round <= cfg.Rounds; round++ {
			for i, t := range targets {
				var saved <-chan error
				if cfg.Profile != "" && t.profile != "" {
					prefix := c.Profile
					if prefix == "" {
						prefix = strings.ToLower(strings.Fields(c.Title)[0])
					}
					name := fmt.Sprintf("%s-%d-r%d.pprof", prefix, n, round)
					saved = saveProfile(ctx, t.profile, cfg.Warmup, cfg.Duration, filepath.Join(cfg.Profile, name))
				}
				r := runLoad(ctx, n, cfg.Warmup, cfg.Duration, t.op, t.cpu)
				if saved != nil {
					if err := <-saved; err != nil {
						progress("profile: " + err.Error())
					}
				}
				if ctx.Err() != nil {
					return ctx.Err()
				}
				r.System, r.Round = systems[i], round
				c.Rounds = append(c.Rounds, r)
				line := fmt.Sprintf("%s: %s, round %d/%d: %-9s %8s %s  p50 %s  p99 %s  server CPU %s/op  %d errors",
					strings.ToLower(c.Title), plural(n, "client"), round, cfg.Rounds, systems[i], fmtRate(r.Rate()), c.Unit,
					fmtDur(r.Hist.Percentile(50)), fmtDur(r.Hist.Percentile(99)), fmtDur(r.CPUPerOp()), r.Errors)
				if r.FirstErr != nil {
					line += " (first: " + oneLine(r.FirstErr.Error()) + ")"
				}
				progress(line)
				if err := alive(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// header describes the run: when, on what, with which versions, how.
func header(cfg Config, dir string) []string {
	h := []string{
		"- date: " + time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		fmt.Sprintf("- machine: %d CPUs (nproc), %s, %s memory, Linux %s; picogo built with %s",
			runtime.NumCPU(), cpuModel(), memTotal(), readTrim("/proc/sys/kernel/osrelease"), runtime.Version()),
		"- picogo: " + picogoVersion(cfg.Picogo),
	}
	if cfg.runs(PhaseWrites) {
		h = append(h, "- etcd: "+firstLine(cfg.Etcd, "--version"))
	}
	if cfg.runs(PhaseCalls) || cfg.runs(PhaseInserts) || cfg.runs(PhaseSQL) || cfg.runs(PhaseSQLScan) {
		h = append(h, "- tarantool: "+firstLine(cfg.Tarantool, "--version"))
	}
	if cfg.runs(PhaseSQLScan) {
		h = append(h, "- sqlite: "+sqliteVersion())
	}
	if cfg.runs(PhasePG) {
		h = append(h, "- postgres: "+firstLine(filepath.Join(cfg.Postgres, "postgres"), "--version")+" ("+cfg.Postgres+")")
	}
	if cfg.runs(PhaseWrites) || cfg.runs(PhaseCalls) || cfg.runs(PhaseInserts) || cfg.runs(PhaseSQL) || cfg.runs(PhasePG) || cfg.runs(PhaseRestart) {
		h = append(h,
			fmt.Sprintf("- load: %s per system at each client count, the systems alternating; %v measured per round after %v of warm-up; "+
				"a client is a goroutine doing one operation at a time; %s per system, shared by its clients%s",
				plural(cfg.Rounds, "round"), cfg.Duration, cfg.Warmup, plural(cfg.Conns, "connection"), pgConnsNote(cfg)),
			"- storage: the processes' data on "+fsType(dir)+" ("+dir+")")
	} else if cfg.runs(PhaseSharding) {
		h = append(h,
			fmt.Sprintf("- load: one round per level; %v measured after %v of warm-up; a client is a goroutine doing one operation at a time",
				cfg.Duration, cfg.Warmup),
			"- storage: the processes' data on "+fsType(dir)+" ("+dir+")")
	} else if cfg.runs(PhaseSQLScan) {
		h = append(h, "- storage: the processes' data on "+fsType(dir)+" ("+dir+")")
	}
	return append(h, "- command: `"+cfg.Command+"`")
}

// plural is "1 round", "2 rounds".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// fsType names the file system dir is on (fsync on tmpfs proves nothing).
func fsType(dir string) string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return "an unknown file system"
	}
	switch uint64(st.Type) {
	case 0xEF53:
		return "ext2/3/4"
	case 0x58465342:
		return "xfs"
	case 0x9123683E:
		return "btrfs"
	case 0x01021994:
		return "tmpfs (fsync does nothing there: not durable)"
	case 0x794C7630:
		return "overlayfs"
	}
	return fmt.Sprintf("file system type %#x", uint64(st.Type))
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func memTotal() string {
	b, _ := os.ReadFile("/proc/meminfo")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
			if kb, err := strconv.ParseFloat(f[1], 64); err == nil {
				return fmt.Sprintf("%.0f GiB", kb/(1<<20))
			}
		}
	}
	return "unknown"
}

func readTrim(path string) string {
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(string(b))
}

// firstLine is the first line bin prints with args ("unknown" if it fails).
func firstLine(bin string, args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).Output()
	if err != nil {
		return fmt.Sprintf("unknown (%s %s: %v)", bin, strings.Join(args, " "), err)
	}
	l, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return l
}

// picogoVersion is the version of the binary the bench starts, with this
// build's commit when the bench runs from the same binary.
func picogoVersion(bin string) string {
	v := api.Version
	if bin != "" {
		if exe, _ := os.Executable(); exe != bin {
			return firstLine(bin, "version")
		}
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		var rev, modified string
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = ", with uncommitted changes"
				}
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			return v + " (commit " + rev + modified + ")"
		}
	}
	// Built without VCS stamps (-buildvcs=false): the work tree's commit,
	// when the bench runs inside it.
	if out, err := exec.Command("git", "describe", "--always", "--dirty").Output(); err == nil {
		v += " (git " + strings.TrimSpace(string(out)) + ")"
	}
	return v
}

// saveProfile fetches a CPU profile of the measured part of a round (after
// warmup, for duration, whole seconds) from a picogo --http-listen address
// into path; the channel says how it went.
func saveProfile(ctx context.Context, httpAddr string, warmup, duration time.Duration, path string) <-chan error {
	done := make(chan error, 1)
	go func() {
		done <- func() error {
			select {
			case <-time.After(warmup):
			case <-ctx.Done():
				return ctx.Err()
			}
			secs := max(1, int(duration/time.Second))
			url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", httpAddr, secs)
			rctx, cancel := context.WithTimeout(ctx, duration+30*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(rctx, http.MethodGet, url, nil)
			if err != nil {
				return err
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s: %s", url, resp.Status)
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			f, err := os.Create(path)
			if err != nil {
				return err
			}
			if _, err := io.Copy(f, resp.Body); err != nil {
				f.Close()
				return err
			}
			return f.Close()
		}()
	}()
	return done
}

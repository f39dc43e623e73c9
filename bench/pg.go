package bench

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/picogo/picogo/internal/procs"
)

// The PostgreSQL-protocol phase (`--only pg`): point INSERTs and point
// SELECTs by primary key through pgx v5, one connection per client, at
// every client count: picogo (one instance serving `--pg-listen`, a
// sharded table) against PostgreSQL (one server from Debian's postgresql,
// synchronous_commit and fsync on), through the same client code.

const (
	// The statements both systems run, word for word: pgx's default
	// QueryExecModeCacheStatement prepares each once per connection (Parse,
	// Describe), then sends Bind/Execute with binary parameters.
	pgPointInsert = "INSERT INTO kv VALUES ($1, $2)"
	pgPointSelect = "SELECT v FROM kv WHERE k = $1"
	// The tables: the same columns; picogo's sharded by the key.
	pgCreatePicogo   = "CREATE TABLE kv (k BIGINT PRIMARY KEY, v TEXT) DISTRIBUTED BY (k)"
	pgCreatePostgres = "CREATE TABLE kv (k BIGINT PRIMARY KEY, v TEXT)"
	// pgPreload: rows in kv before the first round (keys 1..), loaded by
	// multi-row INSERTs of sqlBatchRows; the measured INSERTs take the keys
	// after them.
	pgPreload = 10_000
	// The PostgreSQL role and database the bench connects as and to.
	pgUser     = "bench"
	pgPassword = "bench-pg-secret"
	pgDatabase = "postgres"
	// pgPicogoDatabase is the database name sent to picogo (any name maps
	// to the cluster).
	pgPicogoDatabase = "picogo"
	// pgDebianRoot holds Debian's PostgreSQL server binaries, one
	// <version>/bin per installed major version (not on PATH).
	pgDebianRoot = "/usr/lib/postgresql"
)

// pgSettings are the server settings the bench gives PostgreSQL beyond
// its defaults (postgres -c name=value): durability as picogo's (a commit
// answered once its WAL is flushed), room for 64 clients and the
// readiness probes, no logging collector (the log is the process's
// stderr).
var pgSettings = []string{
	"synchronous_commit=on",
	"fsync=on",
	"max_connections=200",
	"logging_collector=off",
}

// postgresArgs is the command line of the PostgreSQL server: data in
// data, listening on 127.0.0.1:port only, its Unix socket in sockDir.
func postgresArgs(bin, data string, port int, sockDir string) []string {
	args := []string{bin, "-D", data, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" + sockDir}
	for _, s := range pgSettings {
		args = append(args, "-c", s)
	}
	return args
}

// initdbArgs is initdb's command line: a cluster in data whose superuser
// is pgUser with the password in pwfile, password (SCRAM) authentication
// over TCP, C locale.
func initdbArgs(bin, data, pwfile string) []string {
	return []string{bin, "-D", data, "-U", pgUser, "--pwfile", pwfile,
		"--auth-host=scram-sha-256", "--auth-local=trust", "--locale=C", "--encoding=UTF8", "--no-instructions"}
}

// findPostgres returns the directory of PostgreSQL's server binaries
// (initdb and postgres): dir when given; else the newest of
// root/*/bin that has both (Debian's /usr/lib/postgresql/<version>/bin);
// else the directory of the postgres on PATH.
func findPostgres(dir, root string) (string, error) {
	has := func(d string) bool {
		for _, b := range []string{"initdb", "postgres"} {
			fi, err := os.Stat(filepath.Join(d, b))
			if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
				return false
			}
		}
		return true
	}
	if dir != "" {
		if !has(dir) {
			return "", fmt.Errorf("postgres: %s has no initdb and postgres", dir)
		}
		return dir, nil
	}
	matches, _ := filepath.Glob(filepath.Join(root, "*", "bin"))
	slices.SortFunc(matches, func(a, b string) int {
		return compareVersions(filepath.Base(filepath.Dir(a)), filepath.Base(filepath.Dir(b)))
	})
	for i := len(matches) - 1; i >= 0; i-- {
		if has(matches[i]) {
			return matches[i], nil
		}
	}
	if p, err := exec.LookPath("postgres"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		if d := filepath.Dir(p); has(d) {
			return d, nil
		}
	}
	return "", fmt.Errorf("postgres: no %s/*/bin with initdb and postgres, and none on PATH (scripts/install-bench-deps installs postgresql)", root)
}

// compareVersions orders "9.6" before "15" before "16.1": numerically by
// dot-separated parts, a non-number after every number.
func compareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(pa), len(pb)) {
		if i >= len(pa) {
			return -1
		}
		if i >= len(pb) {
			return 1
		}
		na, ea := strconv.Atoi(pa[i])
		nb, eb := strconv.Atoi(pb[i])
		switch {
		case ea == nil && eb == nil:
			if na != nb {
				return na - nb
			}
		case ea == nil:
			return -1
		case eb == nil:
			return 1
		default:
			if c := strings.Compare(pa[i], pb[i]); c != 0 {
				return c
			}
		}
	}
	return 0
}

// pgDSN is the connection string pgx gets for addr (host:port).
func pgDSN(user, password, addr, database string) string {
	return fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable", user, password, addr, database)
}

// ---- the PostgreSQL server ----

// pgServer is a PostgreSQL server the bench started: its postmaster runs
// in a process group of its own (its backends with it), as an
// unprivileged user when the bench runs as root.
type pgServer struct {
	dir  string // the temporary directory: data, socket, log
	addr string
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

// pgCredential is whom PostgreSQL runs as: nil (the bench's user) unless
// the bench is root, which PostgreSQL refuses: then the user postgres
// (Debian's package makes it), else nobody.
func pgCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
	}
	return nil, errors.New("postgres: running as root and there is no user postgres or nobody to run PostgreSQL as")
}

// pgEnv is the bench's environment without PICOGO_* and PG* variables
// (PGDATA, PGPORT, ... must not steer the server), in the C locale.
func pgEnv() []string {
	var env []string
	for _, kv := range procs.Env() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C")
}

// startPostgres makes a temporary directory (in the system's temporary
// directory: the bench's own is private to root), runs initdb there and
// starts postgres on a free loopback port, then waits until pgUser can
// connect. stop kills the server and removes the directory (unless keep).
// If it fails, the server is stopped and the directory removed (unless
// keep) before it returns.
func startPostgres(ctx context.Context, binDir string, keep bool) (*pgServer, error) {
	cred, err := pgCredential()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "picogo-bench-pg-")
	if err != nil {
		return nil, err
	}
	s := &pgServer{dir: dir, log: filepath.Join(dir, "postgres.log"), done: make(chan struct{})}
	// A server that did not come up is stopped and its directory removed
	// (unless kept): the error carries the end of its log.
	fail := func(err error) (*pgServer, error) {
		err = s.withLog(err)
		s.stop(keep)
		return nil, err
	}
	pwfile := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(pgPassword+"\n"), 0o600); err != nil {
		return fail(err)
	}
	if cred != nil {
		if err := chownTree(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fail(err)
		}
	}
	attr := func() *syscall.SysProcAttr {
		// Pdeathsig is set after the credentials change (Go's fork does
		// so), so it survives them: the server dies with the bench.
		return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: cred}
	}
	data := filepath.Join(dir, "data")
	ictx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	argv := initdbArgs(filepath.Join(binDir, "initdb"), data, pwfile)
	initdb := exec.CommandContext(ictx, argv[0], argv[1:]...)
	initdb.Dir, initdb.Env, initdb.SysProcAttr = dir, pgEnv(), attr()
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("postgres: %s: %w: %s", strings.Join(argv, " "), err, oneLine(string(out))))
	}
	addrs, err := procs.FreeAddrs(1)
	if err != nil {
		return fail(err)
	}
	s.addr = addrs[0]
	_, portStr, _ := strings.Cut(s.addr, ":")
	port, _ := strconv.Atoi(portStr)
	logFile, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fail(err)
	}
	defer logFile.Close()
	argv = postgresArgs(filepath.Join(binDir, "postgres"), data, port, dir)
	fmt.Fprintf(logFile, "=== bench: starting postgres: %s\n", strings.Join(argv, " "))
	s.cmd = exec.Command(argv[0], argv[1:]...)
	s.cmd.Dir, s.cmd.Env, s.cmd.SysProcAttr = dir, pgEnv(), attr()
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	if err := s.cmd.Start(); err != nil {
		s.cmd = nil
		return fail(fmt.Errorf("postgres: starting %s: %w", argv[0], err))
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(readyTimeout)
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		c, err := pgx.Connect(cctx, pgDSN(pgUser, pgPassword, s.addr, pgDatabase))
		if err == nil {
			var v string
			err = c.QueryRow(cctx, "SHOW synchronous_commit").Scan(&v)
			if err == nil && v != "on" {
				err = fmt.Errorf("synchronous_commit is %q", v)
			}
			c.Close(cctx)
		}
		cancel()
		if err == nil {
			return s, nil
		}
		if gone := s.exited(); gone != "" {
			return fail(errors.New(gone))
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fail(fmt.Errorf("postgres: not accepting connections within %v: %w", readyTimeout, errors.Join(err, ctx.Err())))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// withLog is err with the end of the server's log (which stop removes).
func (s *pgServer) withLog(err error) error {
	if tail, terr := procs.LogTail(s.log, 1500); terr == nil && strings.TrimSpace(tail) != "" {
		return fmt.Errorf("%w\npostgres's log ends with:\n%s", err, tail)
	}
	return err
}

// exited says how the server ended, "" while it runs.
func (s *pgServer) exited() string {
	if s.cmd == nil {
		return ""
	}
	select {
	case <-s.done:
		return fmt.Sprintf("postgres exited by itself (%v)", s.cmd.ProcessState)
	default:
		return ""
	}
}

// cpu is the CPU time of the postmaster and its children: the backends
// (one per connection, alive through the rounds) and the WAL writer,
// checkpointer and the others.
func (s *pgServer) cpu() time.Duration {
	if s.cmd == nil || s.exited() != "" {
		return 0
	}
	return familyCPU(s.cmd.Process.Pid)
}

// stop kills the postmaster's children and the postmaster (SIGKILL) and
// waits until they are gone, then removes the directory (or, with keep,
// leaves it).
func (s *pgServer) stop(keep bool) error {
	var err error
	if s.cmd != nil {
		pid := s.cmd.Process.Pid
		kids := children(pid)
		for _, k := range kids {
			_ = syscall.Kill(k, syscall.SIGKILL)
		}
		_ = syscall.Kill(-pid, syscall.SIGKILL) // its group: the postmaster
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			err = fmt.Errorf("postgres (pid %d) not reaped 10 s after SIGKILL", pid)
		}
		// Reparented once the postmaster is gone, the children are known by
		// pid now: wait until none is left (they may hold files).
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			left := 0
			for _, k := range kids {
				if running(k) {
					left++
				}
			}
			if left == 0 {
				break
			}
		}
	}
	if keep {
		return err
	}
	return errors.Join(err, os.RemoveAll(s.dir))
}

// chownTree gives dir and everything in it to uid:gid.
func chownTree(dir string, uid, gid int) error {
	return filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, uid, gid)
	})
}

// parseStat reads a /proc/PID/stat line: the parent's pid and the CPU
// time (utime + stime, in clock ticks).
func parseStat(line string) (ppid int, ticks int64, ok bool) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return 0, 0, false
	}
	// After the command: state(3) ppid(4) pgrp(5) ... utime(14) stime(15).
	f := strings.Fields(line[i+1:])
	if len(f) < 13 {
		return 0, 0, false
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return 0, 0, false
	}
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		ticks += n
	}
	return ppid, ticks, true
}

// familyScan calls f for process pid and each of its children (the
// postmaster and its backends: each child calls setsid, so they are not in
// its process group).
func familyScan(pid int, f func(pid int, ticks int64)) {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		if ppid, t, ok := parseStat(string(b)); ok && (p == pid || ppid == pid) {
			f(p, t)
		}
	}
}

// running tells whether process pid exists and is not a zombie.
func running(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i >= 0 && !strings.HasPrefix(strings.TrimSpace(string(b[i+1:])), "Z")
}

// children are the live children of pid.
func children(pid int) []int {
	var out []int
	familyScan(pid, func(p int, _ int64) {
		if p != pid {
			out = append(out, p)
		}
	})
	return out
}

// familyCPU is the CPU time that pid and its live children have used.
func familyCPU(pid int) time.Duration {
	var ticks int64
	familyScan(pid, func(_ int, t int64) { ticks += t })
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}

// ---- the load ----

// pgSide is one system under the point load: one connection per client.
type pgSide struct {
	name  string
	conns []*pgx.Conn
	ids   atomic.Int64 // the last key handed out
	value string
	cpu   func() time.Duration
	http  string // picogo --profile's address
}

// openPgSide opens n connections to dsn.
func openPgSide(ctx context.Context, name, dsn string, n int, value string) (*pgSide, error) {
	s := &pgSide{name: name, value: value}
	for range n {
		cctx, cancel := context.WithTimeout(ctx, requestTimeout)
		c, err := pgx.Connect(cctx, dsn)
		cancel()
		if err != nil {
			s.close()
			return nil, fmt.Errorf("%s: connecting: %w", name, err)
		}
		s.conns = append(s.conns, c)
	}
	return s, nil
}

func (s *pgSide) close() {
	for _, c := range s.conns {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c.Close(ctx)
		cancel()
	}
}

// exec runs one statement on connection 0.
func (s *pgSide) exec(ctx context.Context, sql string, args ...any) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	tag, err := s.conns[0].Exec(ctx, sql, args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %s: %w", s.name, oneLine(sql), err)
	}
	return tag.RowsAffected(), nil
}

// insert is the point INSERT of the next key, on the worker's connection.
func (s *pgSide) insert(ctx context.Context, worker int) error {
	id := s.ids.Add(1)
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	tag, err := s.conns[worker].Exec(ctx, pgPointInsert, id, s.value)
	if err == nil && tag.RowsAffected() != 1 {
		err = fmt.Errorf("insert of key %d: %d rows affected (%q)", id, tag.RowsAffected(), tag.String())
	}
	return err
}

// selecter is the point SELECT of a random key among the first n, its
// answer checked.
func (s *pgSide) selecter(n int64) opFunc {
	return func(ctx context.Context, worker int) error {
		id := 1 + rand.Int64N(n)
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		var v string
		if err := s.conns[worker].QueryRow(ctx, pgPointSelect, id).Scan(&v); err != nil {
			return fmt.Errorf("select of key %d: %w", id, err)
		}
		if v != s.value {
			return fmt.Errorf("select of key %d: v is %.20q…, want the value inserted", id, v)
		}
		return nil
	}
}

// pgMultiInsert is `INSERT INTO kv VALUES (first, 'value'), ...` up to
// last, the value inlined (it is letters and digits).
func pgMultiInsert(first, last int64, value string) string {
	var b strings.Builder
	b.WriteString("INSERT INTO kv VALUES ")
	for id := first; id <= last; id++ {
		if id > first {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%d, '%s')", id, value)
	}
	return b.String()
}

// preload inserts keys 1..n and sets the key counter past them.
func (s *pgSide) preload(ctx context.Context, n int64) error {
	for first := int64(1); first <= n; first += sqlBatchRows {
		last := min(first+sqlBatchRows-1, n)
		got, err := s.exec(ctx, pgMultiInsert(first, last, s.value))
		if err != nil {
			return fmt.Errorf("preloading keys %d..%d: %w", first, last, err)
		}
		if got != last-first+1 {
			return fmt.Errorf("%s: preloading keys %d..%d: %d rows affected", s.name, first, last, got)
		}
	}
	s.ids.Store(n)
	return nil
}

// count is the number of rows in kv.
func (s *pgSide) count(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var n int64
	err := s.conns[0].QueryRow(ctx, "SELECT COUNT(*) FROM kv").Scan(&n)
	return n, err
}

// pgComparisons are the phase's two comparisons, before any round.
func pgComparisons(cfg Config) (ins, sel *Comparison) {
	common := "One server of each on 127.0.0.1, the same client code: " + pgxVersion() + ", one connection per client (each client a goroutine " +
		"with a `pgx.Conn` of its own, opened before the rounds), pgx's default query mode (each statement prepared once per connection, " +
		"then Bind/Execute with binary parameters). picogo: a one-instance cluster (`picogo run --pg-listen`), the table created with `" +
		pgCreatePicogo + "` (sharded: every statement goes through the router to the bucket's storage), as admin. " +
		"PostgreSQL: Debian's `postgresql` package, `initdb` in a temporary directory and `postgres -c " + strings.Join(pgSettings, " -c ") +
		"` (its defaults otherwise), the table created with `" + pgCreatePostgres + "`, as its superuser. "
	ins = &Comparison{Title: "PostgreSQL protocol: point INSERT", Unit: "inserts/s", A: "picogo", B: "postgres", Profile: "pg-insert",
		How: common + fmt.Sprintf("Each operation is `%s` of a new key with a %d-byte text value (after %d rows preloaded by multi-row INSERTs), "+
			"answered once durable: picogo's replicaset log fsynced per group commit, PostgreSQL's WAL flushed at commit (synchronous_commit=on).",
			pgPointInsert, cfg.ValueSize, pgPreload)}
	sel = &Comparison{Title: "PostgreSQL protocol: point SELECT", Unit: "selects/s", A: "picogo", B: "postgres", Profile: "pg-select",
		How: common + fmt.Sprintf("Each operation is `%s` of a random key among the rows in the table (the preloaded ones and those the INSERT rounds wrote), "+
			"its answer checked: the value inserted.", pgPointSelect)}
	return ins, sel
}

// pgConnsNote is what the header's load line adds when the pg phase runs:
// its clients do not share connections.
func pgConnsNote(cfg Config) string {
	if !cfg.runs(PhasePG) {
		return ""
	}
	return " (the pg phase: one connection per client instead)"
}

// pgxVersion is the pgx module and its version in this binary.
func pgxVersion() string { return moduleVersion("github.com/jackc/pgx/v5") }

// runPG runs the phase into ins and sel.
func runPG(ctx context.Context, cfg Config, ps *procs.Registry, dir string, ins, sel *Comparison, progress func(string)) (err error) {
	conns := slices.Max(cfg.Clients)
	value := benchValue(cfg.ValueSize)

	progress("pg: starting 1 picogo instance with --pg-listen")
	pgAddrs, err := procs.FreeAddrs(1)
	if err != nil {
		return err
	}
	pins, leader, err := startPicogo(ctx, ps, cfg.Picogo, filepath.Join(dir, "picogo"), 1, cfg.Profile != "", "--pg-listen", pgAddrs[0])
	if err != nil {
		return err
	}
	picogoDSN := pgDSN("admin", picogoAdminPassword, pgAddrs[0], pgPicogoDatabase)
	var p *pgSide
	err = poll(ctx, readyTimeout, "picogo: admin logs in over the PostgreSQL protocol", []*procs.Process{pins[0].proc}, func() error {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		c, err := pgx.Connect(cctx, picogoDSN)
		if err != nil {
			return err
		}
		return c.Close(cctx)
	})
	if err != nil {
		return err
	}
	if p, err = openPgSide(ctx, "picogo", picogoDSN, conns, value); err != nil {
		return err
	}
	defer p.close()
	p.cpu, p.http = cpuOf(pins[0].proc), leader.http
	if _, err := p.exec(ctx, pgCreatePicogo); err != nil {
		return err
	}
	err = poll(ctx, readyTimeout, "picogo: table kv answers", []*procs.Process{pins[0].proc}, func() error {
		_, err := p.count(ctx)
		return err
	})
	if err != nil {
		return err
	}

	progress("pg: starting postgres (" + cfg.Postgres + ")")
	srv, err := startPostgres(ctx, cfg.Postgres, cfg.Keep)
	if err != nil {
		return err
	}
	defer func() {
		if cfg.Keep {
			progress("pg: postgres's data and log kept in " + srv.dir)
		}
		err = errors.Join(err, srv.stop(cfg.Keep))
	}()
	progress("pg: postgres at " + srv.addr + " (data in " + srv.dir + ")")
	q, err := openPgSide(ctx, "postgres", pgDSN(pgUser, pgPassword, srv.addr, pgDatabase), conns, value)
	if err != nil {
		return err
	}
	defer q.close()
	q.cpu = srv.cpu
	if _, err := q.exec(ctx, pgCreatePostgres); err != nil {
		return err
	}

	sides := []*pgSide{p, q}
	for _, s := range sides {
		t0 := time.Now()
		if err := s.preload(ctx, pgPreload); err != nil {
			return err
		}
		progress(fmt.Sprintf("pg: %s: %d rows preloaded in %s", s.name, pgPreload, fmtDur(time.Since(t0))))
	}
	running := func() error {
		if err := alive(ps)(); err != nil {
			return err
		}
		if gone := srv.exited(); gone != "" {
			return srv.withLog(errors.New(gone))
		}
		return nil
	}
	var targets []target
	for _, s := range sides {
		targets = append(targets, target{s.insert, s.cpu, s.http})
	}
	if err := alternate(ctx, cfg, ins, targets, running, progress); err != nil {
		return err
	}
	targets = targets[:0]
	for _, s := range sides {
		targets = append(targets, target{s.selecter(s.ids.Load()), s.cpu, s.http})
	}
	if err := alternate(ctx, cfg, sel, targets, running, progress); err != nil {
		return err
	}
	for _, s := range sides {
		n, err := s.count(ctx)
		if err != nil {
			return fmt.Errorf("%s: counting kv: %w", s.name, err)
		}
		ins.Notes = append(ins.Notes, fmt.Sprintf("- %s: %d rows in kv at the end (%d keys handed out)", s.name, n, s.ids.Load()))
	}
	if len(ins.Rounds) == 0 {
		return errors.New("no round measured")
	}
	return nil
}

// moduleVersion is mod's version in this binary's build info ("mod" alone
// when it is not there, as in a test binary).
func moduleVersion(mod string) string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, d := range info.Deps {
			if d.Path == mod {
				return mod + " " + d.Version
			}
		}
	}
	return mod
}

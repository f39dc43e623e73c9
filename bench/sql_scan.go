package bench

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/picogo/picogo/internal/procs"
	"github.com/tarantool/go-tarantool/v2"
	_ "modernc.org/sqlite" // SQLite in the bench's own process, for scale
)

// The SQL scan phase (`--only sql-scan`): a scatter-gather aggregate over
// cfg.SQLRows rows on picogo clusters of 1, 2, 3... replicasets of one
// instance each, and the same query on one Tarantool (its SQL) and on
// SQLite in-process, for scale.

const (
	sqlScanQuery           = "SELECT k % 100, COUNT(*), SUM(v) FROM t GROUP BY 1"
	sqlScanGroups          = 100
	sqlScanCreatePicogo    = "CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER, v INTEGER) DISTRIBUTED BY (id)"
	sqlScanCreateTarantool = "CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER, v INTEGER)"
	sqlScanConns           = 4 // connections the load goes through (spread over the instances)
	// sqlScanTimeout bounds a request of the scan phase (a load statement,
	// a query).
	sqlScanTimeout = 5 * time.Minute
	// sqlScanBalanceTimeout bounds the wait for the buckets to spread.
	sqlScanBalanceTimeout = 3 * time.Minute
	// sqlScanProfile: with --profile, the CPU profile of the first
	// instance taken over this much of each picogo load.
	sqlScanProfile = 10 * time.Second
)

// ScanLevel is the aggregate on one system (at one replicaset count).
type ScanLevel struct {
	System      string
	Replicasets int // picogo's replicasets; 0: one instance (Tarantool) or in-process (SQLite)
	Rows        uint64
	Load        time.Duration
	LoadErr     error
	Times       []time.Duration // each run of the query
	Err         error           // the query failed (the first failure)
	Wrong       string          // the answer differed from the expected one
}

// Median is the median run's time (the lower of the two middle ones for an
// even count; 0 without runs).
func (l ScanLevel) Median() time.Duration {
	if len(l.Times) == 0 {
		return 0
	}
	ts := slices.Clone(l.Times)
	slices.Sort(ts)
	return ts[(len(ts)-1)/2]
}

// SQLScanResult is the scan phase's figures.
type SQLScanResult struct {
	Rows    uint64
	Queries int
	Loaders int    // goroutines loading (picogo and Tarantool)
	SQLite  string // SQLite's version, or why it did not run
	Levels  []ScanLevel
}

func (l ScanLevel) label() string {
	switch {
	case l.System == "picogo":
		return fmt.Sprintf("picogo, %s", plural(l.Replicasets, "replicaset"))
	case l.System == "tarantool":
		return "tarantool (1 instance)"
	}
	return l.System + " (in-process, in memory)"
}

// Markdown is the report's section.
func (r *SQLScanResult) Markdown() string {
	var b strings.Builder
	b.WriteString("\n## SQL scatter-gather aggregate\n\n")
	fmt.Fprintf(&b, "`%s` over %d rows of `t (id INTEGER PRIMARY KEY, k INTEGER, v INTEGER)`, k = id, v = id mod 1000, "+
		"loaded by multi-row INSERTs of %d rows (values inlined) from %d goroutines over %d connections (SQLite: one). "+
		"picogo: n `picogo run` with `--init-replication-factor 1` (n replicasets of one instance; the 3000 buckets balanced before the load), "+
		"the table `DISTRIBUTED BY (id)`; the query goes to one instance, which runs the local GROUP BY on every replicaset "+
		"(at most %d rows each through the motion) and merges the partial aggregates. "+
		"Tarantool: one instance's own SQL (box.execute through IPROTO_EXECUTE, as for the point statements). "+
		"SQLite: %s, in the bench's process, in memory. "+
		"Each system runs the query %d times in a row (the first one included); every answer is checked against the expected counts and sums.\n\n",
		sqlScanQuery, r.Rows, sqlBatchRows, r.Loaders, min(r.Loaders, sqlScanConns), sqlScanGroups, r.SQLite, r.Queries)
	var tarantool, one time.Duration
	for _, l := range r.Levels {
		if l.System == "tarantool" {
			tarantool = l.Median()
		}
		if l.System == "picogo" && l.Replicasets == 1 {
			one = l.Median()
		}
	}
	b.WriteString("| system | load | load rows/s | query (median) | min | max | rows/s | speed-up over 1 replicaset | time vs tarantool |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, l := range r.Levels {
		load, loadRate := fmtDur(l.Load), fmtRate(float64(l.Rows)/l.Load.Seconds())
		if l.LoadErr != nil {
			load, loadRate = "failed", "–"
		}
		med := l.Median()
		lo, hi := "–", "–"
		if len(l.Times) > 0 {
			lo, hi = fmtDur(slices.Min(l.Times)), fmtDur(slices.Max(l.Times))
		}
		rate := "–"
		if med > 0 {
			rate = fmtRate(float64(l.Rows) / med.Seconds())
		}
		speedup := "–"
		if l.System == "picogo" {
			speedup = fmtRatio(ratio(float64(one), float64(med)))
		}
		medCell := fmtDur(med)
		if l.Err != nil {
			medCell += fmt.Sprintf(" (%d of %d runs; then failed)", len(l.Times), r.Queries)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", l.label(), load, loadRate, medCell, lo, hi, rate,
			speedup, fmtRatio(ratio(float64(med), float64(tarantool))))
	}
	b.WriteString("\nrows/s is the table's rows over the median query time. Speed-up: picogo's median at 1 replicaset over its median at n (above 1×: faster). " +
		"Time vs tarantool: the median over Tarantool's (below 1×: faster than Tarantool).\n")
	for _, l := range r.Levels {
		var ds []string
		for _, t := range l.Times {
			ds = append(ds, fmtDur(t))
		}
		line := fmt.Sprintf("- %s: load of %d rows %s", l.label(), l.Rows, fmtDur(l.Load))
		if l.LoadErr != nil {
			line = fmt.Sprintf("- %s: the load failed after %s: %s", l.label(), fmtDur(l.Load), oneLine(l.LoadErr.Error()))
		}
		if len(ds) > 0 {
			line += "; queries " + strings.Join(ds, ", ")
		}
		if l.Err != nil {
			line += "; the query failed: " + oneLine(l.Err.Error())
		}
		if l.Wrong != "" {
			line += "; **wrong answer**: " + l.Wrong
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// Behind lists, one line each, where picogo's aggregate failed, was wrong
// or was slower than Tarantool's.
func (r *SQLScanResult) Behind() []string {
	var tarantool time.Duration
	for _, l := range r.Levels {
		if l.System == "tarantool" {
			tarantool = l.Median()
		}
	}
	var out []string
	for _, l := range r.Levels {
		if l.System != "picogo" {
			continue
		}
		where := fmt.Sprintf("SQL aggregate over %d rows, %s", l.Rows, plural(l.Replicasets, "replicaset"))
		switch {
		case l.LoadErr != nil:
			out = append(out, fmt.Sprintf("%s: the load failed after %s: %s", where, fmtDur(l.Load), oneLine(l.LoadErr.Error())))
		case l.Err != nil:
			out = append(out, fmt.Sprintf("%s: the query failed: %s", where, oneLine(l.Err.Error())))
		case l.Wrong != "":
			out = append(out, fmt.Sprintf("%s: wrong answer: %s", where, l.Wrong))
		case tarantool > 0 && l.Median() > tarantool:
			out = append(out, fmt.Sprintf("%s: the query's median is %s Tarantool's (%s against %s)", where,
				fmtRatio(ratio(float64(l.Median()), float64(tarantool))), fmtDur(l.Median()), fmtDur(tarantool)))
		}
	}
	return out
}

// execFunc runs one statement: the rows and the affected row count.
type execFunc func(query string) ([]any, uint64, error)

func iprotoExec(conn tarantool.Connector) execFunc {
	return func(query string) ([]any, uint64, error) { return sqlExec(conn, query) }
}

// loadScanRows inserts ids 1..n as (id, k = id, v) in multi-row INSERTs of
// sqlBatchRows rows from goroutines goroutines, goroutine g through
// execs[g mod len(execs)]; it stops at the first failure and returns it.
func loadScanRows(ctx context.Context, execs []execFunc, goroutines int, n uint64) error {
	var next atomic.Uint64 // batches handed out
	var first atomic.Value
	var wg sync.WaitGroup
	for g := range goroutines {
		exec := execs[g%len(execs)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && first.Load() == nil {
				lo := next.Add(1)*sqlBatchRows - sqlBatchRows + 1
				if lo > n {
					return
				}
				hi := min(lo+sqlBatchRows-1, n)
				_, got, err := exec(multiInsert(lo, hi, true))
				if err == nil && got != hi-lo+1 {
					err = fmt.Errorf("%d rows affected", got)
				}
				if err != nil {
					first.CompareAndSwap(nil, fmt.Errorf("inserting ids %d..%d: %w", lo, hi, err))
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := first.Load().(error); err != nil {
		return err
	}
	return ctx.Err()
}

// checkScan says what is wrong with the aggregate's answer over ids 1..n
// ("": nothing).
func checkScan(rows []any, n uint64) string {
	var count, sum [sqlScanGroups]int64
	for id := uint64(1); id <= n; id++ {
		count[id%sqlScanGroups]++
		sum[id%sqlScanGroups] += int64(sqlValue(id))
	}
	want := 0
	for g := range sqlScanGroups {
		if count[g] > 0 {
			want++
		}
	}
	if len(rows) != want {
		return fmt.Sprintf("%d groups, want %d", len(rows), want)
	}
	seen := map[int64]bool{}
	for _, r := range rows {
		row, _ := r.([]any)
		if len(row) != 3 {
			return fmt.Sprintf("row %v", r)
		}
		var v [3]int64
		for i := range v {
			x, ok := asInt64(row[i])
			if !ok {
				return fmt.Sprintf("row %v: column %d is %T", r, i+1, row[i])
			}
			v[i] = x
		}
		g := v[0]
		if g < 0 || g >= sqlScanGroups || seen[g] {
			return fmt.Sprintf("row %v: group %d", r, g)
		}
		seen[g] = true
		if v[1] != count[g] || v[2] != sum[g] {
			return fmt.Sprintf("group %d: COUNT %d SUM %d, want %d and %d", g, v[1], v[2], count[g], sum[g])
		}
	}
	return ""
}

// runScanLevel loads the rows through execs and runs the query queries
// times through query, filling l.
// profile, if not nil, starts a CPU profile of the server (what: "load"
// or "query") for d and tells how it went: it is called as the load starts
// and after the first query, over the time the other queries should take.
func runScanLevel(ctx context.Context, l *ScanLevel, execs []execFunc, goroutines, queries int, query execFunc,
	profile func(what string, d time.Duration) <-chan error, progress func(string)) error {
	var saved []<-chan error
	defer func() {
		for _, c := range saved {
			if err := <-c; err != nil {
				progress("profile: " + err.Error())
			}
		}
	}()
	if profile != nil {
		saved = append(saved, profile("load", sqlScanProfile))
	}
	t0 := time.Now()
	l.LoadErr = loadScanRows(ctx, execs, goroutines, l.Rows)
	l.Load = time.Since(t0)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if l.LoadErr != nil {
		progress(fmt.Sprintf("sql-scan: %s: the load failed after %s: %v", l.label(), fmtDur(l.Load), l.LoadErr))
		return nil
	}
	progress(fmt.Sprintf("sql-scan: %s: %d rows loaded in %s (%s rows/s)", l.label(), l.Rows, fmtDur(l.Load), fmtRate(float64(l.Rows)/l.Load.Seconds())))
	for i := range queries {
		if i == 1 && profile != nil {
			saved = append(saved, profile("query", max(time.Second, l.Times[0]*time.Duration(queries-1))))
		}
		t0 := time.Now()
		rows, _, err := query(sqlScanQuery)
		d := time.Since(t0)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			l.Err = err
			progress(fmt.Sprintf("sql-scan: %s: the query failed after %s: %v", l.label(), fmtDur(d), err))
			return nil
		}
		l.Times = append(l.Times, d)
		if w := checkScan(rows, l.Rows); w != "" && l.Wrong == "" {
			l.Wrong = w
		}
	}
	line := fmt.Sprintf("sql-scan: %s: query median %s (%s rows/s)", l.label(), fmtDur(l.Median()), fmtRate(float64(l.Rows)/l.Median().Seconds()))
	if l.Wrong != "" {
		line += "; wrong answer: " + l.Wrong
	}
	progress(line)
	return nil
}

// connectAll opens n connections to the addresses in turn.
func connectAll(ctx context.Context, addrs []string, n int, user, password string) ([]*tarantool.Connection, error) {
	i := 0
	return openAll(n, func() (*tarantool.Connection, error) {
		addr := addrs[i%len(addrs)]
		i++
		return connectTarantoolTimeout(ctx, addr, user, password, sqlScanTimeout)
	})
}

func closeAll(cs []*tarantool.Connection) {
	for _, c := range cs {
		c.Close()
	}
}

// runSQLScan runs the scan phase into res.
func runSQLScan(ctx context.Context, cfg Config, ps *procs.Registry, dir string, res *SQLScanResult, progress func(string)) error {
	res.Rows, res.Queries, res.Loaders = uint64(cfg.SQLRows), cfg.SQLQueries, cfg.SQLLoaders
	for _, rs := range cfg.SQLReplicasets {
		progress(fmt.Sprintf("sql-scan: starting %s of one instance", plural(rs, "replicaset")))
		l := ScanLevel{System: "picogo", Replicasets: rs, Rows: res.Rows}
		if err := scanPicogo(ctx, cfg, ps, filepath.Join(dir, fmt.Sprintf("picogo-%d", rs)), &l, progress); err != nil {
			return fmt.Errorf("picogo, %s: %w", plural(rs, "replicaset"), err)
		}
		res.Levels = append(res.Levels, l)
		if err := ps.KillAll(); err != nil {
			return err
		}
	}
	progress("sql-scan: starting tarantool (SQL)")
	taddr, _, err := startTarantoolSQL(ctx, ps, cfg.Tarantool, filepath.Join(dir, "tarantool"), sqlScanCreateTarantool)
	if err != nil {
		return fmt.Errorf("tarantool: %w", err)
	}
	tc, err := connectAll(ctx, []string{taddr}, min(cfg.SQLLoaders, sqlScanConns), tarantoolSQLUser, tarantoolSQLPassword)
	if err != nil {
		return fmt.Errorf("tarantool: %w", err)
	}
	l := ScanLevel{System: "tarantool", Rows: res.Rows}
	var execs []execFunc
	for _, c := range tc {
		execs = append(execs, iprotoExec(c))
	}
	err = runScanLevel(ctx, &l, execs, cfg.SQLLoaders, cfg.SQLQueries, execs[0], nil, progress)
	closeAll(tc)
	if err != nil {
		return err
	}
	res.Levels = append(res.Levels, l)
	if err := ps.KillAll(); err != nil {
		return err
	}
	res.SQLite = sqliteVersion()
	progress("sql-scan: SQLite in-process")
	l = ScanLevel{System: "sqlite", Rows: res.Rows}
	if err := scanSQLite(ctx, &l, cfg.SQLQueries, progress); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	res.Levels = append(res.Levels, l)
	return nil
}

// scanPicogo is one picogo level: rs instances, each its own replicaset,
// the buckets balanced, the table created, loaded, queried.
func scanPicogo(ctx context.Context, cfg Config, ps *procs.Registry, dir string, l *ScanLevel, progress func(string)) error {
	ins, leader, err := startPicogo(ctx, ps, cfg.Picogo, dir, l.Replicasets, cfg.Profile != "", "--init-replication-factor", "1")
	if err != nil {
		return err
	}
	var watch []*procs.Process
	var addrs []string
	for _, in := range ins {
		watch = append(watch, in.proc)
		addrs = append(addrs, in.addr)
	}
	t0 := time.Now()
	dist, err := waitBalanced(ctx, leader, l.Replicasets, sqlScanBalanceTimeout, watch)
	if err != nil {
		return err
	}
	progress(fmt.Sprintf("sql-scan: buckets balanced after %s: %s", fmtDur(time.Since(t0)), dist))
	conns, err := connectAll(ctx, addrs, max(min(cfg.SQLLoaders, sqlScanConns), len(addrs)), "admin", picogoAdminPassword)
	if err != nil {
		return err
	}
	defer closeAll(conns)
	if err := picogoCreateSQL(ctx, conns[0], sqlScanCreatePicogo, watch); err != nil {
		return err
	}
	var execs []execFunc
	for _, c := range conns {
		execs = append(execs, iprotoExec(c))
	}
	var profile func(string, time.Duration) <-chan error
	if cfg.Profile != "" {
		// The instance the queries go to.
		profile = func(what string, d time.Duration) <-chan error {
			return saveProfile(ctx, ins[0].http, 0, d, filepath.Join(cfg.Profile, fmt.Sprintf("sql-scan-%s-%d.pprof", what, l.Replicasets)))
		}
	}
	// A query over a million rows may take longer than an instance's
	// request timeout (10 s by default): picogo's statement names its own.
	query := func(q string) ([]any, uint64, error) { return execs[0](q + " OPTION (TIMEOUT = 120)") }
	if err := runScanLevel(ctx, l, execs, cfg.SQLLoaders, cfg.SQLQueries, query, profile, progress); err != nil {
		return err
	}
	return alive(ps)()
}

// sqliteVersion is "modernc.org/sqlite vX (SQLite Y)".
func sqliteVersion() string {
	mod := "modernc.org/sqlite"
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, d := range info.Deps {
			if d.Path == mod {
				mod += " " + d.Version
			}
		}
	}
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return mod
	}
	defer db.Close()
	var v string
	if err := db.QueryRow("SELECT sqlite_version()").Scan(&v); err != nil {
		return mod
	}
	return mod + " (SQLite " + v + ")"
}

// scanSQLite is SQLite's level: an in-memory database in this process, one
// connection (SQLite has one writer), loaded and queried with the same
// statements.
func scanSQLite(ctx context.Context, l *ScanLevel, queries int, progress func(string)) error {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // every statement on the one in-memory database
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	if _, err := db.ExecContext(ctx, sqlScanCreateTarantool); err != nil {
		return err
	}
	exec := func(query string) ([]any, uint64, error) {
		if strings.HasPrefix(query, "INSERT") {
			r, err := db.ExecContext(ctx, query)
			if err != nil {
				return nil, 0, err
			}
			n, err := r.RowsAffected()
			return nil, uint64(n), err
		}
		rs, err := db.QueryContext(ctx, query)
		if err != nil {
			return nil, 0, err
		}
		defer rs.Close()
		var out []any
		for rs.Next() {
			var a, b, c int64
			if err := rs.Scan(&a, &b, &c); err != nil {
				return nil, 0, err
			}
			out = append(out, []any{a, b, c})
		}
		return out, 0, rs.Err()
	}
	if err := runScanLevel(ctx, l, []execFunc{exec}, 1, queries, exec, nil, progress); err != nil {
		return err
	}
	if l.LoadErr != nil && errors.Is(l.LoadErr, context.Canceled) {
		return l.LoadErr
	}
	return nil
}

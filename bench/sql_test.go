package bench

import (
	"context"
	"flag"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/picogo/picogo/internal/procs"
	"github.com/picogo/picogo/internal/testbin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tarantool/go-tarantool/v2"
)

func TestBenchSQLMultiInsert(t *testing.T) {
	assert.Equal(t, "INSERT INTO t VALUES (1, 1), (2, 2), (3, 3)", multiInsert(1, 3, false))
	assert.Equal(t, "INSERT INTO t VALUES (999, 999, 999), (1000, 1000, 0)", multiInsert(999, 1000, true))
}

// scanAnswer is the right answer of the aggregate over ids 1..n, as an
// engine returns it.
func scanAnswer(n uint64) []any {
	var count, sum [sqlScanGroups]int64
	for id := uint64(1); id <= n; id++ {
		count[id%sqlScanGroups]++
		sum[id%sqlScanGroups] += int64(sqlValue(id))
	}
	var rows []any
	for g := range sqlScanGroups {
		if count[g] > 0 {
			rows = append(rows, []any{int8(g), uint64(count[g]), int64(sum[g])})
		}
	}
	return rows
}

func TestBenchSQLCheckScan(t *testing.T) {
	assert.Equal(t, "", checkScan(scanAnswer(12345), 12345))
	assert.Equal(t, "", checkScan(scanAnswer(7), 7), "fewer rows than groups")
	rows := scanAnswer(1000)
	assert.Contains(t, checkScan(rows[1:], 1000), "99 groups, want 100")
	rows[5] = []any{int64(5), int64(10), int64(1)}
	assert.Contains(t, checkScan(rows, 1000), "group 5: COUNT 10 SUM 1, want 10 and 4550")
	rows[5] = []any{int64(4), int64(10), int64(4)}
	assert.Contains(t, checkScan(rows, 1000), "group 4")
	rows[5] = []any{"5", 10, 1}
	assert.Contains(t, checkScan(rows, 1000), "column 1 is string")
	v, ok := asInt64(float64(3))
	assert.True(t, ok)
	assert.EqualValues(t, 3, v)
	_, ok = asInt64(2.5)
	assert.False(t, ok)
}

func TestBenchSQLTarantoolScript(t *testing.T) {
	s := tarantoolSQLScript("127.0.0.1:3301", "/tmp/x", sqlPointCreateTarantool)
	for _, want := range []string{
		`listen = "127.0.0.1:3301"`, `work_dir = "/tmp/x"`, `wal_mode = "fsync"`,
		`box.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")`,
		`box.schema.user.create("bench", {password = "bench-sql-secret"`,
		`box.schema.user.grant("bench", 'read,write', 'space', 'T'`,
		"function bench_sql_info()",
	} {
		assert.Contains(t, s, want)
	}
}

func TestBenchSQLScanMarkdownAndFlags(t *testing.T) {
	r := &SQLScanResult{Rows: 1000, Queries: 3, Loaders: 8, SQLite: "modernc.org/sqlite v1 (SQLite 3)", Levels: []ScanLevel{
		{System: "picogo", Replicasets: 1, Rows: 1000, Load: time.Second, Times: []time.Duration{400 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond}},
		{System: "picogo", Replicasets: 2, Rows: 1000, Load: 500 * time.Millisecond, LoadErr: io.EOF},
		{System: "picogo", Replicasets: 3, Rows: 1000, Load: time.Second, Times: []time.Duration{150 * time.Millisecond}, Wrong: "group 1"},
		{System: "picogo", Replicasets: 4, Rows: 1000, Load: time.Second, Times: []time.Duration{150 * time.Millisecond}, Err: io.ErrUnexpectedEOF},
		{System: "tarantool", Rows: 1000, Load: time.Second, Times: []time.Duration{100 * time.Millisecond, 100 * time.Millisecond}},
		{System: "sqlite", Rows: 1000, Load: time.Second, Times: []time.Duration{50 * time.Millisecond}},
	}}
	md := (&Report{SQLScan: r}).Markdown()
	for _, want := range []string{
		"## SQL scatter-gather aggregate", "`SELECT k % 100, COUNT(*), SUM(v) FROM t GROUP BY 1` over 1000 rows",
		"| picogo, 1 replicaset | 1000 ms | 1000 | 300 ms | 200 ms | 400 ms | 3333 | 1.00× | 3.00× |",
		"| picogo, 2 replicasets | failed | – | – |",
		"| picogo, 3 replicasets | 1000 ms | 1000 | 150 ms | 150 ms | 150 ms | 6667 | 2.00× | 1.50× |",
		"| tarantool (1 instance) | 1000 ms | 1000 | 100 ms |", "| sqlite (in-process, in memory) |",
		"- picogo, 2 replicasets: the load failed after 500 ms: EOF",
		"**wrong answer**: group 1",
		"| picogo, 4 replicasets | 1000 ms | 1000 | 150 ms (1 of 3 runs; then failed) |",
		"- SQL aggregate over 1000 rows, 4 replicasets: the query failed: unexpected EOF\n",
		"SQLite: modernc.org/sqlite v1 (SQLite 3)",
		"## Where picogo is behind\n\n- SQL aggregate over 1000 rows, 1 replicaset: the query's median is 3.00× Tarantool's (300 ms against 100 ms)\n",
		"- SQL aggregate over 1000 rows, 2 replicasets: the load failed after 500 ms: EOF\n",
		"- SQL aggregate over 1000 rows, 3 replicasets: wrong answer: group 1\n",
	} {
		assert.Contains(t, md, want)
	}
	assert.Equal(t, time.Duration(200), ScanLevel{Times: []time.Duration{300, 100, 200, 400}}.Median(), "the lower middle")
	assert.Equal(t, time.Duration(0), ScanLevel{}.Median())

	cfg := DefaultConfig()
	assert.Equal(t, 1_000_000, cfg.SQLRows)
	assert.Equal(t, []int{1, 2, 3}, cfg.SQLReplicasets)
	assert.True(t, cfg.runs(PhaseSQL) && cfg.runs(PhaseSQLScan), "in the default set")
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	RegisterFlags(fs, &cfg)
	require.NoError(t, fs.Parse([]string{"--only", "sql,sql-scan", "--sql-rows", "5000", "--sql-replicasets", "1,3", "--sql-queries", "2", "--sql-loaders", "2"}))
	assert.Equal(t, []string{PhaseSQL, PhaseSQLScan}, cfg.Only)
	assert.Equal(t, 5000, cfg.SQLRows)
	assert.Equal(t, []int{1, 3}, cfg.SQLReplicasets)
	assert.Equal(t, 2, cfg.SQLQueries)
	assert.Equal(t, 2, cfg.SQLLoaders)
	require.NoError(t, cfg.Validate())
	for _, bad := range []func(*Config){
		func(c *Config) { c.SQLRows = 0 }, func(c *Config) { c.SQLQueries = 0 }, func(c *Config) { c.SQLLoaders = 0 },
		func(c *Config) { c.SQLReplicasets = nil },
	} {
		c := cfg
		bad(&c)
		assert.Error(t, c.Validate())
	}
}

func TestBenchSQLiteScan(t *testing.T) {
	l := ScanLevel{System: "sqlite", Rows: 20_000}
	require.NoError(t, scanSQLite(context.Background(), &l, 2, func(string) {}))
	require.NoError(t, l.LoadErr)
	require.NoError(t, l.Err)
	assert.Empty(t, l.Wrong)
	assert.Len(t, l.Times, 2)
	assert.Contains(t, sqliteVersion(), "(SQLite 3.")
}

// TestBenchSQLTarantoolPointAndScan starts Tarantool's SQL instances of both
// phases: point INSERTs and SELECTs from 2 clients for half a second each,
// then the aggregate over 5000 rows, its answer checked.
func TestBenchSQLTarantoolPointAndScan(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Tarantool twice (a few seconds)")
	}
	bin := testbin.Tarantool(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ps := &procs.Registry{}
	t.Cleanup(func() { _ = ps.KillAll() })
	dir := t.TempDir()

	addr, proc, err := startTarantoolSQL(ctx, ps, bin, filepath.Join(dir, "point"), sqlPointCreateTarantool)
	require.NoError(t, err)
	c, err := connectTarantool(ctx, addr, tarantoolSQLUser, tarantoolSQLPassword)
	require.NoError(t, err)
	s := &sqlPointSide{name: "tarantool", conns: []*tarantool.Connection{c}, cpu: cpuOf(proc)}
	defer s.close()
	require.NoError(t, s.preload(1500))
	r := runLoad(ctx, 2, 0, 500*time.Millisecond, s.insert, s.cpu)
	require.NoError(t, r.FirstErr)
	require.Positive(t, r.Ops)
	r = runLoad(ctx, 2, 0, 500*time.Millisecond, s.selecter(s.ids.Load()), s.cpu)
	require.NoError(t, r.FirstErr)
	require.Positive(t, r.Ops)
	missing := 0
	for range 50 {
		if s.selecter(10*s.ids.Load())(ctx, 0) != nil {
			missing++
		}
	}
	assert.Positive(t, missing, "ids with no row are errors")
	_, _, err = sqlExec(c, sqlPointInsert, 1, 1)
	assert.Error(t, err, "a duplicate id")

	addr, _, err = startTarantoolSQL(ctx, ps, bin, filepath.Join(dir, "scan"), sqlScanCreateTarantool)
	require.NoError(t, err)
	conns, err := connectAll(ctx, []string{addr}, 2, tarantoolSQLUser, tarantoolSQLPassword)
	require.NoError(t, err)
	defer closeAll(conns)
	l := ScanLevel{System: "tarantool", Rows: 5000}
	require.NoError(t, runScanLevel(ctx, &l, []execFunc{iprotoExec(conns[0]), iprotoExec(conns[1])}, 3, 2, iprotoExec(conns[0]), nil, func(string) {}))
	require.NoError(t, l.LoadErr)
	require.NoError(t, l.Err)
	assert.Empty(t, l.Wrong)
	assert.Len(t, l.Times, 2)
	assert.NoError(t, alive(ps)())
}

package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/picogo/picogo/internal/procs"
	"github.com/tarantool/go-tarantool/v2"
)

// The SQL point phase (`--only sql`): point INSERTs and point SELECTs by
// primary key through IPROTO_EXECUTE, at every client count, on one
// instance: picogo (a sharded table on a one-instance cluster) against
// Tarantool's own SQL (box.execute through IPROTO_EXECUTE), through the
// same client code (go-tarantool v2's ExecuteRequest).

const (
	// The statements both systems run, word for word.
	sqlPointInsert = "INSERT INTO t VALUES (?, ?)"
	sqlPointSelect = "SELECT v FROM t WHERE id = ?"
	// sqlPointPreload: rows in t before the first round (ids 1..), loaded
	// by multi-row INSERTs; the measured INSERTs take the ids after them.
	sqlPointPreload = 10_000
	// sqlBatchRows: rows per multi-row INSERT when loading.
	sqlBatchRows = 1000
	// The Tarantool user the SQL goes through (picogo's: admin).
	tarantoolSQLUser     = "bench"
	tarantoolSQLPassword = "bench-sql-secret"
	// tarantoolSQLInfoFn: the Lua function (called as guest) that says
	// the instance is up and with which wal_mode.
	tarantoolSQLInfoFn = "bench_sql_info"
	// tarantoolSQLWalMode is the WAL mode of Tarantool's SQL instance:
	// the durable inserts' (bench/tarantool_replicaset.go), a write
	// answered once fsynced, as picogo's group commit does.
	tarantoolSQLWalMode = "fsync"
)

// sqlValue is v of the row with id (both phases): small, so that the
// scan's sums stay far from overflowing.
func sqlValue(id uint64) uint64 { return id % 1000 }

// sqlExec runs query with args through IPROTO_EXECUTE on conn and returns
// the rows (a SELECT) and the affected row count (DML).
func sqlExec(conn tarantool.Connector, query string, args ...any) ([]any, uint64, error) {
	if args == nil {
		args = []any{}
	}
	resp, err := conn.Do(tarantool.NewExecuteRequest(query).Args(args)).GetResponse()
	if err != nil {
		return nil, 0, err
	}
	data, err := resp.Decode()
	if err != nil {
		return nil, 0, err
	}
	var n uint64
	if er, ok := resp.(*tarantool.ExecuteResponse); ok {
		info, _ := er.SQLInfo()
		n = info.AffectedCount
	}
	return data, n, nil
}

// asInt64 is an integer decoded from msgpack, whatever its width.
func asInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint:
		return int64(x), true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		return int64(x), true
	case float64: // an integral double (a SUM some engines widen)
		if x == float64(int64(x)) {
			return int64(x), true
		}
	}
	return 0, false
}

// multiInsert is `INSERT INTO t VALUES (...), (...)` of the rows with ids
// first..last, the values inlined (no parameters: the statement is the
// same text for every system). withK adds the scan's k column (k = id).
func multiInsert(first, last uint64, withK bool) string {
	var b strings.Builder
	b.Grow(int(last-first+1) * 24)
	b.WriteString("INSERT INTO t VALUES ")
	for id := first; id <= last; id++ {
		if id > first {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		b.WriteString(strconv.FormatUint(id, 10))
		if withK {
			b.WriteString(", ")
			b.WriteString(strconv.FormatUint(id, 10))
		}
		b.WriteString(", ")
		b.WriteString(strconv.FormatUint(sqlValue(id), 10))
		b.WriteByte(')')
	}
	return b.String()
}

// ---- Tarantool's SQL instance ----

// tarantoolSQLScript is the init script of a Tarantool serving SQL: listen
// on addr with wal_mode fsync, create t with create (box.execute), let the
// user bench read and write it, let guest call tarantoolSQLInfoFn.
func tarantoolSQLScript(addr, dir, create string) string {
	return fmt.Sprintf(`-- picogo bench: a Tarantool serving SQL through IPROTO_EXECUTE
box.cfg{listen = %s, work_dir = %s, wal_mode = %s, memtx_memory = 2 * 1024 * 1024 * 1024, log_level = 4}
box.schema.user.create(%s, {password = %s, if_not_exists = true})
local _, err = box.execute(%s)
if err ~= nil then error(err) end
box.schema.user.grant(%s, 'read,write', 'space', 'T', {if_not_exists = true})
box.schema.user.grant('guest', 'execute', 'universe', nil, {if_not_exists = true})
function %s() return {wal_mode = box.cfg.wal_mode, t = box.space.T ~= nil} end
`, luaString(addr), luaString(dir), luaString(tarantoolSQLWalMode), luaString(tarantoolSQLUser), luaString(tarantoolSQLPassword),
		luaString(create), luaString(tarantoolSQLUser), tarantoolSQLInfoFn)
}

// startTarantoolSQL starts a Tarantool serving SQL with the table t made by
// create, on a free loopback port, and waits until the user bench can
// read t and the WAL mode is fsync.
func startTarantoolSQL(ctx context.Context, ps *procs.Registry, bin, dir, create string) (string, *procs.Process, error) {
	addrs, err := procs.FreeAddrs(1)
	if err != nil {
		return "", nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	path := filepath.Join(dir, "init.lua")
	if err := os.WriteFile(path, []byte(tarantoolSQLScript(addrs[0], dir, create)), 0o644); err != nil {
		return "", nil, err
	}
	p, err := start(ps, "tarantool-sql", filepath.Join(dir, "tarantool.log"), nil, dir, bin, path)
	if err != nil {
		return "", nil, err
	}
	err = poll(ctx, readyTimeout, "tarantool serves SQL", []*procs.Process{p}, func() error {
		c, err := connectTarantool(ctx, addrs[0], "", "")
		if err != nil {
			return err
		}
		defer c.Close()
		type info struct {
			WalMode string `msgpack:"wal_mode"`
			T       bool   `msgpack:"t"`
		}
		i, err := callOne[info](c, tarantoolSQLInfoFn)
		if err != nil {
			return err
		}
		if i.WalMode != tarantoolSQLWalMode || !i.T {
			return fmt.Errorf("wal_mode %q, table T %t", i.WalMode, i.T)
		}
		u, err := connectTarantool(ctx, addrs[0], tarantoolSQLUser, tarantoolSQLPassword)
		if err != nil {
			return err
		}
		defer u.Close()
		_, _, err = sqlExec(u, "SELECT COUNT(*) FROM t")
		return err
	})
	return addrs[0], p, err
}

// ---- picogo's SQL instance(s) ----

// picogoCreateSQL creates t with create through conn (admin) and waits
// until a point SELECT on it answers.
func picogoCreateSQL(ctx context.Context, conn tarantool.Connector, create string, watch []*procs.Process) error {
	if _, _, err := sqlExec(conn, create); err != nil {
		return fmt.Errorf("picogo: %s: %w", create, err)
	}
	return poll(ctx, readyTimeout, "picogo: table t answers SQL", watch, func() error {
		_, _, err := sqlExec(conn, sqlPointSelect, 0)
		return err
	})
}

// ---- the point load ----

// sqlPointSide is one system under the point load: connections shared by
// the load goroutines, the ids inserted so far.
type sqlPointSide struct {
	name  string
	conns []*tarantool.Connection
	ids   atomic.Uint64 // the last id handed out
	cpu   func() time.Duration
	http  string // picogo --profile's address
}

func (s *sqlPointSide) close() {
	for _, c := range s.conns {
		c.Close()
	}
}

func (s *sqlPointSide) conn(worker int) *tarantool.Connection { return s.conns[worker%len(s.conns)] }

// insert is the point INSERT of the next id.
func (s *sqlPointSide) insert(_ context.Context, worker int) error {
	id := s.ids.Add(1)
	_, n, err := sqlExec(s.conn(worker), sqlPointInsert, id, sqlValue(id))
	if err == nil && n != 1 {
		err = fmt.Errorf("insert of id %d: %d rows affected", id, n)
	}
	return err
}

// selecter is the point SELECT of a random id among the first n, each
// checked against the value it was inserted with.
func (s *sqlPointSide) selecter(n uint64) opFunc {
	return func(_ context.Context, worker int) error {
		id := 1 + rand.Uint64N(n)
		rows, _, err := sqlExec(s.conn(worker), sqlPointSelect, id)
		if err != nil {
			return err
		}
		if len(rows) != 1 {
			return fmt.Errorf("select of id %d: %d rows", id, len(rows))
		}
		row, _ := rows[0].([]any)
		if len(row) != 1 {
			return fmt.Errorf("select of id %d: row %v", id, rows[0])
		}
		if v, ok := asInt64(row[0]); !ok || uint64(v) != sqlValue(id) {
			return fmt.Errorf("select of id %d: v is %v, want %d", id, row[0], sqlValue(id))
		}
		return nil
	}
}

// preload inserts ids 1..n in multi-row INSERTs and sets the id counter
// past them.
func (s *sqlPointSide) preload(n uint64) error {
	for first := uint64(1); first <= n; first += sqlBatchRows {
		last := min(first+sqlBatchRows-1, n)
		_, got, err := sqlExec(s.conns[0], multiInsert(first, last, false))
		if err != nil {
			return fmt.Errorf("%s: preloading ids %d..%d: %w", s.name, first, last, err)
		}
		if got != last-first+1 {
			return fmt.Errorf("%s: preloading ids %d..%d: %d rows affected", s.name, first, last, got)
		}
	}
	s.ids.Store(n)
	return nil
}

// sqlPointCreate* make the point phase's table t (id, v).
const (
	sqlPointCreatePicogo    = "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER) DISTRIBUTED BY (id)"
	sqlPointCreateTarantool = "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)"
)

// sqlPointComparisons are the phase's two comparisons, before any round.
func sqlPointComparisons() (ins, sel *Comparison) {
	common := "One instance of each on 127.0.0.1, the same client code: go-tarantool v2's ExecuteRequest (IPROTO_EXECUTE) with positional parameters, " +
		"the clients sharing the connection(s). picogo: a one-instance cluster (`picogo run`), the table created with `" + sqlPointCreatePicogo +
		"` (sharded: every statement goes through the router to the bucket's storage), as admin. " +
		"Tarantool: `tarantool init.lua` with `box.cfg{wal_mode = '" + tarantoolSQLWalMode + "'}` (as the durable inserts), the table created with `box.execute([[" +
		sqlPointCreateTarantool + "]])`, as a user with read and write on it. "
	ins = &Comparison{Title: "SQL point INSERT", Unit: "inserts/s", A: "picogo", B: "tarantool", Profile: "sql-insert",
		How: common + fmt.Sprintf("Each operation is `%s` of a new id (after %d rows preloaded by multi-row INSERTs), answered once written: "+
			"picogo's replicaset log is fsynced per group commit, Tarantool's WAL with wal_mode %s (fsync per WAL write, a batch of transactions).",
			sqlPointInsert, sqlPointPreload, tarantoolSQLWalMode)}
	sel = &Comparison{Title: "SQL point SELECT", Unit: "selects/s", A: "picogo", B: "tarantool", Profile: "sql-select",
		How: common + fmt.Sprintf("Each operation is `%s` of a random id among the rows in the table (the preloaded ones and those the INSERT rounds wrote), "+
			"its answer checked: one row, the value inserted.", sqlPointSelect)}
	return ins, sel
}

// runSQLPoint runs the point phase into ins and sel.
func runSQLPoint(ctx context.Context, cfg Config, ps *procs.Registry, dir string, ins, sel *Comparison, progress func(string)) error {
	progress("sql: starting 1 picogo instance")
	pins, leader, err := startPicogo(ctx, ps, cfg.Picogo, filepath.Join(dir, "picogo"), 1, cfg.Profile != "")
	if err != nil {
		return err
	}
	pc, err := openAll(cfg.Conns, func() (*tarantool.Connection, error) {
		return connectTarantool(ctx, leader.addr, "admin", picogoAdminPassword)
	})
	if err != nil {
		return err
	}
	p := &sqlPointSide{name: "picogo", conns: pc, cpu: cpuOf(pins[0].proc), http: leader.http}
	defer p.close()
	if err := picogoCreateSQL(ctx, pc[0], sqlPointCreatePicogo, []*procs.Process{pins[0].proc}); err != nil {
		return err
	}
	progress("sql: starting tarantool (SQL, wal_mode " + tarantoolSQLWalMode + ")")
	taddr, tproc, err := startTarantoolSQL(ctx, ps, cfg.Tarantool, filepath.Join(dir, "tarantool"), sqlPointCreateTarantool)
	if err != nil {
		return err
	}
	tc, err := openAll(cfg.Conns, func() (*tarantool.Connection, error) {
		return connectTarantool(ctx, taddr, tarantoolSQLUser, tarantoolSQLPassword)
	})
	if err != nil {
		return err
	}
	t := &sqlPointSide{name: "tarantool", conns: tc, cpu: cpuOf(tproc)}
	defer t.close()
	sides := []*sqlPointSide{p, t}
	for _, s := range sides {
		t0 := time.Now()
		if err := s.preload(sqlPointPreload); err != nil {
			return err
		}
		progress(fmt.Sprintf("sql: %s: %d rows preloaded in %s", s.name, sqlPointPreload, fmtDur(time.Since(t0))))
	}
	var targets []target
	for _, s := range sides {
		targets = append(targets, target{s.insert, s.cpu, s.http})
	}
	if err := alternate(ctx, cfg, ins, targets, alive(ps), progress); err != nil {
		return err
	}
	targets = targets[:0]
	for _, s := range sides {
		targets = append(targets, target{s.selecter(s.ids.Load()), s.cpu, s.http})
	}
	if err := alternate(ctx, cfg, sel, targets, alive(ps), progress); err != nil {
		return err
	}
	for _, s := range sides {
		rows, _, err := sqlExec(s.conns[0], "SELECT COUNT(*) FROM t")
		if err != nil {
			return fmt.Errorf("%s: counting t: %w", s.name, err)
		}
		var n int64
		if len(rows) == 1 {
			if r, _ := rows[0].([]any); len(r) == 1 {
				n, _ = asInt64(r[0])
			}
		}
		ins.Notes = append(ins.Notes, fmt.Sprintf("- %s: %d rows in t at the end (%d ids handed out)", s.name, n, s.ids.Load()))
	}
	if len(ins.Rounds) == 0 {
		return errors.New("no round measured")
	}
	return nil
}

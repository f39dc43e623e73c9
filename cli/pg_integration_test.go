//go:build linux

// PostgreSQL's wire protocol (`picogo run --pg-listen`) driven by real
// clients: psql (a script whose output is compared with a golden file),
// pgx v5 in every query mode, database/sql through pgx's stdlib, users
// made by CREATE USER logging in, and the SQLSTATEs of errors.
//
// One instance serves every subtest. With PICOGO_PG_REFERENCE_DSN set
// (postgres://user:password@host:port/db of a real PostgreSQL), the pgx,
// database/sql and error subtests also run against that server, with the
// DDL translated to PostgreSQL's dialect: the expectations below are
// PostgreSQL's own behaviour, checked.

package cli

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"
	_ "github.com/jackc/pgx/v5/stdlib"
)

// pgitUpdate rewrites testdata/pg/script.out with what psql printed (also
// PICOGO_PG_UPDATE=1). Read the diff before committing it: it must be
// what PostgreSQL would print for those rows.
var pgitUpdate = flag.Bool("pg-update", false, "rewrite testdata/pg/script.out from psql's output")

// psqlBinary is the path of psql (Debian's postgresql-client): a missing
// psql skips the test, but fails it under CI, where .ci/run installs it.
func psqlBinary(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("psql")
	if err != nil {
		const missing = "psql is not installed; .ci/run installs it (apt-get install -y postgresql-client)"
		if os.Getenv("CI") != "" {
			t.Fatal(missing)
		}
		t.Skip(missing)
	}
	return bin
}

// pgitTarget is a server the subtests run against: picogo, or the reference
// PostgreSQL.
type pgitTarget struct {
	name      string
	dsn       string
	reference bool
}

// ddl is stmt in the target's dialect: picogo's as written; for
// PostgreSQL, without DISTRIBUTED and with PostgreSQL's type names (its
// INTEGER is 32 bits, picogo's 64).
func (tg pgitTarget) ddl(stmt string) string {
	if !tg.reference {
		return stmt
	}
	return strings.NewReplacer(" DISTRIBUTED BY (id)", "", " DISTRIBUTED GLOBALLY", "", " INTEGER", " BIGINT",
		" DOUBLE", " DOUBLE PRECISION", " DATETIME", " TIMESTAMPTZ", " VARBINARY", " BYTEA").Replace(stmt)
}

// pgitDSN is the URL pgx takes for user at addr.
func pgitDSN(user, password, addr string) string {
	return fmt.Sprintf("postgres://%s:%s@%s/picogo?sslmode=disable&connect_timeout=5", user, password, addr)
}

// pgitConnect opens a pgx connection to dsn in mode, closed when the test
// ends.
func pgitConnect(t *testing.T, dsn string, mode pgx.QueryExecMode) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DefaultQueryExecMode = mode
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connecting to %s: %v", cfg.Host, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		conn.Close(ctx)
	})
	return conn
}

// pgitCtx is the bound of one statement.
func pgitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// pgitExec runs stmt and fails the test on an error.
func pgitExec(t *testing.T, conn *pgx.Conn, stmt string, args ...any) pgconn.CommandTag {
	t.Helper()
	tag, err := conn.Exec(pgitCtx(t), stmt, args...)
	if err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	return tag
}

// pgError asserts err is a PostgreSQL error with SQLSTATE code.
func pgitError(t *testing.T, what string, err error, code string) *pgconn.PgError {
	t.Helper()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		t.Errorf("%s: error %v (%T); want SQLSTATE %s", what, err, err, code)
		return nil
	}
	if pe.Code != code {
		t.Errorf("%s: SQLSTATE %s (%s); want %s", what, pe.Code, pe.Message, code)
	}
	return pe
}

// TestIntegrationPG: one instance with --pg-listen, every real client.
func TestIntegrationPG(t *testing.T) {
	skipIfShort(t)
	pgAddr := freeAddrs(t, 1)[0]
	in := startCluster(t, 1, "--pg-listen", pgAddr)[0]
	waitLeader(t, in)
	waitAdminPassword(t, in)
	picogo := pgitTarget{name: "picogo", dsn: pgitDSN("admin", itAdminPassword, pgAddr)}
	pgitWaitLogin(t, in, picogo.dsn)
	targets := []pgitTarget{picogo}
	if dsn := os.Getenv("PICOGO_PG_REFERENCE_DSN"); dsn != "" {
		targets = append(targets, pgitTarget{name: "postgres", dsn: dsn, reference: true})
	}

	t.Run("psql", func(t *testing.T) { testPgitPsql(t, pgAddr) })
	for _, tg := range targets {
		t.Run("pgx/"+tg.name, func(t *testing.T) { testPgitPgx(t, tg) })
		t.Run("database-sql/"+tg.name, func(t *testing.T) { testPgitDatabaseSQL(t, tg) })
		t.Run("errors/"+tg.name, func(t *testing.T) { testPgitErrors(t, tg) })
	}
	t.Run("users", func(t *testing.T) { testPgitUsers(t, in, pgAddr) })
}

// testPgitPsql runs testdata/pg/script.sql through psql and compares what it
// prints, stdout and stderr together, with testdata/pg/script.out.
func testPgitPsql(t *testing.T, pgAddr string) {
	psql := psqlBinary(t)
	dir, err := filepath.Abs(filepath.Join("testdata", "pg"))
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := strings.Cut(pgAddr, ":")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, psql, "-X", "-v", "ON_ERROR_STOP=0", "-h", host, "-p", port, "-U", "admin", "-d", "picogo", "-f", "script.sql")
	cmd.Dir = dir // psql names the file as given in its errors: script.sql
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "PSQL") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "PGPASSWORD="+itAdminPassword, "PGCONNECT_TIMEOUT=5", "PGTZ=UTC", "LC_ALL=C")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Run(); err != nil {
		t.Fatalf("psql: %v\n%s", err, out.String())
	}
	golden := filepath.Join(dir, "script.out")
	if *pgitUpdate || os.Getenv("PICOGO_PG_UPDATE") != "" {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s: read its diff", golden)
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != string(want) {
		t.Errorf("psql printed (want %s; -pg-update rewrites it):\n%s\n%s", golden, got, pgitLineDiff(string(want), got))
	}
}

// pgitLineDiff lists the first lines where want and got differ.
func pgitLineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 20; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %q\n  got  %q\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}

// pgitRow is one row of every type the protocol carries.
type pgitRow struct {
	I  int64
	F  float64
	D  string // a decimal, as text
	S  string
	B  bool
	U  [16]byte
	TS time.Time
}

var pgitSample = pgitRow{
	I: -9007199254740993, F: -0.1, D: "12345.678901", S: "héllo, 'world'; \\ \"x\"", B: true,
	U:  [16]byte{0x6f, 0x1e, 0x0c, 0x2a, 0x8f, 0x55, 0x4a, 0x5e, 0x9d, 0x6c, 0x1b, 0x2a, 0x3c, 0x4d, 0x5e, 0x6f},
	TS: time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.UTC),
}

// pgitBytes is a varbinary value: a NUL, a backslash, a quote, high bytes.
var pgitBytes = []byte{0, 1, 2, '\\', '\'', 0xfe, 0xff}

// pgitModes are pgx's ways of running a statement: the simple protocol
// (parameters interpolated by pgx, results in text), and the extended
// protocol, prepared and cached (binary parameters and results, or text
// results on request), described on every run, and executed without a
// description (text parameters and results).
var pgitModes = []struct {
	name      string
	mode      pgx.QueryExecMode
	text      bool // ask for text results (pgx.QueryResultFormats)
	described bool // pgx asks the server for the parameters' types
}{
	{"simple", pgx.QueryExecModeSimpleProtocol, false, false},
	{"cache-statement-binary", pgx.QueryExecModeCacheStatement, false, true},
	{"cache-statement-text", pgx.QueryExecModeCacheStatement, true, true},
	{"describe-exec", pgx.QueryExecModeDescribeExec, false, true},
	{"exec", pgx.QueryExecModeExec, false, false},
}

const pgitTypesTable = "CREATE TABLE pg_types (id INTEGER PRIMARY KEY, i INTEGER, f DOUBLE, d DECIMAL, s TEXT, b BOOLEAN, u UUID, ts DATETIME) DISTRIBUTED BY (id)"

// testPgitPgx: every type through a table and through parameters, in every
// query mode, scanned into typed Go values and with no hints (Values).
func testPgitPgx(t *testing.T, tg pgitTarget) {
	admin := pgitConnect(t, tg.dsn, pgx.QueryExecModeCacheStatement)
	pgitExec(t, admin, "DROP TABLE IF EXISTS pg_types")
	pgitExec(t, admin, tg.ddl(pgitTypesTable))
	t.Cleanup(func() { admin.Exec(context.Background(), "DROP TABLE pg_types") })

	var dec pgtype.Numeric
	if err := dec.Scan(pgitSample.D); err != nil {
		t.Fatal(err)
	}
	for n, m := range pgitModes {
		t.Run(m.name, func(t *testing.T) {
			conn := pgitConnect(t, tg.dsn, m.mode)
			ctx := pgitCtx(t)
			id := int64(10 * (n + 1))
			w := pgitSample
			// A bare [16]byte goes where the server described the
			// parameter as a uuid; where pgx picks the type from the Go
			// value (simple, exec), a pgtype.UUID.
			var uuid any = w.U
			if !m.described {
				uuid = pgtype.UUID{Bytes: w.U, Valid: true}
			}
			// A write this mode fails is made through admin's
			// connection instead, so that the reads below are still
			// checked in this mode.
			const insert = "INSERT INTO pg_types VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
			write := func(what string, args ...any) {
				t.Helper()
				tag, err := conn.Exec(ctx, insert, args...)
				if err != nil {
					t.Errorf("INSERT of %s: %v", what, err)
					tag = pgitExec(t, admin, insert, args...)
				}
				if tag.String() != "INSERT 0 1" {
					t.Errorf("INSERT's tag %q, want \"INSERT 0 1\"", tag)
				}
			}
			write("every type", id, w.I, w.F, dec, w.S, w.B, uuid, w.TS)
			// The same values as a decimal's text and a pgtype.UUID.
			write("the decimal as a string and a pgtype.UUID", id+1, w.I, w.F, w.D, w.S, w.B, pgtype.UUID{Bytes: w.U, Valid: true}, w.TS)
			// NULLs through parameters.
			write("NULLs", id+2, nil, nil, nil, nil, nil, nil, nil)

			query := func(sql string, args ...any) (pgx.Rows, error) {
				if m.text {
					args = append([]any{pgx.QueryResultFormats{pgx.TextFormatCode}}, args...)
				}
				return conn.Query(ctx, sql, args...)
			}
			// Typed scans.
			for _, rid := range []int64{id, id + 1} {
				rows, err := query("SELECT i, f, d, s, b, u, ts FROM pg_types WHERE id = $1", rid)
				if err != nil {
					t.Fatalf("SELECT: %v", err)
				}
				var got pgitRow
				var gotDec pgtype.Numeric
				var gotU pgtype.UUID
				n := 0
				_, err = pgx.ForEachRow(rows, []any{&got.I, &got.F, &gotDec, &got.S, &got.B, &gotU, &got.TS}, func() error { n++; return nil })
				if err != nil || n != 1 {
					t.Fatalf("SELECT of id %d: %d rows, %v", rid, n, err)
				}
				if v, _ := gotDec.Value(); v != w.D {
					t.Errorf("decimal scanned as %v, want %s", v, w.D)
				}
				got.D, got.U = w.D, gotU.Bytes
				if !got.TS.Equal(w.TS) {
					t.Errorf("datetime %v, want %v", got.TS, w.TS)
				}
				got.TS = w.TS
				if !reflect.DeepEqual(got, w) {
					t.Errorf("id %d read back as %+v\nwant %+v", rid, got, w)
				}
			}
			// A decimal scanned into a string, a uuid into [16]byte.
			var ds string
			var u [16]byte
			if err := conn.QueryRow(ctx, "SELECT d, u FROM pg_types WHERE id = $1", id).Scan(&ds, &u); err != nil || ds != w.D || u != w.U {
				t.Errorf("decimal into a string, uuid into [16]byte: %q, %x, %v; want %s, %x", ds, u, err, w.D, w.U)
			}
			// No hints: the Go types pgx picks from the columns' types.
			rows, err := query("SELECT id, i, f, d, s, b, u, ts FROM pg_types WHERE id = $1", id)
			if err != nil {
				t.Fatal(err)
			}
			// The results came in the format asked for: text with the
			// simple protocol, in exec mode and on request; else binary
			// (pgx asks binary of every type here but text, whose two
			// formats are the same bytes).
			for _, fd := range rows.FieldDescriptions() {
				wantFormat := int16(pgx.BinaryFormatCode)
				if m.text || !m.described || fd.DataTypeOID == pgtype.TextOID || fd.DataTypeOID == pgtype.VarcharOID {
					wantFormat = pgx.TextFormatCode
				}
				if fd.Format != wantFormat {
					t.Errorf("column %s (type oid %d) came in format %d, want %d", fd.Name, fd.DataTypeOID, fd.Format, wantFormat)
				}
			}
			vals, err := pgx.CollectOneRow(rows, func(r pgx.CollectableRow) ([]any, error) { return r.Values() })
			if err != nil {
				t.Errorf("SELECT of every column, scanned with no hint (Values): %v", err)
			}
			wantTypes := []string{"int64", "int64", "float64", "pgtype.Numeric", "string", "bool", "[16]uint8", "time.Time"}
			for i, v := range vals {
				if got := fmt.Sprintf("%T", v); i < len(wantTypes) && got != wantTypes[i] {
					t.Errorf("column %d (%v) scanned with no hint as %s, want %s", i, v, got, wantTypes[i])
				}
			}
			if len(vals) == 8 {
				if vals[0] != id || vals[1] != w.I || vals[2] != w.F || vals[4] != w.S || vals[5] != w.B {
					t.Errorf("values %v", vals)
				}
				if n, ok := vals[3].(pgtype.Numeric); ok {
					if s, _ := n.Value(); s != w.D {
						t.Errorf("decimal with no hint %v, want %s", s, w.D)
					}
				}
				if ts, ok := vals[7].(time.Time); !ok || !ts.Equal(w.TS) {
					t.Errorf("datetime with no hint %v, want %v", vals[7], w.TS)
				}
				if !reflect.DeepEqual(vals[6], any(w.U)) {
					t.Errorf("uuid with no hint %v", vals[6])
				}
			}
			// NULLs read back: into pointers, and as nil with no hint.
			var pi *int64
			var pf *float64
			var pd *string
			var ps *string
			var pb *bool
			var pu *[16]byte
			var pts *time.Time
			err = conn.QueryRow(ctx, "SELECT i, f, d, s, b, u, ts FROM pg_types WHERE id = $1", id+2).Scan(&pi, &pf, &pd, &ps, &pb, &pu, &pts)
			if err != nil {
				t.Errorf("SELECT of NULLs: %v", err)
			} else if pi != nil || pf != nil || pd != nil || ps != nil || pb != nil || pu != nil || pts != nil {
				t.Errorf("NULLs read back as %v %v %v %v %v %v %v", pi, pf, pd, ps, pb, pu, pts)
			}
			rows, err = query("SELECT i, s, ts FROM pg_types WHERE id = $1", id+2)
			if err == nil {
				var vals []any
				vals, err = pgx.CollectOneRow(rows, func(r pgx.CollectableRow) ([]any, error) { return r.Values() })
				if err == nil && !reflect.DeepEqual(vals, []any{nil, nil, nil}) {
					t.Errorf("NULLs with no hint: %#v", vals)
				}
			}
			if err != nil {
				t.Errorf("NULLs with no hint: %v", err)
			}
			// Every type as a parameter of a comparison.
			for i, c := range []struct {
				col string
				arg any
			}{{"i", w.I}, {"f", w.F}, {"d", dec}, {"s", w.S}, {"b", w.B}, {"u", uuid}, {"ts", w.TS}} {
				var n int64
				err := conn.QueryRow(ctx, fmt.Sprintf("SELECT COUNT(*) FROM pg_types WHERE %s = $1 AND id >= $2 AND id <= $3", c.col), c.arg, id, id+2).Scan(&n)
				if err != nil || n != 2 {
					t.Errorf("WHERE %s = $1 (%d): %d rows, %v; want 2", c.col, i, n, err)
				}
			}
			// Parameters in expressions.
			var sum int64
			var cat string
			if err := conn.QueryRow(ctx, "SELECT i + $1, s || $2 FROM pg_types WHERE id = $3", int64(3), "!", id).Scan(&sum, &cat); err != nil ||
				sum != w.I+3 || cat != w.S+"!" {
				t.Errorf("i + $1, s || $2: %d, %q, %v", sum, cat, err)
			}
			// UPDATE and DELETE tags.
			if tag := pgitExec(t, conn, "UPDATE pg_types SET s = $1 WHERE id >= $2 AND id <= $3", w.S, id, id+2); tag.String() != "UPDATE 3" {
				t.Errorf("UPDATE's tag %q", tag)
			}
			if tag := pgitExec(t, conn, "DELETE FROM pg_types WHERE id = $1", id+2); tag.String() != "DELETE 1" {
				t.Errorf("DELETE's tag %q", tag)
			}
		})
	}

	t.Run("varbinary", func(t *testing.T) { testPgitBytes(t, tg, admin) })
	t.Run("simple-without-parameters", func(t *testing.T) {
		// The simple protocol's text results, every type, with no
		// parameter for pgx to quote: the row written by the extended
		// protocol's first mode.
		conn := pgitConnect(t, tg.dsn, pgx.QueryExecModeSimpleProtocol)
		ctx := pgitCtx(t)
		rows, err := conn.Query(ctx, "SELECT id, i, f, d, s, b, u, ts FROM pg_types WHERE id = 20")
		if err != nil {
			t.Fatal(err)
		}
		vals, err := pgx.CollectOneRow(rows, func(r pgx.CollectableRow) ([]any, error) { return r.Values() })
		if err != nil {
			t.Fatal(err)
		}
		w := pgitSample
		want := []any{int64(20), w.I, w.F, dec, w.S, w.B, w.U, w.TS}
		if len(vals) != len(want) {
			t.Fatalf("%d values, want %d", len(vals), len(want))
		}
		for i := range want {
			ok := reflect.DeepEqual(vals[i], want[i])
			switch v := vals[i].(type) {
			case time.Time:
				ok = v.Equal(w.TS)
			case pgtype.Numeric:
				s, _ := v.Value()
				ok = s == w.D
			}
			if !ok {
				t.Errorf("column %d: %#v, want %#v", i, vals[i], want[i])
			}
		}
	})
	t.Run("literals", func(t *testing.T) {
		// A quoted literal takes the type of the column it is compared
		// with, as in PostgreSQL (where it is of type unknown until then).
		conn := pgitConnect(t, tg.dsn, pgx.QueryExecModeSimpleProtocol)
		ctx := pgitCtx(t)
		var want int64
		if err := conn.QueryRow(ctx, "SELECT COUNT(*) FROM pg_types WHERE ts IS NOT NULL").Scan(&want); err != nil || want == 0 {
			t.Fatalf("rows with values: %d, %v", want, err)
		}
		for _, q := range []string{
			"SELECT COUNT(*) FROM pg_types WHERE u = '6f1e0c2a-8f55-4a5e-9d6c-1b2a3c4d5e6f'",
			"SELECT COUNT(*) FROM pg_types WHERE ts = '2024-02-29 13:14:15.123456+00'",
			"SELECT COUNT(*) FROM pg_types WHERE ts > '2024-01-01 00:00:00'",
			"SELECT COUNT(*) FROM pg_types WHERE d = '12345.678901'",
		} {
			var n int64
			if err := conn.QueryRow(ctx, q).Scan(&n); err != nil || n != want {
				t.Errorf("%s: %d, %v; want %d", q, n, err, want)
			}
		}
	})
}

// testPgitBytes: varbinary values through a table and parameters, in
// every query mode.
func testPgitBytes(t *testing.T, tg pgitTarget, admin *pgx.Conn) {
	if _, err := admin.Exec(pgitCtx(t), tg.ddl("CREATE TABLE pg_bytes (id INTEGER PRIMARY KEY, v VARBINARY) DISTRIBUTED BY (id)")); err != nil {
		t.Fatalf("CREATE TABLE with a VARBINARY column (docs/sql.md lists the type): %v", err)
	}
	t.Cleanup(func() { admin.Exec(context.Background(), "DROP TABLE pg_bytes") })
	for n, m := range pgitModes {
		conn := pgitConnect(t, tg.dsn, m.mode)
		ctx := pgitCtx(t)
		id := int64(10 * (n + 1))
		if _, err := conn.Exec(ctx, "INSERT INTO pg_bytes VALUES ($1, $2), ($3, $4)", id, pgitBytes, id+1, nil); err != nil {
			t.Errorf("%s: INSERT of bytes and a NULL: %v", m.name, err)
			continue
		}
		var got []byte
		if err := conn.QueryRow(ctx, "SELECT v FROM pg_bytes WHERE id = $1", id).Scan(&got); err != nil || !bytes.Equal(got, pgitBytes) {
			t.Errorf("%s: read back %x, %v; want %x", m.name, got, err, pgitBytes)
		}
		rows, err := conn.Query(ctx, "SELECT v FROM pg_bytes WHERE id = $1 OR id = $2 ORDER BY id", id, id+1)
		if err != nil {
			t.Errorf("%s: %v", m.name, err)
			continue
		}
		var vals []any
		for rows.Next() {
			v, err := rows.Values()
			if err != nil {
				t.Errorf("%s: Values: %v", m.name, err)
			}
			vals = append(vals, v...)
		}
		if err := rows.Err(); err != nil || !reflect.DeepEqual(vals, []any{pgitBytes, nil}) {
			t.Errorf("%s: with no hint %#v, %v; want the bytes and nil", m.name, vals, err)
		}
		var c int64
		if err := conn.QueryRow(ctx, "SELECT COUNT(*) FROM pg_bytes WHERE v = $1 AND id = $2", pgitBytes, id).Scan(&c); err != nil || c != 1 {
			t.Errorf("%s: WHERE v = $1: %d, %v; want 1", m.name, c, err)
		}
	}
}

// testPgitDatabaseSQL: database/sql through pgx's stdlib driver.
func testPgitDatabaseSQL(t *testing.T, tg pgitTarget) {
	db, err := sql.Open("pgx", tg.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(4)
	ctx := pgitCtx(t)
	if _, err := db.ExecContext(ctx, "DROP TABLE IF EXISTS pg_dbsql"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, tg.ddl("CREATE TABLE pg_dbsql (id INTEGER PRIMARY KEY, name TEXT, score DOUBLE) DISTRIBUTED BY (id)")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Exec("DROP TABLE pg_dbsql") })
	res, err := db.ExecContext(ctx, "INSERT INTO pg_dbsql VALUES ($1, $2, $3), ($4, $5, $6)", 1, "one", 1.5, 2, nil, nil)
	if err != nil {
		t.Fatalf("Exec INSERT: %v", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 2 {
		t.Errorf("RowsAffected %d, %v; want 2", n, err)
	}
	// A prepared statement reused with different arguments.
	st, err := db.PrepareContext(ctx, "INSERT INTO pg_dbsql VALUES ($1, $2, $3)")
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	for i := 3; i <= 52; i++ {
		if _, err := st.ExecContext(ctx, i, fmt.Sprintf("n%d", i), float64(i)/4); err != nil {
			t.Fatalf("prepared INSERT of %d: %v", i, err)
		}
	}
	st.Close()
	sel, err := db.PrepareContext(ctx, "SELECT name, score FROM pg_dbsql WHERE id = $1")
	if err != nil {
		t.Fatalf("Prepare SELECT: %v", err)
	}
	for _, i := range []int{3, 17, 52} {
		var name string
		var score float64
		if err := sel.QueryRowContext(ctx, i).Scan(&name, &score); err != nil || name != fmt.Sprintf("n%d", i) || score != float64(i)/4 {
			t.Errorf("prepared SELECT of %d: %q %v %v", i, name, score, err)
		}
	}
	sel.Close()
	// Query: several rows, a NULL into sql.NullString.
	func() {
		rows, err := db.QueryContext(ctx, "SELECT id, name, score FROM pg_dbsql WHERE id <= $1 ORDER BY id", 3)
		if err != nil {
			t.Errorf("Query: %v", err)
			return
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var id int64
			var name sql.NullString
			var score sql.NullFloat64
			if err := rows.Scan(&id, &name, &score); err != nil {
				t.Errorf("Scan: %v", err)
				return
			}
			got = append(got, fmt.Sprintf("%d %v %v %v %v", id, name.Valid, name.String, score.Valid, score.Float64))
		}
		if err := rows.Err(); err != nil {
			t.Errorf("Query's rows: %v", err)
		}
		if want := []string{"1 true one true 1.5", "2 false  false 0", "3 true n3 true 0.75"}; !reflect.DeepEqual(got, want) {
			t.Errorf("Query rows %q, want %q", got, want)
		}
	}()
	cols, _ := db.QueryContext(ctx, "SELECT id, name AS who FROM pg_dbsql WHERE id = 1")
	if cols != nil {
		names, _ := cols.Columns()
		cols.Close()
		if !reflect.DeepEqual(names, []string{"id", "who"}) {
			t.Errorf("columns %v", names)
		}
	}
	var count int64
	var total float64
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*), SUM(score) FROM pg_dbsql").Scan(&count, &total); err != nil || count != 52 {
		t.Errorf("QueryRow COUNT, SUM: %d %v %v", count, total, err)
	}
	// A transaction: picogo takes BEGIN and COMMIT as no-ops (each
	// statement is its own), so the rows are there after the commit.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO pg_dbsql VALUES ($1, $2, $3)", 100, "in tx", 0.5); err != nil {
		t.Fatalf("INSERT in the transaction: %v", err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE pg_dbsql SET score = $1 WHERE id = $2", 9.5, 100); err != nil {
		t.Fatalf("UPDATE in the transaction: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	var score float64
	if err := db.QueryRowContext(ctx, "SELECT score FROM pg_dbsql WHERE id = 100").Scan(&score); err != nil || score != 9.5 {
		t.Errorf("after the commit: %v %v", score, err)
	}
	if err := db.QueryRowContext(ctx, "SELECT score FROM pg_dbsql WHERE id = 999").Scan(&score); !errors.Is(err, sql.ErrNoRows) {
		t.Errorf("QueryRow of no row: %v, want sql.ErrNoRows", err)
	}
}

// testPgitErrors: the SQLSTATE of each kind of error, and a syntax error's
// position.
func testPgitErrors(t *testing.T, tg pgitTarget) {
	conn := pgitConnect(t, tg.dsn, pgx.QueryExecModeCacheStatement)
	simple := pgitConnect(t, tg.dsn, pgx.QueryExecModeSimpleProtocol)
	pgitExec(t, conn, "DROP TABLE IF EXISTS pg_errs")
	pgitExec(t, conn, tg.ddl("CREATE TABLE pg_errs (id INTEGER PRIMARY KEY, n INTEGER) DISTRIBUTED BY (id)"))
	t.Cleanup(func() { conn.Exec(context.Background(), "DROP TABLE pg_errs") })
	pgitExec(t, conn, "INSERT INTO pg_errs VALUES (1, 0), (2, 5)")

	for _, c := range []struct {
		name string
		conn *pgx.Conn
	}{{"extended", conn}, {"simple", simple}} {
		t.Run(c.name, func(t *testing.T) {
			ctx := pgitCtx(t)
			const bad = "SELECT id FROM pg_errs WHERE id = = 1"
			_, err := c.conn.Exec(ctx, bad)
			if pe := pgitError(t, "syntax error", err, "42601"); pe != nil {
				// Position is 1-based, in characters: the second "=".
				if want := int32(strings.Index(bad, "= 1") + 1); pe.Position != want {
					t.Errorf("syntax error at position %d (%q), want %d (the second '='): %s", pe.Position, bad[min(max(int(pe.Position)-1, 0), len(bad)):], want, pe.Message)
				}
			}
			_, err = c.conn.Exec(ctx, "SELECT * FROM pg_no_such_table")
			pgitError(t, "unknown table", err, "42P01")
			_, err = c.conn.Exec(ctx, "SELECT nope FROM pg_errs")
			pgitError(t, "unknown column", err, "42703")
			_, err = c.conn.Exec(ctx, "INSERT INTO pg_errs VALUES (1, 7)")
			pgitError(t, "duplicate key", err, "23505")
			_, err = c.conn.Exec(ctx, "SELECT id / n FROM pg_errs WHERE id = 1")
			pgitError(t, "division by zero", err, "22012")
			// The connection is still good after the errors.
			var n int64
			if err := c.conn.QueryRow(ctx, "SELECT COUNT(*) FROM pg_errs").Scan(&n); err != nil || n != 2 {
				t.Errorf("after the errors: %d rows, %v", n, err)
			}
		})
	}
}

// testPgitUsers: a user made by CREATE USER logs in over the PostgreSQL
// protocol and over iproto; a wrong password is refused with 28P01; with
// the server asking SCRAM-SHA-256 (the default) and, on an instance of its
// own, MD5 (--pg-auth md5).
func testPgitUsers(t *testing.T, in *instance, pgAddr string) {
	t.Run("scram-sha-256", func(t *testing.T) { testPgitUser(t, in, pgAddr, "SASL") })
	t.Run("md5", func(t *testing.T) {
		addr := freeAddrs(t, 1)[0]
		in := startCluster(t, 1, "--pg-listen", addr, "--pg-auth", "md5")[0]
		waitLeader(t, in)
		waitAdminPassword(t, in)
		pgitWaitLogin(t, in, pgitDSN("admin", itAdminPassword, addr))
		testPgitUser(t, in, addr, "MD5")
	})
}

// pgitWaitLogin waits until dsn's user logs in.
func pgitWaitLogin(t *testing.T, in *instance, dsn string) {
	t.Helper()
	eventually(t, 30*time.Second, "a login over the PostgreSQL protocol", []*instance{in}, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		return c.Close(ctx)
	})
}

// pgitAuthRequest is the name of the authentication request the server
// at addr answers a startup message for user with ("SASL", "MD5", ...).
func pgitAuthRequest(t *testing.T, addr, user string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fe := pgproto3.NewFrontend(c, c)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": user, "database": "picogo"}})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	msg, err := fe.Receive()
	if err != nil {
		t.Fatalf("reading the answer to a startup message: %v", err)
	}
	switch m := msg.(type) {
	case *pgproto3.AuthenticationSASL:
		return "SASL " + strings.Join(m.AuthMechanisms, ",")
	case *pgproto3.AuthenticationMD5Password:
		return "MD5"
	case *pgproto3.AuthenticationCleartextPassword:
		return "cleartext"
	case *pgproto3.AuthenticationOk:
		return "none"
	}
	return fmt.Sprintf("%T", msg)
}

// testPgitUser: alice, made by admin over the PostgreSQL protocol on in,
// logs in (the server asking the method auth names) and reads and writes
// what she was granted, over pg and over iproto; wrong passwords and
// unknown users are refused with 28P01.
func testPgitUser(t *testing.T, in *instance, pgAddr, method string) {
	if got := pgitAuthRequest(t, pgAddr, "alice"); !strings.HasPrefix(got, method) {
		t.Errorf("the server asks %s of a client; want %s", got, method)
	}
	admin := pgitConnect(t, pgitDSN("admin", itAdminPassword, pgAddr), pgx.QueryExecModeCacheStatement)
	pgitExec(t, admin, "CREATE USER alice WITH PASSWORD 'Secret123'")
	pgitExec(t, admin, "CREATE TABLE pg_alice (id INTEGER PRIMARY KEY, note TEXT) DISTRIBUTED BY (id)")
	t.Cleanup(func() {
		admin.Exec(context.Background(), "DROP TABLE pg_alice")
		admin.Exec(context.Background(), "DROP USER alice")
	})
	pgitExec(t, admin, "INSERT INTO pg_alice VALUES (1, 'for alice')")
	pgitExec(t, admin, "GRANT READ ON TABLE pg_alice TO alice")
	pgitExec(t, admin, "GRANT WRITE ON TABLE pg_alice TO alice")

	t.Run("pg", func(t *testing.T) {
		alice := pgitConnect(t, pgitDSN("alice", "Secret123", pgAddr), pgx.QueryExecModeCacheStatement)
		ctx := pgitCtx(t)
		var note string
		if err := alice.QueryRow(ctx, "SELECT note FROM pg_alice WHERE id = $1", 1).Scan(&note); err != nil || note != "for alice" {
			t.Errorf("alice reads: %q, %v", note, err)
		}
		if _, err := alice.Exec(ctx, "INSERT INTO pg_alice VALUES ($1, $2)", 2, "by alice"); err != nil {
			t.Errorf("alice writes: %v", err)
		}
		if err := alice.QueryRow(ctx, "SELECT note FROM pg_alice WHERE id = 2").Scan(&note); err != nil || note != "by alice" {
			t.Errorf("alice reads her row: %q, %v", note, err)
		}
	})
	t.Run("iproto", func(t *testing.T) {
		conn := mustConnect(t, in, "alice", "Secret123")
		data, err := call(conn, ".proc_sql", "SELECT note FROM pg_alice WHERE id = 1")
		if err != nil {
			t.Fatalf("alice's .proc_sql over iproto: %v", err)
		}
		if !strings.Contains(fmt.Sprint(data), "for alice") {
			t.Errorf("alice's .proc_sql answered %v", data)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, pgitDSN("alice", "Secret124", pgAddr))
		if err == nil {
			c.Close(ctx)
			t.Fatal("a wrong password was accepted")
		}
		pgitError(t, "alice with a wrong password", err, "28P01")
		c, err = pgx.Connect(ctx, pgitDSN("nobody_here", "Secret123", pgAddr))
		if err == nil {
			c.Close(ctx)
			t.Fatal("a user that does not exist logged in")
		}
		pgitError(t, "a user that does not exist", err, "28P01")
		// alice still logs in (one failure does not lock her).
		pgitConnect(t, pgitDSN("alice", "Secret123", pgAddr), pgx.QueryExecModeSimpleProtocol)
	})
}

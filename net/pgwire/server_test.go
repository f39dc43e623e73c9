package pgwire

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"
)

// startServer serves the fake on a loopback port until the test ends.
func startServer(t *testing.T, cfg ServerConfig) (*Server, *fakeBackend) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := newFake()
	cfg.Listener = ln
	if cfg.Backend == nil {
		cfg.Backend = f
	}
	srv := NewServer(cfg)
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv, f
}

func connString(srv *Server, user, password string) string {
	return fmt.Sprintf("postgres://%s:%s@%s/somedb?sslmode=disable&connect_timeout=5", user, password, srv.Addr())
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// connect connects alice with pgx in mode.
func connect(t *testing.T, srv *Server, mode pgx.QueryExecMode) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(connString(srv, "alice", "secret"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DefaultQueryExecMode = mode
	conn, err := pgx.ConnectConfig(testContext(t), cfg)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

var allModes = []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeExec,
	pgx.QueryExecModeCacheStatement, pgx.QueryExecModeCacheDescribe, pgx.QueryExecModeDescribeExec}

func pgError(t *testing.T, err error) *pgconn.PgError {
	t.Helper()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a PgError", err, err)
	}
	return pe
}

// TestTypes: every picogo type reaches pgx, in text (simple protocol)
// and binary (pgx asks for it in the extended one), as the Go value pgx
// decodes from its OID without hints.
func TestTypes(t *testing.T) {
	srv, _ := startServer(t, ServerConfig{})
	for _, mode := range allModes {
		t.Run(mode.String(), func(t *testing.T) {
			conn := connect(t, srv, mode)
			ctx := testContext(t)
			rows, err := conn.Query(ctx, "SELECT types")
			if err != nil {
				t.Fatal(err)
			}
			var got []any
			for rows.Next() {
				if got, err = rows.Values(); err != nil {
					t.Fatal(err)
				}
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if tag := rows.CommandTag().String(); tag != "SELECT 1" {
				t.Errorf("tag %q", tag)
			}
			var oids []uint32
			for _, fd := range rows.FieldDescriptions() {
				oids = append(oids, fd.DataTypeOID)
			}
			wantOIDs := []uint32{20, 20, 701, 1700, 25, 16, 2950, 1184, 17, 25, 25, 25}
			if !reflect.DeepEqual(oids, wantOIDs) {
				t.Errorf("OIDs %v, want %v", oids, wantOIDs)
			}
			if len(got) != len(typesRow) {
				t.Fatalf("values %v", got)
			}
			num, ok := got[3].(pgtype.Numeric)
			if !ok {
				t.Fatalf("numeric is %T", got[3])
			}
			if v, _ := num.Value(); v != "-12.50" {
				t.Errorf("numeric %v", v)
			}
			ts, ok := got[7].(time.Time)
			if !ok || !ts.Equal(testTime) {
				t.Errorf("timestamptz %v (%T), want %v", got[7], got[7], testTime)
			}
			got[3], got[7] = nil, nil
			want := []any{int64(-42), int64(42), 1.5, nil, "héllo", true, [16]byte(testUUID), nil,
				[]byte{0, 1, 0xfe}, "7", "map[k:1]", nil}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("values\n%#v\nwant\n%#v", got, want)
			}
		})
	}
}

// TestTextFormat: the text the simple protocol carries is PostgreSQL's.
func TestTextFormat(t *testing.T) {
	srv, _ := startServer(t, ServerConfig{})
	conn := connect(t, srv, pgx.QueryExecModeSimpleProtocol)
	res, err := conn.PgConn().Exec(testContext(t), "SELECT types").ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range res[0].Rows[0] {
		if v == nil {
			got = append(got, "NULL")
		} else {
			got = append(got, string(v))
		}
	}
	want := []string{"-42", "42", "1.5", "-12.50", "héllo", "t", "12345678-9abc-def0-0123-456789abcdef",
		"2024-05-06 07:08:09.123456+00", `\x0001fe`, "7", "map[k:1]", "NULL"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("text\n%q\nwant\n%q", got, want)
	}
	// Timestamps are printed in the session's time zone.
	res, err = conn.PgConn().Exec(testContext(t), "SET TIME ZONE 'Asia/Kolkata'; SELECT types").ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if ts := string(res[1].Rows[0][7]); ts != "2024-05-06 12:38:09.123456+05:30" {
		t.Errorf("in Asia/Kolkata: %q", ts)
	}
}

// TestParams: parameters reach the Backend as the Go values backend.go
// lists, sent as text (QueryExecModeExec) or binary (the describing
// modes), and come back.
func TestParams(t *testing.T) {
	srv, f := startServer(t, ServerConfig{})
	q := "SELECT $1::integer, $2::double, $3::decimal, $4::string, $5::boolean, $6::uuid, $7::datetime, $8::varbinary, $9::string, $10::unsigned"
	num := pgtype.Numeric{Int: big.NewInt(1250), Exp: -2, Valid: true}
	args := []any{int64(42), 2.25, num, "héllo", true, pgtype.UUID{Bytes: testUUID, Valid: true}, testTime, []byte{9, 8}, nil, int64(7)}
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeExec, pgx.QueryExecModeCacheStatement,
		pgx.QueryExecModeCacheDescribe, pgx.QueryExecModeDescribeExec} {
		t.Run(mode.String(), func(t *testing.T) {
			conn := connect(t, srv, mode)
			f.reset()
			rows, err := conn.Query(testContext(t), q, args...)
			if err != nil {
				t.Fatal(err)
			}
			var got []any
			for rows.Next() {
				got, _ = rows.Values()
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			_, params := f.lastRun()
			if len(params) != len(args) {
				t.Fatalf("params %#v", params)
			}
			ts, ok := params[6].(time.Time)
			if !ok || !ts.Equal(testTime) {
				t.Errorf("time param %#v", params[6])
			}
			params[6] = nil
			wantParams := []any{int64(42), 2.25, Numeric("12.50"), "héllo", true, testUUID, nil, []byte{9, 8}, nil, int64(7)}
			if !reflect.DeepEqual(params, wantParams) {
				t.Errorf("params\n%#v\nwant\n%#v", params, wantParams)
			}
			if len(got) != len(args) || got[0] != int64(42) || got[1] != 2.25 || got[3] != "héllo" || got[4] != true ||
				got[5] != [16]byte(testUUID) || !reflect.DeepEqual(got[7], []byte{9, 8}) || got[8] != nil || got[9] != int64(7) {
				t.Errorf("echoed %#v", got)
			}
			if ts, ok := got[6].(time.Time); !ok || !ts.Equal(testTime) {
				t.Errorf("echoed time %#v", got[6])
			}
		})
	}
}

// TestParamErrors: undecodable parameters and a wrong count are refused
// as PostgreSQL refuses them.
func TestParamErrors(t *testing.T) {
	srv, _ := startServer(t, ServerConfig{})
	conn := connect(t, srv, pgx.QueryExecModeExec)
	ctx := testContext(t)
	_, err := conn.Exec(ctx, "SELECT $1::integer", "x1")
	if pe := pgError(t, err); pe.Code != "22P02" || pe.Message != `invalid input syntax for type bigint: "x1"` {
		t.Errorf("bad integer: %s %q", pe.Code, pe.Message)
	}
	res := conn.PgConn().ExecParams(ctx, "SELECT $1::integer", [][]byte{[]byte("1"), []byte("2")}, nil, nil, nil).Read()
	if pe := pgError(t, res.Err); pe.Code != "08P01" || !strings.Contains(pe.Message, "bind message supplies 2 parameters, but prepared statement \"\" requires 1") {
		t.Errorf("count: %s %q", pe.Code, pe.Message)
	}
	res = conn.PgConn().ExecParams(ctx, "SELECT $1::integer", [][]byte{{1, 2, 3}}, nil, []int16{1}, nil).Read()
	if pe := pgError(t, res.Err); pe.Code != "22P03" {
		t.Errorf("binary: %s %q", pe.Code, pe.Message)
	}
	// The connection is still usable.
	var n int64
	if err := conn.QueryRow(ctx, "SELECT $1::integer", 5).Scan(&n); err != nil || n != 5 {
		t.Errorf("after errors: %v %d", err, n)
	}
}

// TestSimpleMultiStatement: a Query message's statements run in order,
// each with its tag, up to the first error, whose position counts from
// the message's start.
func TestSimpleMultiStatement(t *testing.T) {
	srv, f := startServer(t, ServerConfig{})
	conn := connect(t, srv, pgx.QueryExecModeSimpleProtocol)
	ctx := testContext(t)
	res, err := conn.PgConn().Exec(ctx, "INSERT INTO t VALUES (1);\nCREATE TABLE x (a int); -- c\nSELECT n FROM series; DROP INDEX i;").ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, r := range res {
		tags = append(tags, r.CommandTag.String())
	}
	if want := []string{"INSERT 0 3", "CREATE TABLE", "SELECT 5", "DROP INDEX"}; !reflect.DeepEqual(tags, want) {
		t.Errorf("tags %q, want %q", tags, want)
	}
	if len(res[2].Rows) != 5 || string(res[2].Rows[4][0]) != "5" {
		t.Errorf("rows %q", res[2].Rows)
	}
	f.reset()
	_, err = conn.PgConn().Exec(ctx, "INSERT INTO t VALUES (1); BAD x; INSERT INTO t VALUES (2)").ReadAll()
	pe := pgError(t, err)
	if pe.Code != "42601" || pe.Position != 27 || pe.Hint != "a hint" || pe.Severity != "ERROR" {
		t.Errorf("error %+v", pe)
	}
	if ran, _ := f.lastRun(); !reflect.DeepEqual(ran, []string{"INSERT INTO t VALUES (1)", "BAD x"}) {
		t.Errorf("ran %q", ran)
	}
	for _, q := range []string{"", " ; ", "-- nothing"} {
		res, err := conn.PgConn().Exec(ctx, q).ReadAll()
		if err != nil || len(res) != 1 || res[0].CommandTag.String() != "" {
			t.Errorf("empty %q: %v %+v", q, err, res)
		}
	}
}

// TestErrors: the Backend's errors reach pgx with their fields, in both
// protocols; other errors are XX000; the connection goes on.
func TestErrors(t *testing.T) {
	srv, _ := startServer(t, ServerConfig{})
	for _, mode := range allModes {
		t.Run(mode.String(), func(t *testing.T) {
			conn := connect(t, srv, mode)
			ctx := testContext(t)
			_, err := conn.Exec(ctx, "  BAD stuff")
			if pe := pgError(t, err); pe.Code != "42601" || pe.Message != `rule parsing error: unexpected "BAD"` || pe.Position != 3 || pe.Hint != "a hint" {
				t.Errorf("BAD: %+v", pe)
			}
			_, err = conn.Exec(ctx, "FAIL")
			if pe := pgError(t, err); pe.Code != "XX000" || pe.Message != "boom" {
				t.Errorf("FAIL: %+v", pe)
			}
			_, err = conn.Exec(ctx, "SELECT big")
			if pe := pgError(t, err); pe.Code != "22003" {
				t.Errorf("big: %+v", pe)
			}
			var n int64
			if err := conn.QueryRow(ctx, "SELECT n FROM series").Scan(&n); err != nil || n != 1 {
				t.Errorf("after errors: %v %d", err, n)
			}
		})
	}
}

// TestLogin: MD5 and SCRAM-SHA-256 logins succeed with the password and
// fail with another, with the Backend's FATAL error.
func TestLogin(t *testing.T) {
	for _, method := range []string{AuthMD5, AuthSCRAMSHA256} {
		t.Run(method, func(t *testing.T) {
			srv, _ := startServer(t, ServerConfig{AuthMethod: method})
			ctx := testContext(t)
			conn, err := pgx.Connect(ctx, connString(srv, "alice", "secret"))
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			var n int64
			if err := conn.QueryRow(ctx, "SELECT n FROM series").Scan(&n); err != nil || n != 1 {
				t.Errorf("query: %v", err)
			}
			if p := conn.PgConn().ParameterStatus("session_authorization"); p != "alice" {
				t.Errorf("session_authorization %q", p)
			}
			if p := conn.PgConn().ParameterStatus("server_version"); p != "15.0" {
				t.Errorf("server_version %q", p)
			}
			if conn.PgConn().PID() == 0 {
				t.Errorf("no process id")
			}
			conn.Close(ctx)
			_, err = pgx.Connect(ctx, connString(srv, "alice", "wrong"))
			pe := pgError(t, err)
			if pe.Code != "28P01" || pe.Severity != "FATAL" || pe.Message != `password authentication failed for user "alice"` {
				t.Errorf("wrong password: %+v", pe)
			}
		})
	}
}

// TestLoginWithoutUser: a startup message without a user is refused.
func TestLoginWithoutUser(t *testing.T) {
	srv, _ := startServer(t, ServerConfig{})
	fe, nc := dialRaw(t, srv)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"database": "x"}})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	msg := receive(t, fe)
	if e, ok := msg.(*pgproto3.ErrorResponse); !ok || e.Code != "28000" || e.Severity != "FATAL" {
		t.Fatalf("got %#v", msg)
	}
	expectClosed(t, nc)
}

// TestCancel: a CancelRequest with the connection's key cancels the
// statement it runs, which fails with 57014; one with another key does
// nothing.
func TestCancel(t *testing.T) {
	for _, c := range []struct {
		protocol string
		keyLen   int
	}{{"3.0", 4}, {"3.2", 32}} {
		t.Run(c.protocol, func(t *testing.T) { testCancel(t, c.protocol, c.keyLen) })
	}
}

func testCancel(t *testing.T, protocol string, keyLen int) {
	srv, f := startServer(t, ServerConfig{})
	ctx := testContext(t)
	conn, err := pgx.Connect(ctx, connString(srv, "alice", "secret")+"&max_protocol_version="+protocol)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if n := len(conn.PgConn().SecretKey()); n != keyLen {
		t.Errorf("secret key of %d bytes, want %d", n, keyLen)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := conn.Exec(ctx, "SLEEP")
		errc <- err
	}()
	select {
	case <-f.sleeping:
	case <-ctx.Done():
		t.Fatal("SLEEP did not start")
	}
	// A wrong key is ignored.
	srv.cancel(conn.PgConn().PID(), make([]byte, keyLen))
	select {
	case err := <-errc:
		t.Fatalf("a wrong key cancelled: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	if err := conn.PgConn().CancelRequest(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if pe := pgError(t, err); pe.Code != "57014" || pe.Message != "canceling statement due to user request" {
			t.Errorf("cancelled: %+v", pe)
		}
	case <-ctx.Done():
		t.Fatal("not cancelled")
	}
	var n int64
	if err := conn.QueryRow(ctx, "SELECT n FROM series").Scan(&n); err != nil || n != 1 {
		t.Errorf("after cancel: %v", err)
	}
}

// TestOversizedMessage: a message over MaxMessage gets a FATAL 08P01 and
// its connection closed; another connection is not touched.
func TestOversizedMessage(t *testing.T) {
	srv, _ := startServer(t, ServerConfig{MaxMessage: 1000})
	other := connect(t, srv, pgx.QueryExecModeExec)
	conn := connect(t, srv, pgx.QueryExecModeSimpleProtocol)
	ctx := testContext(t)
	_, err := conn.Exec(ctx, "INSERT INTO t VALUES ('"+strings.Repeat("x", 2000)+"')")
	if pe := pgError(t, err); pe.Code != "08P01" || pe.Severity != "FATAL" {
		t.Errorf("oversized: %+v", pe)
	}
	if !conn.IsClosed() {
		t.Errorf("connection still open")
	}
	var n int64
	if err := other.QueryRow(ctx, "SELECT n FROM series").Scan(&n); err != nil || n != 1 {
		t.Errorf("other connection: %v", err)
	}
}

// TestSessionStatements: SET, SHOW, RESET, BEGIN and friends are handled
// here in both protocols.
func TestSessionStatements(t *testing.T) {
	srv, f := startServer(t, ServerConfig{})
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement, pgx.QueryExecModeExec} {
		t.Run(mode.String(), func(t *testing.T) {
			cfg, _ := pgx.ParseConfig(connString(srv, "alice", "secret"))
			cfg.DefaultQueryExecMode = mode
			var notices []*pgconn.Notice
			cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) { notices = append(notices, n) }
			ctx := testContext(t)
			conn, err := pgx.ConnectConfig(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			f.reset()
			tag, err := conn.Exec(ctx, "SET application_name = 'my app'")
			if err != nil || tag.String() != "SET" {
				t.Fatalf("SET: %v %q", err, tag)
			}
			if p := conn.PgConn().ParameterStatus("application_name"); p != "my app" {
				t.Errorf("application_name reported %q", p)
			}
			var v string
			if err := conn.QueryRow(ctx, "show Application_Name").Scan(&v); err != nil || v != "my app" {
				t.Errorf("SHOW: %v %q", err, v)
			}
			if _, err := conn.Exec(ctx, "SET TIME ZONE 'Europe/Berlin'"); err != nil {
				t.Fatal(err)
			}
			if p := conn.PgConn().ParameterStatus("TimeZone"); p != "Europe/Berlin" {
				t.Errorf("TimeZone reported %q", p)
			}
			if _, err := conn.Exec(ctx, "RESET ALL"); err != nil {
				t.Fatal(err)
			}
			if p := conn.PgConn().ParameterStatus("TimeZone"); p != "UTC" {
				t.Errorf("TimeZone after RESET %q", p)
			}
			if _, err := conn.Exec(ctx, "SET LOCAL search_path TO a, \"B\""); err != nil {
				t.Fatal(err)
			}
			if err := conn.QueryRow(ctx, "SHOW search_path").Scan(&v); err != nil || v != "a, B" {
				t.Errorf("search_path: %v %q", err, v)
			}
			_, err = conn.Exec(ctx, "SHOW nonsense")
			if pe := pgError(t, err); pe.Code != "42704" || pe.Message != `unrecognized configuration parameter "nonsense"` {
				t.Errorf("SHOW nonsense: %+v", pe)
			}
			_, err = conn.Exec(ctx, "SET client_encoding TO 'latin1'")
			if pe := pgError(t, err); pe.Code != "22023" {
				t.Errorf("latin1: %+v", pe)
			}
			for q, want := range map[string]string{"BEGIN": "BEGIN", "start transaction": "BEGIN", "COMMIT": "COMMIT",
				"end": "COMMIT", "ROLLBACK": "ROLLBACK", "abort": "ROLLBACK", "DISCARD ALL": "DISCARD ALL"} {
				tag, err := conn.Exec(ctx, q)
				if err != nil || tag.String() != want {
					t.Errorf("%s: %v %q", q, err, tag)
				}
			}
			if len(notices) != 6 || notices[0].Code != "25000" || notices[0].Severity != "WARNING" ||
				!strings.Contains(notices[0].Message, "no transactions") {
				t.Errorf("notices %d %+v", len(notices), notices)
			}
			if ran, _ := f.lastRun(); len(ran) != 0 {
				t.Errorf("the Backend ran %q", ran)
			}
		})
	}
}

// TestCatalogRefused: statements that read PostgreSQL's catalog get
// 0A000 with a way out; a literal that mentions it does not.
func TestCatalogRefused(t *testing.T) {
	srv, f := startServer(t, ServerConfig{})
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeDescribeExec} {
		conn := connect(t, srv, mode)
		ctx := testContext(t)
		for _, q := range []string{
			"SELECT * FROM pg_catalog.pg_class",
			"SELECT n.nspname FROM pg_namespace n",
			"SELECT table_name FROM information_schema.tables",
			"select version()",
			"SELECT c.oid FROM pg_class c WHERE pg_table_is_visible(c.oid)",
		} {
			_, err := conn.Exec(ctx, q)
			if pe := pgError(t, err); pe.Code != "0A000" || !strings.Contains(pe.Message, "_pico_table") {
				t.Errorf("%s: %+v", q, pe)
			}
		}
		f.reset()
		_, err := conn.Exec(ctx, "INSERT INTO t VALUES ('pg_class')")
		if err != nil {
			t.Errorf("a literal: %v", err)
		}
	}
}

// TestAnyParam: a parameter the Backend describes as "any" is
// unspecified (OID 0), so pgx sends any Go value as text in every mode
// and the Backend receives strings.
func TestAnyParam(t *testing.T) {
	srv, f := startServer(t, ServerConfig{})
	for _, mode := range allModes[1:] {
		t.Run(mode.String(), func(t *testing.T) {
			conn := connect(t, srv, mode)
			f.reset()
			var a, b, c, d any
			err := conn.QueryRow(testContext(t), "SELECT $1::any, $2::any, $3::any, $4::any", int64(5), 1.5, "x", nil).Scan(&a, &b, &c, &d)
			if err != nil {
				t.Fatal(err)
			}
			if _, p := f.lastRun(); !reflect.DeepEqual(p, []any{"5", "1.5", "x", nil}) {
				t.Errorf("params %#v", p)
			}
			if a != "5" || b != "1.5" || c != "x" || d != nil {
				t.Errorf("echoed %#v %#v %#v %#v", a, b, c, d)
			}
		})
	}
	sd, err := connect(t, srv, pgx.QueryExecModeExec).Prepare(testContext(t), "s", "SELECT $1::any, $2::integer, $3::string")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sd.ParamOIDs, []uint32{0, 20, 25}) {
		t.Errorf("param OIDs %v", sd.ParamOIDs)
	}
}

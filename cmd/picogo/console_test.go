package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chzyer/readline"
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
	"github.com/vmihailenco/msgpack/v5"
)

// fakeRunner answers the console as .proc_sql would: _pico_table and
// _pico_index from defs, SELECTs with two rows, other statements with a
// row count; a statement containing "boom" fails.
type fakeRunner struct {
	sent    []string
	defs    []schema.TableDef
	indexes []schema.IndexDef
}

func (f *fakeRunner) sql(q string) (sqlResult, error) {
	f.sent = append(f.sent, q)
	if strings.Contains(q, "boom") {
		return sqlResult{}, &remoteError{Code: 3, Message: "rule parsing error at line 1, column 8: unexpected boom"}
	}
	switch {
	case q == queryTables:
		res := sqlResult{Query: true, Columns: make([]column, 9)}
		for _, d := range f.defs {
			res.Rows = append(res.Rows, tables.TableRow(&d))
		}
		return res, nil
	case q == queryIndexes:
		res := sqlResult{Query: true, Columns: make([]column, 8)}
		for _, x := range f.indexes {
			res.Rows = append(res.Rows, tables.IndexRow(&x))
		}
		return res, nil
	case strings.HasPrefix(q, "SELECT"):
		return sqlResult{Query: true, Columns: []column{{"a", "integer"}, {"b", "string"}},
			Rows: [][]any{{int64(1), "it's; ok"}, {int64(22), nil}}}, nil
	case strings.HasPrefix(q, "CREATE"):
		return sqlResult{RowCount: 1}, nil
	}
	return sqlResult{RowCount: 2}, nil
}

func (f *fakeRunner) call(fn string, args []byte) (msgpack.RawMessage, error) {
	var v any
	_ = msgpack.Unmarshal(args, &v)
	f.sent = append(f.sent, formatValue([]any{fn, v}))
	if fn == ".proc_nope" {
		return nil, &remoteError{Code: 33, Message: "Procedure '.proc_nope' is not defined"}
	}
	return msgpack.Marshal([]any{map[string]any{"ok": true}})
}

// testTables: a system table, a global and a sharded user table.
func testTables() ([]schema.TableDef, []schema.IndexDef) {
	f := func(name string, typ tuple.FieldType, nullable bool) schema.Field {
		return schema.Field{Name: name, Type: typ, Nullable: nullable}
	}
	sys := tables.SystemTables()[0]
	global := schema.TableDef{ID: 1025, Name: "warehouse", Distribution: schema.DistributionGlobal,
		Format:     []schema.Field{f("id", tuple.TypeUnsigned, false), f("name", tuple.TypeString, true)},
		PrimaryKey: []uint32{0}, Operable: true, Engine: schema.EngineMemtx, Owner: 1}
	sharded := schema.TableDef{ID: 1024, Name: "orders", Distribution: schema.DistributionSharded,
		Format: []schema.Field{f("id", tuple.TypeInteger, false), f("bucket_id", tuple.TypeUnsigned, false),
			f("item", tuple.TypeString, false), f("qty", tuple.TypeDouble, true)},
		PrimaryKey: []uint32{0}, Operable: true, Engine: schema.EngineMemtx, Owner: 1,
		ShardingKey: []string{"id", "item"}, ShardingFn: schema.ShardingFnMurmur3, Tier: "storage"}
	idx := []schema.IndexDef{
		sharded.PkIndex(), sharded.BucketIDIndex(),
		{TableID: 1024, ID: 2, Name: "orders_item", Type: schema.IndexTypeTree, Opts: map[string]any{"unique": true},
			Parts: []schema.IndexPart{{Field: "item", Type: tuple.TypeString}, {Field: "qty", Type: tuple.TypeDouble, Nullable: true}}},
		global.PkIndex(),
	}
	return []schema.TableDef{sys, global, sharded}, idx
}

// newTestConsole is a console over a fake runner whose clock advances
// 1.5 ms at each reading.
func newTestConsole() (*console, *fakeRunner, *bytes.Buffer, *bytes.Buffer) {
	defs, idx := testTables()
	f := &fakeRunner{defs: defs, indexes: idx}
	var out, errOut bytes.Buffer
	clock := time.Unix(0, 0)
	c := &console{r: f, out: &out, errOut: &errOut, user: "admin", addr: "127.0.0.1:3301",
		now: func() time.Time { clock = clock.Add(1500 * time.Microsecond); return clock }}
	return c, f, &out, &errOut
}

// stdinScript runs text as statements on a stdin that is not a terminal.
func stdinScript(t *testing.T, text string) (code int, f *fakeRunner, stdout, stderr string) {
	t.Helper()
	c, f, out, errOut := newTestConsole()
	code = c.main(nil, func() (source, error) {
		return source{lines: newPlainLines(strings.NewReader(text)), name: "<stdin>"}, nil
	})
	return code, f, out.String(), errOut.String()
}

func TestConsoleScript(t *testing.T) {
	script := `-- a script
CREATE TABLE t (a INT PRIMARY KEY,
  b TEXT) DISTRIBUTED BY (a);

INSERT INTO t VALUES (1, 'it''s; ok'), (22, NULL); SELECT a, b
FROM t; /* done */
\timing
SELECT 1;
\timing off
.proc_wait_index 10 1.5
\d
\dS
\d ORDERS
\d "warehouse"
DELETE FROM t WHERE a = 1`
	code, f, stdout, stderr := stdinScript(t, script)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	want := `CREATE TABLE
INSERT 2
 a  |    b
----+----------
  1 | it's; ok
 22 | NULL
(2 rows)

Timing is on.
 a  |    b
----+----------
  1 | it's; ok
 22 | NULL
(2 rows)

Time: 1.500 ms
Timing is off.
[{"ok":true}]
   Name    |  Id  | Distribution | Sharding key |  Tier   | Engine
-----------+------+--------------+--------------+---------+--------
 orders    | 1024 | sharded      | id, item     | storage | memtx
 warehouse | 1025 | global       |              |         | memtx
(2 rows)

    Name     |  Id  | Distribution | Sharding key |  Tier   | Engine
-------------+------+--------------+--------------+---------+--------
 _pico_table |  512 | global       |              |         | memtx
 orders      | 1024 | sharded      | id, item     | storage | memtx
 warehouse   | 1025 | global       |              |         | memtx
(3 rows)

Table "orders"
  Column   |   Type   | Nullable
-----------+----------+----------
 id        | integer  | not null
 bucket_id | unsigned | not null
 item      | string   | not null
 qty       | double   |
Distribution: sharded by (id, item), tier "storage"
Indexes:
    "orders_pkey" PRIMARY KEY, tree (id)
    "bucket_id" tree (bucket_id)
    "orders_item" UNIQUE, tree (item, qty)

Table "warehouse"
 Column |   Type   | Nullable
--------+----------+----------
 id     | unsigned | not null
 name   | string   |
Distribution: global
Indexes:
    "warehouse_pkey" PRIMARY KEY, tree (id)

DELETE 2
`
	if stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
	}
	sent := []string{
		"CREATE TABLE t (a INT PRIMARY KEY,\n  b TEXT) DISTRIBUTED BY (a)",
		"INSERT INTO t VALUES (1, 'it''s; ok'), (22, NULL)",
		"SELECT a, b\nFROM t",
		"SELECT 1",
		`[".proc_wait_index",[10,1.5]]`,
		queryTables, queryTables, queryTables, queryIndexes, queryTables, queryIndexes,
		"DELETE FROM t WHERE a = 1",
	}
	if !reflect.DeepEqual(f.sent, sent) {
		t.Errorf("sent:\n%q\nwant:\n%q", f.sent, sent)
	}
}

// TestConsoleStopsAtFirstError: with statements on stdin, the first
// failure is printed, names its line, and nothing after it runs; exit 1.
func TestConsoleStopsAtFirstError(t *testing.T) {
	code, f, stdout, stderr := stdinScript(t, "INSERT INTO t VALUES (1);\n\nSELECT\n  boom; INSERT INTO t VALUES (2);\nSELECT 1;\n")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if stdout != "INSERT 2\n" {
		t.Errorf("stdout %q", stdout)
	}
	wantErr := "ERROR: rule parsing error at line 1, column 8: unexpected boom (code 3)\n" +
		"picogo connect: stopped at <stdin>:3; what follows it was not run\n"
	if stderr != wantErr {
		t.Errorf("stderr %q, want %q", stderr, wantErr)
	}
	if len(f.sent) != 2 {
		t.Errorf("sent %q: what follows the failure ran", f.sent)
	}

	// A failing procedure call and an unknown command stop it too.
	for _, line := range []string{".proc_nope", `\nope`, ".proc_x not-json", `\d missing`, `\timing maybe`, `\i`} {
		code, f, _, stderr := stdinScript(t, line+"\nSELECT 1;\n")
		if code != 1 || !strings.HasPrefix(stderr, "ERROR: ") || !strings.Contains(stderr, "stopped at <stdin>:1") ||
			slicesContain(f.sent, "SELECT 1") {
			t.Errorf("%s: exit %d, stderr %q, sent %q", line, code, stderr, f.sent)
		}
	}
	_, _, _, stderr = stdinScript(t, ".proc_nope\n")
	if !strings.Contains(stderr, "ERROR: Procedure '.proc_nope' is not defined (code 33)\n") {
		t.Errorf("procedure error: %q", stderr)
	}
	_, _, _, stderr = stdinScript(t, `\d Missing`)
	if !strings.Contains(stderr, `ERROR: table "missing" does not exist`) {
		t.Errorf(`\d of a missing table: %q`, stderr)
	}
}

func slicesContain(s []string, x string) bool {
	for _, e := range s {
		if e == x {
			return true
		}
	}
	return false
}

// TestConsoleEndOfInput: the last statement on stdin needs no ';', and
// quit / \q end the script there.
func TestConsoleEndOfInput(t *testing.T) {
	code, f, _, _ := stdinScript(t, "SELECT 1;\nINSERT INTO t\nVALUES (1) -- the end")
	if code != 0 || !reflect.DeepEqual(f.sent, []string{"SELECT 1", "INSERT INTO t\nVALUES (1) -- the end"}) {
		t.Errorf("exit %d, sent %q", code, f.sent)
	}
	// Its line is where it starts, after the comments before it.
	code, f, _, stderr := stdinScript(t, "SELECT 1; -- one\n/* two\n*/ SELECT\nboom")
	if code != 1 || !reflect.DeepEqual(f.sent, []string{"SELECT 1", "SELECT\nboom"}) || !strings.Contains(stderr, "stopped at <stdin>:3") {
		t.Errorf("exit %d, sent %q, stderr %q", code, f.sent, stderr)
	}
	for _, q := range []string{`\q`, "quit", "exit"} {
		code, f, _, _ = stdinScript(t, "SELECT 1;\n"+q+"\nSELECT 2;\n")
		if code != 0 || !reflect.DeepEqual(f.sent, []string{"SELECT 1"}) {
			t.Errorf("%s: exit %d, sent %q", q, code, f.sent)
		}
	}
	// An open comment or string at the end is still sent: the instance
	// says what is wrong with it.
	code, f, _, _ = stdinScript(t, "SELECT 'abc\n")
	if code != 0 || !reflect.DeepEqual(f.sent, []string{"SELECT 'abc"}) {
		t.Errorf("exit %d, sent %q", code, f.sent)
	}
	// Only comments: nothing is sent.
	code, f, _, _ = stdinScript(t, "-- nothing\n/* at\nall */\n")
	if code != 0 || len(f.sent) != 0 {
		t.Errorf("exit %d, sent %q", code, f.sent)
	}
}

// TestConsoleCommandMode: -c strings run in order, stdin is not read; the
// first failure stops them with exit 1.
func TestConsoleCommandMode(t *testing.T) {
	noStdin := func() (source, error) { t.Fatal("-c read stdin"); return source{}, nil }
	c, f, out, _ := newTestConsole()
	if code := c.main([]string{"SELECT 1; DELETE FROM t", `\d`, ".proc_raft_info"}, noStdin); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if want := []string{"SELECT 1", "DELETE FROM t", queryTables, `[".proc_raft_info",[]]`}; !reflect.DeepEqual(f.sent, want) {
		t.Errorf("sent %q, want %q", f.sent, want)
	}
	if !strings.Contains(out.String(), "(2 rows)\n\nDELETE 2\n") {
		t.Errorf("stdout:\n%s", out)
	}

	c, f, _, errOut := newTestConsole()
	if code := c.main([]string{"SELECT 1; SELECT boom; SELECT 2", "SELECT 3"}, noStdin); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if want := []string{"SELECT 1", "SELECT boom"}; !reflect.DeepEqual(f.sent, want) {
		t.Errorf("sent %q, want %q", f.sent, want)
	}
	if !strings.Contains(errOut.String(), "ERROR: rule parsing error") || !strings.Contains(errOut.String(), "stopped at -c:1") {
		t.Errorf("stderr %q", errOut)
	}
}

// TestConsoleInclude: \i runs a file's statements, stopping at its first
// failure; files including themselves stop at a depth.
func TestConsoleInclude(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.sql")
	bad := filepath.Join(dir, "bad.sql")
	loop := filepath.Join(dir, "loop.sql")
	for path, text := range map[string]string{
		good: "INSERT INTO t\nVALUES (1);\nSELECT 1;\n",
		bad:  "SELECT 1;\nSELECT boom;\nSELECT 2;\n",
		loop: `\i ` + loop + "\n",
	} {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	code, f, _, _ := stdinScript(t, `\i `+good+"\nDELETE FROM t;\n")
	if want := []string{"INSERT INTO t\nVALUES (1)", "SELECT 1", "DELETE FROM t"}; code != 0 || !reflect.DeepEqual(f.sent, want) {
		t.Errorf("exit %d, sent %q", code, f.sent)
	}
	code, f, _, stderr := stdinScript(t, `\i `+bad+"\nDELETE FROM t;\n")
	if want := []string{"SELECT 1", "SELECT boom"}; code != 1 || !reflect.DeepEqual(f.sent, want) ||
		!strings.Contains(stderr, "stopped at "+bad+":2") || !strings.Contains(stderr, "stopped at <stdin>:1") {
		t.Errorf("exit %d, sent %q, stderr %q", code, f.sent, stderr)
	}
	code, _, _, stderr = stdinScript(t, `\i `+loop+"\n")
	if code != 1 || !strings.Contains(stderr, "more than 16 deep") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	code, _, _, stderr = stdinScript(t, `\i `+filepath.Join(dir, "none.sql")+"\n")
	if code != 1 || !strings.Contains(stderr, "no such file") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	// \q in a file leaves the console.
	quit := filepath.Join(dir, "quit.sql")
	if err := os.WriteFile(quit, []byte("SELECT 1;\n\\q\nSELECT 2;\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, f, _, _ = stdinScript(t, `\i `+quit+"\nSELECT 3;\n")
	if code != 0 || !reflect.DeepEqual(f.sent, []string{"SELECT 1"}) {
		t.Errorf("exit %d, sent %q", code, f.sent)
	}
}

// terminal is a scripted person at a terminal: each line is typed after
// the prompt shown; "^C" is an interrupt.
type terminal struct {
	lines   []string
	prompts []string
	history []string
	prompt  string
}

func (t *terminal) Readline() (string, error) {
	t.prompts = append(t.prompts, t.prompt)
	if len(t.lines) == 0 {
		return "", io.EOF
	}
	l := t.lines[0]
	t.lines = t.lines[1:]
	if l == "^C" {
		return "", readline.ErrInterrupt
	}
	return l, nil
}

func (t *terminal) SetPrompt(p string)         { t.prompt = p }
func (t *terminal) SaveHistory(s string) error { t.history = append(t.history, s); return nil }
func (t *terminal) Close() error               { return nil }

// TestConsoleInteractive: on a terminal an error does not stop the
// session; the prompt says when a statement, a string or a comment
// continues; ^C drops what was typed; the history holds whole statements.
func TestConsoleInteractive(t *testing.T) {
	c, f, out, errOut := newTestConsole()
	term := &terminal{lines: []string{
		"SELECT boom;",
		"SELECT a,",
		"  'x;",
		"y' FROM t; /*",
		"*/",
		"INSERT INTO t",
		"^C",
		"help",
		`"unfinished`,
		`";`,
	}}
	code := c.main(nil, func() (source, error) { return source{lines: term, name: "<stdin>", interactive: true}, nil })
	if code != 0 {
		t.Errorf("exit %d", code)
	}
	if want := []string{"SELECT boom", "SELECT a,\n  'x;\ny' FROM t", `"unfinished` + "\n\""}; !reflect.DeepEqual(f.sent, want) {
		t.Errorf("sent %q, want %q", f.sent, want)
	}
	p := "127.0.0.1:3301"
	wantPrompts := []string{p + "> ", p + "> ", p + "-> ", p + "'> ", p + "*> ", p + "> ", p + "-> ", p + "> ", p + "> ", p + `"> `, p + "> "}
	if !reflect.DeepEqual(term.prompts, wantPrompts) {
		t.Errorf("prompts %q, want %q", term.prompts, wantPrompts)
	}
	if want := []string{"SELECT boom;", "SELECT a, 'x; y' FROM t; /*", "/* */", "help", `"unfinished ";`}; !reflect.DeepEqual(term.history, want) {
		t.Errorf("history %q, want %q", term.history, want)
	}
	if !strings.Contains(errOut.String(), "ERROR: rule parsing error") || strings.Contains(errOut.String(), "stopped") {
		t.Errorf("stderr %q", errOut)
	}
	for _, want := range []string{`\d NAME`, `\timing`, "NULL as NULL", "Procedures admin may call", ".proc_cas(cluster_id"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
}

// TestConnectArguments: what runConnect refuses before it dials, and the
// flags after the address.
func TestConnectArguments(t *testing.T) {
	env := func(string) string { return "" }
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--help"}, 0, "Usage: picogo connect"},
		{[]string{"127.0.0.1:1", "--help"}, 0, "ON_ERROR_STOP"},
		{[]string{"--nope"}, 2, "flag provided but not defined"},
		{[]string{"127.0.0.1:1", "127.0.0.1:2"}, 2, `unexpected argument "127.0.0.1:2"`},
		{[]string{"127.0.0.1:1", "-c"}, 2, "flag needs an argument"},
		{[]string{"127.0.0.1:1", "--timeout", "0s"}, 2, "--timeout must be positive"},
		{[]string{"127.0.0.1:1", "-c", "SELECT 1"}, 2, "PICOGO_ADMIN_PASSWORD"},
		{[]string{"bob@127.0.0.1:1"}, 2, "PICOGO_PASSWORD"},
	} {
		var out, errOut bytes.Buffer
		code := runConnect(c.args, env, strings.NewReader(""), &out, &errOut)
		if code != c.code || !strings.Contains(out.String()+errOut.String(), c.want) {
			t.Errorf("%q: exit %d, output %q; want %d and %q", c.args, code, out.String()+errOut.String(), c.code, c.want)
		}
	}
	// guest needs no password: it dials, and a dead address is exit 1.
	var out, errOut bytes.Buffer
	if code := runConnect([]string{"guest@127.0.0.1:1", "-c", "SELECT 1"}, env, strings.NewReader(""), &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "127.0.0.1:1") {
		t.Errorf("dead address: exit %d, stderr %q", code, errOut.String())
	}

	fs := newConnectFlags(io.Discard)
	pos, err := parseInterspersed(fs.set, []string{"-c", "A", "u@h:1", "-c", "B", "--timeout", "5s"})
	if err != nil || !reflect.DeepEqual(pos, []string{"u@h:1"}) || !reflect.DeepEqual([]string(*fs.commands), []string{"A", "B"}) ||
		*fs.timeout != 5*time.Second {
		t.Errorf("parsed %q %q %v, %v", pos, *fs.commands, *fs.timeout, err)
	}
}

func TestConsoleCommandTag(t *testing.T) {
	for _, c := range []struct {
		stmt string
		n    uint64
		want string
	}{
		{"INSERT INTO t VALUES (1), (2), (3)", 3, "INSERT 3"},
		{"insert into t values (1)", 1, "INSERT 1"},
		{"UPDATE t SET a = 1", 2, "UPDATE 2"},
		{"DELETE FROM t", 0, "DELETE 0"},
		{"-- why\n/* so */ DELETE FROM t", 1, "DELETE 1"},
		{"CREATE TABLE t (a INT PRIMARY KEY)", 1, "CREATE TABLE"},
		{"create unique index i on t (a)", 1, "CREATE INDEX"},
		{"CREATE OR REPLACE PROCEDURE p() AS $$ $$", 1, "CREATE PROCEDURE"},
		{"DROP TABLE IF EXISTS t", 1, "DROP TABLE"},
		{"ALTER USER u WITH PASSWORD 'x'", 1, "ALTER USER"},
		{"GRANT READ ON TABLE t TO u", 1, "GRANT"},
		{"REVOKE READ ON TABLE t FROM u", 1, "REVOKE"},
		{"TRUNCATE t", 5, "TRUNCATE TABLE"},
		{"CREATE", 0, "CREATE"},
		{"FOO BAR", 7, "OK 7"},
		{"(1)", 7, "OK 7"},
	} {
		if got := commandTag(c.stmt, c.n); got != c.want {
			t.Errorf("commandTag(%q, %d) = %q, want %q", c.stmt, c.n, got, c.want)
		}
	}
}

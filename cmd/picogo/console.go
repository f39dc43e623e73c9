package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/chzyer/readline"
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/sql/parse"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
	"github.com/picogo/picogo/proc"
	"github.com/vmihailenco/msgpack/v5"
)

// The SQL console of `picogo connect`: lines are read, cut into
// statements (parse.Split), sent to .proc_sql through a runner and their
// results printed (sqlformat.go). Backslash commands and procedure calls
// (lines starting with '.') are one line each.

// sqlResult is what .proc_sql answered: a query's columns and rows, or the
// row count of any other statement.
type sqlResult struct {
	Query    bool
	Columns  []column
	Rows     [][]any
	RowCount uint64
}

// runner runs what the console sends: SQL through .proc_sql and raw
// procedure calls. The real one talks to an instance (remoteRunner); tests
// use a fake.
type runner interface {
	sql(query string) (sqlResult, error)
	call(fn string, args []byte) (msgpack.RawMessage, error)
}

// console is one session's state.
type console struct {
	r      runner
	out    io.Writer
	errOut io.Writer
	user   string
	addr   string // the prompt's name for the instance
	timing bool
	now    func() time.Time
	depth  int // nesting of \i
}

// maxIncludeDepth bounds \i files that include each other.
const maxIncludeDepth = 16

// errQuit is what \q, quit and exit return to leave.
var errQuit = errors.New("quit")

// source is where lines come from: a terminal (with editing), stdin, a -c
// string or an \i file.
type source struct {
	lines       lineReader
	name        string // for "stopped at NAME:LINE"
	interactive bool   // a person types: errors do not stop, ^C drops the statement
}

// run reads src to its end or to \q. A non-interactive source stops at
// its first failure; run reports whether everything succeeded and whether
// the console was asked to quit.
func (c *console) run(src source) (ok, quit bool) {
	ok = true
	var buf strings.Builder // the pending statement's text
	bufLine, lineNo := 0, 0
	state := parse.InCode
	var hist []string // the pending statement's lines, for the history
	fail := func(line int) bool {
		ok = false
		if !src.interactive {
			fmt.Fprintf(c.errOut, "picogo connect: stopped at %s:%d; what follows it was not run\n", src.name, line)
			return true
		}
		return false
	}
	for {
		src.lines.SetPrompt(c.prompt(buf.Len() > 0, state))
		line, err := src.lines.Readline()
		if errors.Is(err, readline.ErrInterrupt) { // ^C drops what was typed
			buf.Reset()
			hist, state = nil, parse.InCode
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) && !src.interactive {
			c.printError(fmt.Errorf("reading %s: %v", src.name, err))
			fail(lineNo + 1)
			return ok, false
		}
		if err != nil { // the end of the input, or ^D
			if src.interactive {
				fmt.Fprintln(c.out)
				return ok, false
			}
			if buf.Len() == 0 {
				return ok, false
			}
			// Like psql, the last statement needs no ';'. (The text ends
			// with a newline: a ';' after it ends no line comment.) An
			// unfinished string or comment goes as it is, for the instance
			// to say what is wrong with it.
			last := parse.Statement{Text: strings.TrimSpace(buf.String()), Line: 1}
			if state == parse.InCode {
				if stmts, _, _ := parse.Split(buf.String() + ";"); len(stmts) == 1 {
					last = stmts[0]
				}
			}
			if !c.statement(last.Text) {
				fail(bufLine + last.Line - 1)
			}
			return ok, false
		}
		lineNo++
		trimmed := strings.TrimSpace(line)
		if buf.Len() == 0 {
			switch {
			case trimmed == "":
				continue
			case trimmed == "quit" || trimmed == "exit":
				return ok, true
			case trimmed == "help" || trimmed == "?":
				c.help()
				_ = src.lines.SaveHistory(trimmed)
				continue
			case strings.HasPrefix(trimmed, "."):
				_ = src.lines.SaveHistory(trimmed)
				if !c.procedure(trimmed) && fail(lineNo) {
					return ok, false
				}
				continue
			}
		}
		if state == parse.InCode && strings.HasPrefix(trimmed, `\`) {
			_ = src.lines.SaveHistory(trimmed)
			done, err := c.backslash(trimmed)
			if errors.Is(err, errQuit) {
				return ok, true
			}
			if !done && fail(lineNo) {
				return ok, false
			}
			continue
		}
		if buf.Len() == 0 {
			bufLine = lineNo
		}
		buf.WriteString(line)
		buf.WriteByte('\n')
		hist = append(hist, trimmed)
		text := buf.String()
		stmts, rest, st := parse.Split(text)
		for _, s := range stmts {
			if !c.statement(s.Text) && fail(bufLine+s.Line-1) {
				return ok, false
			}
		}
		if len(stmts) > 0 || rest == "" {
			_ = src.lines.SaveHistory(strings.Join(hist, " "))
			hist = nil
		}
		if rest != "" {
			bufLine += strings.Count(text[:len(text)-len(rest)], "\n")
			if len(stmts) > 0 {
				hist = []string{strings.TrimSpace(rest)}
			}
		}
		buf.Reset()
		buf.WriteString(rest)
		state = st
	}
}

// prompt is "addr> ", or while a statement continues "addr-> " (psql's
// "'>", "\">" and "*>" inside a string, a quoted name or a comment).
func (c *console) prompt(pending bool, state parse.ScanState) string {
	switch {
	case state == parse.InString:
		return c.addr + "'> "
	case state == parse.InQuotedName:
		return c.addr + `"> `
	case state == parse.InBlockComment:
		return c.addr + "*> "
	case pending:
		return c.addr + "-> "
	}
	return c.addr + "> "
}

// timed runs f and, with \timing on, prints how long it took.
func (c *console) timed(f func() bool) bool {
	start := c.now()
	ok := f()
	if c.timing {
		fmt.Fprintf(c.out, "Time: %.3f ms\n", float64(c.now().Sub(start).Microseconds())/1000)
	}
	return ok
}

// statement runs one SQL statement and prints its result or its error.
func (c *console) statement(q string) bool {
	return c.timed(func() bool {
		res, err := c.r.sql(q)
		if err != nil {
			c.printError(err)
			return false
		}
		if res.Query {
			fmt.Fprint(c.out, formatTable(res.Columns, res.Rows))
			fmt.Fprintf(c.out, "%s\n\n", rowsFooter(len(res.Rows)))
		} else {
			fmt.Fprintln(c.out, commandTag(q, res.RowCount))
		}
		return true
	})
}

// procedure calls a procedure as `.proc_name arg1 arg2` (arguments as
// JSON values) and prints its result as JSON.
func (c *console) procedure(line string) bool {
	return c.timed(func() bool {
		fn, args, err := parseCallLine(line)
		if err != nil {
			c.printError(err)
			return false
		}
		data, err := c.r.call(fn, args)
		if err != nil {
			c.printError(err)
			return false
		}
		var v any
		if err := msgpack.Unmarshal(data, &v); err != nil {
			c.printError(fmt.Errorf("undecodable reply: %v", err))
			return false
		}
		b, _ := json.Marshal(jsonable(v))
		fmt.Fprintln(c.out, string(b))
		return true
	})
}

// printError prints ERROR: and the error (an instance's error ends with
// its code: "(code N)").
func (c *console) printError(err error) {
	fmt.Fprintln(c.errOut, "ERROR:", err)
}

// backslash runs a backslash command; false if it failed, errQuit for \q.
func (c *console) backslash(line string) (bool, error) {
	cmd, arg, _ := strings.Cut(line, " ")
	arg = strings.TrimSpace(arg)
	switch cmd {
	case `\q`:
		return true, errQuit
	case `\h`, `\?`, `\help`:
		c.help()
		return true, nil
	case `\timing`:
		switch strings.ToLower(arg) {
		case "":
			c.timing = !c.timing
		case "on":
			c.timing = true
		case "off":
			c.timing = false
		default:
			c.printError(fmt.Errorf(`\timing takes on or off, not %q`, arg))
			return false, nil
		}
		fmt.Fprintf(c.out, "Timing is %s.\n", map[bool]string{true: "on", false: "off"}[c.timing])
		return true, nil
	case `\d`, `\dS`:
		if arg == "" {
			return c.listTables(cmd == `\dS`), nil
		}
		return c.describeTable(arg), nil
	case `\i`:
		if arg == "" {
			c.printError(errors.New(`\i needs a file name`))
			return false, nil
		}
		return c.include(arg)
	}
	c.printError(fmt.Errorf(`invalid command %s: \h lists the commands`, cmd))
	return false, nil
}

// include runs a file's statements (\i); it stops at the file's first
// failure.
func (c *console) include(path string) (bool, error) {
	if c.depth >= maxIncludeDepth {
		c.printError(fmt.Errorf(`\i %s: files include each other more than %d deep`, path, maxIncludeDepth))
		return false, nil
	}
	f, err := os.Open(path)
	if err != nil {
		c.printError(err)
		return false, nil
	}
	defer f.Close()
	c.depth++
	defer func() { c.depth-- }()
	ok, quit := c.run(source{lines: newPlainLines(f), name: path})
	if quit {
		return ok, errQuit
	}
	return ok, nil
}

// The queries behind \d: every column of _pico_table and _pico_index, in
// the order tables.TableDefFrom and tables.IndexDefFrom read them.
const (
	queryTables  = `SELECT "id", "name", "distribution", "format", "schema_version", "operable", "engine", "owner", "description" FROM "_pico_table"`
	queryIndexes = `SELECT "table_id", "id", "name", "type", "opts", "parts", "operable", "schema_version" FROM "_pico_index"`
)

// tableDefs reads _pico_table through SQL.
func (c *console) tableDefs() ([]schema.TableDef, error) {
	res, err := c.r.sql(queryTables)
	if err != nil {
		return nil, err
	}
	defs := make([]schema.TableDef, 0, len(res.Rows))
	for _, row := range res.Rows {
		d, err := tables.TableDefFrom(row)
		if err != nil {
			return nil, err
		}
		defs = append(defs, d)
	}
	slices.SortFunc(defs, func(a, b schema.TableDef) int { return strings.Compare(a.Name, b.Name) })
	return defs, nil
}

// listTables is \d (user tables) and \dS (system tables too).
func (c *console) listTables(system bool) bool {
	return c.timed(func() bool {
		defs, err := c.tableDefs()
		if err != nil {
			c.printError(err)
			return false
		}
		cols := []column{{"Name", "string"}, {"Id", "unsigned"}, {"Distribution", "string"},
			{"Sharding key", "string"}, {"Tier", "string"}, {"Engine", "string"}}
		var rows [][]any
		for _, d := range defs {
			if d.ID < tables.FirstUserTableID && !system {
				continue
			}
			dist, key, tier := "global", "", ""
			if d.IsSharded() {
				dist, key, tier = "sharded", strings.Join(d.ShardingKey, ", "), d.Tier
			}
			rows = append(rows, []any{d.Name, uint64(d.ID), dist, key, tier, d.Engine})
		}
		if len(rows) == 0 {
			fmt.Fprintln(c.out, `No tables (\dS lists the system tables too).`)
			return true
		}
		fmt.Fprint(c.out, formatTable(cols, rows))
		fmt.Fprintf(c.out, "%s\n\n", rowsFooter(len(rows)))
		return true
	})
}

// describeTable is \d name: the table's columns, distribution and indexes.
// A "quoted" name is taken as it is; an unquoted one as typed, else folded
// to lower case (as SQL folds unquoted names).
func (c *console) describeTable(name string) bool {
	return c.timed(func() bool {
		defs, err := c.tableDefs()
		if err != nil {
			c.printError(err)
			return false
		}
		candidates := []string{name, strings.ToLower(name)}
		if len(name) >= 2 && name[0] == '"' && name[len(name)-1] == '"' {
			candidates = []string{strings.ReplaceAll(name[1:len(name)-1], `""`, `"`)}
		}
		var def *schema.TableDef
		for _, want := range candidates {
			for i := range defs {
				if def == nil && defs[i].Name == want {
					def = &defs[i]
				}
			}
		}
		if def == nil {
			c.printError(fmt.Errorf("table %s does not exist", quoteName(candidates[len(candidates)-1])))
			return false
		}
		res, err := c.r.sql(queryIndexes)
		if err != nil {
			c.printError(err)
			return false
		}
		var indexes []schema.IndexDef
		for _, row := range res.Rows {
			x, err := tables.IndexDefFrom(row)
			if err != nil {
				c.printError(err)
				return false
			}
			if x.TableID == def.ID {
				indexes = append(indexes, x)
			}
		}
		slices.SortFunc(indexes, func(a, b schema.IndexDef) int { return int(a.ID) - int(b.ID) })
		fmt.Fprint(c.out, describeTableText(def, indexes))
		return true
	})
}

// describeTableText renders \d name's answer.
func describeTableText(def *schema.TableDef, indexes []schema.IndexDef) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Table %s\n", quoteName(def.Name))
	rows := make([][]any, len(def.Format))
	for i, f := range def.Format {
		null := "not null"
		if f.Nullable {
			null = ""
		}
		rows[i] = []any{f.Name, string(f.Type), null}
	}
	b.WriteString(formatTable([]column{{"Column", "string"}, {"Type", "string"}, {"Nullable", "string"}}, rows))
	if def.IsSharded() {
		fmt.Fprintf(&b, "Distribution: sharded by (%s), tier %s\n", strings.Join(def.ShardingKey, ", "), quoteName(def.Tier))
	} else {
		b.WriteString("Distribution: global\n")
	}
	if len(indexes) > 0 {
		b.WriteString("Indexes:\n")
	}
	for _, x := range indexes {
		kind := ""
		switch {
		case x.ID == 0:
			kind = "PRIMARY KEY, "
		case x.IsUnique():
			kind = "UNIQUE, "
		}
		parts := make([]string, len(x.Parts))
		for i, p := range x.Parts {
			parts[i] = p.Field
		}
		fmt.Fprintf(&b, "    %s %s%s (%s)\n", quoteName(x.Name), kind, x.Type, strings.Join(parts, ", "))
	}
	b.WriteString("\n")
	return b.String()
}

// quoteName writes a name as SQL quotes it: "name".
func quoteName(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

const consoleHelp = `SQL statements end with ';' and may span lines: while one continues the
prompt is host:port-> (host:port'> inside a 'string', *> inside a /* comment).
A ';' inside a 'string' ('it''s; fine'), a "quoted name" or a comment (--
to the end of the line, /* ... */) does not end a statement; several
statements on one line run in order. The last statement of -c, of stdin
or of an \i file needs no ';'.

What prints (results on stdout, errors on stderr):
  a query (SELECT, VALUES, EXPLAIN)  its rows as a table: numbers right-
                   aligned, the rest left-aligned, NULL as NULL; (N rows)
  INSERT, UPDATE, DELETE             the command and the rows it changed:
                   INSERT 3, UPDATE 2, DELETE 1
  any other statement                its command: CREATE TABLE, DROP INDEX,
                   GRANT
  an error         ERROR: message (code N)

Commands (one line each, no ';'):
  \d               list the tables (\dS: the system tables too)
  \d NAME          a table's columns, distribution and indexes
  \i FILE          run the statements of FILE, stopping at its first error
  \timing [on|off] print how long each statement took (Time: 1.234 ms)
  \h, help         this help
  \q, quit, exit   leave (so does ^D; ^C drops the statement being typed)

Lines starting with '.' call a procedure: its name, then its arguments as
JSON values separated by spaces (.proc_version_info, .proc_wait_index 10
1.5); the result prints as JSON.
`

// help prints what the console does and the procedures the user may call.
func (c *console) help() {
	fmt.Fprint(c.out, consoleHelp)
	fmt.Fprintln(c.out)
	printHelp(c.out, c.user)
}

// printHelp lists what user may call, with the arguments each takes.
func printHelp(out io.Writer, user string) {
	fmt.Fprintf(out, "Procedures %s may call (arguments as JSON values separated by spaces; [optional]):\n", user)
	for _, name := range proc.Callable(user) {
		fmt.Fprintln(out, "  "+proc.Signature(name))
	}
}

// decodeSQLReply reads .proc_sql's DATA: one map, {"metadata": [{name,
// type}...], "rows": [[...]...]} for a query or {"row_count": n}. A
// Lua-style [nil, error] is taken as the error.
func decodeSQLReply(data []byte) (sqlResult, error) {
	vals, derr := tuple.DecodeArray(data)
	if derr != nil {
		// tuple's decoder wants string map keys; the generic one does not
		// (but knows no extension types).
		d := msgpack.NewDecoder(bytes.NewReader(data))
		d.SetMapDecoder(func(d *msgpack.Decoder) (any, error) {
			m, err := d.DecodeUntypedMap()
			if err != nil {
				return nil, err
			}
			out := make(map[string]any, len(m))
			for k, v := range m {
				s, ok := k.(string)
				if !ok {
					return m, nil
				}
				out[s] = v
			}
			return out, nil
		})
		if err := d.Decode(&vals); err != nil {
			return sqlResult{}, fmt.Errorf("undecodable reply to .proc_sql: %v", derr)
		}
	}
	if len(vals) == 0 {
		return sqlResult{}, errors.New(".proc_sql returned nothing")
	}
	if vals[0] == nil && len(vals) > 1 {
		if m, ok := vals[1].(map[string]any); ok && m["message"] != nil {
			return sqlResult{}, fmt.Errorf("%v", m["message"])
		}
		return sqlResult{}, fmt.Errorf("%v", formatValue(vals[1]))
	}
	m, ok := vals[0].(map[string]any)
	if !ok {
		return sqlResult{}, fmt.Errorf("unexpected reply to .proc_sql: %s", formatValue(vals[0]))
	}
	if n, ok := m["row_count"]; ok {
		count, ok := tuple.AsUint64(n)
		if !ok {
			return sqlResult{}, fmt.Errorf("unexpected reply to .proc_sql: row_count %s", formatValue(n))
		}
		return sqlResult{RowCount: count}, nil
	}
	md, ok1 := m["metadata"].([]any)
	rows, ok2 := m["rows"].([]any)
	if !ok1 || !ok2 && m["rows"] != nil {
		return sqlResult{}, fmt.Errorf("unexpected reply to .proc_sql: %s", formatValue(vals[0]))
	}
	res := sqlResult{Query: true, Columns: make([]column, len(md)), Rows: make([][]any, len(rows))}
	for i, e := range md {
		col, _ := e.(map[string]any)
		name, ok := col["name"].(string)
		if !ok {
			return sqlResult{}, fmt.Errorf("unexpected reply to .proc_sql: metadata %s", formatValue(e))
		}
		typ, _ := col["type"].(string)
		res.Columns[i] = column{Name: name, Type: typ}
	}
	for i, r := range rows {
		row, ok := r.([]any)
		if !ok {
			return sqlResult{}, fmt.Errorf("unexpected reply to .proc_sql: row %s", formatValue(r))
		}
		res.Rows[i] = row
	}
	return res, nil
}

// remoteRunner runs statements and calls on an instance.
type remoteRunner struct {
	c       *client
	addr    string
	timeout time.Duration
}

func (r remoteRunner) sql(query string) (sqlResult, error) {
	args, err := msgpack.Marshal([]any{query})
	if err != nil {
		return sqlResult{}, err
	}
	data, err := r.c.call(r.addr, ".proc_sql", args, r.timeout)
	if err != nil {
		return sqlResult{}, err
	}
	return decodeSQLReply(data)
}

func (r remoteRunner) call(fn string, args []byte) (msgpack.RawMessage, error) {
	return r.c.call(r.addr, fn, args, r.timeout)
}

// main runs the -c strings in order, or else what stdin gives, and
// returns the exit code: 1 if a statement failed (on a terminal, 0 all the
// same).
func (c *console) main(commands []string, stdin func() (source, error)) int {
	if len(commands) > 0 {
		for _, text := range commands {
			ok, quit := c.run(source{lines: newPlainLines(strings.NewReader(text)), name: "-c"})
			if !ok {
				return 1
			}
			if quit {
				return 0
			}
		}
		return 0
	}
	src, err := stdin()
	if err != nil {
		fmt.Fprintln(c.errOut, "picogo connect:", err)
		return 1
	}
	defer src.lines.Close()
	if ok, _ := c.run(src); !ok && !src.interactive {
		return 1
	}
	return 0
}

// commandTag is what the console prints for a statement that answered
// with a row count, in psql's manner: DML its command and the rows it
// changed (INSERT 3, UPDATE 2, DELETE 1: psql's INSERT 0 3 without the
// OID), DDL and access control their command (CREATE TABLE, DROP INDEX,
// GRANT), anything else OK and the count.
func commandTag(stmt string, rowCount uint64) string {
	name := parse.CommandName(stmt)
	switch first, _, _ := strings.Cut(name, " "); first {
	case "INSERT", "UPDATE", "DELETE":
		return name + " " + uintString(rowCount)
	case "CREATE", "DROP", "ALTER", "TRUNCATE", "GRANT", "REVOKE", "SET", "CALL", "BEGIN", "COMMIT", "ROLLBACK":
		return name
	}
	return "OK " + uintString(rowCount)
}

package parse

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// canonical lists statements and their canonical form. The printer
// parenthesizes every compound expression, so each expected string shows
// how the parser grouped the input.
var canonical = []struct{ in, want string }{
	// Precedence and associativity.
	{"SELECT a OR b AND c", "SELECT (a OR (b AND c))"},
	{"SELECT a AND b OR c", "SELECT ((a AND b) OR c)"},
	{"SELECT NOT a AND b", "SELECT ((NOT a) AND b)"},
	{"SELECT NOT a = b", "SELECT (NOT (a = b))"},
	{"SELECT NOT NOT a", "SELECT (NOT (NOT a))"},
	{"SELECT a = b OR c <> d", "SELECT ((a = b) OR (c <> d))"},
	{"SELECT a != b, a < b, a <= b, a > b, a >= b", "SELECT (a != b), (a < b), (a <= b), (a > b), (a >= b)"},
	{"SELECT 1 + 2 * 3", "SELECT (1 + (2 * 3))"},
	{"SELECT (1 + 2) * 3", "SELECT ((1 + 2) * 3)"},
	{"SELECT 1 - 2 - 3", "SELECT ((1 - 2) - 3)"},
	{"SELECT 8 / 4 / 2 % 3", "SELECT (((8 / 4) / 2) % 3)"},
	{"SELECT a || b || c", "SELECT ((a || b) || c)"},
	{"SELECT a || b + c", "SELECT (a || (b + c))"},
	{"SELECT a + b = c || d", "SELECT ((a + b) = (c || d))"},
	{"SELECT -a * b", "SELECT ((-a) * b)"},
	{"SELECT - -1", "SELECT (-(-1))"},
	{"SELECT +1", "SELECT (+1)"},
	{"SELECT -x::int", "SELECT (-CAST(x AS INT))"},
	{"SELECT a::text::varchar(10)", "SELECT CAST(CAST(a AS TEXT) AS VARCHAR(10))"},
	{"SELECT a = b = c", "SELECT ((a = b) = c)"},
	// Comparison forms.
	{"SELECT a IS NULL, b IS NOT NULL", "SELECT (a IS NULL), (b IS NOT NULL)"},
	{"SELECT a BETWEEN 1 AND 2 AND b", "SELECT ((a BETWEEN 1 AND 2) AND b)"},
	{"SELECT a NOT BETWEEN 1 + 1 AND 2 * 3", "SELECT (a NOT BETWEEN (1 + 1) AND (2 * 3))"},
	{"SELECT a IN (1, 2, 3)", "SELECT (a IN (1, 2, 3))"},
	{"SELECT a NOT IN (SELECT b FROM t)", "SELECT (a NOT IN (SELECT b FROM t))"},
	{"SELECT a IN ((SELECT 1))", "SELECT (a IN ((SELECT 1)))"},
	{"SELECT a LIKE 'x%'", "SELECT (a LIKE 'x%')"},
	{"SELECT a NOT ILIKE 'x!%' ESCAPE '!'", "SELECT (a NOT ILIKE 'x!%' ESCAPE '!')"},
	{"SELECT NOT a IN (1)", "SELECT (NOT (a IN (1)))"},
	{"SELECT a IS NULL = TRUE", "SELECT ((a IS NULL) = TRUE)"},
	// Literals and parameters.
	{"SELECT 1, 1.5, 1e3, 2.5E-3, .5, 'it''s', TRUE, false, NULL",
		"SELECT 1, 1.5, 1e3, 2.5E-3, .5, 'it''s', TRUE, FALSE, NULL"},
	{"SELECT 18446744073709551615", "SELECT 18446744073709551615"},
	{"SELECT -9223372036854775808", "SELECT (-9223372036854775808)"},
	{"SELECT $1 + $2", "SELECT ($1 + $2)"},
	{"SELECT ? + ?", "SELECT (? + ?)"},
	{"SELECT ''", "SELECT ''"},
	// Names.
	{`SELECT Abc, "Abc", "a""b", "select", t.C FROM T`, `SELECT abc, "Abc", "a""b", "select", t.c FROM t`},
	{`SELECT "a b" FROM "My Table" AS "X"`, `SELECT "a b" FROM "My Table" AS "X"`},
	{"SELECT name, type, key, password FROM users", "SELECT name, type, key, password FROM users"},
	// Functions and special forms.
	{"SELECT count(*), COUNT(DISTINCT x), sum(a + 1), now()", "SELECT count(*), count(DISTINCT x), sum((a + 1)), now()"},
	{"SELECT CAST(a AS decimal(10, 2)), CAST(b AS Numeric)", "SELECT CAST(a AS DECIMAL(10, 2)), CAST(b AS NUMERIC)"},
	{"SELECT CASE WHEN a THEN 1 WHEN b THEN 2 ELSE 3 END", "SELECT CASE WHEN a THEN 1 WHEN b THEN 2 ELSE 3 END"},
	{"SELECT CASE a + 1 WHEN 1 THEN 'x' END", "SELECT CASE (a + 1) WHEN 1 THEN 'x' END"},
	{"SELECT EXISTS (SELECT 1 FROM t WHERE t.a = u.a)", "SELECT EXISTS (SELECT 1 FROM t WHERE (t.a = u.a))"},
	{"SELECT (SELECT max(a) FROM t) + 1", "SELECT ((SELECT max(a) FROM t) + 1)"},
	{"SELECT ((a))", "SELECT a"},
	{"SELECT (a, b + 1) = (1, 2), (a, b) IN ((1, 2), (3, 4)), (a, b) NOT IN (SELECT x, y FROM t)",
		"SELECT ((a, (b + 1)) = (1, 2)), ((a, b) IN ((1, 2), (3, 4))), ((a, b) NOT IN (SELECT x, y FROM t))"},
	{"SELECT TRIM(a), trim(LEADING FROM a), TRIM(TRAILING 'x' FROM a), TRIM(both ' ' || 'y' FROM a), TRIM('z' FROM a)",
		"SELECT TRIM(a), TRIM(LEADING FROM a), TRIM(TRAILING 'x' FROM a), TRIM(BOTH (' ' || 'y') FROM a), TRIM('z' FROM a)"},
	{"SELECT SUBSTRING(a FROM 2), substring(a from 1 + 1 for 3), substring(a, 2, 3), substring()",
		"SELECT SUBSTRING(a FROM 2), SUBSTRING(a FROM (1 + 1) FOR 3), \"substring\"(a, 2, 3), \"substring\"()"},
	{`SELECT "trim"(a, b), trim, "substring"(*)`, `SELECT "trim"(a, b), trim, "substring"(*)`},
	// Select clauses.
	{"select distinct a, b as x, c y from t", "SELECT DISTINCT a, b AS x, c AS y FROM t"},
	{"SELECT ALL a FROM t", "SELECT a FROM t"},
	{"SELECT *, t.* FROM t", "SELECT *, t.* FROM t"},
	{"SELECT a FROM t x WHERE x.a > 1 GROUP BY a, b HAVING count(*) > 1 ORDER BY a DESC, b ASC, c LIMIT 10 OFFSET 5",
		"SELECT a FROM t AS x WHERE (x.a > 1) GROUP BY a, b HAVING (count(*) > 1) ORDER BY a DESC, b, c LIMIT 10 OFFSET 5"},
	{"SELECT * FROM a JOIN b ON a.id = b.id INNER JOIN c ON TRUE LEFT OUTER JOIN d ON 1 = 1 LEFT JOIN e ON x",
		"SELECT * FROM a JOIN b ON (a.id = b.id) JOIN c ON TRUE LEFT JOIN d ON (1 = 1) LEFT JOIN e ON x"},
	{"SELECT * FROM (SELECT a FROM t) AS s JOIN (VALUES (1)) v ON s.a = v.column_1",
		"SELECT * FROM (SELECT a FROM t) AS s JOIN (VALUES (1)) AS v ON (s.a = v.column_1)"},
	{"SELECT * FROM (SELECT 1)", "SELECT * FROM (SELECT 1)"},
	// Set operations.
	{"SELECT 1 UNION SELECT 2 UNION ALL SELECT 3 EXCEPT SELECT 4",
		"SELECT 1 UNION SELECT 2 UNION ALL SELECT 3 EXCEPT SELECT 4"},
	{"SELECT 1 EXCEPT DISTINCT SELECT 2", "SELECT 1 EXCEPT SELECT 2"},
	{"SELECT 1 UNION (SELECT 2 UNION SELECT 3) ORDER BY 1 LIMIT 1",
		"SELECT 1 UNION (SELECT 2 UNION SELECT 3) ORDER BY 1 LIMIT 1"},
	{"(SELECT 1)", "(SELECT 1)"},
	{"VALUES (1, 'a'), (2, 'b')", "VALUES (1, 'a'), (2, 'b')"},
	{"WITH c (x, y) AS (SELECT 1, 2), d AS (VALUES (3)) SELECT * FROM c JOIN d ON TRUE",
		"WITH c (x, y) AS (SELECT 1, 2), d AS (VALUES (3)) SELECT * FROM c JOIN d ON TRUE"},
	// DML.
	{"INSERT INTO t VALUES (1, 2), (3, 4)", "INSERT INTO t VALUES (1, 2), (3, 4)"},
	{"insert into t (a, b) select x, y from u on conflict do nothing",
		"INSERT INTO t (a, b) SELECT x, y FROM u ON CONFLICT DO NOTHING"},
	{"INSERT INTO t (SELECT 1) ON CONFLICT DO REPLACE", "INSERT INTO t (SELECT 1) ON CONFLICT DO REPLACE"},
	{"INSERT INTO t VALUES ($1) ON CONFLICT DO FAIL", "INSERT INTO t VALUES ($1) ON CONFLICT DO FAIL"},
	{"UPDATE t SET a = a + 1, b = 'x' WHERE id = ?", "UPDATE t SET a = (a + 1), b = 'x' WHERE (id = ?)"},
	{"UPDATE t SET a = 1", "UPDATE t SET a = 1"},
	{"DELETE FROM t WHERE a IN (1, 2)", "DELETE FROM t WHERE (a IN (1, 2))"},
	{"DELETE FROM t", "DELETE FROM t"},
	{"SELECT * FROM t OPTION (sql_vdbe_max_steps = 10, vtable_max_rows = $1)",
		"SELECT * FROM t OPTION (SQL_VDBE_MAX_STEPS = 10, VTABLE_MAX_ROWS = $1)"},
	{"INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING OPTION (vtable_max_rows = 5)",
		"INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING OPTION (VTABLE_MAX_ROWS = 5)"},
	{"UPDATE t SET a = 1 OPTION (vtable_max_rows = 5)", "UPDATE t SET a = 1 OPTION (VTABLE_MAX_ROWS = 5)"},
	{"DELETE FROM t WHERE a OPTION (vtable_max_rows = ?)", "DELETE FROM t WHERE a OPTION (VTABLE_MAX_ROWS = ?)"},
	// DDL.
	{"CREATE TABLE t (id integer not null primary key, name text null, v varchar(5), d double, PRIMARY KEY (id))",
		"CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, name TEXT NULL, v VARCHAR(5), d DOUBLE, PRIMARY KEY (id))"},
	{"CREATE TABLE IF NOT EXISTS t (a int, b unsigned, c bool, d uuid, e datetime, f decimal(5), g string, h real, i float, j bigint, k timestamp, l boolean, m numeric(3,1)) USING vinyl DISTRIBUTED BY (a, b) IN TIER hot OPTION (TIMEOUT = 3.5)",
		"CREATE TABLE IF NOT EXISTS t (a INT, b UNSIGNED, c BOOL, d UUID, e DATETIME, f DECIMAL(5), g STRING, h REAL, i FLOAT, j BIGINT, k TIMESTAMP, l BOOLEAN, m NUMERIC(3, 1)) USING vinyl DISTRIBUTED BY (a, b) IN TIER hot OPTION (TIMEOUT = 3.5)"},
	{"CREATE TABLE g (a int primary key) using memtx distributed globally",
		"CREATE TABLE g (a INT PRIMARY KEY) USING memtx DISTRIBUTED GLOBALLY"},
	{"CREATE TABLE t (primary int, PRIMARY KEY (primary))", "CREATE TABLE t (primary INT, PRIMARY KEY (primary))"},
	{"DROP TABLE t", "DROP TABLE t"},
	{"DROP TABLE IF EXISTS t option (timeout = 1)", "DROP TABLE IF EXISTS t OPTION (TIMEOUT = 1)"},
	{"CREATE UNIQUE INDEX IF NOT EXISTS i ON t (a, b) OPTION (TIMEOUT = 2)",
		"CREATE UNIQUE INDEX IF NOT EXISTS i ON t (a, b) OPTION (TIMEOUT = 2)"},
	{"CREATE INDEX i ON t (a)", "CREATE INDEX i ON t (a)"},
	{"CREATE INDEX i ON t USING Hash (a, b)", "CREATE INDEX i ON t USING hash (a, b)"},
	{"DROP INDEX IF EXISTS i", "DROP INDEX IF EXISTS i"},
	{"DROP INDEX i", "DROP INDEX i"},
	// Users, roles, privileges.
	{"CREATE USER alice WITH PASSWORD 'Passw0rd'", "CREATE USER alice WITH PASSWORD 'Passw0rd'"},
	{"CREATE USER IF NOT EXISTS bob PASSWORD 'x''y' USING chap-sha1", "CREATE USER IF NOT EXISTS bob WITH PASSWORD 'x''y' USING chap-sha1"},
	{"CREATE USER c WITH PASSWORD 'p' USING MD5", "CREATE USER c WITH PASSWORD 'p' USING md5"},
	{"ALTER USER alice PASSWORD 'new' USING md5", "ALTER USER alice WITH PASSWORD 'new' USING md5"},
	{"ALTER USER alice WITH LOGIN", "ALTER USER alice WITH LOGIN"},
	{"ALTER USER alice NOLOGIN", "ALTER USER alice WITH NOLOGIN"},
	{"ALTER USER alice RENAME TO Bob", "ALTER USER alice RENAME TO bob"},
	{"DROP USER IF EXISTS alice", "DROP USER IF EXISTS alice"},
	{"DROP USER alice", "DROP USER alice"},
	{"CREATE ROLE analyst", "CREATE ROLE analyst"},
	{"DROP ROLE IF EXISTS analyst", "DROP ROLE IF EXISTS analyst"},
	{"GRANT read ON TABLE t TO analyst", "GRANT READ ON TABLE t TO analyst"},
	{"GRANT WRITE ON ALL TABLES TO alice", "GRANT WRITE ON ALL TABLES TO alice"},
	{"GRANT CREATE ON ALL USERS TO alice", "GRANT CREATE ON ALL USERS TO alice"},
	{"GRANT ALTER ON USER bob TO alice", "GRANT ALTER ON USER bob TO alice"},
	{"GRANT DROP ON ROLE analyst TO alice", "GRANT DROP ON ROLE analyst TO alice"},
	{"GRANT analyst TO alice", "GRANT analyst TO alice"},
	{"REVOKE READ ON TABLE t FROM analyst", "REVOKE READ ON TABLE t FROM analyst"},
	{"REVOKE analyst FROM alice", "REVOKE analyst FROM alice"},
	{"GRANT read TO alice", "GRANT read TO alice"},
	// EXPLAIN, comments.
	{"EXPLAIN SELECT a FROM t", "EXPLAIN SELECT a FROM t"},
	{"EXPLAIN INSERT INTO t VALUES (1)", "EXPLAIN INSERT INTO t VALUES (1)"},
	{"SELECT /* a comment */ a -- another\nFROM t", "SELECT a FROM t"},
}

// clearPos zeroes every Pos in a tree, so trees compare by shape alone.
func clearPos(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			clearPos(v.Elem())
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			clearPos(v.Index(i))
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(Pos{}) {
			v.Set(reflect.Zero(v.Type()))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			clearPos(v.Field(i))
		}
	}
}

func stripped(stmts []Stmt) []Stmt {
	clearPos(reflect.ValueOf(stmts))
	return stmts
}

func printAll(stmts []Stmt) string {
	var parts []string
	for _, s := range stmts {
		parts = append(parts, s.String())
	}
	return strings.Join(parts, "; ")
}

// roundTrip checks that the printed form of stmts parses back to the same
// trees and prints the same.
func roundTrip(t *testing.T, in string, stmts []Stmt) {
	t.Helper()
	printed := printAll(stmts)
	again, err := Parse(printed)
	if err != nil {
		t.Fatalf("%q printed as %q, which does not parse: %v", in, printed, err)
	}
	if !reflect.DeepEqual(stripped(stmts), stripped(again)) {
		t.Fatalf("%q printed as %q, which parses to a different tree (prints %q)", in, printed, printAll(again))
	}
	if p2 := printAll(again); p2 != printed {
		t.Fatalf("printing is not stable: %q then %q", printed, p2)
	}
}

func TestCanonical(t *testing.T) {
	for _, c := range canonical {
		stmts, err := Parse(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if got := printAll(stmts); got != c.want {
			t.Errorf("%q\n got %s\nwant %s", c.in, got, c.want)
			continue
		}
		roundTrip(t, c.in, stmts)
	}
}

func TestSeveralStatements(t *testing.T) {
	stmts, err := Parse(";SELECT 1; ; DELETE FROM t;\n-- done\n")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := printAll(stmts), "SELECT 1; DELETE FROM t"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if stmts, err := Parse("  -- nothing\n"); err != nil || len(stmts) != 0 {
		t.Fatalf("empty input: %v, %v", stmts, err)
	}
	if _, err := ParseOne("SELECT 1; SELECT 2"); err == nil {
		t.Fatal("ParseOne took two statements")
	}
}

// Question marks count per statement, in order of appearance.
func TestQuestionMarksNumbered(t *testing.T) {
	stmts, err := Parse("SELECT ? FROM t WHERE a = ? AND b IN (?, ?); SELECT ?")
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				if p, ok := v.Interface().(*Param); ok {
					got = append(got, p.Index)
					return
				}
				walk(v.Elem())
			}
		case reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				walk(v.Field(i))
			}
		}
	}
	walk(reflect.ValueOf(stmts))
	if want := []int{1, 2, 3, 4, 1}; !reflect.DeepEqual(got, want) {
		t.Fatalf("? numbered %v, want %v", got, want)
	}
}

func TestNodes(t *testing.T) {
	s, err := ParseOne(`SELECT "Ab", 2.5e1 FROM t WHERE x::varchar(3) = $2`)
	if err != nil {
		t.Fatal(err)
	}
	sel := s.(*Query).Body.(*Select)
	if c := sel.Items[0].Expr.(*ColumnRef); c.Column != "Ab" {
		t.Errorf("quoted name = %q", c.Column)
	}
	if n := sel.Items[1].Expr.(*Number); n.Kind != Float || n.Raw != "2.5e1" {
		t.Errorf("number = %+v", n)
	}
	cmp := sel.Where.(*Binary)
	if ty := cmp.L.(*Cast).Type; ty.Name != "VARCHAR" || !reflect.DeepEqual(ty.Args, []int{3}) {
		t.Errorf("type = %+v", ty)
	}
	if p := cmp.R.(*Param); p.Index != 2 || p.Question {
		t.Errorf("param = %+v", p)
	}
}

func TestPositions(t *testing.T) {
	src := "SELECT a,\n  t.b + 1\nFROM t\nWHERE c = 'x'"
	s, err := ParseOne(src)
	if err != nil {
		t.Fatal(err)
	}
	q := s.(*Query)
	sel := q.Body.(*Select)
	plus := sel.Items[1].Expr.(*Binary)
	where := sel.Where.(*Binary)
	for _, c := range []struct {
		what string
		got  Pos
		want Pos
	}{
		{"query", q.Pos, Pos{0, 1, 1}},
		{"a", sel.Items[0].Expr.Position(), Pos{7, 1, 8}},
		{"t.b", plus.L.Position(), Pos{12, 2, 3}},
		{"+", plus.Pos, Pos{16, 2, 7}},
		{"1", plus.R.Position(), Pos{18, 2, 9}},
		{"table t", sel.From.Position(), Pos{25, 3, 6}},
		{"c", where.L.Position(), Pos{33, 4, 7}},
		{"=", where.Pos, Pos{35, 4, 9}},
		{"'x'", where.R.Position(), Pos{37, 4, 11}},
	} {
		if c.got != c.want {
			t.Errorf("%s at %+v, want %+v", c.what, c.got, c.want)
		}
		if src[c.got.Offset] != c.what[0] && c.what != "query" && c.what != "table t" {
			t.Errorf("%s: offset %d holds %q", c.what, c.got.Offset, src[c.got.Offset])
		}
	}
	stmts, err := Parse("SELECT 1;\n/* x\n */ DELETE FROM t")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := stmts[1].Position(), (Pos{19, 3, 5}); got != want {
		t.Errorf("DELETE at %+v, want %+v", got, want)
	}
}

var syntaxErrors = []struct{ in, want string }{
	// FORM is taken for an alias, as PostgreSQL would.
	{"SELECT a FORM t", `syntax error at line 1, column 15: expected ";" or end of input, found "t"`},
	{"SELECT a FROM t WHRE a = 1", `syntax error at line 1, column 22: expected ";" or end of input, found "a"`},
	{"DELETE FORM t", `syntax error at line 1, column 8: expected FROM, found "FORM"`},
	{"SELECT a\nFROM t\nWHERE a = = 1", `syntax error at line 3, column 11: expected expression, found "="`},
	{"INSERT INTO t (a, b VALUES (1)", `syntax error at line 1, column 21: expected ")", found "VALUES"`},
	{"DELETE t", `syntax error at line 1, column 8: expected FROM, found "t"`},
	{"SELECT a FROM t WHERE", `syntax error at line 1, column 22: expected expression, found end of input`},
	{"SELECT a,\n  FROM t", `syntax error at line 2, column 3: expected expression, found "FROM"`},
	{"SELECT (1 + 2", `syntax error at line 1, column 14: expected ")", found end of input`},
	{"SELECT 'abc", `syntax error at line 1, column 8: unterminated string literal`},
	{`SELECT "abc`, `syntax error at line 1, column 8: unterminated quoted identifier`},
	{`SELECT ""`, `syntax error at line 1, column 8: zero-length quoted identifier`},
	{"SELECT 1 /* x", `syntax error at line 1, column 10: unterminated comment`},
	{"SELECT 18446744073709551616", `syntax error at line 1, column 8: integer literal 18446744073709551616 out of range`},
	{"SELECT 99999999999999999999999", `syntax error at line 1, column 8: integer literal 99999999999999999999999 out of range`},
	{"SELECT $0", `syntax error at line 1, column 8: parameter $0 out of range`},
	{"SELECT $", `syntax error at line 1, column 8: expected a parameter number after $`},
	{"SELECT a # b", `syntax error at line 1, column 10: unexpected character '#'`},
	{"SELECT \xff", `syntax error at line 1, column 8: invalid UTF-8 byte 0xff`},
	{"FOO", `syntax error at line 1, column 1: expected statement, found "FOO"`},
	{"SELECT 1 2", `syntax error at line 1, column 10: expected ";" or end of input, found "2"`},
	{"SELECT a IS 1", `syntax error at line 1, column 13: expected NULL, found "1"`},
	{"SELECT a NOT NULL", `syntax error at line 1, column 10: expected ";" or end of input, found "NOT"`},
	{"SELECT CASE END", `syntax error at line 1, column 13: expected expression, found "END"`},
	{"SELECT CASE a END", `syntax error at line 1, column 15: expected WHEN, found "END"`},
	{"SELECT CAST(a AS blob)", `syntax error at line 1, column 18: expected type, found "blob"`},
	{"CREATE TABLE t (a varchar)", `syntax error at line 1, column 26: expected "(", found ")"`},
	{"CREATE TABLE t (a int) USING foo", `syntax error at line 1, column 30: expected memtx or vinyl, found "foo"`},
	{"CREATE TABLE t (a int) DISTRIBUTED", `syntax error at line 1, column 35: expected BY or GLOBALLY, found end of input`},
	{"CREATE TABLE t (a int, PRIMARY KEY (a), PRIMARY KEY (a))", `syntax error at line 1, column 41: more than one table-level PRIMARY KEY`},
	{"CREATE VIEW v", `syntax error at line 1, column 8: expected TABLE, INDEX, USER or ROLE, found "VIEW"`},
	{"CREATE USER u PASSWORD x", `syntax error at line 1, column 24: expected password string, found "x"`},
	{"CREATE USER u PASSWORD 'x' USING sha", `syntax error at line 1, column 34: expected chap-sha1, md5 or ldap, found "sha"`},
	{"GRANT SELECT ON TABLE t TO u", `syntax error at line 1, column 7: expected privilege, found "SELECT"`},
	{"GRANT READ ON t TO u", `syntax error at line 1, column 15: expected TABLE, USER, ROLE or ALL, found "t"`},
	{"REVOKE r TO u", `syntax error at line 1, column 10: expected FROM, found "TO"`},
	{"INSERT INTO t VALUES (1) ON CONFLICT DO UPDATE", `syntax error at line 1, column 41: expected NOTHING, REPLACE or FAIL, found "UPDATE"`},
	{"UPDATE t SET a 1", `syntax error at line 1, column 16: expected "=", found "1"`},
	{"SELECT * FROM a JOIN b", `syntax error at line 1, column 23: expected ON, found end of input`},
	{"SELECT * FROM select", `syntax error at line 1, column 15: expected table name or "(", found "select"`},
	{"DROP TABLE t OPTION (TIMEOUT = 'x')", `syntax error at line 1, column 32: expected number or parameter, found "'x'"`},
	{"SELECT TRIM(LEADING a)", `syntax error at line 1, column 22: expected FROM, found ")"`},
	{"SELECT SUBSTRING(a FROM 1 FOR)", `syntax error at line 1, column 30: expected expression, found ")"`},
	{"CREATE INDEX i ON t USING btree (a)", `syntax error at line 1, column 27: expected tree, hash, rtree or bitset, found "btree"`},
	{"SELECT 1 UNION", `syntax error at line 1, column 15: expected SELECT, VALUES or "(", found end of input`},
	{"SELECT 1;;\nSELECT FROM", `syntax error at line 2, column 8: expected expression, found "FROM"`},
}

// Nesting limits: the recursion limit stops the parser before the stack
// grows without bound; the tree-depth limit keeps every accepted tree's
// printed form within the recursion limit.
var nestingErrors = []struct{ in, want string }{
	{"SELECT " + strings.Repeat("(", maxDepth) + "1" + strings.Repeat(")", maxDepth),
		fmt.Sprintf("syntax error at line 1, column %d: nesting too deep", 7+maxDepth)},
	{"SELECT " + strings.Repeat("- ", maxDepth) + "1",
		fmt.Sprintf("syntax error at line 1, column %d: nesting too deep", 2*maxDepth+6)},
	{"SELECT " + strings.Repeat("NOT ", maxDepth) + "1",
		fmt.Sprintf("syntax error at line 1, column %d: nesting too deep", 4*maxDepth+4)},
	{"SELECT 1 FROM " + strings.Repeat("(SELECT 1 FROM ", maxDepth),
		fmt.Sprintf("syntax error at line 1, column %d: nesting too deep", 15*maxDepth-7)},
	{"SELECT 1;\nSELECT " + strings.Repeat("NOT ", maxTreeDepth) + "1",
		"syntax error at line 2, column 1: statement nests too deep"},
	{"SELECT " + strings.Repeat("1 + ", maxTreeDepth) + "1",
		"syntax error at line 1, column 1: statement nests too deep"},
}

func TestSyntaxErrors(t *testing.T) {
	for _, c := range append(syntaxErrors, nestingErrors...) {
		_, err := Parse(c.in)
		if err == nil {
			t.Errorf("%q parsed", c.in)
			continue
		}
		if _, ok := err.(*Error); !ok {
			t.Errorf("%q: error is %T, not *Error", c.in, err)
		}
		if err.Error() != c.want {
			t.Errorf("%q\n got %s\nwant %s", c.in, err, c.want)
		}
	}
}

func TestParseExpr(t *testing.T) {
	e, err := ParseExpr("a + b * 2 >= 10 OR c IS NULL")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e.String(), "(((a + (b * 2)) >= 10) OR (c IS NULL))"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if _, err := ParseExpr("a b"); err == nil || err.Error() != `syntax error at line 1, column 3: expected end of input, found "b"` {
		t.Fatalf("trailing token: %v", err)
	}
}

// The printer quotes what would not read back as the same name.
func TestIdent(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"a", "a"}, {"a_1", "a_1"}, {"_x", "_x"}, {"A", `"A"`}, {"1a", `"1a"`},
		{"select", `"select"`}, {"leading", `"leading"`}, {"name", "name"},
		{`a"b`, `"a""b"`}, {"a b", `"a b"`}, {"é", `"é"`},
	} {
		if got := Ident(c.in); got != c.want {
			t.Errorf("Ident(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

// Every type name docs/sql.md lists parses in a column definition.
func TestColumnTypeNames(t *testing.T) {
	for _, ty := range []string{"INTEGER", "INT", "BIGINT", "SMALLINT", "TINYINT", "INT2", "INT4", "INT8", "UNSIGNED",
		"DOUBLE", "REAL", "FLOAT", "FLOAT4", "FLOAT8", "DECIMAL(10, 2)", "NUMERIC", "TEXT", "STRING", "VARCHAR(10)",
		"CHAR(3)", "CHARACTER", "BOOLEAN", "BOOL", "UUID", "DATETIME", "TIMESTAMP", "VARBINARY", "ANY", "SCALAR", "NUMBER",
		"MAP", "ARRAY"} {
		if _, err := ParseOne("CREATE TABLE t (id INT PRIMARY KEY, c " + ty + ")"); err != nil {
			t.Errorf("%s: %v", ty, err)
		}
	}
}

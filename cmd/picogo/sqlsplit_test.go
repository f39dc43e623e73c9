package main

import (
	"reflect"
	"testing"
)

func TestSplitSQL(t *testing.T) {
	type st = statement
	for _, c := range []struct {
		name  string
		text  string
		stmts []statement
		rest  string
		state scanState
	}{
		{"empty", "", nil, "", inCode},
		{"white space only", "  \n\t\n", nil, "", inCode},
		{"one", "SELECT 1;", []st{{"SELECT 1", 1}}, "", inCode},
		{"no semicolon yet", "SELECT 1\n", nil, "SELECT 1\n", inCode},
		{"two on a line", "SELECT 1; SELECT 2;\n", []st{{"SELECT 1", 1}, {"SELECT 2", 1}}, "", inCode},
		{"one done, one pending", "SELECT 1; SELECT\n", []st{{"SELECT 1", 1}}, " SELECT\n", inCode},
		{"over lines", "SELECT a,\n  b\nFROM t\n;\n", []st{{"SELECT a,\n  b\nFROM t", 1}}, "", inCode},
		{"starts on line 3", "\n\n  SELECT 1;", []st{{"SELECT 1", 3}}, "", inCode},
		{"second starts on line 2", "SELECT 1;\nSELECT\n2;", []st{{"SELECT 1", 1}, {"SELECT\n2", 2}}, "", inCode},
		{"semicolon in a string", "SELECT 'a;b';", []st{{"SELECT 'a;b'", 1}}, "", inCode},
		{"doubled quote", "SELECT 'it''s; ok';", []st{{"SELECT 'it''s; ok'", 1}}, "", inCode},
		{"open string", "SELECT 'abc;\n", nil, "SELECT 'abc;\n", inString},
		{"string over lines", "INSERT INTO t VALUES ('a\nb;c');", []st{{"INSERT INTO t VALUES ('a\nb;c')", 1}}, "", inCode},
		{"quoted name", `SELECT "a;b" FROM t;`, []st{{`SELECT "a;b" FROM t`, 1}}, "", inCode},
		{"open quoted name", `SELECT "a;`, nil, `SELECT "a;`, inQuotedName},
		{"apostrophe in a quoted name", `SELECT "it's" FROM t;`, []st{{`SELECT "it's" FROM t`, 1}}, "", inCode},
		{"line comment", "SELECT 1 -- not; the end\n;", []st{{"SELECT 1 -- not; the end", 1}}, "", inCode},
		{"line comment alone", "-- a comment; really\n", nil, "", inCode},
		{"line comment without newline", "-- a comment;", nil, "", inCode},
		{"quote in a line comment", "SELECT 1 -- it's\n;", []st{{"SELECT 1 -- it's", 1}}, "", inCode},
		{"block comment", "SELECT /* ; */ 1;", []st{{"SELECT /* ; */ 1", 1}}, "", inCode},
		{"block comment over lines", "SELECT /* a\n; b */ 1;", []st{{"SELECT /* a\n; b */ 1", 1}}, "", inCode},
		{"open block comment", "/* a;\n", nil, "/* a;\n", inBlockComment},
		{"closed block comment alone", "/* a; */\n", nil, "", inCode},
		{"block comments do not nest", "/* /* */ SELECT 1;", []st{{"SELECT 1", 1}}, "", inCode},
		{"empty statements dropped", ";; ;\n-- x\n;SELECT 1;", []st{{"SELECT 1", 3}}, "", inCode},
		{"comment before a statement", "-- head\nSELECT 1;", []st{{"SELECT 1", 2}}, "", inCode},
		{"comment before, pending", "/* x */ SELECT\n", nil, "/* x */ SELECT\n", inCode},
		{"minus is not a comment", "SELECT 1 - 2;", []st{{"SELECT 1 - 2", 1}}, "", inCode},
		{"division is not a comment", "SELECT 4 / 2;", []st{{"SELECT 4 / 2", 1}}, "", inCode},
		{"unicode", "SELECT 'привет; 世界';", []st{{"SELECT 'привет; 世界'", 1}}, "", inCode},
	} {
		t.Run(c.name, func(t *testing.T) {
			stmts, rest, state := splitSQL(c.text)
			if !reflect.DeepEqual(stmts, c.stmts) || rest != c.rest || state != c.state {
				t.Errorf("splitSQL(%q) = %+v, %q, %d; want %+v, %q, %d", c.text, stmts, rest, state, c.stmts, c.rest, c.state)
			}
		})
	}
}

// TestSplitSQLFedLineByLine: a text fed a line at a time, keeping the
// rest as the console does, gives the statements the whole text gives.
func TestSplitSQLFedLineByLine(t *testing.T) {
	text := "SELECT 1; SELECT\n'a;\nb'; -- c;\n/* d;\n*/ INSERT INTO t\nVALUES (1);\n"
	whole, _, _ := splitSQL(text)
	var got []string
	buf := ""
	for _, line := range []string{"SELECT 1; SELECT\n", "'a;\n", "b'; -- c;\n", "/* d;\n", "*/ INSERT INTO t\n", "VALUES (1);\n"} {
		stmts, rest, _ := splitSQL(buf + line)
		for _, s := range stmts {
			got = append(got, s.Text)
		}
		buf = rest
	}
	var want []string
	for _, s := range whole {
		want = append(want, s.Text)
	}
	if !reflect.DeepEqual(got, want) || len(want) != 3 || buf != "" {
		t.Fatalf("line by line: %q (rest %q); whole: %q", got, buf, want)
	}
}

func TestSplitCommandTag(t *testing.T) {
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

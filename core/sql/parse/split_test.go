package parse

import (
	"reflect"
	"testing"
)

func TestSplit(t *testing.T) {
	type st = Statement
	for _, c := range []struct {
		name  string
		text  string
		stmts []Statement
		rest  string
		state ScanState
	}{
		{"empty", "", nil, "", InCode},
		{"white space only", "  \n\t\n", nil, "", InCode},
		{"one", "SELECT 1;", []st{{"SELECT 1", 1}}, "", InCode},
		{"no semicolon yet", "SELECT 1\n", nil, "SELECT 1\n", InCode},
		{"two on a line", "SELECT 1; SELECT 2;\n", []st{{"SELECT 1", 1}, {"SELECT 2", 1}}, "", InCode},
		{"one done, one pending", "SELECT 1; SELECT\n", []st{{"SELECT 1", 1}}, " SELECT\n", InCode},
		{"over lines", "SELECT a,\n  b\nFROM t\n;\n", []st{{"SELECT a,\n  b\nFROM t", 1}}, "", InCode},
		{"starts on line 3", "\n\n  SELECT 1;", []st{{"SELECT 1", 3}}, "", InCode},
		{"second starts on line 2", "SELECT 1;\nSELECT\n2;", []st{{"SELECT 1", 1}, {"SELECT\n2", 2}}, "", InCode},
		{"semicolon in a string", "SELECT 'a;b';", []st{{"SELECT 'a;b'", 1}}, "", InCode},
		{"doubled quote", "SELECT 'it''s; ok';", []st{{"SELECT 'it''s; ok'", 1}}, "", InCode},
		{"open string", "SELECT 'abc;\n", nil, "SELECT 'abc;\n", InString},
		{"string over lines", "INSERT INTO t VALUES ('a\nb;c');", []st{{"INSERT INTO t VALUES ('a\nb;c')", 1}}, "", InCode},
		{"quoted name", `SELECT "a;b" FROM t;`, []st{{`SELECT "a;b" FROM t`, 1}}, "", InCode},
		{"open quoted name", `SELECT "a;`, nil, `SELECT "a;`, InQuotedName},
		{"apostrophe in a quoted name", `SELECT "it's" FROM t;`, []st{{`SELECT "it's" FROM t`, 1}}, "", InCode},
		{"line comment", "SELECT 1 -- not; the end\n;", []st{{"SELECT 1 -- not; the end", 1}}, "", InCode},
		{"line comment alone", "-- a comment; really\n", nil, "", InCode},
		{"line comment without newline", "-- a comment;", nil, "", InCode},
		{"quote in a line comment", "SELECT 1 -- it's\n;", []st{{"SELECT 1 -- it's", 1}}, "", InCode},
		{"block comment", "SELECT /* ; */ 1;", []st{{"SELECT /* ; */ 1", 1}}, "", InCode},
		{"block comment over lines", "SELECT /* a\n; b */ 1;", []st{{"SELECT /* a\n; b */ 1", 1}}, "", InCode},
		{"open block comment", "/* a;\n", nil, "/* a;\n", InBlockComment},
		{"closed block comment alone", "/* a; */\n", nil, "", InCode},
		{"block comments do not nest", "/* /* */ SELECT 1;", []st{{"SELECT 1", 1}}, "", InCode},
		{"empty statements dropped", ";; ;\n-- x\n;SELECT 1;", []st{{"SELECT 1", 3}}, "", InCode},
		{"comment before a statement", "-- head\nSELECT 1;", []st{{"SELECT 1", 2}}, "", InCode},
		{"comment before, pending", "/* x */ SELECT\n", nil, "/* x */ SELECT\n", InCode},
		{"minus is not a comment", "SELECT 1 - 2;", []st{{"SELECT 1 - 2", 1}}, "", InCode},
		{"division is not a comment", "SELECT 4 / 2;", []st{{"SELECT 4 / 2", 1}}, "", InCode},
		{"unicode", "SELECT 'привет; 世界';", []st{{"SELECT 'привет; 世界'", 1}}, "", InCode},
	} {
		t.Run(c.name, func(t *testing.T) {
			stmts, rest, state := Split(c.text)
			if !reflect.DeepEqual(stmts, c.stmts) || rest != c.rest || state != c.state {
				t.Errorf("Split(%q) = %+v, %q, %d; want %+v, %q, %d", c.text, stmts, rest, state, c.stmts, c.rest, c.state)
			}
		})
	}
}

// TestSplitFedLineByLine: a text fed a line at a time, keeping the
// rest as the console does, gives the statements the whole text gives.
func TestSplitFedLineByLine(t *testing.T) {
	text := "SELECT 1; SELECT\n'a;\nb'; -- c;\n/* d;\n*/ INSERT INTO t\nVALUES (1);\n"
	whole, _, _ := Split(text)
	var got []string
	buf := ""
	for _, line := range []string{"SELECT 1; SELECT\n", "'a;\n", "b'; -- c;\n", "/* d;\n", "*/ INSERT INTO t\n", "VALUES (1);\n"} {
		stmts, rest, _ := Split(buf + line)
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

func TestSplitAll(t *testing.T) {
	type st = Statement
	for _, c := range []struct {
		text string
		want []Statement
	}{
		{"", nil},
		{" ; -- x\n", nil},
		{"SELECT 1", []st{{"SELECT 1", 1}}},
		{"SELECT 1; SELECT 2", []st{{"SELECT 1", 1}, {"SELECT 2", 1}}},
		{"SELECT 1;\n\nSELECT 2 -- two", []st{{"SELECT 1", 1}, {"SELECT 2 -- two", 3}}},
		{"SELECT 1;\n /* c */ SELECT 2\n", []st{{"SELECT 1", 1}, {"SELECT 2", 2}}},
		{"SELECT 1; SELECT 'a;", []st{{"SELECT 1", 1}, {"SELECT 'a;", 1}}},
		{"SELECT 1;\n/* open", []st{{"SELECT 1", 1}, {"/* open", 2}}},
	} {
		if got := SplitAll(c.text); !reflect.DeepEqual(got, c.want) {
			t.Errorf("SplitAll(%q) = %+v, want %+v", c.text, got, c.want)
		}
	}
}

func TestCommandName(t *testing.T) {
	for stmt, want := range map[string]string{
		"insert into t values (1)":                      "INSERT",
		"  -- c\n CREATE TABLE IF NOT EXISTS t (a int)": "CREATE TABLE",
		"create unique index i on t (a)":                "CREATE INDEX",
		"DROP TABLE t":                                  "DROP TABLE",
		"alter user u password 'x'":                     "ALTER USER",
		"truncate t":                                    "TRUNCATE TABLE",
		"(select 1)":                                    "SELECT",
		"":                                              "",
		"'x'":                                           "",
	} {
		if got := CommandName(stmt); got != want {
			t.Errorf("CommandName(%q) = %q, want %q", stmt, got, want)
		}
	}
}

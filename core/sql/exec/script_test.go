package exec

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/apd/v3"
	"github.com/picogo/picogo/core/sql/parse"
	"github.com/picogo/picogo/core/tuple"
)

// The statements in testdata/*.sql run against the tables of scriptCatalog;
// each is followed by `----` and what it gives: its columns (name type)
// and one line a row, or `error <code>: <message>`. Blocks are separated by
// blank lines; `--` lines are comments. `go test -rewrite` writes the
// answers in (then read the diff).

var rewrite = flag.Bool("rewrite", false, "write the answers of testdata/*.sql")

// scriptCatalog: t is a sharded-looking table (hidden bucket_id), g a
// small lookup table, e an empty one.
func scriptCatalog() Tables {
	d := func(s string) *apd.Decimal { x, _, _ := apd.NewFromString(s); return x }
	t := &Table{Name: "t", Columns: []Column{{Name: "id", Type: tuple.TypeInteger}, {Name: "k", Type: tuple.TypeInteger, Nullable: true},
		{Name: "v", Type: tuple.TypeString, Nullable: true}, {Name: "d", Type: tuple.TypeDouble, Nullable: true},
		{Name: "m", Type: tuple.TypeDecimal, Nullable: true}, {Name: "b", Type: tuple.TypeBoolean, Nullable: true},
		{Name: "bucket_id", Type: tuple.TypeUnsigned, Hidden: true}}, PrimaryKey: []int{0}}
	rows := [][]any{
		{int64(1), int64(10), "apple", 1.5, d("1.10"), true, uint64(3)},
		{int64(2), int64(20), "banana", 2.5, d("2.20"), false, uint64(1)},
		{int64(3), int64(10), "cherry", nil, d("3.30"), nil, uint64(2)},
		{int64(4), nil, "Apple", 4.0, nil, true, uint64(3)},
		{int64(5), int64(30), nil, -1.25, d("-5"), false, uint64(1)},
		{int64(6), int64(20), "date", 0.0, d("0"), true, uint64(2)},
	}
	t.Scan = func(yield func([]any) bool) *tuple.Error {
		for _, r := range rows {
			if !yield(r) {
				break
			}
		}
		return nil
	}
	t.Get = func(key []any) ([]any, bool, *tuple.Error) {
		for _, r := range rows {
			if tuple.Compare(r[0], key[0]) == 0 {
				return r, true, nil
			}
		}
		return nil, false, nil
	}
	g := RowsTable("g", []Column{{Name: "k", Type: tuple.TypeInteger}, {Name: "name", Type: tuple.TypeString, Nullable: true}},
		[][]any{{int64(10), "ten"}, {int64(20), "twenty"}, {int64(40), "forty"}})
	e := RowsTable("e", []Column{{Name: "x", Type: tuple.TypeInteger, Nullable: true}}, nil)
	return Tables{"t": t, "g": g, "e": e}
}

// format prints a value for a script: NULL, 'strings', numbers as Go
// prints them (decimals as text), the rest by %v.
func format(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return "'" + x + "'"
	case *apd.Decimal:
		return x.String()
	}
	return fmt.Sprint(v)
}

func runStatement(src string) string {
	stmt, err := parse.ParseOne(src)
	if err != nil {
		return "error: " + err.Error()
	}
	env := Env{Params: []any{int64(10), "apple"}, Now: tuple.Datetime{Epoch: 1767225600}}
	var b strings.Builder
	switch x := stmt.(type) {
	case *parse.Query:
		res, terr := Query(scriptCatalog(), x, env)
		if terr != nil {
			return fmt.Sprintf("error %d: %s", terr.Code, terr.Message)
		}
		var cols []string
		for _, c := range res.Columns {
			cols = append(cols, c.Name+" "+string(c.Type))
		}
		b.WriteString(strings.Join(cols, ", "))
		for _, r := range res.Rows {
			vals := make([]string, len(r))
			for i, v := range r {
				vals[i] = format(v)
			}
			b.WriteString("\n" + strings.Join(vals, " | "))
		}
	case *parse.Update:
		_, old, updated, terr := Update(scriptCatalog(), x, env)
		if terr != nil {
			return fmt.Sprintf("error %d: %s", terr.Code, terr.Message)
		}
		for i := range old {
			if i > 0 {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "%s -> %s", formatRow(old[i]), formatRow(updated[i]))
		}
		if len(old) == 0 {
			b.WriteString("no rows")
		}
	case *parse.Delete:
		_, rows, terr := Matching(scriptCatalog(), x.Table, x.Where, env)
		if terr != nil {
			return fmt.Sprintf("error %d: %s", terr.Code, terr.Message)
		}
		for i, r := range rows {
			if i > 0 {
				b.WriteString("\n")
			}
			b.WriteString("delete " + formatRow(r))
		}
		if len(rows) == 0 {
			b.WriteString("no rows")
		}
	case *parse.Insert:
		src, terr := Query(scriptCatalog(), x.Source, env)
		if terr == nil {
			tab, _ := scriptCatalog().Table(x.Table)
			var rows [][]any
			if rows, terr = InsertRows(tab, x.Columns, src.Rows); terr == nil {
				for i, r := range rows {
					if i > 0 {
						b.WriteString("\n")
					}
					b.WriteString("insert " + formatRow(r))
				}
			}
		}
		if terr != nil {
			return fmt.Sprintf("error %d: %s", terr.Code, terr.Message)
		}
	default:
		return fmt.Sprintf("error: %T does not run here", stmt)
	}
	return b.String()
}

func formatRow(r []any) string {
	vals := make([]string, len(r))
	for i, v := range r {
		vals[i] = format(v)
	}
	return "(" + strings.Join(vals, ", ") + ")"
}

func TestScripts(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.sql")
	if len(files) == 0 {
		t.Fatal("no testdata/*.sql")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			blocks := strings.Split(strings.TrimSpace(string(data)), "\n\n")
			for i, block := range blocks {
				var comments, stmt []string
				lines := strings.Split(block, "\n")
				j := 0
				for ; j < len(lines) && strings.HasPrefix(lines[j], "--") && lines[j] != "----"; j++ {
					comments = append(comments, lines[j])
				}
				for ; j < len(lines) && lines[j] != "----"; j++ {
					stmt = append(stmt, lines[j])
				}
				want := ""
				if j < len(lines) {
					want = strings.Join(lines[j+1:], "\n")
				}
				got := runStatement(strings.Join(stmt, "\n"))
				if !*rewrite && got != want {
					t.Errorf("%s block %d:\n%s\n--- got:\n%s\n--- want:\n%s", file, i+1, strings.Join(stmt, "\n"), got, want)
				}
				if i > 0 {
					out.WriteString("\n\n")
				}
				for _, c := range comments {
					out.WriteString(c + "\n")
				}
				out.WriteString(strings.Join(stmt, "\n") + "\n----\n" + got)
			}
			if *rewrite {
				if err := os.WriteFile(file, []byte(out.String()+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// Package sqlgen makes random schemas, rows and queries for the SQL
// oracles (core/sql/oracles and core/sql/plan's distributed test): SQLancer's
// ternary logic partitioning and NoREC, the differential test against
// SQLite, and the distributed-versus-local property.
//
// Everything comes from the *rand.Rand the caller passes: the same seed
// gives the same schema, rows and queries. Queries are SQL text in the
// subset of Picodata's dialect that SQLite reads the same way when
// Options.SQLite is set (no division by a column, no `::`, LIKE patterns
// without letters whose case could matter, ...), and the wider dialect
// otherwise. A query may still fail to bind (say, MIN over a boolean in a
// dialect that refuses it); the oracles only ask both sides to agree.
package sqlgen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/picogo/picogo/core/sql/exec"
	"github.com/picogo/picogo/core/sql/value"
	"github.com/picogo/picogo/core/tuple"
)

// Type is a generated column's type.
type Type int

const (
	Int Type = iota
	Double
	Text
	Bool
)

func (t Type) String() string { return [...]string{"INTEGER", "DOUBLE", "TEXT", "BOOLEAN"}[t] }

// Field is the storage type of t.
func (t Type) Field() tuple.FieldType {
	return [...]tuple.FieldType{tuple.TypeInteger, tuple.TypeDouble, tuple.TypeString, tuple.TypeBoolean}[t]
}

// Column of a generated table; the first, id, is the primary key.
type Column struct {
	Name string
	Type Type
}

// Table is a generated table with its rows (int64, float64, string, bool
// or nil), in primary key order.
type Table struct {
	Name string
	Cols []Column
	Rows [][]any
}

// Schema is the generated tables.
type Schema struct {
	Tables []*Table
}

// Options shape what is generated.
type Options struct {
	// SQLite keeps to what SQLite and picogo agree on.
	SQLite bool
	// MaxRows bounds each table's rows (default 30).
	MaxRows int
	// Edges puts now and then an edge among the values: the int64
	// bounds, 2^53+1, 2^62, the doubles 2^53 and ±2^63. Arithmetic on them
	// overflows (an error in picogo, or an unsigned integer up to 2^64 as
	// in Tarantool; SQLite turns to doubles) and sums of doubles that
	// cancel out depend on the order of adding (SQLite's are compensated):
	// for the oracles that compare exec with itself row by row.
	Edges bool
}

var texts = []string{"a", "b", "ab", "ba", "B", "", "a_b", "x%", "abc", "Z"}

// sqliteTexts have no letter whose case could matter to SQLite's LIKE:
// lower case only (patterns are lower case too).
var sqliteTexts = []string{"a", "b", "ab", "ba", "", "a_b", "x%", "abc", "z", "bb"}

// NewSchema makes two or three tables t0, t1[, t2] of 2 to 5 columns
// f0, f1, ... besides id, with 0 to MaxRows rows, NULLs in every column but id.
func NewSchema(r *rand.Rand, o Options) *Schema {
	if o.MaxRows == 0 {
		o.MaxRows = 30
	}
	s := &Schema{}
	for ti := range 2 + r.IntN(2) {
		t := &Table{Name: fmt.Sprintf("t%d", ti), Cols: []Column{{"id", Int}}}
		for ci := range 2 + r.IntN(4) {
			// k<n>: the names the planner gives a fragment's GROUP BY keys
			// (a fragment groups by expressions, so they must not collide).
			t.Cols = append(t.Cols, Column{fmt.Sprintf("k%d", ci), Type(r.IntN(4))})
		}
		// Make sure every table has an integer and a text column, for
		// joins and LIKE.
		t.Cols[1].Type = Int
		if len(t.Cols) > 2 {
			t.Cols[2].Type = Text
		}
		n := r.IntN(o.MaxRows + 1)
		if r.IntN(10) == 0 {
			n = 0
		}
		id := int64(r.IntN(5)) - 2
		for range n {
			row := []any{id}
			id += 1 + int64(r.IntN(3))
			for _, c := range t.Cols[1:] {
				row = append(row, RandomValue(r, c.Type, o))
			}
			t.Rows = append(t.Rows, row)
		}
		s.Tables = append(s.Tables, t)
	}
	return s
}

// RandomValue is a value of type t (NULL one time in five).
func RandomValue(r *rand.Rand, t Type, o Options) any {
	if r.IntN(5) == 0 {
		return nil
	}
	switch t {
	case Int:
		if o.Edges && r.IntN(30) == 0 {
			return []int64{math.MaxInt64, math.MinInt64, 1<<53 + 1, 1 << 62, -(1<<53 + 1)}[r.IntN(5)]
		}
		return int64(r.IntN(13) - 4)
	case Double:
		if o.Edges && r.IntN(40) == 0 {
			return []float64{1 << 53, 1 << 63, -(1 << 63)}[r.IntN(3)]
		}
		return float64(r.IntN(41)-12) / 4
	case Text:
		if o.SQLite {
			return sqliteTexts[r.IntN(len(sqliteTexts))]
		}
		return texts[r.IntN(len(texts))]
	}
	return r.IntN(2) == 0
}

// Columns are t's columns for exec.
func (t *Table) Columns() []exec.Column {
	out := make([]exec.Column, len(t.Cols))
	for i, c := range t.Cols {
		out[i] = exec.Column{Name: c.Name, Type: c.Type.Field(), Nullable: i > 0}
	}
	return out
}

// ExecTable is t as a stored table with point reads by id.
func (t *Table) ExecTable() *exec.Table {
	tab := exec.RowsTable(t.Name, t.Columns(), t.Rows)
	tab.PrimaryKey = []int{0}
	tab.Get = func(key []any) ([]any, bool, *tuple.Error) {
		for _, row := range t.Rows {
			if eq, null, err := value.Equal(row[0], key[0]); err == nil && !null && eq {
				return row, true, nil
			}
		}
		return nil, false, nil
	}
	return tab
}

// Catalog is every table, for exec.
func (s *Schema) Catalog() exec.Tables {
	out := exec.Tables{}
	for _, t := range s.Tables {
		out[t.Name] = t.ExecTable()
	}
	return out
}

// ScanCatalog is every table without point reads: the unoptimized path.
func (s *Schema) ScanCatalog() exec.Tables {
	out := exec.Tables{}
	for _, t := range s.Tables {
		out[t.Name] = exec.RowsTable(t.Name, t.Columns(), t.Rows)
	}
	return out
}

// SQLiteDDL is the schema and its rows as SQLite statements.
func (s *Schema) SQLiteDDL() []string {
	var out []string
	for _, t := range s.Tables {
		var cols []string
		for i, c := range t.Cols {
			typ := map[Type]string{Int: "INTEGER", Double: "REAL", Text: "TEXT", Bool: "BOOLEAN"}[c.Type]
			if i == 0 {
				typ += " PRIMARY KEY"
			}
			cols = append(cols, c.Name+" "+typ)
		}
		out = append(out, fmt.Sprintf("CREATE TABLE %s (%s)", t.Name, strings.Join(cols, ", ")))
		for _, row := range t.Rows {
			vals := make([]string, len(row))
			for i, v := range row {
				vals[i] = Literal(v)
			}
			out = append(out, fmt.Sprintf("INSERT INTO %s VALUES (%s)", t.Name, strings.Join(vals, ", ")))
		}
	}
	return out
}

// Literal is v as an SQL literal both dialects read as the same value
// (doubles with an exponent, so that picogo reads a double, not a
// decimal).
func Literal(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case int64:
		return fmt.Sprint(x)
	case float64:
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, "eE") {
			s += "e0"
		}
		return s
	case string:
		return "'" + strings.ReplaceAll(x, "'", "''") + "'"
	case bool:
		if x {
			return "TRUE"
		}
		return "FALSE"
	}
	panic(fmt.Sprintf("sqlgen: no literal for %T", v))
}

package exec

import (
	"github.com/picogo/picogo/core/tuple"
)

// Column is one column of a table or of a result.
type Column struct {
	Name     string
	Type     tuple.FieldType
	Nullable bool
	// Hidden columns (a sharded table's bucket_id) are left out of `*`
	// but can be named.
	Hidden bool
}

// Table is what a statement can read: a stored table or a virtual one
// (rows a distributed plan gathered).
type Table struct {
	Name    string
	Columns []Column
	// PrimaryKey are the positions of the primary key's columns; with Get,
	// a filter fixing all of them reads one row instead of scanning.
	PrimaryKey []int
	// Scan calls yield with every row in primary key order until it
	// returns false. The executor never changes a row it is given, and
	// may keep it: a row must stay as it is (the engine's tuples do).
	Scan func(yield func(row []any) bool) *tuple.Error
	// Get reads the row with primary key key (values in PrimaryKey
	// order); nil for a table without point reads.
	Get func(key []any) (row []any, ok bool, err *tuple.Error)
}

// Catalog resolves table names.
type Catalog interface {
	// Table is the table named name (already case-folded by the parser).
	Table(name string) (*Table, bool)
}

// Tables is a Catalog over a fixed set of tables, by name.
type Tables map[string]*Table

// Table implements Catalog.
func (t Tables) Table(name string) (*Table, bool) { x, ok := t[name]; return x, ok }

// Overlay is a Catalog that looks in Over first, then in Under: a
// distributed plan's virtual tables shadowing the stored ones.
type Overlay struct {
	Over  Catalog
	Under Catalog
}

// Table implements Catalog.
func (o Overlay) Table(name string) (*Table, bool) {
	if t, ok := o.Over.Table(name); ok {
		return t, true
	}
	return o.Under.Table(name)
}

// Result is what a query gives: its columns and rows.
type Result struct {
	Columns []Column
	Rows    [][]any
}

// RowsTable is a virtual table over rows already in memory, with cols as
// its columns and no primary key.
func RowsTable(name string, cols []Column, rows [][]any) *Table {
	return &Table{Name: name, Columns: cols, Scan: func(yield func([]any) bool) *tuple.Error {
		for _, r := range rows {
			if !yield(r) {
				break
			}
		}
		return nil
	}}
}

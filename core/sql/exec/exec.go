package exec

import (
	"math"
	"slices"
	"strings"

	"github.com/picogo/picogo/core/sql/parse"
	"github.com/picogo/picogo/core/sql/value"
	"github.com/picogo/picogo/core/tuple"
)

// Env is what a statement runs with: its parameters ($1 is Params[0]) and
// the time NOW() reads (the caller's clock: the node's, never the wall).
type Env struct {
	Params []any
	Now    tuple.Datetime
}

// runner is one execution of a compiled statement.
type runner struct {
	env        Env
	subqueries map[*subquery][][]any
}

func (r *runner) valueEnv() value.Env { return value.Env{Now: r.env.Now} }

func (e Env) frame() *frame {
	return &frame{run: &runner{env: e, subqueries: map[*subquery][][]any{}}}
}

func newCompiler(cat Catalog, env Env) *compiler {
	return &compiler{cat: cat, params: env.Params, minLevel: math.MaxInt}
}

// Query runs a query (SELECT, VALUES, a set operation) and returns its
// columns and rows.
func Query(cat Catalog, q *parse.Query, env Env) (*Result, *tuple.Error) {
	c := newCompiler(cat, env)
	rel, err := c.query(&scope{}, q)
	if err != nil {
		return nil, err
	}
	rows, err := rel.rows(env.frame())
	if err != nil {
		return nil, err
	}
	return &Result{Columns: columnsOf(rel.cols), Rows: rows}, nil
}

// Columns are the columns a query would return, without running it.
func Columns(cat Catalog, q *parse.Query, env Env) ([]Column, *tuple.Error) {
	rel, err := newCompiler(cat, env).query(&scope{}, q)
	if err != nil {
		return nil, err
	}
	return columnsOf(rel.cols), nil
}

func columnsOf(cols []scopeCol) []Column {
	out := make([]Column, len(cols))
	for i, c := range cols {
		out[i] = Column{Name: c.name, Type: c.typ, Nullable: true}
	}
	return out
}

// Matching returns the rows of the stored table name (every column, hidden
// ones too, in its order) for which where (nil: every row) is true.
func Matching(cat Catalog, name string, where parse.Expr, env Env) (*Table, [][]any, *tuple.Error) {
	tab, ok := cat.Table(name)
	if !ok {
		return nil, nil, tuple.Errorf(tuple.CodeSQLUnknownTable, "table %q does not exist", name)
	}
	sel := &parse.Select{From: &parse.TableRef{Name: name}, Where: where}
	for _, col := range tab.Columns {
		sel.Items = append(sel.Items, &parse.SelectItem{Expr: &parse.ColumnRef{Column: col.Name}})
	}
	res, err := Query(cat, &parse.Query{Body: sel}, env)
	if err != nil {
		return nil, nil, err
	}
	return tab, res.Rows, nil
}

// Update computes an UPDATE on the rows of its table that this catalog
// holds: for each row WHERE selects, the row before and after. New values
// are converted to their column's type as an INSERT's are.
func Update(cat Catalog, u *parse.Update, env Env) (tab *Table, old, updated [][]any, err *tuple.Error) {
	tab, ok := cat.Table(u.Table)
	if !ok {
		return nil, nil, nil, errAt(u, tuple.CodeSQLUnknownTable, "table %q does not exist", u.Table)
	}
	c := newCompiler(cat, env)
	root := &scope{}
	cols := make([]scopeCol, len(tab.Columns))
	for i, col := range tab.Columns {
		cols[i] = scopeCol{qual: u.Table, name: col.Name, typ: col.Type, hidden: col.Hidden}
	}
	fs := c.child(root, cols)
	type set struct {
		pos int
		e   cexpr
	}
	var sets []set
	for _, a := range u.Set {
		pos := slices.IndexFunc(tab.Columns, func(col Column) bool { return col.Name == a.Column })
		if pos < 0 {
			return nil, nil, nil, errAt(a, tuple.CodeSQLUnknownColumn, "column %q of table %q does not exist", a.Column, u.Table)
		}
		if tab.Columns[pos].Hidden {
			return nil, nil, nil, errAt(a, tuple.CodeSQLTypeMismatch, "column %q is the system's: it cannot be set", a.Column)
		}
		for _, s := range sets {
			if s.pos == pos {
				return nil, nil, nil, errAt(a, tuple.CodeSQLSyntax, "column %q is set twice", a.Column)
			}
		}
		if containsAggregate(a.Value) {
			return nil, nil, nil, errAt(a.Value, tuple.CodeSQLSyntax, "aggregate functions are not allowed in UPDATE")
		}
		e, err := c.expr(fs, a.Value)
		if err != nil {
			return nil, nil, nil, err
		}
		sets = append(sets, set{pos, e})
	}
	_, rows, err := Matching(cat, u.Table, u.Where, env)
	if err != nil {
		return nil, nil, nil, err
	}
	f := env.frame()
	fr := &frame{up: f, run: f.run}
	for _, row := range rows {
		fr.row = row
		nrow := slices.Clone(row)
		for _, s := range sets {
			v, err := s.e.eval(fr)
			if err != nil {
				return nil, nil, nil, err
			}
			if nrow[s.pos], err = Assign(tab.Columns[s.pos], v); err != nil {
				return nil, nil, nil, err
			}
		}
		old = append(old, row)
		updated = append(updated, nrow)
	}
	return tab, old, updated, nil
}

// Assign converts v to what column col stores: NULL only if nullable; a
// value of the column's type as is; a number into a number column of
// another kind, a string into a uuid, datetime, number or boolean column,
// by CAST's rules.
func Assign(col Column, v any) (any, *tuple.Error) {
	v = value.Normalize(v)
	if v == nil {
		if !col.Nullable {
			return nil, tuple.Errorf(tuple.CodeSQLNotNull, "NULL value in column %q violates its NOT NULL constraint", col.Name)
		}
		return nil, nil
	}
	from := value.TypeOf(v)
	numeric := func(t tuple.FieldType) bool {
		switch t {
		case tuple.TypeInteger, tuple.TypeUnsigned, tuple.TypeDouble, tuple.TypeDecimal:
			return true
		}
		return false
	}
	// A number is stored as its column's kind: 7 in a double column is
	// 7.0, 1.5 in an integer column is an error (CAST truncates; an
	// assignment does not).
	if numeric(col.Type) && numeric(from) && from != col.Type && !(from == tuple.TypeInteger && col.Type == tuple.TypeUnsigned) {
		out, err := value.Cast(v, col.Type)
		if err != nil {
			return nil, tuple.Errorf(tuple.CodeSQLTypeMismatch, "column %q is %s: %s", col.Name, col.Type, err.Message)
		}
		if back, err := value.Cast(out, from); err != nil || value.Key([]any{back}) != value.Key([]any{v}) {
			return nil, tuple.Errorf(tuple.CodeSQLTypeMismatch, "column %q is %s: %s does not fit", col.Name, col.Type, value.Describe(v))
		}
		return out, nil
	}
	if col.Type.Matches(v) {
		return v, nil
	}
	if from == tuple.TypeString && castsFromString(col.Type) {
		out, err := value.FromText(v.(string), col.Type)
		if err != nil {
			return nil, tuple.Errorf(tuple.CodeSQLTypeMismatch, "column %q is %s: %s", col.Name, col.Type, err.Message)
		}
		return out, nil
	}
	return nil, tuple.Errorf(tuple.CodeSQLTypeMismatch, "column %q is %s, not %s", col.Name, col.Type, value.Describe(v))
}

// castsFromString: a string assigned to a column of this type is read as
// its value by CAST's rules ('10' into an integer column is 10): as
// PostgreSQL takes a literal, and as its clients send every parameter in
// the simple protocol.
func castsFromString(t tuple.FieldType) bool {
	switch t {
	case tuple.TypeUUID, tuple.TypeDatetime, tuple.TypeInteger, tuple.TypeUnsigned, tuple.TypeDouble,
		tuple.TypeDecimal, tuple.TypeNumber, tuple.TypeBoolean, tuple.TypeVarbinary:
		return true
	}
	return false
}

// InsertRows makes a table's rows from an INSERT's source rows: columns
// names where each source value goes (nil: every visible column, in
// order); columns not named are NULL (hidden ones too: the router fills
// bucket_id). Values are converted by Assign.
func InsertRows(tab *Table, columns []string, src [][]any) ([][]any, *tuple.Error) {
	var pos []int
	if columns == nil {
		for i, c := range tab.Columns {
			if !c.Hidden {
				pos = append(pos, i)
			}
		}
	} else {
		for _, name := range columns {
			p := slices.IndexFunc(tab.Columns, func(c Column) bool { return c.Name == name })
			switch {
			case p < 0:
				return nil, tuple.Errorf(tuple.CodeSQLUnknownColumn, "column %q of table %q does not exist", name, tab.Name)
			case tab.Columns[p].Hidden:
				return nil, tuple.Errorf(tuple.CodeSQLTypeMismatch, "column %q is the system's: it cannot be inserted", name)
			case slices.Contains(pos, p):
				return nil, tuple.Errorf(tuple.CodeSQLSyntax, "column %q is named twice", name)
			}
			pos = append(pos, p)
		}
	}
	out := make([][]any, len(src))
	for i, row := range src {
		if len(row) != len(pos) {
			return nil, tuple.Errorf(tuple.CodeSQLTypeMismatch, "INSERT into %s has %d columns, row %d has %d values", tab.Name, len(pos), i+1, len(row))
		}
		full := make([]any, len(tab.Columns))
		for j, p := range pos {
			v, err := Assign(tab.Columns[p], row[j])
			if err != nil {
				return nil, err
			}
			full[p] = v
		}
		for p, c := range tab.Columns {
			if full[p] == nil && !c.Nullable && !c.Hidden {
				return nil, tuple.Errorf(tuple.CodeSQLNotNull, "NULL value in column %q violates its NOT NULL constraint", c.Name)
			}
		}
		out[i] = full
	}
	return out, nil
}

// Constant evaluates e if it reads no column and no table (a literal, a
// parameter, arithmetic or functions of them); ok false otherwise or when
// it fails.
func Constant(e parse.Expr, env Env) (any, bool) {
	if hasColumnOrQuery(e) {
		return nil, false
	}
	c := newCompiler(Tables{}, env)
	ce, err := c.expr(&scope{}, e)
	if err != nil {
		return nil, false
	}
	v, err := ce.eval(env.frame())
	if err != nil {
		return nil, false
	}
	return v, true
}

func hasColumnOrQuery(e parse.Expr) bool {
	found := false
	walk(e, func(x parse.Expr) {
		switch y := x.(type) {
		case *parse.ColumnRef, *parse.Subquery, *parse.Exists, *parse.Star:
			found = true
		case *parse.In:
			found = found || y.Query != nil
		case *parse.FuncCall:
			found = found || value.IsAggregate(strings.ToLower(y.Name))
		}
	})
	return found
}

// NameOf is the name of the output column projection e at position pos
// (0-based) has without an alias.
func NameOf(e parse.Expr, pos int) string { return nameOf(e, pos) }

package exec

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/picogo/picogo/core/sql/parse"
	"github.com/picogo/picogo/core/sql/value"
	"github.com/picogo/picogo/core/tuple"
)

// relation is a compiled query or FROM item: its columns and how to make
// its rows given the enclosing frame (nil at the top).
type relation struct {
	cols []scopeCol
	rows func(f *frame) ([][]any, *tuple.Error)
	// each, when set, hands the rows to yield one by one without
	// gathering them (a stored table's scan): what a filter or an
	// aggregate over the table reads.
	each func(f *frame, yield func([]any) bool) *tuple.Error
}

// iter calls yield with each row of r until it returns false.
func (r *relation) iter(f *frame, yield func([]any) bool) *tuple.Error {
	if r.each != nil {
		return r.each(f, yield)
	}
	rows, err := r.rows(f)
	if err != nil {
		return err
	}
	for _, row := range rows {
		if !yield(row) {
			break
		}
	}
	return nil
}

// compiler compiles one statement against a catalog.
type compiler struct {
	cat    Catalog
	params []any
	// ctes are the WITH queries in sight, innermost last.
	ctes []map[string]*cte
	// minLevel is the outermost query level a name resolved at since the
	// innermost subquery began compiling.
	minLevel int
	// inferred are the parameters' types when describing a statement
	// (Describe), nil otherwise.
	inferred []tuple.FieldType
}

// cte finds a WITH query in sight by name.
func (c *compiler) cte(name string) (*cte, bool) {
	for i := len(c.ctes) - 1; i >= 0; i-- {
		if t, ok := c.ctes[i][name]; ok {
			return t, true
		}
	}
	return nil, false
}

// subquery is a query used in an expression; an uncorrelated one runs
// once per execution (its rows are kept in the runner).
type subquery struct {
	rel   *relation
	outer bool
}

func (sq *subquery) rows(f *frame) ([][]any, *tuple.Error) {
	if sq.outer {
		return sq.rel.rows(f)
	}
	if rows, ok := f.run.subqueries[sq]; ok {
		return rows, nil
	}
	rows, err := sq.rel.rows(f)
	if err != nil {
		return nil, err
	}
	f.run.subqueries[sq] = rows
	return rows, nil
}

// subquery compiles q inside scope s. It is correlated when a name in it
// resolves at s's level or above.
func (c *compiler) subquery(s *scope, q *parse.Query) (*subquery, *tuple.Error) {
	saved := c.minLevel
	c.minLevel = math.MaxInt
	rel, err := c.query(s, q)
	outer := c.minLevel <= s.level
	c.minLevel = min(saved, c.minLevel)
	if err != nil {
		return nil, err
	}
	return &subquery{rel: rel, outer: outer}, nil
}

// query compiles a whole query: WITH, the body, ORDER BY, LIMIT, OFFSET.
// s is the scope the query sits in (its enclosing query's, for correlated
// references); its own names live in a child scope.
func (c *compiler) query(s *scope, q *parse.Query) (*relation, *tuple.Error) {
	if len(q.With) > 0 {
		ctes := map[string]*cte{}
		c.ctes = append(c.ctes, ctes)
		defer func() { c.ctes = c.ctes[:len(c.ctes)-1] }()
		for _, w := range q.With {
			rel, err := c.query(s, w.Query)
			if err != nil {
				return nil, err
			}
			if len(w.Columns) > 0 {
				if len(w.Columns) != len(rel.cols) {
					return nil, errAt(w, tuple.CodeSQLTypeMismatch, "WITH %s names %d columns, its query has %d", w.Name, len(w.Columns), len(rel.cols))
				}
				cols := slices.Clone(rel.cols)
				for i := range cols {
					cols[i].name = w.Columns[i]
				}
				rel = &relation{cols: cols, rows: rel.rows}
			}
			if _, dup := ctes[w.Name]; dup {
				return nil, errAt(w, tuple.CodeSQLSyntax, "WITH query name %q specified more than once", w.Name)
			}
			ctes[w.Name] = &cte{name: w.Name, rel: rel}
		}
	}
	var body *relation
	var sortKeys []sortKey
	var err *tuple.Error
	if sel, ok := q.Body.(*parse.Select); ok {
		body, sortKeys, err = c.selectWithOrder(s, sel, q.OrderBy)
	} else {
		body, err = c.setExpr(s, q.Body)
		if err == nil {
			sortKeys, err = outputOrder(body.cols, q.OrderBy)
		}
	}
	if err != nil {
		return nil, err
	}
	limit, err := c.bound(s, q.Limit, "LIMIT")
	if err != nil {
		return nil, err
	}
	offset, err := c.bound(s, q.Offset, "OFFSET")
	if err != nil {
		return nil, err
	}
	width := len(body.cols)
	if len(sortKeys) == 0 && limit == nil && offset == nil {
		return body, nil
	}
	return &relation{cols: body.cols, rows: func(f *frame) ([][]any, *tuple.Error) {
		rows, err := body.rows(f)
		if err != nil {
			return nil, err
		}
		if len(sortKeys) > 0 {
			if err := sortRows(rows, sortKeys); err != nil {
				return nil, err
			}
		}
		off, lim := int64(0), int64(-1)
		if offset != nil {
			if off, err = offset(f); err != nil {
				return nil, err
			}
		}
		if limit != nil {
			if lim, err = limit(f); err != nil {
				return nil, err
			}
		}
		rows = rows[min(int64(len(rows)), off):]
		if lim >= 0 && lim < int64(len(rows)) {
			rows = rows[:lim]
		}
		for i, r := range rows { // drop the hidden sort columns
			rows[i] = r[:width]
		}
		return rows, nil
	}}, nil
}

// bound compiles a LIMIT or OFFSET: a non-negative integer (NULL: none).
func (c *compiler) bound(s *scope, e parse.Expr, what string) (func(f *frame) (int64, *tuple.Error), *tuple.Error) {
	if e == nil {
		return nil, nil
	}
	ce, err := c.expr(s, e)
	if err != nil {
		return nil, err
	}
	if p, ok := e.(*parse.Param); ok {
		c.infer(p, tuple.TypeInteger)
	}
	return func(f *frame) (int64, *tuple.Error) {
		v, err := ce.eval(f)
		if err != nil {
			return 0, err
		}
		if v == nil {
			return -1, nil
		}
		n, ok := tuple.AsInt64(v)
		if !ok || n < 0 {
			return 0, errAt(e, tuple.CodeSQLTypeMismatch, "%s must be a non-negative integer, not %v", what, v)
		}
		if what == "OFFSET" && n < 0 {
			n = 0
		}
		return n, nil
	}, nil
}

// sortKey is one ORDER BY key: a position in the rows being sorted.
type sortKey struct {
	col  int
	desc bool
}

// sortRows sorts stably by keys; NULLs sort first ascending (Tarantool's
// order: NULL is the least value), last descending.
func sortRows(rows [][]any, keys []sortKey) *tuple.Error {
	var failed *tuple.Error
	slices.SortStableFunc(rows, func(a, b []any) int {
		for _, k := range keys {
			c := orderCompare(a[k.col], b[k.col], &failed)
			if c != 0 {
				if k.desc {
					return -c
				}
				return c
			}
		}
		return 0
	})
	return failed
}

// orderCompare orders two values for ORDER BY: NULL first, then as SQL
// compares them; values SQL cannot compare are an error.
func orderCompare(a, b any, failed **tuple.Error) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	c, _, err := value.Compare(a, b)
	if err != nil && *failed == nil {
		*failed = err
	}
	return c
}

// outputOrder resolves ORDER BY against a set operation's or VALUES'
// output: a column position or an output column's name.
func outputOrder(cols []scopeCol, items []*parse.OrderItem) ([]sortKey, *tuple.Error) {
	var keys []sortKey
	for _, it := range items {
		i, ok, err := outputColumn(cols, it.Expr)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errAt(it, tuple.CodeSQLUnknownColumn, "ORDER BY of a set operation or VALUES must name an output column or its position: %s", it.Expr)
		}
		keys = append(keys, sortKey{col: i, desc: it.Desc})
	}
	return keys, nil
}

// outputColumn resolves an ORDER BY or GROUP BY item that is a position
// (1-based) or an unqualified output column name.
func outputColumn(cols []scopeCol, e parse.Expr) (int, bool, *tuple.Error) {
	switch x := e.(type) {
	case *parse.Number:
		if x.Kind != parse.Integer {
			return 0, false, nil
		}
		n, err := number(x)
		if err != nil {
			return 0, false, err
		}
		i, _ := tuple.AsInt64(n)
		if i < 1 || i > int64(len(cols)) {
			return 0, false, errAt(x, tuple.CodeSQLUnknownColumn, "position %d is not in the select list (1..%d)", i, len(cols))
		}
		return int(i - 1), true, nil
	case *parse.ColumnRef:
		if x.Table != "" {
			return 0, false, nil
		}
		found := -1
		for i, c := range cols {
			if c.name == x.Column {
				if found >= 0 {
					return 0, false, errAt(x, tuple.CodeSQLAmbiguousColumn, "ORDER BY %q is ambiguous", x.Column)
				}
				found = i
			}
		}
		return found, found >= 0, nil
	}
	return 0, false, nil
}

// setExpr compiles a query body other than a SELECT with its ORDER BY.
func (c *compiler) setExpr(s *scope, b parse.SetExpr) (*relation, *tuple.Error) {
	switch x := b.(type) {
	case *parse.Select:
		rel, _, err := c.selectWithOrder(s, x, nil)
		return rel, err
	case *parse.ParenQuery:
		return c.query(s, x.Query)
	case *parse.Values:
		return c.values(s, x)
	case *parse.SetOp:
		return c.setOp(s, x)
	}
	return nil, errAt(b, tuple.CodeSQLSyntax, "unsupported query %s", b)
}

func (c *compiler) values(s *scope, x *parse.Values) (*relation, *tuple.Error) {
	rows := make([][]cexpr, len(x.Rows))
	var cols []scopeCol
	for i, r := range x.Rows {
		if i > 0 && len(r) != len(x.Rows[0]) {
			return nil, errAt(x, tuple.CodeSQLTypeMismatch, "VALUES lists must all be the same length: row %d has %d values, the first %d", i+1, len(r), len(x.Rows[0]))
		}
		for j, e := range r {
			ce, err := c.expr(s, e)
			if err != nil {
				return nil, err
			}
			rows[i] = append(rows[i], ce)
			if i == 0 {
				cols = append(cols, scopeCol{name: "column" + strconv.Itoa(j+1), typ: ce.typ})
			} else if cols[j].typ == tuple.TypeAny {
				cols[j].typ = ce.typ
			}
		}
	}
	return &relation{cols: cols, rows: func(f *frame) ([][]any, *tuple.Error) {
		out := make([][]any, len(rows))
		for i, r := range rows {
			row := make([]any, len(r))
			for j, e := range r {
				v, err := e.eval(f)
				if err != nil {
					return nil, err
				}
				row[j] = v
			}
			out[i] = row
		}
		return out, nil
	}}, nil
}

func (c *compiler) setOp(s *scope, x *parse.SetOp) (*relation, *tuple.Error) {
	l, err := c.setExpr(s, x.Left)
	if err != nil {
		return nil, err
	}
	r, err := c.setExpr(s, x.Right)
	if err != nil {
		return nil, err
	}
	if len(l.cols) != len(r.cols) {
		return nil, errAt(x, tuple.CodeSQLTypeMismatch, "each %s query must have the same number of columns: %d and %d", x.Op, len(l.cols), len(r.cols))
	}
	cols := slices.Clone(l.cols)
	for i := range cols {
		cols[i].qual = ""
		if cols[i].typ == tuple.TypeAny {
			cols[i].typ = r.cols[i].typ
		}
	}
	op, all := strings.ToUpper(x.Op), x.All
	return &relation{cols: cols, rows: func(f *frame) ([][]any, *tuple.Error) {
		a, err := l.rows(f)
		if err != nil {
			return nil, err
		}
		b, err := r.rows(f)
		if err != nil {
			return nil, err
		}
		if op == "UNION" {
			out := append(a, b...)
			if all {
				return out, nil
			}
			return distinct(out), nil
		}
		seen := map[string]bool{}
		for _, row := range b {
			seen[value.Key(row)] = true
		}
		var out [][]any
		for _, row := range distinct(a) {
			if !seen[value.Key(row)] {
				out = append(out, row)
			}
		}
		return out, nil
	}}, nil
}

// distinct keeps the first of each set of equal rows, in order.
func distinct(rows [][]any) [][]any {
	seen := map[string]bool{}
	out := rows[:0:0]
	for _, r := range rows {
		k := value.Key(r)
		if !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	return out
}

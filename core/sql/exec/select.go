package exec

import (
	"strings"

	"github.com/picogo/picogo/core/sql/parse"
	"github.com/picogo/picogo/core/sql/value"
	"github.com/picogo/picogo/core/tuple"
)

// selectWithOrder compiles a SELECT and the ORDER BY of the query it is the
// body of. ORDER BY may name output columns (by name or position) or any
// expression over the FROM columns (over the groups, when grouping): those
// are computed as hidden columns after the output ones, and sortKeys say
// where to look.
func (c *compiler) selectWithOrder(s *scope, sel *parse.Select, order []*parse.OrderItem) (*relation, []sortKey, *tuple.Error) {
	src, err := c.from(s, sel.From)
	if err != nil {
		return nil, nil, err
	}
	fs := c.child(s, src.cols)
	var where *cexpr
	if sel.Where != nil {
		if containsAggregate(sel.Where) {
			return nil, nil, errAt(sel.Where, tuple.CodeSQLSyntax, "aggregate functions are not allowed in WHERE")
		}
		w, err := c.expr(fs, sel.Where)
		if err != nil {
			return nil, nil, err
		}
		where = &w
		if get, ok, err := c.pointGet(fs, sel.From, sel.Where, src.rows); err != nil {
			return nil, nil, err
		} else if ok {
			src = &relation{cols: src.cols, rows: get}
		}
	}
	grouped := len(sel.GroupBy) > 0 || sel.Having != nil
	for _, it := range sel.Items {
		grouped = grouped || containsAggregate(it.Expr)
	}
	for _, it := range order {
		grouped = grouped || containsAggregate(it.Expr)
	}

	// The scope the projection, HAVING and ORDER BY are compiled in: the
	// FROM columns, or the groups.
	is := fs
	var agg *aggCtx
	if grouped {
		agg = &aggCtx{src: fs, base: len(src.cols)}
		for _, g := range sel.GroupBy {
			if err := c.groupKey(agg, sel, g); err != nil {
				return nil, nil, err
			}
		}
		is = &scope{cols: fs.cols, up: s, level: fs.level, agg: agg}
	}
	var items []cexpr
	var cols []scopeCol
	for i, it := range sel.Items {
		if st, ok := it.Expr.(*parse.Star); ok {
			n := 0
			for j, col := range src.cols {
				if col.hidden || (st.Table != "" && col.qual != st.Table) {
					continue
				}
				ref := &parse.ColumnRef{Pos: st.Pos, Table: col.qual, Column: col.name}
				var e cexpr
				if grouped {
					if e, err = c.expr(is, ref); err != nil {
						return nil, nil, err
					}
				} else {
					jj := j
					e = cexpr{eval: func(f *frame) (any, *tuple.Error) { return f.row[jj], nil }, typ: col.typ}
				}
				items = append(items, e)
				cols = append(cols, scopeCol{name: col.name, typ: col.typ})
				n++
			}
			if n == 0 && st.Table != "" {
				return nil, nil, errAt(st, tuple.CodeSQLUnknownColumn, "missing FROM-clause entry for table %q", st.Table)
			}
			continue
		}
		e, err := c.expr(is, it.Expr)
		if err != nil {
			return nil, nil, err
		}
		name := it.Alias
		if name == "" {
			name = nameOf(it.Expr, i)
		}
		items = append(items, e)
		cols = append(cols, scopeCol{name: name, typ: e.typ})
	}
	var having *cexpr
	if sel.Having != nil {
		h, err := c.expr(is, sel.Having)
		if err != nil {
			return nil, nil, err
		}
		having = &h
	}
	var keys []sortKey
	for _, it := range order {
		i, ok, err := outputColumn(cols, it.Expr)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			e, err := c.expr(is, it.Expr)
			if err != nil {
				return nil, nil, err
			}
			i = len(items)
			items = append(items, e)
		}
		keys = append(keys, sortKey{col: i, desc: it.Desc})
	}
	width, dist := len(cols), sel.Distinct
	project := func(f *frame) ([]any, *tuple.Error) {
		out := make([]any, len(items))
		for i, e := range items {
			v, err := e.eval(f)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	finish := func(rows [][]any) [][]any {
		if dist {
			return distinctPrefix(rows, width)
		}
		return rows
	}
	if !grouped {
		return &relation{cols: cols, rows: func(f *frame) ([][]any, *tuple.Error) {
			var out [][]any
			var failed *tuple.Error
			fr := &frame{up: f, run: f.run}
			err := src.iter(f, func(row []any) bool {
				fr.row = row
				if where != nil {
					if ok, err := truth(*where, fr); err != nil || !ok {
						failed = err
						return err == nil
					}
				}
				r, err := project(fr)
				if err != nil {
					failed = err
					return false
				}
				out = append(out, r)
				return true
			})
			if err == nil {
				err = failed
			}
			if err != nil {
				return nil, err
			}
			return finish(out), nil
		}}, keys, nil
	}
	width0 := len(src.cols)
	return &relation{cols: cols, rows: func(f *frame) ([][]any, *tuple.Error) {
		groups, err := agg.run(f, src, where, width0, len(sel.GroupBy) == 0)
		if err != nil {
			return nil, err
		}
		var out [][]any
		fr := &frame{up: f, run: f.run}
		for _, g := range groups {
			fr.row = g
			if having != nil {
				if ok, err := truth(*having, fr); err != nil {
					return nil, err
				} else if !ok {
					continue
				}
			}
			r, err := project(fr)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		return finish(out), nil
	}}, keys, nil
}

// child is the scope of a query level whose rows have cols.
func (c *compiler) child(s *scope, cols []scopeCol) *scope {
	return &scope{cols: cols, up: s, level: s.level + 1}
}

// distinctPrefix keeps the first row of each set of rows equal in their
// first width values.
func distinctPrefix(rows [][]any, width int) [][]any {
	seen := map[string]bool{}
	out := rows[:0:0]
	for _, r := range rows {
		k := value.Key(r[:width])
		if !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	return out
}

// groupKey adds a GROUP BY item: an expression over the FROM columns, or
// a select-list position or alias (as PostgreSQL allows).
func (c *compiler) groupKey(agg *aggCtx, sel *parse.Select, g parse.Expr) *tuple.Error {
	e := g
	if n, ok := g.(*parse.Number); ok && n.Kind == parse.Integer {
		v, err := number(n)
		if err != nil {
			return err
		}
		i, _ := tuple.AsInt64(v)
		if i < 1 || i > int64(len(sel.Items)) {
			return errAt(n, tuple.CodeSQLUnknownColumn, "GROUP BY position %d is not in the select list (1..%d)", i, len(sel.Items))
		}
		e = sel.Items[i-1].Expr
	} else if ref, ok := g.(*parse.ColumnRef); ok && ref.Table == "" && !agg.src.has(ref.Column) {
		for _, it := range sel.Items {
			if it.Alias == ref.Column {
				e = it.Expr
				break
			}
		}
	}
	if containsAggregate(e) {
		return errAt(g, tuple.CodeSQLSyntax, "aggregate functions are not allowed in GROUP BY")
	}
	ce, err := c.expr(agg.src, e)
	if err != nil {
		return err
	}
	agg.keys = append(agg.keys, e)
	agg.keyExprs = append(agg.keyExprs, ce)
	return nil
}

func (s *scope) has(name string) bool {
	for _, c := range s.cols {
		if c.name == name {
			return true
		}
	}
	return false
}

// containsAggregate reports whether e calls an aggregate outside a
// subquery.
func containsAggregate(e parse.Expr) bool {
	found := false
	walk(e, func(x parse.Expr) {
		if fc, ok := x.(*parse.FuncCall); ok && value.IsAggregate(strings.ToLower(fc.Name)) {
			found = true
		}
	})
	return found
}

// walk calls fn on e and each expression within it, not entering
// subqueries.
func walk(e parse.Expr, fn func(parse.Expr)) {
	if e == nil {
		return
	}
	fn(e)
	switch x := e.(type) {
	case *parse.Unary:
		walk(x.X, fn)
	case *parse.Binary:
		walk(x.L, fn)
		walk(x.R, fn)
	case *parse.IsNull:
		walk(x.X, fn)
	case *parse.Between:
		walk(x.X, fn)
		walk(x.Lo, fn)
		walk(x.Hi, fn)
	case *parse.In:
		walk(x.X, fn)
		for _, it := range x.List {
			walk(it, fn)
		}
	case *parse.Like:
		walk(x.X, fn)
		walk(x.Pattern, fn)
		walk(x.Escape, fn)
	case *parse.FuncCall:
		for _, a := range x.Args {
			walk(a, fn)
		}
	case *parse.Cast:
		walk(x.X, fn)
	case *parse.Case:
		walk(x.Operand, fn)
		for _, w := range x.Whens {
			walk(w.Cond, fn)
			walk(w.Result, fn)
		}
		walk(x.Else, fn)
	case *parse.Trim:
		walk(x.Chars, fn)
		walk(x.X, fn)
	case *parse.Substring:
		walk(x.X, fn)
		walk(x.From, fn)
		walk(x.For, fn)
	case *parse.Row:
		for _, it := range x.Items {
			walk(it, fn)
		}
	}
}

// Conjuncts splits e at its top-level ANDs.
func Conjuncts(e parse.Expr) []parse.Expr {
	if b, ok := e.(*parse.Binary); ok && strings.EqualFold(b.Op, "AND") {
		return append(Conjuncts(b.L), Conjuncts(b.R)...)
	}
	if e == nil {
		return nil
	}
	return []parse.Expr{e}
}

package exec

import (
	"github.com/picogo/picogo/core/sql/parse"
	"github.com/picogo/picogo/core/sql/value"
	"github.com/picogo/picogo/core/tuple"
)

// from compiles a FROM item into a relation whose columns carry their
// table's alias (or name) as qualifier. No FROM is one row of no columns.
func (c *compiler) from(s *scope, t parse.TableExpr) (*relation, *tuple.Error) {
	switch x := t.(type) {
	case nil:
		return &relation{rows: func(*frame) ([][]any, *tuple.Error) { return [][]any{{}}, nil }}, nil
	case *parse.TableRef:
		qual := x.Alias
		if qual == "" {
			qual = x.Name
		}
		if w, ok := c.cte(x.Name); ok {
			cols := requalify(w.rel.cols, qual)
			return &relation{cols: cols, rows: w.rel.rows}, nil
		}
		tab, ok := c.cat.Table(x.Name)
		if !ok {
			return nil, errAt(x, tuple.CodeSQLUnknownTable, "table %q does not exist", x.Name)
		}
		cols := make([]scopeCol, len(tab.Columns))
		for i, col := range tab.Columns {
			cols[i] = scopeCol{qual: qual, name: col.Name, typ: col.Type, hidden: col.Hidden}
		}
		return &relation{cols: cols,
			each: func(_ *frame, yield func([]any) bool) *tuple.Error { return tab.Scan(yield) },
			rows: func(*frame) ([][]any, *tuple.Error) {
				var rows [][]any
				err := tab.Scan(func(row []any) bool {
					rows = append(rows, row)
					return true
				})
				return rows, err
			}}, nil
	case *parse.SubqueryRef:
		rel, err := c.query(s, x.Query)
		if err != nil {
			return nil, err
		}
		return &relation{cols: requalify(rel.cols, x.Alias), rows: rel.rows}, nil
	case *parse.Join:
		return c.join(s, x)
	}
	return nil, errAt(t, tuple.CodeSQLSyntax, "unsupported FROM item %s", t)
}

func requalify(cols []scopeCol, qual string) []scopeCol {
	out := make([]scopeCol, len(cols))
	for i, c := range cols {
		c.qual = qual
		out[i] = c
	}
	return out
}

// join compiles [LEFT] JOIN ... ON. Equalities between an expression of
// the left side and one of the right (`a.x = b.y AND ...`) make it a hash
// join; the rest of ON is checked on each pair they match. Without such
// an equality every pair is checked.
func (c *compiler) join(s *scope, x *parse.Join) (*relation, *tuple.Error) {
	l, err := c.from(s, x.Left)
	if err != nil {
		return nil, err
	}
	r, err := c.from(s, x.Right)
	if err != nil {
		return nil, err
	}
	cols := append(append([]scopeCol{}, l.cols...), r.cols...)
	js := c.child(s, cols)
	ls, rs := c.child(s, l.cols), c.child(s, r.cols)
	var lkeys, rkeys []cexpr
	var rest []parse.Expr
	for _, cj := range Conjuncts(x.On) {
		b, ok := cj.(*parse.Binary)
		if ok && b.Op == "=" {
			if lk, rk, ok := c.equiKey(ls, rs, b); ok {
				lkeys, rkeys = append(lkeys, lk[0]), append(rkeys, rk[0])
				continue
			}
		}
		rest = append(rest, cj)
	}
	var on *cexpr
	if len(rest) > 0 {
		e := rest[0]
		for _, r := range rest[1:] {
			e = &parse.Binary{Pos: r.Position(), Op: "AND", L: e, R: r}
		}
		ce, err := c.expr(js, e)
		if err != nil {
			return nil, err
		}
		on = &ce
	}
	outer, lw, rw := x.Outer, len(l.cols), len(r.cols)
	return &relation{cols: cols, rows: func(f *frame) ([][]any, *tuple.Error) {
		left, err := l.rows(f)
		if err != nil {
			return nil, err
		}
		right, err := r.rows(f)
		if err != nil {
			return nil, err
		}
		var index map[string][]int
		if len(rkeys) > 0 {
			index = map[string][]int{}
			fr := &frame{up: f, run: f.run}
			for i, row := range right {
				fr.row = row
				k, null, err := evalKey(rkeys, fr)
				if err != nil {
					return nil, err
				}
				if !null {
					index[k] = append(index[k], i)
				}
			}
		}
		var out [][]any
		lf, jf := &frame{up: f, run: f.run}, &frame{up: f, run: f.run}
		for _, lrow := range left {
			matched := false
			try := func(rrow []any) *tuple.Error {
				joined := make([]any, 0, lw+rw)
				joined = append(append(joined, lrow...), rrow...)
				if on != nil {
					jf.row = joined
					ok, err := truth(*on, jf)
					if err != nil || !ok {
						return err
					}
				}
				matched = true
				out = append(out, joined)
				return nil
			}
			if index != nil {
				lf.row = lrow
				k, null, err := evalKey(lkeys, lf)
				if err != nil {
					return nil, err
				}
				if !null {
					for _, i := range index[k] {
						if err := try(right[i]); err != nil {
							return nil, err
						}
					}
				}
			} else {
				for _, rrow := range right {
					if err := try(rrow); err != nil {
						return nil, err
					}
				}
			}
			if outer && !matched {
				out = append(out, append(append(make([]any, 0, lw+rw), lrow...), make([]any, rw)...))
			}
		}
		return out, nil
	}}, nil
}

// equiKey splits `a = b` into an expression of the left side and one of
// the right, if it is one (either way round).
func (c *compiler) equiKey(ls, rs *scope, b *parse.Binary) ([]cexpr, []cexpr, bool) {
	for _, pair := range [][2]parse.Expr{{b.L, b.R}, {b.R, b.L}} {
		if !onlyColumnsOf(ls, pair[0]) || !onlyColumnsOf(rs, pair[1]) {
			continue
		}
		lk, err1 := c.expr(ls, pair[0])
		rk, err2 := c.expr(rs, pair[1])
		if err1 == nil && err2 == nil {
			return []cexpr{lk}, []cexpr{rk}, true
		}
	}
	return nil, nil, false
}

// onlyColumnsOf reports whether e reads at least one column, all of them
// columns of s (not of an enclosing query), and has no subquery.
func onlyColumnsOf(s *scope, e parse.Expr) bool {
	refs, ok := 0, true
	walk(e, func(x parse.Expr) {
		switch y := x.(type) {
		case *parse.ColumnRef:
			r, err := s.resolve(y)
			if err != nil || r.depth != 0 {
				ok = false
			}
			refs++
		case *parse.Subquery, *parse.Exists, *parse.Param:
			ok = false
		case *parse.In:
			if y.Query != nil {
				ok = false
			}
		}
	})
	return ok && refs > 0
}

// evalKey evaluates hash-join keys; null reports a NULL among them (which
// equals nothing).
func evalKey(keys []cexpr, f *frame) (string, bool, *tuple.Error) {
	vals := make([]any, len(keys))
	for i, k := range keys {
		v, err := k.eval(f)
		if err != nil {
			return "", false, err
		}
		if v == nil {
			return "", true, nil
		}
		vals[i] = v
	}
	return value.Key(vals), false, nil
}

// pointGet: a FROM of one stored table with point reads, filtered by
// `pk = expr` for every primary key column (expr not reading the table),
// reads that one row instead of scanning. WHERE is still applied whole.
func (c *compiler) pointGet(fs *scope, from parse.TableExpr, where parse.Expr, scan func(*frame) ([][]any, *tuple.Error)) (func(*frame) ([][]any, *tuple.Error), bool, *tuple.Error) {
	ref, ok := from.(*parse.TableRef)
	if !ok {
		return nil, false, nil
	}
	if _, isCTE := c.cte(ref.Name); isCTE {
		return nil, false, nil
	}
	tab, ok := c.cat.Table(ref.Name)
	if !ok || tab.Get == nil || len(tab.PrimaryKey) == 0 {
		return nil, false, nil
	}
	keys := make([]*cexpr, len(tab.PrimaryKey))
	for _, cj := range Conjuncts(where) {
		b, ok := cj.(*parse.Binary)
		if !ok || b.Op != "=" {
			continue
		}
		for _, pair := range [][2]parse.Expr{{b.L, b.R}, {b.R, b.L}} {
			col, ok := pair[0].(*parse.ColumnRef)
			if !ok || !independentOf(fs, pair[1]) {
				continue
			}
			r, err := fs.resolve(col)
			if err != nil || r.depth != 0 {
				continue
			}
			for k, p := range tab.PrimaryKey {
				if p == r.idx && keys[k] == nil {
					ce, err := c.expr(fs, pair[1])
					if err != nil {
						return nil, false, err
					}
					keys[k] = &ce
				}
			}
		}
	}
	for _, k := range keys {
		if k == nil {
			return nil, false, nil
		}
	}
	return func(f *frame) ([][]any, *tuple.Error) {
		kf := &frame{up: f, run: f.run}
		key := make([]any, len(keys))
		for i, k := range keys {
			v, err := k.eval(kf)
			if err != nil {
				return nil, err
			}
			if v == nil {
				return nil, nil // pk = NULL is never true
			}
			if !tab.Columns[tab.PrimaryKey[i]].Type.Matches(v) {
				// 1.0 may equal an integer key; a string may be a type
				// mismatch: WHERE decides, over every row.
				return scan(f)
			}
			key[i] = v
		}
		row, ok, err := tab.Get(key)
		if err != nil || !ok {
			return nil, err
		}
		return [][]any{row}, nil
	}, true, nil
}

// independentOf reports whether e reads no column of s's own level and has
// no subquery (it is a constant, a parameter or an outer column).
func independentOf(s *scope, e parse.Expr) bool {
	ok := true
	walk(e, func(x parse.Expr) {
		switch y := x.(type) {
		case *parse.ColumnRef:
			if r, err := s.resolve(y); err != nil || r.depth == 0 {
				ok = false
			}
		case *parse.Subquery, *parse.Exists:
			ok = false
		case *parse.In:
			if y.Query != nil {
				ok = false
			}
		}
	})
	return ok
}

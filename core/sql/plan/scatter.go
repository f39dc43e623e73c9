package plan

import (
	"strings"

	"github.com/picogo/picogo/core/sql/exec"
	"github.com/picogo/picogo/core/sql/parse"
	"github.com/picogo/picogo/core/sql/value"
	"github.com/picogo/picogo/core/tuple"
)

// scatter splits a query over one sharded table into what every replicaset
// runs and what the router merges, or returns nil when it cannot.
func scatter(cat Catalog, q *parse.Query, sel *parse.Select, t Table) *Query {
	items, names, ok := expandStars(cat, sel)
	if !ok {
		return nil
	}
	grouped := len(sel.GroupBy) > 0 || sel.Having != nil
	for _, it := range items {
		grouped = grouped || containsAggregate(it)
	}
	for _, o := range q.OrderBy {
		grouped = grouped || containsAggregate(o.Expr)
	}
	var frag, merge *parse.Query
	if grouped {
		frag, merge = scatterGrouped(cat, q, sel, items, names)
	} else {
		frag, merge = scatterRows(q, sel, items, names)
	}
	if frag == nil {
		return nil
	}
	return &Query{Kind: Scatter, Tier: t.Tier, Fragment: frag, Merge: merge}
}

// scatterRows: each replicaset filters and projects (and, for ORDER BY
// with LIMIT, keeps its first LIMIT+OFFSET rows); the router sorts, cuts
// and removes duplicates for DISTINCT again.
func scatterRows(q *parse.Query, sel *parse.Select, items []parse.Expr, names []string) (*parse.Query, *parse.Query) {
	fsel := &parse.Select{Distinct: sel.Distinct, From: sel.From, Where: sel.Where}
	msel := &parse.Select{Distinct: sel.Distinct, From: &parse.TableRef{Name: MotionName}}
	for i, e := range items {
		fsel.Items = append(fsel.Items, &parse.SelectItem{Expr: e, Alias: colName("c", i)})
		msel.Items = append(msel.Items, &parse.SelectItem{Expr: mcol(colName("c", i)), Alias: names[i]})
	}
	// The fragment orders by its own output names; the merge names the
	// motion's columns qualified, so that an output alias of the user's
	// never captures them.
	var order, morder []*parse.OrderItem
	hidden := 0
	for _, o := range q.OrderBy {
		if i, ok := outputColumn(names, o.Expr); ok {
			order = append(order, &parse.OrderItem{Expr: col(colName("c", i)), Desc: o.Desc})
			morder = append(morder, &parse.OrderItem{Expr: mcol(colName("c", i)), Desc: o.Desc})
			continue
		}
		if sel.Distinct {
			return nil, nil // DISTINCT would see the hidden key
		}
		name := colName("o", hidden)
		hidden++
		fsel.Items = append(fsel.Items, &parse.SelectItem{Expr: o.Expr, Alias: name})
		order = append(order, &parse.OrderItem{Expr: col(name), Desc: o.Desc})
		morder = append(morder, &parse.OrderItem{Expr: mcol(name), Desc: o.Desc})
	}
	frag := &parse.Query{Body: fsel}
	if q.Limit != nil {
		frag.OrderBy = order
		frag.Limit = q.Limit
		if q.Offset != nil {
			frag.Limit = &parse.Binary{Op: "+", L: q.Limit, R: q.Offset}
		}
	}
	merge := &parse.Query{Body: msel, OrderBy: morder, Limit: q.Limit, Offset: q.Offset}
	return frag, merge
}

// expandStars lists the projection's expressions, `*` and `t.*` spelt out
// as the columns of FROM's tables, with the output column names.
func expandStars(cat Catalog, sel *parse.Select) ([]parse.Expr, []string, bool) {
	var items []parse.Expr
	var names []string
	for i, it := range sel.Items {
		st, ok := it.Expr.(*parse.Star)
		if !ok {
			items = append(items, it.Expr)
			name := it.Alias
			if name == "" {
				name = exec.NameOf(it.Expr, i)
			}
			names = append(names, name)
			continue
		}
		n := 0
		for _, ref := range fromTables(sel.From) {
			alias := ref.Alias
			if alias == "" {
				alias = ref.Name
			}
			if st.Table != "" && st.Table != alias {
				continue
			}
			t, ok := cat.Table(ref.Name)
			if !ok {
				return nil, nil, false
			}
			for _, c := range t.Columns {
				if c.Hidden {
					continue
				}
				items = append(items, &parse.ColumnRef{Table: alias, Column: c.Name})
				names = append(names, c.Name)
				n++
			}
		}
		if n == 0 {
			return nil, nil, false // let exec say what is wrong
		}
	}
	return items, names, true
}

// fromTables are the tables of a FROM item, left to right.
func fromTables(t parse.TableExpr) []*parse.TableRef {
	switch x := t.(type) {
	case *parse.TableRef:
		return []*parse.TableRef{x}
	case *parse.Join:
		return append(fromTables(x.Left), fromTables(x.Right)...)
	}
	return nil
}

// outputColumn resolves an ORDER BY item naming an output column, by
// position or name, as exec does.
func outputColumn(names []string, e parse.Expr) (int, bool) {
	switch x := e.(type) {
	case *parse.Number:
		if x.Kind != parse.Integer {
			return 0, false
		}
		v, ok := exec.Constant(x, exec.Env{})
		if !ok {
			return 0, false
		}
		i, ok := tuple.AsInt64(v)
		if !ok || i < 1 || i > int64(len(names)) {
			return 0, false
		}
		return int(i - 1), true
	case *parse.ColumnRef:
		if x.Table != "" {
			return 0, false
		}
		found := -1
		for i, n := range names {
			if n == x.Column {
				if found >= 0 {
					return 0, false
				}
				found = i
			}
		}
		return found, found >= 0
	}
	return 0, false
}

func containsAggregate(e parse.Expr) bool {
	found := false
	visit(e, func(n parse.Node) bool {
		switch x := n.(type) {
		case *parse.Query:
			return false
		case *parse.FuncCall:
			if value.IsAggregate(strings.ToLower(x.Name)) {
				found = true
			}
		}
		return !found
	})
	return found
}

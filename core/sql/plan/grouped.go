package plan

import (
	"strings"

	"github.com/picogo/picogo/core/sql/exec"
	"github.com/picogo/picogo/core/sql/parse"
	"github.com/picogo/picogo/core/sql/value"
	"github.com/picogo/picogo/core/tuple"
)

// twoStage are the aggregates that merge from per-replicaset partials:
// what each replicaset computes, and what the router makes of them.
var twoStage = map[string]bool{"count": true, "sum": true, "min": true, "max": true, "total": true, "avg": true}

// grouping is a grouped query being split: the fragment's columns (k_i the
// GROUP BY keys, a_j the partial aggregates) and what the merge reads.
type grouping struct {
	cat    Catalog
	sel    *parse.Select
	keys   []parse.Expr
	frag   []*parse.SelectItem
	nparts int
	failed bool
	// avgs are the fragment's sum columns of AVG calls, whose result type
	// is known once the fragment's types are.
	avgs    []*parse.Cast
	avgCols []string
}

// scatterGrouped: each replicaset groups its rows and computes partial
// aggregates (COUNT, SUM, MIN, MAX, TOTAL, and AVG as a sum and a count);
// the router groups the partials again and finishes HAVING, the
// projection, ORDER BY and LIMIT. DISTINCT aggregates and the
// concatenating ones do not merge: nil (the query is gathered instead).
func scatterGrouped(cat Catalog, q *parse.Query, sel *parse.Select, items []parse.Expr, names []string) (*parse.Query, *parse.Query) {
	g := &grouping{cat: cat, sel: sel}
	for _, e := range sel.GroupBy {
		g.keys = append(g.keys, g.groupExpr(e, items, names))
	}
	for i, k := range g.keys {
		if containsAggregate(k) || hasSubquery(k) {
			return nil, nil
		}
		g.frag = append(g.frag, &parse.SelectItem{Expr: k, Alias: colName("k", i)})
	}
	msel := &parse.Select{Distinct: sel.Distinct, From: &parse.TableRef{Name: MotionName}}
	for i, e := range items {
		msel.Items = append(msel.Items, &parse.SelectItem{Expr: g.rewrite(e), Alias: names[i]})
	}
	for i := range g.keys {
		msel.GroupBy = append(msel.GroupBy, mcol(colName("k", i)))
	}
	if sel.Having != nil {
		msel.Having = g.rewrite(sel.Having)
	}
	merge := &parse.Query{Body: msel, Limit: q.Limit, Offset: q.Offset}
	for _, o := range q.OrderBy {
		e := o.Expr
		if _, ok := outputColumn(names, e); !ok {
			e = g.rewrite(e)
		}
		merge.OrderBy = append(merge.OrderBy, &parse.OrderItem{Expr: e, Desc: o.Desc})
	}
	if g.failed {
		return nil, nil
	}
	fsel := &parse.Select{From: sel.From, Where: sel.Where, Items: g.frag}
	// The fragment groups by the expressions themselves: a bare k1 would
	// be a column of the user's table, if it has one by that name.
	fsel.GroupBy = g.keys
	if len(g.frag) == 0 { // SELECT 1 ... GROUP BY nothing: a constant
		return nil, nil
	}
	frag := &parse.Query{Body: fsel}
	if len(g.avgs) > 0 && !g.typeAverages(frag) {
		return nil, nil
	}
	return frag, merge
}

// groupExpr resolves a GROUP BY item as exec does: a position or an
// output alias that is no FROM column stands for its projection.
func (g *grouping) groupExpr(e parse.Expr, items []parse.Expr, names []string) parse.Expr {
	if n, ok := e.(*parse.Number); ok && n.Kind == parse.Integer {
		if v, ok := exec.Constant(n, exec.Env{}); ok {
			if i, ok := tuple.AsInt64(v); ok && i >= 1 && i <= int64(len(g.sel.Items)) {
				if _, star := g.sel.Items[i-1].Expr.(*parse.Star); !star {
					return g.sel.Items[i-1].Expr
				}
			}
		}
		g.failed = true
		return e
	}
	if ref, ok := e.(*parse.ColumnRef); ok && ref.Table == "" && !g.fromHas(ref.Column) {
		for _, it := range g.sel.Items {
			if it.Alias == ref.Column {
				return it.Expr
			}
		}
	}
	return e
}

func (g *grouping) fromHas(name string) bool {
	for _, ref := range fromTables(g.sel.From) {
		if t, ok := g.cat.Table(ref.Name); ok {
			for _, c := range t.Columns {
				if c.Name == name {
					return true
				}
			}
		}
	}
	return false
}

// rewrite turns an expression over the groups into one over the
// fragment's columns. Anything else that reads a row (a column not
// grouped, a subquery) fails the split.
func (g *grouping) rewrite(e parse.Expr) parse.Expr {
	if e == nil {
		return nil
	}
	for i, k := range g.keys {
		if sameKey(k, e) {
			return mcol(colName("k", i))
		}
	}
	switch x := e.(type) {
	case *parse.FuncCall:
		name := strings.ToLower(x.Name)
		if value.IsAggregate(name) {
			return g.aggregate(x, name)
		}
		out := *x
		out.Args = g.rewriteAll(x.Args)
		return &out
	case *parse.ColumnRef, *parse.Subquery, *parse.Exists, *parse.Star, *parse.Row:
		g.failed = true
		return e
	case *parse.Number, *parse.StringLit, *parse.Bool, *parse.Null, *parse.Param:
		return e
	case *parse.Unary:
		out := *x
		out.X = g.rewrite(x.X)
		return &out
	case *parse.Binary:
		out := *x
		out.L, out.R = g.rewrite(x.L), g.rewrite(x.R)
		return &out
	case *parse.IsNull:
		out := *x
		out.X = g.rewrite(x.X)
		return &out
	case *parse.Between:
		out := *x
		out.X, out.Lo, out.Hi = g.rewrite(x.X), g.rewrite(x.Lo), g.rewrite(x.Hi)
		return &out
	case *parse.In:
		if x.Query != nil {
			g.failed = true
			return e
		}
		out := *x
		out.X, out.List = g.rewrite(x.X), g.rewriteAll(x.List)
		return &out
	case *parse.Like:
		out := *x
		out.X, out.Pattern, out.Escape = g.rewrite(x.X), g.rewrite(x.Pattern), g.rewrite(x.Escape)
		return &out
	case *parse.Cast:
		out := *x
		out.X = g.rewrite(x.X)
		return &out
	case *parse.Case:
		out := *x
		out.Operand, out.Else = g.rewrite(x.Operand), g.rewrite(x.Else)
		out.Whens = nil
		for _, w := range x.Whens {
			out.Whens = append(out.Whens, &parse.When{Pos: w.Pos, Cond: g.rewrite(w.Cond), Result: g.rewrite(w.Result)})
		}
		return &out
	case *parse.Trim:
		out := *x
		out.Chars, out.X = g.rewrite(x.Chars), g.rewrite(x.X)
		return &out
	case *parse.Substring:
		out := *x
		out.X, out.From, out.For = g.rewrite(x.X), g.rewrite(x.From), g.rewrite(x.For)
		return &out
	}
	g.failed = true
	return e
}

func (g *grouping) rewriteAll(list []parse.Expr) []parse.Expr {
	out := make([]parse.Expr, len(list))
	for i, e := range list {
		out[i] = g.rewrite(e)
	}
	return out
}

// part adds a partial aggregate to the fragment and returns its column.
func (g *grouping) part(name string, args []parse.Expr, star bool) *parse.ColumnRef {
	alias := colName("a", g.nparts)
	g.nparts++
	g.frag = append(g.frag, &parse.SelectItem{Expr: &parse.FuncCall{Name: name, Args: args, Star: star}, Alias: alias})
	return mcol(alias)
}

func call(name string, args ...parse.Expr) *parse.FuncCall {
	return &parse.FuncCall{Name: name, Args: args}
}

// aggregate is the merge of one aggregate call from its partials.
func (g *grouping) aggregate(x *parse.FuncCall, name string) parse.Expr {
	if x.Distinct || !twoStage[name] {
		g.failed = true
		return x
	}
	switch name {
	case "count":
		// Every replicaset answers a count, 0 for no rows: the sum is
		// never NULL where a group exists; COALESCE covers none at all.
		return call("coalesce", call("sum", g.part("count", x.Args, x.Star)), &parse.Number{Raw: "0", Kind: parse.Integer})
	case "avg":
		sum := g.part("sum", x.Args, false)
		count := g.part("count", x.Args, false)
		// The sum, exact as a decimal, over the count; cast back to what
		// AVG gives for the argument's type (typeAverages fills it in).
		div := &parse.Binary{Op: "/",
			L: &parse.Cast{X: call("sum", sum), Type: &parse.Type{Name: "DECIMAL"}},
			R: call("nullif", call("sum", count), &parse.Number{Raw: "0", Kind: parse.Integer})}
		out := &parse.Cast{X: div, Type: &parse.Type{Name: "DOUBLE"}}
		g.avgs = append(g.avgs, out)
		g.avgCols = append(g.avgCols, sum.Column)
		return out
	}
	return call(name, g.part(name, x.Args, x.Star))
}

// typeAverages sets each AVG merge's final cast to the type AVG has over
// its argument, read off the fragment's sum column type.
func (g *grouping) typeAverages(frag *parse.Query) bool {
	cols, err := exec.Columns(typeCatalog{g.cat}, frag, exec.Env{})
	if err != nil {
		return false
	}
	for i, c := range g.avgs {
		for _, fc := range cols {
			if fc.Name != g.avgCols[i] {
				continue
			}
			ag, err := value.NewAggregate("avg", false, 1)
			if err != nil {
				return false
			}
			c.Type = &parse.Type{Name: strings.ToUpper(string(ag.ResultType(fc.Type)))}
		}
	}
	return true
}

// typeCatalog is the planner's catalog as exec's, with no rows: enough to
// type a query.
type typeCatalog struct{ cat Catalog }

func (t typeCatalog) Table(name string) (*exec.Table, bool) {
	tab, ok := t.cat.Table(name)
	if !ok {
		return nil, false
	}
	return exec.RowsTable(name, tab.Columns, nil), true
}

// sameKey reports whether e is GROUP BY key k: the same column (however
// qualified) or the same text.
func sameKey(k, e parse.Expr) bool {
	kr, ok1 := k.(*parse.ColumnRef)
	er, ok2 := e.(*parse.ColumnRef)
	if ok1 && ok2 {
		return kr.Column == er.Column && (kr.Table == "" || er.Table == "" || kr.Table == er.Table)
	}
	return k.String() == e.String()
}

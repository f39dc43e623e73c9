package exec

import (
	"strings"

	"github.com/picogo/picogo/core/sql/parse"
	"github.com/picogo/picogo/core/sql/value"
	"github.com/picogo/picogo/core/tuple"
)

// aggCtx is what a grouped SELECT computes per group: its GROUP BY keys
// and the aggregate calls found in the projection, HAVING and ORDER BY.
// A group's row, which those are evaluated on, is the group's first FROM
// row (so that correlated subqueries can read it), then the keys, then the
// aggregates' results.
type aggCtx struct {
	src      *scope // the FROM columns, where keys and arguments are compiled
	base     int    // len(src.cols)
	keys     []parse.Expr
	keyExprs []cexpr
	aggs     []aggCall
}

type aggCall struct {
	name     string
	distinct bool
	star     bool
	args     []cexpr
	typ      tuple.FieldType
}

// lookup compiles e if it is a GROUP BY key or an aggregate call; ok false
// leaves it to the ordinary compiler.
func (a *aggCtx) lookup(c *compiler, s *scope, e parse.Expr) (cexpr, bool, *tuple.Error) {
	for i, k := range a.keys {
		if a.same(k, e) {
			slot, typ := a.base+i, a.keyExprs[i].typ
			return cexpr{eval: func(f *frame) (any, *tuple.Error) { return f.row[slot], nil }, typ: typ}, true, nil
		}
	}
	fc, ok := e.(*parse.FuncCall)
	if !ok || !value.IsAggregate(strings.ToLower(fc.Name)) {
		return cexpr{}, false, nil
	}
	call := aggCall{name: strings.ToLower(fc.Name), distinct: fc.Distinct, star: fc.Star}
	var argTypes []tuple.FieldType
	for _, arg := range fc.Args {
		if containsAggregate(arg) {
			return cexpr{}, false, errAt(arg, tuple.CodeSQLSyntax, "aggregate function calls cannot be nested")
		}
		ce, err := c.expr(a.src, arg)
		if err != nil {
			return cexpr{}, false, err
		}
		call.args = append(call.args, ce)
		argTypes = append(argTypes, ce.typ)
	}
	probe, err := value.NewAggregate(call.name, call.distinct, len(call.args))
	if err != nil {
		return cexpr{}, false, errAt(fc, err.Code, "%s", err.Message)
	}
	arg := tuple.TypeAny
	if len(argTypes) > 0 {
		arg = argTypes[0]
	}
	call.typ = probe.ResultType(arg)
	a.aggs = append(a.aggs, call)
	slot := a.base + len(a.keys) + len(a.aggs) - 1
	typ := call.typ
	return cexpr{eval: func(f *frame) (any, *tuple.Error) { return f.row[slot], nil }, typ: typ}, true, nil
}

// same reports whether two expressions are the same GROUP BY key: the same
// column however qualified, or the same text.
func (a *aggCtx) same(k, e parse.Expr) bool {
	kr, ok1 := k.(*parse.ColumnRef)
	er, ok2 := e.(*parse.ColumnRef)
	if ok1 && ok2 {
		x, err1 := a.src.resolve(kr)
		y, err2 := a.src.resolve(er)
		return err1 == nil && err2 == nil && x.depth == y.depth && x.idx == y.idx
	}
	return k.String() == e.String()
}

// run groups rows (those passing where) and returns each group's row, in
// the order groups were first seen. Without GROUP BY (whole) there is one
// group even over no rows, as SQL wants of `SELECT COUNT(*) ... WHERE
// false`.
func (a *aggCtx) run(f *frame, src *relation, where *cexpr, width int, whole bool) ([][]any, *tuple.Error) {
	type group struct {
		first []any
		keys  []any
		aggs  []value.Aggregate
	}
	index := map[string]*group{}
	var order []*group
	newGroup := func(first, keys []any) (*group, *tuple.Error) {
		g := &group{first: first, keys: keys}
		for _, call := range a.aggs {
			ag, err := value.NewAggregate(call.name, call.distinct, len(call.args))
			if err != nil {
				return nil, err
			}
			g.aggs = append(g.aggs, ag)
		}
		order = append(order, g)
		return g, nil
	}
	fr := &frame{up: f, run: f.run}
	add := func(row []any) *tuple.Error {
		fr.row = row
		if where != nil {
			if ok, err := truth(*where, fr); err != nil || !ok {
				return err
			}
		}
		keys := make([]any, len(a.keyExprs))
		for i, k := range a.keyExprs {
			v, err := k.eval(fr)
			if err != nil {
				return err
			}
			keys[i] = v
		}
		key := value.Key(keys)
		g := index[key]
		if g == nil {
			var err *tuple.Error
			if g, err = newGroup(row, keys); err != nil {
				return err
			}
			index[key] = g
		}
		for i, call := range a.aggs {
			args := make([]any, len(call.args)) // an aggregate may keep them
			for j, e := range call.args {
				v, err := e.eval(fr)
				if err != nil {
					return err
				}
				args[j] = v
			}
			if err := g.aggs[i].Add(args); err != nil {
				return err
			}
		}
		return nil
	}
	var failed *tuple.Error
	err := src.iter(f, func(row []any) bool {
		failed = add(row)
		return failed == nil
	})
	if err == nil {
		err = failed
	}
	if err != nil {
		return nil, err
	}
	if whole && len(order) == 0 {
		if _, err := newGroup(make([]any, width), nil); err != nil {
			return nil, err
		}
	}
	out := make([][]any, len(order))
	for i, g := range order {
		row := make([]any, 0, width+len(g.keys)+len(g.aggs))
		row = append(row, g.first...)
		row = append(row, g.keys...)
		for _, ag := range g.aggs {
			v, err := ag.Result()
			if err != nil {
				return nil, err
			}
			row = append(row, v)
		}
		out[i] = row
	}
	return out, nil
}

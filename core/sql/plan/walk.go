package plan

import "github.com/picogo/picogo/core/sql/parse"

// visit calls fn on n and every node below it, subqueries included, until
// fn returns false for a node (its children are then skipped).
func visit(n parse.Node, fn func(parse.Node) bool) {
	if isNil(n) || !fn(n) {
		return
	}
	each := func(ns ...parse.Node) {
		for _, c := range ns {
			visit(c, fn)
		}
	}
	switch x := n.(type) {
	case *parse.Query:
		for _, w := range x.With {
			each(w.Query)
		}
		each(x.Body)
		for _, o := range x.OrderBy {
			each(o.Expr)
		}
		each(x.Limit, x.Offset)
	case *parse.Select:
		for _, it := range x.Items {
			each(it.Expr)
		}
		each(x.From, x.Where, x.Having)
		for _, g := range x.GroupBy {
			each(g)
		}
	case *parse.SetOp:
		each(x.Left, x.Right)
	case *parse.Values:
		for _, r := range x.Rows {
			for _, e := range r {
				each(e)
			}
		}
	case *parse.ParenQuery:
		each(x.Query)
	case *parse.SubqueryRef:
		each(x.Query)
	case *parse.Join:
		each(x.Left, x.Right, x.On)
	case *parse.Unary:
		each(x.X)
	case *parse.Binary:
		each(x.L, x.R)
	case *parse.IsNull:
		each(x.X)
	case *parse.Between:
		each(x.X, x.Lo, x.Hi)
	case *parse.In:
		each(x.X)
		for _, e := range x.List {
			each(e)
		}
		each(x.Query)
	case *parse.Like:
		each(x.X, x.Pattern, x.Escape)
	case *parse.FuncCall:
		for _, e := range x.Args {
			each(e)
		}
	case *parse.Cast:
		each(x.X)
	case *parse.Case:
		each(x.Operand)
		for _, w := range x.Whens {
			each(w.Cond, w.Result)
		}
		each(x.Else)
	case *parse.Exists:
		each(x.Query)
	case *parse.Subquery:
		each(x.Query)
	case *parse.Trim:
		each(x.Chars, x.X)
	case *parse.Substring:
		each(x.X, x.From, x.For)
	case *parse.Row:
		for _, e := range x.Items {
			each(e)
		}
	case *parse.Insert:
		each(x.Source)
	case *parse.Update:
		for _, a := range x.Set {
			each(a.Value)
		}
		each(x.Where)
	case *parse.Delete:
		each(x.Where)
	case *parse.Explain:
		each(x.Stmt)
	}
}

// isNil: a nil interface, or an interface holding a nil pointer (an absent
// optional part of a node).
func isNil(n parse.Node) bool {
	switch x := n.(type) {
	case nil:
		return true
	case *parse.Query:
		return x == nil
	case *parse.Select:
		return x == nil
	}
	return false
}

// NumberParams makes every `?` a `$n` of its number, so that a fragment
// printed with its parts in another order still binds the same values.
func NumberParams(stmt parse.Stmt) {
	visit(stmt, func(n parse.Node) bool {
		if p, ok := n.(*parse.Param); ok {
			p.Question = false
		}
		return true
	})
}

// hasSubquery reports whether n holds a subquery.
func hasSubquery(n parse.Node) bool {
	found := false
	visit(n, func(x parse.Node) bool {
		switch y := x.(type) {
		case *parse.Subquery, *parse.Exists:
			found = true
		case *parse.In:
			if y.Query != nil {
				found = true
			}
		}
		return !found
	})
	return found
}

// ReadTables are the names of the tables a statement reads (names a WITH
// defines are not tables), each once, in order of appearance; the target
// of an INSERT, UPDATE or DELETE is read only when its WHERE or SET reads
// it again.
func ReadTables(stmt parse.Stmt) []string {
	ctes := map[string]bool{}
	visit(stmt, func(n parse.Node) bool {
		if x, ok := n.(*parse.Query); ok {
			for _, w := range x.With {
				ctes[w.Name] = true
			}
		}
		return true
	})
	var out []string
	seen := map[string]bool{}
	visit(stmt, func(n parse.Node) bool {
		if ref, ok := n.(*parse.TableRef); ok && !ctes[ref.Name] && !seen[ref.Name] {
			seen[ref.Name] = true
			out = append(out, ref.Name)
		}
		return true
	})
	return out
}

// ParamCount is how many parameters a statement takes: its highest $n (or
// the number of its ?s).
func ParamCount(stmt parse.Stmt) int {
	n := 0
	visit(stmt, func(x parse.Node) bool {
		if p, ok := x.(*parse.Param); ok {
			n = max(n, p.Index)
		}
		return true
	})
	return n
}

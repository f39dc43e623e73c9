package exec

import (
	"math/big"
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"
	"github.com/picogo/picogo/core/sql/parse"
	"github.com/picogo/picogo/core/sql/value"
	"github.com/picogo/picogo/core/tuple"
)

// evalFn evaluates a compiled expression on a frame.
type evalFn func(f *frame) (any, *tuple.Error)

// cexpr is a compiled expression and its static type (what a result's
// metadata says; "any" when only the values tell).
type cexpr struct {
	eval evalFn
	typ  tuple.FieldType
}

func constant(v any) cexpr {
	return cexpr{eval: func(*frame) (any, *tuple.Error) { return v, nil }, typ: value.TypeOf(v)}
}

// expr compiles e in scope s.
func (c *compiler) expr(s *scope, e parse.Expr) (cexpr, *tuple.Error) {
	if s.agg != nil {
		if ce, ok, err := s.agg.lookup(c, s, e); err != nil || ok {
			return ce, err
		}
	}
	switch x := e.(type) {
	case *parse.ColumnRef:
		ref, err := s.resolve(x)
		if err != nil && x.Table == "" && (x.Column == "current_date" || x.Column == "current_timestamp") {
			// SQL's niladic functions, written without parentheses.
			return c.call(s, &parse.FuncCall{Pos: x.Pos, Name: x.Column})
		}
		if err != nil {
			return cexpr{}, err
		}
		c.minLevel = min(c.minLevel, ref.level)
		if s.agg != nil && ref.depth == 0 {
			return cexpr{}, errAt(x, tuple.CodeSQLUnknownColumn,
				"column %q must appear in the GROUP BY clause or be used in an aggregate function", refName(x))
		}
		d, i := ref.depth, ref.idx
		return cexpr{eval: func(f *frame) (any, *tuple.Error) { return f.at(d, i), nil }, typ: ref.col.typ}, nil
	case *parse.Number:
		v, err := number(x)
		if err != nil {
			return cexpr{}, err
		}
		return constant(v), nil
	case *parse.StringLit:
		return constant(x.Value), nil
	case *parse.Bool:
		return constant(x.Value), nil
	case *parse.Null:
		return cexpr{eval: func(*frame) (any, *tuple.Error) { return nil, nil }, typ: tuple.TypeAny}, nil
	case *parse.Param:
		i := x.Index
		return cexpr{eval: func(f *frame) (any, *tuple.Error) {
			ps := f.run.env.Params
			if i < 1 || i > len(ps) {
				return nil, errAt(x, tuple.CodeSQLInvalidArgument, "parameter $%d has no value: %d given", i, len(ps))
			}
			return value.Normalize(ps[i-1]), nil
		}, typ: c.paramType(i)}, nil
	case *parse.Unary:
		return c.unary(s, x)
	case *parse.Binary:
		return c.binary(s, x)
	case *parse.IsNull:
		a, err := c.expr(s, x.X)
		if err != nil {
			return cexpr{}, err
		}
		not := x.Not
		return cexpr{eval: func(f *frame) (any, *tuple.Error) {
			v, err := a.eval(f)
			if err != nil {
				return nil, err
			}
			return (v == nil) != not, nil
		}, typ: tuple.TypeBoolean}, nil
	case *parse.Between:
		return c.between(s, x)
	case *parse.In:
		return c.in(s, x)
	case *parse.Like:
		return c.like(s, x)
	case *parse.FuncCall:
		return c.call(s, x)
	case *parse.Cast:
		a, err := c.expr(s, x.X)
		if err != nil {
			return cexpr{}, err
		}
		to, terr := value.ParseType(x.Type.Name, x.Type.Args)
		if terr != nil {
			return cexpr{}, errAt(x.Type, tuple.CodeSQLTypeMismatch, "%v", terr)
		}
		return cexpr{eval: func(f *frame) (any, *tuple.Error) {
			v, err := a.eval(f)
			if err != nil {
				return nil, err
			}
			return value.Cast(v, to)
		}, typ: to}, nil
	case *parse.Case:
		return c.caseExpr(s, x)
	case *parse.Exists:
		sub, err := c.subquery(s, x.Query)
		if err != nil {
			return cexpr{}, err
		}
		return cexpr{eval: func(f *frame) (any, *tuple.Error) {
			rows, err := sub.rows(f)
			if err != nil {
				return nil, err
			}
			return len(rows) > 0, nil
		}, typ: tuple.TypeBoolean}, nil
	case *parse.Subquery:
		sub, err := c.subquery(s, x.Query)
		if err != nil {
			return cexpr{}, err
		}
		if len(sub.rel.cols) != 1 {
			return cexpr{}, errAt(x, tuple.CodeSQLTypeMismatch, "a scalar subquery must return one column, not %d", len(sub.rel.cols))
		}
		return cexpr{eval: func(f *frame) (any, *tuple.Error) {
			rows, err := sub.rows(f)
			switch {
			case err != nil:
				return nil, err
			case len(rows) == 0:
				return nil, nil
			case len(rows) > 1:
				return nil, errAt(x, tuple.CodeSQLTypeMismatch, "a scalar subquery returned %d rows, not one", len(rows))
			}
			return rows[0][0], nil
		}, typ: sub.rel.cols[0].typ}, nil
	case *parse.Trim:
		return c.trim(s, x)
	case *parse.Substring:
		args := []parse.Expr{x.X, x.From}
		if x.For != nil {
			args = append(args, x.For)
		}
		return c.call(s, &parse.FuncCall{Pos: x.Pos, Name: "substring", Args: args})
	case *parse.Row:
		return cexpr{}, errAt(x, tuple.CodeSQLTypeMismatch, "a row of %d values is allowed only on the left of IN", len(x.Items))
	case *parse.Star:
		return cexpr{}, errAt(x, tuple.CodeSQLSyntax, "* is allowed only in a projection or COUNT(*)")
	}
	return cexpr{}, errAt(e, tuple.CodeSQLSyntax, "unsupported expression %s", e)
}

// isArithmetic: + - * / %, whose string literals take the other
// operand's type ('3' + integer 4 is 7, as in PostgreSQL).
func isArithmetic(op string) bool {
	switch op {
	case "+", "-", "*", "/", "%":
		return true
	}
	return false
}

// literalAs is a string literal compared with (or combined with) a value
// of type typ, as that type: PostgreSQL's literals have no type until their context gives
// one ('2024-01-01' compared with a datetime column is a datetime, '10'
// with an integer one an integer; PostgreSQL's clients send parameters so
// in the simple protocol). Anything else, and a literal compared with a
// string or a value of unknown type, is left as it is; a literal that is
// not a value of typ is the comparison's error.
func (c *compiler) literalAs(e parse.Expr, ce cexpr, typ tuple.FieldType) (cexpr, *tuple.Error) {
	lit, ok := e.(*parse.StringLit)
	if !ok {
		return ce, nil
	}
	if !castsFromString(typ) {
		return ce, nil
	}
	v, err := value.FromText(lit.Value, typ)
	if err != nil {
		return cexpr{}, errAt(lit, tuple.CodeSQLInvalidCast, "%s", err.Message)
	}
	return constant(v), nil
}

// paramType is the static type of parameter i: its value's, when known.
func (c *compiler) paramType(i int) tuple.FieldType {
	if i >= 1 && i <= len(c.params) {
		return value.TypeOf(value.Normalize(c.params[i-1]))
	}
	return tuple.TypeAny
}

// number is a literal's value: an integer as int64 (uint64 above it), a
// literal with a point as a decimal, one with an exponent as a double.
func number(x *parse.Number) (any, *tuple.Error) {
	switch x.Kind {
	case parse.Integer:
		u, err := strconv.ParseUint(x.Raw, 10, 64)
		if err != nil {
			return nil, errAt(x, tuple.CodeSQLIntegerOverflow, "integer literal %s is out of range", x.Raw)
		}
		return value.Normalize(u), nil
	case parse.Decimal:
		d, _, err := apd.NewFromString(x.Raw)
		if err != nil {
			return nil, errAt(x, tuple.CodeSQLTypeMismatch, "bad decimal literal %s", x.Raw)
		}
		return d, nil
	}
	f, err := strconv.ParseFloat(x.Raw, 64)
	if err != nil {
		return nil, errAt(x, tuple.CodeSQLTypeMismatch, "bad number literal %s", x.Raw)
	}
	return f, nil
}

func (c *compiler) unary(s *scope, x *parse.Unary) (cexpr, *tuple.Error) {
	// A negative literal is one value: -9223372036854775808 fits.
	if n, ok := x.X.(*parse.Number); ok && x.Op == "-" && n.Kind == parse.Integer {
		b, ok := new(big.Int).SetString(n.Raw, 10)
		if ok {
			b.Neg(b)
			if b.IsInt64() {
				return constant(b.Int64()), nil
			}
		}
		return cexpr{}, errAt(x, tuple.CodeSQLIntegerOverflow, "integer literal -%s is out of range", n.Raw)
	}
	a, err := c.expr(s, x.X)
	if err != nil {
		return cexpr{}, err
	}
	switch x.Op {
	case "-":
		return cexpr{eval: func(f *frame) (any, *tuple.Error) {
			v, err := a.eval(f)
			if err != nil {
				return nil, err
			}
			return value.Neg(v)
		}, typ: a.typ}, nil
	case "+":
		return a, nil
	}
	return cexpr{eval: func(f *frame) (any, *tuple.Error) {
		v, err := a.eval(f)
		if err != nil {
			return nil, err
		}
		return value.Not(v)
	}, typ: tuple.TypeBoolean}, nil
}

// compare is v's comparison as an SQL boolean (NULL when unknown).
func compare(op string, a, b any) (any, *tuple.Error) {
	c, null, err := value.Compare(a, b)
	if err != nil || null {
		return nil, err
	}
	switch op {
	case "=":
		return c == 0, nil
	case "<>", "!=":
		return c != 0, nil
	case "<":
		return c < 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	}
	return c >= 0, nil
}

func isComparison(op string) bool {
	switch op {
	case "=", "<>", "!=", "<", "<=", ">", ">=":
		return true
	}
	return false
}

func (c *compiler) binary(s *scope, x *parse.Binary) (cexpr, *tuple.Error) {
	a, err := c.expr(s, x.L)
	if err != nil {
		return cexpr{}, err
	}
	b, err := c.expr(s, x.R)
	if err != nil {
		return cexpr{}, err
	}
	c.inferPair(x.L, x.R, a.typ, b.typ)
	op := strings.ToUpper(x.Op)
	if isComparison(op) || isArithmetic(op) {
		if a, err = c.literalAs(x.L, a, b.typ); err != nil {
			return cexpr{}, err
		}
		if b, err = c.literalAs(x.R, b, a.typ); err != nil {
			return cexpr{}, err
		}
	}
	switch {
	case op == "AND" || op == "OR":
		and := op == "AND"
		return cexpr{eval: func(f *frame) (any, *tuple.Error) {
			l, err := a.eval(f)
			if err != nil {
				return nil, err
			}
			t, known, err := value.Truth(l)
			if err != nil {
				return nil, err
			}
			if known && t != and { // FALSE AND x, TRUE OR x
				return t, nil
			}
			r, err := b.eval(f)
			if err != nil {
				return nil, err
			}
			if and {
				return value.And(l, r)
			}
			return value.Or(l, r)
		}, typ: tuple.TypeBoolean}, nil
	case isComparison(op):
		return cexpr{eval: func(f *frame) (any, *tuple.Error) {
			l, r, err := both(f, a, b)
			if err != nil {
				return nil, err
			}
			return compare(op, l, r)
		}, typ: tuple.TypeBoolean}, nil
	case op == "||":
		return cexpr{eval: func(f *frame) (any, *tuple.Error) {
			l, r, err := both(f, a, b)
			if err != nil {
				return nil, err
			}
			return value.Concat(l, r)
		}, typ: tuple.TypeString}, nil
	}
	return cexpr{eval: func(f *frame) (any, *tuple.Error) {
		l, r, err := both(f, a, b)
		if err != nil {
			return nil, err
		}
		return value.Arith(op, l, r)
	}, typ: value.ArithType(op, a.typ, b.typ)}, nil
}

func both(f *frame, a, b cexpr) (any, any, *tuple.Error) {
	l, err := a.eval(f)
	if err != nil {
		return nil, nil, err
	}
	r, err := b.eval(f)
	return l, r, err
}

func (c *compiler) between(s *scope, x *parse.Between) (cexpr, *tuple.Error) {
	v, err := c.expr(s, x.X)
	if err != nil {
		return cexpr{}, err
	}
	lo, err := c.expr(s, x.Lo)
	if err != nil {
		return cexpr{}, err
	}
	hi, err := c.expr(s, x.Hi)
	if err != nil {
		return cexpr{}, err
	}
	c.inferPair(x.X, x.Lo, v.typ, lo.typ)
	c.inferPair(x.X, x.Hi, v.typ, hi.typ)
	if lo, err = c.literalAs(x.Lo, lo, v.typ); err != nil {
		return cexpr{}, err
	}
	if hi, err = c.literalAs(x.Hi, hi, v.typ); err != nil {
		return cexpr{}, err
	}
	not := x.Not
	return cexpr{eval: func(f *frame) (any, *tuple.Error) {
		a, err := v.eval(f)
		if err != nil {
			return nil, err
		}
		l, h, err := both(f, lo, hi)
		if err != nil {
			return nil, err
		}
		ge, err := compare(">=", a, l)
		if err != nil {
			return nil, err
		}
		le, err := compare("<=", a, h)
		if err != nil {
			return nil, err
		}
		r, err := value.And(ge, le)
		if err != nil || !not {
			return r, err
		}
		return value.Not(r)
	}, typ: tuple.TypeBoolean}, nil
}

// in is x [NOT] IN (list) or (query), with SQL's three-valued answer: true
// if some member equals x, else NULL if some comparison was unknown, else
// false.
func (c *compiler) in(s *scope, x *parse.In) (cexpr, *tuple.Error) {
	var lefts []cexpr
	if row, ok := x.X.(*parse.Row); ok {
		for _, it := range row.Items {
			e, err := c.expr(s, it)
			if err != nil {
				return cexpr{}, err
			}
			lefts = append(lefts, e)
		}
	} else {
		e, err := c.expr(s, x.X)
		if err != nil {
			return cexpr{}, err
		}
		lefts = []cexpr{e}
	}
	var members func(f *frame) ([][]any, *tuple.Error)
	if x.Query != nil {
		sub, err := c.subquery(s, x.Query)
		if err != nil {
			return cexpr{}, err
		}
		if len(sub.rel.cols) != len(lefts) {
			return cexpr{}, errAt(x, tuple.CodeSQLTypeMismatch, "IN compares %d values with a subquery of %d columns", len(lefts), len(sub.rel.cols))
		}
		members = sub.rows
	} else {
		if len(lefts) != 1 {
			return cexpr{}, errAt(x, tuple.CodeSQLTypeMismatch, "a row IN needs a subquery")
		}
		var list []cexpr
		for _, it := range x.List {
			e, err := c.expr(s, it)
			if err != nil {
				return cexpr{}, err
			}
			c.inferPair(x.X, it, lefts[0].typ, e.typ)
			if e, err = c.literalAs(it, e, lefts[0].typ); err != nil {
				return cexpr{}, err
			}
			list = append(list, e)
		}
		members = func(f *frame) ([][]any, *tuple.Error) {
			out := make([][]any, len(list))
			for i, e := range list {
				v, err := e.eval(f)
				if err != nil {
					return nil, err
				}
				out[i] = []any{v}
			}
			return out, nil
		}
	}
	not := x.Not
	return cexpr{eval: func(f *frame) (any, *tuple.Error) {
		left := make([]any, len(lefts))
		for i, e := range lefts {
			v, err := e.eval(f)
			if err != nil {
				return nil, err
			}
			left[i] = v
		}
		rows, err := members(f)
		if err != nil {
			return nil, err
		}
		var res any = false
		for _, row := range rows {
			var eq any = true
			for i := range left {
				r, err := compare("=", left[i], row[i])
				if err != nil {
					return nil, err
				}
				if eq, err = value.And(eq, r); err != nil {
					return nil, err
				}
			}
			if eq == true {
				res = true
				break
			}
			if eq == nil {
				res = nil
			}
		}
		if not {
			return value.Not(res)
		}
		return res, nil
	}, typ: tuple.TypeBoolean}, nil
}

func (c *compiler) like(s *scope, x *parse.Like) (cexpr, *tuple.Error) {
	v, err := c.expr(s, x.X)
	if err != nil {
		return cexpr{}, err
	}
	p, err := c.expr(s, x.Pattern)
	if err != nil {
		return cexpr{}, err
	}
	esc := constant(value.DefaultEscape)
	if x.Escape != nil {
		if esc, err = c.expr(s, x.Escape); err != nil {
			return cexpr{}, err
		}
	}
	not, ilike := x.Not, x.ILike
	return cexpr{eval: func(f *frame) (any, *tuple.Error) {
		a, b, err := both(f, v, p)
		if err != nil {
			return nil, err
		}
		e, err := esc.eval(f)
		if err != nil {
			return nil, err
		}
		r, err := value.Like(a, b, e, ilike)
		if err != nil || !not {
			return r, err
		}
		return value.Not(r)
	}, typ: tuple.TypeBoolean}, nil
}

func (c *compiler) call(s *scope, x *parse.FuncCall) (cexpr, *tuple.Error) {
	name := strings.ToLower(x.Name)
	if value.IsAggregate(name) {
		return cexpr{}, errAt(x, tuple.CodeSQLSyntax, "aggregate function %s is not allowed here", name)
	}
	fn, ok := value.LookupFunc(name)
	if !ok {
		return cexpr{}, errAt(x, tuple.CodeSQLUnknownFunction, "function %s does not exist", name)
	}
	if x.Star || x.Distinct {
		return cexpr{}, errAt(x, tuple.CodeSQLSyntax, "%s is not an aggregate: * and DISTINCT are not allowed in it", name)
	}
	args := make([]cexpr, len(x.Args))
	types := make([]tuple.FieldType, len(x.Args))
	for i, a := range x.Args {
		e, err := c.expr(s, a)
		if err != nil {
			return cexpr{}, err
		}
		args[i], types[i] = e, e.typ
	}
	if err := fn.CheckArgs(len(args)); err != nil {
		return cexpr{}, errAt(x, err.Code, "%s", err.Message)
	}
	return cexpr{eval: func(f *frame) (any, *tuple.Error) {
		vals := make([]any, len(args))
		for i, a := range args {
			v, err := a.eval(f)
			if err != nil {
				return nil, err
			}
			vals[i] = v
		}
		return fn.Call(f.run.valueEnv(), vals)
	}, typ: fn.ResultType(types)}, nil
}

func (c *compiler) trim(s *scope, x *parse.Trim) (cexpr, *tuple.Error) {
	v, err := c.expr(s, x.X)
	if err != nil {
		return cexpr{}, err
	}
	chars := constant(" ")
	if x.Chars != nil {
		if chars, err = c.expr(s, x.Chars); err != nil {
			return cexpr{}, err
		}
	}
	kind := x.Kind
	return cexpr{eval: func(f *frame) (any, *tuple.Error) {
		a, ch, err := both(f, v, chars)
		if err != nil {
			return nil, err
		}
		return value.Trim(kind, ch, a)
	}, typ: tuple.TypeString}, nil
}

func (c *compiler) caseExpr(s *scope, x *parse.Case) (cexpr, *tuple.Error) {
	var operand *cexpr
	if x.Operand != nil {
		o, err := c.expr(s, x.Operand)
		if err != nil {
			return cexpr{}, err
		}
		operand = &o
	}
	type arm struct{ cond, result cexpr }
	arms := make([]arm, len(x.Whens))
	typ := tuple.TypeAny
	for i, w := range x.Whens {
		cond, err := c.expr(s, w.Cond)
		if err != nil {
			return cexpr{}, err
		}
		res, err := c.expr(s, w.Result)
		if err != nil {
			return cexpr{}, err
		}
		arms[i] = arm{cond, res}
		if typ == tuple.TypeAny {
			typ = res.typ
		}
	}
	els := constant(nil)
	if x.Else != nil {
		e, err := c.expr(s, x.Else)
		if err != nil {
			return cexpr{}, err
		}
		els = e
		if typ == tuple.TypeAny {
			typ = e.typ
		}
	}
	return cexpr{eval: func(f *frame) (any, *tuple.Error) {
		var op any
		if operand != nil {
			v, err := operand.eval(f)
			if err != nil {
				return nil, err
			}
			op = v
		}
		for _, a := range arms {
			cv, err := a.cond.eval(f)
			if err != nil {
				return nil, err
			}
			if operand != nil {
				if cv, err = compare("=", op, cv); err != nil {
					return nil, err
				}
			}
			t, known, err := value.Truth(cv)
			if err != nil {
				return nil, err
			}
			if known && t {
				return a.result.eval(f)
			}
		}
		return els.eval(f)
	}, typ: typ}, nil
}

// truth evaluates a condition: only TRUE passes (FALSE and NULL do not).
func truth(e cexpr, f *frame) (bool, *tuple.Error) {
	v, err := e.eval(f)
	if err != nil {
		return false, err
	}
	t, known, err := value.Truth(v)
	return known && t, err
}

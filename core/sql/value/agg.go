package value

import (
	"math/big"
	"strings"

	"github.com/cockroachdb/apd/v3"

	"github.com/picogo/picogo/core/tuple"
)

// Aggregate accumulates one aggregate over the rows of a group.
type Aggregate interface {
	// Add feeds one row's evaluated arguments (none for COUNT(*)).
	Add(args []any) *tuple.Error
	// Result is the aggregate over the rows added so far. It fails only
	// for SUM when the exact integer total is outside [-2^63, 2^64) (or a
	// decimal total reaches 10^38): the total, not a running sum, decides,
	// so the answer does not depend on the order of the rows.
	Result() (any, *tuple.Error)
	// ResultType is the static type of the result given the argument's
	// ("any" when unknown; ignored by COUNT).
	ResultType(arg tuple.FieldType) tuple.FieldType
}

// IsAggregate reports whether name (any case) is an aggregate function:
// COUNT, SUM, AVG, TOTAL, MIN, MAX, GROUP_CONCAT, STRING_AGG.
func IsAggregate(name string) bool {
	switch strings.ToUpper(name) {
	case "COUNT", "SUM", "AVG", "TOTAL", "MIN", "MAX", "GROUP_CONCAT", "STRING_AGG":
		return true
	}
	return false
}

// NewAggregate makes an aggregate (name in any case) over nargs arguments;
// distinct makes it see each distinct non-NULL first argument once
// (numerically equal values are one: Key). The aggregates:
//
//	COUNT(*)            every row (name "count", nargs 0); an integer
//	COUNT(x)            rows where x is not NULL; an integer
//	SUM(x)              NULL on no rows; integers sum exactly to an integer
//	                    (overflow is an error), with a double to a double,
//	                    with a decimal to a decimal
//	AVG(x)              NULL on no rows; SUM(x) / COUNT(x): a decimal for
//	                    integers and decimals (38 digits), a double if the
//	                    values were doubles (and no decimal)
//	TOTAL(x)            a double, 0.0 on no rows
//	MIN(x) MAX(x)       NULL on no rows; in Compare's order; values that do
//	                    not compare (a string and a number) are an error
//	GROUP_CONCAT(x[, s]) the strings joined by s (',' by default; each
//	STRING_AGG(x, s)    row's separator goes before its value; a NULL
//	                    separator is empty); NULL on no rows
//
// NULL arguments are skipped by all but COUNT(*). A wrong number of
// arguments is CodeSQLWrongArgCount, an unknown name
// CodeSQLUnknownFunction; SUM, AVG and TOTAL of a non-number and
// GROUP_CONCAT of a non-string are CodeSQLTypeMismatch at Add.
//
// For the two-stage plan: COUNT merges by SUM, SUM by SUM, TOTAL by
// TOTAL, MIN by MIN, MAX by MAX, GROUP_CONCAT by GROUP_CONCAT, and AVG as
// AvgOf(SUM of the sums, SUM of the counts).
func NewAggregate(name string, distinct bool, nargs int) (Aggregate, *tuple.Error) {
	n := strings.ToUpper(name)
	lo, hi := 1, 1
	switch n {
	case "COUNT":
		lo = 0
	case "SUM", "AVG", "TOTAL", "MIN", "MAX":
	case "GROUP_CONCAT":
		hi = 2
	case "STRING_AGG":
		lo, hi = 2, 2
	default:
		return nil, UnknownFunction(name)
	}
	if nargs < lo || nargs > hi || (distinct && nargs == 0) {
		return nil, WrongArgCount(n, max(lo, 1), hi, nargs)
	}
	var a Aggregate
	switch n {
	case "COUNT":
		a = &countAgg{star: nargs == 0}
	case "SUM":
		a = &sumAgg{name: n}
	case "AVG":
		a = &avgAgg{sumAgg{name: n}}
	case "TOTAL":
		a = &totalAgg{sumAgg{name: n}}
	case "MIN":
		a = &extremeAgg{sign: -1}
	case "MAX":
		a = &extremeAgg{sign: 1}
	default:
		a = &concatAgg{name: n}
	}
	if distinct {
		a = &distinctAgg{inner: a, seen: map[string]struct{}{}}
	}
	return a, nil
}

type distinctAgg struct {
	inner Aggregate
	seen  map[string]struct{}
}

func (d *distinctAgg) Add(args []any) *tuple.Error {
	if len(args) > 0 && args[0] != nil {
		k := Key(args[:1])
		if _, ok := d.seen[k]; ok {
			return nil
		}
		d.seen[k] = struct{}{}
	}
	return d.inner.Add(args)
}

func (d *distinctAgg) Result() (any, *tuple.Error)                    { return d.inner.Result() }
func (d *distinctAgg) ResultType(arg tuple.FieldType) tuple.FieldType { return d.inner.ResultType(arg) }

type countAgg struct {
	star bool
	n    int64
}

func (c *countAgg) Add(args []any) *tuple.Error {
	if c.star || (len(args) > 0 && args[0] != nil) {
		c.n++
	}
	return nil
}

func (c *countAgg) Result() (any, *tuple.Error)                { return c.n, nil }
func (c *countAgg) ResultType(tuple.FieldType) tuple.FieldType { return tuple.TypeInteger }

// sumAgg keeps an exact integer total, a double total and a decimal
// total apart, and combines them at the end.
type sumAgg struct {
	name       string
	count      int64
	i          int64    // integer total, fast part
	bi         *big.Int // integer total beyond int64 (nil while it fits)
	f          float64
	d          *apd.Decimal
	hasDouble  bool
	hasDecimal bool
}

func (s *sumAgg) Add(args []any) *tuple.Error {
	v := Normalize(args[0])
	switch x := v.(type) {
	case nil:
		return nil
	case int64:
		r := s.i + x
		if (r > s.i) != (x > 0) {
			s.spill()
			s.i = x
		} else {
			s.i = r
		}
	case uint64:
		s.spill()
		s.bi.Add(s.bi, new(big.Int).SetUint64(x))
	case float64:
		s.f += x
		s.hasDouble = true
	case *apd.Decimal:
		if s.d == nil {
			s.d = new(apd.Decimal)
		}
		cond, err := decimalCtx.Add(s.d, s.d, x)
		if _, e := decimalResult(s.d, cond, err); e != nil {
			return e
		}
		s.hasDecimal = true
	default:
		return typeMismatch("type mismatch: %s() takes numbers, not %s", s.name, Describe(v))
	}
	s.count++
	return nil
}

// spill moves the fast integer total into the big one.
func (s *sumAgg) spill() {
	if s.bi == nil {
		s.bi = new(big.Int)
	}
	s.bi.Add(s.bi, big.NewInt(s.i))
	s.i = 0
}

// intTotal is the exact integer total.
func (s *sumAgg) intTotal() *big.Int {
	t := big.NewInt(s.i)
	if s.bi != nil {
		t.Add(t, s.bi)
	}
	return t
}

func (s *sumAgg) Result() (any, *tuple.Error) {
	if s.count == 0 {
		return nil, nil
	}
	return s.total()
}

func (s *sumAgg) total() (any, *tuple.Error) {
	switch {
	case s.hasDecimal:
		d := new(apd.Decimal).Set(s.d)
		add := func(x *apd.Decimal) *tuple.Error {
			cond, err := decimalCtx.Add(d, d, x)
			_, e := decimalResult(d, cond, err)
			return e
		}
		if err := add(apd.NewWithBigInt(new(apd.BigInt).SetMathBigInt(s.intTotal()), 0)); err != nil {
			return nil, err
		}
		if s.hasDouble {
			x, err := toDecimal(s.f)
			if err != nil {
				return nil, err
			}
			if err := add(x); err != nil {
				return nil, err
			}
		}
		return d, nil
	case s.hasDouble:
		f, _ := new(big.Float).SetInt(s.intTotal()).Float64()
		return f + s.f, nil
	}
	return fromBig(s.intTotal())
}

func (s *sumAgg) ResultType(arg tuple.FieldType) tuple.FieldType {
	switch arg {
	case tuple.TypeInteger, tuple.TypeUnsigned:
		return tuple.TypeInteger
	case tuple.TypeDouble, tuple.TypeDecimal:
		return arg
	}
	return tuple.TypeNumber
}

type avgAgg struct{ sumAgg }

func (a *avgAgg) Result() (any, *tuple.Error) {
	if a.count == 0 {
		return nil, nil
	}
	if a.hasDouble && !a.hasDecimal {
		f, _ := new(big.Float).SetInt(a.intTotal()).Float64()
		return (f + a.f) / float64(a.count), nil
	}
	var sum any
	if a.hasDecimal {
		var err *tuple.Error
		if sum, err = a.total(); err != nil {
			return nil, err
		}
	} else {
		// The exact integer total, even beyond the integer range.
		d := new(apd.Decimal)
		cond, err := decimalCtx.Round(d, apd.NewWithBigInt(new(apd.BigInt).SetMathBigInt(a.intTotal()), 0))
		if _, e := decimalResult(d, cond, err); e != nil {
			return nil, e
		}
		sum = d
	}
	return AvgOf(sum, a.count)
}

func (a *avgAgg) ResultType(arg tuple.FieldType) tuple.FieldType {
	switch arg {
	case tuple.TypeInteger, tuple.TypeUnsigned, tuple.TypeDecimal:
		return tuple.TypeDecimal
	case tuple.TypeDouble:
		return tuple.TypeDouble
	}
	return tuple.TypeNumber
}

// AvgOf is AVG's final step from a sum (SUM's result) and a count: NULL
// when the count is zero or the sum NULL; a double sum gives a double; an
// integer or decimal sum a decimal of 38 digits (trailing zeros
// dropped).
func AvgOf(sum, count any) (any, *tuple.Error) {
	sum, count = Normalize(sum), Normalize(count)
	if sum == nil || count == nil {
		return nil, nil
	}
	var n *apd.Decimal
	switch c := count.(type) {
	case int64:
		if c == 0 {
			return nil, nil
		}
		n = apd.New(c, 0)
	case uint64:
		n = new(apd.Decimal)
		n.Coeff.SetUint64(c)
	default:
		return nil, typeMismatch("type mismatch: AVG count must be an integer, not %s", Describe(count))
	}
	switch s := sum.(type) {
	case float64:
		cf, _ := n.Float64()
		return s / cf, nil
	case int64, uint64:
		d, _ := toDecimal(s)
		return decimalArith("/", d, n)
	case *apd.Decimal:
		return decimalArith("/", s, n)
	}
	return nil, typeMismatch("type mismatch: AVG of %s", Describe(sum))
}

type totalAgg struct{ sumAgg }

func (t *totalAgg) Result() (any, *tuple.Error) {
	f, _ := new(big.Float).SetInt(t.intTotal()).Float64()
	f += t.f
	if t.d != nil {
		df, _ := t.d.Float64()
		f += df
	}
	return f, nil
}

func (t *totalAgg) ResultType(tuple.FieldType) tuple.FieldType { return tuple.TypeDouble }

type extremeAgg struct {
	sign int
	best any
}

func (e *extremeAgg) Add(args []any) *tuple.Error {
	v := Normalize(args[0])
	if v == nil {
		return nil
	}
	if e.best == nil {
		if classOf(v) == clsOther {
			return typeMismatch("type mismatch: cannot order %s", Describe(v))
		}
		e.best = v
		return nil
	}
	c, _, err := Compare(v, e.best)
	if err != nil {
		return err
	}
	if c*e.sign > 0 {
		e.best = v
	}
	return nil
}

func (e *extremeAgg) Result() (any, *tuple.Error)                    { return e.best, nil }
func (e *extremeAgg) ResultType(arg tuple.FieldType) tuple.FieldType { return arg }

type concatAgg struct {
	name string
	sb   strings.Builder
	any  bool
}

func (c *concatAgg) Add(args []any) *tuple.Error {
	var s string
	switch x := args[0].(type) {
	case nil:
		return nil
	case string:
		s = x
	default:
		return typeMismatch("type mismatch: %s() takes strings, not %s", c.name, Describe(args[0]))
	}
	sep := ","
	if len(args) > 1 {
		switch x := args[1].(type) {
		case nil:
			sep = ""
		case string:
			sep = x
		default:
			return typeMismatch("type mismatch: %s() separator must be a string, not %s", c.name, Describe(args[1]))
		}
	}
	if c.any {
		c.sb.WriteString(sep)
	}
	c.sb.WriteString(s)
	c.any = true
	return nil
}

func (c *concatAgg) Result() (any, *tuple.Error) {
	if !c.any {
		return nil, nil
	}
	return c.sb.String(), nil
}

func (c *concatAgg) ResultType(tuple.FieldType) tuple.FieldType { return tuple.TypeString }

package value

import (
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cockroachdb/apd/v3"

	"github.com/picogo/picogo/core/tuple"
)

// Env is what a function may know besides its arguments: the statement's
// time, which the executor takes from the node's injected clock (never the
// wall clock), the same for every row of a statement.
type Env struct {
	Now tuple.Datetime
}

// Func is a scalar SQL function.
type Func struct {
	// Name is the function's canonical name, upper case.
	Name string
	// MinArgs and MaxArgs bound the number of arguments; MaxArgs is -1
	// for a variadic function.
	MinArgs, MaxArgs int

	call   func(fn string, env Env, args []any) (any, *tuple.Error)
	result func(args []tuple.FieldType) tuple.FieldType
}

// CheckArgs reports a wrong number of arguments (CodeSQLWrongArgCount,
// naming the function and the counts), for the binder to call before
// execution.
func (f *Func) CheckArgs(n int) *tuple.Error {
	if n < f.MinArgs || (f.MaxArgs >= 0 && n > f.MaxArgs) {
		return WrongArgCount(f.Name, f.MinArgs, f.MaxArgs, n)
	}
	return nil
}

// Call evaluates the function over evaluated arguments (COALESCE, IFNULL
// and NULLIF get all of theirs: an executor that wants them lazy
// evaluates them itself). The argument count is checked first.
func (f *Func) Call(env Env, args []any) (any, *tuple.Error) {
	if err := f.CheckArgs(len(args)); err != nil {
		return nil, err
	}
	norm := make([]any, len(args))
	for i, a := range args {
		norm[i] = Normalize(a)
	}
	return f.call(f.Name, env, norm)
}

// ResultType is the static type of the function's result given its
// arguments' types ("any" for a NULL literal or an unknown type).
func (f *Func) ResultType(args []tuple.FieldType) tuple.FieldType {
	return f.result(args)
}

// WrongArgCount is the error of a function or aggregate called with got
// arguments where it takes min to max (max -1: no upper bound).
func WrongArgCount(name string, min, max, got int) *tuple.Error {
	var want string
	switch {
	case max < 0:
		want = fmt.Sprintf("at least %d", min)
	case min == max:
		want = fmt.Sprint(min)
	default:
		want = fmt.Sprintf("from %d to %d", min, max)
	}
	return tuple.Errorf(tuple.CodeSQLWrongArgCount,
		"wrong number of arguments is passed to %s(): expected %s, got %d", strings.ToUpper(name), want, got)
}

// UnknownFunction is the error of a call to a function that does not
// exist (CodeSQLUnknownFunction).
func UnknownFunction(name string) *tuple.Error {
	return tuple.Errorf(tuple.CodeSQLUnknownFunction, "function %s() does not exist", strings.ToUpper(name))
}

// LookupFunc finds a scalar function by name, in any case. The functions:
//
//	ABS(x)                          |x|; ABS(-2^63) is the unsigned 2^63
//	LENGTH(s) CHAR_LENGTH(s)        characters of a string (bytes of a
//	CHARACTER_LENGTH(s)             varbinary)
//	LOWER(s) UPPER(s)               Unicode case mapping, character by
//	                                character (UPPER('ß') is 'ß')
//	SUBSTR(s, from[, len])          characters from..from+len-1, 1-based;
//	SUBSTRING(s, from[, len])       positions below 1 count but yield nothing
//	                                (SUBSTRING('abc', 0, 2) is 'a'); a
//	                                negative len is an error
//	TRIM(s[, chars]) LTRIM RTRIM    strip the characters of chars (default
//	                                a space) from both ends / the start / the end
//	ROUND(x[, n])                   x rounded to n decimal places (n < 0:
//	                                to tens, hundreds...), ties away from
//	                                zero; integers and decimals exactly, doubles
//	                                by their exact binary value (ROUND(2.675, 2)
//	                                is 2.67: the double is below 2.675)
//	COALESCE(x, ...)                the first non-NULL argument
//	NULLIF(a, b)                    NULL if a = b, else a
//	IFNULL(a, b)                    b if a is NULL, else a
//	REPLACE(s, from, to)            every from in s replaced by to
//	POSITION(sub, s) INSTR(s, sub)  1-based character position of the first
//	                                sub in s, 0 if none
//	NOW() CURRENT_TIMESTAMP()       Env.Now
//	CURRENT_DATE()                  Env.Now at midnight of its day, in its zone
//	GREATEST(x, ...) LEAST(x, ...)  the largest / smallest non-NULL argument
//	                                (NULL only if all are), as PostgreSQL
//
// NULL in any argument gives NULL except for COALESCE, IFNULL, NULLIF's
// second argument, GREATEST and LEAST. An argument of a wrong type is a
// CodeSQLTypeMismatch error naming the function.
func LookupFunc(name string) (*Func, bool) {
	f, ok := funcs[strings.ToUpper(name)]
	return f, ok
}

var funcs = map[string]*Func{}

func init() {
	def := func(names []string, min, max int, call func(string, Env, []any) (any, *tuple.Error),
		result func([]tuple.FieldType) tuple.FieldType) {
		for _, n := range names {
			funcs[n] = &Func{Name: n, MinArgs: min, MaxArgs: max, call: call, result: result}
		}
	}
	typ := func(t tuple.FieldType) func([]tuple.FieldType) tuple.FieldType {
		return func([]tuple.FieldType) tuple.FieldType { return t }
	}
	first := func(ts []tuple.FieldType) tuple.FieldType {
		if len(ts) == 0 {
			return tuple.TypeAny
		}
		return ts[0]
	}
	def([]string{"ABS"}, 1, 1, fnAbs, first)
	def([]string{"LENGTH", "CHAR_LENGTH", "CHARACTER_LENGTH"}, 1, 1, fnLength, typ(tuple.TypeInteger))
	def([]string{"LOWER"}, 1, 1, fnCase(strings.ToLower), typ(tuple.TypeString))
	def([]string{"UPPER"}, 1, 1, fnCase(strings.ToUpper), typ(tuple.TypeString))
	def([]string{"SUBSTR", "SUBSTRING"}, 2, 3, fnSubstr, typ(tuple.TypeString))
	def([]string{"TRIM"}, 1, 2, fnTrim("BOTH"), typ(tuple.TypeString))
	def([]string{"LTRIM"}, 1, 2, fnTrim("LEADING"), typ(tuple.TypeString))
	def([]string{"RTRIM"}, 1, 2, fnTrim("TRAILING"), typ(tuple.TypeString))
	def([]string{"ROUND"}, 1, 2, fnRound, first)
	def([]string{"COALESCE"}, 1, -1, fnCoalesce, commonType)
	def([]string{"NULLIF"}, 2, 2, fnNullif, first)
	def([]string{"IFNULL"}, 2, 2, fnCoalesce, commonType)
	def([]string{"REPLACE"}, 3, 3, fnReplace, typ(tuple.TypeString))
	def([]string{"POSITION"}, 2, 2, fnPosition(false), typ(tuple.TypeInteger))
	def([]string{"INSTR"}, 2, 2, fnPosition(true), typ(tuple.TypeInteger))
	def([]string{"NOW", "CURRENT_TIMESTAMP"}, 0, 0,
		func(_ string, env Env, _ []any) (any, *tuple.Error) { return env.Now, nil }, typ(tuple.TypeDatetime))
	def([]string{"CURRENT_DATE"}, 0, 0,
		func(_ string, env Env, _ []any) (any, *tuple.Error) { return startOfDay(env.Now), nil }, typ(tuple.TypeDatetime))
	def([]string{"GREATEST"}, 1, -1, fnExtreme(1), commonType)
	def([]string{"LEAST"}, 1, -1, fnExtreme(-1), commonType)
}

func argMismatch(fn string, i int, want string, v any) *tuple.Error {
	return typeMismatch("type mismatch: %s(): argument %d must be %s, not %s", fn, i+1, want, Describe(v))
}

// stringArgs checks that every argument is a string or NULL; null reports
// a NULL among them.
func stringArgs(fn string, args []any) (ss []string, null bool, err *tuple.Error) {
	ss = make([]string, len(args))
	for i, a := range args {
		switch x := a.(type) {
		case nil:
			null = true
		case string:
			ss[i] = x
		default:
			return nil, false, argMismatch(fn, i, "a string", a)
		}
	}
	return ss, null, nil
}

// intArg reads an integer argument; an unsigned above MaxInt64 saturates
// to MaxInt64 (positions and lengths that large are all the same).
func intArg(fn string, i int, v any) (int64, *tuple.Error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case uint64:
		return math.MaxInt64, nil
	}
	return 0, argMismatch(fn, i, "an integer", v)
}

func fnAbs(fn string, _ Env, args []any) (any, *tuple.Error) {
	switch x := args[0].(type) {
	case nil:
		return nil, nil
	case int64:
		if x < 0 {
			return Neg(x)
		}
		return x, nil
	case uint64:
		return x, nil
	case float64:
		return math.Abs(x), nil
	case *apd.Decimal:
		return new(apd.Decimal).Abs(x), nil
	}
	return nil, argMismatch(fn, 0, "a number", args[0])
}

func fnLength(fn string, _ Env, args []any) (any, *tuple.Error) {
	switch x := args[0].(type) {
	case nil:
		return nil, nil
	case string:
		return int64(utf8.RuneCountInString(x)), nil
	case []byte:
		return int64(len(x)), nil
	}
	return nil, argMismatch(fn, 0, "a string", args[0])
}

func fnCase(f func(string) string) func(string, Env, []any) (any, *tuple.Error) {
	return func(fn string, _ Env, args []any) (any, *tuple.Error) {
		ss, null, err := stringArgs(fn, args)
		if err != nil || null {
			return nil, err
		}
		return f(ss[0]), nil
	}
}

func fnSubstr(fn string, _ Env, args []any) (any, *tuple.Error) {
	var from, n int64
	hasLen := len(args) == 3
	for i := 1; i < len(args); i++ {
		if args[i] == nil {
			continue
		}
		v, err := intArg(fn, i, args[i])
		if err != nil {
			return nil, err
		}
		if i == 1 {
			from = v
		} else {
			n = v
		}
	}
	switch args[0].(type) {
	case nil, string, []byte:
	default:
		return nil, argMismatch(fn, 0, "a string", args[0])
	}
	for _, x := range args {
		if x == nil {
			return nil, nil
		}
	}
	if hasLen && n < 0 {
		return nil, tuple.Errorf(tuple.CodeSQLInvalidArgument, "%s(): negative length %d", fn, n)
	}
	// The window is [from, end) in 1-based positions; clip to [1, size+1).
	window := func(size int) (int, int) {
		end := int64(math.MaxInt64)
		if hasLen {
			if from > math.MaxInt64-n {
				end = math.MaxInt64
			} else {
				end = from + n
			}
		}
		lo, hi := max(from, 1), min(end, int64(size)+1)
		if lo >= hi {
			return 0, 0
		}
		return int(lo - 1), int(hi - 1)
	}
	if b, ok := args[0].([]byte); ok {
		lo, hi := window(len(b))
		return append([]byte{}, b[lo:hi]...), nil
	}
	r := []rune(args[0].(string))
	lo, hi := window(len(r))
	return string(r[lo:hi]), nil
}

func fnTrim(kind string) func(string, Env, []any) (any, *tuple.Error) {
	return func(fn string, _ Env, args []any) (any, *tuple.Error) {
		chars := any(" ")
		if len(args) == 2 {
			chars = args[1]
		}
		if _, ok := chars.(string); !ok && chars != nil {
			return nil, argMismatch(fn, 1, "a string", chars)
		}
		return trim(fn, kind, chars, args[0])
	}
}

// Trim is TRIM([LEADING | TRAILING | BOTH] [chars] FROM x): kind is
// "LEADING", "TRAILING" or "BOTH" (any case; "" is BOTH); chars is the set
// of characters to strip (the caller passes " " when the query names
// none). NULL in chars or x gives NULL.
func Trim(kind string, chars, x any) (any, *tuple.Error) {
	return trim("TRIM", kind, Normalize(chars), Normalize(x))
}

func trim(fn, kind string, chars, x any) (any, *tuple.Error) {
	ss, null, err := stringArgs(fn, []any{x, chars})
	if err != nil || null {
		return nil, err
	}
	cut := func(r rune) bool { return strings.ContainsRune(ss[1], r) }
	switch strings.ToUpper(kind) {
	case "", "BOTH":
		return strings.TrimFunc(ss[0], cut), nil
	case "LEADING":
		return strings.TrimLeftFunc(ss[0], cut), nil
	case "TRAILING":
		return strings.TrimRightFunc(ss[0], cut), nil
	}
	return nil, tuple.Errorf(tuple.CodeSQLInvalidArgument, "%s(): unknown kind %q", fn, kind)
}

func fnRound(fn string, _ Env, args []any) (any, *tuple.Error) {
	var places int64
	if len(args) == 2 {
		if args[1] == nil {
			if numKindOf(args[0]) == kNotNumber && args[0] != nil {
				return nil, argMismatch(fn, 0, "a number", args[0])
			}
			return nil, nil
		}
		p, err := intArg(fn, 1, args[1])
		if err != nil {
			return nil, err
		}
		places = p
	}
	switch x := args[0].(type) {
	case nil:
		return nil, nil
	case int64, uint64:
		return roundInt(x, places)
	case *apd.Decimal:
		return roundDecimal(x, places)
	case float64:
		return roundDouble(x, places), nil
	}
	return nil, argMismatch(fn, 0, "a number", args[0])
}

func roundInt(x any, places int64) (any, *tuple.Error) {
	if places >= 0 {
		return x, nil
	}
	if places < -20 {
		return int64(0), nil
	}
	b := bigOf(x)
	neg := b.Sign() < 0
	b.Abs(b)
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(-places), nil)
	q, r := new(big.Int).QuoRem(b, p, new(big.Int))
	if r.Lsh(r, 1).Cmp(p) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	q.Mul(q, p)
	if neg {
		q.Neg(q)
	}
	return fromBig(q)
}

func roundDecimal(x *apd.Decimal, places int64) (any, *tuple.Error) {
	if places > 2*tuple.MaxDecimalDigits || -places <= int64(x.Exponent) {
		return x, nil // no digits below that place
	}
	if places < -2*tuple.MaxDecimalDigits {
		return apd.New(0, 0), nil
	}
	ctx := decimalCtx
	ctx.Precision = 3 * tuple.MaxDecimalDigits
	ctx.MaxExponent = 3 * tuple.MaxDecimalDigits
	d := new(apd.Decimal)
	if _, err := ctx.Quantize(d, x, int32(-places)); err != nil {
		return nil, decimalOverflow()
	}
	if d.NumDigits() > tuple.MaxDecimalDigits {
		d.Reduce(d)
	}
	if d.NumDigits()+int64(d.Exponent) > tuple.MaxDecimalDigits {
		return nil, decimalOverflow()
	}
	return d, nil
}

func roundDouble(x float64, places int64) float64 {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0) || x == 0:
		return x
	case places == 0:
		return math.Round(x)
	case places > 400:
		return x
	case places < -400:
		return math.Copysign(0, x)
	}
	d := exactDecimal(x)
	if -places <= int64(d.Exponent) {
		return x
	}
	ctx := apd.BaseContext.WithPrecision(1200)
	ctx.Rounding = apd.RoundHalfUp
	ctx.MaxExponent = 2000
	ctx.MinExponent = -2000
	r := new(apd.Decimal)
	if _, err := ctx.Quantize(r, d, int32(-places)); err != nil {
		return x
	}
	f, err := r.Float64()
	if err != nil {
		return x
	}
	if f == 0 {
		return math.Copysign(0, x)
	}
	return f
}

func fnCoalesce(fn string, _ Env, args []any) (any, *tuple.Error) {
	for _, x := range args {
		if x != nil {
			return x, nil
		}
	}
	return nil, nil
}

func fnNullif(fn string, _ Env, args []any) (any, *tuple.Error) {
	eq, _, err := Equal(args[0], args[1])
	if err != nil {
		return nil, err
	}
	if eq {
		return nil, nil
	}
	return args[0], nil
}

func fnReplace(fn string, _ Env, args []any) (any, *tuple.Error) {
	ss, null, err := stringArgs(fn, args)
	if err != nil || null {
		return nil, err
	}
	if ss[1] == "" {
		return ss[0], nil
	}
	return strings.ReplaceAll(ss[0], ss[1], ss[2]), nil
}

// fnPosition: POSITION(sub, s), or INSTR(s, sub) when reversed.
func fnPosition(reversed bool) func(string, Env, []any) (any, *tuple.Error) {
	return func(fn string, _ Env, args []any) (any, *tuple.Error) {
		ss, null, err := stringArgs(fn, args)
		if err != nil || null {
			return nil, err
		}
		sub, s := ss[0], ss[1]
		if reversed {
			s, sub = sub, s
		}
		i := strings.Index(s, sub)
		if i < 0 {
			return int64(0), nil
		}
		return int64(utf8.RuneCountInString(s[:i]) + 1), nil
	}
}

// fnExtreme: GREATEST (sign 1) or LEAST (-1) of the non-NULL arguments.
func fnExtreme(sign int) func(string, Env, []any) (any, *tuple.Error) {
	return func(fn string, _ Env, args []any) (any, *tuple.Error) {
		var best any
		for _, x := range args {
			if x == nil {
				continue
			}
			if best == nil {
				best = x
				continue
			}
			c, _, err := Compare(x, best)
			if err != nil {
				return nil, err
			}
			if c*sign > 0 {
				best = x
			}
		}
		return best, nil
	}
}

// startOfDay is midnight of d's day in d's zone offset.
func startOfDay(d tuple.Datetime) tuple.Datetime {
	t := d.Time()
	y, m, day := t.Date()
	out := tuple.DatetimeOf(time.Date(y, m, day, 0, 0, 0, 0, t.Location()))
	out.TzOffset, out.TzIndex = d.TzOffset, d.TzIndex
	return out
}

// commonType is the type of a value that may come from any of the
// arguments: the one type they share (NULLs' "any" aside); integer for a
// mix of integer and unsigned; number for a mix of numbers; scalar
// otherwise.
func commonType(ts []tuple.FieldType) tuple.FieldType {
	var out tuple.FieldType
	for _, t := range ts {
		switch {
		case t == tuple.TypeAny || t == "":
			continue
		case out == "" || out == t:
			out = t
		case isIntType(out) && isIntType(t):
			out = tuple.TypeInteger
		case isNumType(out) && isNumType(t):
			out = tuple.TypeNumber
		default:
			return tuple.TypeScalar
		}
	}
	if out == "" {
		return tuple.TypeAny
	}
	return out
}

func isIntType(t tuple.FieldType) bool {
	return t == tuple.TypeInteger || t == tuple.TypeUnsigned
}

func isNumType(t tuple.FieldType) bool {
	switch t {
	case tuple.TypeInteger, tuple.TypeUnsigned, tuple.TypeDouble, tuple.TypeDecimal, tuple.TypeNumber:
		return true
	}
	return false
}

package value

import (
	"math"
	"math/big"
	"strconv"

	"github.com/cockroachdb/apd/v3"

	"github.com/picogo/picogo/core/tuple"
)

// decimalCtx is the context of decimal arithmetic: Tarantool's 38
// significant digits, ties away from zero, and nothing of 10^38 or more.
var decimalCtx = apd.Context{
	Precision:   tuple.MaxDecimalDigits,
	MaxExponent: tuple.MaxDecimalDigits - 1,
	MinExponent: -2 * tuple.MaxDecimalDigits,
	Rounding:    apd.RoundHalfUp,
}

// decimalResult checks the condition of a decimal operation.
func decimalResult(d *apd.Decimal, cond apd.Condition, err error) (any, *tuple.Error) {
	switch {
	case cond.DivisionByZero() || cond.DivisionUndefined():
		return nil, divisionByZero()
	case cond.Overflow():
		return nil, decimalOverflow()
	case err != nil || cond.InvalidOperation() || d.Form != apd.Finite:
		return nil, tuple.Errorf(tuple.CodeSQLDecimalOverflow, "decimal operation failed: %v", err)
	}
	if d.NumDigits() > tuple.MaxDecimalDigits {
		return nil, decimalOverflow()
	}
	return d, nil
}

// numKind is the kind of a number operand.
type numKind int

const (
	kNotNumber numKind = iota
	kInt
	kDouble
	kDecimal
)

func numKindOf(v any) numKind {
	switch v.(type) {
	case int64, uint64:
		return kInt
	case float64:
		return kDouble
	case *apd.Decimal:
		return kDecimal
	}
	return kNotNumber
}

// Arith computes a op b for op one of + - * / %. NULL in either operand
// gives NULL (the other must still be a number or NULL). Two integers give
// an exact integer in [-2^63, 2^64) (int64, or uint64 above MaxInt64)
// or a CodeSQLIntegerOverflow error; integer / integer truncates toward
// zero and % has the sign of the dividend. An integer with a double gives
// a double; a decimal with anything gives a decimal (38 digits;
// CodeSQLDecimalOverflow at 10^38; a quotient drops its trailing zeros,
// so 1/4 is 0.25 and 3.00/1 is 3). % takes integers only. Division or %
// by zero is CodeSQLDivisionByZero for every kind. Double results follow
// IEEE 754 otherwise (1e308 * 10 is +Inf).
func Arith(op string, a, b any) (any, *tuple.Error) {
	if _, ok := a.(int64); ok {
		if _, ok := b.(int64); ok && op != "" {
			return intArith(op, a, b) // the common case, first
		}
	}
	a, b = Normalize(a), Normalize(b)
	ka, kb := numKindOf(a), numKindOf(b)
	if (ka == kNotNumber && a != nil) || (kb == kNotNumber && b != nil) {
		return nil, typeMismatch("type mismatch: cannot apply %s to %s and %s", op, Describe(a), Describe(b))
	}
	switch op {
	case "+", "-", "*", "/", "%":
	default:
		return nil, tuple.Errorf(tuple.CodeIllegalParams, "unknown arithmetic operator %q", op)
	}
	if a == nil || b == nil {
		return nil, nil
	}
	if op == "%" && (ka != kInt || kb != kInt) {
		return nil, typeMismatch("type mismatch: %% takes integers, not %s and %s", Describe(a), Describe(b))
	}
	switch {
	case ka == kDecimal || kb == kDecimal:
		x, err := toDecimal(a)
		if err != nil {
			return nil, err
		}
		y, err := toDecimal(b)
		if err != nil {
			return nil, err
		}
		return decimalArith(op, x, y)
	case ka == kDouble || kb == kDouble:
		x, y := toFloat(a), toFloat(b)
		switch op {
		case "+":
			return x + y, nil
		case "-":
			return x - y, nil
		case "*":
			return x * y, nil
		}
		if y == 0 {
			return nil, divisionByZero()
		}
		return x / y, nil
	}
	return intArith(op, a, b)
}

func decimalArith(op string, x, y *apd.Decimal) (any, *tuple.Error) {
	d := new(apd.Decimal)
	var cond apd.Condition
	var err error
	switch op {
	case "+":
		cond, err = decimalCtx.Add(d, x, y)
	case "-":
		cond, err = decimalCtx.Sub(d, x, y)
	case "*":
		cond, err = decimalCtx.Mul(d, x, y)
	case "/":
		if y.IsZero() {
			return nil, divisionByZero()
		}
		cond, err = decimalCtx.Quo(d, x, y)
		if err == nil && !cond.Overflow() {
			// 1/4 is 0.25, not 0.2500000000000000000000000000000000000.
			d.Reduce(d)
		}
	}
	return decimalResult(d, cond, err)
}

// intArith is exact integer arithmetic; a and b are int64 or uint64.
func intArith(op string, a, b any) (any, *tuple.Error) {
	x, xok := a.(int64)
	y, yok := b.(int64)
	if xok && yok {
		switch op {
		case "+":
			r := x + y
			if (r > x) == (y > 0) {
				return r, nil
			}
		case "-":
			r := x - y
			if (r < x) == (y > 0) {
				return r, nil
			}
		case "*":
			if x == 0 || y == 0 {
				return int64(0), nil
			}
			r := x * y
			if r/y == x && !(x == -1 && y == math.MinInt64) && !(y == -1 && x == math.MinInt64) {
				return r, nil
			}
		case "/", "%":
			if y == 0 {
				return nil, divisionByZero()
			}
			if !(x == math.MinInt64 && y == -1) {
				if op == "/" {
					return x / y, nil
				}
				return x % y, nil
			}
		}
	}
	// The slow path: exact big integers.
	bx, by := bigOf(a), bigOf(b)
	r := new(big.Int)
	switch op {
	default:
		return nil, tuple.Errorf(tuple.CodeIllegalParams, "unknown arithmetic operator %q", op)
	case "+":
		r.Add(bx, by)
	case "-":
		r.Sub(bx, by)
	case "*":
		r.Mul(bx, by)
	case "/":
		if by.Sign() == 0 {
			return nil, divisionByZero()
		}
		r.Quo(bx, by)
	case "%":
		if by.Sign() == 0 {
			return nil, divisionByZero()
		}
		r.Rem(bx, by)
	}
	return fromBig(r)
}

func bigOf(v any) *big.Int {
	switch x := v.(type) {
	case int64:
		return big.NewInt(x)
	case uint64:
		return new(big.Int).SetUint64(x)
	}
	return new(big.Int)
}

// fromBig is an integer in [-2^63, 2^64) as int64 or uint64, else an
// overflow error.
func fromBig(r *big.Int) (any, *tuple.Error) {
	switch {
	case r.IsInt64():
		return r.Int64(), nil
	case r.IsUint64():
		return r.Uint64(), nil
	}
	return nil, integerOverflow()
}

// toFloat converts a normalized number to float64.
func toFloat(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	case float64:
		return x
	case *apd.Decimal:
		f, _ := x.Float64()
		return f
	}
	return math.NaN()
}

// toDecimal converts a normalized number to a decimal: integers exactly, a
// double through its shortest round-trip text (NaN and the infinities are
// a type mismatch: decimals are finite).
func toDecimal(v any) (*apd.Decimal, *tuple.Error) {
	switch x := v.(type) {
	case int64:
		return apd.New(x, 0), nil
	case uint64:
		d := new(apd.Decimal)
		d.Coeff.SetUint64(x)
		return d, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, typeMismatch("type mismatch: cannot convert %s to decimal", Describe(x))
		}
		d, _, err := apd.NewFromString(strconv.FormatFloat(x, 'g', -1, 64))
		if err != nil {
			return nil, typeMismatch("type mismatch: cannot convert %s to decimal", Describe(x))
		}
		if d.NumDigits() > tuple.MaxDecimalDigits || d.Exponent+int32(d.NumDigits()) > tuple.MaxDecimalDigits {
			r := new(apd.Decimal)
			cond, err := decimalCtx.Round(r, d)
			if _, e := decimalResult(r, cond, err); e != nil {
				return nil, e
			}
			return r, nil
		}
		return d, nil
	case *apd.Decimal:
		return x, nil
	}
	return nil, typeMismatch("type mismatch: %s is not a number", Describe(v))
}

// Neg is unary minus: NULL stays NULL; -(-2^63) is the unsigned 2^63;
// -x for x above 2^63 overflows.
func Neg(v any) (any, *tuple.Error) {
	switch x := Normalize(v).(type) {
	case nil:
		return nil, nil
	case int64:
		if x == math.MinInt64 {
			return uint64(1) << 63, nil
		}
		return -x, nil
	case uint64:
		if x == 1<<63 {
			return int64(math.MinInt64), nil
		}
		return nil, integerOverflow()
	case float64:
		return -x, nil
	case *apd.Decimal:
		return new(apd.Decimal).Neg(x), nil
	}
	return nil, typeMismatch("type mismatch: cannot negate %s", Describe(v))
}

// Concat is ||: two strings (or two varbinaries) joined; NULL in either
// gives NULL; anything else is a type mismatch.
func Concat(a, b any) (any, *tuple.Error) {
	switch x := a.(type) {
	case nil:
		switch b.(type) {
		case nil, string, []byte:
			return nil, nil
		}
	case string:
		switch y := b.(type) {
		case nil:
			return nil, nil
		case string:
			return x + y, nil
		}
	case []byte:
		switch y := b.(type) {
		case nil:
			return nil, nil
		case []byte:
			out := make([]byte, 0, len(x)+len(y))
			return append(append(out, x...), y...), nil
		}
	}
	return nil, typeMismatch("type mismatch: cannot concatenate %s and %s", Describe(a), Describe(b))
}

// ArithType is the static type of a op b: % gives integer; a decimal
// operand decimal; a double operand double; two integer types integer;
// an operand of type number, scalar or any gives number; NULL's type
// ("any") takes the other side's.
func ArithType(op string, a, b tuple.FieldType) tuple.FieldType {
	if op == "%" {
		return tuple.TypeInteger
	}
	isInt := func(t tuple.FieldType) bool { return t == tuple.TypeInteger || t == tuple.TypeUnsigned }
	if a == tuple.TypeAny {
		a = b
	}
	if b == tuple.TypeAny {
		b = a
	}
	switch {
	case a == tuple.TypeDecimal || b == tuple.TypeDecimal:
		return tuple.TypeDecimal
	case a == tuple.TypeDouble && (b == tuple.TypeDouble || isInt(b)),
		b == tuple.TypeDouble && isInt(a):
		return tuple.TypeDouble
	case isInt(a) && isInt(b):
		return tuple.TypeInteger
	}
	return tuple.TypeNumber
}

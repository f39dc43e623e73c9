package value

import (
	"math"
	"math/big"
	"testing"

	"github.com/cockroachdb/apd/v3"

	"github.com/picogo/picogo/core/tuple"
)

const (
	maxI = int64(math.MaxInt64)
	minI = int64(math.MinInt64)
)

var twoTo63U = uint64(1) << 63

func TestArith(t *testing.T) {
	ovf, div, mis := tuple.CodeSQLIntegerOverflow, tuple.CodeSQLDivisionByZero, tuple.CodeSQLTypeMismatch
	for _, c := range []struct {
		op   string
		a, b any
		want any
		code uint32
	}{
		// NULL in every position.
		{"+", nil, int64(1), nil, 0},
		{"-", 1.5, nil, nil, 0},
		{"*", nil, nil, nil, 0},
		{"/", nil, int64(0), nil, 0},
		{"%", int64(1), nil, nil, 0},
		{"/", dec("1"), nil, nil, 0},
		{"+", nil, "x", nil, mis},
		{"+", "x", nil, nil, mis},
		// Integers, exact.
		{"+", int64(2), int64(3), int64(5), 0},
		{"-", int64(2), int64(3), int64(-1), 0},
		{"*", int64(-4), int64(3), int64(-12), 0},
		{"/", int64(7), int64(2), int64(3), 0},
		{"/", int64(-7), int64(2), int64(-3), 0},
		{"/", int64(7), int64(-2), int64(-3), 0},
		{"%", int64(7), int64(3), int64(1), 0},
		{"%", int64(-7), int64(3), int64(-1), 0},
		{"%", int64(7), int64(-3), int64(1), 0},
		{"+", uint8(2), int16(3), int64(5), 0},
		// The edges.
		{"+", maxI, int64(1), twoTo63U, 0},
		{"-", minI, int64(1), nil, ovf},
		{"+", minI, int64(-1), nil, ovf},
		{"-", int64(0), minI, twoTo63U, 0},
		{"*", minI, int64(-1), twoTo63U, 0},
		{"/", minI, int64(-1), twoTo63U, 0},
		{"%", minI, int64(-1), int64(0), 0},
		{"+", maxU, int64(0), maxU, 0},
		{"+", maxU, int64(1), nil, ovf},
		{"-", maxU, maxU, int64(0), 0},
		{"-", int64(0), maxU, nil, ovf},
		{"-", maxU, int64(-1), nil, ovf},
		{"*", maxU, int64(-1), nil, ovf},
		{"*", maxU, int64(1), maxU, 0},
		{"*", int64(1 << 32), int64(1 << 32), nil, ovf},
		{"*", int64(1 << 32), int64(1 << 31), twoTo63U, 0},
		{"*", int64(-(1 << 32)), int64(1 << 31), minI, 0},
		{"*", int64(3037000500), int64(3037000500), uint64(9223372037000250000), 0},
		{"/", maxU, int64(-1), nil, ovf},
		{"/", maxU, int64(2), maxI, 0},
		{"%", maxU, int64(10), int64(5), 0},
		{"+", twoTo63U, minI, int64(0), 0},
		{"-", twoTo63U, int64(1), maxI, 0},
		// Division by zero.
		{"/", int64(1), int64(0), nil, div},
		{"%", int64(1), int64(0), nil, div},
		{"/", maxU, int64(0), nil, div},
		{"/", 1.0, 0.0, nil, div},
		{"/", int64(1), 0.0, nil, div},
		{"/", dec("1"), dec("0.00"), nil, div},
		{"/", dec("1"), int64(0), nil, div},
		// Doubles.
		{"+", int64(1), 0.5, 1.5, 0},
		{"/", 1.0, 4.0, 0.25, 0},
		{"/", int64(1), 4.0, 0.25, 0},
		{"*", 1e308, 10.0, math.Inf(1), 0},
		{"-", 0.0, 0.0, 0.0, 0},
		{"%", 5.5, int64(2), nil, mis},
		{"%", int64(5), 2.0, nil, mis},
		{"%", dec("5"), int64(2), nil, mis},
		// Decimals.
		{"+", dec("1.10"), int64(1), dec("2.10"), 0},
		{"+", dec("0.1"), 0.2, dec("0.3"), 0},
		{"*", dec("1.5"), dec("2"), dec("3.0"), 0},
		{"/", int64(1), dec("4"), dec("0.25"), 0},
		{"/", dec("1"), dec("3"), dec("0.33333333333333333333333333333333333333"), 0},
		{"/", dec("2"), dec("3"), dec("0.66666666666666666666666666666666666667"), 0},
		{"-", dec("1"), maxU, dec("-18446744073709551614"), 0},
		{"+", dec("99999999999999999999999999999999999999"), int64(0), dec("99999999999999999999999999999999999999"), 0},
		{"+", dec("99999999999999999999999999999999999999"), int64(1), nil, tuple.CodeSQLDecimalOverflow},
		{"*", dec("1E20"), dec("1E20"), nil, tuple.CodeSQLDecimalOverflow},
		{"+", dec("1"), math.NaN(), nil, mis},
		// Not numbers.
		{"+", "1", int64(1), nil, mis},
		{"-", true, int64(1), nil, mis},
		{"*", int64(1), []byte("x"), nil, mis},
		{"^", int64(1), int64(1), nil, tuple.CodeIllegalParams},
	} {
		got, err := Arith(c.op, c.a, c.b)
		if code(err) != c.code || (c.code == 0 && !same(got, c.want)) || (c.code != 0 && got != nil) {
			t.Errorf("%v %s %v = %T %v, %v; want %T %v, code %d", c.a, c.op, c.b, got, got, err, c.want, c.want, c.code)
		}
	}
	if _, err := Arith("+", maxU, int64(1)); err == nil || err.Message != "integer is overflowed" {
		t.Errorf("overflow message: %v", err)
	}
	if _, err := Arith("/", int64(1), int64(0)); err == nil || err.Message != "division by zero" {
		t.Errorf("division message: %v", err)
	}
}

func TestNeg(t *testing.T) {
	for _, c := range []struct {
		in, want any
		code     uint32
	}{
		{nil, nil, 0}, {int64(5), int64(-5), 0}, {minI, twoTo63U, 0}, {twoTo63U, minI, 0},
		{twoTo63U + 1, nil, tuple.CodeSQLIntegerOverflow}, {maxU, nil, tuple.CodeSQLIntegerOverflow},
		{1.5, -1.5, 0}, {dec("1.5"), dec("-1.5"), 0}, {"x", nil, tuple.CodeSQLTypeMismatch},
		{uint8(3), int64(-3), 0},
	} {
		got, err := Neg(c.in)
		if code(err) != c.code || !same(got, c.want) {
			t.Errorf("-%v = %v, %v", c.in, got, err)
		}
	}
}

func TestConcat(t *testing.T) {
	for _, c := range []struct {
		a, b, want any
		code       uint32
	}{
		{"a", "b", "ab", 0}, {"", "", "", 0}, {nil, "b", nil, 0}, {"a", nil, nil, 0}, {nil, nil, nil, 0},
		{[]byte("a"), []byte("b"), []byte("ab"), 0},
		{"a", int64(1), nil, tuple.CodeSQLTypeMismatch}, {int64(1), "a", nil, tuple.CodeSQLTypeMismatch},
		{"a", []byte("b"), nil, tuple.CodeSQLTypeMismatch}, {nil, int64(1), nil, tuple.CodeSQLTypeMismatch},
	} {
		got, err := Concat(c.a, c.b)
		if code(err) != c.code || !same(got, c.want) {
			t.Errorf("%v || %v = %v, %v", c.a, c.b, got, err)
		}
	}
}

func TestArithType(t *testing.T) {
	for _, c := range []struct {
		op         string
		a, b, want tuple.FieldType
	}{
		{"+", "integer", "integer", "integer"}, {"+", "unsigned", "integer", "integer"},
		{"*", "integer", "double", "double"}, {"-", "double", "double", "double"},
		{"/", "decimal", "double", "decimal"}, {"+", "integer", "decimal", "decimal"},
		{"%", "integer", "integer", "integer"}, {"+", "number", "integer", "number"},
		{"+", "any", "integer", "integer"}, {"+", "double", "any", "double"}, {"+", "any", "any", "number"},
		{"+", "scalar", "integer", "number"},
	} {
		if got := ArithType(c.op, c.a, c.b); got != c.want {
			t.Errorf("ArithType(%s, %s, %s) = %s, want %s", c.op, c.a, c.b, got, c.want)
		}
	}
}

// FuzzArith: integer arithmetic never panics and is exact: the result is
// math/big's when that lies in [-2^63, 2^64), an overflow error otherwise.
func FuzzArith(f *testing.F) {
	for _, s := range [][2]uint64{
		{uint64(maxI), 1}, {twoTo63U, twoTo63U}, {math.MaxUint64, 1}, {0, 0}, {twoTo63U, math.MaxUint64},
		{3037000500, 3037000500}, {1 << 32, 1 << 31},
	} {
		for op := range uint8(5) {
			f.Add(s[0], s[1], op, false, true)
		}
	}
	f.Fuzz(func(t *testing.T, x, y uint64, op uint8, xu, yu bool) {
		ops := []string{"+", "-", "*", "/", "%"}
		o := ops[int(op)%len(ops)]
		// xu: x is unsigned (uint64), else a signed int64 of the same bits.
		var a, b any = int64(x), int64(y)
		if xu {
			a = x
		}
		if yu {
			b = y
		}
		ba, bb := bigOf(Normalize(a)), bigOf(Normalize(b))
		got, err := Arith(o, a, b)
		if bb.Sign() == 0 && (o == "/" || o == "%") {
			if code(err) != tuple.CodeSQLDivisionByZero {
				t.Fatalf("%v %s 0: %v, %v", a, o, got, err)
			}
			return
		}
		want := new(big.Int)
		switch o {
		case "+":
			want.Add(ba, bb)
		case "-":
			want.Sub(ba, bb)
		case "*":
			want.Mul(ba, bb)
		case "/":
			want.Quo(ba, bb)
		case "%":
			want.Rem(ba, bb)
		}
		inRange := want.IsInt64() || want.IsUint64()
		if !inRange {
			if code(err) != tuple.CodeSQLIntegerOverflow || got != nil {
				t.Fatalf("%v %s %v = %v, %v; want overflow (%s)", a, o, b, got, err, want)
			}
			return
		}
		if err != nil {
			t.Fatalf("%v %s %v: %v; want %s", a, o, b, err, want)
		}
		switch g := got.(type) {
		case int64:
			if !want.IsInt64() || want.Int64() != g {
				t.Fatalf("%v %s %v = int64 %d; want %s", a, o, b, g, want)
			}
		case uint64:
			if want.IsInt64() || want.Uint64() != g {
				t.Fatalf("%v %s %v = uint64 %d; want %s (int64 when it fits)", a, o, b, g, want)
			}
		default:
			t.Fatalf("%v %s %v = %T", a, o, b, got)
		}
		// Every other kind pairing only must not panic.
		for _, other := range []any{float64(x), dec("1.5"), nil, "s"} {
			_, _ = Arith(o, a, other)
			_, _ = Arith(o, other, b)
		}
	})
}

func TestDecimalDigits(t *testing.T) {
	// 38 digits at most, ties away from zero.
	got, err := Arith("+", dec("0.99999999999999999999999999999999999995"), dec("0"))
	if err != nil {
		t.Fatal(err)
	}
	if d := got.(*apd.Decimal); d.NumDigits() > 38 {
		t.Errorf("%s has %d digits", d, d.NumDigits())
	}
	got, err = Arith("+", dec("1"), dec("0.000000000000000000000000000000000000005"))
	if err != nil || got.(*apd.Decimal).Cmp(dec("1.000000000000000000000000000000000000")) != 0 {
		t.Errorf("1 + 5e-39 = %v, %v", got, err)
	}
	got, err = Arith("+", dec("-1"), dec("-0.000000000000000000000000000000000000005"))
	if err != nil || got.(*apd.Decimal).Cmp(dec("-1.000000000000000000000000000000000000")) != 0 {
		t.Errorf("-1 - 5e-39 = %v, %v", got, err)
	}
	got, err = Arith("/", dec("-2"), dec("3"))
	if err != nil || got.(*apd.Decimal).Cmp(dec("-0.66666666666666666666666666666666666667")) != 0 {
		t.Errorf("-2/3 = %v, %v", got, err)
	}
	// Every decimal result packs into Tarantool's msgpack.
	for _, v := range []any{got} {
		if _, err := tuple.Marshal([]any{v}); err != nil {
			t.Errorf("%v does not pack: %v", v, err)
		}
	}
}

package value

import (
	"math"
	"testing"

	"github.com/cockroachdb/apd/v3"
	"github.com/google/uuid"

	"github.com/picogo/picogo/core/tuple"
)

func dec(s string) *apd.Decimal { return tuple.MustDecimal(s) }

const maxU = uint64(math.MaxUint64)

// same reports whether got is want: the same Go type and, for numbers, the
// same value (decimals by value and digits).
func same(got, want any) bool {
	switch w := want.(type) {
	case *apd.Decimal:
		g, ok := got.(*apd.Decimal)
		return ok && g.Cmp(w) == 0
	case float64:
		g, ok := got.(float64)
		return ok && (g == w && math.Signbit(g) == math.Signbit(w) || math.IsNaN(g) && math.IsNaN(w))
	case []byte:
		g, ok := got.([]byte)
		return ok && string(g) == string(w)
	}
	return got == want
}

func code(err *tuple.Error) uint32 {
	if err == nil {
		return 0
	}
	return err.Code
}

func TestNormalize(t *testing.T) {
	for _, c := range []struct{ in, want any }{
		{int8(-3), int64(-3)}, {int16(7), int64(7)}, {int32(-9), int64(-9)}, {int(5), int64(5)},
		{uint8(200), int64(200)}, {uint16(9), int64(9)}, {uint32(math.MaxUint32), int64(math.MaxUint32)},
		{uint64(math.MaxInt64), int64(math.MaxInt64)}, {uint64(math.MaxInt64) + 1, uint64(math.MaxInt64) + 1},
		{uint(3), int64(3)}, {float32(1.5), 1.5}, {nil, nil}, {"s", "s"}, {true, true},
	} {
		if got := Normalize(c.in); !same(got, c.want) {
			t.Errorf("Normalize(%T %v) = %T %v, want %T %v", c.in, c.in, got, got, c.want, c.want)
		}
	}
	d := *dec("1.5")
	if got, ok := Normalize(d).(*apd.Decimal); !ok || got.Cmp(dec("1.5")) != 0 {
		t.Errorf("Normalize(apd.Decimal) = %v", got)
	}
}

func TestTypeOf(t *testing.T) {
	for _, c := range []struct {
		v    any
		want tuple.FieldType
	}{
		{nil, "any"}, {int64(1), "integer"}, {maxU, "integer"}, {uint8(1), "integer"}, {1.5, "double"},
		{dec("1"), "decimal"}, {"x", "string"}, {false, "boolean"}, {uuid.UUID{}, "uuid"},
		{tuple.Datetime{}, "datetime"}, {[]byte("x"), "varbinary"}, {[]any{}, "array"},
		{map[string]any{}, "map"}, {struct{}{}, "any"},
	} {
		if got := TypeOf(c.v); got != c.want {
			t.Errorf("TypeOf(%#v) = %s, want %s", c.v, got, c.want)
		}
	}
}

func TestParseType(t *testing.T) {
	for _, c := range []struct {
		name string
		args []int
		want tuple.FieldType
		code uint32
	}{
		{"INTEGER", nil, "integer", 0}, {"INT", nil, "integer", 0}, {"BIGINT", nil, "integer", 0},
		{"SMALLINT", nil, "integer", 0}, {"int", nil, "integer", 0}, {"UNSIGNED", nil, "unsigned", 0},
		{"DOUBLE", nil, "double", 0}, {"REAL", nil, "double", 0}, {"FLOAT", nil, "double", 0},
		{"DOUBLE PRECISION", nil, "double", 0}, {"DOUBLE  PRECISION", nil, "double", 0},
		{"DECIMAL", nil, "decimal", 0}, {"NUMERIC", []int{10, 2}, "decimal", 0},
		{"TEXT", nil, "string", 0}, {"STRING", nil, "string", 0}, {"VARCHAR", []int{10}, "string", 0},
		{"VARCHAR", nil, "string", 0}, {"CHAR", []int{1}, "string", 0}, {"BOOLEAN", nil, "boolean", 0},
		{"BOOL", nil, "boolean", 0}, {"UUID", nil, "uuid", 0}, {"DATETIME", nil, "datetime", 0},
		{"TIMESTAMP", nil, "datetime", 0}, {"VARBINARY", nil, "varbinary", 0}, {"ANY", nil, "any", 0},
		{"SCALAR", nil, "scalar", 0}, {"NUMBER", nil, "number", 0}, {"MAP", nil, "map", 0}, {"ARRAY", nil, "array", 0},
		{"FOO", nil, "", tuple.CodeSQLTypeMismatch}, {"INT", []int{3}, "", tuple.CodeSQLTypeMismatch},
		{"VARCHAR", []int{0}, "", tuple.CodeSQLTypeMismatch}, {"VARCHAR", []int{1, 2}, "", tuple.CodeSQLTypeMismatch},
		{"DECIMAL", []int{1, 2, 3}, "", tuple.CodeSQLTypeMismatch},
	} {
		got, err := ParseType(c.name, c.args)
		if got != c.want || code(err) != c.code {
			t.Errorf("ParseType(%q, %v) = %q, %v; want %q, code %d", c.name, c.args, got, err, c.want, c.code)
		}
	}
	if _, err := ParseType("FOO", nil); err == nil || err.Message != "unknown type FOO" {
		t.Errorf("the error names the type: %v", err)
	}
}

func TestLogic(t *testing.T) {
	T, F := any(true), any(false)
	vals := []any{T, F, nil}
	and := [3][3]any{{T, F, nil}, {F, F, F}, {nil, F, nil}}
	or := [3][3]any{{T, T, T}, {T, F, nil}, {T, nil, nil}}
	for i, a := range vals {
		for j, b := range vals {
			if got, err := And(a, b); err != nil || got != and[i][j] {
				t.Errorf("%v AND %v = %v, %v; want %v", a, b, got, err, and[i][j])
			}
			if got, err := Or(a, b); err != nil || got != or[i][j] {
				t.Errorf("%v OR %v = %v, %v; want %v", a, b, got, err, or[i][j])
			}
		}
	}
	for _, c := range []struct{ in, want any }{{T, F}, {F, T}, {nil, nil}} {
		if got, err := Not(c.in); err != nil || got != c.want {
			t.Errorf("NOT %v = %v, %v", c.in, got, err)
		}
	}
	for _, bad := range []any{int64(1), "true", 1.0} {
		if _, err := And(bad, F); code(err) != tuple.CodeSQLTypeMismatch {
			t.Errorf("%v AND false: %v", bad, err)
		}
		if _, err := Or(T, bad); code(err) != tuple.CodeSQLTypeMismatch {
			t.Errorf("true OR %v: %v", bad, err)
		}
		if _, err := Not(bad); code(err) != tuple.CodeSQLTypeMismatch {
			t.Errorf("NOT %v: %v", bad, err)
		}
		if _, _, err := Truth(bad); code(err) != tuple.CodeSQLTypeMismatch {
			t.Errorf("Truth(%v): %v", bad, err)
		}
	}
	if tr, known, err := Truth(nil); tr || known || err != nil {
		t.Errorf("Truth(NULL) = %v %v %v", tr, known, err)
	}
}

func TestCompare(t *testing.T) {
	u := uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
	d1 := tuple.Datetime{Epoch: 100}
	d1z := tuple.Datetime{Epoch: 100, TzOffset: 180}
	for _, c := range []struct {
		a, b any
		want int
		null bool
		code uint32
	}{
		{nil, int64(1), 0, true, 0},
		{"x", nil, 0, true, 0},
		{nil, nil, 0, true, 0},
		{int64(1), 1.0, 0, false, 0},
		{int64(1), dec("1.00"), 0, false, 0},
		{1.0, dec("1"), 0, false, 0},
		{uint64(math.MaxInt64) + 1, int64(math.MaxInt64), 1, false, 0},
		{maxU, float64(maxU), -1, false, 0}, // the double is 2^64
		{int64(1<<53 + 1), float64(1 << 53), 1, false, 0},
		{int64(-1), uint8(0), -1, false, 0},
		{0.1, dec("0.1"), 1, false, 0}, // the double 0.1 is a bit above 1/10
		{dec("-2.5"), int64(-2), -1, false, 0},
		{"a", "b", -1, false, 0},
		{"b", "a", 1, false, 0},
		{"", "", 0, false, 0},
		{"é", "z", 1, false, 0}, // bytes: 0xc3 > 'z'
		{false, true, -1, false, 0},
		{u, u, 0, false, 0},
		{u, "6ba7b810-9dad-11d1-80b4-00c04fd430c8", 0, false, 0},
		{"6BA7B810-9DAD-11D1-80B4-00C04FD430C8", u, 0, false, 0},
		{u, "00000000-0000-0000-0000-000000000000", 1, false, 0},
		{d1, d1z, 0, false, 0},
		{d1, tuple.Datetime{Epoch: 100, Nsec: 1}, -1, false, 0},
		{[]byte("a"), []byte("b"), -1, false, 0},
		{[]any{int64(1)}, []any{1.0}, 0, false, 0},
		{"1", int64(1), 0, false, tuple.CodeSQLTypeMismatch},
		{true, int64(1), 0, false, tuple.CodeSQLTypeMismatch},
		{u, "not a uuid", 0, false, tuple.CodeSQLTypeMismatch},
		{u, int64(1), 0, false, tuple.CodeSQLTypeMismatch},
		{"x", []byte("x"), 0, false, tuple.CodeSQLTypeMismatch},
		{d1, "1970-01-01T00:01:40Z", 0, false, tuple.CodeSQLTypeMismatch},
	} {
		got, null, err := Compare(c.a, c.b)
		if got != c.want || null != c.null || code(err) != c.code {
			t.Errorf("Compare(%v, %v) = %d, %v, %v; want %d, %v, code %d", c.a, c.b, got, null, err, c.want, c.null, c.code)
		}
	}
	if _, _, err := Compare("1", int64(1)); err == nil || err.Message != "type mismatch: cannot compare string('1') with integer(1)" {
		t.Errorf("the error names both: %v", err)
	}
	if eq, null, err := Equal(int64(2), dec("2.0")); !eq || null || err != nil {
		t.Errorf("Equal(2, 2.0::decimal) = %v %v %v", eq, null, err)
	}
	if eq, null, err := Equal(nil, nil); eq || !null || err != nil {
		t.Errorf("Equal(NULL, NULL) = %v %v %v", eq, null, err)
	}
}

func TestKeys(t *testing.T) {
	// Groups: each inner list is one group; different lists differ.
	groups := [][]any{
		{nil},
		{int64(1), uint8(1), 1.0, dec("1"), dec("1.000"), dec("0.1E1"), float32(1)},
		{int64(0), 0.0, math.Copysign(0, -1), dec("0"), dec("-0.00")},
		{int64(-1), -1.0, dec("-1.0")},
		{maxU, dec("18446744073709551615")},
		{float64(maxU), dec("18446744073709551616")}, // 2^64
		{int64(math.MinInt64), float64(math.MinInt64), dec("-9223372036854775808")},
		{0.5, dec("0.5"), dec("0.50")},
		{0.1},
		{dec("0.1")},
		{1e30, dec("1000000000000000019884624838656")},
		{dec("1E30")},
		{math.NaN()},
		{math.Inf(1)},
		{"1"},
		{""},
		{"a"},
		{[]byte("a")},
		{true},
		{false},
		{uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8")},
		{tuple.Datetime{Epoch: 5}, tuple.Datetime{Epoch: 5, TzOffset: 60}},
		{tuple.Datetime{Epoch: 5, Nsec: 1}},
		{[]any{int64(1), "x"}, []any{1.0, "x"}},
		{[]any{}},
	}
	for i, g := range groups {
		for _, a := range g {
			for j, h := range groups {
				for _, b := range h {
					ka, kb := Key([]any{a}), Key([]any{b})
					c := CompareKeys([]any{a}, []any{b})
					if (i == j) != (ka == kb) {
						t.Errorf("Key(%#v) = %q, Key(%#v) = %q: same group %v", a, ka, b, kb, i == j)
					}
					if (i == j) != (c == 0) {
						t.Errorf("CompareKeys(%#v, %#v) = %d: same group %v", a, b, c, i == j)
					}
				}
			}
		}
	}
	// Several columns do not run into each other.
	if Key([]any{"ab", "c"}) == Key([]any{"a", "bc"}) || Key([]any{nil, "N"}) == Key([]any{"N", nil}) {
		t.Error("keys of several columns collide")
	}
	if CompareKeys([]any{nil}, []any{int64(-5)}) >= 0 {
		t.Error("NULL sorts first")
	}
}

func TestDescribe(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{nil, "NULL"}, {int64(-5), "integer(-5)"}, {maxU, "integer(18446744073709551615)"}, {1.5, "double(1.5)"},
		{dec("1.50"), "decimal(1.50)"}, {"abc", "string('abc')"}, {true, "boolean(TRUE)"},
		{[]byte("ab"), "varbinary(2 bytes)"}, {math.Inf(-1), "double(-inf)"},
	} {
		if got := Describe(c.v); got != c.want {
			t.Errorf("Describe(%#v) = %q, want %q", c.v, got, c.want)
		}
	}
}

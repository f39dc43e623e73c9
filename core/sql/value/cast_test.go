package value

import (
	"math"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/picogo/picogo/core/tuple"
)

func TestCast(t *testing.T) {
	u := uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
	dt := tuple.Datetime{Epoch: 1704164645} // 2024-01-02T03:04:05Z
	dtNano := tuple.Datetime{Epoch: 1704164645, Nsec: 500000000, TzOffset: 180}
	bad := tuple.CodeSQLInvalidCast
	for _, c := range []struct {
		v    any
		to   tuple.FieldType
		want any
		code uint32
	}{
		// NULL stays NULL, whatever the type.
		{nil, "integer", nil, 0}, {nil, "uuid", nil, 0}, {nil, "boolean", nil, 0}, {nil, "map", nil, 0},
		// To integer.
		{int64(5), "integer", int64(5), 0},
		{maxU, "integer", maxU, 0},
		{1.9, "integer", int64(1), 0},
		{-1.9, "integer", int64(-1), 0},
		{-0.5, "integer", int64(0), 0},
		{1e19, "integer", uint64(10000000000000000000), 0},
		{-9223372036854775808.0, "integer", minI, 0},
		{18446744073709551616.0, "integer", nil, bad},
		{-9223372036854777856.0, "integer", nil, bad},
		{math.NaN(), "integer", nil, bad},
		{math.Inf(1), "integer", nil, bad},
		{dec("84.61"), "integer", int64(84), 0},
		{dec("-84.61"), "integer", int64(-84), 0},
		{dec("1E3"), "integer", int64(1000), 0},
		{dec("18446744073709551615.9"), "integer", maxU, 0},
		{dec("18446744073709551616"), "integer", nil, bad},
		{dec("-9223372036854775809"), "integer", nil, bad},
		{" 42 ", "integer", int64(42), 0},
		{"-9223372036854775808", "integer", minI, 0},
		{"18446744073709551615", "integer", maxU, 0},
		{"+7", "integer", int64(7), 0},
		{"18446744073709551616", "integer", nil, bad},
		{"1.5", "integer", nil, bad},
		{"1e3", "integer", nil, bad},
		{"", "integer", nil, bad},
		{"abc", "integer", nil, bad},
		{"0x10", "integer", nil, bad},
		{"1_000", "integer", nil, bad},
		{true, "integer", nil, bad},
		{u, "integer", nil, bad},
		// To unsigned.
		{int64(5), "unsigned", int64(5), 0},
		{int64(-5), "unsigned", nil, bad},
		{"-1", "unsigned", nil, bad},
		{2.5, "unsigned", int64(2), 0},
		// To double.
		{int64(3), "double", 3.0, 0},
		{maxU, "double", 18446744073709551616.0, 0},
		{dec("0.1"), "double", 0.1, 0},
		{" 1.5e3 ", "double", 1500.0, 0},
		{"-.5", "double", -0.5, 0},
		{"5.", "double", 5.0, 0},
		{"1e400", "double", nil, bad},
		{"inf", "double", nil, bad},
		{"NaN", "double", nil, bad},
		{"0x1p3", "double", nil, bad},
		{".", "double", nil, bad},
		{"1e", "double", nil, bad},
		{false, "double", nil, bad},
		// To decimal.
		{int64(-3), "decimal", dec("-3"), 0},
		{maxU, "decimal", dec("18446744073709551615"), 0},
		{0.1, "decimal", dec("0.1"), 0},
		{1e300, "decimal", nil, bad},
		{math.NaN(), "decimal", nil, bad},
		{" 12.50 ", "decimal", dec("12.50"), 0},
		{"1e2", "decimal", dec("100"), 0},
		{"0.123456789012345678901234567890123456789", "decimal", dec("0.12345678901234567890123456789012345679"), 0},
		{"1e38", "decimal", nil, bad},
		{"x", "decimal", nil, bad},
		// To number.
		{"12", "number", int64(12), 0},
		{"1.5", "number", 1.5, 0},
		{"x", "number", nil, bad},
		{dec("1.5"), "number", dec("1.5"), 0},
		{true, "number", nil, bad},
		// To string.
		{int64(-12), "string", "-12", 0},
		{maxU, "string", "18446744073709551615", 0},
		{1.0, "string", "1", 0},
		{0.1, "string", "0.1", 0},
		{1e21, "string", "1e+21", 0},
		{dec("1.50"), "string", "1.50", 0},
		{dec("1E+3"), "string", "1000", 0},
		{true, "string", "TRUE", 0},
		{false, "string", "FALSE", 0},
		{u, "string", "6ba7b810-9dad-11d1-80b4-00c04fd430c8", 0},
		{dt, "string", "2024-01-02T03:04:05Z", 0},
		{dtNano, "string", "2024-01-02T06:04:05.5+03:00", 0},
		{[]byte("hi"), "string", "hi", 0},
		{[]any{}, "string", nil, bad},
		// To boolean.
		{true, "boolean", true, 0},
		{"true", "boolean", true, 0},
		{" FALSE ", "boolean", false, 0},
		{"True", "boolean", true, 0},
		{"t", "boolean", nil, bad},
		{"1", "boolean", nil, bad},
		{int64(1), "boolean", nil, bad},
		{0.0, "boolean", nil, bad},
		// To uuid.
		{u, "uuid", u, 0},
		{"6BA7B810-9DAD-11D1-80B4-00C04FD430C8", "uuid", u, 0},
		{"6ba7b8109dad11d180b400c04fd430c8", "uuid", nil, bad},
		{"{6ba7b810-9dad-11d1-80b4-00c04fd430c8}", "uuid", nil, bad},
		{int64(1), "uuid", nil, bad},
		{true, "uuid", nil, bad},
		// To datetime.
		{dt, "datetime", dt, 0},
		{"2024-01-02T03:04:05Z", "datetime", dt, 0},
		{"2024-01-02 03:04:05Z", "datetime", dt, 0},
		{"2024-01-02T03:04:05", "datetime", dt, 0},
		{"2024-01-02T06:04:05.5+03:00", "datetime", dtNano, 0},
		{"2024-01-02", "datetime", tuple.Datetime{Epoch: 1704153600}, 0},
		{"2024-13-02", "datetime", nil, bad},
		{"yesterday", "datetime", nil, bad},
		{int64(0), "datetime", nil, bad},
		// To varbinary, any, scalar, map, array.
		{"ab", "varbinary", []byte("ab"), 0},
		{int64(1), "varbinary", nil, bad},
		{int64(1), "any", int64(1), 0},
		{"x", "scalar", "x", 0},
		{[]any{}, "scalar", nil, bad},
		{map[string]any{}, "scalar", nil, bad},
		{"x", "map", nil, bad},
		{"x", "array", nil, bad},
	} {
		got, err := Cast(c.v, c.to)
		ok := code(err) == c.code
		if ok && c.code == 0 {
			switch w := c.want.(type) {
			case tuple.Datetime:
				g, isDt := got.(tuple.Datetime)
				ok = isDt && g.Epoch == w.Epoch && g.Nsec == w.Nsec && g.TzOffset == w.TzOffset
			case []any, map[string]any:
			default:
				ok = same(got, c.want)
			}
		}
		if !ok {
			t.Errorf("CAST(%#v AS %s) = %T %v, %v; want %v, code %d", c.v, c.to, got, got, err, c.want, c.code)
		}
	}
	if _, err := Cast("abc", "integer"); err == nil || err.Message != "cannot cast string('abc') to integer" {
		t.Errorf("the error names the value and the type: %v", err)
	}
}

// TestCastRoundTrip: a value cast to string and back is the same value.
func TestCastRoundTrip(t *testing.T) {
	for _, c := range []struct {
		v  any
		to tuple.FieldType
	}{
		{int64(-5), "integer"}, {maxU, "integer"}, {0.1, "double"}, {1e-300, "double"}, {-1.5e21, "double"},
		{dec("123.4500"), "decimal"}, {true, "boolean"}, {false, "boolean"},
		{uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), "uuid"},
		{tuple.DatetimeOf(time.Date(2001, 2, 3, 4, 5, 6, 7, time.FixedZone("", -3600*5))), "datetime"},
	} {
		s, err := Cast(c.v, "string")
		if err != nil {
			t.Fatalf("%v to string: %v", c.v, err)
		}
		back, err := Cast(s, c.to)
		if err != nil {
			t.Fatalf("%q back to %s: %v", s, c.to, err)
		}
		if cmp, _, err := Compare(back, c.v); cmp != 0 || err != nil {
			t.Errorf("%v -> %q -> %v", c.v, s, back)
		}
	}
}

func TestLike(t *testing.T) {
	bs := DefaultEscape
	for _, c := range []struct {
		s, p, esc any
		ilike     bool
		want      any
		code      uint32
	}{
		{"abc", "abc", bs, false, true, 0},
		{"abc", "ABC", bs, false, false, 0},
		{"abc", "ABC", bs, true, true, 0},
		{"abc", "a%", bs, false, true, 0},
		{"abc", "%c", bs, false, true, 0},
		{"abc", "%b%", bs, false, true, 0},
		{"abc", "%", bs, false, true, 0},
		{"", "%", bs, false, true, 0},
		{"", "", bs, false, true, 0},
		{"", "_", bs, false, false, 0},
		{"a", "", bs, false, false, 0},
		{"abc", "___", bs, false, true, 0},
		{"abc", "__", bs, false, false, 0},
		{"abc", "_b_", bs, false, true, 0},
		{"abc", "a_", bs, false, false, 0},
		{"abc", "%%%c", bs, false, true, 0},
		{"aaa", "%a%a%a%", bs, false, true, 0},
		{"aa", "%a%a%a%", bs, false, false, 0},
		{"mississippi", "%iss%ipp%", bs, false, true, 0},
		{"mississippi", "m%ss%ss%ss%", bs, false, false, 0},
		{"héllo", "h_llo", bs, false, true, 0}, // _ is a character, not a byte
		{"héllo", "h__llo", bs, false, false, 0},
		{"ΣΊΣΥΦΟΣ", "σίσυφος", bs, true, true, 0},
		{"ΣΊΣΥΦΟΣ", "σίσυφος", bs, false, false, 0},
		{"Straße", "STRASSE", bs, true, false, 0},
		{"ǅ", "ǆ", bs, true, true, 0},
		// Escapes.
		{"product%", `product\%`, bs, false, true, 0},
		{"product1", `product\%`, bs, false, false, 0},
		{"a_c", `a\_c`, bs, false, true, 0},
		{"abc", `a\_c`, bs, false, false, 0},
		{`a\c`, `a\\c`, bs, false, true, 0},
		{"product%", "product*%", "*", false, true, 0},
		{"*product", "**product", "*", false, true, 0},
		{"xproduct", "**product", "*", false, false, 0},
		{"abc", "a*bc", "*", false, true, 0}, // an escaped ordinary character is itself
		{"a%", "a#%", "#", false, true, 0},
		{"a%", `a\%`, "#", false, false, 0}, // \ is ordinary with another escape
		{`a\%`, `a\%`, "#", false, true, 0},
		{"100%", "100%%", bs, false, true, 0},
		{"aé", "aéé_", "é", false, false, 0},
		{"aé", "aéé", "é", false, true, 0},
		{"abc", `abc\`, bs, false, nil, tuple.CodeSQLInvalidArgument},
		{"abc", "a", "ab", false, nil, tuple.CodeSQLInvalidArgument},
		{"abc", "a", "", false, nil, tuple.CodeSQLInvalidArgument},
		// NULL in every position.
		{nil, "a", bs, false, nil, 0},
		{"a", nil, bs, false, nil, 0},
		{"a", "a", nil, false, nil, 0},
		{nil, nil, nil, true, nil, 0},
		// Types.
		{int64(1), "1", bs, false, nil, tuple.CodeSQLTypeMismatch},
		{"1", int64(1), bs, false, nil, tuple.CodeSQLTypeMismatch},
		{nil, int64(1), bs, false, nil, tuple.CodeSQLTypeMismatch},
	} {
		got, err := Like(c.s, c.p, c.esc, c.ilike)
		if got != c.want || code(err) != c.code {
			t.Errorf("%q LIKE %q ESCAPE %q (ilike %v) = %v, %v; want %v, code %d", c.s, c.p, c.esc, c.ilike, got, err, c.want, c.code)
		}
	}
}

func TestCompileLike(t *testing.T) {
	m, err := CompileLike("a%c", DefaultEscape, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ s, want any }{{"abc", true}, {"ABXC", true}, {"abd", false}, {nil, nil}} {
		if got, err := m.Match(c.s); got != c.want || err != nil {
			t.Errorf("Match(%v) = %v, %v", c.s, got, err)
		}
	}
	if _, err := m.Match(int64(1)); code(err) != tuple.CodeSQLTypeMismatch {
		t.Errorf("Match(1): %v", err)
	}
	if m, err := CompileLike(nil, DefaultEscape, false); m != nil || err != nil {
		t.Errorf("NULL pattern: %v, %v", m, err)
	}
	if _, err := CompileLike("a", "xy", false); code(err) != tuple.CodeSQLInvalidArgument {
		t.Errorf("two-character escape: %v", err)
	}
	if _, err := CompileLike(`a\`+`\`, DefaultEscape, false); err != nil {
		t.Errorf("escaped escapes: %v", err)
	}
	if _, err := CompileLike(int64(1), DefaultEscape, false); code(err) != tuple.CodeSQLTypeMismatch {
		t.Errorf("integer pattern: %v", err)
	}
}

// TestLikeLinear: a pattern of many % does not backtrack exponentially.
func TestLikeLinear(t *testing.T) {
	s := ""
	p := ""
	for range 2000 {
		s += "a"
	}
	for range 200 {
		p += "%a"
	}
	p += "%b"
	start := time.Now()
	if got, err := Like(s, p, DefaultEscape, false); got != false || err != nil {
		t.Fatalf("got %v, %v", got, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}

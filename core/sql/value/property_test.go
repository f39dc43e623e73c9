package value

import (
	"math"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cockroachdb/apd/v3"

	"github.com/picogo/picogo/core/tuple"
)

// numberPool: numbers of every kind near the interesting edges, many of
// them numerically equal across kinds.
func numberPool() []any {
	ints := []int64{0, 1, -1, 2, 10, -10, 1 << 53, 1<<53 + 1, maxI, maxI - 1, minI, minI + 1}
	var pool []any
	for _, i := range ints {
		pool = append(pool, i, float64(i), apd.New(i, 0))
	}
	pool = append(pool, maxU, twoTo63U, float64(maxU), dec("18446744073709551615"), dec("18446744073709551616"),
		0.5, -0.5, dec("0.5"), dec("0.50"), 0.1, dec("0.1"), 1e30, dec("1E30"), dec("-1E30"), 1e-30,
		math.Copysign(0, -1), dec("-0"), math.Inf(1), math.Inf(-1), math.NaN(), dec("1.000"), dec("2.5E-1"),
		uint8(1), int32(-1), float32(0.5))
	return pool
}

// TestNumberOrder: Compare is a total order over numbers of every kind
// (antisymmetric, transitive), and Key agrees with it.
func TestNumberOrder(t *testing.T) {
	pool := numberPool()
	cmp := func(a, b any) int {
		c, null, err := Compare(a, b)
		if null || err != nil {
			t.Fatalf("Compare(%v, %v): null %v, %v", a, b, null, err)
		}
		return c
	}
	for _, a := range pool {
		for _, b := range pool {
			ab, ba := cmp(a, b), cmp(b, a)
			if ab != -ba {
				t.Errorf("Compare(%v, %v) = %d but Compare(%v, %v) = %d", a, b, ab, b, a, ba)
			}
			if (ab == 0) != (Key([]any{a}) == Key([]any{b})) {
				t.Errorf("%#v and %#v: Compare %d, keys %q and %q", a, b, ab, Key([]any{a}), Key([]any{b}))
			}
			for _, c := range pool {
				if ab <= 0 && cmp(b, c) <= 0 && cmp(a, c) > 0 {
					t.Errorf("not transitive: %v <= %v <= %v but %v > %v", a, b, c, a, c)
				}
			}
		}
	}
}

// TestArithProperties: + and * commute; a - b = -(b - a); a + b - b = a
// for integers when nothing overflows; an integer result is int64 when
// it fits.
func TestArithProperties(t *testing.T) {
	pool := numberPool()
	for _, a := range pool {
		for _, b := range pool {
			for _, op := range []string{"+", "*"} {
				x, ex := Arith(op, a, b)
				y, ey := Arith(op, b, a)
				if code(ex) != code(ey) || (ex == nil && !sameNumber(x, y)) {
					t.Errorf("%v %s %v = %v, %v but %v %s %v = %v, %v", a, op, b, x, ex, b, op, a, y, ey)
				}
			}
			if u, ok := Normalize(b).(uint64); ok {
				_ = u
				continue
			}
			d, err := Arith("-", a, b)
			if err != nil || numKindOf(Normalize(a)) != kInt || numKindOf(Normalize(b)) != kInt {
				continue
			}
			back, err := Arith("+", d, b)
			if err != nil || !sameNumber(back, Normalize(a)) {
				t.Errorf("(%v - %v) + %v = %v, %v", a, b, b, back, err)
			}
			if u, ok := d.(uint64); ok && u <= math.MaxInt64 {
				t.Errorf("%v - %v = uint64 %d: should be int64", a, b, u)
			}
		}
	}
}

func sameNumber(x, y any) bool {
	if fx, ok := x.(float64); ok && math.IsNaN(fx) {
		fy, ok := y.(float64)
		return ok && math.IsNaN(fy)
	}
	c, null, err := Compare(x, y)
	return c == 0 && !null && err == nil && TypeOf(x) == TypeOf(y)
}

// likeRegexp is a reference LIKE: the pattern as a regular expression.
func likeRegexp(p string, esc rune, ilike bool) (*regexp.Regexp, bool) {
	var sb strings.Builder
	sb.WriteString("(?s)")
	if ilike {
		sb.WriteString("(?i)")
	}
	sb.WriteString("^")
	escaped := false
	for _, r := range p {
		switch {
		case escaped:
			sb.WriteString(regexp.QuoteMeta(string(r)))
			escaped = false
		case r == esc:
			escaped = true
		case r == '%':
			sb.WriteString(".*")
		case r == '_':
			sb.WriteString(".")
		default:
			sb.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	if escaped {
		return nil, false
	}
	sb.WriteString("$")
	return regexp.MustCompile(sb.String()), true
}

// FuzzLike: Like never panics and agrees with a regular expression.
func FuzzLike(f *testing.F) {
	for _, s := range [][2]string{
		{"abc", "a%"}, {"héllo", "h_llo"}, {"a%b", `a\%b`}, {"ΣΊΣ", "σ%"}, {"", "%"}, {"a\nb", "a_b"},
		{"mississippi", "%iss%ipp%"}, {`a\`, `a\\`}, {"abc", `abc\`},
	} {
		f.Add(s[0], s[1], false)
		f.Add(s[0], s[1], true)
	}
	f.Fuzz(func(t *testing.T, s, p string, ilike bool) {
		if !utf8.ValidString(s) || !utf8.ValidString(p) {
			return // Go's regexp reads invalid UTF-8 as U+FFFD; Like reads it the same, but skip
		}
		got, err := Like(s, p, DefaultEscape, ilike)
		re, ok := likeRegexp(p, '\\', ilike)
		if !ok {
			if code(err) != tuple.CodeSQLInvalidArgument {
				t.Fatalf("%q LIKE %q: %v, %v; want the trailing-escape error", s, p, got, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("%q LIKE %q: %v", s, p, err)
		}
		if want := re.MatchString(s); got != want {
			t.Fatalf("%q LIKE %q (ilike %v) = %v, the regexp says %v", s, p, ilike, got, want)
		}
	})
}

// TestLikeRandom runs the LIKE reference comparison over random short
// strings and patterns of a small alphabet, where matches are frequent.
func TestLikeRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune{'a', 'b', 'A', 'é', 'É', '%', '_', '\\'}
	gen := func(n int, specials bool) string {
		var sb strings.Builder
		for range rng.IntN(n) {
			r := alphabet[rng.IntN(len(alphabet))]
			if !specials && (r == '%' || r == '_' || r == '\\') {
				r = 'a'
			}
			sb.WriteRune(r)
		}
		return sb.String()
	}
	for range 20000 {
		s, p, ilike := gen(8, rng.IntN(4) == 0), gen(6, true), rng.IntN(2) == 0
		got, err := Like(s, p, DefaultEscape, ilike)
		re, ok := likeRegexp(p, '\\', ilike)
		if !ok {
			if err == nil {
				t.Fatalf("%q LIKE %q: no error for the trailing escape", s, p)
			}
			continue
		}
		if want := re.MatchString(s); err != nil || got != want {
			t.Fatalf("%q LIKE %q (ilike %v) = %v, %v; the regexp says %v", s, p, ilike, got, err, want)
		}
	}
}

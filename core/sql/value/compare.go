package value

import (
	"bytes"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"
	"github.com/google/uuid"

	"github.com/picogo/picogo/core/tuple"
)

// Truth is the truth value of a condition: NULL is unknown (known false);
// a boolean is itself; anything else is a CodeSQLTypeMismatch error.
func Truth(v any) (t, known bool, err *tuple.Error) {
	switch x := v.(type) {
	case nil:
		return false, false, nil
	case bool:
		return x, true, nil
	}
	return false, false, typeMismatch("type mismatch: %s is not a boolean", Describe(v))
}

// And is SQL's three-valued AND: false if either side is false (even with
// NULL on the other), NULL if either is NULL, else true. Both sides must
// be booleans or NULL.
func And(a, b any) (any, *tuple.Error) {
	x, xk, err := Truth(a)
	if err != nil {
		return nil, err
	}
	y, yk, err := Truth(b)
	if err != nil {
		return nil, err
	}
	switch {
	case xk && !x, yk && !y:
		return false, nil
	case xk && yk:
		return true, nil
	}
	return nil, nil
}

// Or is SQL's three-valued OR: true if either side is true (even with NULL
// on the other), NULL if either is NULL, else false.
func Or(a, b any) (any, *tuple.Error) {
	x, xk, err := Truth(a)
	if err != nil {
		return nil, err
	}
	y, yk, err := Truth(b)
	if err != nil {
		return nil, err
	}
	switch {
	case xk && x, yk && y:
		return true, nil
	case xk && yk:
		return false, nil
	}
	return nil, nil
}

// Not is SQL's NOT: NULL stays NULL.
func Not(a any) (any, *tuple.Error) {
	x, known, err := Truth(a)
	if err != nil || !known {
		return nil, err
	}
	return !x, nil
}

// Comparison classes.
const (
	clsNull = iota
	clsNumber
	clsString
	clsBool
	clsUUID
	clsDatetime
	clsBinary
	clsArray
	clsMap
	clsOther
)

func classOf(v any) int {
	switch v.(type) {
	case nil:
		return clsNull
	case int64, uint64, float64, *apd.Decimal, int, int8, int16, int32, uint, uint8, uint16, uint32, float32:
		return clsNumber
	case string:
		return clsString
	case bool:
		return clsBool
	case uuid.UUID:
		return clsUUID
	case tuple.Datetime:
		return clsDatetime
	case []byte:
		return clsBinary
	case []any:
		return clsArray
	case map[string]any, map[any]any:
		return clsMap
	}
	return clsOther
}

// Compare is SQL's comparison of a and b: null is true (and c 0) when
// either is NULL. Numbers of every kind (integer, double, decimal) compare
// by exact value with each other (1 = 1.0 = 1::decimal; 2^53+1 is above
// the double 2^53); strings and varbinaries by bytes; booleans false <
// true; uuids by their bytes; datetimes by instant; arrays and maps as
// tuple.Compare orders them. A uuid and a string in uuid form compare as
// uuids (the global tables keep uuids as text). Any other mix is a
// CodeSQLTypeMismatch error naming both types.
func Compare(a, b any) (c int, null bool, err *tuple.Error) {
	ca, cb := classOf(a), classOf(b)
	if ca == clsNull || cb == clsNull {
		return 0, true, nil
	}
	if ca != cb {
		switch {
		case ca == clsUUID && cb == clsString:
			u, ok := parseUUID(b.(string))
			if !ok {
				return 0, false, compareMismatch(a, b)
			}
			x := a.(uuid.UUID)
			return bytes.Compare(x[:], u[:]), false, nil
		case ca == clsString && cb == clsUUID:
			u, ok := parseUUID(a.(string))
			if !ok {
				return 0, false, compareMismatch(a, b)
			}
			y := b.(uuid.UUID)
			return bytes.Compare(u[:], y[:]), false, nil
		}
		return 0, false, compareMismatch(a, b)
	}
	if ca == clsOther {
		return 0, false, compareMismatch(a, b)
	}
	return tuple.Compare(a, b), false, nil
}

func compareMismatch(a, b any) *tuple.Error {
	return typeMismatch("type mismatch: cannot compare %s with %s", Describe(a), Describe(b))
}

// parseUUID reads a uuid in its canonical 36-character form only.
func parseUUID(s string) (uuid.UUID, bool) {
	if !tuple.IsUUID(s) {
		return uuid.UUID{}, false
	}
	u, err := uuid.Parse(s)
	return u, err == nil
}

// Equal reports whether a = b in SQL: null when either is NULL.
func Equal(a, b any) (eq, null bool, err *tuple.Error) {
	c, null, err := Compare(a, b)
	return c == 0 && !null && err == nil, null, err
}

// CompareKeys orders two rows of grouping (GROUP BY, DISTINCT, UNION,
// EXCEPT) keys: a total order in which NULLs are equal to each other and
// first, and numerically equal numbers of different kinds are equal (1,
// 1.0 and 1::decimal are one group). Values of different types order by
// tuple.Compare's classes rather than failing. Two rows are one group
// exactly when Key gives them the same string. It is also an order for
// ORDER BY that never fails (NULLs first ascending, as in Tarantool and
// SQLite).
func CompareKeys(a, b []any) int {
	return tuple.CompareValues(a, b)
}

// Key encodes a row of grouping keys as a string for a hash map: two rows
// have the same key exactly when CompareKeys says they are equal (NULLs
// equal, 1 = 1.0 = 1::decimal, datetimes by instant whatever their zone,
// -0.0 = 0, NaN = NaN). One exception: maps (never grouping keys in
// practice) key by their encoding, so {a: 1} and {a: 1.0} differ.
func Key(vals []any) string {
	var sb strings.Builder
	for _, v := range vals {
		appendKey(&sb, v)
	}
	return sb.String()
}

func appendKey(sb *strings.Builder, v any) {
	v = Normalize(v)
	switch x := v.(type) {
	case nil:
		sb.WriteByte('N')
	case bool:
		if x {
			sb.WriteString("T")
		} else {
			sb.WriteString("F")
		}
	case int64:
		sb.WriteByte('i')
		sb.WriteString(strconv.FormatInt(x, 10))
		sb.WriteByte(';')
	case uint64:
		sb.WriteByte('i')
		sb.WriteString(strconv.FormatUint(x, 10))
		sb.WriteByte(';')
	case float64:
		appendDoubleKey(sb, x)
	case *apd.Decimal:
		appendDecimalKey(sb, x)
	case string:
		sb.WriteByte('s')
		sb.WriteString(strconv.Itoa(len(x)))
		sb.WriteByte(':')
		sb.WriteString(x)
	case []byte:
		sb.WriteByte('b')
		sb.WriteString(strconv.Itoa(len(x)))
		sb.WriteByte(':')
		sb.Write(x)
	case uuid.UUID:
		sb.WriteByte('u')
		sb.Write(x[:])
	case tuple.Datetime:
		sb.WriteByte('t')
		sb.WriteString(strconv.FormatInt(x.Epoch, 10))
		sb.WriteByte('.')
		sb.WriteString(strconv.Itoa(int(x.Nsec)))
		sb.WriteByte(';')
	case []any:
		sb.WriteByte('[')
		sb.WriteString(strconv.Itoa(len(x)))
		sb.WriteByte(':')
		for _, e := range x {
			appendKey(sb, e)
		}
	default:
		// Maps and anything else: tuple's deterministic encoding. Maps
		// are rare in keys; equal maps encode equally.
		b, err := tuple.Marshal(v)
		if err != nil {
			b = []byte(Describe(v))
		}
		sb.WriteByte('m')
		sb.WriteString(strconv.Itoa(len(b)))
		sb.WriteByte(':')
		sb.Write(b)
	}
}

// appendDoubleKey: an integral double in the integer range keys as that
// integer; other finite doubles by their exact decimal value.
func appendDoubleKey(sb *strings.Builder, f float64) {
	switch {
	case math.IsNaN(f):
		sb.WriteString("nan;")
		return
	case math.IsInf(f, 1):
		sb.WriteString("+inf;")
		return
	case math.IsInf(f, -1):
		sb.WriteString("-inf;")
		return
	case f == math.Trunc(f) && f >= -twoTo63 && f < twoTo64:
		sb.WriteByte('i')
		if f < 0 {
			sb.WriteString(strconv.FormatInt(int64(f), 10))
		} else {
			sb.WriteString(strconv.FormatUint(uint64(f), 10))
		}
		sb.WriteByte(';')
		return
	}
	appendDecimalKey(sb, exactDecimal(f))
}

const (
	twoTo63 = 9223372036854775808.0
	twoTo64 = 18446744073709551616.0
)

// appendDecimalKey: an integral decimal in the integer range keys as that
// integer, any other by its reduced coefficient and exponent.
func appendDecimalKey(sb *strings.Builder, d *apd.Decimal) {
	if d.IsZero() {
		sb.WriteString("i0;")
		return
	}
	var r apd.Decimal
	r.Reduce(d)
	if r.Exponent >= 0 && r.Exponent < 40 {
		var i apd.Decimal
		if _, err := apd.BaseContext.WithPrecision(80).Quantize(&i, &r, 0); err == nil {
			bi := i.Coeff.MathBigInt()
			if i.Negative {
				bi.Neg(bi)
			}
			if bi.IsInt64() || bi.IsUint64() {
				sb.WriteByte('i')
				sb.WriteString(bi.String())
				sb.WriteByte(';')
				return
			}
		}
	}
	sb.WriteByte('d')
	if r.Negative {
		sb.WriteByte('-')
	}
	sb.WriteString(r.Coeff.String())
	sb.WriteByte('e')
	sb.WriteString(strconv.Itoa(int(r.Exponent)))
	sb.WriteByte(';')
}

// exactDecimal is the exact value of a finite double as a decimal (a
// double m·2^e with e < 0 is m·5^-e · 10^e).
func exactDecimal(f float64) *apd.Decimal {
	mant, exp := math.Frexp(f) // f = mant · 2^exp, 0.5 <= |mant| < 1
	m := int64(math.Ldexp(mant, 53))
	exp -= 53
	neg := m < 0
	if neg {
		m = -m
	}
	c := new(big.Int).SetInt64(m)
	var e int32
	if exp >= 0 {
		c.Lsh(c, uint(exp))
	} else {
		c.Mul(c, new(big.Int).Exp(big.NewInt(5), big.NewInt(int64(-exp)), nil))
		e = int32(exp)
	}
	d := apd.NewWithBigInt(new(apd.BigInt).SetMathBigInt(c), e)
	d.Negative = neg
	return d
}

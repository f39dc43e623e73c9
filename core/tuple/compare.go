package tuple

import (
	"bytes"
	"math"
	"math/big"
	"slices"
	"strings"

	"github.com/cockroachdb/apd/v3"
	"github.com/google/uuid"
)

// Value order.
//
// Compare orders any two decoded values the way Tarantool's "scalar" (and
// "any") index parts do (src/box/tuple_compare.cc, mp_class): first by
// class,
//
//	nil < boolean < number < string < varbinary < uuid < datetime < array < map
//
// then within the class:
//   - booleans: false < true;
//   - numbers of every kind (unsigned, negative integer, float, double,
//     decimal) by exact value: 1, 1.0 and decimal 1.00 are equal, and
//     int64/uint64 extremes and 2^53+1 compare exactly against floats and
//     decimals. NaN is below every other number (and equal to itself), as
//     Tarantool's mp_compare_double_any_number has it; -0.0 equals 0;
//   - strings and varbinaries by bytes (Tarantool's binary collation), a
//     prefix first;
//   - uuids by their 16 bytes, which is RFC 4122 field order;
//   - datetimes by instant (seconds, then nanoseconds), whatever the zone;
//   - arrays element by element, a prefix first; maps (which Tarantool never
//     compares) by size, then by sorted key and value, to be total.
//
// A field of a narrower type (unsigned, string, uuid, ...) holds values of
// one class only, where this order is Tarantool's order of that type. One
// deliberate difference: Tarantool compares a decimal with a double by
// rounding the double to 15 significant digits (decimal_from_double),
// which is not transitive (two different doubles can both equal one
// decimal); Compare uses the double's exact value, so the order is total.
//
// A string in a "uuid" field (the global tables keep uuids as text) is a
// string: it sorts with the strings, before every uuid value.

// Value classes in Tarantool's order.
const (
	classNil = iota
	classBool
	classNumber
	classString
	classBinary
	classUUID
	classDatetime
	classArray
	classMap
	classOther
)

func classOf(v any) int {
	switch v.(type) {
	case nil:
		return classNil
	case bool:
		return classBool
	case string:
		return classString
	case []byte:
		return classBinary
	case uuid.UUID:
		return classUUID
	case Datetime:
		return classDatetime
	case []any:
		return classArray
	case map[string]any, map[any]any:
		return classMap
	case *apd.Decimal:
		return classNumber
	}
	if _, ok := toNumber(v); ok {
		return classNumber
	}
	return classOther
}

// Compare returns -1, 0 or 1 as a is less than, equal to or greater than b
// in Tarantool's order (see above).
func Compare(a, b any) int {
	// Two strings or two (non-decimal) numbers, the keys of nearly every
	// index, without classOf's type switches: building and searching a
	// table's trees spent most of its time in them (docs/BENCHMARKS.md).
	if x, ok := a.(string); ok {
		if y, ok := b.(string); ok {
			return strings.Compare(x, y)
		}
	} else if x, ok := toNumber(a); ok {
		if y, ok := toNumber(b); ok {
			return compareNumber(x, y)
		}
	}
	ca, cb := classOf(a), classOf(b)
	if ca != cb {
		return cmpInt(ca, cb)
	}
	switch ca {
	case classBool:
		x, y := a.(bool), b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case classNumber:
		return compareNumbers(a, b)
	case classString:
		return strings.Compare(a.(string), b.(string))
	case classBinary:
		return bytes.Compare(a.([]byte), b.([]byte))
	case classUUID:
		x, y := a.(uuid.UUID), b.(uuid.UUID)
		return bytes.Compare(x[:], y[:])
	case classDatetime:
		return compareDatetime(a.(Datetime), b.(Datetime))
	case classArray:
		return CompareValues(a.([]any), b.([]any))
	case classMap:
		return compareMaps(asStringMap(a), asStringMap(b))
	}
	return 0
}

// CompareValues compares two lists of values element by element; a prefix
// is less than the longer list.
func CompareValues(a, b []any) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return cmpInt(len(a), len(b))
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func asStringMap(v any) map[string]any {
	switch m := v.(type) {
	case map[string]any:
		return m
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, e := range m {
			out[formatValue(k)] = e
		}
		return out
	}
	return nil
}

func compareMaps(a, b map[string]any) int {
	if c := cmpInt(len(a), len(b)); c != 0 {
		return c
	}
	ka, kb := sortedKeys(a), sortedKeys(b)
	for i := range ka {
		if c := strings.Compare(ka[i], kb[i]); c != 0 {
			return c
		}
		if c := Compare(a[ka[i]], b[kb[i]]); c != 0 {
			return c
		}
	}
	return 0
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// compareNumbers compares two values of the number class exactly.
func compareNumbers(a, b any) int {
	da, aDec := a.(*apd.Decimal)
	db, bDec := b.(*apd.Decimal)
	switch {
	case aDec && bDec:
		return da.Cmp(db)
	case aDec:
		n, _ := toNumber(b)
		return compareDecimalNumber(da, n)
	case bDec:
		n, _ := toNumber(a)
		return -compareDecimalNumber(db, n)
	}
	x, _ := toNumber(a)
	y, _ := toNumber(b)
	return compareNumber(x, y)
}

// compareNumber compares two msgpack numbers exactly.
func compareNumber(x, y number) int {
	switch {
	case x.kind == numFloat && y.kind == numFloat:
		return compareFloats(x.f, y.f)
	case x.kind == numFloat:
		return -compareIntFloat(y, x.f)
	case y.kind == numFloat:
		return compareIntFloat(x, y.f)
	}
	// Both integers: a negative one (numInt) is below every numUint.
	switch {
	case x.kind == numInt && y.kind == numInt:
		return cmpOrdered(x.i, y.i)
	case x.kind == numInt:
		return -1
	case y.kind == numInt:
		return 1
	}
	return cmpOrdered(x.u, y.u)
}

func cmpOrdered[T int64 | uint64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareFloats: NaN below everything else and equal to NaN; -0 == 0.
func compareFloats(a, b float64) int {
	an, bn := math.IsNaN(a), math.IsNaN(b)
	switch {
	case an && bn:
		return 0
	case an:
		return -1
	case bn:
		return 1
	}
	return cmpOrdered(a, b)
}

// compareIntFloat compares an integer number with a float exactly.
func compareIntFloat(x number, f float64) int {
	switch {
	case math.IsNaN(f):
		return 1
	case f >= twoTo64:
		return -1
	case f < -twoTo63:
		return 1
	}
	t := math.Trunc(f) // an integer in [-2^63, 2^64): exact in int64 or uint64
	frac := f - t
	var c int
	if t < 0 {
		ti := int64(t)
		switch x.kind {
		case numUint:
			c = 1
		default:
			c = cmpOrdered(x.i, ti)
		}
	} else {
		tu := uint64(t)
		switch x.kind {
		case numInt:
			c = -1
		default:
			c = cmpOrdered(x.u, tu)
		}
	}
	if c != 0 {
		return c
	}
	// x equals the integer part of f: the fraction decides.
	switch {
	case frac > 0:
		return -1
	case frac < 0:
		return 1
	}
	return 0
}

const twoTo63 = 9223372036854775808.0

// compareDecimalNumber compares a decimal with a msgpack number exactly.
func compareDecimalNumber(d *apd.Decimal, n number) int {
	switch n.kind {
	case numUint:
		var y apd.Decimal
		y.Coeff.SetUint64(n.u)
		return d.Cmp(&y)
	case numInt:
		var y apd.Decimal
		y.SetInt64(n.i)
		return d.Cmp(&y)
	}
	f := n.f
	switch {
	case math.IsNaN(f):
		return 1
	case math.IsInf(f, 1):
		return -1
	case math.IsInf(f, -1):
		return 1
	}
	// Far outside the double range the magnitude decides without building
	// huge rationals: finite doubles lie below 2^1024 < 10^309, and a
	// non-zero one is at least 2^-1074 > 10^-324.
	if d.IsZero() {
		return -compareFloats(f, 0)
	}
	{
		adj := int64(d.Exponent) + d.NumDigits() - 1 // d = c.ccc × 10^adj
		if adj > 310 {
			return signOf(d)
		}
		if adj < -330 {
			switch {
			case f == 0:
				return signOf(d)
			case f > 0:
				return -1
			}
			return 1
		}
	}
	return decimalRat(d).Cmp(new(big.Rat).SetFloat64(f))
}

func signOf(d *apd.Decimal) int {
	if d.Negative {
		return -1
	}
	return 1
}

// decimalRat is d's exact value as a rational; d's exponent is bounded
// (see compareDecimalNumber's callers).
func decimalRat(d *apd.Decimal) *big.Rat {
	coeff := d.Coeff.MathBigInt()
	if d.Negative {
		coeff.Neg(coeff)
	}
	r := new(big.Rat).SetInt(coeff)
	if d.Exponent == 0 {
		return r
	}
	e := int64(d.Exponent)
	if e < 0 {
		e = -e
	}
	pow := new(big.Int).Exp(big.NewInt(10), big.NewInt(e), nil)
	if d.Exponent > 0 {
		return r.Mul(r, new(big.Rat).SetInt(pow))
	}
	return r.Quo(r, new(big.Rat).SetInt(pow))
}

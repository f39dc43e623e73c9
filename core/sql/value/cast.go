package value

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/apd/v3"
	"github.com/google/uuid"

	"github.com/picogo/picogo/core/tuple"
)

// Cast converts v to type to, as CAST(v AS to) and v::to do. NULL stays
// NULL. The conversions:
//
//   - to integer: integers as they are; doubles and decimals truncated
//     toward zero (NaN, the infinities and anything outside [-2^63, 2^64)
//     fail); strings holding an integer literal (spaces around allowed);
//   - to unsigned: as to integer, and the result must not be negative;
//   - to double: every number (a decimal or a big integer rounds to the
//     nearest double); strings holding a finite number literal;
//   - to decimal: every finite number (a double through its shortest
//     round-trip text, rounded to 38 digits); strings holding a number
//     literal; 10^38 or more fails;
//   - to number: numbers as they are; strings holding an integer literal
//     become integers, other number literals doubles;
//   - to string: integers and decimals in plain digits, doubles in their
//     shortest round-trip form ("1", "0.1", "1e+21"), booleans 'TRUE' /
//     'FALSE', uuids in canonical lower case, datetimes in RFC 3339 with
//     nanoseconds, varbinaries byte for byte;
//   - to boolean: booleans; strings 'true' / 'false' in any case, spaces
//     around allowed;
//   - to uuid: uuids; strings in the canonical 8-4-4-4-12 form;
//   - to datetime: datetimes; strings in RFC 3339 ("2024-01-02T03:04:05Z",
//     "2024-01-02T03:04:05.5+03:00"), also with a space for the T, without
//     a zone (UTC) or a date alone (midnight UTC);
//   - to varbinary: varbinaries; strings byte for byte;
//   - to any: anything; to scalar: anything but arrays and maps; to map and
//     array: only themselves.
//
// Everything else, and a value the conversion does not take, fails with a
// CodeSQLInvalidCast error naming the value and the type. Numbers and
// booleans do not cast to each other (Tarantool 2.10+).
func Cast(v any, to tuple.FieldType) (any, *tuple.Error) {
	v = Normalize(v)
	if v == nil {
		return nil, nil
	}
	switch to {
	case tuple.TypeAny:
		return v, nil
	case tuple.TypeScalar:
		switch classOf(v) {
		case clsArray, clsMap, clsOther:
			return nil, invalidCast(v, to, "")
		}
		return v, nil
	case tuple.TypeInteger, tuple.TypeUnsigned:
		r, err := castInteger(v, to)
		if err != nil {
			return nil, err
		}
		if i, ok := r.(int64); ok && i < 0 && to == tuple.TypeUnsigned {
			return nil, invalidCast(v, to, "negative")
		}
		return r, nil
	case tuple.TypeDouble:
		switch x := v.(type) {
		case int64, uint64, float64:
			return toFloat(x), nil
		case *apd.Decimal:
			f, err := x.Float64()
			if err != nil {
				return nil, invalidCast(v, to, "")
			}
			return f, nil
		case string:
			s := strings.TrimSpace(x)
			if !isNumberLiteral(s) {
				return nil, invalidCast(v, to, "")
			}
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsInf(f, 0) {
				return nil, invalidCast(v, to, "out of range")
			}
			return f, nil
		}
	case tuple.TypeDecimal:
		switch x := v.(type) {
		case int64, uint64, float64, *apd.Decimal:
			d, err := toDecimal(x)
			if err != nil {
				return nil, invalidCast(v, to, "")
			}
			return d, nil
		case string:
			return parseDecimal(x, v, to)
		}
	case tuple.TypeNumber:
		switch x := v.(type) {
		case int64, uint64, float64, *apd.Decimal:
			return v, nil
		case string:
			s := strings.TrimSpace(x)
			if isIntegerLiteral(s) {
				return castInteger(v, tuple.TypeInteger)
			}
			return Cast(v, tuple.TypeDouble)
		}
	case tuple.TypeString:
		switch x := v.(type) {
		case string:
			return x, nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		case uint64:
			return strconv.FormatUint(x, 10), nil
		case float64:
			return formatDouble(x), nil
		case *apd.Decimal:
			return x.Text('f'), nil
		case bool:
			return boolText(x), nil
		case uuid.UUID:
			return x.String(), nil
		case tuple.Datetime:
			return x.String(), nil
		case []byte:
			return string(x), nil
		}
	case tuple.TypeBoolean:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
			return nil, invalidCast(v, to, "")
		}
	case tuple.TypeUUID:
		switch x := v.(type) {
		case uuid.UUID:
			return x, nil
		case string:
			if u, ok := parseUUID(strings.TrimSpace(x)); ok {
				return u, nil
			}
			return nil, invalidCast(v, to, "")
		}
	case tuple.TypeDatetime:
		switch x := v.(type) {
		case tuple.Datetime:
			return x, nil
		case string:
			if d, ok := parseDatetime(strings.TrimSpace(x)); ok {
				return d, nil
			}
			return nil, invalidCast(v, to, "")
		}
	case tuple.TypeVarbinary:
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
	case tuple.TypeMap:
		if classOf(v) == clsMap {
			return v, nil
		}
	case tuple.TypeArray:
		if classOf(v) == clsArray {
			return v, nil
		}
	}
	return nil, invalidCast(v, to, "")
}

func invalidCast(v any, to tuple.FieldType, why string) *tuple.Error {
	if why != "" {
		return tuple.Errorf(tuple.CodeSQLInvalidCast, "cannot cast %s to %s: %s", Describe(v), to, why)
	}
	return tuple.Errorf(tuple.CodeSQLInvalidCast, "cannot cast %s to %s", Describe(v), to)
}

// castInteger converts to an integer, truncating toward zero.
func castInteger(v any, to tuple.FieldType) (any, *tuple.Error) {
	switch x := v.(type) {
	case int64, uint64:
		return x, nil
	case float64:
		if math.IsNaN(x) || x < -twoTo63 || x >= twoTo64 || math.IsInf(x, 0) {
			return nil, invalidCast(v, to, "out of range")
		}
		t := math.Trunc(x)
		if t < 0 {
			return int64(t), nil
		}
		return fromUint(uint64(t)), nil
	case *apd.Decimal:
		var t apd.Decimal
		ctx := apd.BaseContext.WithPrecision(100)
		ctx.Rounding = apd.RoundDown
		if _, err := ctx.RoundToIntegralValue(&t, x); err != nil {
			return nil, invalidCast(v, to, "out of range")
		}
		var i apd.Decimal
		if _, err := ctx.Quantize(&i, &t, 0); err != nil {
			return nil, invalidCast(v, to, "out of range")
		}
		b := i.Coeff.MathBigInt()
		if i.Negative {
			b.Neg(b)
		}
		r, err := fromBig(b)
		if err != nil {
			return nil, invalidCast(v, to, "out of range")
		}
		return r, nil
	case string:
		s := strings.TrimSpace(x)
		if !isIntegerLiteral(s) {
			return nil, invalidCast(v, to, "")
		}
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, nil
		}
		if u, err := strconv.ParseUint(strings.TrimPrefix(s, "+"), 10, 64); err == nil {
			return fromUint(u), nil
		}
		return nil, invalidCast(v, to, "out of range")
	}
	return nil, invalidCast(v, to, "")
}

func parseDecimal(s string, v any, to tuple.FieldType) (any, *tuple.Error) {
	s = strings.TrimSpace(s)
	if !isNumberLiteral(s) {
		return nil, invalidCast(v, to, "")
	}
	d, _, err := apd.NewFromString(s)
	if err != nil {
		return nil, invalidCast(v, to, "")
	}
	r := new(apd.Decimal)
	cond, err := decimalCtx.Round(r, d)
	if _, e := decimalResult(r, cond, err); e != nil {
		return nil, invalidCast(v, to, "out of range")
	}
	return r, nil
}

// isIntegerLiteral: an optional sign and decimal digits.
func isIntegerLiteral(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isNumberLiteral: an optional sign, digits with at most one point (at
// least one digit), an optional exponent (e or E, an optional sign,
// digits). No hex, no underscores, no inf or nan.
func isNumberLiteral(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits, point := 0, false
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !point:
			point = true
		default:
			goto exp
		}
	}
exp:
	if digits == 0 {
		return false
	}
	if i == len(s) {
		return true
	}
	if s[i] != 'e' && s[i] != 'E' {
		return false
	}
	i++
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	if i == len(s) {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// datetimeLayouts are the text forms a string casts to a datetime from.
var datetimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

func parseDatetime(s string) (tuple.Datetime, bool) {
	for _, layout := range datetimeLayouts {
		t, err := time.ParseInLocation(layout, s, time.UTC)
		if err == nil {
			return tuple.DatetimeOf(t), true
		}
	}
	return tuple.Datetime{}, false
}

// Package value is the semantics of SQL values: types, three-valued logic,
// comparison, arithmetic, casts, LIKE, scalar functions and aggregates. The
// executor (core/sql/exec) calls it for every expression it evaluates.
//
// Values are the Go values the storage holds (core/tuple): nil is NULL;
// integers are int64, or uint64 above math.MaxInt64 (Normalize turns the
// narrow kinds msgpack decodes into these); float64 is a double;
// *apd.Decimal a decimal (at most tuple.MaxDecimalDigits digits); string;
// bool; uuid.UUID; tuple.Datetime; []byte a varbinary; []any and maps pass
// through and only compare for equality and order (tuple.Compare).
//
// Every failure is a *tuple.Error with one of the SQL codes of
// core/tuple/errors.go, the same on every instance. Nothing here reads a
// clock, the environment or a random source: NOW() and CURRENT_DATE take
// the time from Env.
//
// Behaviour, where SQL dialects differ (Picodata runs its SQL on
// Tarantool's, so Tarantool's choice wins unless said otherwise):
//   - integers are exact in [-2^63, 2^64); a result outside is an error
//     (CodeSQLIntegerOverflow), never a wrap; integer / integer truncates
//     toward zero; % takes integers only (a double or decimal operand is a
//     type mismatch, as in Tarantool); x / 0 and x % 0 are errors for every
//     kind of number, doubles included;
//   - an integer with a double gives a double; anything with a decimal gives
//     a decimal (38 significant digits, ties away from zero; 10^38 or more
//     is CodeSQLDecimalOverflow); a double becomes a decimal through its
//     shortest round-trip text (0.1 is 0.1);
//   - CAST of a double or decimal to an integer truncates toward zero
//     (Tarantool and Picodata's documentation: CAST(84.61 AS INT) is 84);
//   - CAST of a string to a boolean takes 'true' and 'false', any case,
//     spaces around ignored; a boolean casts to 'TRUE' / 'FALSE'; numbers
//     and booleans do not cast to each other (Tarantool 2.10 and later);
//   - AVG of integers and decimals is a decimal (Picodata declares AVG
//     decimal), of doubles a double;
//   - LIKE's default escape character is the backslash (Picodata's).
package value

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cockroachdb/apd/v3"
	"github.com/google/uuid"

	"github.com/picogo/picogo/core/tuple"
)

// Normalize returns v with every Go integer kind turned into int64, or
// uint64 when it is above math.MaxInt64, float32 into float64 and an
// apd.Decimal into *apd.Decimal. Other values are returned as they are.
func Normalize(v any) any {
	switch x := v.(type) {
	case int64, float64, nil, string, bool, *apd.Decimal:
		return v
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint:
		return fromUint(uint64(x))
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		return fromUint(x)
	case float32:
		return float64(x)
	case apd.Decimal:
		return &x
	}
	return v
}

func fromUint(u uint64) any {
	if u <= math.MaxInt64 {
		return int64(u)
	}
	return u
}

// TypeOf is the SQL type of a value: "integer" for every integer (as
// Tarantool's typeof), "double", "decimal", "string", "boolean", "uuid",
// "datetime", "varbinary", "array", "map"; NULL and anything else are
// "any".
func TypeOf(v any) tuple.FieldType {
	switch Normalize(v).(type) {
	case int64, uint64:
		return tuple.TypeInteger
	case float64:
		return tuple.TypeDouble
	case *apd.Decimal:
		return tuple.TypeDecimal
	case string:
		return tuple.TypeString
	case bool:
		return tuple.TypeBoolean
	case uuid.UUID:
		return tuple.TypeUUID
	case tuple.Datetime:
		return tuple.TypeDatetime
	case []byte:
		return tuple.TypeVarbinary
	case []any:
		return tuple.TypeArray
	case map[string]any, map[any]any:
		return tuple.TypeMap
	}
	return tuple.TypeAny
}

// ParseType maps a type name of the dialect, upper-case as the parser gives
// it, with its parenthesized arguments (VARCHAR(10): args [10]), to a field
// type:
//
//	INTEGER INT BIGINT SMALLINT TINYINT INT2 INT4 INT8   integer
//	UNSIGNED                                           unsigned
//	DOUBLE "DOUBLE PRECISION" REAL FLOAT FLOAT4 FLOAT8   double
//	DECIMAL NUMERIC (optionally (p) or (p, s))           decimal
//	NUMBER                                             number
//	TEXT STRING VARCHAR(n) CHAR(n) CHARACTER(n)         string
//	"CHARACTER VARYING"(n)
//	BOOLEAN BOOL                                       boolean
//	UUID                                               uuid
//	DATETIME TIMESTAMP                                 datetime
//	VARBINARY                                          varbinary
//	ANY SCALAR MAP ARRAY                               themselves
//
// VARCHAR and CHAR take one positive length (VARCHAR without one is
// allowed too), DECIMAL at most two arguments; the lengths are not
// enforced. An unknown name, or arguments a type does not take, is a
// CodeSQLTypeMismatch error naming it.
func ParseType(name string, args []int) (tuple.FieldType, *tuple.Error) {
	n := strings.Join(strings.Fields(strings.ToUpper(name)), " ")
	var t tuple.FieldType
	maxArgs := 0
	switch n {
	case "INTEGER", "INT", "BIGINT", "SMALLINT", "TINYINT", "INT2", "INT4", "INT8":
		t = tuple.TypeInteger
	case "UNSIGNED":
		t = tuple.TypeUnsigned
	case "DOUBLE", "DOUBLE PRECISION", "REAL", "FLOAT", "FLOAT4", "FLOAT8":
		t = tuple.TypeDouble
	case "DECIMAL", "NUMERIC":
		t, maxArgs = tuple.TypeDecimal, 2
	case "NUMBER":
		t = tuple.TypeNumber
	case "TEXT", "STRING":
		t = tuple.TypeString
	case "VARCHAR", "CHAR", "CHARACTER", "CHARACTER VARYING":
		t, maxArgs = tuple.TypeString, 1
	case "BOOLEAN", "BOOL":
		t = tuple.TypeBoolean
	case "UUID":
		t = tuple.TypeUUID
	case "DATETIME", "TIMESTAMP":
		t = tuple.TypeDatetime
	case "VARBINARY":
		t = tuple.TypeVarbinary
	case "ANY":
		t = tuple.TypeAny
	case "SCALAR":
		t = tuple.TypeScalar
	case "MAP":
		t = tuple.TypeMap
	case "ARRAY":
		t = tuple.TypeArray
	default:
		return "", tuple.Errorf(tuple.CodeSQLTypeMismatch, "unknown type %s", name)
	}
	if len(args) > maxArgs {
		return "", tuple.Errorf(tuple.CodeSQLTypeMismatch, "type %s takes %s", name, argsWord(maxArgs))
	}
	for _, a := range args {
		if a <= 0 && t == tuple.TypeString {
			return "", tuple.Errorf(tuple.CodeSQLTypeMismatch, "type %s(%d): the length must be positive", name, a)
		}
		if a < 0 {
			return "", tuple.Errorf(tuple.CodeSQLTypeMismatch, "type %s(%d): the argument must not be negative", name, a)
		}
	}
	return t, nil
}

func argsWord(n int) string {
	switch n {
	case 0:
		return "no arguments"
	case 1:
		return "at most one argument"
	}
	return fmt.Sprintf("at most %d arguments", n)
}

// Describe renders a value for error messages the way Tarantool does:
// integer(5), string('abc'), double(1.5), NULL.
func Describe(v any) string {
	v = Normalize(v)
	switch x := v.(type) {
	case nil:
		return "NULL"
	case int64:
		return "integer(" + strconv.FormatInt(x, 10) + ")"
	case uint64:
		return "integer(" + strconv.FormatUint(x, 10) + ")"
	case float64:
		return "double(" + formatDouble(x) + ")"
	case *apd.Decimal:
		return "decimal(" + x.Text('f') + ")"
	case string:
		if utf8.RuneCountInString(x) > 40 {
			r := []rune(x)
			x = string(r[:40]) + "..."
		}
		return "string('" + x + "')"
	case bool:
		return "boolean(" + boolText(x) + ")"
	case uuid.UUID:
		return "uuid(" + x.String() + ")"
	case tuple.Datetime:
		return "datetime(" + x.String() + ")"
	case []byte:
		return fmt.Sprintf("varbinary(%d bytes)", len(x))
	}
	return string(TypeOf(v))
}

func boolText(b bool) string {
	if b {
		return "TRUE"
	}
	return "FALSE"
}

// formatDouble is the text of a double: the shortest that reads back the
// same ("1", "0.1", "1e+21"); NaN and the infinities as "nan", "inf",
// "-inf".
func formatDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func typeMismatch(format string, args ...any) *tuple.Error {
	return tuple.Errorf(tuple.CodeSQLTypeMismatch, format, args...)
}

func integerOverflow() *tuple.Error {
	return tuple.Errorf(tuple.CodeSQLIntegerOverflow, "integer is overflowed")
}

func divisionByZero() *tuple.Error {
	return tuple.Errorf(tuple.CodeSQLDivisionByZero, "division by zero")
}

func decimalOverflow() *tuple.Error {
	return tuple.Errorf(tuple.CodeSQLDecimalOverflow, "decimal is overflowed")
}

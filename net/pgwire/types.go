package pgwire

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"
)

// typeOID is the PostgreSQL type a picogo SQL type is sent as; types
// PostgreSQL has no match for (any, scalar, map, array) are text.
func typeOID(t string) uint32 {
	switch strings.ToLower(t) {
	case "integer", "unsigned", "int", "bigint":
		return pgtype.Int8OID
	case "double":
		return pgtype.Float8OID
	case "decimal", "number", "numeric":
		return pgtype.NumericOID
	case "boolean", "bool":
		return pgtype.BoolOID
	case "uuid":
		return pgtype.UUIDOID
	case "datetime":
		return pgtype.TimestamptzOID
	case "varbinary":
		return pgtype.ByteaOID
	}
	return pgtype.TextOID
}

// paramOID is the type a parameter of picogo type t is described as:
// typeOID's, except that a parameter nothing in the statement gives a
// type to ("any") is 0, unspecified, rather than PostgreSQL's text. A
// client then sends what it has in text (pgx, whose default mode encodes
// arguments by the described types, would refuse an integer for text);
// the Backend receives it as a string.
func paramOID(t string) uint32 {
	if strings.EqualFold(t, "any") {
		return 0
	}
	return typeOID(t)
}

// typeSize is RowDescription's size of a type (-1: variable).
func typeSize(oid uint32) int16 {
	switch oid {
	case pgtype.Int8OID, pgtype.Float8OID, pgtype.TimestamptzOID:
		return 8
	case pgtype.BoolOID:
		return 1
	case pgtype.UUIDOID:
		return 16
	}
	return -1
}

// encodeValue is v as a DataRow carries it in a column of type oid, in
// format (0 text, 1 binary); nil is NULL.
func (c *conn) encodeValue(v any, oid uint32, format int16) ([]byte, *Error) {
	if v == nil {
		return nil, nil
	}
	if oid == pgtype.Int8OID {
		if u, ok := v.(uint64); ok && u > math.MaxInt64 {
			return nil, &Error{Code: "22003", Message: fmt.Sprintf("value %d is out of range for type bigint", u)}
		}
	}
	if format == 0 {
		return []byte(c.textValue(v)), nil
	}
	var gv any
	switch oid {
	case pgtype.Int8OID:
		n, ok := toInt64(v)
		if !ok {
			return nil, mismatch(v, "bigint")
		}
		gv = n
	case pgtype.Float8OID:
		f, ok := toFloat64(v)
		if !ok {
			return nil, mismatch(v, "double precision")
		}
		gv = f
	case pgtype.NumericOID:
		var n pgtype.Numeric
		if err := n.Scan(c.textValue(v)); err != nil {
			return nil, mismatch(v, "numeric")
		}
		gv = n
	case pgtype.BoolOID:
		b, ok := v.(bool)
		if !ok {
			return nil, mismatch(v, "boolean")
		}
		gv = b
	case pgtype.UUIDOID:
		u, ok := v.(UUID)
		if !ok {
			if a, ok2 := v.([16]byte); ok2 {
				u, ok = UUID(a), true
			}
		}
		if !ok {
			return nil, mismatch(v, "uuid")
		}
		gv = [16]byte(u)
	case pgtype.TimestamptzOID:
		t, ok := v.(time.Time)
		if !ok {
			return nil, mismatch(v, "timestamp with time zone")
		}
		gv = t
	case pgtype.ByteaOID:
		switch b := v.(type) {
		case []byte:
			gv = b
		case string:
			gv = []byte(b)
		default:
			return nil, mismatch(v, "bytea")
		}
	default:
		return []byte(c.textValue(v)), nil
	}
	b, err := c.types.Encode(oid, pgtype.BinaryFormatCode, gv, nil)
	if err != nil {
		return nil, &Error{Code: "22P03", Message: err.Error()}
	}
	return b, nil
}

func mismatch(v any, typ string) *Error {
	return &Error{Code: "42804", Message: fmt.Sprintf("cannot send a value of Go type %T as %s", v, typ)}
}

func toInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case uint64:
		return int64(n), n <= math.MaxInt64
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case uint32:
		return int64(n), true
	case float64:
		if n == math.Trunc(n) && n >= -(1<<63) && n < 1<<63 {
			return int64(n), true
		}
	}
	return 0, false
}

func toFloat64(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case int:
		return float64(n), true
	}
	return 0, false
}

// textValue is v in PostgreSQL's text format, chosen by v's Go type:
// booleans t/f, bytea \x hex, timestamps in the session's time zone.
func (c *conn) textValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case int:
		return strconv.Itoa(x)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case uint32:
		return strconv.FormatUint(uint64(x), 10)
	case float64:
		return formatFloat(x)
	case float32:
		return formatFloat(float64(x))
	case bool:
		if x {
			return "t"
		}
		return "f"
	case []byte:
		return `\x` + hex.EncodeToString(x)
	case time.Time:
		return formatTimestamptz(x, c.settings.loc)
	case UUID:
		return formatUUID(x)
	case [16]byte:
		return formatUUID(UUID(x))
	case Numeric:
		return string(x)
	}
	return fmt.Sprintf("%v", v)
}

// formatFloat is float8's text as PostgreSQL 12+ prints it: the shortest
// text that reads back the same, in exponent form below 1e-4 and from
// 1e15.
func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if f != 0 && (exp < -4 || exp >= 15) {
		return e
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// formatTimestamptz is timestamptz's text as PostgreSQL prints it with
// DateStyle ISO: "2006-01-02 15:04:05.999999+00", in loc.
func formatTimestamptz(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc).Round(time.Microsecond)
	var b strings.Builder
	y := t.Year()
	if y <= 0 {
		y = 1 - y // no year 0: 1 BC is year 0 in Go
	}
	fmt.Fprintf(&b, "%04d-%02d-%02d %02d:%02d:%02d", y, int(t.Month()), t.Day(), t.Hour(), t.Minute(), t.Second())
	if us := t.Nanosecond() / 1000; us != 0 {
		b.WriteString(strings.TrimRight(fmt.Sprintf(".%06d", us), "0"))
	}
	_, off := t.Zone()
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	fmt.Fprintf(&b, "%c%02d", sign, off/3600)
	if m, s := off%3600/60, off%60; m != 0 || s != 0 {
		fmt.Fprintf(&b, ":%02d", m)
		if s != 0 {
			fmt.Fprintf(&b, ":%02d", s)
		}
	}
	if t.Year() <= 0 {
		b.WriteString(" BC")
	}
	return b.String()
}

func formatUUID(u UUID) string {
	h := hex.EncodeToString(u[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// decodeParam is parameter n's value from data in format, by its type
// oid, as Run receives it (see Param values in backend.go).
func (c *conn) decodeParam(oid uint32, format int16, data []byte, n int) (any, *Error) {
	badBinary := func() *Error {
		return &Error{Code: "22P03", Message: fmt.Sprintf("incorrect binary data format in bind parameter %d", n)}
	}
	text := string(data)
	if format == 0 && !utf8.ValidString(text) {
		return nil, &Error{Code: "22021", Message: fmt.Sprintf("invalid byte sequence for encoding \"UTF8\" in bind parameter %d", n)}
	}
	syntax := func(typ string) *Error {
		return &Error{Code: "22P02", Message: fmt.Sprintf("invalid input syntax for type %s: %q", typ, text)}
	}
	switch oid {
	case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID:
		if format == 1 {
			switch {
			case oid == pgtype.Int2OID && len(data) == 2:
				return int64(int16(binary.BigEndian.Uint16(data))), nil
			case oid == pgtype.Int4OID && len(data) == 4:
				return int64(int32(binary.BigEndian.Uint32(data))), nil
			case oid == pgtype.Int8OID && len(data) == 8:
				return int64(binary.BigEndian.Uint64(data)), nil
			}
			return nil, badBinary()
		}
		typ := map[uint32]string{pgtype.Int2OID: "smallint", pgtype.Int4OID: "integer", pgtype.Int8OID: "bigint"}[oid]
		bits := map[uint32]int{pgtype.Int2OID: 16, pgtype.Int4OID: 32, pgtype.Int8OID: 64}[oid]
		v, err := strconv.ParseInt(strings.TrimSpace(text), 10, bits)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return nil, &Error{Code: "22003", Message: fmt.Sprintf("value %q is out of range for type %s", text, typ)}
			}
			return nil, syntax(typ)
		}
		return v, nil
	case pgtype.Float4OID, pgtype.Float8OID:
		if format == 1 {
			switch {
			case oid == pgtype.Float4OID && len(data) == 4:
				return float64(math.Float32frombits(binary.BigEndian.Uint32(data))), nil
			case oid == pgtype.Float8OID && len(data) == 8:
				return math.Float64frombits(binary.BigEndian.Uint64(data)), nil
			}
			return nil, badBinary()
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return nil, &Error{Code: "22003", Message: fmt.Sprintf("%q is out of range for type double precision", text)}
			}
			return nil, syntax("double precision")
		}
		return v, nil
	case pgtype.NumericOID:
		var num pgtype.Numeric
		if err := c.types.Scan(oid, format, data, &num); err != nil || !num.Valid {
			if format == 1 {
				return nil, badBinary()
			}
			return nil, syntax("numeric")
		}
		v, err := num.Value()
		s, ok := v.(string)
		if err != nil || !ok {
			return nil, syntax("numeric")
		}
		return Numeric(s), nil
	case pgtype.BoolOID:
		if format == 1 {
			if len(data) != 1 {
				return nil, badBinary()
			}
			return data[0] != 0, nil
		}
		if b, ok := parseBool(text); ok {
			return b, nil
		}
		return nil, syntax("boolean")
	case pgtype.UUIDOID:
		var u pgtype.UUID
		if err := c.types.Scan(oid, format, data, &u); err != nil || !u.Valid {
			if format == 1 {
				return nil, badBinary()
			}
			return nil, syntax("uuid")
		}
		return UUID(u.Bytes), nil
	case pgtype.TimestampOID, pgtype.TimestamptzOID, pgtype.DateOID:
		var t time.Time
		err := c.types.Scan(oid, format, data, &t)
		if err != nil && oid == pgtype.TimestamptzOID && format == 0 {
			// Without an offset, the time is in the session's time zone.
			var wall time.Time
			if c.types.Scan(pgtype.TimestampOID, format, data, &wall) == nil {
				t, err = time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), wall.Nanosecond(), c.settings.loc), nil
			}
		}
		if err != nil {
			if format == 1 {
				return nil, badBinary()
			}
			typ := map[uint32]string{pgtype.TimestampOID: "timestamp", pgtype.TimestamptzOID: "timestamp with time zone", pgtype.DateOID: "date"}[oid]
			return nil, syntax(typ)
		}
		return t.UTC(), nil
	case pgtype.ByteaOID:
		if format == 1 {
			return append([]byte{}, data...), nil
		}
		var b []byte
		if err := c.types.Scan(oid, format, data, &b); err != nil {
			return nil, syntax("bytea")
		}
		if b == nil {
			b = []byte{}
		}
		return b, nil
	case 0, pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID, pgtype.UnknownOID:
		if format == 1 && !utf8.ValidString(text) {
			return nil, &Error{Code: "22021", Message: fmt.Sprintf("invalid byte sequence for encoding \"UTF8\" in bind parameter %d", n)}
		}
		return text, nil
	}
	if format == 1 {
		return nil, &Error{Code: "0A000", Message: fmt.Sprintf("binary format of parameter type %d (bind parameter %d) is not supported; send it as text", oid, n)}
	}
	return text, nil
}

// parseBool reads boolean input as PostgreSQL does: t, true, yes, on, 1
// and their opposites (any unambiguous prefix), in any case.
func parseBool(s string) (bool, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return false, false
	}
	switch {
	case strings.HasPrefix("true", s), strings.HasPrefix("yes", s), s == "on", s == "1":
		return true, true
	case strings.HasPrefix("false", s), strings.HasPrefix("no", s), s == "off" || s == "of", s == "0":
		return false, true
	}
	return false, false
}

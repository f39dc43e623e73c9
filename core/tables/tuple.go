package tables

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// Tuple is a stored row: its raw msgpack array and the values decoded from
// it. Both are read-only: a Tuple is shared by the store and the snapshots
// taken from it.
type Tuple struct {
	vals []any
	raw  []byte
}

// NewTuple decodes a raw msgpack array. Integers decode as int8..int64 or
// uint8..uint64 (see AsUint64, AsInt64, AsFloat64), maps as map[string]any,
// arrays as []any.
func NewTuple(raw []byte) (Tuple, error) {
	vals, err := decodeArray(raw)
	if err != nil {
		return Tuple{}, err
	}
	return Tuple{vals: vals, raw: raw}, nil
}

// Raw is the tuple's msgpack encoding, exactly as written.
func (t Tuple) Raw() []byte { return t.raw }

// Values are the decoded fields.
func (t Tuple) Values() []any { return t.vals }

// Len is the number of fields.
func (t Tuple) Len() int { return len(t.vals) }

// Field returns field i, or nil if the tuple is shorter.
func (t Tuple) Field(i int) any {
	if i < 0 || i >= len(t.vals) {
		return nil
	}
	return t.vals[i]
}

func (t Tuple) String() string { return formatValue(t.vals) }

// Marshal encodes v as msgpack deterministically: map[string]... keys
// sorted, integers in their most compact form, floats as floats.
func Marshal(v any) ([]byte, error) { return marshalSized(v, 0) }

// marshalSized is Marshal into a buffer of about sizeHint bytes from the
// start: a snapshot chunk of a megabyte grown by doubling cost as much
// again in copying and clearing as its encoding (docs/BENCHMARKS.md).
func marshalSized(v any, sizeHint int) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(sizeHint)
	enc := msgpack.NewEncoder(&buf)
	enc.SetSortMapKeys(true)
	enc.UseCompactInts(true)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// mustMarshal is Marshal for values built by this package, which always
// encode.
func mustMarshal(v any) []byte { return mustMarshalSized(v, 0) }

func mustMarshalSized(v any, sizeHint int) []byte {
	b, err := marshalSized(v, sizeHint)
	if err != nil {
		panic(fmt.Sprintf("tables: encoding %T: %v", v, err))
	}
	return b
}

// decodeArray decodes a raw value that must be exactly one msgpack array.
// Errors are INVALID_MSGPACK or TUPLE_NOT_ARRAY.
func decodeArray(raw []byte) ([]any, *Error) {
	r := bytes.NewReader(raw)
	d := msgpack.NewDecoder(r)
	c, err := d.PeekCode()
	if err != nil {
		return nil, errorf(CodeInvalidMsgpack, "Invalid MsgPack - %v", err)
	}
	if !msgpcode.IsFixedArray(c) && c != msgpcode.Array16 && c != msgpcode.Array32 {
		return nil, errorf(CodeTupleNotArray, "Tuple/Key must be MsgPack array")
	}
	vals, err := d.DecodeSlice()
	if err != nil {
		return nil, errorf(CodeInvalidMsgpack, "Invalid MsgPack - %v", err)
	}
	if r.Len() != 0 {
		return nil, errorf(CodeInvalidMsgpack, "Invalid MsgPack - %d trailing bytes", r.Len())
	}
	if vals == nil {
		vals = []any{}
	}
	return vals, nil
}

// splitArray returns the raw encoding of each element of a msgpack array.
func splitArray(raw []byte) ([]msgpack.RawMessage, error) {
	d := msgpack.NewDecoder(bytes.NewReader(raw))
	n, err := d.DecodeArrayLen()
	if err != nil {
		return nil, err
	}
	out := make([]msgpack.RawMessage, 0, max(n, 0))
	for range n {
		e, err := d.DecodeRaw()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// joinArray encodes elements (already msgpack) as an array.
func joinArray(elems []msgpack.RawMessage) []byte {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	if err := enc.EncodeArrayLen(len(elems)); err != nil {
		panic(err) // a bytes.Buffer does not fail
	}
	for _, e := range elems {
		buf.Write(e)
	}
	return buf.Bytes()
}

// valueMatches reports whether a decoded value fits a non-nil field type.
// "double" accepts integers too (a Go client may well encode 1.0 as 1);
// "uuid" accepts the canonical 36-character string form.
func valueMatches(t FieldType, v any) bool {
	switch t {
	case TypeAny:
		return true
	case TypeUnsigned:
		_, ok := AsUint64(v)
		return ok
	case TypeInteger:
		n, ok := toNumber(v)
		return ok && n.isInteger()
	case TypeDouble, TypeNumber:
		_, ok := toNumber(v)
		return ok
	case TypeString:
		_, ok := v.(string)
		return ok
	case TypeBoolean:
		_, ok := v.(bool)
		return ok
	case TypeMap:
		switch v.(type) {
		case map[string]any, map[any]any:
			return true
		}
		return false
	case TypeArray:
		_, ok := v.([]any)
		return ok
	case TypeUUID:
		s, ok := v.(string)
		return ok && isUUID(s)
	}
	return false
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// valueTypeName is the msgpack type of a decoded value in Tarantool's
// words.
func valueTypeName(v any) string {
	if n, ok := toNumber(v); ok {
		switch n.kind {
		case numUint:
			return "unsigned"
		case numInt:
			return "integer"
		}
		return "double"
	}
	switch v.(type) {
	case nil:
		return "nil"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []byte:
		return "varbinary"
	case []any:
		return "array"
	case map[string]any, map[any]any:
		return "map"
	}
	return "extension"
}

// checkTuple validates decoded values against a table format: exact field
// count, types, nullability.
func checkTuple(def *TableDef, vals []any) *Error {
	if len(vals) != len(def.Format) {
		return errorf(CodeExactFieldCount, "Tuple field count %d does not match space field count %d",
			len(vals), len(def.Format))
	}
	for i, f := range def.Format {
		v := vals[i]
		if v == nil {
			if f.Nullable {
				continue
			}
		} else if valueMatches(f.Type, v) {
			continue
		}
		return errorf(CodeFieldType, "Tuple field %s type does not match one required by operation: expected %s, got %s",
			def.fieldLabel(i), f.Type, valueTypeName(v))
	}
	return nil
}

// formatValue renders a decoded value for messages, deterministically
// (map keys sorted).
func formatValue(v any) string {
	var b strings.Builder
	writeValue(&b, v)
	return b.String()
}

func writeValue(b *strings.Builder, v any) {
	if n, ok := toNumber(v); ok {
		switch n.kind {
		case numUint:
			b.WriteString(strconv.FormatUint(n.u, 10))
		case numInt:
			b.WriteString(strconv.FormatInt(n.i, 10))
		default:
			b.WriteString(strconv.FormatFloat(n.f, 'g', -1, 64))
		}
		return
	}
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case string:
		b.WriteString(strconv.Quote(v))
	case []byte:
		fmt.Fprintf(b, "bin:%x", v)
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			writeValue(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.Quote(k))
			b.WriteString(": ")
			writeValue(b, v[k])
		}
		b.WriteByte('}')
	default:
		fmt.Fprintf(b, "<%s>", valueTypeName(v))
	}
}

package tuple

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"
	"github.com/google/uuid"
	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// Tuple is a stored row: its raw msgpack array and the values decoded from
// it. Both are read-only: a Tuple is shared by whoever stores it and the
// snapshots taken from it.
type Tuple struct {
	vals []any
	raw  []byte
}

// New decodes a raw msgpack array. Integers decode as int8..int64 or
// uint8..uint64 (see AsUint64, AsInt64, AsFloat64), maps as map[string]any,
// arrays as []any, Tarantool's decimal, uuid and datetime extensions as
// *apd.Decimal, uuid.UUID and Datetime. The error is a *Error:
// INVALID_MSGPACK or TUPLE_NOT_ARRAY.
//
// The tuple keeps raw, which must not change afterwards: its string
// values share raw's bytes (a copy of each was a third of the memory a
// global table's rows took, and an allocation per field at every apply on
// every instance, docs/BENCHMARKS.md).
func New(raw []byte) (Tuple, error) {
	if vals, ok := decodeArrayFast(raw, true); ok {
		return Tuple{vals: vals, raw: raw}, nil
	}
	vals, e := decodeArraySlow(raw)
	if e != nil {
		return Tuple{}, e
	}
	return Tuple{vals: vals, raw: raw}, nil
}

// FromValues encodes values (see Marshal) into a tuple. It panics if a
// value cannot be encoded, which is a programming error.
func FromValues(vals []any) Tuple {
	t, err := New(MustMarshal(vals))
	if err != nil {
		panic("tuple: " + err.Error())
	}
	return t
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
// sorted, integers in their most compact form, floats as floats, and
// *apd.Decimal, uuid.UUID and Datetime (in []any and map[string]any, or
// alone) as Tarantool's extension types.
func Marshal(v any) ([]byte, error) { return marshalSized(v, 0) }

// marshalSized is Marshal into a buffer of about sizeHint bytes from the
// start: a snapshot chunk of a megabyte grown by doubling cost as much
// again in copying and clearing as its encoding (docs/BENCHMARKS.md).
func marshalSized(v any, sizeHint int) ([]byte, error) {
	v, err := withExt(v)
	if err != nil {
		return nil, err
	}
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

// MustMarshal is Marshal for values that always encode (built by the
// caller, not received): it panics otherwise, a programming error.
func MustMarshal(v any) []byte { return MustMarshalSized(v, 0) }

// MustMarshalSized is MustMarshal into a buffer of about sizeHint bytes.
func MustMarshalSized(v any, sizeHint int) []byte {
	b, err := marshalSized(v, sizeHint)
	if err != nil {
		panic(fmt.Sprintf("tuple: encoding %T: %v", v, err))
	}
	return b
}

// DecodeArray decodes a raw value that must be exactly one msgpack array
// (a tuple or a key). Errors are INVALID_MSGPACK or TUPLE_NOT_ARRAY.
func DecodeArray(raw []byte) ([]any, *Error) {
	if vals, ok := decodeArrayFast(raw, false); ok {
		return vals, nil
	}
	return decodeArraySlow(raw)
}

// decodeArraySlow is DecodeArray through msgpack.Decoder: what
// decodeArrayFast does not handle, and every error.
func decodeArraySlow(raw []byte) ([]any, *Error) {
	r := bytes.NewReader(raw)
	d := msgpack.NewDecoder(r)
	c, err := d.PeekCode()
	if err != nil {
		return nil, Errorf(CodeInvalidMsgpack, "Invalid MsgPack - %v", err)
	}
	if !msgpcode.IsFixedArray(c) && c != msgpcode.Array16 && c != msgpcode.Array32 {
		return nil, Errorf(CodeTupleNotArray, "Tuple/Key must be MsgPack array")
	}
	v, err := decodeAny(d)
	if err != nil {
		return nil, Errorf(CodeInvalidMsgpack, "Invalid MsgPack - %v", err)
	}
	vals, _ := v.([]any)
	if r.Len() != 0 {
		return nil, Errorf(CodeInvalidMsgpack, "Invalid MsgPack - %d trailing bytes", r.Len())
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

// TypeName is the msgpack type of a decoded value in Tarantool's words.
func TypeName(v any) string {
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
	case *apd.Decimal:
		return "decimal"
	case uuid.UUID:
		return "uuid"
	case Datetime:
		return "datetime"
	case []any:
		return "array"
	case map[string]any, map[any]any:
		return "map"
	}
	return "extension"
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
	case *apd.Decimal:
		b.WriteString(formatDecimal(v))
	case uuid.UUID:
		b.WriteString(v.String())
	case Datetime:
		b.WriteString(v.String())
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
		fmt.Fprintf(b, "<%s>", TypeName(v))
	}
}

package iproto

import (
	"bytes"
	"encoding/binary"
	"math"

	"github.com/vmihailenco/msgpack/v5"
)

// Minimal msgpack appenders writing the compact forms Tarantool writes.

func appendUint(b []byte, v uint64) []byte {
	switch {
	case v <= 0x7f:
		return append(b, byte(v))
	case v <= math.MaxUint8:
		return append(b, 0xcc, byte(v))
	case v <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(v))
	case v <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xcf), v)
}

// appendLen writes a str/bin/array/map header: fix is the fix-format base
// (0 if none), fixMax its largest count, and f8/f16/f32 the sized formats (0 if
// the family has no 8-bit form).
func appendLen(b []byte, n int, fix byte, fixMax int, f8, f16, f32 byte) []byte {
	switch {
	case fix != 0 && n <= fixMax:
		return append(b, fix|byte(n))
	case f8 != 0 && n <= math.MaxUint8:
		return append(b, f8, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, f16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, f32), uint32(n))
}

// appendStr writes s as a msgpack str (bytes too: clients send the
// scramble so).
func appendStr[S string | []byte](b []byte, s S) []byte {
	return append(appendLen(b, len(s), 0xa0, 31, 0xd9, 0xda, 0xdb), s...)
}

func appendArrayLen(b []byte, n int) []byte {
	return appendLen(b, n, 0x90, 15, 0, 0xdc, 0xdd)
}

func appendMapLen(b []byte, n int) []byte {
	return appendLen(b, n, 0x80, 15, 0, 0xde, 0xdf)
}

func appendUintArray(b []byte, vs []uint64) []byte {
	b = appendArrayLen(b, len(vs))
	for _, v := range vs {
		b = appendUint(b, v)
	}
	return b
}

// emptyArray is a msgpack [].
var emptyArray = []byte{0x90}

// orEmptyArray is raw, or [] when raw is empty.
func orEmptyArray(raw []byte) []byte {
	if len(raw) == 0 {
		return emptyArray
	}
	return raw
}

// marshal encodes v: a msgpack.RawMessage is taken as is, anything else goes
// through msgpack with compact integers and sorted map keys, so that equal
// values encode to equal bytes. The result is checked to be exactly one
// well-formed value, whatever v's own EncodeMsgpack methods did.
func marshal(v any) ([]byte, error) {
	var out []byte
	switch v := v.(type) {
	case nil:
		return []byte{0xc0}, nil
	case msgpack.RawMessage:
		out = v
	default:
		var buf bytes.Buffer
		enc := msgpack.NewEncoder(&buf)
		enc.UseCompactInts(true)
		enc.SetSortMapKeys(true)
		if err := enc.Encode(v); err != nil {
			return nil, err
		}
		out = buf.Bytes()
	}
	if err := checkValue(out); err != nil {
		return nil, err
	}
	return out, nil
}

// marshalArray is marshal, insisting on an array; nil (a nil slice, say)
// stands for the empty one.
func marshalArray(v any) ([]byte, error) {
	out, err := marshal(v)
	if err != nil {
		return nil, err
	}
	if kindOf(out) == kindNil {
		return emptyArray, nil
	}
	if kindOf(out) != kindArray {
		return nil, errNotArray
	}
	return out, nil
}

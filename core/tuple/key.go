package tuple

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Key encoding.
//
// EncodeKey turns primary key values into bytes whose lexicographic order is
// the order in which Tarantool compares the values, so rows can be kept in a
// Go map keyed by the encoding and ordered by sorting the encodings.
//
// Each value is one self-delimiting part, so a key is the concatenation of
// its parts and multi-part keys compare part by part:
//
//	nil      0x05
//	false    0x10
//	true     0x11
//	number   0x20, 8 bytes: largest float64 f <= value as order-preserving bits,
//	         2 bytes: value - f (exact for integers, 0 for floats)
//	string   0x30, bytes with 0x00 escaped as 0x00 0xFF, then 0x00 0x01
//	binary   0x40, same escaping as strings
//
// The tags follow Tarantool's scalar order (nil < boolean < number < string
// < varbinary). Numbers of every msgpack kind (unsigned, negative integers,
// float, double) compare by exact numeric value: for an integer v and the
// largest float64 f <= v, v lies in [f, nextafter(f)), so comparing f first
// and the exact remainder v-f (< 2^12 for |v| < 2^64) second is exact. An
// integer and a float of the same value encode the same (1 and 1.0 are the
// same key, as in a Tarantool "number" index). -0.0 is 0; NaN sorts below
// every other number.
//
// The encoding of one key is O(size of the key).

const (
	tagNil    byte = 0x05
	tagFalse  byte = 0x10
	tagTrue   byte = 0x11
	tagNumber byte = 0x20
	tagString byte = 0x30
	tagBinary byte = 0x40
)

// EncodeKey encodes key values (as decoded by msgpack, or plain Go numbers,
// strings, booleans, []byte and nil) in the order-preserving form described
// above. Maps, arrays and other values cannot be key parts.
func EncodeKey(values []any) ([]byte, error) {
	var b []byte
	for i, v := range values {
		var err error
		if b, err = appendKeyPart(b, v); err != nil {
			return nil, fmt.Errorf("key part %d: %w", i, err)
		}
	}
	return b, nil
}

func appendKeyPart(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, tagNil), nil
	case bool:
		if v {
			return append(b, tagTrue), nil
		}
		return append(b, tagFalse), nil
	case string:
		return appendEscaped(append(b, tagString), []byte(v)), nil
	case []byte:
		return appendEscaped(append(b, tagBinary), v), nil
	}
	n, ok := toNumber(v)
	if !ok {
		return nil, fmt.Errorf("a value of type %s cannot be a key part", TypeName(v))
	}
	return appendNumber(append(b, tagNumber), n), nil
}

func appendEscaped(b, s []byte) []byte {
	for _, c := range s {
		if c == 0 {
			b = append(b, 0, 0xFF)
		} else {
			b = append(b, c)
		}
	}
	return append(b, 0, 1)
}

func appendNumber(b []byte, n number) []byte {
	var f float64
	var rem uint64
	switch n.kind {
	case numUint:
		f, rem = floorUint(n.u)
	case numInt:
		f, rem = floorInt(n.i)
	default:
		f = n.f
		if f == 0 {
			f = 0 // -0.0 is 0
		}
	}
	b = binary.BigEndian.AppendUint64(b, orderedFloatBits(f))
	return binary.BigEndian.AppendUint16(b, uint16(rem))
}

// orderedFloatBits maps a float64 to bits whose unsigned order is the
// numeric order; NaN maps below -Inf.
func orderedFloatBits(f float64) uint64 {
	if math.IsNaN(f) {
		return 0
	}
	bits := math.Float64bits(f)
	if bits>>63 == 1 {
		return ^bits
	}
	return bits | 1<<63
}

// twoTo64 is 2^64 as a float64.
const twoTo64 = 18446744073709551616.0

// floorUint returns the largest float64 f <= u and u - f.
func floorUint(u uint64) (float64, uint64) {
	f := float64(u) // rounded to nearest
	if f >= twoTo64 || uint64(f) > u {
		f = math.Nextafter(f, math.Inf(-1))
	}
	return f, u - uint64(f)
}

// floorInt returns the largest float64 f <= i and i - f.
func floorInt(i int64) (float64, uint64) {
	if i >= 0 {
		return floorUint(uint64(i))
	}
	f := float64(i) // >= -2^63, exactly representable bound
	if int64(f) > i {
		f = math.Nextafter(f, math.Inf(-1))
	}
	return f, uint64(i - int64(f))
}

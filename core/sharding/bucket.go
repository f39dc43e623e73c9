// This file computes the bucket, bit for bit the way Picodata does, so that
// a key lands in the same bucket in picogo as in Picodata.

package sharding

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/cockroachdb/apd/v3"
	"github.com/google/uuid"
	"github.com/spaolacci/murmur3"

	"github.com/picogo/picogo/core/tuple"
)

// hashSeed is the seed of Tarantool's tuple hash (HASH_SEED in
// src/box/tuple_hash.cc).
const hashSeed = 13

// BucketID is the bucket of a sharding key (the values of the table's
// sharding-key columns, in order) in a tier of count buckets: 1..count.
//
// It is Tarantool's tuple hash of the key, as Picodata's router computes it
// (picodata src/sql/router.rs, calculate_bucket_id: a key_def with one
// nullable, collation-free part per value, typed after the value, hashed by
// box_tuple_hash; Tarantool src/box/tuple_hash.cc, tuple_hash_slowpath and
// tuple_hash_field), reduced as hash % count + 1. The hash is 32-bit
// MurmurHash3 (x86_32) with seed 13 over the bytes of the values one after
// another, with nothing between them:
//
//   - a string: its UTF-8 bytes alone, without the msgpack header;
//   - a double (float64, float32 widened): the msgpack double, 0xcb and the
//     8 big-endian bytes of the IEEE value (1.0 is a double here, never the
//     integer 1);
//   - a signed or unsigned integer: its most compact msgpack encoding
//     (positive fixint, 0xcc..0xcf for non-negative values, negative fixint
//     or 0xd0..0xd3 for negative ones), header included;
//   - a boolean: 0xc3 (true) or 0xc2 (false); NULL (nil): 0xc0;
//   - a decimal, a uuid, a datetime: the whole msgpack extension value
//     (fixext/ext header, type 1, 2 or 4, payload) as core/tuple encodes it:
//     a decimal keeps its scale, so 1.0 and 1.00 are different keys;
//   - []byte: the whole msgpack bin value, header included (what Tarantool
//     hashes for a varbinary field; Picodata's SQL has no such value).
//
// The bucket follows the value's Go type as Picodata's follows its SQL
// value's type: convert a value to its column's type first (an integer 1 for
// a decimal column must come as a decimal). The murmur3 of the values'
// string forms with seed 0 (crates/sql-executor/src/executor/hash.rs,
// bucket_id_by_tuple) is not Picodata's placement: it serves only the SQL
// engine's mock in tests. Confirmed at picodata/picodata
// 812716f7e520546529ef1980d2f96581fb2dfa0d, Tarantool's hash read in
// picodata/tarantool 43546f6b02f34b806dd0c5d8823c0cc47399864d.
//
// An empty key, a count of 0 and a value of any other type are errors.
func BucketID(key []any, count uint64) (uint64, error) {
	if count == 0 {
		return 0, fmt.Errorf("sharding: bucket count is 0")
	}
	if len(key) == 0 {
		return 0, fmt.Errorf("sharding: empty sharding key")
	}
	var buf []byte
	for i, v := range key {
		var err error
		buf, err = appendHashBytes(buf, v)
		if err != nil {
			return 0, fmt.Errorf("sharding: key value %d: %w", i, err)
		}
	}
	return uint64(murmur3.Sum32WithSeed(buf, hashSeed))%count + 1, nil
}

// appendHashBytes appends the bytes Tarantool's tuple hash feeds to murmur3
// for one key value.
func appendHashBytes(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, 0xc0), nil
	case bool:
		if v {
			return append(b, 0xc3), nil
		}
		return append(b, 0xc2), nil
	case string:
		return append(b, v...), nil
	case float64:
		return appendDouble(b, v), nil
	case float32:
		return appendDouble(b, float64(v)), nil
	case int:
		return appendInt(b, int64(v)), nil
	case int8:
		return appendInt(b, int64(v)), nil
	case int16:
		return appendInt(b, int64(v)), nil
	case int32:
		return appendInt(b, int64(v)), nil
	case int64:
		return appendInt(b, v), nil
	case uint:
		return appendUint(b, uint64(v)), nil
	case uint8:
		return appendUint(b, uint64(v)), nil
	case uint16:
		return appendUint(b, uint64(v)), nil
	case uint32:
		return appendUint(b, uint64(v)), nil
	case uint64:
		return appendUint(b, v), nil
	case []byte:
		return appendBin(b, v), nil
	case *apd.Decimal:
		if v == nil {
			return nil, fmt.Errorf("nil *apd.Decimal")
		}
		return appendExt(b, v)
	case apd.Decimal, uuid.UUID, tuple.Datetime:
		return appendExt(b, v)
	}
	return nil, fmt.Errorf("unsupported type %T", v)
}

func appendDouble(b []byte, f float64) []byte {
	b = append(b, 0xcb)
	return binary.BigEndian.AppendUint64(b, math.Float64bits(f))
}

// appendUint is the most compact msgpack encoding of a non-negative
// integer.
func appendUint(b []byte, u uint64) []byte {
	switch {
	case u < 1<<7:
		return append(b, byte(u))
	case u < 1<<8:
		return append(b, 0xcc, byte(u))
	case u < 1<<16:
		return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(u))
	case u < 1<<32:
		return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(u))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xcf), u)
}

// appendInt is the most compact msgpack encoding of an integer: the
// unsigned forms for non-negative values.
func appendInt(b []byte, i int64) []byte {
	switch {
	case i >= 0:
		return appendUint(b, uint64(i))
	case i >= -32:
		return append(b, byte(i))
	case i >= math.MinInt8:
		return append(b, 0xd0, byte(i))
	case i >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(i))
	case i >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(i))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(i))
}

func appendBin(b []byte, p []byte) []byte {
	n := uint64(len(p))
	switch {
	case n < 1<<8:
		b = append(b, 0xc4, byte(n))
	case n < 1<<16:
		b = binary.BigEndian.AppendUint16(append(b, 0xc5), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xc6), uint32(n))
	}
	return append(b, p...)
}

// appendExt appends a Tarantool extension value (decimal, uuid, datetime)
// in the msgpack core/tuple stores it as.
func appendExt(b []byte, v any) ([]byte, error) {
	raw, err := tuple.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, raw...), nil
}

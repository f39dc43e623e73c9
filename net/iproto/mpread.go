package iproto

import (
	"encoding/binary"
	"errors"
	"math"

	"github.com/vmihailenco/msgpack/v5"
)

// A minimal, bounds-checked msgpack reader. Every function takes the bytes
// left to read and returns what it read plus the bytes after it; none reads
// past the end of its input, none recurses, none allocates in proportion to a
// length the input claims.

var (
	errTruncated = errors.New("truncated")
	errNegative  = errors.New("negative integer")
	errWrongType = errors.New("unexpected msgpack type")
	errReserved  = errors.New("reserved msgpack byte 0xc1")
	errTrailing  = errors.New("trailing bytes")
	errNotArray  = errors.New("not a msgpack array")
)

// kind is the family of a msgpack value.
type kind uint8

const (
	kindInvalid kind = iota // no value: empty input or 0xc1
	kindNil
	kindBool
	kindInt // any integer, signed or not
	kindFloat
	kindStr
	kindBin
	kindArray
	kindMap
	kindExt
)

// kindOf is the family of the value b starts with.
func kindOf(b []byte) kind {
	if len(b) == 0 {
		return kindInvalid
	}
	c := b[0]
	switch {
	case c <= 0x7f || c >= 0xe0:
		return kindInt
	case c <= 0x8f:
		return kindMap
	case c <= 0x9f:
		return kindArray
	case c <= 0xbf:
		return kindStr
	}
	switch c {
	case 0xc0:
		return kindNil
	case 0xc2, 0xc3:
		return kindBool
	case 0xc4, 0xc5, 0xc6:
		return kindBin
	case 0xc7, 0xc8, 0xc9, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		return kindExt
	case 0xca, 0xcb:
		return kindFloat
	case 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3:
		return kindInt
	case 0xd9, 0xda, 0xdb:
		return kindStr
	case 0xdc, 0xdd:
		return kindArray
	case 0xde, 0xdf:
		return kindMap
	}
	return kindInvalid // 0xc1
}

// beUint reads an n-byte big-endian unsigned integer (n is 1, 2, 4 or 8)
// from the start of b; the caller has checked len(b) >= n.
func beUint(b []byte, n int) uint64 {
	switch n {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.BigEndian.Uint16(b))
	case 4:
		return uint64(binary.BigEndian.Uint32(b))
	default:
		return binary.BigEndian.Uint64(b)
	}
}

// intWidth tells, for an integer format byte other than a fixint, how many
// bytes follow it and whether they are signed; ok is false for a byte that
// does not start an integer.
func intWidth(c byte) (n int, signed, ok bool) {
	switch c {
	case 0xcc:
		return 1, false, true
	case 0xcd:
		return 2, false, true
	case 0xce:
		return 4, false, true
	case 0xcf:
		return 8, false, true
	case 0xd0:
		return 1, true, true
	case 0xd1:
		return 2, true, true
	case 0xd2:
		return 4, true, true
	case 0xd3:
		return 8, true, true
	}
	return 0, false, false
}

// signExtend turns the n-byte two's complement value v into an int64.
func signExtend(v uint64, n int) int64 {
	shift := uint(64 - 8*n)
	return int64(v<<shift) >> shift
}

// readUint reads a non-negative integer of any msgpack width.
func readUint(b []byte) (uint64, []byte, error) {
	if len(b) == 0 {
		return 0, nil, errTruncated
	}
	c := b[0]
	if c <= 0x7f {
		return uint64(c), b[1:], nil
	}
	if c >= 0xe0 {
		return 0, nil, errNegative
	}
	n, signed, ok := intWidth(c)
	if !ok {
		return 0, nil, errWrongType
	}
	if len(b) < 1+n {
		return 0, nil, errTruncated
	}
	v := beUint(b[1:], n)
	if signed && signExtend(v, n) < 0 {
		return 0, nil, errNegative
	}
	return v, b[1+n:], nil
}

// readContainer reads an array or map header (as want says) and returns its
// element count (for a map: the number of pairs).
func readContainer(b []byte, want kind) (uint64, []byte, error) {
	if len(b) == 0 {
		return 0, nil, errTruncated
	}
	if kindOf(b) != want {
		return 0, nil, errWrongType
	}
	c := b[0]
	if c <= 0x9f { // fixmap 0x80-0x8f, fixarray 0x90-0x9f
		return uint64(c & 0x0f), b[1:], nil
	}
	n := 2 // 0xdc array16, 0xde map16
	if c == 0xdd || c == 0xdf {
		n = 4
	}
	if len(b) < 1+n {
		return 0, nil, errTruncated
	}
	return beUint(b[1:], n), b[1+n:], nil
}

func readArrayLen(b []byte) (uint64, []byte, error) { return readContainer(b, kindArray) }
func readMapLen(b []byte) (uint64, []byte, error)   { return readContainer(b, kindMap) }

// readBytes reads a str, or also a bin if binOK, and returns its payload
// (aliasing b).
func readBytes(b []byte, binOK bool) ([]byte, []byte, error) {
	k := kindOf(b)
	if k == kindInvalid {
		if len(b) == 0 {
			return nil, nil, errTruncated
		}
		return nil, nil, errWrongType
	}
	if k != kindStr && (k != kindBin || !binOK) {
		return nil, nil, errWrongType
	}
	hdr, size, _, err := valueHeader(b)
	if err != nil {
		return nil, nil, err
	}
	if uint64(len(b)-hdr) < size {
		return nil, nil, errTruncated
	}
	end := hdr + int(size)
	return b[hdr:end], b[end:], nil
}

// readStr reads a str.
func readStr(b []byte) (string, []byte, error) {
	s, rest, err := readBytes(b, false)
	return string(s), rest, err
}

// valueHeader describes the value b starts with: hdr bytes of header, then
// size bytes of payload, then children nested values (2 per map pair). It
// checks that the header itself is present, not that the rest is.
func valueHeader(b []byte) (hdr int, size, children uint64, err error) {
	if len(b) == 0 {
		return 0, 0, 0, errTruncated
	}
	c := b[0]
	switch {
	case c <= 0x7f || c >= 0xe0:
		return 1, 0, 0, nil
	case c <= 0x8f:
		return 1, 0, 2 * uint64(c&0x0f), nil
	case c <= 0x9f:
		return 1, 0, uint64(c & 0x0f), nil
	case c <= 0xbf:
		return 1, uint64(c & 0x1f), 0, nil
	}
	// lenBytes bytes of length follow c (plus extra bytes of ext type);
	// fixed is the payload size of fixed-size formats.
	var lenBytes, extra int
	var fixed uint64
	switch c {
	case 0xc0, 0xc2, 0xc3:
		return 1, 0, 0, nil
	case 0xc1:
		return 0, 0, 0, errReserved
	case 0xc4, 0xd9:
		lenBytes = 1
	case 0xc5, 0xda:
		lenBytes = 2
	case 0xc6, 0xdb:
		lenBytes = 4
	case 0xc7:
		lenBytes, extra = 1, 1
	case 0xc8:
		lenBytes, extra = 2, 1
	case 0xc9:
		lenBytes, extra = 4, 1
	case 0xca:
		fixed = 4
	case 0xcb:
		fixed = 8
	case 0xcc, 0xd0:
		fixed = 1
	case 0xcd, 0xd1:
		fixed = 2
	case 0xce, 0xd2:
		fixed = 4
	case 0xcf, 0xd3:
		fixed = 8
	case 0xd4:
		fixed = 2 // type + 1
	case 0xd5:
		fixed = 3
	case 0xd6:
		fixed = 5
	case 0xd7:
		fixed = 9
	case 0xd8:
		fixed = 17
	case 0xdc, 0xdd, 0xde, 0xdf:
		n := 2
		if c == 0xdd || c == 0xdf {
			n = 4
		}
		if len(b) < 1+n {
			return 0, 0, 0, errTruncated
		}
		count := beUint(b[1:], n)
		if c >= 0xde {
			count *= 2
		}
		return 1 + n, 0, count, nil
	}
	if lenBytes == 0 {
		return 1, fixed, 0, nil
	}
	if len(b) < 1+lenBytes {
		return 0, 0, 0, errTruncated
	}
	return 1 + lenBytes, beUint(b[1:], lenBytes) + uint64(extra), 0, nil
}

// SplitArray returns the elements of the msgpack array that is the whole
// of b, each as its own bytes (aliasing b): a procedure's arguments, read
// without a reflective decoder. Every length b claims is checked against
// the bytes there.
func SplitArray(b []byte) ([]msgpack.RawMessage, error) {
	n, rest, err := readArrayLen(b)
	if err != nil {
		return nil, err
	}
	if n > uint64(len(rest)) { // every element takes at least a byte
		return nil, errTruncated
	}
	out := make([]msgpack.RawMessage, n)
	for i := range out {
		if out[i], rest, err = readValue(rest); err != nil {
			return nil, err
		}
	}
	if len(rest) != 0 {
		return nil, errTrailing
	}
	return out, nil
}

// SkipValue skips one complete msgpack value, nested ones included,
// iteratively (no depth limit, no recursion), bounds-checked, and returns
// what follows it.
func SkipValue(b []byte) ([]byte, error) { return skipValue(b) }

// skipValue skips one complete value, nested ones included, iteratively.
func skipValue(b []byte) ([]byte, error) {
	pending := uint64(1)
	for pending > 0 {
		hdr, size, children, err := valueHeader(b)
		if err != nil {
			return nil, err
		}
		if uint64(len(b)-hdr) < size {
			return nil, errTruncated
		}
		b = b[hdr+int(size):]
		// Each value costs at least one byte, so pending can never exceed
		// what 2^32 headers of 2^33 children add up to: no overflow.
		if children > math.MaxUint64-pending {
			return nil, errTruncated
		}
		pending += children - 1
	}
	return b, nil
}

// readValue reads one complete value and returns its bytes (aliasing b).
func readValue(b []byte) (raw, rest []byte, err error) {
	rest, err = skipValue(b)
	if err != nil {
		return nil, nil, err
	}
	return b[:len(b)-len(rest)], rest, nil
}

// CheckValue reports whether b is exactly one complete msgpack value, with
// every length it claims backed by bytes that are there. Check untrusted
// msgpack with it before a decoder that allocates by claimed lengths sees
// it.
func CheckValue(b []byte) error { return checkValue(b) }

// checkValue reports whether b is exactly one complete value.
func checkValue(b []byte) error {
	rest, err := skipValue(b)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return errTrailing
	}
	return nil
}

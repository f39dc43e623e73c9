package tcp

import (
	"encoding/binary"
	"errors"

	"github.com/picogo/picogo/net/iproto"
)

// A light reader of packet headers: the REQUEST_TYPE and SYNC that routing
// and response matching need, without decoding (or validating) the body.
// Like the codec's reader it is bounds-checked, never allocates and accepts
// integers of any width as long as they are not negative.

var (
	errTruncated = errors.New("truncated msgpack")
	errNotUint   = errors.New("not an unsigned integer")
	errNotMap    = errors.New("header is not a map")
)

// header is what routing needs from a packet.
type header struct {
	typ, sync uint64
}

// readHeader reads the header map at the start of packet; what follows it
// (the body) is not looked at. A missing SYNC or REQUEST_TYPE is 0.
func readHeader(packet []byte) (header, error) {
	var h header
	n, b, err := readMapLen(packet)
	if err != nil {
		return h, err
	}
	for i := uint64(0); i < n; i++ {
		var key uint64
		if key, b, err = readUint(b); err != nil {
			return h, err
		}
		switch key {
		case iproto.KeyRequestType:
			h.typ, b, err = readUint(b)
		case iproto.KeySync:
			h.sync, b, err = readUint(b)
		default:
			b, err = iproto.SkipValue(b) // the codec's own: iterative, any depth
		}
		if err != nil {
			return h, err
		}
	}
	return h, nil
}

// frameHeader reads the header of a whole frame (length prefix included),
// as callers hand it to Pool.Roundtrip. The prefix must match the length.
func frameHeader(frame []byte) (header, error) {
	size, packet, err := readUint(frame)
	if err != nil {
		return header{}, err
	}
	if size != uint64(len(packet)) {
		return header{}, errors.New("frame length prefix does not match its size")
	}
	return readHeader(packet)
}

// need returns b's first n bytes after the type byte, or an error.
func need(b []byte, n int) ([]byte, error) {
	if len(b) < 1+n {
		return nil, errTruncated
	}
	return b[1 : 1+n], nil
}

// be reads a big-endian unsigned integer of 1, 2, 4 or 8 bytes.
func be(p []byte) uint64 {
	switch len(p) {
	case 1:
		return uint64(p[0])
	case 2:
		return uint64(binary.BigEndian.Uint16(p))
	case 4:
		return uint64(binary.BigEndian.Uint32(p))
	default:
		return binary.BigEndian.Uint64(p)
	}
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
	var n int
	signed := false
	switch c {
	case 0xcc, 0xcd, 0xce, 0xcf:
		n = 1 << (c - 0xcc)
	case 0xd0, 0xd1, 0xd2, 0xd3:
		n, signed = 1<<(c-0xd0), true
	default:
		return 0, nil, errNotUint
	}
	p, err := need(b, n)
	if err != nil {
		return 0, nil, err
	}
	v := be(p)
	if signed && p[0]&0x80 != 0 {
		return 0, nil, errNotUint // negative
	}
	return v, b[1+n:], nil
}

// readMapLen reads a map's entry count.
func readMapLen(b []byte) (uint64, []byte, error) {
	if len(b) == 0 {
		return 0, nil, errTruncated
	}
	c := b[0]
	var n int
	switch {
	case c >= 0x80 && c <= 0x8f:
		return uint64(c & 0x0f), b[1:], nil
	case c == 0xde:
		n = 2
	case c == 0xdf:
		n = 4
	default:
		return 0, nil, errNotMap
	}
	p, err := need(b, n)
	if err != nil {
		return 0, nil, err
	}
	return be(p), b[1+n:], nil
}

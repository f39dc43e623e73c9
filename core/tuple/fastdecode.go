package tuple

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// decodeArrayFast is DecodeArray's common case, read straight from the
// bytes instead of through msgpack.Decoder (whose PeekCode, per-value
// interface calls and reader cost about as much as a snapshot's restore
// spent inserting the tuples, docs/BENCHMARKS.md). It gives exactly the
// values decodeAny gives — the same Go types, int8 for a fixint and so on —
// and reports !ok for anything it does not handle or that is malformed
// (extensions it cannot read, non-string map keys, truncation, trailing
// bytes), for which DecodeArray takes the msgpack.Decoder path, which then
// gives the same values or the same error as before.
//
// With aliased, strings share raw's bytes instead of copying them: for a
// Tuple, whose raw is immutable and kept as long as its values (see New).
func decodeArrayFast(raw []byte, aliased bool) ([]any, bool) {
	if len(raw) == 0 {
		return nil, false
	}
	if c := raw[0]; c&0xf0 != 0x90 && c != 0xdc && c != 0xdd {
		return nil, false
	}
	d := fastDecoder{b: raw, aliased: aliased}
	v, ok := d.value()
	if !ok || d.pos != len(raw) {
		return nil, false
	}
	return v.([]any), true
}

type fastDecoder struct {
	b       []byte
	pos     int
	aliased bool // strings share b (decodeArrayFast)
}

// take returns the next n bytes.
func (d *fastDecoder) take(n int) ([]byte, bool) {
	if n < 0 || n > len(d.b)-d.pos {
		return nil, false
	}
	s := d.b[d.pos : d.pos+n]
	d.pos += n
	return s, true
}

// length reads a big-endian length of size bytes (1, 2 or 4).
func (d *fastDecoder) length(size int) (int, bool) {
	s, ok := d.take(size)
	if !ok {
		return 0, false
	}
	switch size {
	case 1:
		return int(s[0]), true
	case 2:
		return int(binary.BigEndian.Uint16(s)), true
	}
	return int(binary.BigEndian.Uint32(s)), true
}

func (d *fastDecoder) value() (any, bool) {
	if d.pos >= len(d.b) {
		return nil, false
	}
	c := d.b[d.pos]
	d.pos++
	switch {
	case c <= 0x7f || c >= 0xe0: // fixint, negative fixint
		return int8(c), true
	case c&0xf0 == 0x80: // fixmap
		return d.mapOf(int(c & 0x0f))
	case c&0xf0 == 0x90: // fixarray
		return d.array(int(c & 0x0f))
	case c&0xe0 == 0xa0: // fixstr
		return d.str(int(c & 0x1f))
	}
	switch c {
	case 0xc0:
		return nil, true
	case 0xc2:
		return false, true
	case 0xc3:
		return true, true
	case 0xc4, 0xc5, 0xc6: // bin 8/16/32
		n, ok := d.length(1 << (c - 0xc4))
		if !ok {
			return nil, false
		}
		s, ok := d.take(n)
		if !ok {
			return nil, false
		}
		return append(make([]byte, 0, n), s...), true
	case 0xca:
		s, ok := d.take(4)
		if !ok {
			return nil, false
		}
		return math.Float32frombits(binary.BigEndian.Uint32(s)), true
	case 0xcb:
		s, ok := d.take(8)
		if !ok {
			return nil, false
		}
		return math.Float64frombits(binary.BigEndian.Uint64(s)), true
	case 0xcc, 0xd0:
		s, ok := d.take(1)
		if !ok {
			return nil, false
		}
		if c == 0xcc {
			return s[0], true
		}
		return int8(s[0]), true
	case 0xcd, 0xd1:
		s, ok := d.take(2)
		if !ok {
			return nil, false
		}
		u := binary.BigEndian.Uint16(s)
		if c == 0xcd {
			return u, true
		}
		return int16(u), true
	case 0xce, 0xd2:
		s, ok := d.take(4)
		if !ok {
			return nil, false
		}
		u := binary.BigEndian.Uint32(s)
		if c == 0xce {
			return u, true
		}
		return int32(u), true
	case 0xcf, 0xd3:
		s, ok := d.take(8)
		if !ok {
			return nil, false
		}
		u := binary.BigEndian.Uint64(s)
		if c == 0xcf {
			return u, true
		}
		return int64(u), true
	case 0xd9, 0xda, 0xdb: // str 8/16/32
		n, ok := d.length(1 << (c - 0xd9))
		if !ok {
			return nil, false
		}
		return d.str(n)
	case 0xdc, 0xdd: // array 16/32
		n, ok := d.length(2 << (c - 0xdc))
		if !ok {
			return nil, false
		}
		return d.array(n)
	case 0xde, 0xdf: // map 16/32
		n, ok := d.length(2 << (c - 0xde))
		if !ok {
			return nil, false
		}
		return d.mapOf(n)
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1/2/4/8/16
		return d.ext(1 << (c - 0xd4))
	case 0xc7, 0xc8, 0xc9: // ext 8/16/32
		n, ok := d.length(1 << (c - 0xc7))
		if !ok {
			return nil, false
		}
		return d.ext(n)
	}
	return nil, false // 0xc1, never used
}

func (d *fastDecoder) str(n int) (any, bool) {
	s, ok := d.take(n)
	if !ok {
		return nil, false
	}
	if d.aliased && n > 0 {
		return unsafe.String(&s[0], n), true
	}
	return string(s), true
}

func (d *fastDecoder) array(n int) (any, bool) {
	if n > len(d.b)-d.pos { // every element is a byte at least
		return nil, false
	}
	out := make([]any, n)
	for i := range out {
		v, ok := d.value()
		if !ok {
			return nil, false
		}
		out[i] = v
	}
	return out, true
}

// mapOf reads a map with string keys (as decodeAny; other keys: !ok).
func (d *fastDecoder) mapOf(n int) (any, bool) {
	if n > (len(d.b)-d.pos)/2 {
		return nil, false
	}
	m := make(map[string]any, n)
	for range n {
		if d.pos >= len(d.b) {
			return nil, false
		}
		var k any
		var ok bool
		switch c := d.b[d.pos]; {
		case c&0xe0 == 0xa0, c == 0xd9, c == 0xda, c == 0xdb:
			k, ok = d.value()
		}
		if !ok {
			return nil, false
		}
		v, ok := d.value()
		if !ok {
			return nil, false
		}
		m[k.(string)] = v
	}
	return m, true
}

// ext reads an extension's type byte and n bytes of payload.
func (d *fastDecoder) ext(n int) (any, bool) {
	if n > 1<<20 {
		return nil, false
	}
	t, ok := d.take(1)
	if !ok {
		return nil, false
	}
	s, ok := d.take(n)
	if !ok {
		return nil, false
	}
	v, err := decodeExt(int8(t[0]), append(make([]byte, 0, n), s...))
	return v, err == nil
}

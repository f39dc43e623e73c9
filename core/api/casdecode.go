package api

import (
	"encoding/binary"
	"math"

	"github.com/picogo/picogo/core/tables"
	"github.com/vmihailenco/msgpack/v5"
)

// decodePlainCas reads a `.proc_cas`'s cluster id, predicate and user by
// hand when they have their usual shapes: a str; a map of index, term and
// no ranges (nil or empty); a user id or a non-empty name. The rest, with
// every error, is left to reflection (ok false), which decodes those
// shapes the same (TestPlainCasMatchesReflection): reflection was a few
// percent of a loaded leader's CPU (docs/BENCHMARKS.md).
func decodePlainCas(args []msgpack.RawMessage) (c Cas, ok bool) {
	id, rest, ok := readStr(args[0])
	if !ok || len(rest) != 0 {
		return Cas{}, false
	}
	c.ClusterID = string(id)
	if c.Predicate, ok = decodePlainPredicate(args[1]); !ok {
		return Cas{}, false
	}
	if u, rest, ok := readUint(args[3]); ok && len(rest) == 0 {
		if u > math.MaxUint32 {
			return Cas{}, false
		}
		c.AsUser = uint32(u)
		return c, true
	}
	if name, rest, ok := readStr(args[3]); ok && len(rest) == 0 && len(name) > 0 {
		c.AsUserName = string(name)
		return c, true
	}
	return Cas{}, false
}

func decodePlainPredicate(b []byte) (p Predicate, ok bool) {
	n, b, ok := readMapLen(b)
	if !ok || n > 3 {
		return Predicate{}, false
	}
	var seen [3]bool
	for range n {
		var k []byte
		if k, b, ok = readStr(b); !ok {
			return Predicate{}, false
		}
		var field int
		switch string(k) {
		case "index":
			p.Index, b, ok = readUint(b)
		case "term":
			field = 1
			p.Term, b, ok = readUint(b)
		case "ranges":
			field = 2
			switch {
			case len(b) > 0 && b[0] == 0xc0: // nil
				b = b[1:]
			case len(b) > 0 && b[0] == 0x90: // an empty fixarray
				p.Ranges, b = []tables.Range{}, b[1:]
			default:
				ok = false
			}
		default:
			ok = false
		}
		if !ok || seen[field] {
			return Predicate{}, false
		}
		seen[field] = true
	}
	return p, len(b) == 0
}

// readStr reads a msgpack str; the payload aliases b.
func readStr(b []byte) (s, rest []byte, ok bool) {
	if len(b) == 0 {
		return nil, nil, false
	}
	var n, hdr int
	switch c := b[0]; {
	case c&0xe0 == 0xa0:
		n, hdr = int(c&0x1f), 1
	case c == 0xd9 && len(b) >= 2:
		n, hdr = int(b[1]), 2
	case c == 0xda && len(b) >= 3:
		n, hdr = int(binary.BigEndian.Uint16(b[1:])), 3
	case c == 0xdb && len(b) >= 5:
		n, hdr = int(binary.BigEndian.Uint32(b[1:])), 5
	default:
		return nil, nil, false
	}
	if len(b)-hdr < n {
		return nil, nil, false
	}
	return b[hdr : hdr+n], b[hdr+n:], true
}

// readUint reads a msgpack positive fixint or uint of any width.
func readUint(b []byte) (v uint64, rest []byte, ok bool) {
	if len(b) == 0 {
		return 0, nil, false
	}
	switch c := b[0]; {
	case c <= 0x7f:
		return uint64(c), b[1:], true
	case c == 0xcc && len(b) >= 2:
		return uint64(b[1]), b[2:], true
	case c == 0xcd && len(b) >= 3:
		return uint64(binary.BigEndian.Uint16(b[1:])), b[3:], true
	case c == 0xce && len(b) >= 5:
		return uint64(binary.BigEndian.Uint32(b[1:])), b[5:], true
	case c == 0xcf && len(b) >= 9:
		return binary.BigEndian.Uint64(b[1:]), b[9:], true
	}
	return 0, nil, false
}

// readMapLen reads a msgpack map header: its number of pairs.
func readMapLen(b []byte) (n uint64, rest []byte, ok bool) {
	if len(b) == 0 {
		return 0, nil, false
	}
	switch c := b[0]; {
	case c&0xf0 == 0x80:
		return uint64(c & 0x0f), b[1:], true
	case c == 0xde && len(b) >= 3:
		return uint64(binary.BigEndian.Uint16(b[1:])), b[3:], true
	case c == 0xdf && len(b) >= 5:
		return uint64(binary.BigEndian.Uint32(b[1:])), b[5:], true
	}
	return 0, nil, false
}

package api

import (
	"math"

	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/net/iproto"
	"github.com/vmihailenco/msgpack/v5"
)

// decodePlainCas reads a `.proc_cas`'s cluster id, predicate and user by
// hand when they have their usual shapes: a str; a map of index, term and
// no ranges (nil or empty); a user id or a non-empty name. The rest, with
// every error, is left to reflection (ok false), which decodes those
// shapes the same (TestPlainCasMatchesReflection): reflection was a few
// percent of a loaded leader's CPU (docs/BENCHMARKS.md).
func decodePlainCas(args []msgpack.RawMessage) (c Cas, ok bool) {
	id, rest, err := iproto.ReadStr(args[0])
	if err != nil || len(rest) != 0 {
		return Cas{}, false
	}
	c.ClusterID = string(id)
	if c.Predicate, ok = decodePlainPredicate(args[1]); !ok {
		return Cas{}, false
	}
	if u, rest, err := iproto.ReadUint(args[3]); err == nil && len(rest) == 0 {
		if u > math.MaxUint32 {
			return Cas{}, false
		}
		c.AsUser = uint32(u)
		return c, true
	}
	if name, rest, err := iproto.ReadStr(args[3]); err == nil && len(rest) == 0 && len(name) > 0 {
		c.AsUserName = string(name)
		return c, true
	}
	return Cas{}, false
}

func decodePlainPredicate(b []byte) (p Predicate, ok bool) {
	n, b, err := iproto.ReadMapLen(b)
	if err != nil || n > 3 {
		return Predicate{}, false
	}
	var seen [3]bool
	for range n {
		var k []byte
		if k, b, err = iproto.ReadStr(b); err != nil {
			return Predicate{}, false
		}
		ok = true
		var field int
		switch string(k) {
		case "index":
			p.Index, b, err = iproto.ReadUint(b)
			ok = err == nil
		case "term":
			field = 1
			p.Term, b, err = iproto.ReadUint(b)
			ok = err == nil
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

// Package vclock owns the vector clock of a replicaset member: for each
// instance that has been a master (by its raft id, unique and never
// reused), the LSN of the last row change it made that this member has
// applied. Seeds/000's `.proc_get_vclock` and `.proc_wait_vclock` speak it;
// core/replication keeps it; the governor compares them in a switchover.
//
// It is a leaf: requests carry it (core/api), so it imports nothing of
// picogo's.
package vclock

import (
	"fmt"
	"slices"
	"strings"
)

// VClock maps a raft id to an LSN. A missing id is 0. The zero value (nil)
// is the empty clock; a VClock is a value: Set and Clone never alias.
//
// On the wire it is a msgpack map {raft_id: lsn}, as Tarantool's
// box.info.vclock (an id with LSN 0 may be left out).
type VClock map[uint64]uint64

// Get is id's LSN (0 if absent).
func (v VClock) Get(id uint64) uint64 { return v[id] }

// Clone returns a copy that shares nothing with v.
func (v VClock) Clone() VClock {
	c := make(VClock, len(v))
	for id, lsn := range v {
		if lsn > 0 {
			c[id] = lsn
		}
	}
	return c
}

// With returns a copy of v with id at lsn.
func (v VClock) With(id, lsn uint64) VClock {
	c := v.Clone()
	if lsn == 0 {
		delete(c, id)
	} else {
		c[id] = lsn
	}
	return c
}

// Sum is the total of the LSNs: how many row changes a member whose
// changes are a prefix of its master's log has applied (each change
// advances one component by one), so it is a position in that log.
func (v VClock) Sum() uint64 {
	var s uint64
	for _, lsn := range v {
		s += lsn
	}
	return s
}

// LessEq reports whether v ≤ w in every component: what w has applied
// includes everything v has.
func (v VClock) LessEq(w VClock) bool {
	for id, lsn := range v {
		if lsn > w[id] {
			return false
		}
	}
	return true
}

// Equal reports whether v and w are the same clock.
func (v VClock) Equal(w VClock) bool { return v.LessEq(w) && w.LessEq(v) }

// Compare orders two clocks for choosing the most advanced replica: by
// Sum, then by components in id order (a deterministic tie-break). It is
// a total order that extends ≤; concurrent clocks compare by Sum.
func Compare(v, w VClock) int {
	if a, b := v.Sum(), w.Sum(); a != b {
		if a < b {
			return -1
		}
		return 1
	}
	for _, id := range union(v, w) {
		if a, b := v[id], w[id]; a != b {
			if a < b {
				return -1
			}
			return 1
		}
	}
	return 0
}

// IDs are the ids with a positive LSN, in order.
func (v VClock) IDs() []uint64 {
	ids := make([]uint64, 0, len(v))
	for id, lsn := range v {
		if lsn > 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

func union(v, w VClock) []uint64 {
	ids := append(v.IDs(), w.IDs()...)
	slices.Sort(ids)
	return slices.Compact(ids)
}

// String is {id: lsn, ...} in id order, as Tarantool prints a vclock.
func (v VClock) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, id := range v.IDs() {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d: %d", id, v[id])
	}
	b.WriteByte('}')
	return b.String()
}

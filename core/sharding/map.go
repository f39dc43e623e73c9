package sharding

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/picogo/picogo/core/tables"
)

// Map is who owns every bucket, as _pico_bucket says at one applied index:
// every instance builds it from its own applied tables, so that a router
// routes and a storage fences from the same global state.
type Map struct {
	tiers map[string][]tables.BucketRange // by first bucket
}

// NewMap indexes ranges (any order).
func NewMap(ranges []tables.BucketRange) Map {
	m := Map{tiers: map[string][]tables.BucketRange{}}
	for _, r := range ranges {
		m.tiers[r.Tier] = append(m.tiers[r.Tier], r)
	}
	for _, rs := range m.tiers {
		slices.SortFunc(rs, func(a, b tables.BucketRange) int { return cmp.Compare(a.First, b.First) })
	}
	return m
}

// Find is the range holding bucket b of tier; false if no range does (the
// tier's buckets are not bootstrapped yet).
func (m Map) Find(tier string, b uint64) (tables.BucketRange, bool) {
	rs := m.tiers[tier]
	i, found := slices.BinarySearchFunc(rs, b, func(r tables.BucketRange, b uint64) int { return cmp.Compare(r.First, b) })
	if !found {
		i--
	}
	if i < 0 || i >= len(rs) || b > rs[i].Last {
		return tables.BucketRange{}, false
	}
	return rs[i], true
}

// Ranges are a tier's ranges by first bucket.
func (m Map) Ranges(tier string) []tables.BucketRange { return slices.Clone(m.tiers[tier]) }

// Bootstrapped reports whether the tier's buckets have owners.
func (m Map) Bootstrapped(tier string) bool { return len(m.tiers[tier]) > 0 }

// Refusal is why a storage does not serve a bucket.
type Refusal int

const (
	// Serve: the replicaset owns the bucket and the request may proceed.
	Serve Refusal = iota
	// WrongBucket: another replicaset owns it (or nobody yet).
	WrongBucket
	// Moving: the bucket is being sent away: reads go on, writes wait
	// until it has moved.
	Moving
)

// Fence says whether replicaset rs serves bucket b of tier: a read while
// it owns the bucket (active or sending), a write only while the bucket is
// active there.
func (m Map) Fence(tier string, b uint64, rs string, write bool) (Refusal, tables.BucketRange) {
	r, ok := m.Find(tier, b)
	switch {
	case !ok || r.ReplicasetID != rs:
		return WrongBucket, r
	case write && r.State != tables.BucketActive:
		return Moving, r
	}
	return Serve, r
}

// Counts is how many buckets each replicaset of a tier owns.
func (m Map) Counts(tier string) map[string]uint64 {
	out := map[string]uint64{}
	for _, r := range m.tiers[tier] {
		out[r.ReplicasetID] += r.Count()
	}
	return out
}

// Check verifies a tier's ranges cover 1..count exactly once, in order; the
// error names the first gap or overlap.
func (m Map) Check(tier string, count uint64) error {
	next := uint64(1)
	for _, r := range m.tiers[tier] {
		if r.First != next {
			return fmt.Errorf("tier %s: bucket range %d-%d follows bucket %d", tier, r.First, r.Last, next-1)
		}
		next = r.Last + 1
	}
	if len(m.tiers[tier]) > 0 && next != count+1 {
		return fmt.Errorf("tier %s: bucket ranges end at %d, not %d", tier, next-1, count)
	}
	return nil
}

package sharding

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"math/big"
	"slices"

	"github.com/picogo/picogo/core/tables"
)

// Target is a replicaset of a tier as the plan sees it.
type Target struct {
	ID     string
	Weight float64 // 0: being drained (its buckets go elsewhere)
	Ready  bool    // may receive buckets: it reached the replication factor and has a master
}

// Targets are tier's replicasets as the plan sees them, but for those
// whose members are all expelled: gone, they can neither receive buckets
// nor keep them, nor delete a move's garbage (Plan forgets garbage on a
// replicaset that is not a target). Ready when the replicaset is ready.
// The governor plans with them; expel and drain check against them.
func Targets(top tables.Topology, tier string) []Target {
	var out []Target
	for _, rs := range top.Replicasets {
		if rs.Tier != tier || !slices.ContainsFunc(top.Instances, func(i tables.Instance) bool {
			return i.ReplicasetID == rs.ReplicasetID && !i.Expelled()
		}) {
			continue
		}
		out = append(out, Target{ID: rs.ReplicasetID, Weight: rs.Weight, Ready: rs.State == tables.ReplicasetReady})
	}
	slices.SortFunc(out, func(a, b Target) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Owns reports whether t may own buckets: it is ready and has a positive,
// finite weight (a negative or NaN weight counts as 0).
func (t Target) Owns() bool {
	return t.Ready && t.Weight > 0 && !math.IsInf(t.Weight, 0)
}

// Goal is how many buckets each replicaset should own: count split over the
// ready targets with weight > 0 in proportion to weight, by the largest
// remainder (ties: the smaller ID first); every other target gets 0. nil if
// no target may own buckets.
//
// The split is computed exactly (weights are taken as the rationals their
// float64 values are), so equal weights always get equal shares up to the
// remainder and the result does not depend on the order of targets. Target
// IDs are expected to be unique.
func Goal(count uint64, targets []Target) map[string]uint64 {
	type share struct {
		id    string
		w     *big.Rat
		floor uint64
		rem   *big.Rat
	}
	var shares []share
	total := new(big.Rat)
	for _, t := range targets {
		if !t.Owns() {
			continue
		}
		w := new(big.Rat).SetFloat64(t.Weight)
		shares = append(shares, share{id: t.ID, w: w})
		total.Add(total, w)
	}
	if len(shares) == 0 {
		return nil
	}
	goal := make(map[string]uint64, len(targets))
	for _, t := range targets {
		goal[t.ID] = 0
	}
	n := new(big.Rat).SetInt(new(big.Int).SetUint64(count))
	var given uint64
	for i := range shares {
		q := new(big.Rat).Mul(n, shares[i].w)
		q.Quo(q, total)
		fl := new(big.Int).Quo(q.Num(), q.Denom()) // q >= 0: truncation is floor
		shares[i].floor = fl.Uint64()
		shares[i].rem = q.Sub(q, new(big.Rat).SetInt(fl))
		given += shares[i].floor
	}
	// Largest remainder: the buckets the floors leave go one each to the
	// shares with the largest remainders (fewer than len(shares) are left).
	slices.SortFunc(shares, func(a, b share) int {
		if c := b.rem.Cmp(a.rem); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	for i := range shares {
		if given < count {
			shares[i].floor++
			given++
		}
		goal[shares[i].id] += shares[i].floor
	}
	return goal
}

// Bootstrap is a tier's first ranges: one contiguous range per replicaset
// that the Goal gives buckets, in ID order, covering 1..count; nil if Goal is
// nil.
func Bootstrap(tier string, count uint64, targets []Target) []tables.BucketRange {
	goal := Goal(count, targets)
	if goal == nil {
		return nil
	}
	var out []tables.BucketRange
	next := uint64(1)
	for _, id := range slices.Sorted(maps.Keys(goal)) {
		n := goal[id]
		if n == 0 {
			continue
		}
		out = append(out, tables.BucketRange{
			Tier: tier, First: next, Last: next + n - 1,
			ReplicasetID: id, State: tables.BucketActive,
		})
		next += n
	}
	return out
}

// Step is the next thing to do about a tier's buckets.
type Step interface {
	isStep()
	Detail() string
}

// Collect: Range.Garbage may still hold rows of Range's buckets: delete them
// there (the governor calls the garbage replicaset's master), then apply
// Done(). Forget is true when Range.Garbage is no longer a replicaset of the
// tier (no target has that ID): nothing to delete, just apply Done().
type Collect struct {
	Range  tables.BucketRange
	Forget bool
}

// Copy: Range is sending: copy its rows from Range.ReplicasetID to
// Range.Destination, then apply Flip().
type Copy struct{ Range tables.BucketRange }

// Rollback: Range is sending to a replicaset that may no longer receive (not
// a ready target with weight > 0, or gone): apply Change().
type Rollback struct{ Range tables.BucketRange }

// Send starts a move: apply Change(): Range (a row as it is now, active, no
// garbage) is split so that its last N buckets become a sending range to To.
type Send struct {
	Range tables.BucketRange
	N     uint64
	To    string
}

func (Collect) isStep()  {}
func (Copy) isStep()     {}
func (Rollback) isStep() {}
func (Send) isStep()     {}

func span(r tables.BucketRange) string { return fmt.Sprintf("%s %d-%d", r.Tier, r.First, r.Last) }

// Detail is e.g. "collect storage 2001-2100 on r1", or "forget garbage of
// storage 2001-2100 on r1 (gone)" when Forget.
func (c Collect) Detail() string {
	if c.Forget {
		return fmt.Sprintf("forget garbage of %s on %s (gone)", span(c.Range), c.Range.Garbage)
	}
	return fmt.Sprintf("collect %s on %s", span(c.Range), c.Range.Garbage)
}

// Detail is e.g. "copy storage 2001-2100 r1 -> r3".
func (c Copy) Detail() string {
	return fmt.Sprintf("copy %s %s -> %s", span(c.Range), c.Range.ReplicasetID, c.Range.Destination)
}

// Detail is e.g. "roll back storage 2001-2100 to r1 (not to r3)".
func (r Rollback) Detail() string {
	return fmt.Sprintf("roll back %s to %s (not to %s)", span(r.Range), r.Range.ReplicasetID, r.Range.Destination)
}

// Detail is e.g. "move storage 2001-2100 from r1 to r3": the buckets that
// move, not the whole row.
func (s Send) Detail() string {
	moving := s.Range
	if s.N >= 1 && s.N <= s.Range.Count() {
		moving.First = s.Range.Last - s.N + 1
	}
	return fmt.Sprintf("move %s from %s to %s", span(moving), s.Range.ReplicasetID, s.To)
}

// Change is how a step rewrites _pico_bucket: rows to delete (by their key)
// and rows to put (replace whole rows). The governor turns it into one CaS
// whose predicate covers the rows read.
type Change struct{ Delete, Put []tables.BucketRange }

// Change puts the kept head [First, Last-N] (same owner, active; it keeps
// the row's key, so it replaces the row) and the sending tail [Last-N+1,
// Last] (State sending, Destination To). If N == Count() (or more) there is
// no head: the one row is put back, now sending. It deletes nothing. N == 0
// is no change.
func (s Send) Change() Change {
	r := s.Range
	if s.N == 0 {
		return Change{}
	}
	tail := r
	tail.State, tail.Destination, tail.Garbage = tables.BucketSending, s.To, ""
	if s.N >= r.Count() {
		return Change{Put: []tables.BucketRange{tail}}
	}
	head := r
	head.Last = r.Last - s.N
	head.State, head.Destination, head.Garbage = tables.BucketActive, "", ""
	tail.First = head.Last + 1
	return Change{Put: []tables.BucketRange{head, tail}}
}

// Flip puts Range owned by its Destination, active, with the old owner as
// Garbage (it still holds the rows just copied).
func (c Copy) Flip() Change {
	r := c.Range
	r.Garbage = r.ReplicasetID
	r.ReplicasetID, r.State, r.Destination = r.Destination, tables.BucketActive, ""
	return Change{Put: []tables.BucketRange{r}}
}

// Change puts Range back to active at its owner, with the old destination
// as Garbage (it may hold part of a copy).
func (r Rollback) Change() Change {
	x := r.Range
	x.Garbage = x.Destination
	x.State, x.Destination = tables.BucketActive, ""
	return Change{Put: []tables.BucketRange{x}}
}

// Done puts Range with Garbage "", merged with its neighbours in ranges
// (the tier's current rows, any order) when they are adjacent (prev.Last+1
// == First, Last+1 == next.First), have the same owner, are active and have
// no garbage, and Range itself is active. The merged row keeps the smallest
// First, so the rows with the larger keys (Range's own when it merges into
// prev, next's when next merges into it) are deleted.
func (c Collect) Done(ranges []tables.BucketRange) Change {
	merged := c.Range
	merged.Garbage = ""
	var ch Change
	if merged.State == tables.BucketActive {
		mergeable := func(n tables.BucketRange) bool {
			return n.Tier == merged.Tier && n.ReplicasetID == merged.ReplicasetID &&
				n.State == tables.BucketActive && n.Destination == "" && n.Garbage == ""
		}
		for _, n := range ranges {
			if n.Tier == c.Range.Tier && n.Last+1 == c.Range.First && mergeable(n) {
				ch.Delete = append(ch.Delete, c.Range)
				merged.First = n.First
				break
			}
		}
		for _, n := range ranges {
			if n.Tier == c.Range.Tier && n.First == c.Range.Last+1 && mergeable(n) {
				ch.Delete = append(ch.Delete, n)
				merged.Last = n.Last
				break
			}
		}
	}
	ch.Put = []tables.BucketRange{merged}
	return ch
}

// Plan is the next step for a tier's buckets, or nil when nothing is to be
// done. ranges are the tier's rows (any order; rows of other tiers are
// ignored); count is the tier's bucket_count; maxMove bounds the buckets of
// one move (>= 1; 0 counts as 1).
//
// Its order of business:
//
//  1. No ranges: nil (bootstrapping is a separate governor step).
//  2. The first range (by First) with Garbage != "": Collect, with Forget
//     when Garbage is not among the targets' IDs.
//  3. A sending range (at most one exists; if several, the first): Copy if
//     its Destination is a ready target with weight > 0, else Rollback.
//  4. Otherwise the buckets each replicaset owns are compared with Goal. If
//     Goal is nil, or every replicaset owns its goal: nil. Else Send from
//     the replicaset with the largest excess (count - goal > 0; ties: the
//     smaller ID) of N = min(excess, deficit, maxMove, the source range's
//     Count()) buckets, the tail of the source range: the source's active,
//     garbage-free range with the largest First. The destination is the
//     replicaset owning the bucket right after the source range if it has a
//     deficit (goal - count > 0), so that the moved tail merges with it;
//     otherwise the one with the largest deficit (ties: the smaller ID). A
//     replicaset owning buckets but absent from targets has goal 0: it is
//     emptied.
//
// So a tier has at most one move in flight, and a move's garbage is
// collected before the next move starts.
func Plan(tier string, count uint64, ranges []tables.BucketRange, targets []Target, maxMove uint64) Step {
	rs := NewMap(ranges).Ranges(tier)
	if len(rs) == 0 {
		return nil
	}
	byID := make(map[string]Target, len(targets))
	for _, t := range targets {
		byID[t.ID] = t
	}
	for _, r := range rs {
		if r.Garbage != "" {
			_, known := byID[r.Garbage]
			return Collect{Range: r, Forget: !known}
		}
	}
	for _, r := range rs {
		if r.State == tables.BucketSending {
			if t, ok := byID[r.Destination]; ok && t.Owns() {
				return Copy{Range: r}
			}
			return Rollback{Range: r}
		}
	}
	goal := Goal(count, targets)
	if goal == nil {
		return nil
	}
	have := NewMap(rs).Counts(tier)
	ids := map[string]bool{}
	for id := range goal {
		ids[id] = true
	}
	for id := range have {
		ids[id] = true
	}
	var src, dst string
	var excess, deficit uint64
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		h, g := have[id], goal[id]
		if h > g && h-g > excess {
			src, excess = id, h-g
		}
		if g > h && g-h > deficit {
			dst, deficit = id, g-h
		}
	}
	if src == "" || dst == "" {
		return nil
	}
	var from *tables.BucketRange
	for i := range rs {
		r := &rs[i]
		if r.ReplicasetID == src && r.State == tables.BucketActive && r.Garbage == "" {
			from = r // rs is by First: the last match has the largest
		}
	}
	if from == nil {
		return nil
	}
	// The tail of from is what moves: if the replicaset owning the bucket
	// right after it is also short of buckets, the tail goes there and
	// merges with that range once collected. Picking the largest deficit
	// every time would alternate between destinations and chop the source
	// into ranges owned in turn by each.
	for _, r := range rs {
		if r.First == from.Last+1 && r.ReplicasetID != src && goal[r.ReplicasetID] > have[r.ReplicasetID] {
			dst, deficit = r.ReplicasetID, goal[r.ReplicasetID]-have[r.ReplicasetID]
		}
	}
	n := min(excess, deficit, max(maxMove, 1), from.Count())
	return Send{Range: *from, N: n, To: dst}
}

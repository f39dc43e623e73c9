package sim

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"maps"
	"slices"

	"github.com/picogo/picogo/core/raft"
)

// checker verifies Raft's safety properties as the run goes, on the live
// instances' own state:
//
//   - at most one leader per term;
//   - every instance applies the same entry at each index (so every applied
//     prefix has the same hash);
//   - a new leader holds every entry known to be committed (leader
//     completeness);
//   - log matching: two logs that hold an entry with the same index and term
//     hold the same entries up to it;
//   - every acknowledged CaS is the committed entry at the index it was
//     acknowledged with.
type checker struct {
	w *World
	// cluster is the cluster id of the instances it checks: a scripted
	// test may start an instance of another cluster, whose Raft group is
	// checked on its own.
	cluster string
	leaders map[uint64]uint64 // term -> raft id
	// applied is the entry applied at each index, as first seen.
	applied map[uint64]appliedEntry
	// maxTerm is the highest term any instance has reached.
	maxTerm uint64
	// seen is, per instance, the highest applied index already checked.
	seen map[uint64]uint64
	// leading is, per instance, the term it was last seen leading and its
	// commit index then.
	leading map[uint64]leadership
	acked   []ackedWrite
}

type leadership struct{ term, commitAtStart uint64 }

type digest struct {
	term uint64
	sum  [32]byte
}

// appliedEntry is the entry applied at an index, and a bound on the term it
// was committed in: no term beyond the highest one in existence when it was
// first applied.
type appliedEntry struct {
	digest
	committedBy uint64
}

// ackedWrite is a CaS acknowledged as applied at (index, term). An entry is
// identified by its index and term (log matching), so the entry applied
// there must have that term.
type ackedWrite struct{ index, term uint64 }

func newChecker(w *World, cluster string) *checker {
	return &checker{w: w, cluster: cluster, leaders: map[uint64]uint64{}, applied: map[uint64]appliedEntry{},
		seen: map[uint64]uint64{}, leading: map[uint64]leadership{}}
}

func entryDigest(e raft.Entry) digest {
	h := sha256.New()
	h.Write([]byte{byte(e.Type)})
	h.Write(e.Data)
	var d digest
	d.term = e.Term
	copy(d.sum[:], h.Sum(nil))
	return d
}

// after checks what may have changed on instance in.
func (c *checker) after(in *instance) error {
	n := in.node()
	if n == nil {
		return nil
	}
	st := n.Status()
	c.maxTerm = max(c.maxTerm, st.Term)
	if st.State == raft.StateLeader {
		if other, ok := c.leaders[st.Term]; ok && other != in.id {
			return fmt.Errorf("two leaders in term %d: i%d and i%d", st.Term, other, in.id)
		}
		c.leaders[st.Term] = in.id
		l := c.leading[in.id]
		if l.term != st.Term {
			l = leadership{term: st.Term, commitAtStart: st.Commit}
			c.leading[in.id] = l
			if err := c.leaderComplete(in, st.Term); err != nil {
				return err
			}
			if err := c.logMatching(); err != nil {
				return err
			}
		}
		// Raft §5.4.2: a leader commits by counting replicas only entries
		// of its own term; its commit index never lands on an older one.
		if st.Commit > l.commitAtStart {
			if t, _ := n.Term(st.Commit); t != st.Term {
				return fmt.Errorf("leader i%d of term %d moved its commit index to %d, an entry of term %d", in.id, st.Term, st.Commit, t)
			}
		}
	}
	return c.appliedSame(in, st.Applied)
}

// appliedSame compares what in applied since the last look with what others
// applied at the same indexes.
func (c *checker) appliedSame(in *instance, applied uint64) error {
	prev, ents := in.node().Log()
	from := c.seen[in.id] + 1
	if from <= prev {
		from = prev + 1 // restored from a snapshot: those are inside it
	}
	for i := from; i <= applied && i <= prev+uint64(len(ents)); i++ {
		d := entryDigest(ents[i-prev-1])
		if first, ok := c.applied[i]; !ok {
			c.applied[i] = appliedEntry{digest: d, committedBy: c.maxTerm}
		} else if first.digest != d {
			return fmt.Errorf("i%d applied a different entry at index %d (term %d) than another instance (term %d)",
				in.id, i, d.term, first.term)
		}
	}
	c.seen[in.id] = max(c.seen[in.id], applied)
	return nil
}

// leaderComplete: a new leader of term T holds every entry committed in a
// term before T, except those inside its own snapshot. (A stale leader of an
// older term, elected late, need not hold entries committed after it.)
func (c *checker) leaderComplete(in *instance, term uint64) error {
	prev, ents := in.node().Log()
	for _, i := range slices.Sorted(maps.Keys(c.applied)) {
		want := c.applied[i]
		if i <= prev || want.committedBy >= term {
			continue
		}
		if i > prev+uint64(len(ents)) || entryDigest(ents[i-prev-1]) != want.digest {
			return fmt.Errorf("leader completeness: new leader i%d lacks committed entry %d (term %d)", in.id, i, want.term)
		}
	}
	return nil
}

// logMatching compares every pair of live logs.
func (c *checker) logMatching() error {
	type held struct {
		id   uint64
		prev uint64
		ents []raft.Entry
	}
	var logs []held
	for in := range c.w.membersOf(c.cluster) {
		if n := in.node(); n != nil {
			prev, ents := n.Log()
			logs = append(logs, held{in.id, prev, ents})
		}
	}
	for a := 0; a < len(logs); a++ {
		for b := a + 1; b < len(logs); b++ {
			x, y := logs[a], logs[b]
			lo := max(x.prev, y.prev) + 1
			hi := min(x.prev+uint64(len(x.ents)), y.prev+uint64(len(y.ents)))
			// The highest index where both hold the same term: below it
			// (down to what both hold) entries must be identical.
			top := uint64(0)
			for i := hi; i >= lo && i > 0; i-- {
				if x.ents[i-x.prev-1].Term == y.ents[i-y.prev-1].Term {
					top = i
					break
				}
			}
			for i := top; i >= lo && i > 0; i-- {
				ex, ey := x.ents[i-x.prev-1], y.ents[i-y.prev-1]
				if ex.Term != ey.Term || ex.Type != ey.Type || !bytes.Equal(ex.Data, ey.Data) {
					return fmt.Errorf("log matching: i%d and i%d agree at %d but differ at %d", x.id, y.id, top, i)
				}
			}
		}
	}
	return nil
}

// ackedWrite records a CaS the cluster acknowledged as applied at (index,
// term).
func (c *checker) ackedWrite(index, term uint64) {
	c.acked = append(c.acked, ackedWrite{index: index, term: term})
}

// finalChecks runs once the cluster settled: every acknowledged write is the
// entry applied at its index, and instances at the same applied index hold
// the same tables.
func (c *checker) finalChecks() error {
	for in := range c.w.membersOf(c.cluster) {
		if in.node() != nil {
			if err := c.appliedSame(in, in.node().Status().Applied); err != nil {
				return err
			}
		}
	}
	if err := c.logMatching(); err != nil {
		return err
	}
	for _, a := range c.acked {
		d, ok := c.applied[a.index]
		if !ok {
			// Inside every live instance's snapshot: checked by the
			// history instead.
			continue
		}
		if d.term != a.term {
			return fmt.Errorf("acknowledged write at %d/%d lost: index %d holds an entry of term %d", a.index, a.term, a.index, d.term)
		}
	}
	hashes := map[uint64][32]byte{}
	for in := range c.w.membersOf(c.cluster) {
		n := in.node()
		if n == nil {
			continue
		}
		applied := n.Status().Applied
		h := n.Tables().StateHash()
		if other, ok := hashes[applied]; ok && other != h {
			return fmt.Errorf("i%d's tables differ from another instance's at applied index %d", in.id, applied)
		}
		hashes[applied] = h
	}
	return nil
}

package raft

import "slices"

// majority is one set of voters; a decision needs more than half of them.
// The ids are kept sorted so that nothing here depends on map order.
type majority []uint64

// committed returns the highest index that a majority has matched. An empty
// set never restricts a joint decision, so it reports "everything".
func (m majority) committed(match func(id uint64) uint64) uint64 {
	if len(m) == 0 {
		return ^uint64(0)
	}
	idx := make([]uint64, len(m))
	for i, id := range m {
		idx[i] = match(id)
	}
	slices.Sort(idx)
	// Sorted ascending, the value at position n-(n/2+1) is held by n/2+1 voters.
	return idx[len(idx)-(len(idx)/2+1)]
}

type voteResult uint8

const (
	votePending voteResult = iota
	voteLost
	voteWon
)

// result tallies votes: won with a majority of grants, lost once a majority
// can no longer be reached.
func (m majority) result(votes map[uint64]bool) voteResult {
	if len(m) == 0 {
		return voteWon
	}
	granted, missing := 0, 0
	for _, id := range m {
		v, ok := votes[id]
		switch {
		case !ok:
			missing++
		case v:
			granted++
		}
	}
	q := len(m)/2 + 1
	switch {
	case granted >= q:
		return voteWon
	case granted+missing >= q:
		return votePending
	}
	return voteLost
}

// hasQuorum reports whether the ids in ok include a majority.
func (m majority) hasQuorum(ok func(id uint64) bool) bool {
	if len(m) == 0 {
		return true
	}
	n := 0
	for _, id := range m {
		if ok(id) {
			n++
		}
	}
	return n >= len(m)/2+1
}

// jointConfig is the voter configuration: incoming alone normally, both
// during joint consensus, when every decision needs a majority of each.
type jointConfig struct {
	incoming, outgoing majority
}

func (j jointConfig) committed(match func(id uint64) uint64) uint64 {
	if j.empty() {
		return 0
	}
	return min(j.incoming.committed(match), j.outgoing.committed(match))
}

func (j jointConfig) result(votes map[uint64]bool) voteResult {
	if j.empty() {
		return voteLost
	}
	a, b := j.incoming.result(votes), j.outgoing.result(votes)
	switch {
	case a == voteLost || b == voteLost:
		return voteLost
	case a == voteWon && b == voteWon:
		return voteWon
	}
	return votePending
}

func (j jointConfig) hasQuorum(ok func(id uint64) bool) bool {
	if j.empty() {
		return false
	}
	return j.incoming.hasQuorum(ok) && j.outgoing.hasQuorum(ok)
}

func (j jointConfig) isVoter(id uint64) bool {
	return slices.Contains(j.incoming, id) || slices.Contains(j.outgoing, id)
}

// empty is the configuration of a node that has not learned its membership
// yet: it can decide nothing.
func (j jointConfig) empty() bool { return len(j.incoming) == 0 && len(j.outgoing) == 0 }

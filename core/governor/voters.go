package governor

import (
	"cmp"
	"slices"

	"github.com/picogo/picogo/core/mutant"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/tables"
)

// Steps 1 and 2: who leads and who votes.

// transferLeadership is step 1: a leader whose target is Offline or
// Expelled hands leadership to an Online voter — a voter (of the incoming
// configuration) whose current and target grades are both Online and that
// is reachable; the one with the smallest raft id. With no such voter the
// step does not apply, and step 2 makes one (see confChange).
func (p *planner) transferLeadership() (Action, bool) {
	self, ok := p.byRaftID(p.in.Self)
	if !ok || self.Target.Variant != tables.GradeOffline && self.Target.Variant != tables.GradeExpelled {
		return nil, false
	}
	voters := slices.Sorted(slices.Values(p.in.Conf.Voters))
	for _, id := range voters {
		if id == p.in.Self {
			continue
		}
		i, ok := p.byRaftID(id)
		if !ok || i.Expelled() || p.unreachable(i) ||
			i.Current.Variant != tables.GradeOnline || i.Target.Variant != tables.GradeOnline {
			continue
		}
		return TransferLeadership{Leader: self.InstanceID, LeaderRaftID: self.RaftID, LeaderTarget: self.Target,
			To: i.InstanceID, ToRaftID: id}, true
	}
	return nil, false
}

// confChange is step 2: the configuration the voter rule asks for, as one
// conf change, unless the configuration is joint or already that.
//
// The rule, with the raft ids of instances rows as the members:
//   - an instance can vote if its tier can and neither of its grades is
//     Expelled;
//   - eligible (counted to size the voter set) are the instances that can
//     vote whose current grade is Online, and the voters that can still
//     vote and are not current Offline (a voter climbing the ladder again
//     after a restart keeps its seat);
//   - wanted = 5 if ≥ 5 eligible, 3 if 3–4, else all of them; the leader is
//     always a voter, and takes one of the wanted seats only if it is
//     eligible itself;
//   - the voters kept are the leader, then the eligible voters, up to the
//     wanted number, then new voters are promoted from the candidates —
//     instances that can vote, current and target Online, reachable, not yet
//     voters. Both choices are greedy, farthest first: each time the one
//     whose failure domain differs most (summed over the voters chosen so
//     far; distance = number of keys whose values differ, a key present on
//     one side only differing) from the voters chosen, ties by raft id.
//     Then at most one swap: a kept voter (never the leader) for a
//     candidate, if that makes the voters' summed pairwise distance
//     strictly larger — the largest such gain, ties by raft id. Instances
//     come Online one at a time, so without it the first to arrive would
//     keep their seats however close together they are; each swap grows
//     the distance, so swapping ends;
//   - every other instance is a learner; one being expelled is demoted to
//     a learner (not added as one), so that it still hears of its
//     expulsion (step 8) and stops; once its current grade is Expelled it
//     is removed from the configuration;
//   - raft ids in the configuration without an instance row are left alone.
//
// The change is one ConfChange with TransitionAuto: Raft applies it in one
// step when at most one voter changes, and through joint consensus (left
// automatically) otherwise. None is proposed while the configuration is
// joint; the plan goes on to step 3.
func (p *planner) confChange() (Action, bool) {
	cs := p.in.Conf
	if cs.Joint() {
		return nil, false
	}
	isVoter := func(id uint64) bool { return slices.Contains(cs.Voters, id) }
	isLearner := func(id uint64) bool { return slices.Contains(cs.Learners, id) }

	// Members by raft id (one row per raft id: ids are never reused).
	members := slices.Clone(p.instances)
	members = slices.DeleteFunc(members, func(i tables.Instance) bool { return i.RaftID == 0 })
	slices.SortStableFunc(members, func(a, b tables.Instance) int { return cmp.Compare(a.RaftID, b.RaftID) })
	members = slices.CompactFunc(members, func(a, b tables.Instance) bool { return a.RaftID == b.RaftID })

	leader, ok := p.byRaftID(p.in.Self)
	if !ok {
		leader = tables.Instance{RaftID: p.in.Self}
	}
	var kept, candidates []tables.Instance
	eligible, leaderEligible := 0, false
	for _, i := range members {
		if !p.canVote(i) {
			continue
		}
		keepable := isVoter(i.RaftID) && (i.Current.Variant != tables.GradeOffline || p.in.mutants.Has(mutant.KeepOfflineVoters))
		if i.Current.Variant == tables.GradeOnline || keepable {
			eligible++
			if i.RaftID == p.in.Self {
				leaderEligible = true
			}
		}
		switch {
		case i.RaftID == p.in.Self:
		case keepable:
			kept = append(kept, i)
		case !isVoter(i.RaftID) && i.Current.Variant == tables.GradeOnline &&
			i.Target.Variant == tables.GradeOnline && !p.unreachable(i):
			candidates = append(candidates, i)
		}
	}
	seats := wantedVoters(eligible)
	if !leaderEligible {
		seats++
	}
	chosen := farthestFirst([]tables.Instance{leader}, kept, seats)
	chosen = farthestFirst(chosen, candidates, seats)
	chosen = swapFarther(chosen, candidates)

	wantVoter := func(id uint64) bool {
		return slices.ContainsFunc(chosen, func(c tables.Instance) bool { return c.RaftID == id })
	}
	var cc raft.ConfChange
	var voters, learners []uint64
	change := func(t raft.ConfChangeType, id uint64) {
		cc.Changes = append(cc.Changes, raft.ConfChangeSingle{Type: t, NodeID: id})
	}
	if !slices.ContainsFunc(members, func(i tables.Instance) bool { return i.RaftID == p.in.Self }) {
		members = append(members, leader) // the leader without a row: still a voter
		slices.SortStableFunc(members, func(a, b tables.Instance) int { return cmp.Compare(a.RaftID, b.RaftID) })
	}
	for _, i := range members {
		id := i.RaftID
		switch {
		case wantVoter(id):
			voters = append(voters, id)
			if !isVoter(id) {
				change(raft.AddVoter, id)
			}
		case i.ExpelDone():
			if isVoter(id) || isLearner(id) {
				change(raft.RemoveNode, id)
			}
		case i.Expelled() && !isVoter(id):
			// Being expelled: stays a learner if it is one, is never added.
			if isLearner(id) {
				learners = append(learners, id)
			}
		default:
			learners = append(learners, id)
			if !isLearner(id) {
				change(raft.AddLearner, id)
			}
		}
	}
	if len(cc.Changes) == 0 {
		return nil, false
	}
	cc.Transition = raft.TransitionAuto
	return ConfChange{Voters: voters, Learners: learners, Change: cc}, true
}

// canVote reports an instance that may be a voter: of a tier that votes,
// and not expelled.
func (p *planner) canVote(i tables.Instance) bool {
	t, ok := p.tier(i.Tier)
	return ok && t.CanVote && !i.Expelled()
}

// wantedVoters is how many voters n eligible instances call for.
func wantedVoters(n int) int {
	switch {
	case n >= 5:
		return 5
	case n >= 3:
		return 3
	}
	return n
}

// swapFarther replaces one of chosen (not the first, the leader) by one of
// the candidates not chosen, if that makes the summed pairwise distance of
// chosen strictly larger: the swap with the largest gain, ties to the
// smaller candidate raft id, then the larger voter raft id.
func swapFarther(chosen, candidates []tables.Instance) []tables.Instance {
	bestGain, bestV, bestC := 0, -1, -1
	for ci, c := range candidates {
		if slices.ContainsFunc(chosen, func(x tables.Instance) bool { return x.RaftID == c.RaftID }) {
			continue
		}
		for vi := len(chosen) - 1; vi >= 1; vi-- {
			gain := 0
			for ui, u := range chosen {
				if ui != vi {
					gain += distance(c.FailureDomain, u.FailureDomain) - distance(chosen[vi].FailureDomain, u.FailureDomain)
				}
			}
			if gain > bestGain {
				bestGain, bestV, bestC = gain, vi, ci
			}
		}
	}
	if bestV < 0 {
		return chosen
	}
	out := slices.Clone(chosen)
	out[bestV] = candidates[bestC]
	return out
}

// farthestFirst adds instances of from (sorted by raft id) to chosen until
// it has n, each time the one farthest from those chosen so far.
func farthestFirst(chosen, from []tables.Instance, n int) []tables.Instance {
	from = slices.Clone(from)
	for len(chosen) < n && len(from) > 0 {
		best, bestDist := 0, -1
		for k, c := range from {
			d := 0
			for _, v := range chosen {
				d += distance(c.FailureDomain, v.FailureDomain)
			}
			if d > bestDist {
				best, bestDist = k, d
			}
		}
		chosen = append(chosen, from[best])
		from = slices.Delete(from, best, best+1)
	}
	return chosen
}

// distance is the number of failure-domain keys on which a and b differ; a
// key only one of them has differs.
func distance(a, b map[string]string) int {
	n := 0
	for k, va := range a {
		if vb, ok := b[k]; !ok || va != vb {
			n++
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			n++
		}
	}
	return n
}

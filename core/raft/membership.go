package raft

import (
	"fmt"
	"slices"
)

// Membership: the configuration in force (as of the applied index), and the
// leader's progress for every member. Configurations change when their entry
// is applied, one at a time: a leader proposes no new change until the
// previous one is applied, and a new leader none until its whole log is
// applied — which includes its own first entry, so no change is ever made
// before the leader has committed an entry of its own term.

// setConf installs cs and rebuilds progress tracking for its members,
// keeping what is known about members that stay. It returns the new members.
func (r *raft) setConf(cs ConfState) (added []uint64) {
	// A private copy, each list capped: BasicStatus hands these lists out
	// without copying them, so no one else may hold them writably, and an
	// append to one must reallocate.
	cs = cloneConfState(cs)
	r.conf = cs
	r.voters = jointConfig{incoming: majority(cs.Voters), outgoing: majority(cs.VotersOutgoing)}
	members := sortedUnion(sortedUnion(cs.Voters, cs.VotersOutgoing), sortedUnion(cs.Learners, cs.LearnersNext))
	old := r.progress
	r.progress = make(map[uint64]*Progress, len(members))
	for _, id := range members {
		pr, ok := old[id]
		if !ok {
			pr = r.newProgress(id)
			added = append(added, id)
		}
		pr.IsLearner = !r.voters.isVoter(id)
		r.progress[id] = pr
	}
	r.members = members
	return added
}

func (r *raft) newProgress(id uint64) *Progress {
	pr := &Progress{Next: r.log.lastIndex() + 1, RecentActive: true}
	pr.inflights = inflights{maxCount: r.cfg.MaxInflightMsgs, maxBytes: r.cfg.MaxInflightBytes}
	if id == r.id {
		pr.Match = r.log.stable
	}
	return pr
}

// promotable reports whether this node may campaign: it must be a voter of
// the configuration it knows, with no snapshot half-installed.
func (r *raft) promotable() bool {
	return r.voters.isVoter(r.id) && r.log.pendingSnapshot == nil
}

func (r *raft) isMember(id uint64) bool {
	_, ok := r.progress[id]
	return ok
}

// forEachPeer visits every member but this node in id order.
func (r *raft) forEachPeer(fn func(id uint64, pr *Progress)) {
	for _, id := range r.members {
		if id != r.id {
			fn(id, r.progress[id])
		}
	}
}

// applyConfChangeEntry applies a committed conf change entry. An invalid
// change (it raced with another) is a no-op on every node alike; the
// outcome is reported to the application.
func (r *raft) applyConfChangeEntry(e Entry) ConfChangeResult {
	res := ConfChangeResult{Index: e.Index}
	r.confIndex = e.Index
	cc, err := UnmarshalConfChange(e.Data)
	if err == nil {
		var cs ConfState
		cs, err = applyConfChange(r.conf, cc)
		if err == nil {
			r.switchConf(cs)
		}
	}
	res.ConfState, res.Err = r.conf, err
	return res
}

// switchConf installs a new configuration and does what it implies for the
// leader: commit under the new quorum, abort a transfer to a node that is no
// longer a voter, and step down if this node is no longer a voter.
func (r *raft) switchConf(cs ConfState) {
	added := r.setConf(cs)
	if r.state != StateLeader {
		return
	}
	if r.leadTransferee != None && !r.voters.isVoter(r.leadTransferee) {
		r.abortTransfer()
	}
	if !r.voters.isVoter(r.id) {
		r.stepDownRemoved()
		return
	}
	if r.maybeCommit() {
		r.bcastAppend()
		return
	}
	// New members are probed at once rather than at the next heartbeat.
	for _, id := range added {
		if id != r.id {
			r.maybeSendAppend(id, true)
		}
	}
}

// stepDownRemoved: a leader that is no longer a voter hands over to the most
// up-to-date voter and becomes a follower.
func (r *raft) stepDownRemoved() {
	best, bestMatch := None, uint64(0)
	for _, id := range r.members {
		if pr := r.progress[id]; id != r.id && r.voters.isVoter(id) && (best == None || pr.Match > bestMatch) {
			best, bestMatch = id, pr.Match
		}
	}
	if best != None {
		r.send(Message{To: best, Type: MsgTimeoutNow})
	}
	r.becomeFollower(r.term, None)
}

// removalSettled reports whether this node, no voter in the configuration
// it has applied, may stop for good without costing the cluster a vote it
// needs: the leader of its term, a voter of that configuration, has told it
// a commit index at or past the change. Such a leader tells only commit
// indexes it has synced (advertisedCommit), so the configuration's voters
// can elect a leader without this node whatever crashes next. Hearing the
// commit from anyone else is not enough: a leader that is itself leaving,
// or a follower's unsynced commit, can vanish with a crash.
func (r *raft) removalSettled() bool {
	if r.voters.isVoter(r.id) || r.lead == None || r.lead == r.id || !slices.Contains(r.voters.incoming, r.lead) {
		return false
	}
	return r.leaderCommit >= r.confIndex
}

// maybeAutoLeave proposes leaving a joint configuration that asked for it,
// once entering it is applied on the leader.
func (r *raft) maybeAutoLeave() {
	if r.state != StateLeader || !r.conf.Joint() || !r.conf.AutoLeave || r.pendingConfIndex > r.log.applied {
		return
	}
	if _, _, err := r.appendConfChange(LeaveJoint()); err != nil {
		panic(fmt.Sprintf("raft: auto-leave of %v refused: %v", r.conf, err))
	}
}

// appendConfChange validates a change against the configuration it will
// follow and appends it on the leader.
func (r *raft) appendConfChange(cc ConfChange) (uint64, uint64, error) {
	if r.pendingConfIndex > r.log.applied {
		return 0, 0, ErrConfChangePending
	}
	if _, err := applyConfChange(r.conf, cc); err != nil {
		return 0, 0, err
	}
	idx, err := r.appendEntries(Entry{Type: EntryConfChange, Data: cc.Marshal()})
	if err != nil {
		return 0, 0, err
	}
	r.pendingConfIndex = idx
	return idx, r.term, nil
}

// ConfChangeResult is the outcome of one applied conf change entry.
type ConfChangeResult struct {
	Index     uint64
	ConfState ConfState // the configuration in force after it
	Err       error     // why the change was a no-op
}

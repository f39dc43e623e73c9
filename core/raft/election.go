package raft

import "github.com/picogo/picogo/core/mutant"

// hup starts an election if this node may: it is a voter, not the leader,
// and has no committed membership change left to apply (which might remove
// it). A transfer skips the pre-vote: the leader itself asked for it. The
// error says why no election started.
func (r *raft) hup(transfer bool) error {
	switch {
	case r.state == StateLeader:
		return nil
	case !r.promotable():
		return &CampaignError{ID: r.id, Reason: "not a voter of the known configuration"}
	case r.hasUnappliedConfChange():
		return &CampaignError{ID: r.id, Reason: "a committed configuration change is not applied yet"}
	}
	r.campaign(r.cfg.PreVote && !transfer, transfer)
	return nil
}

func (r *raft) hasUnappliedConfChange() bool {
	from := max(r.log.applied, r.confIndex) + 1
	if from > r.log.committed {
		return false
	}
	ents, _ := r.log.slice(from, r.log.committed+1, ^uint64(0), int(^uint(0)>>1))
	for i := range ents {
		if ents[i].Type == EntryConfChange {
			return true
		}
	}
	return false
}

// campaign asks every voter for a (pre-)vote. With pre set, nothing changes
// until a majority says it would vote; only then the term is raised.
func (r *raft) campaign(pre, transfer bool) {
	var term uint64
	var t MessageType
	if pre {
		r.becomePreCandidate()
		term, t = r.term+1, MsgPreVote
	} else {
		r.becomeCandidate()
		term, t = r.term, MsgVote
	}
	r.votes[r.id] = true
	if r.voters.result(r.votes) == voteWon {
		// The only voter.
		r.wonElection(pre)
		return
	}
	for _, id := range r.members {
		if id == r.id || !r.voters.isVoter(id) {
			continue
		}
		r.send(Message{To: id, Term: term, Type: t, Index: r.log.lastIndex(), LogTerm: r.log.lastTerm(), Transfer: transfer})
	}
}

func (r *raft) wonElection(pre bool) {
	if pre {
		r.campaign(false, false)
		return
	}
	r.becomeLeader()
}

// handleVoteRequest grants a vote to a candidate whose log is at least as
// up to date, once per term; a pre-vote is granted on the same terms without
// recording anything.
func (r *raft) handleVoteRequest(m Message) {
	resp := MsgVoteResp
	if m.Type == MsgPreVote {
		resp = MsgPreVoteResp
	}
	canVote := r.vote == m.From ||
		(r.vote == None && r.lead == None) ||
		(m.Type == MsgPreVote && m.Term > r.term)
	upToDate := r.log.isUpToDate(m.Index, m.LogTerm) || r.cfg.mutants.Has(mutant.VoteForStaleLog)
	if !canVote || !upToDate {
		r.send(Message{To: m.From, Type: resp, Reject: true})
		return
	}
	// The grant names the term asked about, which for a pre-vote is ahead of
	// ours.
	r.send(Message{To: m.From, Term: m.Term, Type: resp})
	if m.Type == MsgVote {
		r.electionElapsed = 0
		r.vote = m.From
	}
}

func (r *raft) stepCandidate(m Message) error {
	want := MsgVoteResp
	if r.state == StatePreCandidate {
		want = MsgPreVoteResp
	}
	switch m.Type {
	case MsgProp, MsgReadIndex, MsgTransferLeader:
		return ErrProposalDropped
	case MsgApp:
		r.becomeFollower(m.Term, m.From)
		r.handleAppend(m)
	case MsgHeartbeat:
		r.becomeFollower(m.Term, m.From)
		r.handleHeartbeat(m)
	case MsgSnap:
		r.becomeFollower(m.Term, m.From)
		r.handleSnapshot(m)
	case want:
		if r.state == StatePreCandidate && !m.Reject && m.Term != r.term+1 {
			return nil // a grant from an earlier pre-campaign
		}
		if _, seen := r.votes[m.From]; !seen {
			r.votes[m.From] = !m.Reject
		}
		switch r.voters.result(r.votes) {
		case voteWon:
			r.wonElection(r.state == StatePreCandidate)
		case voteLost:
			r.becomeFollower(r.term, None)
		}
	}
	return nil
}

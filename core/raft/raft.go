package raft

import (
	"fmt"

	"github.com/picogo/picogo/core/mutant"
)

// raft is the protocol state of one node. It is driven only by the methods of
// Node and changes only in reaction to them; everything it wants done (send,
// persist, apply) is collected for the next Ready.
type raft struct {
	id  uint64
	cfg Config

	term  uint64
	vote  uint64
	lead  uint64
	state StateType
	log   *raftLog

	conf ConfState
	// confIndex is the index of the last entry reflected in conf: a
	// snapshot, or a conf change entry.
	confIndex uint64
	voters    jointConfig
	members   []uint64 // sorted ids of voters and learners
	progress  map[uint64]*Progress
	votes     map[uint64]bool

	// msgs leave at once; msgsAfterPersist leave once the next write is
	// durable, because they promise what it contains (a vote, entries).
	msgs             []Message
	msgsAfterPersist []Message
	// msgsHint is how many messages the last Ready handed out: the next
	// msgs starts with room for as many (grown from nothing, a busy
	// leader's were a twentieth of its allocated bytes).
	msgsHint   int
	readStates []ReadState
	errors     []error

	electionElapsed           int
	heartbeatElapsed          int
	randomizedElectionTimeout int

	// pendingConfIndex: the leader proposes no conf change until this index
	// is applied.
	pendingConfIndex uint64
	leadTransferee   uint64

	reads readIndexState

	purgeTarget uint64 // purge_log(upto) waiting to be possible
	purgedTo    uint64 // entries dropped since the last Ready

	allowRevert map[uint64]bool

	// leaderCommit is the highest commit index the leader of this term has
	// told this node (zero on the leader itself).
	leaderCommit uint64

	// durableTerm is the term of the newest HardState known durable. A
	// leader whose own term is not durable yet (a sole voter wins at once,
	// before its vote is written) holds its messages until it is: after a
	// crash it could lead the same term again with different entries.
	durableTerm uint64
}

func newRaft(cfg Config, st State) (*raft, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := validateState(st); err != nil {
		return nil, err
	}
	r := &raft{
		id:          cfg.ID,
		cfg:         cfg,
		log:         newLog(st.Snapshot, st.Entries, st.HardState.Commit),
		progress:    map[uint64]*Progress{},
		allowRevert: map[uint64]bool{},
	}
	r.setConf(st.Snapshot.ConfState)
	r.confIndex = st.Snapshot.Index
	// Committed membership is known before it is replayed: a restarted node
	// (or a founder) can campaign at once.
	ents, _ := r.log.slice(r.log.firstIndex(), r.log.committed+1, ^uint64(0), int(^uint(0)>>1))
	for _, e := range ents {
		if e.Type == EntryConfChange {
			r.applyConfChangeEntry(e)
		}
	}
	r.term, r.vote = st.HardState.Term, st.HardState.Vote
	r.durableTerm = st.HardState.Term
	r.becomeFollower(r.term, None)
	return r, nil
}

func (r *raft) hardState() HardState {
	return HardState{Term: r.term, Vote: r.vote, Commit: r.log.committed}
}

// send queues m, stamping (unless set) the sender and the term. A forwarded
// message keeps its sender: a MsgTransferLeader's From is the transfer's
// target, and a forwarded MsgReadIndex is answered to whoever asked. Messages
// that promise durable state wait for the write that makes it durable.
func (r *raft) send(m Message) {
	if m.From == None {
		m.From = r.id
	}
	if m.Term == 0 {
		m.Term = r.term
	}
	switch {
	case m.Type == MsgAppResp && !r.cfg.mutants.Has(mutant.AckBeforeFsync),
		(m.Type == MsgVote || m.Type == MsgVoteResp) && !r.cfg.mutants.Has(mutant.VoteWithoutPersist),
		r.state == StateLeader && r.term > r.durableTerm:
		r.msgsAfterPersist = append(r.msgsAfterPersist, m)
	default:
		if r.msgs == nil {
			r.msgs = make([]Message, 0, max(r.msgsHint, 1))
		}
		r.msgs = append(r.msgs, m)
	}
}

// reset starts a new role in term.
func (r *raft) reset(term uint64) {
	if r.term != term {
		r.term = term
		r.vote = None
	}
	r.lead = None
	r.leaderCommit = 0
	r.electionElapsed = 0
	r.heartbeatElapsed = 0
	r.randomizedElectionTimeout = r.cfg.ElectionTick + r.cfg.Rand.IntN(r.cfg.ElectionTick)
	r.abortTransfer()
	r.votes = map[uint64]bool{}
	for _, id := range r.members {
		pr := r.newProgress(id)
		pr.IsLearner = r.progress[id].IsLearner
		r.progress[id] = pr
	}
	r.pendingConfIndex = 0
	r.reads.reset()
}

func (r *raft) becomeFollower(term, lead uint64) {
	r.reset(term)
	r.state = StateFollower
	r.lead = lead
}

func (r *raft) becomePreCandidate() {
	if r.state == StateLeader {
		panic("raft: leader cannot become pre-candidate")
	}
	// The term stays: a pre-vote changes nothing until it is won. Forgetting
	// the leader lets this node grant pre-votes itself (etcd #9586).
	r.votes = map[uint64]bool{}
	r.state = StatePreCandidate
	r.lead = None
}

func (r *raft) becomeCandidate() {
	if r.state == StateLeader {
		panic("raft: leader cannot become candidate")
	}
	r.reset(r.term + 1)
	r.vote = r.id
	r.state = StateCandidate
}

func (r *raft) becomeLeader() {
	if r.state == StateFollower {
		panic("raft: follower cannot become leader without an election")
	}
	r.reset(r.term)
	r.lead = r.id
	r.state = StateLeader
	// Followers' positions are unknown; probe them. They count as active so
	// the first quorum check judges them on a full election timeout.
	r.progress[r.id].becomeReplicate()
	// The empty entry commits this term; nothing may change membership until
	// it is applied.
	idx, err := r.appendEntries(Entry{})
	if err != nil {
		panic(fmt.Sprintf("raft: new leader cannot append its empty entry: %v", err))
	}
	r.pendingConfIndex = idx
	r.bcastAppend()
}

// tick advances logical time by one tick.
func (r *raft) tick() {
	if r.state == StateLeader {
		r.tickLeader()
		return
	}
	r.electionElapsed++
	if r.promotable() && (r.electionElapsed >= r.randomizedElectionTimeout || r.soleVoterWithoutLeader()) {
		r.electionElapsed = 0
		_ = r.hup(false) // a node that may not campaign waits for the leader
	}
}

// soleVoterWithoutLeader: this node is the only voter of its configuration
// and knows no leader. Its election needs no other vote, so it campaigns at
// its first tick instead of waiting out an election timeout (a restarted
// one-instance cluster answered nothing for 1-2 s). Timing is no part of
// Raft's safety: it would campaign the same way a timeout later. A node that
// hears from a leader (a stale configuration) waits for the timeout as
// before.
func (r *raft) soleVoterWithoutLeader() bool {
	return r.lead == None && len(r.voters.outgoing) == 0 &&
		len(r.voters.incoming) == 1 && r.voters.incoming[0] == r.id
}

func (r *raft) tickLeader() {
	r.heartbeatElapsed++
	r.electionElapsed++
	if r.electionElapsed >= r.cfg.ElectionTick {
		r.electionElapsed = 0
		if r.cfg.CheckQuorum {
			r.checkQuorum()
		}
		if r.state == StateLeader && r.leadTransferee != None {
			// The transfer did not finish within an election timeout.
			r.abortTransfer()
		}
	}
	if r.state != StateLeader {
		return
	}
	r.forEachPeer(func(id uint64, pr *Progress) {
		if pr.State != StateSnapshot {
			return
		}
		// A snapshot that never landed (the follower could not fetch it, or
		// died) is offered again.
		if pr.snapshotTicks++; pr.snapshotTicks > 2*r.cfg.ElectionTick {
			pr.becomeProbe()
		}
	})
	if r.heartbeatElapsed >= r.cfg.HeartbeatTick {
		r.heartbeatElapsed = 0
		r.bcastHeartbeat()
	}
}

// checkQuorum steps down a leader that has not heard from a quorum within an
// election timeout: it may be partitioned away, and a new leader may exist.
func (r *raft) checkQuorum() {
	active := r.voters.hasQuorum(func(id uint64) bool {
		return id == r.id || r.progress[id].RecentActive
	})
	r.forEachPeer(func(_ uint64, pr *Progress) { pr.RecentActive = false })
	if !active && !r.cfg.mutants.Has(mutant.NoCheckQuorumStepDown) {
		r.becomeFollower(r.term, None)
	}
}

// step handles a message, from the network or local.
func (r *raft) step(m Message) error {
	if !r.stepTerm(m) {
		return nil
	}
	switch m.Type {
	case MsgHup:
		return r.hup(false)
	case MsgVote, MsgPreVote:
		r.handleVoteRequest(m)
		return nil
	}
	switch r.state {
	case StateLeader:
		return r.stepLeader(m)
	case StateCandidate, StatePreCandidate:
		return r.stepCandidate(m)
	}
	return r.stepFollower(m)
}

// stepTerm applies the term rules before a message is handled: a higher term
// makes this node a follower (with exceptions that keep disruptive nodes
// harmless), a lower term is answered only where that unsticks the sender.
// It reports whether the message should be handled further.
func (r *raft) stepTerm(m Message) bool {
	switch {
	case m.Term == 0:
		// Local message.
	case m.Term > r.term:
		if m.Type == MsgVote || m.Type == MsgPreVote {
			inLease := r.cfg.CheckQuorum && r.lead != None && r.electionElapsed < r.cfg.ElectionTick
			if inLease && !m.Transfer {
				// This node heard from a leader within an election timeout:
				// a removed or partitioned node asking for votes is ignored
				// and cannot raise the term.
				return false
			}
		}
		switch {
		case m.Type == MsgPreVote:
			// A pre-vote asks about term+1 without anyone moving to it.
		case m.Type == MsgPreVoteResp && !m.Reject:
			// A granted pre-vote carries the term we would campaign in.
		case m.Type == MsgApp || m.Type == MsgHeartbeat || m.Type == MsgSnap:
			r.becomeFollower(m.Term, m.From)
		default:
			r.becomeFollower(m.Term, None)
		}
	case m.Term < r.term:
		switch {
		case (r.cfg.CheckQuorum || r.cfg.PreVote) && (m.Type == MsgHeartbeat || m.Type == MsgApp):
			// A leader of an older term that nobody deposes (its peers
			// ignore votes under the lease) learns our term from this.
			r.send(Message{To: m.From, Type: MsgAppResp})
		case m.Type == MsgPreVote:
			// A pre-candidate behind in term learns ours instead of
			// retrying forever (etcd #8501).
			r.send(Message{To: m.From, Type: MsgPreVoteResp, Reject: true})
		}
		return false
	}
	return true
}

func (r *raft) stepFollower(m Message) error {
	switch m.Type {
	case MsgProp:
		if r.lead == None || r.cfg.DisableProposalForwarding {
			return ErrProposalDropped
		}
		m.To = r.lead
		r.send(m)
	case MsgApp:
		r.electionElapsed = 0
		r.lead = m.From
		r.handleAppend(m)
	case MsgHeartbeat:
		r.electionElapsed = 0
		r.lead = m.From
		r.handleHeartbeat(m)
	case MsgSnap:
		r.electionElapsed = 0
		r.lead = m.From
		r.handleSnapshot(m)
	case MsgTransferLeader:
		if r.lead == None {
			return ErrProposalDropped
		}
		m.To = r.lead
		r.send(m)
	case MsgTimeoutNow:
		// The leader hands over: campaign at once, without a pre-vote, and
		// voters must not refuse it for knowing a leader.
		_ = r.hup(true) // a transfer to a node that cannot lead just lapses
	case MsgReadIndex:
		if r.lead == None {
			return ErrProposalDropped
		}
		m.To = r.lead
		r.send(m)
	case MsgReadIndexResp:
		r.readStates = append(r.readStates, ReadState{Index: m.Index, Context: m.Context})
	}
	return nil
}

func (r *raft) stepLeader(m Message) error {
	switch m.Type {
	case MsgBeat:
		r.bcastHeartbeat()
		return nil
	case MsgCheckQuorum:
		r.checkQuorum()
		return nil
	case MsgProp:
		// Forwarded proposals obey the same rules as local ones: none
		// during a transfer, and a conf change alone and one at a time.
		_, err := r.leaderPropose(m.Entries)
		return err
	case MsgReadIndex:
		r.handleReadIndex(m)
		return nil
	}
	pr := r.progress[m.From]
	if pr == nil {
		if m.Type.isResponse() {
			return ErrStepPeerNotFound
		}
		return nil
	}
	switch m.Type {
	case MsgAppResp:
		pr.RecentActive = true
		r.handleAppendResponse(m, pr)
	case MsgHeartbeatResp:
		pr.RecentActive = true
		r.handleHeartbeatResponse(m, pr)
	case MsgTransferLeader:
		return r.handleTransferLeader(m.From)
	}
	return nil
}

// appendEntries adds proposals to the leader's log and replicates them. It
// returns the index of the first one.
func (r *raft) appendEntries(ents ...Entry) (uint64, error) {
	if len(ents) == 0 {
		return 0, fmt.Errorf("raft: empty proposal")
	}
	if !r.isMember(r.id) {
		// Removed from the configuration: keep nothing new.
		return 0, ErrProposalDropped
	}
	first := r.log.lastIndex() + 1
	for i := range ents {
		ents[i].Term = r.term
		ents[i].Index = first + uint64(i)
	}
	r.log.append(ents...)
	r.bcastAppend()
	return first, nil
}

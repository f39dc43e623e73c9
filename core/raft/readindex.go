package raft

import "github.com/picogo/picogo/core/mutant"

// Linearizable reads without writing to the log (ReadIndex): the leader
// notes its commit index, proves it is still the leader by a heartbeat round
// acknowledged by a quorum, and answers with that index; the reader waits
// until it has applied the index and reads locally. A new leader answers
// only once it has committed an entry of its own term, because until then
// its commit index may lag what its predecessors committed.

type readRequest struct {
	from  uint64 // who asked (this node or a forwarding follower)
	ctx   []byte
	index uint64
	round uint64 // the heartbeat round whose quorum confirms it
}

type readIndexState struct {
	round          uint64 // the last heartbeat round started
	wantRound      uint64 // a round must start up to here before the next Ready
	pending        []readRequest
	awaitingCommit []readRequest
}

func (s *readIndexState) reset() {
	s.pending, s.awaitingCommit, s.wantRound = nil, nil, 0
}

func (r *raft) committedInTerm() bool {
	t, _ := r.log.term(r.log.committed)
	return t == r.term
}

func (r *raft) handleReadIndex(m Message) {
	req := readRequest{from: m.From, ctx: m.Context}
	if !r.committedInTerm() {
		r.reads.awaitingCommit = append(r.reads.awaitingCommit, req)
		return
	}
	req.index = r.log.committed
	r.registerRead(req)
}

func (r *raft) registerRead(req readRequest) {
	onlyVoter := r.voters.hasQuorum(func(id uint64) bool { return id == r.id })
	if onlyVoter || r.cfg.mutants.Has(mutant.ReadIndexWithoutRound) {
		r.answerRead(req)
		return
	}
	// Reads registered before the next Ready share one round.
	req.round = r.reads.round + 1
	r.reads.wantRound = req.round
	r.reads.pending = append(r.reads.pending, req)
}

// startWantedRound sends the heartbeat round that pending reads wait for.
func (r *raft) startWantedRound() {
	if r.state == StateLeader && r.reads.round < r.reads.wantRound {
		r.bcastHeartbeat()
	}
}

func (r *raft) releaseReadsAwaitingCommit() {
	if len(r.reads.awaitingCommit) == 0 || !r.committedInTerm() {
		return
	}
	waiting := r.reads.awaitingCommit
	r.reads.awaitingCommit = nil
	for _, req := range waiting {
		req.index = r.log.committed
		r.registerRead(req)
	}
}

// confirmReads answers every read whose round a quorum has acknowledged.
// Rounds only grow, so confirmed reads are a prefix.
func (r *raft) confirmReads() {
	for len(r.reads.pending) > 0 {
		req := r.reads.pending[0]
		if !r.voters.hasQuorum(func(id uint64) bool {
			return id == r.id || r.progress[id].RoundAcked >= req.round
		}) {
			return
		}
		r.reads.pending = r.reads.pending[1:]
		r.answerRead(req)
	}
}

func (r *raft) answerRead(req readRequest) {
	if req.from == r.id {
		r.readStates = append(r.readStates, ReadState{Index: req.index, Context: req.ctx})
		return
	}
	r.send(Message{To: req.from, Type: MsgReadIndexResp, Index: req.index, Context: req.ctx})
}

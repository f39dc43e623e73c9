package ra

import (
	"encoding/binary"
	"slices"

	"github.com/picogo/picogo/core/raft"
)

// QueryResult is a query's answer with the Raft index and term of the state
// it was read from.
type QueryResult struct {
	Index uint64
	Term  uint64
	// ReadIndex is the confirmed read index of a consistent query (Index,
	// the applied index read at, is at least this).
	ReadIndex uint64
	Value     any
}

// LocalQuery reads this server's state machine now: any member, possibly
// stale (ra's local_query).
func (s *Server) LocalQuery(req ReqID, q Query) {
	if !s.begin(req) {
		return
	}
	s.reply(req, s.runQuery(q), nil)
}

// LeaderQuery reads the leader's state machine now, without confirming
// leadership: it may be stale if this leader was just deposed (ra's
// leader_query). On a follower it answers NotLeader with the leader to ask.
func (s *Server) LeaderQuery(req ReqID, q Query) {
	if !s.begin(req) {
		return
	}
	if !s.isLeader() {
		s.reply(req, nil, s.notLeader())
		return
	}
	s.reply(req, s.runQuery(q), nil)
}

// ConsistentQuery reads linearizably (ra's consistent_query): the leader
// confirms its leadership with a heartbeat round (ReadIndex), this server
// waits until it has applied that index, then reads. It works on any member:
// a follower asks the leader for the index and reads locally.
func (s *Server) ConsistentQuery(req ReqID, q Query) {
	if !s.begin(req) {
		return
	}
	s.readSeq++
	s.reads[s.readSeq] = pendingRead{req: req, query: q}
	// With no leader yet the read waits: it is asked again when one is known.
	_ = s.node.ReadIndex(readContext(s.readSeq))
	s.drive()
}

func readContext(id uint64) []byte { return binary.BigEndian.AppendUint64(nil, id) }

func (s *Server) readIndexConfirmed(rs raft.ReadState) {
	if len(rs.Context) != 8 {
		return
	}
	id := binary.BigEndian.Uint64(rs.Context)
	r, ok := s.reads[id]
	if !ok {
		return // answered already (asked twice across a leader change)
	}
	delete(s.reads, id)
	r.index = rs.Index
	s.readsAtIndex = append(s.readsAtIndex, r)
	s.runReadyReads()
}

// runReadyReads answers the confirmed reads whose index is applied.
func (s *Server) runReadyReads() {
	applied := s.node.BasicStatus().Applied
	s.readsAtIndex = slices.DeleteFunc(s.readsAtIndex, func(r pendingRead) bool {
		if r.index > applied {
			return false
		}
		res := s.runQuery(r.query)
		res.ReadIndex = r.index
		s.reply(r.req, res, nil)
		return true
	})
}

type appliedWait struct {
	req    ReqID
	target uint64
}

// WaitApplied answers req with the applied index once it reaches target
// (`.proc_wait_index`).
func (s *Server) WaitApplied(req ReqID, target uint64) {
	if !s.begin(req) {
		return
	}
	s.appliedWaits = append(s.appliedWaits, appliedWait{req: req, target: target})
	s.runAppliedWaits()
}

func (s *Server) runAppliedWaits() {
	if len(s.appliedWaits) == 0 {
		return
	}
	applied := s.node.BasicStatus().Applied
	s.appliedWaits = slices.DeleteFunc(s.appliedWaits, func(w appliedWait) bool {
		if w.target > applied {
			return false
		}
		s.reply(w.req, applied, nil)
		return true
	})
}

// Log returns the index before the first held entry and the held entries,
// committed or not. Read it, do not keep it.
func (s *Server) Log() (prevIndex uint64, entries []raft.Entry) { return s.node.Log() }

// Term returns the term of the entry at index i, if the log holds it.
func (s *Server) Term(i uint64) (uint64, bool) { return s.node.Term(i) }

// BasicStatus is the Raft node's status without member progress.
func (s *Server) BasicStatus() raft.Status { return s.node.BasicStatus() }

func (s *Server) runQuery(q Query) QueryResult {
	st := s.node.BasicStatus()
	t := st.Term
	if prev, ents := s.node.Log(); st.Applied > prev && st.Applied <= prev+uint64(len(ents)) {
		t = ents[st.Applied-prev-1].Term
	}
	return QueryResult{Index: st.Applied, Term: t, Value: q(s.sm)}
}

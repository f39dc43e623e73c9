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
	Value any
}

// LocalQuery reads this server's state machine now: any member, possibly
// stale (ra's local_query).
func (s *Server) LocalQuery(req ReqID, q Query) {
	if err := s.wait(req); err != nil {
		s.emit(Reply{Req: req, Err: err})
		return
	}
	s.reply(req, s.runQuery(q), nil)
}

// LeaderQuery reads the leader's state machine now, without confirming
// leadership: it may be stale if this leader was just deposed (ra's
// leader_query). On a follower it answers NotLeader with the leader to ask.
func (s *Server) LeaderQuery(req ReqID, q Query) {
	if err := s.wait(req); err != nil {
		s.emit(Reply{Req: req, Err: err})
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
	if err := s.wait(req); err != nil {
		s.emit(Reply{Req: req, Err: err})
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
		s.reply(r.req, s.runQuery(r.query), nil)
		return true
	})
}

func (s *Server) runQuery(q Query) QueryResult {
	st := s.node.BasicStatus()
	t := st.Term
	if prev, ents := s.node.Log(); st.Applied > prev && st.Applied <= prev+uint64(len(ents)) {
		t = ents[st.Applied-prev-1].Term
	}
	return QueryResult{Index: st.Applied, Term: t, Value: q(s.sm)}
}

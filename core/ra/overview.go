package ra

import "github.com/picogo/picogo/core/raft"

// Overview is a server's state at a glance (ra's overview).
type Overview struct {
	ID         uint64
	State      raft.StateType
	Term       uint64
	Leader     uint64
	Commit     uint64
	Applied    uint64
	FirstIndex uint64
	LastIndex  uint64
	Snapshot   uint64 // index of the newest durable snapshot
	Members    Members
	// Waiting counts requests not answered yet; Writes counts writes queued
	// or out with the driver.
	Waiting    int
	Writes     int
	Terminated bool
}

// Overview reports the server's state.
func (s *Server) Overview() Overview {
	st := s.node.BasicStatus()
	o := Overview{
		ID: s.id, State: st.State, Term: st.Term, Leader: st.Lead, Commit: st.Commit, Applied: st.Applied,
		FirstIndex: st.FirstIndex, LastIndex: st.LastIndex, Members: s.Members(),
		Waiting: len(s.waiting), Writes: len(s.writes), Terminated: s.terminated,
	}
	if s.snapshot != nil {
		o.Snapshot = s.snapshot.Meta.Index
	}
	return o
}

// RemovalSettled reports whether this server, no voter any more, may stop
// for good (raft.Node.RemovalSettled).
func (s *Server) RemovalSettled() bool { return s.node.RemovalSettled() }

// Status is the Raft node's status (for `.proc_raft_info`).
func (s *Server) Status() raft.Status { return s.node.Status() }

// WithProgress visits each member's progress while this server leads
// (raft.Node.WithProgress).
func (s *Server) WithProgress(visit func(id uint64, pr raft.Progress)) { s.node.WithProgress(visit) }

package ra

import (
	"errors"
	"fmt"
	"slices"

	"github.com/picogo/picogo/core/raft"
)

// ErrAlreadyLeader answers a transfer of leadership to the leader itself.
var ErrAlreadyLeader = errors.New("ra: already the leader")

// Members is the membership as this server knows it.
type Members struct {
	Voters   []uint64
	Learners []uint64
	// Joint is set during joint consensus: the outgoing voters.
	Outgoing []uint64
	Leader   uint64
}

// Members reports the membership in force on this server (ra's members).
func (s *Server) Members() Members {
	cs := s.node.BasicStatus().ConfState
	return Members{Voters: cs.Voters, Learners: append(cs.Learners, cs.LearnersNext...), Outgoing: cs.VotersOutgoing, Leader: s.lead}
}

// AddMember adds server id as a voter or a learner, or changes how an
// existing member takes part (promote a learner, demote a voter). The reply,
// with the new membership, comes once the change is applied (ra's
// add_member).
func (s *Server) AddMember(req ReqID, id uint64, m Membership) {
	t := raft.AddVoter
	if m == Learner {
		t = raft.AddLearner
	}
	s.changeSingle(req, raft.ConfChangeSingle{Type: t, NodeID: id}, nil)
}

// RemoveMember removes server id (ra's remove_member).
func (s *Server) RemoveMember(req ReqID, id uint64) {
	s.changeSingle(req, raft.ConfChangeSingle{Type: raft.RemoveNode, NodeID: id}, nil)
}

// LeaveAndTerminate removes server id and, once that is applied, asks the
// driver to stop it (ra's leave_and_terminate).
func (s *Server) LeaveAndTerminate(req ReqID, id uint64) {
	s.changeSingle(req, raft.ConfChangeSingle{Type: raft.RemoveNode, NodeID: id}, &TerminateMember{ID: id})
}

// LeaveAndDeleteServer removes server id, then asks the driver to stop it
// and delete its data (ra's leave_and_delete_server).
func (s *Server) LeaveAndDeleteServer(req ReqID, id uint64) {
	s.changeSingle(req, raft.ConfChangeSingle{Type: raft.RemoveNode, NodeID: id}, &TerminateMember{ID: id, Delete: true})
}

// ChangeConf proposes a whole conf change (several members at once; Raft
// goes through joint consensus when more than one voter changes). The
// reply, with the new membership, comes once it is applied.
func (s *Server) ChangeConf(req ReqID, cc raft.ConfChange) { s.changeMembership(req, cc, nil) }

// changeMembership proposes cc after the checks every membership change
// shares; then, if set, is done once it is applied.
func (s *Server) changeMembership(req ReqID, cc raft.ConfChange, then *TerminateMember) {
	if !s.begin(req) {
		return
	}
	var refusal error
	switch {
	case !s.isLeader():
		refusal = s.notLeader()
	case s.conf != nil:
		refusal = ErrBusy
	case s.endOfLife != 0:
		refusal = ErrClusterDeleted
	}
	for _, c := range cc.Changes {
		if refusal == nil && c.Type == raft.RemoveNode && !s.isMember(c.NodeID) {
			refusal = fmt.Errorf("ra: server %d is not a member", c.NodeID)
		}
	}
	if refusal != nil {
		s.reply(req, nil, refusal)
		return
	}
	idx, _, err := s.node.ProposeConfChange(cc)
	if err != nil {
		s.reply(req, nil, err)
		return
	}
	s.conf = &pendingConf{req: req, index: idx, terminate: then}
	s.drive()
}

// confApplied answers the membership request whose entry applied.
func (s *Server) confApplied(res raft.ConfChangeResult) {
	pc := s.conf
	if pc == nil || res.Index != pc.index {
		return
	}
	s.conf = nil
	if res.Err != nil {
		s.reply(pc.req, nil, res.Err)
		return
	}
	s.reply(pc.req, Members{Voters: res.ConfState.Voters, Learners: res.ConfState.Learners,
		Outgoing: res.ConfState.VotersOutgoing, Leader: s.lead}, nil)
	if t := pc.terminate; t != nil {
		if t.ID == s.id {
			s.terminate(t.Delete, "left the cluster")
			return
		}
		s.emit(*t)
	}
}

// TransferLeader hands leadership to voter to (ra's transfer_leadership,
// openraft's trigger transfer_leader). It returns once the transfer has
// started; the new leader shows in LeaderChanged.
func (s *Server) TransferLeader(to uint64) error {
	if s.terminated {
		return ErrTerminated
	}
	if s.isLeader() && to == s.id {
		return ErrAlreadyLeader
	}
	err := s.node.TransferLeader(to)
	s.drive()
	return err
}

// TransferLeaderAndWait is TransferLeader answering req once to leads.
func (s *Server) TransferLeaderAndWait(req ReqID, to uint64) {
	if !s.begin(req) {
		return
	}
	if err := s.TransferLeader(to); err != nil {
		s.reply(req, nil, err)
		return
	}
	s.transfer = &pendingTransfer{req: req, to: to}
}

func (s *Server) isMember(id uint64) bool {
	cs := s.node.BasicStatus().ConfState
	return slices.Contains(cs.Voters, id) || slices.Contains(cs.VotersOutgoing, id) ||
		slices.Contains(cs.Learners, id) || slices.Contains(cs.LearnersNext, id)
}

// changeSingle proposes one change.
func (s *Server) changeSingle(req ReqID, c raft.ConfChangeSingle, then *TerminateMember) {
	s.changeMembership(req, raft.ConfChange{Changes: []raft.ConfChangeSingle{c}}, then)
}

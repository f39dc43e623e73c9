package node

import (
	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/ra"
)

// consensus is the module of Raft's own procedures: its status and indexes,
// linearizable reads, campaigning, the messages instances exchange, and
// snapshot chunks (chunks.go); and Raft's clock. Its state is the Raft
// server, which every module shares (Node.ra).
type consensus struct {
	*Node
}

func (m *consensus) register(r *registry) {
	serve(r, running, m.raftInfo)
	serve(r, running, m.getIndex)
	serve(r, running, m.readIndex)
	serve(r, running, m.waitIndex)
	serve(r, running, m.promote)
	serve(r, running, m.interact)
	serve(r, running, m.serveChunk)
	serve(r, anyPhase, m.peerAddress)
	r.tick(tickRaft, running, func() { m.ra.Tick() })
}

// info is `.proc_raft_info`'s answer.
func (m *consensus) info() api.RaftInfoResult {
	st := m.ra.BasicStatus()
	return api.RaftInfoResult{ID: st.ID, Term: st.Term, Applied: st.Applied, LeaderID: st.Lead, State: st.State.String()}
}

func (m *consensus) raftInfo(_ string, _ api.RaftInfo, respond responder) {
	respond([]any{m.info()}, nil)
}

func (m *consensus) getIndex(_ string, _ api.GetIndex, respond responder) {
	respond([]any{m.ra.BasicStatus().Applied}, nil)
}

func (m *consensus) readIndex(_ string, r api.ReadIndex, respond responder) {
	req := m.await(respond, r.Proc(), func(rep ra.Reply) ([]any, *api.Error) {
		return []any{rep.Result.(ra.QueryResult).ReadIndex}, nil
	})
	m.ra.ConsistentQuery(req, func(ra.StateMachine) any { return nil })
	m.ra.SetDeadline(req, m.cfg.ticks(r.Timeout))
}

func (m *consensus) waitIndex(_ string, r api.WaitIndex, respond responder) {
	req := m.await(respond, r.Proc(), func(rep ra.Reply) ([]any, *api.Error) { return []any{rep.Result}, nil })
	m.ra.WaitApplied(req, r.Target)
	m.ra.SetDeadline(req, m.cfg.ticks(r.Timeout))
}

func (m *consensus) promote(_ string, _ api.RaftPromote, respond responder) {
	if err := m.ra.Elect(); err != nil {
		respond(nil, api.Errorf(api.CodeProcLua, "%v", err))
		return
	}
	respond(nil, nil)
}

func (m *consensus) interact(_ string, r api.RaftInteract, respond responder) {
	if len(r.Messages) > 0 {
		m.governor.heardFrom(r.Messages[0].From)
	}
	if r.SenderAddress != "" && len(r.Messages) > 0 {
		if _, known := m.address(r.Messages[0].From); !known {
			m.addressBook[r.Messages[0].From] = r.SenderAddress
		}
	}
	// Messages that do not fit are refused one by one inside; the
	// sender learns nothing it could act on, as with a lost message.
	_ = m.ra.Receive(r.Messages)
	respond(nil, nil)
}

// peerAddress answers `.proc_get_peer_address`: where Raft messages to
// raft_id go from here. In any phase: a joining instance knows the
// addresses its join's answer gave.
func (m *consensus) peerAddress(_ string, r api.GetPeerAddress, respond responder) {
	if addr, ok := m.address(r.RaftID); ok {
		respond([]any{addr}, nil)
		return
	}
	respond([]any{nil}, nil)
}

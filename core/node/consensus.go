package node

import (
	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/raft"
)

// consensus is the module of Raft's own procedures: its status and indexes,
// linearizable reads, campaigning, the messages instances exchange, and
// snapshot chunks (chunks.go); and Raft's clock. Its state is the Raft
// server, which every module shares (Node.ra).
type consensus struct {
	*Node
	// held are the `.proc_raft_interact` calls not answered yet, the
	// latest of each peer (by raft id), in the order they came: the
	// next Raft messages to that peer ride back on the reply rather
	// than in a call of their own, which would need a reply of its own
	// too (two frames, two writes and two wake-ups each way; an
	// acknowledgement after a follower's fsync is the common case).
	// Whatever is still held at a tick is answered empty.
	held []heldInteract
}

// heldInteract is a `.proc_raft_interact` from peer awaiting its reply.
type heldInteract struct {
	peer    uint64
	respond responder
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
	r.tick(tickRaft, running, func() {
		m.ra.Tick()
		// Ra's effects (heartbeats, say) are sent after the tick's
		// work: collect them first so that they ride on what is held.
		m.collect()
		m.releaseHeld()
	})
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
	if len(r.Messages) > 0 && r.SenderAddress != "" {
		if _, known := m.address(r.Messages[0].From); !known {
			m.addressBook[r.Messages[0].From] = r.SenderAddress
		}
	}
	m.receive(r.Messages)
	if len(r.Messages) == 0 || r.Messages[0].From == 0 {
		respond(nil, nil)
		return
	}
	m.hold(r.Messages[0].From, respond)
}

// receive steps Raft messages from a peer, which came in a call or on the
// reply to one.
func (m *consensus) receive(msgs []raft.Message) {
	if len(msgs) > 0 {
		m.governor.heardFrom(msgs[0].From)
	}
	// Messages that do not fit are refused one by one inside; the
	// sender learns nothing it could act on, as with a lost message.
	_ = m.ra.Receive(msgs)
}

// hold keeps respond, the reply to peer's call, for the next messages to
// peer; the call held before from peer is answered empty (one per peer:
// the caller's calls in flight stay few).
func (m *consensus) hold(peer uint64, respond responder) {
	for i := range m.held {
		if m.held[i].peer == peer {
			old := m.held[i].respond
			m.held = append(m.held[:i], m.held[i+1:]...)
			old(nil, nil)
			break
		}
	}
	m.held = append(m.held, heldInteract{peer: peer, respond: respond})
}

// sendOnReply answers peer's held call with msgs, if one is held.
func (m *consensus) sendOnReply(peer uint64, msgs []raft.Message) bool {
	for i := range m.held {
		if m.held[i].peer == peer {
			respond := m.held[i].respond
			m.held = append(m.held[:i], m.held[i+1:]...)
			respond([]any{msgs}, nil)
			return true
		}
	}
	return false
}

// releaseHeld answers every held call empty, in the order they came.
func (m *consensus) releaseHeld() {
	held := m.held
	m.held = nil
	for _, h := range held {
		h.respond(nil, nil)
	}
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

package ra

import (
	"encoding/binary"
	"fmt"

	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/net/iproto"
	"github.com/vmihailenco/msgpack/v5"
)

// Every command travels in an envelope naming the server and incarnation
// that proposed it. Whichever way it reached the leader (proposed there, or
// forwarded by a follower), the proposer recognises it when it applies it
// and answers its caller. The incarnation keeps a restarted server from
// mistaking an old run's command for a new request.
type envelope struct {
	//lint:ignore U1000 msgpack reads this field's tag: encode as an array
	_msgpack    struct{} `msgpack:",as_array"`
	Kind        uint8
	Origin      uint64
	Incarnation uint64
	Seq         uint64
	Data        []byte
}

const (
	kindCommand   uint8 = 1
	kindEndOfLife uint8 = 2
)

// An envelope's encoding is msgpack reflection's for the struct, written
// and read by hand: every instance decodes one per applied entry, and
// reflection (with its copy of Data) was a few percent of a loaded
// leader's CPU (docs/BENCHMARKS.md). The bytes are reflection's exactly
// (TestEnvelopeCodecMatchesReflection): a fixed array of 5, the kind as a
// uint8, three uint64s in full, Data as bin (nil as nil).
const (
	envelopeHeader = 0x95 // fixarray of 5
	codeUint8      = 0xcc
	codeUint64     = 0xcf
	envelopeFixed  = 1 + 2 + 3*9 // everything before Data
)

func (e *envelope) marshal() []byte {
	b := make([]byte, 0, envelopeFixed+5+len(e.Data))
	b = append(b, envelopeHeader, codeUint8, e.Kind)
	for _, v := range [3]uint64{e.Origin, e.Incarnation, e.Seq} {
		b = append(b, codeUint64)
		b = binary.BigEndian.AppendUint64(b, v)
	}
	return iproto.AppendBin(b, e.Data)
}

// unmarshalEnvelope decodes an entry's data. Data aliases data (entries
// are never modified). What marshal does not write goes through
// reflection, which accepts any encoding of the same values.
func unmarshalEnvelope(data []byte) (envelope, bool) {
	if e, ok := decodeEnvelope(data); ok {
		return e, e.Kind != 0
	}
	var e envelope
	if len(data) == 0 || msgpack.Unmarshal(data, &e) != nil || e.Kind == 0 {
		return envelope{}, false
	}
	return e, true
}

// decodeEnvelope reads marshal's layout (Data also as a str, which
// reflection reads the same way); ok is false for anything else.
func decodeEnvelope(b []byte) (e envelope, ok bool) {
	if len(b) < envelopeFixed+1 || b[0] != envelopeHeader || b[1] != codeUint8 {
		return envelope{}, false
	}
	e.Kind = b[2]
	var vals [3]uint64
	for i := range vals {
		at := 3 + 9*i
		if b[at] != codeUint64 {
			return envelope{}, false
		}
		vals[i] = binary.BigEndian.Uint64(b[at+1:])
	}
	e.Origin, e.Incarnation, e.Seq = vals[0], vals[1], vals[2]
	rest := b[envelopeFixed:]
	if iproto.IsNil(rest) {
		return e, len(rest) == 1
	}
	// A bin, as marshal writes it (a str would decode the same way).
	data, tail, err := iproto.ReadBin(rest)
	if err != nil || len(tail) != 0 {
		return envelope{}, false
	}
	e.Data = data[:len(data):len(data)]
	return e, true
}

// ProcessCommand submits a command and answers once it is applied, with
// the state machine's reply and the leader's id (ra's process_command). A
// follower forwards it; with no leader known it is held until one is.
func (s *Server) ProcessCommand(req ReqID, cmd []byte) {
	if !s.begin(req) {
		return
	}
	if s.endOfLife != 0 {
		s.reply(req, nil, ErrClusterDeleted)
		return
	}
	s.propose(heldCommand{req: req, data: cmd, kind: kindCommand})
	s.drive()
}

// PipelineCommand submits a command without waiting (ra's
// pipeline_command). With a correlation, its reply comes in a batched Applied
// notification; on a server that is not the leader it is Rejected with the
// leader to resend to. Low priority commands are held and appended in
// batches.
func (s *Server) PipelineCommand(corr Correlation, cmd []byte, prio Priority) {
	if s.terminated {
		return
	}
	if !s.isLeader() || s.endOfLife != 0 {
		s.emit(Rejected{Leader: s.lead, Corr: corr})
		return
	}
	c := heldCommand{corr: corr, data: cmd, kind: kindCommand}
	if prio == Low {
		s.low = append(s.low, c)
		if len(s.low) >= s.cfg.LowPriorityBatch {
			s.flushLow()
		}
	} else {
		s.propose(c)
	}
	s.drive()
}

// flushLow appends the held low-priority commands as one batch.
func (s *Server) flushLow() {
	if len(s.low) == 0 {
		return
	}
	batch := s.low
	s.low = nil
	data := make([][]byte, len(batch))
	seqs := make([]uint64, len(batch))
	for i := range batch {
		e := s.envelopeFor(batch[i])
		data[i], seqs[i] = e.marshal(), e.Seq
	}
	if _, _, err := s.node.Propose(data...); err != nil {
		for i, c := range batch {
			s.forget(seqs[i])
			s.emit(Rejected{Leader: s.lead, Corr: c.corr})
		}
	}
}

func (s *Server) envelopeFor(c heldCommand) *envelope {
	s.seq++
	e := &envelope{Kind: c.kind, Origin: s.id, Incarnation: s.incarnation, Seq: s.seq, Data: c.data}
	if c.req != 0 {
		s.commands[s.seq] = c.req
	}
	if c.corr != 0 {
		s.correlations[s.seq] = c.corr
	}
	return e
}

// forget drops the bookkeeping of an envelope that was never appended.
func (s *Server) forget(seq uint64) {
	delete(s.commands, seq)
	delete(s.correlations, seq)
}

// propose appends (or forwards) one command, or holds it until a leader is
// known.
func (s *Server) propose(c heldCommand) {
	if s.lead == raft.None {
		s.held = append(s.held, c)
		return
	}
	e := s.envelopeFor(c)
	idx, _, err := s.node.Propose(e.marshal())
	if err != nil {
		s.forget(e.Seq)
		if c.req != 0 {
			s.reply(c.req, nil, err)
		} else {
			s.emit(Rejected{Leader: s.lead, Corr: c.corr})
		}
		return
	}
	if idx != 0 && c.req != 0 {
		s.proposedAt[idx] = e.Seq
	}
}

// ProposeHere appends a command on this server, which must be the leader,
// and returns the index and term it was appended at; the reply to req comes
// once it is applied — or ErrProposalDropped once another entry is applied
// at that index. The caller may check the log and append in one step (a
// compare-and-swap).
func (s *Server) ProposeHere(req ReqID, cmd []byte) (index, term uint64, err error) {
	switch {
	case s.terminated:
		return 0, 0, ErrTerminated
	case !s.isLeader():
		return 0, 0, s.notLeader()
	case s.endOfLife != 0:
		return 0, 0, ErrClusterDeleted
	}
	if err := s.wait(req); err != nil {
		return 0, 0, err
	}
	e := s.envelopeFor(heldCommand{req: req, data: cmd, kind: kindCommand})
	index, term, err = s.node.Propose(e.marshal())
	if err != nil {
		s.forget(e.Seq)
		delete(s.waiting, req)
		return 0, 0, err
	}
	s.proposedAt[index] = e.Seq
	s.drive()
	return index, term, nil
}

// CommandData returns the command an entry carries, if it carries one.
func CommandData(e raft.Entry) ([]byte, bool) {
	if e.Type != raft.EntryNormal {
		return nil, false
	}
	env, ok := unmarshalEnvelope(e.Data)
	if !ok || env.Kind != kindCommand {
		return nil, false
	}
	return env.Data, true
}

// applyEntries hands committed commands to the state machine in batches and
// answers the callers of those proposed here.
func (s *Server) applyEntries(ents []raft.Entry) {
	var cmds []Command
	var envs []envelope
	var terms []uint64
	flush := func() {
		if len(cmds) == 0 {
			return
		}
		replies := s.sm.Apply(cmds)
		if len(replies) != len(cmds) {
			panic(fmt.Sprintf("ra: state machine returned %d replies for %d commands", len(replies), len(cmds)))
		}
		var applied []CorrelatedReply
		for i, e := range envs {
			if e.Origin != s.id || e.Incarnation != s.incarnation {
				continue
			}
			if req, ok := s.commands[e.Seq]; ok {
				delete(s.commands, e.Seq)
				s.replyCommand(req, replies[i], cmds[i].Index, terms[i])
			}
			if corr, ok := s.correlations[e.Seq]; ok {
				delete(s.correlations, e.Seq)
				applied = append(applied, CorrelatedReply{Corr: corr, Reply: replies[i]})
			}
		}
		if len(applied) > 0 {
			s.emit(Applied{Leader: s.lead, Results: applied})
		}
		cmds, envs, terms = nil, nil, nil
	}
	for _, ent := range ents {
		s.bytesSinceSnapshot += uint64(len(ent.Data))
		e, ok := unmarshalEnvelope(ent.Data)
		s.droppedAt(ent.Index, e, ok && ent.Type == raft.EntryNormal)
		if ent.Type != raft.EntryNormal || !ok {
			continue // a conf change, the leader's empty entry: no command
		}
		if s.endOfLife != 0 {
			// Nothing applies after the end of life.
			s.refuseAfterEndOfLife(e)
			continue
		}
		switch e.Kind {
		case kindCommand:
			cmds = append(cmds, Command{Index: ent.Index, Data: e.Data})
			envs = append(envs, e)
			terms = append(terms, ent.Term)
		case kindEndOfLife:
			flush()
			s.endOfLifeApplied(ent.Index, e)
		}
	}
	flush()
}

// droppedAt answers a command this server appended at index when a different
// entry is applied there instead: it was definitely not applied.
func (s *Server) droppedAt(index uint64, e envelope, isEnvelope bool) {
	seq, ok := s.proposedAt[index]
	if !ok {
		return
	}
	delete(s.proposedAt, index)
	if isEnvelope && e.Origin == s.id && e.Incarnation == s.incarnation && e.Seq == seq {
		return // it is ours
	}
	if req, ok := s.commands[seq]; ok {
		delete(s.commands, seq)
		s.reply(req, nil, ErrProposalDropped)
	}
}

// replyCommand answers a command with where it was applied.
func (s *Server) replyCommand(req ReqID, result any, index, term uint64) {
	if _, ok := s.waiting[req]; !ok {
		return
	}
	delete(s.waiting, req)
	s.emit(Reply{Req: req, Result: result, Leader: s.lead, Index: index, Term: term})
}

func (s *Server) refuseAfterEndOfLife(e envelope) {
	if e.Origin != s.id || e.Incarnation != s.incarnation {
		return
	}
	if req, ok := s.commands[e.Seq]; ok {
		delete(s.commands, e.Seq)
		s.reply(req, nil, ErrClusterDeleted)
	}
	if corr, ok := s.correlations[e.Seq]; ok {
		delete(s.correlations, e.Seq)
		s.emit(Rejected{Leader: s.lead, Corr: corr})
	}
}

// DeleteCluster commits an end-of-life entry: every member stops and deletes
// its data once it applies it; the leader last, once every member has it
// (ra's delete_cluster). The reply comes when the leader applies it.
func (s *Server) DeleteCluster(req ReqID) {
	if !s.begin(req) {
		return
	}
	switch {
	case !s.isLeader():
		s.reply(req, nil, s.notLeader())
		return
	case s.endOfLife != 0 || s.endOfLifeAsks:
		s.reply(req, nil, ErrClusterDeleted)
		return
	}
	s.endOfLifeAsks = true
	s.propose(heldCommand{req: req, kind: kindEndOfLife})
	s.drive()
}

func (s *Server) endOfLifeApplied(index uint64, e envelope) {
	s.endOfLife = index
	if e.Origin == s.id && e.Incarnation == s.incarnation {
		if req, ok := s.commands[e.Seq]; ok {
			delete(s.commands, e.Seq)
			s.endOfLifeReq = req
			s.reply(req, "ok", nil)
		}
	}
	if !s.isLeader() {
		s.terminate(true, "cluster deleted")
	}
}

// maybeFinishEndOfLife: the leader stops once every member holds the
// end-of-life entry.
func (s *Server) maybeFinishEndOfLife() {
	if s.terminated || s.endOfLife == 0 {
		return
	}
	if !s.isLeader() {
		s.terminate(true, "cluster deleted")
		return
	}
	for _, pr := range s.node.Status().Progress {
		if pr.Match < s.endOfLife {
			return
		}
	}
	s.terminate(true, "cluster deleted")
}

package raft

import (
	"fmt"
	"slices"
)

// What a node refuses from the network. A message no correct peer could
// send is rejected with an error before it can touch the node's state: no
// input, however malformed, makes a node panic or corrupt its log.

func validateMessage(m Message, self uint64) error {
	switch {
	case m.Type >= msgTypeCount:
		return fmt.Errorf("raft: unknown message type %d", m.Type)
	case m.Type.isLocal():
		return ErrStepLocalMsg
	case m.To != self:
		return fmt.Errorf("raft: message for node %d delivered to node %d", m.To, self)
	case m.From == None || m.From == self:
		return fmt.Errorf("raft: message with bad sender %d", m.From)
	case m.Term == 0:
		return fmt.Errorf("raft: %s from %d without a term", m.Type, m.From)
	}
	for i := range m.Entries {
		if m.Entries[i].Type > EntryConfChange {
			return fmt.Errorf("raft: %s from %d carries an entry of unknown type %d", m.Type, m.From, m.Entries[i].Type)
		}
	}
	switch m.Type {
	case MsgProp:
		if len(m.Entries) == 0 {
			return fmt.Errorf("raft: empty proposal from %d", m.From)
		}
	case MsgApp:
		if err := validateAppend(m); err != nil {
			return fmt.Errorf("raft: MsgApp from %d: %w", m.From, err)
		}
	case MsgSnap:
		if err := validateSnapshot(m); err != nil {
			return fmt.Errorf("raft: MsgSnap from %d: %w", m.From, err)
		}
	}
	return nil
}

// validateAppend: entries numbered on from Index+1, with terms that never
// decrease, start no lower than LogTerm and never exceed the sender's term —
// the shape of any correct leader's log.
func validateAppend(m Message) error {
	if m.LogTerm > m.Term {
		return fmt.Errorf("previous entry's term %d above the leader's term %d", m.LogTerm, m.Term)
	}
	prevTerm := m.LogTerm
	for i, e := range m.Entries {
		switch {
		case e.Index != m.Index+1+uint64(i):
			return fmt.Errorf("entries[%d] has index %d, want %d", i, e.Index, m.Index+1+uint64(i))
		case e.Term == 0 || e.Term < prevTerm || e.Term > m.Term:
			return fmt.Errorf("entry %d has term %d (previous %d, the leader's %d)", e.Index, e.Term, prevTerm, m.Term)
		}
		prevTerm = e.Term
	}
	return nil
}

func validateSnapshot(m Message) error {
	s := m.Snapshot
	switch {
	case s == nil:
		return fmt.Errorf("no snapshot")
	case s.Meta.Index == 0 || s.Meta.Term == 0 || s.Meta.Term > m.Term:
		return fmt.Errorf("snapshot %d/%d from a leader of term %d", s.Meta.Term, s.Meta.Index, m.Term)
	}
	return validateConfState(s.Meta.ConfState)
}

// validateConfState: sorted id lists without 0 or repeats, at least one
// incoming voter, no node both voter and learner, demoted voters among the
// outgoing ones, automatic leave only for a joint configuration.
func validateConfState(cs ConfState) error {
	for _, l := range []struct {
		name string
		ids  []uint64
	}{{"voters", cs.Voters}, {"outgoing voters", cs.VotersOutgoing}, {"learners", cs.Learners}, {"next learners", cs.LearnersNext}} {
		for i, id := range l.ids {
			if id == None || (i > 0 && l.ids[i-1] >= id) {
				return fmt.Errorf("%s %v are not sorted distinct non-zero ids", l.name, l.ids)
			}
		}
	}
	if len(cs.Voters) == 0 {
		return fmt.Errorf("configuration without voters")
	}
	for _, id := range sortedUnion(cs.Learners, cs.LearnersNext) {
		if slices.Contains(cs.Voters, id) {
			return fmt.Errorf("node %d is both voter and learner", id)
		}
	}
	for _, id := range cs.Learners {
		if slices.Contains(cs.VotersOutgoing, id) || slices.Contains(cs.LearnersNext, id) {
			return fmt.Errorf("learner %d is also an outgoing voter or next learner", id)
		}
	}
	for _, id := range cs.LearnersNext {
		if !slices.Contains(cs.VotersOutgoing, id) {
			return fmt.Errorf("next learner %d is not an outgoing voter", id)
		}
	}
	if cs.AutoLeave && !cs.Joint() {
		return fmt.Errorf("automatic leave outside a joint configuration")
	}
	return nil
}

// validateState checks what the driver restored from disk: a disk that does
// not hold a consistent log is refused at start, not discovered later.
func validateState(st State) error {
	last := st.Snapshot.Index + uint64(len(st.Entries))
	if st.HardState.Commit > last {
		return fmt.Errorf("raft: restored commit %d beyond the restored log (last %d)", st.HardState.Commit, last)
	}
	if st.Snapshot.Index > 0 {
		if err := validateConfState(st.Snapshot.ConfState); err != nil {
			return fmt.Errorf("raft: restored snapshot: %w", err)
		}
	}
	prevTerm := st.Snapshot.Term
	for i, e := range st.Entries {
		switch {
		case e.Index != st.Snapshot.Index+1+uint64(i):
			return fmt.Errorf("raft: restored entry %d has index %d, want %d", i, e.Index, st.Snapshot.Index+1+uint64(i))
		case e.Term < prevTerm || e.Term > st.HardState.Term:
			return fmt.Errorf("raft: restored entry %d has term %d (previous %d, hard state %d)", e.Index, e.Term, prevTerm, st.HardState.Term)
		}
		prevTerm = e.Term
	}
	return nil
}

package node

import (
	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/tables"
)

// proposeOp appends op on this leader, checked like a CaS whose predicate is
// the state the caller decided on — the tables as applied at readAt: any
// entry after readAt — committed or not, applied since or not — that writes
// into ranges or into the keys op writes is a conflict (the caller decides
// again). The answer comes once the entry is applied: then turns it into
// return values.
func (m *casModule) proposeOp(op tables.Op, ranges []tables.Range, readAt uint64, kind string, respond responder,
	then func(ra.Reply) ([]any, *api.Error)) {
	keys, err := m.scanConflicts(readAt, ranges, op, false)
	if err != nil {
		respond(nil, err)
		return
	}
	req := m.await(respond, kind, func(rep ra.Reply) ([]any, *api.Error) {
		if res, _ := rep.Result.(tables.Result); res.Err != nil {
			return nil, &api.Error{Code: res.Err.Code, Message: res.Err.Message}
		}
		return then(rep)
	})
	m.propose(req, op.Encode(), keys, kind)
}

// propose appends data, the encoding of an op, on this leader for the
// waiting request req, and remembers keys, the keys the op writes (as
// scanConflicts found them), for the new entry. A refusal answers req at
// once.
func (m *casModule) propose(req ra.ReqID, data []byte, keys []tables.KeyRef, kind string) {
	index, term, err := m.ra.ProposeHere(req, data)
	if err != nil {
		m.stats.ProposalsRefused++
		w := m.waiting[req]
		delete(m.waiting, req)
		w.respond(nil, m.raError(err, kind))
		return
	}
	m.stats.Proposals++
	m.written.remember(index, term, m.tables.SchemaVersion(), keys)
}

// scanConflicts looks for an entry after index that writes into ranges or
// into op's own keys, which it returns; committedOnly is the mutant that
// skips the rest.
func (m *casModule) scanConflicts(index uint64, ranges []tables.Range, op tables.Op, committedOnly bool) ([]tables.KeyRef, *api.Error) {
	implicit, e := m.tables.OpKeys(op)
	if e != nil {
		return nil, &api.Error{Code: e.Code, Message: e.Message}
	}
	prev, ents := m.ra.Log()
	if index < prev {
		return nil, api.Errorf(api.CodeCompacted, "Compacted: raft index %d is compacted at %d", index, prev)
	}
	last := prev + uint64(len(ents))
	if committedOnly {
		last = min(last, m.ra.BasicStatus().Commit)
	}
	schema := m.tables.SchemaVersion()
	for i := max(index, prev) + 1; i <= last; i++ {
		conflict, err := m.conflicts(ents[i-prev-1], schema, ranges, implicit)
		if err != nil {
			return nil, api.Errorf(api.CodeKeyTypeMismatch, "KeyTypeMismatch: failed comparing predicate ranges: %v", err)
		}
		if conflict {
			return nil, api.Errorf(api.CodeConflictFound, "ConflictFound: found a conflicting entry at index %d", i)
		}
	}
	return implicit, nil
}

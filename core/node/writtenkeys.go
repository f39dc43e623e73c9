package node

import (
	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/tables"
)

// writtenKeysSlots bounds the cache: a CaS's predicate is rarely more than
// a few hundred entries behind the log's end.
const writtenKeysSlots = 4096

// writtenKeys remembers, per log entry, the keys its operation writes.
// Every CaS scans the entries after its predicate index for conflicts;
// decoding each of them again, for each CaS, was half of a loaded leader's
// CPU (docs/BENCHMARKS.md). A slot holds one entry, found by index modulo
// the size and checked by index, term and the schema version the keys
// were computed under (a DDL may change which key an operation writes).
type writtenKeys struct {
	// slots are made at the first remember: only a leader's CaS fills
	// them, and most instances of a cluster (and of a simulated world,
	// which starts many) never lead.
	slots []writtenKeysSlot
}

type writtenKeysSlot struct {
	index, term, schema uint64
	keys                []tables.KeyRef
}

func (c *writtenKeys) slot(index uint64) *writtenKeysSlot { return &c.slots[index%writtenKeysSlots] }

// remember records the keys of the entry at (index, term).
func (c *writtenKeys) remember(index, term, schema uint64, keys []tables.KeyRef) {
	if index == 0 {
		return
	}
	if c.slots == nil {
		c.slots = make([]writtenKeysSlot, writtenKeysSlots)
	}
	*c.slot(index) = writtenKeysSlot{index: index, term: term, schema: schema, keys: keys}
}

// lookup returns the keys of the entry at (index, term), if remembered.
func (c *writtenKeys) lookup(index, term, schema uint64) ([]tables.KeyRef, bool) {
	if c.slots == nil {
		return nil, false
	}
	s := c.slot(index)
	if s.index != index || s.term != term || s.schema != schema || index == 0 {
		return nil, false
	}
	return s.keys, true
}

// entryKeys is the keys entry e writes: none for an entry that is not a
// command or whose operation does not decode or check (it applies as a
// failed no-op).
func (m *casModule) entryKeys(e raft.Entry, schema uint64) []tables.KeyRef {
	if keys, ok := m.written.lookup(e.Index, e.Term, schema); ok {
		return keys
	}
	var keys []tables.KeyRef
	if data, ok := ra.CommandData(e); ok {
		if op, err := tables.DecodeOp(data); err == nil {
			keys, _ = m.tables.OpKeys(op)
		}
	}
	m.written.remember(e.Index, e.Term, schema, keys)
	return keys
}

package storage

import "github.com/picogo/picogo/core/tuple"

// Memory is what a table occupies, estimated from sizes alone so that every
// instance with the same rows reports the same numbers.
type Memory struct {
	Table uint32
	Name  string
	Rows  int
	// TupleBytes is the tuples' msgpack size plus a fixed per-tuple
	// overhead for their decoded values (tupleOverhead).
	TupleBytes int64
	// IndexBytes estimates the index trees: per entry and index, the
	// entry itself (entryBytes) and a word per key part.
	IndexBytes int64
}

// Total is TupleBytes + IndexBytes.
func (m Memory) Total() int64 { return m.TupleBytes + m.IndexBytes }

// Size estimates, in bytes. They are constants, not measurements, so that
// the report is deterministic.
const (
	tupleOverhead = 48 // a Tuple's two slice headers
	entryBytes    = 80 // an entry (key slice, tuple, bound) and its share of a tree node
	keyPartBytes  = 16 // an interface value per key part
)

// Memory reports a table's memory.
func (e *Engine) Memory(table uint32) (Memory, *tuple.Error) {
	s, err := e.space(table)
	if err != nil {
		return Memory{}, err
	}
	rows := s.pk().tree.Len()
	m := Memory{Table: table, Name: s.def.Name, Rows: rows,
		TupleBytes: s.bytes + int64(rows)*tupleOverhead}
	for i, x := range s.indexes {
		parts := len(x.parts)
		if i > 0 {
			parts += len(s.pk().parts)
		}
		m.IndexBytes += int64(rows) * (entryBytes + int64(parts)*keyPartBytes)
	}
	return m, nil
}

// MemoryAll reports every table's memory, in table id order.
func (e *Engine) MemoryAll() []Memory {
	ids := e.Tables()
	out := make([]Memory, len(ids))
	for i, id := range ids {
		out[i], _ = e.Memory(id)
	}
	return out
}

package replication

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/picogo/picogo/core/vclock"
)

// The encodings of this package: the records of the local log, the state
// of a checkpoint or a full copy, and the messages between members. All
// are hand-written uvarint framings, so that the same state gives the same
// bytes (a vclock is written in id order).

// Kinds of local log record (the first byte of a record's payload).
const (
	recData   byte = 'D' // an entry: origin, lsn, schema version, change
	recSchema byte = 'S' // a DDL applied: version, change
	recCopy   byte = 'M' // a full copy's marker: the whole state it installed
	recStale  byte = 'X' // this member learned it diverged from its master
	recAdopt  byte = 'A' // a failover promoted this member as it was: no longer stale
	recDefer  byte = 'P' // a DDL deferred: version, change (applied later, then logged as S)
)

var errShort = errors.New("replication: truncated encoding")

type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.err = errShort
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// bytes returns a length-prefixed slice (sharing r's memory).
func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errShort
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) vclock() vclock.VClock {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errShort
		return nil
	}
	v := vclock.VClock{}
	for range n {
		id, lsn := r.uvarint(), r.uvarint()
		if lsn > 0 {
			v[id] = lsn
		}
	}
	return v
}

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func appendVClock(b []byte, v vclock.VClock) []byte {
	ids := v.IDs()
	b = binary.AppendUvarint(b, uint64(len(ids)))
	for _, id := range ids {
		b = binary.AppendUvarint(b, id)
		b = binary.AppendUvarint(b, v[id])
	}
	return b
}

// entry is one row change of the replicaset's log: made by origin as its
// lsn-th, when the master's schema version was schema.
type entry struct {
	origin, lsn, schema uint64
	change              []byte // encodeChange
}

// encodeEntry is an entry as it travels and as a data record holds it
// (after the record's kind byte).
func encodeEntry(e entry) []byte {
	b := make([]byte, 0, 24+len(e.change))
	b = binary.AppendUvarint(b, e.origin)
	b = binary.AppendUvarint(b, e.lsn)
	b = binary.AppendUvarint(b, e.schema)
	return append(b, e.change...)
}

func decodeEntry(b []byte) (entry, error) {
	r := reader{b: b}
	e := entry{origin: r.uvarint(), lsn: r.uvarint(), schema: r.uvarint()}
	e.change = r.b
	if r.err == nil && (e.origin == 0 || e.lsn == 0) {
		r.err = fmt.Errorf("replication: an entry with origin %d and lsn %d", e.origin, e.lsn)
	}
	return e, r.err
}

// state is what a checkpoint and a full copy hold: the engine, the vclock
// it reflects, the last DDL version applied to it, and whether the member
// knew itself diverged.
type state struct {
	vc      vclock.VClock
	schema  uint64
	stale   bool
	pending []pendingDDL // DDL deferred (a checkpoint's; a copy has none)
	engine  []byte       // storage.Engine.Snapshot
}

func encodeState(s state) []byte {
	b := appendVClock(nil, s.vc)
	b = binary.AppendUvarint(b, s.schema)
	st := byte(0)
	if s.stale {
		st = 1
	}
	b = append(b, st)
	b = binary.AppendUvarint(b, uint64(len(s.pending)))
	for _, d := range s.pending {
		b = binary.AppendUvarint(b, d.version)
		b = appendBytes(b, marshalSorted(d.ch))
	}
	return append(b, s.engine...)
}

func decodeState(b []byte) (state, error) {
	r := reader{b: b}
	s := state{vc: r.vclock(), schema: r.uvarint(), stale: r.byte() == 1}
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		return s, errShort
	}
	for range n {
		d := pendingDDL{version: r.uvarint()}
		raw := r.bytes()
		if r.err != nil {
			return s, r.err
		}
		if err := msgpack.Unmarshal(raw, &d.ch); err != nil {
			return s, err
		}
		s.pending = append(s.pending, d)
	}
	s.engine = r.b
	return s, r.err
}

// encodeSchemaRecord (kind recSchema or recDefer): version, then the
// change (msgpack, sorted keys).
func encodeSchemaRecord(kind byte, version uint64, ch SchemaChange) []byte {
	b := []byte{kind}
	b = binary.AppendUvarint(b, version)
	return append(b, marshalSorted(ch)...)
}

func decodeSchemaRecord(b []byte) (uint64, SchemaChange, error) {
	r := reader{b: b}
	v := r.uvarint()
	var ch SchemaChange
	if r.err != nil {
		return 0, ch, r.err
	}
	err := msgpack.Unmarshal(r.b, &ch)
	return v, ch, err
}

// Messages. A shipment (Ship.Payload, master → replica) is one of:
const (
	msgProbe   byte = 'P' // seq, master vclock, master schema
	msgEntries byte = 'E' // ..., sig of the first entry, entries
	msgCopy    byte = 'C' // ..., copy id, diverged, offset, total, chunk
)

// An answer (Answer.Payload, replica → master) is: seq, status, the
// replica's durable vclock, and for statusCopying the copy id and the next
// offset it expects.
const (
	statusOK        byte = 'O' // positioned at the vclock: go on from there
	statusSchema    byte = 'W' // waits for a schema version: resend later
	statusNotMaster byte = 'N' // the sender is not this member's master: try later
	statusDiverged  byte = 'D' // this member's data diverged: it needs a full copy
	statusCopying   byte = 'C' // a copy chunk was taken (or refused): go on from offset
)

type message struct {
	kind     byte
	seq      uint64
	vc       vclock.VClock // the master's applied vclock
	schema   uint64        // the last DDL version the master applied
	first    uint64        // msgEntries: sig of the first entry
	entries  [][]byte      // msgEntries: encodeEntry each
	copyID   uint64        // msgCopy
	diverged bool          // msgCopy: the replica diverged (it turns Stale)
	offset   uint64        // msgCopy
	total    uint64        // msgCopy
	chunk    []byte        // msgCopy
}

func encodeMessage(m message) []byte {
	b := []byte{m.kind}
	b = binary.AppendUvarint(b, m.seq)
	b = appendVClock(b, m.vc)
	b = binary.AppendUvarint(b, m.schema)
	switch m.kind {
	case msgEntries:
		b = binary.AppendUvarint(b, m.first)
		b = binary.AppendUvarint(b, uint64(len(m.entries)))
		for _, e := range m.entries {
			b = appendBytes(b, e)
		}
	case msgCopy:
		b = binary.AppendUvarint(b, m.copyID)
		d := byte(0)
		if m.diverged {
			d = 1
		}
		b = append(b, d)
		b = binary.AppendUvarint(b, m.offset)
		b = binary.AppendUvarint(b, m.total)
		b = appendBytes(b, m.chunk)
	}
	return b
}

func decodeMessage(b []byte) (message, error) {
	r := reader{b: b}
	m := message{kind: r.byte(), seq: r.uvarint(), vc: r.vclock()}
	m.schema = r.uvarint()
	switch m.kind {
	case msgProbe:
	case msgEntries:
		m.first = r.uvarint()
		n := r.uvarint()
		if n > uint64(len(r.b)) {
			return m, errShort
		}
		for range n {
			m.entries = append(m.entries, r.bytes())
		}
	case msgCopy:
		m.copyID = r.uvarint()
		m.diverged = r.byte() == 1
		m.offset, m.total = r.uvarint(), r.uvarint()
		m.chunk = r.bytes()
	default:
		if r.err == nil {
			r.err = fmt.Errorf("replication: unknown message kind %q", m.kind)
		}
	}
	return m, r.err
}

type answer struct {
	seq    uint64
	status byte
	vc     vclock.VClock // the replica's durable vclock
	copyID uint64        // statusCopying
	next   uint64        // statusCopying: the offset it expects
}

func encodeAnswer(a answer) []byte {
	b := binary.AppendUvarint(nil, a.seq)
	b = append(b, a.status)
	b = appendVClock(b, a.vc)
	if a.status == statusCopying {
		b = binary.AppendUvarint(b, a.copyID)
		b = binary.AppendUvarint(b, a.next)
	}
	return b
}

func decodeAnswer(b []byte) (answer, error) {
	r := reader{b: b}
	a := answer{seq: r.uvarint(), status: r.byte(), vc: r.vclock()}
	if a.status == statusCopying {
		a.copyID, a.next = r.uvarint(), r.uvarint()
	}
	return a, r.err
}

// marshalSorted is msgpack with map keys sorted: deterministic bytes.
func marshalSorted(v any) []byte {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.SetSortMapKeys(true)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("replication: %T does not encode: %v", v, err))
	}
	return buf.Bytes()
}

package proc

import (
	"bytes"
	"fmt"
	"math"

	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/net/iproto"
	"github.com/vmihailenco/msgpack/v5"
)

// Raft messages travel in `.proc_raft_interact` as msgpack arrays of their
// fields, in raft.Message's order, entries as arrays too (raft.Message's
// tags say so, and TestMessageWireShape holds it). They are most of what a
// busy cluster sends, so they are encoded and decoded here field by field
// rather than by msgpack's reflection, which cost about an eighth of a
// loaded leader's CPU (docs/BENCHMARKS.md). Either side reads what the
// other writes (TestRaftWireMatchesReflection). Snapshot metadata, rare,
// still goes through reflection.

const (
	messageFields = 16
	entryFields   = 4
)

// wireMessages encodes as the `raft_messages` argument.
type wireMessages []raft.Message

// EncodeMsgpack implements msgpack.CustomEncoder.
func (ms wireMessages) EncodeMsgpack(enc *msgpack.Encoder) error {
	b, err := appendMessages(make([]byte, 0, wireSize(ms)), ms)
	if err != nil {
		return err
	}
	_, err = enc.Writer().Write(b)
	return err
}

// wireSize is about the bytes ms take encoded: at most what the fields
// need in their widest forms, so that one allocation holds them.
func wireSize(ms []raft.Message) int {
	n := 5
	for i := range ms {
		n += 2 + 14*9 + 5 + 5 + len(ms[i].Context) + 5
		for j := range ms[i].Entries {
			n += 1 + 3*9 + 5 + len(ms[i].Entries[j].Data)
		}
	}
	return n
}

func appendMessages(b []byte, ms []raft.Message) ([]byte, error) {
	b = iproto.AppendArrayLen(b, len(ms))
	for i := range ms {
		var err error
		if b, err = appendMessage(b, &ms[i]); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func appendMessage(b []byte, m *raft.Message) ([]byte, error) {
	b = iproto.AppendArrayLen(b, messageFields)
	b = iproto.AppendUint(b, uint64(m.Type))
	b = iproto.AppendUint(b, m.To)
	b = iproto.AppendUint(b, m.From)
	b = iproto.AppendUint(b, m.Term)
	b = iproto.AppendUint(b, m.LogTerm)
	b = iproto.AppendUint(b, m.Index)
	if m.Entries == nil {
		b = iproto.AppendNil(b)
	} else {
		b = iproto.AppendArrayLen(b, len(m.Entries))
		for i := range m.Entries {
			e := &m.Entries[i]
			b = iproto.AppendArrayLen(b, entryFields)
			b = iproto.AppendUint(b, e.Term)
			b = iproto.AppendUint(b, e.Index)
			b = iproto.AppendUint(b, uint64(e.Type))
			b = iproto.AppendBin(b, e.Data)
		}
	}
	b = iproto.AppendUint(b, m.Commit)
	b = iproto.AppendUint(b, m.Match)
	b = iproto.AppendUint(b, m.Round)
	if m.Snapshot == nil {
		b = iproto.AppendNil(b)
	} else {
		s, err := msgpack.Marshal(m.Snapshot)
		if err != nil {
			return nil, fmt.Errorf("snapshot of a %s: %w", m.Type, err)
		}
		b = append(b, s...)
	}
	b = iproto.AppendBool(b, m.Reject)
	b = iproto.AppendUint(b, m.RejectHint)
	b = iproto.AppendBool(b, m.Reverted)
	b = iproto.AppendBool(b, m.Transfer)
	return iproto.AppendBin(b, m.Context), nil
}

// decodeMessages reads a `raft_messages` argument. The caller has checked
// that b is well-formed msgpack (iproto.CheckValue), so counts are backed by
// bytes.
func decodeMessages(b []byte) ([]raft.Message, error) {
	if iproto.IsNil(b) {
		return nil, nil
	}
	n, b, err := iproto.ReadArrayLen(b)
	if err != nil {
		return nil, err
	}
	if n > uint64(len(b)) {
		return nil, fmt.Errorf("%d messages in %d bytes", n, len(b))
	}
	ms := make([]raft.Message, n)
	for i := range ms {
		if b, err = decodeMessage(b, &ms[i]); err != nil {
			return nil, fmt.Errorf("message %d: %w", i+1, err)
		}
	}
	if len(b) > 0 {
		return nil, fmt.Errorf("%d bytes after the messages", len(b))
	}
	return ms, nil
}

// wireReader reads the fields of one array in order, keeping the first
// error.
type wireReader struct {
	b     []byte
	err   error
	field string
}

func (r *wireReader) fail(field string, err error) {
	if r.err == nil {
		r.err, r.field = err, field
	}
}

// readField reads the next field with read, unless an earlier field
// failed; on an error it keeps the bytes where they are.
func readField[T any](r *wireReader, field string, read func([]byte) (T, []byte, error)) T {
	var zero T
	if r.err != nil {
		return zero
	}
	v, rest, err := read(r.b)
	if err != nil {
		r.fail(field, err)
		return zero
	}
	r.b = rest
	return v
}

func (r *wireReader) uint(field string) uint64 { return readField(r, field, iproto.ReadUint) }

func (r *wireReader) bool(field string) bool { return readField(r, field, iproto.ReadBool) }

func (r *wireReader) uint8(field string) uint8 {
	v := r.uint(field)
	if v > math.MaxUint8 {
		r.fail(field, fmt.Errorf("%d out of range", v))
	}
	return uint8(v)
}

// bin reads a bin (or str) into a copy, or nil. The copies of one
// message's entries share one allocation (data), made by the caller.
func (r *wireReader) bin(field string, data *[]byte) []byte {
	if r.err != nil {
		return nil
	}
	if iproto.IsNil(r.b) {
		r.b = r.b[1:]
		return nil
	}
	v := readField(r, field, iproto.ReadBin)
	if r.err != nil {
		return nil
	}
	if data == nil {
		return bytes.Clone(v)
	}
	start := len(*data)
	*data = append(*data, v...)
	return (*data)[start:len(*data):len(*data)]
}

// arrayLen reads an array header of exactly want elements, or of any
// count when want is 0; ok is false for nil.
func (r *wireReader) arrayLen(field string, want uint64) (n uint64, ok bool) {
	if r.err != nil {
		return 0, false
	}
	if want == 0 && iproto.IsNil(r.b) {
		r.b = r.b[1:]
		return 0, false
	}
	n, rest, err := iproto.ReadArrayLen(r.b)
	switch {
	case err != nil:
		r.fail(field, err)
		return 0, false
	case want != 0 && n != want:
		r.fail(field, fmt.Errorf("an array of %d fields, not %d", n, want))
		return 0, false
	case n > uint64(len(rest)):
		r.fail(field, fmt.Errorf("%d elements in %d bytes", n, len(rest)))
		return 0, false
	}
	r.b = rest
	return n, true
}

func (r *wireReader) error() error {
	if r.err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", r.field, r.err)
}

// entriesDataSize is the total size of the data of the n entries b starts
// with, or 0 if they are not well-formed (decoding then says why).
func entriesDataSize(b []byte, n uint64) int {
	size := 0
	for range n {
		r := &wireReader{b: b}
		r.arrayLen("entry", entryFields)
		r.uint("")
		r.uint("")
		r.uint("")
		if r.err != nil {
			return 0
		}
		if !iproto.IsNil(r.b) {
			v, _, err := iproto.ReadBin(r.b)
			if err != nil {
				return 0
			}
			size += len(v)
		}
		rest, err := iproto.SkipValue(r.b)
		if err != nil {
			return 0
		}
		b = rest
	}
	return size
}

func decodeMessage(b []byte, m *raft.Message) ([]byte, error) {
	r := &wireReader{b: b}
	r.arrayLen("message", messageFields)
	m.Type = raft.MessageType(r.uint8("type"))
	m.To = r.uint("to")
	m.From = r.uint("from")
	m.Term = r.uint("term")
	m.LogTerm = r.uint("log_term")
	m.Index = r.uint("index")
	if n, ok := r.arrayLen("entries", 0); ok {
		m.Entries = make([]raft.Entry, n)
		// The entries' data are at most the bytes left: one allocation
		// of that bound would pin a large frame; this is exact.
		data := make([]byte, 0, entriesDataSize(r.b, n))
		for i := range m.Entries {
			e := &m.Entries[i]
			r.arrayLen("entry", entryFields)
			e.Term = r.uint("entry term")
			e.Index = r.uint("entry index")
			e.Type = raft.EntryType(r.uint8("entry type"))
			e.Data = r.bin("entry data", &data)
		}
	}
	m.Commit = r.uint("commit")
	m.Match = r.uint("match")
	m.Round = r.uint("round")
	if r.err == nil {
		if iproto.IsNil(r.b) {
			r.b = r.b[1:]
		} else if rest, err := iproto.SkipValue(r.b); err != nil {
			r.fail("snapshot", err)
		} else {
			m.Snapshot = new(raft.Snapshot)
			if err := msgpack.Unmarshal(r.b[:len(r.b)-len(rest)], m.Snapshot); err != nil {
				r.fail("snapshot", err)
			}
			r.b = rest
		}
	}
	m.Reject = r.bool("reject")
	m.RejectHint = r.uint("reject_hint")
	m.Reverted = r.bool("reverted")
	m.Transfer = r.bool("transfer")
	m.Context = r.bin("context", nil)
	return r.b, r.error()
}

package simdisk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"

	"github.com/picogo/picogo/disk"
)

// The WAL is a sequence of records, each framed as
//
//	length  uint32, little-endian: the payload's length in bytes
//	crc     uint32, little-endian: CRC-32C (Castagnoli) of the payload
//	payload length bytes
//
// and each payload is
//
//	kind    byte: recBatch or recSnapshot
//	count   uvarint: the number of operations
//	count × operation:
//	  op     byte: disk.OpSet, disk.OpDelete or disk.OpDeleteRange
//	  key    uvarint length, then the bytes
//	  value  uvarint length, then the bytes (OpSet only)
//	  end    uvarint length, then the bytes (OpDeleteRange only; empty = no bound)
//
// A recBatch record is one committed disk.Batch, applied on top of what came
// before. A recSnapshot record, written by compaction, holds OpSet operations
// only and replaces the whole key space.
//
// A record is intact when its header is complete, its payload is all there,
// the checksum matches and the payload decodes exactly. Recovery applies
// intact records in order and stops at the first record that is not.
const headerLen = 8

// Record kinds: the first byte of a payload.
const (
	recBatch    byte = 1
	recSnapshot byte = 2
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var errBadPayload = errors.New("simdisk: malformed record payload")

// checkOps reports the first operation of ops that the WAL cannot hold.
func checkOps(ops []disk.Op) error {
	for i, op := range ops {
		switch op.Kind {
		case disk.OpSet, disk.OpDelete, disk.OpDeleteRange:
		default:
			return fmt.Errorf("simdisk: batch op %d has unknown kind %d", i, op.Kind)
		}
	}
	return nil
}

// beginRecord appends a header to be filled in by endRecord and the start of
// a payload of the given kind and operation count.
func beginRecord(dst []byte, kind byte, count int) []byte {
	dst = append(dst, make([]byte, headerLen)...)
	dst = append(dst, kind)
	return binary.AppendUvarint(dst, uint64(count))
}

// appendOp appends one operation to a payload. b is the value for OpSet and
// the end for OpDeleteRange, and unused for OpDelete.
func appendOp(dst []byte, kind disk.OpKind, key, b []byte) []byte {
	dst = append(dst, byte(kind))
	dst = binary.AppendUvarint(dst, uint64(len(key)))
	dst = append(dst, key...)
	if kind != disk.OpDelete {
		dst = binary.AppendUvarint(dst, uint64(len(b)))
		dst = append(dst, b...)
	}
	return dst
}

// endRecord fills in the header of the record that starts at dst[start:].
func endRecord(dst []byte, start int) ([]byte, error) {
	payload := dst[start+headerLen:]
	if uint64(len(payload)) > math.MaxUint32 {
		return dst[:start], fmt.Errorf("simdisk: record of %d bytes is too large", len(payload))
	}
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(dst[start+4:], crc32.Checksum(payload, castagnoli))
	return dst, nil
}

// appendBatchRecord appends a recBatch record holding ops, which checkOps has
// accepted.
func appendBatchRecord(dst []byte, ops []disk.Op) ([]byte, error) {
	start := len(dst)
	dst = beginRecord(dst, recBatch, len(ops))
	for _, op := range ops {
		b := op.Value
		if op.Kind == disk.OpDeleteRange {
			b = op.End
		}
		dst = appendOp(dst, op.Kind, op.Key, b)
	}
	return endRecord(dst, start)
}

// appendSnapshotRecord appends a recSnapshot record holding every key of ks.
func appendSnapshotRecord(dst []byte, ks *keyspace) ([]byte, error) {
	start := len(dst)
	dst = beginRecord(dst, recSnapshot, ks.len())
	for _, c := range ks.chunks {
		for _, e := range c {
			dst = appendOp(dst, disk.OpSet, e.key, e.value)
		}
	}
	return endRecord(dst, start)
}

// frameLen returns the length of the record framed at the start of b, as its
// header claims, capped at len(b). It does not check the record.
func frameLen(b []byte) int {
	if len(b) < headerLen {
		return len(b)
	}
	n := headerLen + uint64(binary.LittleEndian.Uint32(b))
	if n > uint64(len(b)) {
		return len(b)
	}
	return int(n)
}

// readRecord decodes the record at the start of b into its kind and
// operations (appended to ops[:0], their slices pointing into b) and returns
// its length. ok is false unless the record is intact.
func readRecord(b []byte, ops []disk.Op) (kind byte, _ []disk.Op, n int, ok bool) {
	if len(b) < headerLen {
		return 0, ops, 0, false
	}
	n = frameLen(b)
	length := binary.LittleEndian.Uint32(b)
	if uint64(n-headerLen) != uint64(length) {
		return 0, ops, 0, false // incomplete
	}
	payload := b[headerLen:n]
	if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(b[4:]) {
		return 0, ops, 0, false
	}
	kind, ops, err := decodePayload(payload, ops[:0])
	if err != nil {
		return 0, ops, 0, false
	}
	return kind, ops, n, true
}

// decodePayload parses a payload, accepting exactly what beginRecord and
// appendOp produce.
func decodePayload(p []byte, ops []disk.Op) (byte, []disk.Op, error) {
	if len(p) == 0 {
		return 0, ops, errBadPayload
	}
	kind := p[0]
	if kind != recBatch && kind != recSnapshot {
		return 0, ops, errBadPayload
	}
	p = p[1:]
	count, n := uvarint(p)
	// Every operation takes at least two bytes, which bounds count before
	// anything is allocated for it.
	if n <= 0 || count > uint64(len(p)-n)/2 {
		return 0, ops, errBadPayload
	}
	p = p[n:]
	bytesField := func() ([]byte, bool) {
		l, n := uvarint(p)
		if n <= 0 || l > uint64(len(p)-n) {
			return nil, false
		}
		b := p[n : n+int(l) : n+int(l)]
		p = p[n+int(l):]
		return b, true
	}
	for range count {
		if len(p) == 0 {
			return 0, ops, errBadPayload
		}
		op := disk.Op{Kind: disk.OpKind(p[0])}
		p = p[1:]
		switch op.Kind {
		case disk.OpSet, disk.OpDelete, disk.OpDeleteRange:
		default:
			return 0, ops, errBadPayload
		}
		if kind == recSnapshot && op.Kind != disk.OpSet {
			return 0, ops, errBadPayload
		}
		var ok bool
		if op.Key, ok = bytesField(); !ok {
			return 0, ops, errBadPayload
		}
		switch op.Kind {
		case disk.OpSet:
			op.Value, ok = bytesField()
		case disk.OpDeleteRange:
			op.End, ok = bytesField()
		}
		if !ok {
			return 0, ops, errBadPayload
		}
		ops = append(ops, op)
	}
	if len(p) != 0 {
		return 0, ops, errBadPayload
	}
	return kind, ops, nil
}

// uvarint is binary.Uvarint refusing overlong encodings (a last byte of zero
// after others), so that every payload has one spelling only.
func uvarint(b []byte) (uint64, int) {
	v, n := binary.Uvarint(b)
	if n > 1 && b[n-1] == 0 {
		return 0, 0
	}
	return v, n
}

// applyRecord applies a decoded record to ks.
func applyRecord(ks *keyspace, kind byte, ops []disk.Op) {
	if kind == recSnapshot {
		ks.chunks = nil
	}
	for _, op := range ops {
		switch op.Kind {
		case disk.OpSet:
			ks.set(op.Key, op.Value)
		case disk.OpDelete:
			ks.delete(op.Key)
		case disk.OpDeleteRange:
			ks.deleteRange(op.Key, op.End)
		}
	}
}

// Ways a write in flight can be torn; tearRecord picks one with its rand.
const (
	tearCut      = iota // only a prefix reached the disk
	tearFlip            // all of it reached the disk, with some bytes wrong
	tearCutFlip         // a prefix reached the disk, with some bytes wrong
	tearZeroTail        // the file grew by the whole record but its tail reads as zeros
	tearModes
)

// tearRecord returns a new slice holding what a power loss leaves of rec, the
// record that was being written, together with the way it was torn. The
// result is never an intact record: a torn write must be detected. A tear that
// happens to leave one anyway (flips that cancel out, a zero tail over zeros,
// or a checksum collision) is replaced by rec less its last byte, which can
// never be intact since its header claims one byte more than is there.
func tearRecord(rec []byte, r *rand.Rand) (torn []byte, mode int) {
	torn = bytes.Clone(rec)
	mode = r.IntN(tearModes)
	switch mode {
	case tearCut:
		torn = cut(torn, r)
	case tearFlip:
		flip(torn, r)
	case tearCutFlip:
		torn = cut(torn, r)
		flip(torn, r)
	case tearZeroTail:
		clear(torn[r.IntN(len(torn)):])
	}
	if _, _, _, ok := readRecord(torn, nil); ok {
		torn = bytes.Clone(rec[:len(rec)-1])
	}
	return torn, mode
}

// cut keeps a random non-empty strict prefix of b (all of b if it is one byte).
func cut(b []byte, r *rand.Rand) []byte {
	if len(b) <= 1 {
		return b
	}
	return b[:1+r.IntN(len(b)-1)]
}

// flip corrupts one to three random bytes of b in place.
func flip(b []byte, r *rand.Rand) {
	for range 1 + r.IntN(3) {
		b[r.IntN(len(b))] ^= byte(1 + r.IntN(255))
	}
}

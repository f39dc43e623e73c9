package wal

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
)

// Reader is the read side of the instance's store (a disk.Store is one).
type Reader interface {
	Get(key []byte) (value []byte, ok bool, err error)
	Scan(start, end []byte, fn func(key, value []byte) bool) error
}

// ErrCheckpointDamaged: the manifest names a checkpoint that is not all
// there or fails its checksums. A crash cannot cause it (the manifest is
// written with or after the checkpoint's last chunk, and a batch is
// atomic): it is damage to data that was durable. There is no older
// checkpoint to fall back on — completing a checkpoint deletes the previous
// one and the records it covered — so the instance cannot rebuild its data
// from its own disk and must get a full copy from its replicaset.
var ErrCheckpointDamaged = errors.New("wal: checkpoint damaged")

// Record is one record of the log.
type Record struct {
	LSN     uint64
	Payload []byte
}

// Recovered is what the store holds: the newest complete checkpoint and
// the records after it, contiguous from CheckpointLSN+1.
type Recovered struct {
	// CheckpointLSN is the LSN of the checkpoint (0: none).
	CheckpointLSN uint64
	// Checkpoint is its snapshot (nil when there is none; empty, not nil,
	// for an empty snapshot).
	Checkpoint []byte
	// Records follow the checkpoint in LSN order, without a gap.
	Records []Record
	Report  Report
}

// Last is the LSN of the last record recovered (or of the checkpoint).
func (r *Recovered) Last() uint64 { return r.CheckpointLSN + uint64(len(r.Records)) }

// Report says what recovery found besides what it returns.
type Report struct {
	// Dropped is how many records were found at and after the break: the
	// first record that failed its checksum, was not the LSN its key says,
	// or broke the sequence (a gap), and every record after it. None of
	// them is returned; the next write deletes them.
	Dropped int
	// BrokenAt is the LSN of the key where the log broke (0: it did not).
	BrokenAt uint64
	// Reason says why it broke ("" when it did not).
	Reason string
	// StaleRecords is how many records at or below the checkpoint were
	// found (ignored; the next write deletes them).
	StaleRecords int
	// StaleChunks is how many chunks of other checkpoints than the
	// manifest's were found: an incomplete checkpoint a crash interrupted
	// (ignored; the next write deletes them).
	StaleChunks int
}

// Recover reads what the store holds: the checkpoint the manifest names,
// then the records after it in LSN order, up to the first that is damaged,
// under the wrong key or out of sequence (a torn or corrupted tail: it and
// everything after it are dropped and reported, never returned). An empty
// store gives an empty result. A damaged checkpoint is an error wrapping
// ErrCheckpointDamaged; an error of the store is returned as it is.
func Recover(r Reader) (*Recovered, error) {
	rec := &Recovered{}
	v, ok, err := r.Get(keyManifest)
	if err != nil {
		return nil, err
	}
	if ok {
		m, err := decodeManifest(v)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCheckpointDamaged, err)
		}
		if rec.Checkpoint, err = readCheckpoint(r, m); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCheckpointDamaged, err)
		}
		rec.CheckpointLSN = m.LSN
	}
	// Chunks of other checkpoints: those around the checkpoint's own,
	// which readCheckpoint has read (reading them again cost as much).
	ranges := [][2][]byte{{prefixChunk, prefixEnd(prefixChunk)}}
	if ok {
		ranges = [][2][]byte{{prefixChunk, checkpointStart(rec.CheckpointLSN)},
			{checkpointStart(rec.CheckpointLSN + 1), prefixEnd(prefixChunk)}}
	}
	for _, kr := range ranges {
		if err := r.Scan(kr[0], kr[1], func(_, _ []byte) bool {
			rec.Report.StaleChunks++
			return true
		}); err != nil {
			return nil, err
		}
	}
	if rec.CheckpointLSN > 0 {
		if err := r.Scan(recordKey(0), recordKey(rec.CheckpointLSN+1), func(_, _ []byte) bool {
			rec.Report.StaleRecords++
			return true
		}); err != nil {
			return nil, err
		}
	}
	_, rep, err := scan(r, rec.CheckpointLSN, func(lsn uint64, payload []byte) bool {
		rec.Records = append(rec.Records, Record{LSN: lsn, Payload: bytes.Clone(payload)})
		return true
	})
	if err != nil {
		return nil, err
	}
	rec.Report.Dropped, rec.Report.BrokenAt, rec.Report.Reason = rep.Dropped, rep.BrokenAt, rep.Reason
	return rec, nil
}

// readCheckpoint reads and checks the checkpoint m names.
func readCheckpoint(r Reader, m manifest) ([]byte, error) {
	data := make([]byte, 0, min(m.Size, 1<<30))
	next := uint32(0)
	var bad error
	err := r.Scan(checkpointStart(m.LSN), checkpointStart(m.LSN+1), func(k, v []byte) bool {
		if !bytes.Equal(k, chunkKey(m.LSN, next)) || next >= m.Chunks {
			bad = fmt.Errorf("the checkpoint at %d has an unexpected key %x where chunk %d of %d should be", m.LSN, k, next, m.Chunks)
			return false
		}
		d, err := decodeChunk(m.LSN, next, v)
		if err != nil {
			bad = err
			return false
		}
		data = append(data, d...)
		next++
		return true
	})
	switch {
	case err != nil:
		return nil, err
	case bad != nil:
		return nil, bad
	case next != m.Chunks:
		return nil, fmt.Errorf("the checkpoint at %d has %d of its %d chunks", m.LSN, next, m.Chunks)
	case uint64(len(data)) != m.Size || crc32.Checksum(data, castagnoli) != m.Sum:
		return nil, fmt.Errorf("the checkpoint at %d is %d bytes that fail the manifest's checksum (it says %d bytes)", m.LSN, len(data), m.Size)
	}
	return data, nil
}

// Scan calls fn with the records after LSN after, in order, until fn
// returns false or the log ends: at its last record, or at the first that
// is damaged, under the wrong key or out of sequence (which it does not
// pass to fn). It returns the LSN of the last record it passed (after, if
// none). The payload shares memory with the store's value only for the
// duration of fn. It is how recovery reads the log, and how a relay can
// read records back from the store.
func Scan(r Reader, after uint64, fn func(lsn uint64, payload []byte) bool) (uint64, error) {
	last, _, err := scan(r, after, fn)
	return last, err
}

func scan(r Reader, after uint64, fn func(lsn uint64, payload []byte) bool) (uint64, Report, error) {
	var rep Report
	want := after + 1
	err := r.Scan(recordKey(want), prefixEnd(prefixRecord), func(k, v []byte) bool {
		if rep.Reason != "" {
			rep.Dropped++
			return true
		}
		lsn, ok := lsnOfRecordKey(k)
		var payload []byte
		var err error
		switch {
		case !ok:
			err = fmt.Errorf("a record key %x is malformed", k)
		case lsn != want:
			err = fmt.Errorf("record %d follows %d: a gap", lsn, want-1)
		default:
			payload, err = decodeRecord(lsn, v)
		}
		if err != nil {
			rep.Reason, rep.BrokenAt, rep.Dropped = err.Error(), lsn, 1
			return true // count what follows
		}
		if !fn(lsn, payload) {
			return false
		}
		want++
		return true
	})
	return want - 1, rep, err
}

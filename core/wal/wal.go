// Package wal owns the durability of user data on one instance: a local
// write-ahead log of opaque records numbered by LSN, periodic checkpoints
// (opaque snapshot bytes taken at an LSN), their layout in the instance's
// store (layout.go), and recovery (Recover: the newest complete checkpoint,
// then the records after it, in order, up to the first that is damaged or
// out of sequence, which ends the log).
//
// It knows nothing of what a record or a checkpoint means: the storage
// engine encodes its row changes and its tables, the replication layer
// uses the LSNs and Durable to acknowledge. It does no IO of its own: Log is
// a state machine that buffers appends and hands out one disk.Batch at a
// time for the node to persist on its replicaset-log stream
// (node.StreamReplicasetLog); every append that arrives while a write is
// outstanding goes into the next one, so one fsync serves all of them
// (group commit). Recover reads through the disk interface.
//
// docs/storage-log.md tells the whole story: layout, group commit,
// checkpoints and compaction, recovery, and what a crash may lose.
package wal

import (
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/picogo/picogo/disk"
)

// Defaults of Options.
const (
	DefaultMaxBatchBytes = 1 << 20
	DefaultChunkBytes    = 256 << 10
)

// Options configure a Log. The zero value is the default.
type Options struct {
	// MaxBatchBytes bounds a write: Next puts records (and checkpoint
	// chunks) into one batch until it holds about this many bytes of keys
	// and values, so that a burst of appends makes several writes, not
	// one giant one. A single record larger than the bound goes alone.
	// 0 means DefaultMaxBatchBytes.
	MaxBatchBytes int
	// ChunkBytes is the size of a checkpoint's chunks; it is capped at
	// half of MaxBatchBytes. 0 means DefaultChunkBytes.
	ChunkBytes int
	// NoSync writes records without an fsync (Tarantool's
	// wal_mode = write): a power loss may then lose every write since the
	// last synced one, and Durable advances only with a synced write — the
	// last write of a checkpoint is always synced.
	NoSync bool
}

func (o Options) withDefaults() Options {
	if o.MaxBatchBytes <= 0 {
		o.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if o.ChunkBytes <= 0 {
		o.ChunkBytes = DefaultChunkBytes
	}
	o.ChunkBytes = max(1, min(o.ChunkBytes, o.MaxBatchBytes/2))
	return o
}

// Errors of a Log.
var (
	// ErrCheckpointBusy: a checkpoint is still being written.
	ErrCheckpointBusy = errors.New("wal: a checkpoint is still being written")
	// ErrCheckpointLSN: a checkpoint must be at an LSN appended and newer
	// than the last one.
	ErrCheckpointLSN = errors.New("wal: checkpoint LSN out of range")
	// ErrNoWrite: Done names no outstanding write (the driver's bug).
	ErrNoWrite = errors.New("wal: no such outstanding write")
)

// Write is one write for the node to persist, atomically and in order, on
// the replicaset-log stream; Done(Seq) reports it complete.
type Write struct {
	Seq   uint64
	Batch *disk.Batch
	// Sync: the write must be durable (fsynced) before Done.
	Sync bool
	// First and Last are the LSNs of the records it holds (0 and 0 when
	// it holds none, e.g. only checkpoint chunks).
	First, Last uint64
	// Checkpoint is the LSN of the checkpoint this write completes (its
	// manifest), or 0.
	Checkpoint uint64
	// Bytes is the size of the keys and values it sets (the bound
	// Options.MaxBatchBytes applies to).
	Bytes int
}

// pendingRecord is an appended record not yet handed out in a write.
type pendingRecord struct {
	lsn   uint64
	value []byte // framed
}

func (p pendingRecord) size() int { return len(prefixRecord) + 8 + len(p.value) }

// checkpointJob is a checkpoint being written.
type checkpointJob struct {
	lsn    uint64
	data   []byte
	chunks uint32
	next   uint32 // the next chunk to hand out
	final  bool   // the manifest is in a write: nothing more to hand out
	sum    uint32
}

// Log is the write side of the log: a state machine with no IO of its own.
// Create it with New from what Recover found. It is not safe for
// concurrent use.
type Log struct {
	opts       Options
	last       uint64 // the last LSN appended
	written    uint64 // every record up to it is in a completed write
	durable    uint64 // ... in a completed write that was synced
	checkpoint uint64 // the newest complete checkpoint (its write is done)

	pending      []pendingRecord
	pendingBytes int
	cleanup      []disk.Op // deletions owed on the next write
	job          *checkpointJob

	seq uint64
	out *Write // the outstanding write
	// syncOwed: the records recovered past the checkpoint may never have
	// been synced (a process crash keeps unsynced writes); the next write
	// is synced, even empty, and only then are they durable.
	syncOwed bool
}

// New returns the log that goes on from what Recover found (nil: an empty
// store): the next append gets rec.Last()+1; the first write is synced
// (Next has one to give at once, empty if need be), because the records
// recovered after the checkpoint may have outlived a process crash without
// ever being synced: they are durable once it is done. It also deletes
// what recovery did not use (a dropped tail, so that the LSNs stay
// contiguous; stale records and chunks).
func New(rec *Recovered, opts Options) *Log {
	l := &Log{opts: opts.withDefaults()}
	if rec == nil {
		return l
	}
	last := rec.Last()
	l.last, l.written, l.durable, l.checkpoint = last, last, rec.CheckpointLSN, rec.CheckpointLSN
	l.syncOwed = last > rec.CheckpointLSN
	rep := rec.Report
	if rep.Dropped > 0 {
		l.cleanup = append(l.cleanup, disk.Op{Kind: disk.OpDeleteRange, Key: recordKey(last + 1), End: prefixEnd(prefixRecord)})
	}
	if rep.StaleRecords > 0 {
		l.cleanup = append(l.cleanup, disk.Op{Kind: disk.OpDeleteRange, Key: recordKey(0), End: recordKey(rec.CheckpointLSN + 1)})
	}
	if rep.StaleChunks > 0 {
		l.cleanup = append(l.cleanup, deleteChunksBut(rec.CheckpointLSN, rec.Checkpoint != nil)...)
	}
	return l
}

// deleteChunksBut deletes every checkpoint chunk except, if keep, those of
// the checkpoint at lsn.
func deleteChunksBut(lsn uint64, keep bool) []disk.Op {
	end := prefixEnd(prefixChunk)
	if !keep {
		return []disk.Op{{Kind: disk.OpDeleteRange, Key: prefixChunk, End: end}}
	}
	return []disk.Op{
		{Kind: disk.OpDeleteRange, Key: prefixChunk, End: checkpointStart(lsn)},
		{Kind: disk.OpDeleteRange, Key: checkpointStart(lsn + 1), End: end},
	}
}

// Append adds a record and returns its LSN. The record is durable once
// Durable() reaches that LSN. The payload is copied.
func (l *Log) Append(payload []byte) uint64 {
	l.last++
	p := pendingRecord{lsn: l.last, value: encodeRecord(l.last, payload)}
	l.pending = append(l.pending, p)
	l.pendingBytes += p.size()
	return l.last
}

// Checkpoint starts writing snapshot as the checkpoint at lsn: the state
// after every record up to lsn and none after it. lsn must have been
// appended and be newer than the last checkpoint; one checkpoint is written
// at a time. The log keeps snapshot (it must not change) until the write
// that completes it is done; then the records up to lsn and the previous
// checkpoint are deleted from the store in that same write.
func (l *Log) Checkpoint(lsn uint64, snapshot []byte) error {
	switch {
	case l.job != nil:
		return fmt.Errorf("%w (at %d)", ErrCheckpointBusy, l.job.lsn)
	case lsn == 0 || lsn > l.last || lsn <= l.checkpoint:
		return fmt.Errorf("%w: %d, with the last append at %d and the last checkpoint at %d",
			ErrCheckpointLSN, lsn, l.last, l.checkpoint)
	}
	chunks := (len(snapshot) + l.opts.ChunkBytes - 1) / l.opts.ChunkBytes
	l.job = &checkpointJob{
		lsn: lsn, data: snapshot, chunks: uint32(chunks),
		sum: crc32.Checksum(snapshot, castagnoli),
	}
	return nil
}

// Next returns the next write to persist, if there is something to write
// and no write is outstanding. It holds, in order: what recovery left to
// delete, the oldest pending records up to the batch bound (half of it
// while a checkpoint is being written), and then checkpoint chunks up to
// the bound (at least one); the write that holds the last chunk, or a later
// one, holds the manifest — only once every record up to the checkpoint's
// LSN is in this write or an earlier one — and deletes the records up to it
// and every chunk of another checkpoint; it is always synced.
func (l *Log) Next() (Write, bool) {
	if l.out != nil || len(l.pending) == 0 && len(l.cleanup) == 0 && (l.job == nil || l.job.final) && !l.syncOwed {
		return Write{}, false
	}
	l.seq++
	w := Write{Seq: l.seq, Batch: &disk.Batch{}, Sync: !l.opts.NoSync || l.syncOwed}
	l.syncOwed = false
	b := w.Batch
	b.Ops = append(b.Ops, l.cleanup...)
	l.cleanup = nil

	budget := l.opts.MaxBatchBytes
	job := l.job
	if job != nil && job.final {
		job = nil
	}
	recordBudget := budget
	if job != nil {
		recordBudget = budget / 2
	}
	n := 0
	for ; n < len(l.pending); n++ {
		p := l.pending[n]
		if n > 0 && w.Bytes+p.size() > recordBudget {
			break
		}
		b.Set(recordKey(p.lsn), p.value)
		w.Bytes += p.size()
		l.pendingBytes -= p.size()
	}
	if n > 0 {
		w.First, w.Last = l.pending[0].lsn, l.pending[n-1].lsn
		clear(l.pending[:n])
		l.pending = l.pending[n:]
		if len(l.pending) == 0 {
			l.pending = nil
		}
	}

	if job != nil {
		for first := true; job.next < job.chunks; first = false {
			from := int(job.next) * l.opts.ChunkBytes
			data := job.data[from:min(from+l.opts.ChunkBytes, len(job.data))]
			size := len(prefixChunk) + 12 + chunkHeader + len(data)
			if !first && w.Bytes+size > budget {
				break
			}
			b.Set(chunkKey(job.lsn, job.next), encodeChunk(job.lsn, job.next, data))
			w.Bytes += size
			job.next++
		}
		if job.next == job.chunks && (len(l.pending) == 0 || l.pending[0].lsn > job.lsn) {
			b.Set(keyManifest, encodeManifest(manifest{
				LSN: job.lsn, Chunks: job.chunks, Size: uint64(len(job.data)), Sum: job.sum,
			}))
			w.Bytes += len(keyManifest) + manifestLen
			b.Ops = append(b.Ops, deleteChunksBut(job.lsn, true)...)
			b.DeleteRange(recordKey(0), recordKey(job.lsn+1))
			w.Checkpoint = job.lsn
			w.Sync = true
			job.final = true
		}
	}
	l.out = &w
	return w, true
}

// Done reports the outstanding write complete: durable if it was synced
// (and with it every write before it), written to the store otherwise.
func (l *Log) Done(seq uint64) error {
	w := l.out
	if w == nil || w.Seq != seq {
		return fmt.Errorf("%w: %d", ErrNoWrite, seq)
	}
	l.out = nil
	if w.Last > 0 {
		l.written = w.Last
	}
	if w.Sync {
		l.durable = l.written
	}
	if w.Checkpoint > 0 {
		l.checkpoint = w.Checkpoint
		l.job = nil
	}
	return nil
}

// Last is the LSN of the last record appended (or recovered).
func (l *Log) Last() uint64 { return l.last }

// Durable is the LSN up to which every record is durable: a crash, even
// a power loss, keeps them all.
func (l *Log) Durable() uint64 { return l.durable }

// Written is the LSN up to which every record is in a completed write,
// synced or not: a crashed process keeps them, a power loss may not.
func (l *Log) Written() uint64 { return l.written }

// CheckpointLSN is the LSN of the newest complete checkpoint: the records
// up to it are no longer in the store (a replica behind it needs a full
// copy).
func (l *Log) CheckpointLSN() uint64 { return l.checkpoint }

// Checkpointing reports whether a checkpoint is being written.
func (l *Log) Checkpointing() bool { return l.job != nil }

// Outstanding reports whether a write is outstanding.
func (l *Log) Outstanding() bool { return l.out != nil }

// Buffered returns how many appended records, and how many bytes of them,
// wait for a write (the outstanding one excluded): what a caller bounds
// to push back on writers.
func (l *Log) Buffered() (records, bytes int) { return len(l.pending), l.pendingBytes }

package wal_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/wal"
	"github.com/picogo/picogo/disk"
)

// recordLSNs returns the LSNs of the records a batch sets, in its order.
func recordLSNs(b *disk.Batch) []uint64 {
	var out []uint64
	for _, op := range b.Ops {
		if op.Kind == disk.OpSet && bytes.HasPrefix(op.Key, []byte("wal/r/")) {
			out = append(out, binary.BigEndian.Uint64(op.Key[len("wal/r/"):]))
		}
	}
	return out
}

func countOps(b *disk.Batch, kind disk.OpKind, prefix string) int {
	n := 0
	for _, op := range b.Ops {
		if op.Kind == kind && bytes.HasPrefix(op.Key, []byte(prefix)) {
			n++
		}
	}
	return n
}

func seq(from, to uint64) []uint64 {
	var out []uint64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func TestGroupCommit(t *testing.T) {
	l := wal.New(nil, wal.Options{})
	_, ok := l.Next()
	require.False(t, ok, "nothing to write")

	for i := 1; i <= 3; i++ {
		require.Equal(t, uint64(i), l.Append([]byte{byte(i)}))
	}
	w1, ok := l.Next()
	require.True(t, ok)
	require.Equal(t, seq(1, 3), recordLSNs(w1.Batch))
	require.Equal(t, uint64(1), w1.First)
	require.Equal(t, uint64(3), w1.Last)
	require.True(t, w1.Sync)
	require.Zero(t, w1.Checkpoint)

	// While it is outstanding: appends wait, nothing else is handed out,
	// and nothing is durable.
	for i := 4; i <= 8; i++ {
		l.Append([]byte{byte(i)})
	}
	_, ok = l.Next()
	require.False(t, ok, "one write outstanding at a time")
	require.True(t, l.Outstanding())
	require.Zero(t, l.Durable())
	require.Zero(t, l.Written())
	n, _ := l.Buffered()
	require.Equal(t, 5, n)

	require.ErrorIs(t, l.Done(w1.Seq+1), wal.ErrNoWrite)
	require.NoError(t, l.Done(w1.Seq))
	require.Equal(t, uint64(3), l.Durable())
	require.ErrorIs(t, l.Done(w1.Seq), wal.ErrNoWrite, "done twice")

	// Everything that arrived meanwhile goes in one write: one fsync.
	w2, ok := l.Next()
	require.True(t, ok)
	require.Equal(t, seq(4, 8), recordLSNs(w2.Batch))
	require.Equal(t, uint64(3), l.Durable())
	n, bytes := l.Buffered()
	require.Zero(t, n)
	require.Zero(t, bytes)
	require.NoError(t, l.Done(w2.Seq))
	require.Equal(t, uint64(8), l.Durable())
	require.Equal(t, uint64(8), l.Last())
	_, ok = l.Next()
	require.False(t, ok)
}

func TestBatchBound(t *testing.T) {
	const bound = 1000
	l := wal.New(nil, wal.Options{MaxBatchBytes: bound})
	payload := make([]byte, 100)
	for range 100 {
		l.Append(payload)
	}
	var got []uint64
	writes := 0
	for {
		w, ok := l.Next()
		if !ok {
			break
		}
		writes++
		require.LessOrEqual(t, w.Bytes, bound)
		size := 0
		for _, op := range w.Batch.Ops {
			size += len(op.Key) + len(op.Value)
		}
		require.Equal(t, size, w.Bytes)
		got = append(got, recordLSNs(w.Batch)...)
		require.Equal(t, w.First, recordLSNs(w.Batch)[0])
		require.NoError(t, l.Done(w.Seq))
		require.Equal(t, w.Last, l.Durable())
	}
	require.Equal(t, seq(1, 100), got, "every record once, in order")
	require.Greater(t, writes, 10)

	// A record larger than the bound goes alone.
	l.Append(make([]byte, 10))
	l.Append(make([]byte, 5000))
	l.Append(make([]byte, 10))
	var lens []int
	for {
		w, ok := l.Next()
		if !ok {
			break
		}
		lens = append(lens, len(recordLSNs(w.Batch)))
		require.NoError(t, l.Done(w.Seq))
	}
	require.Equal(t, []int{1, 1, 1}, lens)
}

func TestNoSync(t *testing.T) {
	l := wal.New(nil, wal.Options{NoSync: true, MaxBatchBytes: 1 << 10, ChunkBytes: 100})
	for range 5 {
		l.Append([]byte("x"))
	}
	w, _ := l.Next()
	require.False(t, w.Sync)
	require.NoError(t, l.Done(w.Seq))
	require.Equal(t, uint64(5), l.Written())
	require.Zero(t, l.Durable(), "an unsynced write is not durable")

	// A checkpoint's last write is synced, and makes everything before it
	// durable.
	require.NoError(t, l.Checkpoint(5, []byte("snapshot")))
	l.Append([]byte("y"))
	w, _ = l.Next()
	require.True(t, w.Sync)
	require.Equal(t, uint64(5), w.Checkpoint)
	require.NoError(t, l.Done(w.Seq))
	require.Equal(t, uint64(6), l.Durable())
	require.Equal(t, uint64(5), l.CheckpointLSN())
}

func TestCheckpointWrites(t *testing.T) {
	l := wal.New(nil, wal.Options{MaxBatchBytes: 1000, ChunkBytes: 100})
	require.ErrorIs(t, l.Checkpoint(1, nil), wal.ErrCheckpointLSN, "nothing appended")
	for range 30 {
		l.Append(make([]byte, 50))
	}
	require.ErrorIs(t, l.Checkpoint(31, nil), wal.ErrCheckpointLSN, "past the last append")
	require.ErrorIs(t, l.Checkpoint(0, nil), wal.ErrCheckpointLSN)
	snapshot := make([]byte, 950) // ten chunks, the last one short
	require.NoError(t, l.Checkpoint(25, snapshot))
	require.True(t, l.Checkpointing())
	require.ErrorIs(t, l.Checkpoint(26, nil), wal.ErrCheckpointBusy)

	var chunks int
	manifestAt := -1
	for i := 0; ; i++ {
		w, ok := l.Next()
		if !ok {
			break
		}
		require.LessOrEqual(t, w.Bytes, 1000)
		recs := recordLSNs(w.Batch)
		c := countOps(w.Batch, disk.OpSet, "wal/c/")
		if len(recs) > 0 {
			// While chunks are pending, records take at most half.
			if chunks < 10 {
				require.Positive(t, c, "write %d: the checkpoint starves", i)
			}
		}
		chunks += c
		if countOps(w.Batch, disk.OpSet, "wal/m") > 0 {
			require.Equal(t, -1, manifestAt, "one manifest")
			manifestAt = i
			require.Equal(t, uint64(25), w.Checkpoint)
			require.Equal(t, 10, chunks, "the manifest comes with or after the last chunk")
			require.Equal(t, 3, countOps(w.Batch, disk.OpDeleteRange, "wal/"), "compaction: other checkpoints' chunks (two ranges) and records up to 25")
			require.True(t, w.Sync)
		} else {
			require.Zero(t, w.Checkpoint)
		}
		require.NoError(t, l.Done(w.Seq))
	}
	require.GreaterOrEqual(t, manifestAt, 0)
	require.False(t, l.Checkpointing())
	require.Equal(t, uint64(25), l.CheckpointLSN())
	require.Equal(t, uint64(30), l.Durable())
	require.ErrorIs(t, l.Checkpoint(25, nil), wal.ErrCheckpointLSN, "not newer than the last")
	require.NoError(t, l.Checkpoint(30, nil))
}

// The manifest of a checkpoint at LSN n waits for the records up to n:
// they are written first (or with it), never after it.
func TestManifestAfterItsRecords(t *testing.T) {
	for _, bound := range []int{200, 400, 1000, 5000} {
		t.Run(fmt.Sprint(bound), func(t *testing.T) {
			l := wal.New(nil, wal.Options{MaxBatchBytes: bound, ChunkBytes: 10})
			for range 40 {
				l.Append(make([]byte, 30))
			}
			require.NoError(t, l.Checkpoint(40, []byte("tiny")))
			written := uint64(0)
			for {
				w, ok := l.Next()
				if !ok {
					break
				}
				if recs := recordLSNs(w.Batch); len(recs) > 0 {
					written = recs[len(recs)-1]
				}
				if w.Checkpoint > 0 {
					require.Equal(t, uint64(40), written)
				}
				require.NoError(t, l.Done(w.Seq))
			}
			require.Equal(t, uint64(40), l.CheckpointLSN())
		})
	}
}

// New goes on from what was recovered: the next LSN, what is durable, and
// the deletions recovery owes.
func TestNewFromRecovered(t *testing.T) {
	rec := &wal.Recovered{
		CheckpointLSN: 10, Checkpoint: []byte("c"),
		Records: []wal.Record{{LSN: 11}, {LSN: 12}},
		Report:  wal.Report{Dropped: 3, BrokenAt: 13, Reason: "checksum", StaleChunks: 1},
	}
	l := wal.New(rec, wal.Options{})
	require.Equal(t, uint64(12), l.Last())
	require.Equal(t, uint64(10), l.Durable(), "the recovered records wait for a sync")
	require.Equal(t, uint64(10), l.CheckpointLSN())
	require.Equal(t, uint64(13), l.Append([]byte("x")))
	w, ok := l.Next()
	require.True(t, ok)
	require.Equal(t, disk.OpDeleteRange, w.Batch.Ops[0].Kind, "the bad tail goes before the new record")
	require.Equal(t, binary.BigEndian.AppendUint64([]byte("wal/r/"), 13), w.Batch.Ops[0].Key)
	require.Equal(t, 3, countOps(w.Batch, disk.OpDeleteRange, "wal/"), "the tail and the stray chunks around the checkpoint")
	require.Equal(t, []uint64{13}, recordLSNs(w.Batch))
	require.True(t, w.Sync)
	require.NoError(t, l.Done(w.Seq))
	require.Equal(t, uint64(13), l.Durable())

	// Only once.
	l.Append([]byte("y"))
	w, _ = l.Next()
	require.Zero(t, countOps(w.Batch, disk.OpDeleteRange, ""))
}

// A recovered store may hold records a process crash kept without a sync:
// the first write syncs them, even with nothing to write and NoSync.
func TestRecoveredRecordsAreSyncedFirst(t *testing.T) {
	rec := &wal.Recovered{CheckpointLSN: 4, Checkpoint: []byte{}, Records: []wal.Record{{LSN: 5}, {LSN: 6}}}
	l := wal.New(rec, wal.Options{NoSync: true})
	require.Equal(t, uint64(4), l.Durable())
	require.Equal(t, uint64(6), l.Written())
	w, ok := l.Next()
	require.True(t, ok, "a sync is owed")
	require.True(t, w.Batch.Empty())
	require.True(t, w.Sync)
	require.NoError(t, l.Done(w.Seq))
	require.Equal(t, uint64(6), l.Durable())
	_, ok = l.Next()
	require.False(t, ok)
	l.Append(nil)
	w, _ = l.Next()
	require.False(t, w.Sync, "NoSync again")

	// Nothing past the checkpoint: nothing owed.
	l = wal.New(&wal.Recovered{CheckpointLSN: 4, Checkpoint: []byte{}}, wal.Options{})
	require.Equal(t, uint64(4), l.Durable())
	_, ok = l.Next()
	require.False(t, ok)
}

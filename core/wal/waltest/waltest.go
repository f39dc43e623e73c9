// Package waltest is the recovery suite of core/wal, run on every disk the
// log is meant for: the simulator's disk (core/wal's own tests, on
// disk/simdisk) and Pebble (disk/pebble's tests, in a temporary directory
// and on Pebble's crashable in-memory file system).
//
// It drives a wal.Log the way the node will — Next, Commit on the store,
// Done — crashes the disk (unsynced writes lost, the first of them perhaps
// torn), damages records through the store, recovers, and checks that what
// Recover returns is a prefix of what was appended that holds everything
// that was durable, and that a damaged record ends the log there.
package waltest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/wal"
	"github.com/picogo/picogo/disk"
)

// Disk is one store under test and its crash.
type Disk interface {
	// Store is the store as it is now (Crash may replace it).
	Store() disk.Store
	// Crash is a power loss followed by a restart: every write not synced
	// may be lost (a suffix of them), and with tear the first lost one may
	// be left torn where the disk can model it. The store is then open
	// again. A disk that cannot lose writes may restart without losing any.
	Crash(t *testing.T, r *rand.Rand, tear bool)
}

// Open returns a new, empty disk for one subtest; the suite does not close
// it (t.Cleanup is the opener's).
type Open func(t *testing.T) Disk

// Run runs the suite as subtests of t; seeds is how many seeds the
// randomized test runs.
func Run(t *testing.T, open Open, seeds int) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, d Disk)
	}{
		{"Empty", testEmpty},
		{"ReplayAll", testReplayAll},
		{"CheckpointPlusReplay", testCheckpointPlusReplay},
		{"Compaction", testCompaction},
		{"LargeCheckpoint", testLargeCheckpoint},
		{"EmptyCheckpoint", testEmptyCheckpoint},
		{"CrashLosesOnlyUnsynced", testCrashLosesOnlyUnsynced},
		{"CorruptRecordEndsTheLog", testCorruptRecord},
		{"GapEndsTheLog", testGap},
		{"RecordUnderWrongKey", testWrongKey},
		{"DamagedCheckpoint", testDamagedCheckpoint},
		{"InterruptedCheckpoint", testInterruptedCheckpoint},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
	t.Run("Randomized", func(t *testing.T) {
		var total stats
		for seed := range uint64(seeds) {
			t.Run(fmt.Sprint(seed), func(t *testing.T) { randomized(t, open(t), seed, &total) })
		}
		t.Logf("%d seeds: %+v", seeds, total)
		if seeds >= 50 && !t.Failed() {
			// The run must have met what it is meant to test.
			require.Positive(t, total.LostByCrash, "no crash lost a write")
			require.Positive(t, total.Checkpoints, "no checkpoint completed")
			require.Positive(t, total.CutByDamage, "no damage cut the log")
			require.Positive(t, total.CheckpointRecoveries, "no recovery started from a checkpoint")
		}
	})
}

// Payload is the payload the suite appends as the i-th record (i from 1).
func Payload(i uint64) []byte {
	return fmt.Appendf(nil, "record %d %s", i, bytes.Repeat([]byte{byte(i)}, int(i%13)))
}

// Snapshot encodes payloads as a checkpoint: each with its length in front.
func Snapshot(payloads [][]byte) []byte {
	var out []byte
	for _, p := range payloads {
		out = binary.AppendUvarint(out, uint64(len(p)))
		out = append(out, p...)
	}
	return out
}

// Unsnapshot decodes what Snapshot encoded.
func Unsnapshot(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		require.Positive(t, k, "snapshot does not decode")
		b = b[k:]
		require.LessOrEqual(t, n, uint64(len(b)), "snapshot does not decode")
		out = append(out, bytes.Clone(b[:n]))
		b = b[n:]
	}
	return out
}

// History is what a recovery rebuilt: the checkpoint's payloads, then the
// records' payloads.
func History(t *testing.T, rec *wal.Recovered) [][]byte {
	t.Helper()
	var h [][]byte
	if rec.Checkpoint != nil {
		h = Unsnapshot(t, rec.Checkpoint)
		require.Len(t, h, int(rec.CheckpointLSN), "the checkpoint at %d holds %d records", rec.CheckpointLSN, len(h))
	}
	for i, r := range rec.Records {
		require.Equal(t, rec.CheckpointLSN+uint64(i)+1, r.LSN, "records out of sequence")
		h = append(h, r.Payload)
	}
	return h
}

// Drain hands every write the log has to the store, each Done after its
// Commit, until none is left.
func Drain(t *testing.T, s disk.Store, l *wal.Log) {
	t.Helper()
	for {
		w, ok := l.Next()
		if !ok {
			return
		}
		require.NoError(t, s.Commit(w.Batch, w.Sync))
		require.NoError(t, l.Done(w.Seq))
	}
}

func recoverOK(t *testing.T, s disk.Store) *wal.Recovered {
	t.Helper()
	rec, err := wal.Recover(s)
	require.NoError(t, err)
	return rec
}

// appendN appends records from..to (their Payload) to l.
func appendN(t *testing.T, l *wal.Log, from, to uint64) {
	t.Helper()
	for i := from; i <= to; i++ {
		require.Equal(t, i, l.Append(Payload(i)))
	}
}

func payloads(from, to uint64) [][]byte {
	var out [][]byte
	for i := from; i <= to; i++ {
		out = append(out, Payload(i))
	}
	return out
}

var small = wal.Options{MaxBatchBytes: 512, ChunkBytes: 100}

func testEmpty(t *testing.T, d Disk) {
	rec := recoverOK(t, d.Store())
	require.Equal(t, wal.Recovered{}, *rec)
	l := wal.New(rec, small)
	require.Equal(t, uint64(1), l.Append([]byte("first")))
}

func testReplayAll(t *testing.T, d Disk) {
	l := wal.New(recoverOK(t, d.Store()), small)
	appendN(t, l, 1, 50)
	Drain(t, d.Store(), l)
	rec := recoverOK(t, d.Store())
	require.Equal(t, payloads(1, 50), History(t, rec))
	require.Equal(t, wal.Report{}, rec.Report)
	require.Nil(t, rec.Checkpoint)
}

func testCheckpointPlusReplay(t *testing.T, d Disk) {
	l := wal.New(recoverOK(t, d.Store()), small)
	appendN(t, l, 1, 30)
	require.NoError(t, l.Checkpoint(20, Snapshot(payloads(1, 20))))
	appendN(t, l, 31, 40)
	Drain(t, d.Store(), l)
	require.Equal(t, uint64(20), l.CheckpointLSN())
	rec := recoverOK(t, d.Store())
	require.Equal(t, uint64(20), rec.CheckpointLSN)
	require.Len(t, rec.Records, 20)
	require.Equal(t, payloads(1, 40), History(t, rec))

	// The log goes on from there, across a second checkpoint.
	l = wal.New(rec, small)
	appendN(t, l, 41, 45)
	require.NoError(t, l.Checkpoint(43, Snapshot(payloads(1, 43))))
	Drain(t, d.Store(), l)
	rec = recoverOK(t, d.Store())
	require.Equal(t, uint64(43), rec.CheckpointLSN)
	require.Equal(t, payloads(1, 45), History(t, rec))
	require.Equal(t, wal.Report{}, rec.Report)
}

// keys returns the store's keys under prefix.
func keys(t *testing.T, s disk.Store, prefix string) []string {
	t.Helper()
	end := []byte(prefix)
	end[len(end)-1]++
	var out []string
	require.NoError(t, s.Scan([]byte(prefix), end, func(k, _ []byte) bool {
		out = append(out, string(k))
		return true
	}))
	return out
}

// CheckCompacted checks that the store holds no record at or below the
// checkpoint at lsn and no chunk of another checkpoint.
func CheckCompacted(t *testing.T, s disk.Store, lsn uint64) {
	t.Helper()
	for _, k := range keys(t, s, "wal/r/") {
		got := binary.BigEndian.Uint64([]byte(k[len("wal/r/"):]))
		require.Greater(t, got, lsn, "record %d is at or below the checkpoint at %d", got, lsn)
	}
	for _, k := range keys(t, s, "wal/c/") {
		got := binary.BigEndian.Uint64([]byte(k[len("wal/c/"):]))
		require.Equal(t, lsn, got, "a chunk of the checkpoint at %d outlives the one at %d", got, lsn)
	}
}

func testCompaction(t *testing.T, d Disk) {
	l := wal.New(recoverOK(t, d.Store()), small)
	appendN(t, l, 1, 30)
	require.NoError(t, l.Checkpoint(10, Snapshot(payloads(1, 10))))
	Drain(t, d.Store(), l)
	CheckCompacted(t, d.Store(), 10)
	require.Len(t, keys(t, d.Store(), "wal/r/"), 20)
	require.NoError(t, l.Checkpoint(30, Snapshot(payloads(1, 30))))
	Drain(t, d.Store(), l)
	CheckCompacted(t, d.Store(), 30)
	require.Empty(t, keys(t, d.Store(), "wal/r/"))
	require.NotEmpty(t, keys(t, d.Store(), "wal/c/"))
	rec := recoverOK(t, d.Store())
	require.Equal(t, payloads(1, 30), History(t, rec))
	require.Equal(t, wal.Report{}, rec.Report)
}

func testLargeCheckpoint(t *testing.T, d Disk) {
	opts := wal.Options{MaxBatchBytes: 64 << 10, ChunkBytes: 16 << 10}
	l := wal.New(recoverOK(t, d.Store()), opts)
	snap := make([]byte, 1<<20+123)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range snap {
		snap[i] = byte(r.Uint32())
	}
	l.Append([]byte("a"))
	require.NoError(t, l.Checkpoint(1, snap))
	writes := 0
	for {
		w, ok := l.Next()
		if !ok {
			break
		}
		writes++
		require.LessOrEqual(t, w.Bytes, opts.MaxBatchBytes)
		require.NoError(t, d.Store().Commit(w.Batch, w.Sync))
		require.NoError(t, l.Done(w.Seq))
	}
	require.Greater(t, writes, 16, "a megabyte checkpoint in 64 KiB writes")
	rec := recoverOK(t, d.Store())
	require.Equal(t, uint64(1), rec.CheckpointLSN)
	require.True(t, bytes.Equal(snap, rec.Checkpoint), "the checkpoint reads back as written")
	require.Empty(t, rec.Records)
}

func testEmptyCheckpoint(t *testing.T, d Disk) {
	l := wal.New(recoverOK(t, d.Store()), small)
	l.Append([]byte("x"))
	require.NoError(t, l.Checkpoint(1, nil))
	Drain(t, d.Store(), l)
	rec := recoverOK(t, d.Store())
	require.Equal(t, uint64(1), rec.CheckpointLSN)
	require.NotNil(t, rec.Checkpoint)
	require.Empty(t, rec.Checkpoint)
	require.Empty(t, rec.Records)
}

// testCrashLosesOnlyUnsynced: with NoSync, a crash may lose the writes
// after the last synced one, never one before it.
func testCrashLosesOnlyUnsynced(t *testing.T, d Disk) {
	opts := small
	opts.NoSync = true
	l := wal.New(recoverOK(t, d.Store()), opts)
	appendN(t, l, 1, 10)
	require.NoError(t, l.Checkpoint(10, Snapshot(payloads(1, 10))))
	Drain(t, d.Store(), l) // the checkpoint's last write is synced
	require.Equal(t, uint64(10), l.Durable())
	appendN(t, l, 11, 40)
	Drain(t, d.Store(), l)
	require.Equal(t, uint64(40), l.Written())
	require.Equal(t, uint64(10), l.Durable())
	r := rand.New(rand.NewPCG(3, 4))
	d.Crash(t, r, true)
	rec := recoverOK(t, d.Store())
	h := History(t, rec)
	require.GreaterOrEqual(t, len(h), 10)
	require.Equal(t, payloads(1, uint64(len(h))), h)
}

// corrupt flips one byte of the value under key, through the store.
func corrupt(t *testing.T, s disk.Store, key []byte, at int) {
	t.Helper()
	v, ok, err := s.Get(key)
	require.NoError(t, err)
	require.True(t, ok, "no value under %q", key)
	v = bytes.Clone(v)
	v[at%len(v)] ^= 0x40
	b := &disk.Batch{}
	b.Set(key, v)
	require.NoError(t, s.Commit(b, true))
}

// intactRecord reports whether v frames the record at lsn intactly (the
// layout core/wal keeps: crc32c:4 lsn:8 payload).
func intactRecord(lsn uint64, v []byte) bool {
	return len(v) >= 12 && binary.BigEndian.Uint32(v) == crc32.Checksum(v[4:], crc32.MakeTable(crc32.Castagnoli)) &&
		binary.BigEndian.Uint64(v[4:]) == lsn
}

// RecordKey is the key of the record at lsn (the layout core/wal keeps).
func RecordKey(lsn uint64) []byte { return binary.BigEndian.AppendUint64([]byte("wal/r/"), lsn) }

func testCorruptRecord(t *testing.T, d Disk) {
	for _, at := range []int{0, 3, 4, 11, 12, 20} { // the checksum, the LSN, the payload
		t.Run(fmt.Sprint(at), func(t *testing.T) {
			s := d.Store()
			b := &disk.Batch{}
			b.DeleteRange([]byte("wal/"), []byte("wal0"))
			require.NoError(t, s.Commit(b, true))
			l := wal.New(recoverOK(t, s), small)
			appendN(t, l, 1, 20)
			Drain(t, s, l)
			corrupt(t, s, RecordKey(8), at)
			rec := recoverOK(t, s)
			require.Equal(t, payloads(1, 7), History(t, rec), "the log ends before the damaged record")
			require.Equal(t, uint64(8), rec.Report.BrokenAt)
			require.Equal(t, 13, rec.Report.Dropped)
			require.NotEmpty(t, rec.Report.Reason)

			// The next write deletes the bad tail: the LSNs go on from 8.
			l = wal.New(rec, small)
			require.Equal(t, uint64(8), l.Append([]byte("new 8")))
			Drain(t, s, l)
			rec = recoverOK(t, s)
			require.Equal(t, wal.Report{}, rec.Report)
			require.Equal(t, append(payloads(1, 7), []byte("new 8")), History(t, rec))
		})
	}
}

func testGap(t *testing.T, d Disk) {
	s := d.Store()
	l := wal.New(recoverOK(t, s), small)
	appendN(t, l, 1, 20)
	Drain(t, s, l)
	b := &disk.Batch{}
	b.Delete(RecordKey(12))
	require.NoError(t, s.Commit(b, true))
	rec := recoverOK(t, s)
	require.Equal(t, payloads(1, 11), History(t, rec))
	require.Equal(t, uint64(13), rec.Report.BrokenAt)
	require.Equal(t, 8, rec.Report.Dropped)
	l = wal.New(rec, small)
	appendN(t, l, 12, 12)
	Drain(t, s, l)
	rec = recoverOK(t, s)
	require.Equal(t, payloads(1, 12), History(t, rec), "13..20 were deleted, not revived")
	require.Equal(t, wal.Report{}, rec.Report)
}

// testWrongKey: an intact record found under another LSN's key (a
// misdirected write) is caught by the LSN it carries.
func testWrongKey(t *testing.T, d Disk) {
	s := d.Store()
	l := wal.New(recoverOK(t, s), small)
	appendN(t, l, 1, 5)
	Drain(t, s, l)
	v, ok, err := s.Get(RecordKey(2))
	require.NoError(t, err)
	require.True(t, ok)
	b := &disk.Batch{}
	b.Set(RecordKey(4), v)
	require.NoError(t, s.Commit(b, true))
	rec := recoverOK(t, s)
	require.Equal(t, payloads(1, 3), History(t, rec))
	require.Equal(t, uint64(4), rec.Report.BrokenAt)
}

func testDamagedCheckpoint(t *testing.T, d Disk) {
	s := d.Store()
	l := wal.New(recoverOK(t, s), small)
	appendN(t, l, 1, 30)
	require.NoError(t, l.Checkpoint(30, Snapshot(payloads(1, 30))))
	Drain(t, s, l)
	chunks := keys(t, s, "wal/c/")
	require.Greater(t, len(chunks), 2)

	corrupt(t, s, []byte(chunks[1]), 30)
	_, err := wal.Recover(s)
	require.ErrorIs(t, err, wal.ErrCheckpointDamaged)
	corrupt(t, s, []byte(chunks[1]), 30) // undo

	recoverOK(t, s)
	b := &disk.Batch{}
	b.Delete([]byte(chunks[len(chunks)-1]))
	require.NoError(t, s.Commit(b, true))
	_, err = wal.Recover(s)
	require.ErrorIs(t, err, wal.ErrCheckpointDamaged)
	require.ErrorContains(t, err, "chunks")

	corrupt(t, s, []byte("wal/m"), 9)
	_, err = wal.Recover(s)
	require.ErrorIs(t, err, wal.ErrCheckpointDamaged)
	require.ErrorContains(t, err, "manifest")
}

// testInterruptedCheckpoint: a crash in the middle of a checkpoint leaves
// chunks without a manifest; recovery uses the previous checkpoint and the
// log, reports the stray chunks, and the next write deletes them.
func testInterruptedCheckpoint(t *testing.T, d Disk) {
	s := d.Store()
	opts := wal.Options{MaxBatchBytes: 256, ChunkBytes: 100} // a chunk a write
	l := wal.New(recoverOK(t, s), opts)
	appendN(t, l, 1, 10)
	require.NoError(t, l.Checkpoint(5, Snapshot(payloads(1, 5))))
	Drain(t, s, l)
	appendN(t, l, 11, 20)
	Drain(t, s, l)
	require.NoError(t, l.Checkpoint(20, Snapshot(payloads(1, 20))))
	for {
		w, ok := l.Next()
		require.True(t, ok)
		if w.Checkpoint != 0 {
			break // never written: the crash comes first
		}
		require.NoError(t, s.Commit(w.Batch, true))
		require.NoError(t, l.Done(w.Seq))
	}
	d.Crash(t, rand.New(rand.NewPCG(5, 6)), false)
	s = d.Store()
	rec := recoverOK(t, s)
	require.Equal(t, uint64(5), rec.CheckpointLSN)
	require.Equal(t, payloads(1, 20), History(t, rec))
	require.Positive(t, rec.Report.StaleChunks)
	l = wal.New(rec, opts)
	l.Append([]byte("21"))
	Drain(t, s, l)
	CheckCompacted(t, s, 5)
	rec = recoverOK(t, s)
	require.Equal(t, wal.Report{}, rec.Report)
	require.Len(t, History(t, rec), 21)
}

// stats count what the randomized runs met.
type stats struct {
	Appends, Writes, Checkpoints, Crashes, Torn, Damaged int
	// LostByCrash: records appended and not recovered, damage aside.
	LostByCrash int
	// CutByDamage: recoveries that ended at a damaged record.
	CutByDamage int
	// CheckpointRecoveries: recoveries that found a checkpoint.
	CheckpointRecoveries int
}

// randomized drives a log with random appends, writes, checkpoints,
// crashes (with and without a torn write) and damage, and checks every
// recovery against what was appended.
func randomized(t *testing.T, d Disk, seed uint64, st *stats) {
	r := rand.New(rand.NewPCG(seed, 0x3a1))
	opts := wal.Options{MaxBatchBytes: 64 + r.IntN(2048), ChunkBytes: 16 + r.IntN(512), NoSync: r.IntN(3) == 0}
	l := wal.New(recoverOK(t, d.Store()), opts)
	var hist [][]byte // hist[i] is the payload appended at LSN i+1
	var inflight *wal.Write
	step := 0
	for range 300 {
		step++
		switch k := r.IntN(100); {
		case k < 40: // appends
			for range 1 + r.IntN(8) {
				p := make([]byte, r.IntN(200))
				for i := range p {
					p[i] = byte(r.Uint32())
				}
				hist = append(hist, p)
				st.Appends++
				require.Equal(t, uint64(len(hist)), l.Append(p))
			}
		case k < 75: // the writer: take a write, commit it, complete it
			if inflight == nil {
				w, ok := l.Next()
				if !ok {
					continue
				}
				inflight = &w
			}
			require.NoError(t, d.Store().Commit(inflight.Batch, inflight.Sync))
			if r.IntN(4) == 0 {
				continue // committed, not yet Done: a crash may come in between
			}
			require.NoError(t, l.Done(inflight.Seq))
			st.Writes++
			if inflight.Checkpoint > 0 {
				st.Checkpoints++
			}
			inflight = nil
		case k < 80: // a write taken and not yet committed
			if inflight == nil {
				if w, ok := l.Next(); ok {
					inflight = &w
				}
			}
		case k < 85: // a checkpoint
			if l.Checkpointing() || l.Last() <= l.CheckpointLSN() {
				continue
			}
			lsn := l.CheckpointLSN() + 1 + uint64(r.IntN(int(l.Last()-l.CheckpointLSN())))
			require.NoError(t, l.Checkpoint(lsn, Snapshot(hist[:lsn])))
		default: // a crash, perhaps damage, and recovery
			durable := l.Durable()
			tear := r.IntN(2) == 0
			d.Crash(t, r, tear)
			st.Crashes++
			if tear {
				st.Torn++
			}
			inflight = nil
			limit := uint64(len(hist))
			if r.IntN(3) == 0 {
				limit = damage(t, d.Store(), r, limit)
				st.Damaged++
			}
			rec := recoverOK(t, d.Store())
			got := History(t, rec)
			switch {
			case rec.Report.Dropped > 0:
				st.CutByDamage++
			case len(got) < len(hist):
				st.LostByCrash += len(hist) - len(got)
			}
			if rec.Checkpoint != nil {
				st.CheckpointRecoveries++
			}
			require.Zero(t, rec.Report.StaleRecords, "step %d: records below the checkpoint outlived it", step)
			require.LessOrEqual(t, len(got), len(hist), "step %d: recovered more than was appended", step)
			for i := range got {
				require.Equal(t, hist[i], got[i], "step %d: LSN %d is not what was appended", step, i+1)
			}
			require.GreaterOrEqual(t, uint64(len(got)), min(durable, limit), "step %d: a durable record is lost", step)
			require.LessOrEqual(t, uint64(len(got)), limit, "step %d: the log goes past the damaged record", step)
			hist = hist[:len(got)]
			l = wal.New(rec, opts)
		}
	}
	// Finish every write: the store then holds exactly the history, and
	// nothing a checkpoint made obsolete.
	if inflight != nil {
		require.NoError(t, d.Store().Commit(inflight.Batch, inflight.Sync))
		require.NoError(t, l.Done(inflight.Seq))
	}
	Drain(t, d.Store(), l)
	require.Equal(t, uint64(len(hist)), l.Written())
	if !opts.NoSync {
		require.Equal(t, uint64(len(hist)), l.Durable())
	}
	rec := recoverOK(t, d.Store())
	got := History(t, rec)
	require.Len(t, got, len(hist))
	for i := range got {
		require.Equal(t, hist[i], got[i], "LSN %d is not what was appended", i+1)
	}
	CheckCompacted(t, d.Store(), rec.CheckpointLSN)
}

// damage damages one record in the store (flips a byte, deletes it, or
// writes another record's value under its key) and returns the smaller of
// limit and the LSN before it.
func damage(t *testing.T, s disk.Store, r *rand.Rand, limit uint64) uint64 {
	t.Helper()
	recs := keys(t, s, "wal/r/")
	if len(recs) == 0 {
		return limit
	}
	k := []byte(recs[r.IntN(len(recs))])
	lsn := binary.BigEndian.Uint64(k[len("wal/r/"):])
	b := &disk.Batch{}
	switch r.IntN(3) {
	case 0: // a flipped byte
		for at := r.IntN(1 << 20); ; at++ {
			corrupt(t, s, k, at)
			v, _, err := s.Get(k)
			require.NoError(t, err)
			if !intactRecord(lsn, v) {
				break
			}
			// It undid an earlier flip of the same byte, which would
			// bring back a record recovery dropped: flip another.
		}
		return min(limit, lsn-1)
	case 1: // a lost record
		b.Delete(k)
	case 2: // a misdirected write: another record's value under k
		v, _, err := s.Get([]byte(recs[r.IntN(len(recs))]))
		require.NoError(t, err)
		if len(v) >= 12 && binary.BigEndian.Uint64(v[4:]) == lsn {
			// The same record, or one an earlier damage moved here.
			return limit
		}
		b.Set(k, v)
	}
	require.NoError(t, s.Commit(b, true))
	return min(limit, lsn-1)
}

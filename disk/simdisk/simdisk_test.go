package simdisk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"maps"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/disk"
	"github.com/picogo/picogo/disk/disktest"
)

func TestConformance(t *testing.T) {
	disktest.Run(t, func(*testing.T) disk.Store { return New(Options{}) })
}

// Compacting on every sync runs the whole suite through snapshot records.
func TestConformanceCompactingOnEverySync(t *testing.T) {
	disktest.Run(t, func(*testing.T) disk.Store { return New(Options{CompactAt: 1}) })
}

func TestConformanceReopen(t *testing.T) {
	reopen := func(t *testing.T, s disk.Store) disk.Store {
		require.NoError(t, s.Close())
		rep, err := s.(*Store).Recover()
		require.NoError(t, err)
		require.Equal(t, Report{Records: rep.Records}, rep, "a clean restart drops nothing")
		return s
	}
	disktest.RunReopen(t, func(*testing.T) disk.Store { return New(Options{}) }, reopen)
	disktest.RunReopen(t, func(*testing.T) disk.Store { return New(Options{CompactAt: 1}) }, reopen)
}

// --- helpers ---

func rng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

func put(t *testing.T, s *Store, sync bool, kv ...string) {
	t.Helper()
	var b disk.Batch
	for i := 0; i+1 < len(kv); i += 2 {
		b.Set([]byte(kv[i]), []byte(kv[i+1]))
	}
	require.NoError(t, s.Commit(&b, sync))
}

// contents returns every key and value, checking Scan against Get.
func contents(t *testing.T, s *Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, s.Scan(nil, nil, func(k, v []byte) bool {
		out[string(k)] = string(v)
		return true
	}))
	for k, v := range out {
		got, ok, err := s.Get([]byte(k))
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, v, string(got))
	}
	return out
}

func recoverOK(t *testing.T, s *Store) Report {
	t.Helper()
	rep, err := s.Recover()
	require.NoError(t, err)
	return rep
}

// --- crash semantics ---

func TestSyncedBatchesSurviveCrash(t *testing.T) {
	s := New(Options{})
	put(t, s, true, "a", "1")
	put(t, s, true, "b", "2", "c", "3")
	s.Crash(rng(1), true)
	rep := recoverOK(t, s)
	require.Equal(t, Report{Records: 2}, rep)
	require.Equal(t, map[string]string{"a": "1", "b": "2", "c": "3"}, contents(t, s))
}

func TestUnsyncedBatchesLostOnCrash(t *testing.T) {
	s := New(Options{})
	put(t, s, false, "a", "1")
	put(t, s, false, "b", "2")
	require.Equal(t, map[string]string{"a": "1", "b": "2"}, contents(t, s), "reads see unsynced batches")
	s.Crash(nil, false)
	require.Zero(t, s.Size())
	rep := recoverOK(t, s)
	require.Equal(t, Report{}, rep)
	require.Empty(t, contents(t, s))
}

func TestCrashMidSequenceKeepsSyncedPrefix(t *testing.T) {
	s := New(Options{})
	put(t, s, false, "1", "a")       // made durable by the sync of batch 3
	put(t, s, true, "2", "b")        // synced
	put(t, s, false, "1", "changed") // made durable by the sync of batch 4
	put(t, s, true, "3", "c")        // synced: the last one
	put(t, s, false, "4", "d")       // lost
	put(t, s, false, "2", "lost")    // lost
	s.Crash(rng(2), false)
	rep := recoverOK(t, s)
	require.Equal(t, Report{Records: 4}, rep)
	require.Equal(t, map[string]string{"1": "changed", "2": "b", "3": "c"}, contents(t, s))
}

func TestEmptySyncedCommitIsAnFsync(t *testing.T) {
	s := New(Options{})
	put(t, s, false, "a", "1")
	size := s.Size()
	require.NoError(t, s.Commit(&disk.Batch{}, true))
	require.NoError(t, s.Commit(nil, true))
	require.Equal(t, size, s.Size(), "an empty batch writes nothing")
	s.Crash(rng(3), true)
	recoverOK(t, s)
	require.Equal(t, map[string]string{"a": "1"}, contents(t, s))
}

// TestTornTailDetectedAndNeverApplied tears the one unsynced record in every
// possible way over many seeds: recovery always reports it, drops it and
// never applies any of it.
func TestTornTailDetectedAndNeverApplied(t *testing.T) {
	modes := map[int]int{}
	for seed := range uint64(300) {
		s := New(Options{})
		put(t, s, true, "durable", "yes")
		synced := s.Size()
		var b disk.Batch
		b.Set([]byte("torn-only"), bytes.Repeat([]byte{byte(seed)}, int(seed%50)))
		b.Delete([]byte("durable"))
		require.NoError(t, s.Commit(&b, false))
		rec := bytes.Clone(s.wal[synced:])

		r := rng(seed)
		_, mode := tearRecord(rec, rng(seed)) // what Crash will do with the same rand
		modes[mode]++
		s.Crash(r, true)
		require.Greater(t, s.Size(), synced, "seed %d: a torn copy is left after the synced mark", seed)

		rep := recoverOK(t, s)
		require.True(t, rep.Torn, "seed %d", seed)
		require.GreaterOrEqual(t, rep.Dropped, 1, "seed %d", seed)
		require.Equal(t, 1, rep.Records, "seed %d", seed)
		require.Equal(t, synced, s.Size(), "seed %d: the WAL is cut back to the synced mark", seed)
		require.Equal(t, map[string]string{"durable": "yes"}, contents(t, s),
			"seed %d: no part of the torn batch may apply", seed)
	}
	for m := range tearModes {
		require.Positive(t, modes[m], "tear mode %d never drawn", m)
	}
}

func TestTearWithNothingUnsyncedLeavesNothing(t *testing.T) {
	s := New(Options{})
	put(t, s, true, "a", "1")
	size := s.Size()
	s.Crash(rng(4), true)
	require.Equal(t, size, s.Size())
	require.Equal(t, Report{Records: 1}, recoverOK(t, s))
}

func TestTearKeepsOnlyTheFirstLostRecord(t *testing.T) {
	s := New(Options{})
	put(t, s, true, "a", "1")
	synced := s.Size()
	put(t, s, false, "b", "2")
	first := s.Size() - synced
	put(t, s, false, "c", "3")
	s.Crash(rng(5), true)
	require.LessOrEqual(t, s.Size()-synced, first, "what is left is a copy of the first lost record, no more")
}

func TestRecoverTwiceIsIdempotent(t *testing.T) {
	s := New(Options{})
	put(t, s, true, "a", "1")
	put(t, s, false, "b", "2")
	s.Crash(rng(6), true)
	first := recoverOK(t, s)
	require.True(t, first.Torn)
	state, wal := contents(t, s), bytes.Clone(s.wal)
	second := recoverOK(t, s)
	require.Equal(t, Report{Records: first.Records}, second)
	require.Equal(t, state, contents(t, s))
	require.Equal(t, wal, s.wal)
}

func TestCrashedStoreRefusesService(t *testing.T) {
	s := New(Options{})
	put(t, s, true, "a", "1")
	s.Crash(nil, false)
	_, _, err := s.Get([]byte("a"))
	require.ErrorIs(t, err, ErrCrashed)
	require.ErrorIs(t, err, ErrClosed)
	require.ErrorIs(t, s.Scan(nil, nil, func(_, _ []byte) bool { return true }), ErrCrashed)
	require.ErrorIs(t, s.Commit(&disk.Batch{}, true), ErrCrashed)
	require.ErrorIs(t, s.Close(), ErrCrashed)
	require.Positive(t, s.Size(), "Size works in any state")
	recoverOK(t, s)
	require.Equal(t, map[string]string{"a": "1"}, contents(t, s))
}

func TestCrashDuringScanStopsIt(t *testing.T) {
	s := New(Options{})
	put(t, s, true, "a", "1", "b", "2")
	err := s.Scan(nil, nil, func(_, _ []byte) bool { s.Crash(nil, false); return true })
	require.ErrorIs(t, err, ErrCrashed)
}

// A restart without power loss (Close, or kill -9 with the machine up) keeps
// unsynced batches; a power loss later still loses them.
func TestRestartWithoutPowerLossKeepsUnsynced(t *testing.T) {
	s := New(Options{})
	put(t, s, true, "a", "1")
	put(t, s, false, "b", "2")
	require.NoError(t, s.Close())
	require.Equal(t, Report{Records: 2}, recoverOK(t, s))
	require.Equal(t, map[string]string{"a": "1", "b": "2"}, contents(t, s))

	require.Equal(t, Report{Records: 2}, recoverOK(t, s), "Recover on an open store is a restart too")
	s.Crash(nil, false)
	require.Equal(t, Report{Records: 1}, recoverOK(t, s), "still unsynced after the restart")
	require.Equal(t, map[string]string{"a": "1"}, contents(t, s))
}

func TestCrashTwiceBeforeRecover(t *testing.T) {
	s := New(Options{})
	put(t, s, true, "a", "1")
	put(t, s, false, "b", "2")
	s.Crash(rng(7), true)
	s.Crash(rng(8), true) // tears the torn copy again
	rep := recoverOK(t, s)
	require.Equal(t, 1, rep.Records)
	require.Equal(t, map[string]string{"a": "1"}, contents(t, s))
}

func TestCorruptionBeforeSyncedMarkIsAnError(t *testing.T) {
	s := New(Options{})
	put(t, s, true, "a", "1")
	put(t, s, true, "b", "2")
	second := frameLen(s.wal)
	s.Crash(nil, false)
	s.wal[second+headerLen+2] ^= 0x40 // damage the durable second record
	rep, err := s.Recover()
	require.ErrorIs(t, err, ErrCorrupt)
	require.Equal(t, 1, rep.Records)
	_, _, err = s.Get([]byte("a"))
	require.ErrorIs(t, err, ErrCrashed, "a store that failed to recover stays down")
	require.Greater(t, s.Size(), second, "the WAL is left as it is")
}

// --- the record format ---

func TestRecordFormat(t *testing.T) {
	s := New(Options{})
	var b disk.Batch
	b.Set([]byte("k"), []byte("vv"))
	b.Delete([]byte("d"))
	b.DeleteRange([]byte("a"), []byte("b"))
	require.NoError(t, s.Commit(&b, true))

	payload := []byte{
		recBatch, 3,
		byte(disk.OpSet), 1, 'k', 2, 'v', 'v',
		byte(disk.OpDelete), 1, 'd',
		byte(disk.OpDeleteRange), 1, 'a', 1, 'b',
	}
	want := binary.LittleEndian.AppendUint32(nil, uint32(len(payload)))
	want = binary.LittleEndian.AppendUint32(want, crc32.Checksum(payload, crc32.MakeTable(crc32.Castagnoli)))
	want = append(want, payload...)
	require.Equal(t, want, s.wal)
}

func TestTearNeverLeavesAnIntactRecord(t *testing.T) {
	for seed := range uint64(2000) {
		r := rng(seed)
		var b disk.Batch
		for range r.IntN(4) + 1 {
			b.Set(randBytes(r, 4), randBytes(r, 8))
		}
		rec, err := appendBatchRecord(nil, b.Ops)
		require.NoError(t, err)
		torn, _ := tearRecord(rec, r)
		_, _, _, ok := readRecord(torn, nil)
		require.False(t, ok, "seed %d: torn record reads as intact", seed)
		require.NotEmpty(t, torn)
		require.LessOrEqual(t, len(torn), len(rec))
	}
	// Tears that would leave the record intact fall back to a cut.
	rec, err := appendBatchRecord(nil, []disk.Op{{Kind: disk.OpDelete, Key: []byte("k")}})
	require.NoError(t, err)
	for seed := range uint64(200) {
		torn, _ := tearRecord(rec, rng(seed))
		require.NotEqual(t, rec, torn)
	}
}

func randBytes(r *rand.Rand, max int) []byte {
	n := r.IntN(max + 1)
	if n == 0 && r.IntN(2) == 0 {
		return nil
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + r.IntN(4))
	}
	return b
}

// --- compaction ---

func TestCompactionBoundsTheWAL(t *testing.T) {
	const compactAt = 4096
	s := New(Options{CompactAt: compactAt})
	want := map[string]string{}
	maxSize := 0
	for i := range 5000 {
		k, v := fmt.Sprintf("key%02d", i%40), fmt.Sprint(i)
		put(t, s, i%5 == 0, k, v)
		want[k] = v
		maxSize = max(maxSize, s.Size())
	}
	require.Less(t, maxSize, 2*compactAt, "the WAL stays bounded")
	put(t, s, true)
	require.Equal(t, want, contents(t, s))

	kind, _, _, ok := readRecord(s.wal, nil)
	require.True(t, ok)
	require.Equal(t, recSnapshot, kind, "the log restarts from a snapshot record")

	s.Crash(rng(9), true)
	recoverOK(t, s)
	require.Equal(t, want, contents(t, s))
}

func TestCompactionNeitherHardensNorLoses(t *testing.T) {
	s := New(Options{CompactAt: 1}) // compact at every sync
	put(t, s, false, "early", "unsynced then synced")
	put(t, s, true, "a", "1")
	require.Equal(t, 1, frameCount(t, s), "compacted to one snapshot record")
	put(t, s, false, "b", "unsynced")
	var del disk.Batch
	del.Delete([]byte("a"))
	require.NoError(t, s.Commit(&del, false))
	s.Crash(rng(10), true)
	rep := recoverOK(t, s)
	require.True(t, rep.Torn)
	require.Equal(t, 1, rep.Records)
	require.Equal(t, map[string]string{"early": "unsynced then synced", "a": "1"}, contents(t, s))
}

// A key space larger than CompactAt is not rewritten on every sync: the WAL
// must double between compactions.
func TestCompactionIsAmortized(t *testing.T) {
	s := New(Options{CompactAt: 1})
	put(t, s, true, "big", string(make([]byte, 10000)))
	base := s.Size()
	compactions := 0
	for i := range 2000 {
		before := s.Size()
		put(t, s, true, fmt.Sprint("k", i), "v")
		if s.Size() < before {
			compactions++
			require.GreaterOrEqual(t, before, 2*base-100, "compacted before the WAL doubled")
			base = s.Size()
		}
	}
	require.Positive(t, compactions)
	require.Less(t, compactions, 10)
}

func frameCount(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	for off := 0; off < len(s.wal); n++ {
		_, _, l, ok := readRecord(s.wal[off:], nil)
		require.True(t, ok)
		off += l
	}
	return n
}

// --- scans that write ---

func TestScanWhileWriting(t *testing.T) {
	s := New(Options{})
	for i := range 600 {
		put(t, s, false, fmt.Sprintf("k%04d", i*2), "v")
	}
	var seen []string
	require.NoError(t, s.Scan([]byte("k0100"), []byte("k0900"), func(k, _ []byte) bool {
		seen = append(seen, string(k))
		var b disk.Batch
		b.Delete(k) // the key just passed
		if k[len(k)-1] != '+' {
			b.Set(append(bytes.Clone(k), '+'), nil) // right after it: seen next
		}
		b.DeleteRange([]byte("k0500"), []byte("k0600"))
		b.Set([]byte("k0000"), nil) // before the scan's position: not seen
		require.NoError(t, s.Commit(&b, false))
		return true
	}))
	var want []string
	for i := 100; i < 900; i += 2 {
		if k := fmt.Sprintf("k%04d", i); k < "k0500" || k >= "k0600" {
			want = append(want, k, k+"+")
		}
	}
	require.Equal(t, want, seen)
}

// --- the property test ---

// TestCrashRecoverProperty: over 500 seeds, random batches with random sync
// flags, a crash (mostly tearing) after a random number of them, and
// recovery — several times per seed — always leave exactly the state after
// the synced prefix of the batches, computed by a plain map.
func TestCrashRecoverProperty(t *testing.T) {
	for seed := range uint64(500) {
		checkCrashRecover(t, seed)
	}
}

func checkCrashRecover(t *testing.T, seed uint64) {
	r := rng(seed)
	opts := Options{}
	switch r.IntN(3) {
	case 0:
		opts.CompactAt = -1
	case 1:
		opts.CompactAt = 1 + r.IntN(3000)
	}
	s := New(opts)
	live := map[string]string{}    // every committed batch
	durable := map[string]string{} // the synced prefix
	for epoch := range 1 + r.IntN(4) {
		for range r.IntN(40) {
			b := randomBatch(r, live)
			sync := r.IntN(3) == 0
			require.NoError(t, s.Commit(b, sync), "seed %d", seed)
			if sync {
				durable = maps.Clone(live)
			}
		}
		require.Equal(t, live, contents(t, s), "seed %d epoch %d: reads see every commit", seed, epoch)

		unsynced := s.Size() > s.synced
		tear := r.IntN(4) != 0
		s.Crash(r, tear)
		rep, err := s.Recover()
		require.NoError(t, err, "seed %d epoch %d", seed, epoch)
		require.Equal(t, tear && unsynced, rep.Torn, "seed %d epoch %d: %+v", seed, epoch, rep)
		require.Equal(t, rep.Torn, rep.Dropped > 0, "seed %d epoch %d: %+v", seed, epoch, rep)
		require.Equal(t, durable, contents(t, s), "seed %d epoch %d: state after recovery", seed, epoch)
		live = maps.Clone(durable)

		again, err := s.Recover()
		require.NoError(t, err)
		require.Equal(t, Report{Records: rep.Records}, again, "seed %d epoch %d: second recovery", seed, epoch)
		require.Equal(t, durable, contents(t, s), "seed %d epoch %d: after second recovery", seed, epoch)
	}
}

// randomBatch returns a batch over a small key alphabet and applies it to
// model.
func randomBatch(r *rand.Rand, model map[string]string) *disk.Batch {
	key := func() []byte {
		if r.IntN(30) == 0 {
			return nil
		}
		return fmt.Appendf(nil, "k%d", r.IntN(25))
	}
	var b disk.Batch
	for range r.IntN(6) {
		switch p := r.IntN(10); {
		case p < 6:
			k, v := key(), randBytes(r, 12)
			b.Set(k, v)
			model[string(k)] = string(v)
		case p < 8:
			k := key()
			b.Delete(k)
			delete(model, string(k))
		default:
			lo, hi := key(), key()
			if r.IntN(8) == 0 {
				hi = nil
			}
			b.DeleteRange(lo, hi)
			for k := range model {
				if bytes.Compare([]byte(k), lo) >= 0 && (len(hi) == 0 || bytes.Compare([]byte(k), hi) < 0) {
					delete(model, k)
				}
			}
		}
	}
	return &b
}

// --- determinism ---

// run drives a store from seed and returns its WAL at the crash (torn tail
// included) and after recovery.
func run(seed uint64) (atCrash, recovered []byte) {
	r := rng(seed)
	s := New(Options{CompactAt: 2000})
	for range 3 {
		for range 30 {
			if err := s.Commit(randomBatch(r, map[string]string{}), r.IntN(3) == 0); err != nil {
				panic(err)
			}
		}
		s.Crash(r, true)
		atCrash = append(atCrash, s.wal...)
		if _, err := s.Recover(); err != nil {
			panic(err)
		}
	}
	return atCrash, bytes.Clone(s.wal)
}

func TestDeterminism(t *testing.T) {
	for seed := range uint64(20) {
		a1, b1 := run(seed)
		a2, b2 := run(seed)
		require.Equal(t, a1, a2, "seed %d: WAL at crash differs between runs", seed)
		require.Equal(t, b1, b2, "seed %d: recovered WAL differs between runs", seed)
	}
	a, _ := run(1)
	b, _ := run(2)
	require.NotEqual(t, a, b, "different seeds should write different bytes")
}

// --- robustness ---

// FuzzRecover feeds arbitrary bytes as the WAL: recovery must not panic,
// must keep an intact prefix only, and must be idempotent.
func FuzzRecover(f *testing.F) {
	s := New(Options{})
	var b disk.Batch
	b.Set([]byte("k"), []byte("v"))
	b.DeleteRange([]byte("a"), nil)
	_ = s.Commit(&b, true)
	f.Add(bytes.Clone(s.wal))
	f.Add(append(bytes.Clone(s.wal), s.wal[:5]...))
	f.Add(make([]byte, 16))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, wal []byte) {
		s := &Store{wal: bytes.Clone(wal), state: crashed, compactAt: -1}
		rep, err := s.Recover()
		require.NoError(t, err)
		require.Equal(t, len(wal), s.Size()+rep.Dropped)
		require.Equal(t, rep.Torn, rep.Dropped > 0)
		again, err := s.Recover()
		require.NoError(t, err)
		require.Equal(t, Report{Records: rep.Records}, again)
		require.NoError(t, s.Scan(nil, nil, func(_, _ []byte) bool { return true }))
	})
}

func TestErrorsWrap(t *testing.T) {
	require.True(t, errors.Is(ErrCrashed, ErrClosed))
	require.False(t, errors.Is(ErrClosed, ErrCrashed))
}

// frame wraps payload in a header with a correct checksum.
func frame(payload []byte) []byte {
	rec := binary.LittleEndian.AppendUint32(nil, uint32(len(payload)))
	rec = binary.LittleEndian.AppendUint32(rec, crc32.Checksum(payload, castagnoli))
	return append(rec, payload...)
}

// reencode encodes decoded operations back into a payload.
func reencode(kind byte, ops []disk.Op) []byte {
	p := []byte{kind}
	p = binary.AppendUvarint(p, uint64(len(ops)))
	for _, op := range ops {
		b := op.Value
		if op.Kind == disk.OpDeleteRange {
			b = op.End
		}
		p = appendOp(p, op.Kind, op.Key, b)
	}
	return p
}

// checkCanonical: a payload that decodes is exactly the encoding of what it
// decodes to, so recovery never accepts bytes the store did not write in
// that form.
func checkCanonical(t *testing.T, p []byte) {
	kind, ops, err := decodePayload(p, nil)
	_, _, n, ok := readRecord(frame(p), nil)
	require.Equal(t, err == nil, ok, "readRecord and decodePayload disagree on %x", p)
	if err != nil {
		return
	}
	require.Equal(t, len(p)+headerLen, n)
	require.Equal(t, p, reencode(kind, ops), "payload %x", p)
}

func TestDecodeRejectsMalformedPayloads(t *testing.T) {
	var b disk.Batch
	b.Set([]byte("key"), []byte("value"))
	b.Delete([]byte("gone"))
	b.DeleteRange([]byte("a"), []byte("b"))
	rec, err := appendBatchRecord(nil, b.Ops)
	require.NoError(t, err)
	valid := rec[headerLen:]

	for _, p := range [][]byte{
		{},                       // no kind
		{9, 0},                   // unknown record kind
		{recBatch},               // no count
		{recBatch, 1},            // count with no operation
		{recBatch, 0, 0},         // trailing byte
		{recBatch, 1, 9, 0},      // unknown op kind
		{recBatch, 1, 1, 5, 'k'}, // key longer than the payload
		{recBatch, 1, 1, 1, 'k'}, // Set without its value
		{recBatch, 1, 3, 1, 'k'}, // DeleteRange without its end
		{recBatch, 0xff, 0xff, 0xff, 0xff, 0x0f, 2, 0}, // count far beyond the bytes
		{recSnapshot, 1, byte(disk.OpDelete), 1, 'k'},  // a snapshot holds sets only
		{recBatch, 0x80}, // truncated uvarint
	} {
		_, _, err := decodePayload(p, nil)
		require.Error(t, err, "payload %x", p)
		_, _, _, ok := readRecord(frame(p), nil)
		require.False(t, ok, "payload %x", p)
	}

	// Every prefix and every single-byte change of a valid payload, framed
	// with a correct checksum, is rejected or canonical.
	for i := range valid {
		checkCanonical(t, valid[:i])
		for _, x := range []byte{1, 0x80, 0xff} {
			p := bytes.Clone(valid)
			p[i] ^= x
			checkCanonical(t, p)
		}
	}
}

func FuzzDecodePayload(f *testing.F) {
	var b disk.Batch
	b.Set([]byte("k"), []byte("v"))
	b.Delete(nil)
	b.DeleteRange([]byte("a"), nil)
	rec, _ := appendBatchRecord(nil, b.Ops)
	f.Add(rec[headerLen:])
	f.Add([]byte{recSnapshot, 1, byte(disk.OpSet), 1, 'k', 0})
	f.Fuzz(func(t *testing.T, p []byte) { checkCanonical(t, p) })
}

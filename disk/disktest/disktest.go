// Package disktest is the conformance suite every disk.Store implementation
// runs: the simulator's disk (disk/simdisk) and Pebble (disk/pebble) must
// agree on everything the rest of picogo relies on.
//
// What the suite pins down beyond the comments of disk.Store:
//   - keys are ordered bytewise (bytes.Compare); the empty key is a key;
//   - Scan's start is inclusive and its end exclusive; a nil or empty start
//     means from the first key, a nil or empty end means to the last, and
//     start >= end (with an end) is an empty range;
//   - DeleteRange(start, end) removes [start, end) with the same reading of
//     an empty end (no upper bound) and of start >= end (nothing);
//   - a batch's operations apply in order; a batch holding an operation of
//     unknown kind is rejected whole, and nothing of it is applied;
//   - an empty batch commits (synced or not) and changes nothing;
//   - reads see committed batches whether or not they were synced;
//   - nil and empty values are stored and read back as present and empty;
//   - the store copies what it is given: changing a batch's slices after
//     Commit, or a slice Get returned, changes nothing stored;
//   - after Close, Get, Scan and Commit return an error rather than
//     panicking, and a second Close does not panic.
//
// It does not promise that Scan's key and value outlive the callback.
package disktest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/disk"
)

// Open returns a new, empty, open store for one subtest.
type Open func(t *testing.T) disk.Store

// Reopen closes s (or takes it as it is) and returns the store found in the
// same place, as a restarted process would open it.
type Reopen func(t *testing.T, s disk.Store) disk.Store

// Run runs the conformance suite as subtests of t, each on a fresh store from
// open. Each store is closed when its subtest ends; the error of that Close
// is ignored, since some subtests close the store themselves.
func Run(t *testing.T, open Open) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s disk.Store)
	}{
		{"GetMissing", testGetMissing},
		{"SetGet", testSetGet},
		{"Overwrite", testOverwrite},
		{"EmptyAndNilValues", testEmptyAndNilValues},
		{"EmptyKey", testEmptyKey},
		{"LargeValue", testLargeValue},
		{"Delete", testDelete},
		{"DeleteRange", testDeleteRange},
		{"DeleteRangeUnbounded", testDeleteRangeUnbounded},
		{"DeleteRangeEmpty", testDeleteRangeEmpty},
		{"ScanOrder", testScanOrder},
		{"ScanBounds", testScanBounds},
		{"ScanStop", testScanStop},
		{"BatchOpsInOrder", testBatchOpsInOrder},
		{"BatchAtomicOnInvalidOp", testBatchAtomicOnInvalidOp},
		{"EmptyBatch", testEmptyBatch},
		{"SyncedAndUnsyncedVisible", testSyncedAndUnsyncedVisible},
		{"BatchCopied", testBatchCopied},
		{"GetReturnsCopy", testGetReturnsCopy},
		{"ManyKeysAgainstModel", testManyKeysAgainstModel},
		{"ErrorsAfterClose", testErrorsAfterClose},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { _ = s.Close() })
			tc.fn(t, s)
		})
	}
}

// RunReopen checks that a store opened again after Close holds everything
// committed before it, synced or not, and keeps working.
func RunReopen(t *testing.T, open Open, reopen Reopen) {
	t.Run("ReopenKeepsCommitted", func(t *testing.T) {
		s := open(t)
		want := map[string]string{}
		for i := range 50 {
			var b disk.Batch
			k := fmt.Sprintf("k%03d", i)
			b.Set([]byte(k), []byte(fmt.Sprint(i)))
			want[k] = fmt.Sprint(i)
			if i%7 == 0 {
				b.Delete([]byte(fmt.Sprintf("k%03d", i/2)))
				delete(want, fmt.Sprintf("k%03d", i/2))
			}
			require.NoError(t, s.Commit(&b, i%3 == 0))
		}
		s = reopen(t, s)
		t.Cleanup(func() { _ = s.Close() })
		require.Equal(t, want, dump(t, s))

		commit(t, s, true, func(b *disk.Batch) { b.Set([]byte("after"), []byte("reopen")) })
		want["after"] = "reopen"
		require.Equal(t, want, dump(t, s))
	})
}

// commit builds a batch with fill and commits it, failing the test on error.
func commit(t *testing.T, s disk.Store, sync bool, fill func(b *disk.Batch)) {
	t.Helper()
	var b disk.Batch
	fill(&b)
	require.NoError(t, s.Commit(&b, sync))
}

func set(t *testing.T, s disk.Store, kv ...string) {
	t.Helper()
	commit(t, s, false, func(b *disk.Batch) {
		for i := 0; i+1 < len(kv); i += 2 {
			b.Set([]byte(kv[i]), []byte(kv[i+1]))
		}
	})
}

func get(t *testing.T, s disk.Store, key string) (string, bool) {
	t.Helper()
	v, ok, err := s.Get([]byte(key))
	require.NoError(t, err)
	if !ok {
		require.Nil(t, v, "Get of a missing key returned a value")
	}
	return string(v), ok
}

// keys returns the keys Scan(start, end) yields, in order.
func keys(t *testing.T, s disk.Store, start, end []byte) []string {
	t.Helper()
	out := []string{}
	require.NoError(t, s.Scan(start, end, func(k, _ []byte) bool {
		out = append(out, string(k))
		return true
	}))
	return out
}

// dump returns the whole store as a map, checking that Scan yields strictly
// ascending keys and agrees with Get.
func dump(t *testing.T, s disk.Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	var prev []byte
	first := true
	require.NoError(t, s.Scan(nil, nil, func(k, v []byte) bool {
		if !first {
			require.Negative(t, bytes.Compare(prev, k), "Scan out of order: %q then %q", prev, k)
		}
		first = false
		prev = append(prev[:0], k...)
		out[string(k)] = string(v)
		return true
	}))
	for k, v := range out {
		got, ok := get(t, s, k)
		require.True(t, ok, "Scan yields %q but Get misses it", k)
		require.Equal(t, v, got, "Scan and Get disagree on %q", k)
	}
	return out
}

func testGetMissing(t *testing.T, s disk.Store) {
	_, ok := get(t, s, "nope")
	require.False(t, ok)
	require.Empty(t, keys(t, s, nil, nil))
}

func testSetGet(t *testing.T, s disk.Store) {
	set(t, s, "a", "1", "b", "2")
	v, ok := get(t, s, "a")
	require.True(t, ok)
	require.Equal(t, "1", v)
	v, ok = get(t, s, "b")
	require.True(t, ok)
	require.Equal(t, "2", v)
	_, ok = get(t, s, "c")
	require.False(t, ok)
	_, ok = get(t, s, "a\x00")
	require.False(t, ok, "a key's extension is a different key")
}

func testOverwrite(t *testing.T, s disk.Store) {
	set(t, s, "k", "old")
	set(t, s, "k", "new")
	v, ok := get(t, s, "k")
	require.True(t, ok)
	require.Equal(t, "new", v)
	require.Equal(t, []string{"k"}, keys(t, s, nil, nil))
}

func testEmptyAndNilValues(t *testing.T, s disk.Store) {
	commit(t, s, true, func(b *disk.Batch) {
		b.Set([]byte("nil"), nil)
		b.Set([]byte("empty"), []byte{})
	})
	for _, k := range []string{"nil", "empty"} {
		v, ok, err := s.Get([]byte(k))
		require.NoError(t, err)
		require.True(t, ok, "%s value must be present", k)
		require.Empty(t, v)
	}
	require.Equal(t, map[string]string{"nil": "", "empty": ""}, dump(t, s))
}

func testEmptyKey(t *testing.T, s disk.Store) {
	set(t, s, "a", "1", "", "empty key")
	v, ok := get(t, s, "")
	require.True(t, ok)
	require.Equal(t, "empty key", v)
	require.Equal(t, []string{"", "a"}, keys(t, s, nil, nil))
	require.Equal(t, []string{"", "a"}, keys(t, s, []byte{}, nil))
	commit(t, s, false, func(b *disk.Batch) { b.Delete([]byte{}) })
	_, ok = get(t, s, "")
	require.False(t, ok)
}

func testLargeValue(t *testing.T, s disk.Store) {
	big := make([]byte, 3<<20)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(r.Uint32())
	}
	commit(t, s, true, func(b *disk.Batch) { b.Set([]byte("big"), big) })
	v, ok, err := s.Get([]byte("big"))
	require.NoError(t, err)
	require.True(t, ok)
	require.True(t, bytes.Equal(big, v), "large value differs")
}

func testDelete(t *testing.T, s disk.Store) {
	set(t, s, "a", "1", "b", "2")
	commit(t, s, false, func(b *disk.Batch) {
		b.Delete([]byte("a"))
		b.Delete([]byte("missing")) // deleting what is not there is fine
	})
	_, ok := get(t, s, "a")
	require.False(t, ok)
	require.Equal(t, []string{"b"}, keys(t, s, nil, nil))
}

func testDeleteRange(t *testing.T, s disk.Store) {
	set(t, s, "a", "", "b", "", "b\x00", "", "bb", "", "c", "", "cz", "", "d", "", "d\x00", "", "e", "")
	commit(t, s, false, func(b *disk.Batch) { b.DeleteRange([]byte("b"), []byte("d")) })
	require.Equal(t, []string{"a", "d", "d\x00", "e"}, keys(t, s, nil, nil),
		"DeleteRange removes [start, end): start included, end excluded")
	// Bounds that are not keys.
	commit(t, s, false, func(b *disk.Batch) { b.DeleteRange([]byte("0"), []byte("b")) })
	require.Equal(t, []string{"d", "d\x00", "e"}, keys(t, s, nil, nil))
	commit(t, s, false, func(b *disk.Batch) { b.DeleteRange([]byte("d\x00"), []byte("zzz")) })
	require.Equal(t, []string{"d"}, keys(t, s, nil, nil))
}

func testDeleteRangeUnbounded(t *testing.T, s disk.Store) {
	set(t, s, "a", "", "b", "", "c", "", "\xff\xff", "")
	commit(t, s, false, func(b *disk.Batch) { b.DeleteRange([]byte("b"), nil) })
	require.Equal(t, []string{"a"}, keys(t, s, nil, nil), "a nil end has no upper bound")
	set(t, s, "b", "", "c", "")
	commit(t, s, false, func(b *disk.Batch) { b.DeleteRange([]byte("b"), []byte{}) })
	require.Equal(t, []string{"a"}, keys(t, s, nil, nil), "an empty end has no upper bound")
	set(t, s, "", "", "b", "")
	commit(t, s, false, func(b *disk.Batch) { b.DeleteRange(nil, nil) })
	require.Empty(t, keys(t, s, nil, nil), "DeleteRange(nil, nil) removes everything")
}

func testDeleteRangeEmpty(t *testing.T, s disk.Store) {
	set(t, s, "a", "", "b", "", "c", "")
	commit(t, s, false, func(b *disk.Batch) {
		b.DeleteRange([]byte("b"), []byte("b"))
	})
	require.Equal(t, []string{"a", "b", "c"}, keys(t, s, nil, nil), "DeleteRange(k, k) is empty")
}

func testScanOrder(t *testing.T, s disk.Store) {
	want := []string{"", "\x00", "\x00\x00", "\x01", "a", "a\x00", "a\xff", "ab", "b", "ba", "\x7f", "\x80", "\xff", "\xff\x00", "\xff\xff"}
	slices.SortFunc(want, func(a, b string) int { return bytes.Compare([]byte(a), []byte(b)) })
	shuffled := slices.Clone(want)
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(shuffled), func(i, j int) {
		shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
	})
	for _, k := range shuffled {
		set(t, s, k, "v"+k)
	}
	require.Equal(t, want, keys(t, s, nil, nil))
	require.NoError(t, s.Scan(nil, nil, func(k, v []byte) bool {
		require.Equal(t, "v"+string(k), string(v), "Scan pairs %q with the wrong value", k)
		return true
	}))
}

func testScanBounds(t *testing.T, s disk.Store) {
	set(t, s, "a", "", "b", "", "c", "", "d", "", "e", "")
	for _, tc := range []struct {
		start, end []byte
		want       []string
	}{
		{nil, nil, []string{"a", "b", "c", "d", "e"}},
		{[]byte{}, []byte{}, []string{"a", "b", "c", "d", "e"}},
		{[]byte("b"), []byte("d"), []string{"b", "c"}},
		{[]byte("b"), nil, []string{"b", "c", "d", "e"}},
		{nil, []byte("c"), []string{"a", "b"}},
		{[]byte("a\x00"), []byte("c\x00"), []string{"b", "c"}},
		{[]byte("bb"), []byte("bc"), []string{}},
		{[]byte("c"), []byte("c"), []string{}},
		{[]byte("d"), []byte("b"), []string{}},
		{[]byte("f"), nil, []string{}},
		{[]byte("e"), nil, []string{"e"}},
	} {
		require.Equal(t, tc.want, keys(t, s, tc.start, tc.end), "Scan(%q, %q)", tc.start, tc.end)
	}
}

func testScanStop(t *testing.T, s disk.Store) {
	set(t, s, "a", "", "b", "", "c", "", "d", "")
	var seen []string
	require.NoError(t, s.Scan(nil, nil, func(k, _ []byte) bool {
		seen = append(seen, string(k))
		return len(seen) < 2
	}))
	require.Equal(t, []string{"a", "b"}, seen, "Scan stops right after fn returns false")
}

func testBatchOpsInOrder(t *testing.T, s disk.Store) {
	set(t, s, "k1", "", "k2", "", "k3", "")
	commit(t, s, true, func(b *disk.Batch) {
		b.Set([]byte("x"), []byte("1"))
		b.Delete([]byte("x")) // set then delete: gone
		b.Delete([]byte("y"))
		b.Set([]byte("y"), []byte("2")) // delete then set: there
		b.Set([]byte("z"), []byte("3"))
		b.Set([]byte("z"), []byte("4")) // last set wins
		b.DeleteRange([]byte("k"), []byte("l"))
		b.Set([]byte("k2"), []byte("back")) // set inside a range deleted before it
	})
	require.Equal(t, map[string]string{"y": "2", "z": "4", "k2": "back"}, dump(t, s))
}

func testBatchAtomicOnInvalidOp(t *testing.T, s disk.Store) {
	set(t, s, "keep", "1")
	b := &disk.Batch{}
	b.Set([]byte("new"), []byte("x"))
	b.Delete([]byte("keep"))
	b.Ops = append(b.Ops, disk.Op{Kind: disk.OpKind(200), Key: []byte("bad")})
	b.Set([]byte("after"), []byte("y"))
	require.Error(t, s.Commit(b, true), "a batch with an unknown op kind must be rejected")
	require.Equal(t, map[string]string{"keep": "1"}, dump(t, s), "nothing of a rejected batch applies")
	commit(t, s, true, func(b *disk.Batch) { b.Set([]byte("later"), []byte("ok")) })
	require.Equal(t, map[string]string{"keep": "1", "later": "ok"}, dump(t, s), "the store works after a rejected batch")
}

func testEmptyBatch(t *testing.T, s disk.Store) {
	set(t, s, "a", "1")
	require.NoError(t, s.Commit(&disk.Batch{}, false))
	require.NoError(t, s.Commit(&disk.Batch{}, true))
	require.Equal(t, map[string]string{"a": "1"}, dump(t, s))
}

func testSyncedAndUnsyncedVisible(t *testing.T, s disk.Store) {
	commit(t, s, false, func(b *disk.Batch) { b.Set([]byte("unsynced"), []byte("u")) })
	commit(t, s, true, func(b *disk.Batch) { b.Set([]byte("synced"), []byte("s")) })
	commit(t, s, false, func(b *disk.Batch) { b.Set([]byte("unsynced2"), []byte("u2")) })
	require.Equal(t, map[string]string{"unsynced": "u", "synced": "s", "unsynced2": "u2"}, dump(t, s))
}

func testBatchCopied(t *testing.T, s disk.Store) {
	key, val, end := []byte("key"), []byte("value"), []byte("zz")
	b := &disk.Batch{}
	b.Set(key, val)
	require.NoError(t, s.Commit(b, false))
	copy(key, "KEY")
	copy(val, "VALUE")
	v, ok := get(t, s, "key")
	require.True(t, ok, "changing the batch's key after Commit changed the store")
	require.Equal(t, "value", v, "changing the batch's value after Commit changed the store")

	// Reusing the batch must not change what was committed either.
	set(t, s, "m", "")
	b.Ops = b.Ops[:0]
	b.DeleteRange([]byte("m"), end)
	require.NoError(t, s.Commit(b, true))
	end[0] = 'a' // would cover "key" if the store kept the slice
	b.Ops[0] = disk.Op{Kind: disk.OpSet, Key: []byte("other"), Value: []byte("x")}
	require.Equal(t, map[string]string{"key": "value"}, dump(t, s))
}

func testGetReturnsCopy(t *testing.T, s disk.Store) {
	set(t, s, "k", "value")
	v1, ok, err := s.Get([]byte("k"))
	require.NoError(t, err)
	require.True(t, ok)
	copy(v1, "XXXXX")
	v2, ok, err := s.Get([]byte("k"))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "value", string(v2), "changing what Get returned changed the store")
	require.Equal(t, "XXXXX", string(v1), "the caller may keep and change what Get returned")
}

// testManyKeysAgainstModel drives random batches over a few thousand keys and
// checks the store against a map, including random scans.
func testManyKeysAgainstModel(t *testing.T, s disk.Store) {
	r := rand.New(rand.NewPCG(5, 6))
	model := map[string]string{}
	key := func() string { return fmt.Sprintf("key/%04d", r.IntN(3000)) }
	for round := range 400 {
		var b disk.Batch
		for range 1 + r.IntN(20) {
			switch p := r.IntN(100); {
			case p < 75:
				k, v := key(), fmt.Sprint(round, r.IntN(1000))
				b.Set([]byte(k), []byte(v))
				model[k] = v
			case p < 95:
				k := key()
				b.Delete([]byte(k))
				delete(model, k)
			default:
				lo, hi := key(), key()
				if lo > hi {
					lo, hi = hi, lo
				}
				b.DeleteRange([]byte(lo), []byte(hi))
				for k := range model {
					if k >= lo && k < hi {
						delete(model, k)
					}
				}
			}
		}
		require.NoError(t, s.Commit(&b, r.IntN(4) == 0))
		if round%50 == 49 {
			require.Equal(t, model, dump(t, s))
			lo, hi := key(), key()
			var want []string
			for k := range model {
				if k >= lo && k < hi {
					want = append(want, k)
				}
			}
			slices.Sort(want)
			if want == nil {
				want = []string{}
			}
			require.Equal(t, want, keys(t, s, []byte(lo), []byte(hi)))
		}
	}
	require.Equal(t, model, dump(t, s))
}

func testErrorsAfterClose(t *testing.T, s disk.Store) {
	set(t, s, "a", "1")
	require.NoError(t, s.Close())
	_, _, err := s.Get([]byte("a"))
	require.Error(t, err, "Get after Close")
	require.Error(t, s.Scan(nil, nil, func(_, _ []byte) bool { return true }), "Scan after Close")
	var b disk.Batch
	b.Set([]byte("b"), nil)
	require.Error(t, s.Commit(&b, true), "Commit after Close")
	require.NotPanics(t, func() { _ = s.Close() }, "a second Close may return an error but not panic")
}

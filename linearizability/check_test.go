package linearizability

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testTimeout = 30 * time.Second

var (
	ok       = Outcome{Kind: Ok}
	absent   = Outcome{Kind: Ok} // a Get that found nothing
	exists   = Outcome{Kind: Exists}
	conflict = Outcome{Kind: Conflict}
	failed   = Outcome{Kind: Failed}
	unknown  = Outcome{Kind: Unknown}
)

func val(v string) Outcome { return Outcome{Kind: Ok, Value: v, Found: true} }

// rec records one complete operation.
func rec(h *History, client int, op Op, call, ret int64, out Outcome) {
	h.Return(h.Call(client, op, call), out, ret)
}

// check runs Check, and also checks the history as recorded, without
// settling its Unknown writes: the verdicts must agree.
func check(t *testing.T, h *History) Result {
	t.Helper()
	res := Check(h, testTimeout)
	require.NotEqual(t, VerdictUnknown, res.Verdict, "check timed out")
	assert.Equal(t, res.Verdict, checkRecords(h.snapshot(), testTimeout).Verdict, "settle changed the verdict")
	return res
}

func TestSequentialHistoryIsOk(t *testing.T) {
	h := &History{}
	rec(h, 0, Get("k"), 0, 1, absent)
	rec(h, 0, Insert("k", "a"), 2, 3, ok)
	rec(h, 0, Insert("k", "b"), 4, 5, exists)
	rec(h, 0, Get("k"), 6, 7, val("a"))
	rec(h, 0, Cas("k", "a", "b"), 8, 9, ok)
	rec(h, 0, Cas("k", "a", "c"), 10, 11, failed)
	rec(h, 0, Put("k", "c"), 12, 13, ok)
	rec(h, 0, Get("k"), 14, 15, val("c"))
	rec(h, 0, CasAbsent("j", "x"), 16, 17, ok)
	rec(h, 0, Get("j"), 18, 19, val("x"))

	res := check(t, h)
	assert.Equal(t, VerdictOk, res.Verdict)
	assert.Equal(t, 10, res.Ops)
	assert.Equal(t, 2, res.Keys)
	assert.Empty(t, res.Failing)
}

func TestConcurrentOverlappingOpsWithValidLinearizationAreOk(t *testing.T) {
	h := &History{}
	rec(h, 0, Put("k", "a"), 0, 10, ok)
	rec(h, 1, Put("k", "b"), 2, 12, ok)
	rec(h, 2, Get("k"), 5, 15, val("a")) // put a, get a, put b
	rec(h, 3, Get("k"), 13, 20, val("b"))
	rec(h, 1, Cas("k", "b", "c"), 16, 25, ok)
	rec(h, 0, Get("k"), 17, 30, val("b")) // before the cas
	rec(h, 2, Get("k"), 18, 31, val("c")) // after it

	assert.Equal(t, VerdictOk, check(t, h).Verdict)
}

func TestStaleReadIsIllegal(t *testing.T) {
	h := &History{}
	rec(h, 0, Put("k", "a"), 0, 1, ok)
	rec(h, 0, Put("k", "b"), 2, 3, ok)
	rec(h, 1, Get("k"), 4, 5, val("a"))

	res := check(t, h)
	assert.Equal(t, VerdictIllegal, res.Verdict)
	assert.Equal(t, "k", res.Failing)
}

func TestLostAcknowledgedWriteIsIllegal(t *testing.T) {
	h := &History{}
	rec(h, 0, Put("fine", "x"), 0, 1, ok)
	rec(h, 0, Insert("lost", "v"), 2, 3, ok)
	rec(h, 1, Get("fine"), 4, 5, val("x"))
	rec(h, 1, Get("lost"), 6, 7, absent)

	res := check(t, h)
	assert.Equal(t, VerdictIllegal, res.Verdict)
	assert.Equal(t, "lost", res.Failing)
	assert.Equal(t, 2, res.Keys)
}

func TestInsertTwiceBothOkIsIllegal(t *testing.T) {
	t.Run("sequential", func(t *testing.T) {
		h := &History{}
		rec(h, 0, Insert("k", "a"), 0, 1, ok)
		rec(h, 1, Insert("k", "b"), 5, 6, ok)
		assert.Equal(t, VerdictIllegal, check(t, h).Verdict)
	})
	t.Run("concurrent", func(t *testing.T) {
		h := &History{}
		rec(h, 0, Insert("k", "a"), 0, 10, ok)
		rec(h, 1, Insert("k", "b"), 0, 10, ok)
		assert.Equal(t, VerdictIllegal, check(t, h).Verdict)
	})
}

func TestCasOkWhenValueWasDifferentIsIllegal(t *testing.T) {
	h := &History{}
	rec(h, 0, Put("k", "a"), 0, 1, ok)
	rec(h, 1, Cas("k", "x", "y"), 2, 3, ok)
	assert.Equal(t, VerdictIllegal, check(t, h).Verdict)

	h = &History{}
	rec(h, 0, Put("k", "a"), 0, 1, ok)
	rec(h, 1, CasAbsent("k", "y"), 2, 3, ok)
	assert.Equal(t, VerdictIllegal, check(t, h).Verdict)
}

func TestUnknownWriteMayOrMayNotTakeEffect(t *testing.T) {
	for _, tc := range []struct {
		name    string
		reads   []string
		verdict Verdict
	}{
		{"took effect", []string{"b"}, VerdictOk},
		{"did not", []string{"a"}, VerdictOk},
		{"took effect late", []string{"a", "b"}, VerdictOk},
		{"cannot be undone", []string{"b", "a"}, VerdictIllegal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &History{}
			rec(h, 0, Put("k", "a"), 0, 1, ok)
			rec(h, 1, Put("k", "b"), 2, 3, unknown)
			for i, v := range tc.reads {
				at := int64(10 + 10*i)
				rec(h, 2, Get("k"), at, at+1, val(v))
			}
			assert.Equal(t, tc.verdict, check(t, h).Verdict)
		})
	}
}

func TestNeverReturnedOpCountsAsUnknown(t *testing.T) {
	h := &History{}
	rec(h, 0, Put("k", "a"), 0, 1, ok)
	h.Call(1, Cas("k", "a", "b"), 2) // never returns
	rec(h, 2, Get("k"), 10, 11, val("b"))
	rec(h, 2, Get("k"), 12, 13, val("b"))
	assert.Equal(t, VerdictOk, check(t, h).Verdict)
}

func TestUnknownWriteCannotTakeEffectBeforeItsCall(t *testing.T) {
	h := &History{}
	rec(h, 0, Put("k", "a"), 0, 1, ok)
	rec(h, 1, Get("k"), 2, 3, val("b"))
	rec(h, 2, Put("k", "b"), 5, 6, unknown)

	res := check(t, h)
	assert.Equal(t, VerdictIllegal, res.Verdict)
	assert.Equal(t, "k", res.Failing)
}

func TestUnknownInsertOnPresentKeyHasNoEffect(t *testing.T) {
	h := &History{}
	rec(h, 0, Put("k", "a"), 0, 1, ok)
	rec(h, 1, Insert("k", "b"), 2, 3, unknown)
	rec(h, 2, Get("k"), 10, 11, val("b"))
	assert.Equal(t, VerdictIllegal, check(t, h).Verdict)
}

func TestConflictIsCompatibleWithAnyState(t *testing.T) {
	h := &History{}
	rec(h, 0, Put("k", "a"), 0, 1, ok)
	rec(h, 1, Cas("k", "a", "b"), 2, 3, conflict) // expectation held
	rec(h, 1, Cas("k", "z", "b"), 4, 5, conflict) // expectation did not hold
	rec(h, 1, CasAbsent("k", "b"), 6, 7, conflict)
	rec(h, 1, Put("k", "b"), 8, 9, failed)
	rec(h, 1, Put("k", "b"), 8, 9, exists) // Exists on a non-Insert counts as Failed
	rec(h, 2, Get("k"), 10, 11, val("a"))
	rec(h, 1, Cas("j", "a", "b"), 12, 13, conflict) // on an absent key
	assert.Equal(t, VerdictOk, check(t, h).Verdict)

	// But it has no effect.
	h = &History{}
	rec(h, 0, Put("k", "a"), 0, 1, ok)
	rec(h, 1, Cas("k", "a", "b"), 2, 3, conflict)
	rec(h, 2, Get("k"), 10, 11, val("b"))
	assert.Equal(t, VerdictIllegal, check(t, h).Verdict)
}

func TestUnknownGetsAreDropped(t *testing.T) {
	h := &History{}
	rec(h, 0, Put("k", "a"), 0, 1, ok)
	rec(h, 1, Get("k"), 2, 3, Outcome{Kind: Unknown, Value: "zzz", Found: true})
	h.Call(2, Get("k"), 4) // never returns

	res := check(t, h)
	assert.Equal(t, VerdictOk, res.Verdict)
	assert.Equal(t, 1, res.Ops)
}

func TestHistoryFromManyGoroutines(t *testing.T) {
	h := &History{}
	var clock atomic.Int64
	var wg sync.WaitGroup
	for c := range 8 {
		wg.Go(func() {
			key := fmt.Sprintf("k%d", c%4) // two clients per key
			for i := range 100 {
				v := fmt.Sprintf("%d-%d", c, i)
				id := h.Call(c, Put(key, v), clock.Add(1))
				h.Return(id, ok, clock.Add(1))
				id = h.Call(c, Cas(key, v, v+"'"), clock.Add(1))
				h.Return(id, conflict, clock.Add(1))
			}
		})
	}
	wg.Wait()
	require.Equal(t, 1600, h.Len())
	res := check(t, h)
	assert.Equal(t, VerdictOk, res.Verdict)
	assert.Equal(t, 4, res.Keys)
}

func TestHistoryRejectsMisuse(t *testing.T) {
	h := &History{}
	assert.Panics(t, func() { h.Call(0, Op{Key: "k"}, 0) }, "no kind")
	assert.Panics(t, func() { h.Call(-1, Get("k"), 0) }, "negative client")
	id := h.Call(0, Get("k"), 5)
	assert.Panics(t, func() { h.Return(id, Outcome{}, 6) }, "no outcome kind")
	assert.Panics(t, func() { h.Return(id, ok, 4) }, "return before call")
	assert.Panics(t, func() { h.Return(id+1, ok, 6) }, "unknown id")
	h.Return(id, absent, 6)
	assert.Panics(t, func() { h.Return(id, absent, 7) }, "second return")
}

func TestDescriptions(t *testing.T) {
	assert.Equal(t, `cas(k, "a"→"b") → conflict`, describe(Cas("k", "a", "b"), conflict))
	assert.Equal(t, `cas(k, absent→"b") → ok`, describe(CasAbsent("k", "b"), ok))
	assert.Equal(t, `get(k) → "v"`, describe(Get("k"), val("v")))
	assert.Equal(t, `get(k) → absent`, describe(Get("k"), absent))
	assert.Equal(t, `insert(k, "v") → exists`, describe(Insert("k", "v"), exists))
	assert.Equal(t, `put(k, "v") → unknown`, describe(Put("k", "v"), unknown))
	assert.Equal(t, `absent`, state{}.String())
	assert.Equal(t, `"v"`, state{"v", true}.String())
}

func TestUnknownWriteWithSharedValue(t *testing.T) {
	// "a" is written twice, so the Unknown write stays pending until +∞.
	for _, tc := range []struct {
		name    string
		reads   []string
		verdict Verdict
	}{
		{"took effect", []string{"b", "a"}, VerdictOk},
		{"did not", []string{"b", "b"}, VerdictOk},
		{"not before its call", []string{"a", "b", "a"}, VerdictIllegal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &History{}
			rec(h, 0, Put("k", "a"), 0, 1, ok)
			rec(h, 0, Put("k", "b"), 2, 3, ok)
			for i, v := range tc.reads {
				at := int64(10 + 10*i)
				rec(h, 2, Get("k"), at, at+1, val(v))
				if i == 0 {
					h.Call(1, Put("k", "a"), at+5) // never returns
				}
			}
			assert.Equal(t, tc.verdict, check(t, h).Verdict)
		})
	}
}

func TestSettle(t *testing.T) {
	h := &History{}
	rec(h, 0, Put("k", "a"), 0, 1, ok)
	read := h.Call(1, Put("k", "read"), 2)
	h.Return(read, unknown, 3)
	rec(h, 2, Get("k"), 10, 20, val("read"))
	rec(h, 2, Cas("k", "read", "x"), 15, 25, ok) // a later reader
	unseen := h.Call(1, Put("k", "unseen"), 30)
	expected := h.Call(1, Put("k", "expected"), 31)
	casY := h.Call(2, Cas("k", "expected", "y"), 32) // may need it; never returns
	refused := h.Call(1, Put("k", "refused"), 33)
	rec(h, 2, Cas("k", "refused", "z"), 33, 34, conflict) // needs nothing
	twice := h.Call(1, Put("k", "twice"), 34)
	rec(h, 2, Put("k", "twice"), 35, 36, failed)
	early := h.Call(1, Put("j", "early"), 0) // before j is known to be present
	rec(h, 2, Insert("j", "v"), 5, 6, ok)
	h.Call(1, Get("k"), 40)

	byID := map[int]record{}
	for _, r := range settle(h.snapshot()) {
		byID[r.id] = r
	}
	assert.Equal(t, Outcome{Kind: Ok}, byID[read].out, "its value was read: it took effect")
	assert.Equal(t, int64(20), byID[read].ret, "by the first reader's return")
	assert.NotContains(t, byID, unseen, "nothing could see it")
	assert.NotContains(t, byID, refused, "only a Cas that failed expected it")
	assert.NotContains(t, byID, casY, "nothing could see its value either")
	for name, id := range map[string]int{"expected": expected, "twice": twice, "early": early} {
		require.Contains(t, byID, id, name)
		assert.Equal(t, unknown, byID[id].out, name)
		assert.Equal(t, never, byID[id].ret, name)
	}
	assert.Len(t, byID, h.Len()-3)
}

// Settling Unknown writes never changes a verdict: random small histories
// with many Unknown writes, half of them with one read corrupted to another
// value written to the key, are checked with and without it.
func TestSettleKeepsVerdicts(t *testing.T) {
	verdicts := map[Verdict]int{}
	settled := 0
	for seed := range uint64(1000) {
		ops := genHistory(GenConfig{Seed: seed, Keys: 2, OpsPerKey: 25, Clients: 2 + int(seed%5), UnknownOneIn: 3})
		if seed%2 == 1 {
			ops.corruptRead(seed)
		}
		recs := ops.record().snapshot()
		got, want := checkRecords(settle(recs), testTimeout), checkRecords(recs, testTimeout)
		require.NotEqual(t, VerdictUnknown, want.Verdict)
		require.Equal(t, want.Verdict, got.Verdict, "seed %d", seed)
		verdicts[want.Verdict]++
		settled += len(recs) - got.Ops
	}
	assert.Greater(t, verdicts[VerdictOk], 200)
	assert.Greater(t, verdicts[VerdictIllegal], 200)
	assert.Greater(t, settled, 1000)
}

func TestPartitionedHistoryChecksFast(t *testing.T) {
	ops := genHistory(GenConfig{Seed: 1, Keys: 50, OpsPerKey: 200, Clients: 100, UnknownOneIn: 20})
	h := ops.record()
	start := time.Now()
	res := Check(h, testTimeout)
	elapsed := time.Since(start)
	assert.Equal(t, VerdictOk, res.Verdict)
	assert.Equal(t, 50, res.Keys)
	assert.Greater(t, res.Ops, 9000)
	assert.Less(t, elapsed, 2*time.Second)

	// Corrupt one read: the check finds it and names its key.
	i := ops.corruptRead(1)
	res = Check(ops.record(), testTimeout)
	assert.Equal(t, VerdictIllegal, res.Verdict)
	assert.Equal(t, ops[i].op.Key, res.Failing)
}

func TestIllegalHistoryWritesVisualization(t *testing.T) {
	h := &History{}
	rec(h, 0, Put("k", "a"), 0, 1, ok)
	rec(h, 0, Put("k", "b"), 2, 3, ok)
	rec(h, 1, Get("k"), 4, 5, val("a"))
	h.Call(1, Put("j", "b"), 6)
	res := check(t, h)
	require.Equal(t, VerdictIllegal, res.Verdict)

	path := filepath.Join(t.TempDir(), "history.html")
	require.NoError(t, WriteVisualization(res, path))
	html, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.NotEmpty(t, html)
	assert.Contains(t, string(html), `get(k) → \"a\"`)
	assert.Contains(t, string(html), `put(j, \"b\") → unknown`)
}

// BenchmarkCheck10kOps reports porcupine's check time per 10k operations
// (SPEC N1): 50 keys, 100 clients, unique values, one operation in twenty
// ending Unknown.
func BenchmarkCheck10kOps(b *testing.B) {
	h := genHistory(GenConfig{Seed: 1, Keys: 50, OpsPerKey: 200, Clients: 100, UnknownOneIn: 20}).record()
	for b.Loop() {
		if res := Check(h, 0); res.Verdict != VerdictOk {
			b.Fatal(res)
		}
	}
}

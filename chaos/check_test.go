package chaos

import (
	"strings"
	"testing"
	"time"

	lin "github.com/picogo/picogo/linearizability"
)

// The end-of-run checks must be able to say no: each test feeds them a
// run's evidence with one known defect and expects it refused — and the
// same evidence without the defect accepted.

func acked(client int, op lin.Op, index, term uint64) writeRecord {
	return writeRecord{Client: client, Op: op, Out: lin.Ok, Index: index, Term: term}
}

func ended(client int, op lin.Op, out lin.OutcomeKind) writeRecord {
	return writeRecord{Client: client, Op: op, Out: out}
}

func present(v string) finalValue { return finalValue{Value: v, Found: true} }

func requireOne(t *testing.T, what string, got []string, fragments ...string) {
	t.Helper()
	if len(got) != 1 {
		t.Fatalf("%s: %d findings %q; want 1", what, len(got), got)
	}
	for _, f := range fragments {
		if !strings.Contains(got[0], f) {
			t.Errorf("%s: %q does not mention %q", what, got[0], f)
		}
	}
}

func requireNone(t *testing.T, what string, got []string) {
	t.Helper()
	if len(got) != 0 {
		t.Fatalf("%s: %q; want nothing", what, got)
	}
}

func TestCheckWritesAcceptsFinalStateOfLastAckedWrite(t *testing.T) {
	writes := []writeRecord{
		acked(0, lin.Insert("k0", "c0.1"), 10, 2),
		acked(1, lin.Cas("k0", "c0.1", "c1.1"), 12, 2),
		ended(2, lin.Put("k0", "c2.1"), lin.Unknown), // never took effect
		ended(0, lin.Insert("k0", "c0.2"), lin.Exists),
		ended(1, lin.Cas("k0", "zz", "c1.2"), lin.Conflict),
		acked(2, lin.Put("k1", "c2.2"), 11, 2),
	}
	lost, other := checkWrites(writes, map[string]finalValue{"k0": present("c1.1"), "k1": present("c2.2"), "k2": {}}, false)
	requireNone(t, "lost", lost)
	requireNone(t, "other", other)
}

func TestCheckWritesRefusesOlderValueAfterAckedWrite(t *testing.T) {
	// The write at index 20 was acknowledged, but the key ends with the
	// value written at 10: the write at 20 is lost.
	writes := []writeRecord{
		acked(0, lin.Put("k0", "c0.1"), 10, 2),
		acked(1, lin.Put("k0", "c1.1"), 20, 3),
	}
	lost, other := checkWrites(writes, map[string]finalValue{"k0": present("c0.1")}, false)
	requireOne(t, "lost", lost, `put(k0, "c1.1")`, "index 20", `"c0.1"`, "index 10")
	requireNone(t, "other", other)
}

func TestCheckWritesRefusesAbsentKeyAfterAckedWrite(t *testing.T) {
	writes := []writeRecord{acked(3, lin.Insert("k5", "c3.7"), 42, 4)}
	lost, _ := checkWrites(writes, map[string]finalValue{"k5": {}}, false)
	requireOne(t, "lost", lost, `insert(k5, "c3.7")`, "index 42", "absent")
}

func TestCheckWritesRefusesTwoAcksAtOneIndex(t *testing.T) {
	// Two leaders of different terms both answered index 7: only one
	// entry can be there in the end.
	writes := []writeRecord{
		acked(0, lin.Put("k0", "c0.1"), 7, 2),
		acked(1, lin.Put("k1", "c1.1"), 7, 3),
	}
	lost, _ := checkWrites(writes, map[string]finalValue{"k0": present("c0.1"), "k1": present("c1.1")}, false)
	requireOne(t, "lost", lost, "both acknowledged at index 7", "terms 2 and 3")
}

func TestCheckWritesRefusesValueNobodyWroteOrARefusedWrite(t *testing.T) {
	writes := []writeRecord{
		acked(0, lin.Insert("k0", "c0.1"), 5, 2),
		ended(1, lin.Cas("k0", "c0.1", "c1.1"), lin.Conflict),
		ended(1, lin.Cas("k0", "c0.1", "c1.2"), lin.Failed),
	}
	_, other := checkWrites(writes, map[string]finalValue{"k0": present("c1.1")}, false)
	requireOne(t, "refused write visible", other, `"c1.1"`, "refused (conflict)")
	_, other = checkWrites(writes, map[string]finalValue{"k0": present("c1.2")}, false)
	requireOne(t, "refused write visible", other, `"c1.2"`, "refused (failed)")
	_, other = checkWrites(writes, map[string]finalValue{"k0": present("garbage")}, false)
	requireOne(t, "unknown value", other, `"garbage" was never written`)
	_, other = checkWrites(writes, map[string]finalValue{}, false)
	requireOne(t, "no final read", other, "no final read")
}

func TestCheckWritesAcceptsIndeterminateFinalWrite(t *testing.T) {
	// The final value comes from a write whose answer was lost: it took
	// effect, after the acknowledged one, which is not lost.
	writes := []writeRecord{
		acked(0, lin.Put("k0", "c0.1"), 10, 2),
		ended(1, lin.Put("k0", "c1.1"), lin.Unknown),
	}
	lost, other := checkWrites(writes, map[string]finalValue{"k0": present("c1.1")}, false)
	requireNone(t, "lost", lost)
	requireNone(t, "other", other)
}

func TestCheckReplicasRefusesDivergentReplica(t *testing.T) {
	final := map[string]finalValue{"k0": present("a"), "k1": {}}
	requireNone(t, "same", checkReplicas(final, map[string]map[string]string{
		"i1": {"k0": "a"}, "i2": {"k0": "a"},
	}))
	requireOne(t, "stale", checkReplicas(final, map[string]map[string]string{
		"i1": {"k0": "a"}, "i2": {"k0": "old"},
	}), "replica i2", `k0="old" (final "a")`)
	requireOne(t, "extra row", checkReplicas(final, map[string]map[string]string{
		"i1": {"k0": "a", "k1": "x"},
	}), "replica i1", `k1="x" (final absent)`)
	requireOne(t, "missing row", checkReplicas(final, map[string]map[string]string{
		"i3": {},
	}), "replica i3", `k0=absent (final "a")`)
}

// TestJudgeRefusesLostWriteAndStaleFinalRead: a write acknowledged before
// the final read began, which the final read does not see. The history
// check refuses it (the final read is in the history), and so does the
// acknowledged-write check.
func TestJudgeRefusesLostWriteAndStaleFinalRead(t *testing.T) {
	build := func(finalRead string) evidence {
		h := &lin.History{}
		rec := func(client int, op lin.Op, call, ret int64, out lin.Outcome) {
			h.Return(h.Call(client, op, call), out, ret)
		}
		rec(0, lin.Insert("k0", "c0.1"), 0, 10, lin.Outcome{Kind: lin.Ok})
		rec(1, lin.Get("k0"), 11, 12, lin.Outcome{Kind: lin.Ok, Value: "c0.1", Found: true})
		rec(1, lin.Cas("k0", "c0.1", "c1.1"), 13, 20, lin.Outcome{Kind: lin.Ok})
		rec(2, lin.Put("k0", "c2.1"), 5, 9, lin.Outcome{Kind: lin.Unknown}) // before the cas, or never
		rec(3, lin.Get("k0"), 30, 31, lin.Outcome{Kind: lin.Ok, Value: finalRead, Found: true})
		return evidence{
			history: h,
			writes: []writeRecord{
				acked(0, lin.Insert("k0", "c0.1"), 10, 2),
				acked(1, lin.Cas("k0", "c0.1", "c1.1"), 14, 2),
				ended(2, lin.Put("k0", "c2.1"), lin.Unknown),
			},
			final:    map[string]finalValue{"k0": present(finalRead)},
			replicas: map[string]map[string]string{"i1": {"k0": finalRead}},
		}
	}
	ok := judge(build("c1.1"), 10*time.Second)
	if ok.lin.Verdict != lin.VerdictOk || len(ok.lost) != 0 || len(ok.other) != 0 {
		t.Fatalf("the sound run: %v, lost %q, other %q; want linearizable and nothing else", ok.lin, ok.lost, ok.other)
	}
	bad := judge(build("c0.1"), 10*time.Second)
	if bad.lin.Verdict != lin.VerdictIllegal || bad.lin.Failing != "k0" {
		t.Errorf("the stale final read: %v; want illegal on k0", bad.lin)
	}
	requireOne(t, "lost", bad.lost, `cas(k0, "c0.1"→"c1.1")`, "index 14")
}

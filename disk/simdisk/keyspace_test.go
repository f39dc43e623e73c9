package simdisk

import (
	"bytes"
	"fmt"
	"testing"
)

// TestKeyspaceAgainstModel drives keyspaces with tiny chunks (so that splits
// and merges happen all the time) through random operations and checks them
// against a sorted model after every step.
func TestKeyspaceAgainstModel(t *testing.T) {
	for _, max := range []int{2, 3, 4, 8, defaultChunk} {
		for seed := range uint64(20) {
			r := rng(seed)
			ks := newKeyspace(max)
			model := map[string]string{}
			key := func() []byte { return fmt.Appendf(nil, "%03d", r.IntN(200)) }
			for step := range 1500 {
				switch p := r.IntN(100); {
				case p < 60:
					k, v := key(), fmt.Sprint(step)
					ks.set(k, []byte(v))
					model[string(k)] = v
				case p < 90:
					k := key()
					ks.delete(k)
					delete(model, string(k))
				default:
					lo, hi := key(), key()
					if r.IntN(5) == 0 {
						hi = nil
					}
					ks.deleteRange(lo, hi)
					for k := range model {
						if k >= string(lo) && (hi == nil || k < string(hi)) {
							delete(model, k)
						}
					}
				}
				checkKeyspace(t, ks, model, fmt.Sprintf("max %d seed %d step %d", max, seed, step))
			}
		}
	}
}

// checkKeyspace compares ks with model and checks its invariants. It uses
// plain comparisons, as it runs after every step.
func checkKeyspace(t *testing.T, ks *keyspace, model map[string]string, where string) {
	t.Helper()
	var got []string
	for ci, c := range ks.chunks {
		if len(c) == 0 || len(c) > ks.max {
			t.Fatalf("%s: chunk %d holds %d entries (max %d)", where, ci, len(c), ks.max)
		}
		for _, e := range c {
			if len(got) > 0 && bytes.Compare([]byte(got[len(got)-1]), e.key) >= 0 {
				t.Fatalf("%s: %q then %q", where, got[len(got)-1], e.key)
			}
			got = append(got, string(e.key))
			if v, ok := model[string(e.key)]; !ok || v != string(e.value) {
				t.Fatalf("%s: %q = %q, model has %q (%v)", where, e.key, e.value, v, ok)
			}
		}
	}
	if len(got) != len(model) || ks.len() != len(model) {
		t.Fatalf("%s: %d keys (len %d), model has %d", where, len(got), ks.len(), len(model))
	}
	for k, v := range model {
		if e, ok := ks.get([]byte(k)); !ok || string(e.value) != v {
			t.Fatalf("%s: get(%q) = %q, %v; model has %q", where, k, e.value, ok, v)
		}
	}
}

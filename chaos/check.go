package chaos

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	lin "github.com/picogo/picogo/linearizability"
)

// finalValue is a key's value at the end of the run, read linearizably.
type finalValue struct {
	Value string
	Found bool
}

func (f finalValue) String() string {
	if !f.Found {
		return "absent"
	}
	return fmt.Sprintf("%q", f.Value)
}

// evidence is what the run gathered for the verdict.
type evidence struct {
	// history holds every client operation, then the final reads.
	history *lin.History
	// writes is every CaS the clients sent, with its outcome.
	writes []writeRecord
	// final is each key's value read linearizably after the cluster
	// settled; keys never read are not in it.
	final map[string]finalValue
	// replicas is each instance's whole kv table (key → value), read once
	// it had applied everything the leader had after the final reads.
	replicas map[string]map[string]string
	// unordered: the writes carry no log index (the sharded workload's
	// router writes), so only the final values' existence is checked
	// against them; the linearizability check judges the order.
	unordered bool
}

// verdict is the judgement of a run's evidence.
type verdict struct {
	lin lin.Result
	// lost describes each acknowledged write the final state contradicts.
	lost []string
	// other describes any other inconsistency of the final state: a value
	// nobody wrote, a write refused that took effect, replicas that differ.
	other []string
}

// judge checks the evidence: the history (with the final reads in it) for
// linearizability, every acknowledged write against the final state, and
// every replica against the final state.
func judge(ev evidence, timeout time.Duration) verdict {
	v := verdict{lin: lin.Check(ev.history, timeout)}
	v.lost, v.other = checkWrites(ev.writes, ev.final, ev.unordered)
	v.other = append(v.other, checkReplicas(ev.final, ev.replicas)...)
	return v
}

// checkWrites checks every acknowledged write against the final state.
//
// Values are unique, so a key's final value names the write that put it
// there — the last write to the key that took effect, in log order. An
// acknowledged write was applied at the index .proc_cas answered, so:
//   - a key that is absent at the end lost every acknowledged write to it
//     (nothing deletes);
//   - if the final value's write was acknowledged at index i, every
//     acknowledged write to the key at an index after i is lost (a later
//     entry writing the key would have replaced it);
//   - two writes acknowledged at the same index: one of them is lost;
//   - a final value nobody wrote, or that only a write refused with a
//     definite answer (Exists, Conflict, Failed) wrote, is an
//     inconsistency too.
//
// A final value written by an indeterminate write says nothing about the
// order; the linearizability check judges those.
//
// With unordered, the writes have no index: the checks of indexes are
// skipped.
func checkWrites(writes []writeRecord, final map[string]finalValue, unordered bool) (lost, other []string) {
	type kv struct{ key, value string }
	byValue := map[kv]writeRecord{}
	atIndex := map[uint64]writeRecord{}
	acked := map[string][]writeRecord{}
	for _, w := range writes {
		byValue[kv{w.Op.Key, w.Op.Value}] = w
		if w.Out != lin.Ok {
			continue
		}
		if prev, dup := atIndex[w.Index]; dup && !unordered {
			lost = append(lost, fmt.Sprintf("%s (client %d) and %s (client %d) were both acknowledged at index %d (terms %d and %d)",
				prev.Op, prev.Client, w.Op, w.Client, w.Index, prev.Term, w.Term))
		}
		atIndex[w.Index] = w
		acked[w.Op.Key] = append(acked[w.Op.Key], w)
	}
	keys := slices.Sorted(maps.Keys(acked))
	for k := range final {
		if _, ok := acked[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, key := range keys {
		f, read := final[key]
		ws := acked[key]
		if !read {
			other = append(other, fmt.Sprintf("key %s: %d acknowledged writes, but no final read", key, len(ws)))
			continue
		}
		if !f.Found {
			for _, w := range ws {
				lost = append(lost, fmt.Sprintf("%s (client %d) acknowledged at index %d term %d: key %s is absent at the end",
					w.Op, w.Client, w.Index, w.Term, key))
			}
			continue
		}
		last, ok := byValue[kv{key, f.Value}]
		switch {
		case !ok:
			other = append(other, fmt.Sprintf("key %s: final value %q was never written", key, f.Value))
			continue
		case last.Out == lin.Exists || last.Out == lin.Conflict || last.Out == lin.Failed:
			other = append(other, fmt.Sprintf("key %s: final value %q was written by %s (client %d), which was refused (%s)",
				key, f.Value, last.Op, last.Client, last.Out))
			continue
		case last.Out != lin.Ok || unordered:
			continue // indeterminate: no index to compare with
		}
		for _, w := range ws {
			if w.Index > last.Index {
				lost = append(lost, fmt.Sprintf("%s (client %d) acknowledged at index %d term %d: key %s ends with %q, written at index %d",
					w.Op, w.Client, w.Index, w.Term, key, f.Value, last.Index))
			}
		}
	}
	return lost, other
}

// checkReplicas compares every instance's kv table with the final values.
func checkReplicas(final map[string]finalValue, replicas map[string]map[string]string) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(replicas)) {
		table := replicas[name]
		var diffs []string
		for _, key := range slices.Sorted(maps.Keys(final)) {
			f := final[key]
			v, ok := table[key]
			if ok != f.Found || v != f.Value {
				got := "absent"
				if ok {
					got = fmt.Sprintf("%q", v)
				}
				diffs = append(diffs, fmt.Sprintf("%s=%s (final %s)", key, got, f))
			}
		}
		for _, key := range slices.Sorted(maps.Keys(table)) {
			if _, ok := final[key]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s=%q (never read)", key, table[key]))
			}
		}
		if len(diffs) > 0 {
			out = append(out, fmt.Sprintf("replica %s differs from the final state: %s", name, strings.Join(diffs, ", ")))
		}
	}
	return out
}

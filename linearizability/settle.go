package linearizability

// settle narrows down Unknown writes using what the rest of the history
// observed, so that porcupine is not left with many operations pending until
// +∞: each one multiplies its search, and refuting a bad history with a few
// dozen of them on one key does not finish.
//
// It only touches an Unknown Put, Insert or Cas whose value no other write to
// its key writes (hence: workloads should write unique values), and the
// result is linearizable exactly when the input is:
//
//   - If a Get returned the value, or a Cas that ended Ok expected it, the
//     write took effect (nothing else writes that value), before the first
//     such reader returned: it becomes Ok, returning then.
//   - If nothing returned the value or may have needed it (a Cas expecting it
//     that ended Ok or Unknown), and an operation that returned before the
//     write was called proves the key present, it is dropped, which is the
//     same as linearizing it after every other operation. Its value satisfies
//     no one, and the only other thing it could do, make the key present for
//     an Insert that ends Exists, is moot: there is no delete, so a key once
//     present stays present.
//   - Otherwise it stays Unknown.
func settle(recs []record) []record {
	type keyValue struct{ key, value string }
	var (
		writers    = map[keyValue]int{}
		readBy     = map[keyValue]int64{} // earliest return of an Ok Get or Cas that saw the value
		referenced = map[keyValue]bool{}  // read, or expected by a Cas that may have needed it
		presentBy  = map[string]int64{}   // earliest return of an op that proves the key present
	)
	earliest := func(m map[keyValue]int64, kv keyValue, at int64) {
		if t, ok := m[kv]; !ok || at < t {
			m[kv] = at
		}
	}
	for _, r := range recs {
		key := r.op.Key
		if r.op.Kind == OpGet {
			if r.out.Kind == Ok && r.out.Found {
				kv := keyValue{key, r.out.Value}
				referenced[kv] = true
				earliest(readBy, kv, r.ret)
			}
		} else {
			writers[keyValue{key, r.op.Value}]++
			if r.op.Kind == OpCas && !r.op.ExpectAbsent && (r.out.Kind == Ok || r.out.Kind == Unknown) {
				kv := keyValue{key, r.op.Expect}
				referenced[kv] = true
				if r.out.Kind == Ok {
					earliest(readBy, kv, r.ret)
				}
			}
		}
		if (r.out.Kind == Ok && (r.op.Kind != OpGet || r.out.Found)) || (r.out.Kind == Exists && r.op.Kind == OpInsert) {
			if t, ok := presentBy[key]; !ok || r.ret < t {
				presentBy[key] = r.ret
			}
		}
	}

	out := make([]record, 0, len(recs))
	for _, r := range recs {
		kv := keyValue{r.op.Key, r.op.Value}
		if r.out.Kind == Unknown && r.op.Kind != OpGet && writers[kv] == 1 {
			at, read := readBy[kv]
			present, known := presentBy[r.op.Key]
			switch {
			case read && at >= r.call:
				r.out, r.ret = Outcome{Kind: Ok}, at
				r.note = "ended Unknown; took effect, as its value was read"
			case !referenced[kv] && known && present < r.call:
				continue
			}
		}
		out = append(out, r)
	}
	return out
}

package linearizability

import (
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/anishathalye/porcupine"
)

// state is the value of one key.
type state struct {
	value   string
	present bool
}

func (s state) String() string {
	if !s.present {
		return "absent"
	}
	return fmt.Sprintf("%q", s.value)
}

// apply returns the state after op takes effect on s, and whether it had an
// effect at all (a Get never has; an Insert on a present key or a Cas whose
// expectation fails has none).
func apply(s state, op Op) (state, bool) {
	switch op.Kind {
	case OpPut:
		return state{op.Value, true}, true
	case OpInsert:
		if !s.present {
			return state{op.Value, true}, true
		}
	case OpCas:
		if (op.ExpectAbsent && !s.present) || (!op.ExpectAbsent && s.present && s.value == op.Expect) {
			return state{op.Value, true}, true
		}
	}
	return s, false
}

// step is the sequential specification of one key: whether op can end with
// out in state s, and the state after it.
//
// An Unknown operation is accepted in every state and takes effect if it can.
// That is the "took effect here" branch; "did not take effect" needs no
// branch of its own, because an Unknown operation returns at +∞ (see
// [History.Return]) and porcupine may linearize it after every other
// operation, where its effect is seen by nothing.
func step(s state, op Op, out Outcome) (bool, state) {
	switch out.Kind {
	case Ok:
		if op.Kind == OpGet {
			return out.Found == s.present && (!s.present || out.Value == s.value), s
		}
		next, ok := apply(s, op)
		return ok, next
	case Exists:
		return op.Kind != OpInsert || s.present, s
	case Unknown:
		next, _ := apply(s, op)
		return true, next
	default: // Conflict, Failed: no effect, nothing learned.
		return true, s
	}
}

// keyModel is the porcupine model of one key; histories are partitioned by
// key.
var keyModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		_, parts := partition(history)
		return parts
	},
	Init: func() any { return state{} },
	Step: func(s, input, output any) (bool, any) {
		return step(s.(state), input.(Op), output.(Outcome))
	},
	Hash: func(s any) uint64 {
		st := s.(state)
		h := fnv.New64a()
		if st.present {
			h.Write([]byte{1})
			h.Write([]byte(st.value))
		}
		return h.Sum64()
	},
	DescribeOperation: func(input, output any) string {
		return describe(input.(Op), output.(Outcome))
	},
	DescribeState: func(s any) string { return s.(state).String() },
}

// partition splits a history by key, keys in sorted order and operations in
// their original order, so that partition i is always the i-th key.
func partition(history []porcupine.Operation) ([]string, [][]porcupine.Operation) {
	byKey := map[string][]porcupine.Operation{}
	for _, op := range history {
		k := op.Input.(Op).Key
		byKey[k] = append(byKey[k], op)
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([][]porcupine.Operation, len(keys))
	for i, k := range keys {
		parts[i] = byKey[k]
	}
	return keys, parts
}

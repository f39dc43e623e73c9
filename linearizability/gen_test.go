package linearizability

import "math/rand/v2"

// corruptRead makes a definite Get from the second half of the history return
// another value written to its key, or absent, and returns its index.
func (ops genOps) corruptRead(seed uint64) int {
	rng := rand.New(rand.NewPCG(seed, 1))
	i := len(ops) / 2
	for ops[i].op.Kind != OpGet || ops[i].unknown {
		i = (i + 1) % len(ops)
	}
	var others []Outcome
	for _, g := range ops {
		if g.op.Key == ops[i].op.Key && g.op.Kind != OpGet && g.op.Value != ops[i].out.Value {
			others = append(others, val(g.op.Value))
		}
	}
	if ops[i].out.Found || len(others) == 0 {
		others = append(others, absent)
	}
	ops[i].out = others[rng.IntN(len(others))]
	return i
}

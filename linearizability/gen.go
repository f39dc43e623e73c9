package linearizability

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
)

// GenConfig shapes a generated history.
type GenConfig struct {
	Seed         uint64
	Keys         int
	OpsPerKey    int
	Clients      int // each runs one operation at a time
	UnknownOneIn int // one operation in this many ends Unknown
}

// genOp is one operation of a generated history.
type genOp struct {
	client    int
	op        Op
	call, ret int64
	point     int64 // when it takes effect
	unknown   bool  // ends Unknown
	applies   bool  // an Unknown one that takes effect
	out       Outcome
}

type genOps []genOp

// genHistory generates a linearizable history: clients issue operations on
// random keys, each taking effect at a random instant inside its interval;
// those that end Unknown take effect (perhaps long after their client gave up)
// or never do. Written values are unique.
func genHistory(cfg GenConfig) genOps {
	rng := rand.New(rand.NewPCG(cfg.Seed, 0))
	var keyOrder []string
	for k := range cfg.Keys {
		for range cfg.OpsPerKey {
			keyOrder = append(keyOrder, fmt.Sprintf("k%02d", k))
		}
	}
	rng.Shuffle(len(keyOrder), func(i, j int) { keyOrder[i], keyOrder[j] = keyOrder[j], keyOrder[i] })

	written := map[string][]string{} // per key, in generation order
	value := func(i int) string { return fmt.Sprint(i) }
	expect := func(key string, i int) string {
		if w := written[key]; len(w) > 0 {
			return w[max(0, len(w)-1-rng.IntN(3))] // one of the last few
		}
		return value(i)
	}

	clock := make([]int64, cfg.Clients)
	ops := make(genOps, len(keyOrder))
	for i, key := range keyOrder {
		c := i % cfg.Clients
		g := genOp{client: c, call: clock[c] + rng.Int64N(5)}
		dur := 1 + rng.Int64N(50)
		g.ret = g.call + dur
		g.point = g.call + rng.Int64N(dur+1)
		switch r := rng.IntN(10); {
		case r < 3:
			g.op = Get(key)
		case r < 5:
			g.op = Put(key, value(i))
		case r < 6:
			g.op = Insert(key, value(i))
		case r < 7:
			g.op = CasAbsent(key, value(i))
		default:
			g.op = Cas(key, expect(key, i), value(i))
		}
		if g.op.Kind != OpGet {
			written[key] = append(written[key], g.op.Value)
		}
		if rng.IntN(cfg.UnknownOneIn) == 0 {
			g.unknown, g.applies = true, rng.IntN(2) == 0
			g.point = g.call + rng.Int64N(10*dur)
		}
		clock[c] = g.ret
		ops[i] = g
	}

	order := make([]int, len(ops))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return cmp.Compare(ops[i].point, ops[j].point) })
	store := map[string]state{}
	for _, i := range order {
		g := &ops[i]
		s := store[g.op.Key]
		next, effect := apply(s, g.op)
		switch {
		case g.unknown:
			g.out = Outcome{Kind: Unknown}
			if g.applies && effect {
				store[g.op.Key] = next
			}
		case g.op.Kind == OpGet:
			g.out = Outcome{Kind: Ok, Value: s.value, Found: s.present}
		case effect && g.op.Kind == OpCas && rng.IntN(10) == 0:
			g.out = Outcome{Kind: Conflict} // spurious
		case effect:
			g.out = Outcome{Kind: Ok}
			store[g.op.Key] = next
		case g.op.Kind == OpInsert:
			g.out = Outcome{Kind: Exists}
		default:
			g.out = Outcome{Kind: Failed}
		}
	}
	return ops
}

// record writes ops into a new History; half the Unknown ones never return.
func (ops genOps) record() *History {
	h := &History{}
	for i, g := range ops {
		id := h.Call(g.client, g.op, g.call)
		if !g.unknown || i%2 == 0 {
			h.Return(id, g.out, g.ret)
		}
	}
	return h
}

// Generate returns a linearizable history shaped by cfg (see genHistory):
// a known-good input for measuring or testing a checker.
func Generate(cfg GenConfig) *History { return genHistory(cfg).record() }

package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"time"

	lin "github.com/picogo/picogo/linearizability"
	"github.com/picogo/picogo/sim"
)

// SimResult is the simulator's and porcupine's speed.
type SimResult struct {
	Seeds    int           // seeds run on one goroutine
	Failed   []uint64      // seeds that failed (a simulator finding, not a bench error)
	Virtual  time.Duration // virtual time they covered
	Wall     time.Duration // wall time they took, summed
	Events   uint64
	Parallel struct {
		Workers int
		Seeds   int
		Wall    time.Duration
	}
	// CheckOps is the size of the history checked; CheckTimes one wall
	// time per check.
	CheckOps   int
	CheckTimes []time.Duration
}

// VirtualPerWall is virtual seconds simulated per wall second (one
// goroutine).
func (r SimResult) VirtualPerWall() float64 {
	if r.Wall <= 0 {
		return 0
	}
	return r.Virtual.Seconds() / r.Wall.Seconds()
}

// SeedsPerMinute is seeds per wall minute on one goroutine.
func (r SimResult) SeedsPerMinute() float64 {
	if r.Wall <= 0 {
		return 0
	}
	return float64(r.Seeds) / r.Wall.Minutes()
}

// ParallelSeedsPerMinute is seeds per wall minute with one worker per CPU
// (as `make sim` runs them).
func (r SimResult) ParallelSeedsPerMinute() float64 {
	if r.Parallel.Wall <= 0 {
		return 0
	}
	return float64(r.Parallel.Seeds) / r.Parallel.Wall.Minutes()
}

// CheckPer10k is the median check time scaled to 10,000 operations.
func (r SimResult) CheckPer10k() time.Duration {
	if len(r.CheckTimes) == 0 || r.CheckOps == 0 {
		return 0
	}
	ts := slices.Clone(r.CheckTimes)
	slices.Sort(ts)
	med := ts[len(ts)/2]
	return time.Duration(float64(med) * 10000 / float64(r.CheckOps))
}

// runSim runs seeds [1, 1+seeds) of the simulator's default mix of worlds
// one at a time (virtual seconds per wall second, seeds per minute), then
// the same seeds on one worker per CPU, each part stopping early once
// budget has passed; then porcupine checks a generated 10k-operation
// history until budget/2 has passed (at least 3 times).
func runSim(ctx context.Context, seeds int, budget time.Duration, progress func(string)) (SimResult, error) {
	var r SimResult
	start := time.Now()
	for s := uint64(1); s <= uint64(seeds); s++ {
		if ctx.Err() != nil {
			return r, ctx.Err()
		}
		if r.Seeds > 0 && time.Since(start) > budget {
			progress(fmt.Sprintf("sim: stopped after %d seeds (budget %v)", r.Seeds, budget))
			break
		}
		res := sim.Run(sim.Options{Seed: s})
		r.Seeds++
		r.Virtual += res.Virtual
		r.Wall += res.Wall
		r.Events += res.Events
		if res.Err != nil {
			r.Failed = append(r.Failed, s)
		}
	}
	progress(fmt.Sprintf("sim: %d seeds on 1 goroutine: %.1f virtual s/wall s, %.0f seeds/min", r.Seeds, r.VirtualPerWall(), r.SeedsPerMinute()))

	r.Parallel.Workers = runtime.GOMAXPROCS(0)
	pstart := time.Now()
	sim.RunSeeds(1, uint64(r.Seeds), r.Parallel.Workers, sim.Mutants{}, func(sim.Result) bool {
		r.Parallel.Seeds++
		return ctx.Err() != nil || time.Since(pstart) > budget
	})
	r.Parallel.Wall = time.Since(pstart)
	if ctx.Err() != nil {
		return r, ctx.Err()
	}
	progress(fmt.Sprintf("sim: %d seeds on %d workers: %.0f seeds/min", r.Parallel.Seeds, r.Parallel.Workers, r.ParallelSeedsPerMinute()))

	h, ops := genHistory(1, 50, 200, 100, 20)
	r.CheckOps = ops
	cstart := time.Now()
	for len(r.CheckTimes) < 3 || time.Since(cstart) < budget/2 {
		if ctx.Err() != nil {
			return r, ctx.Err()
		}
		t0 := time.Now()
		res := lin.Check(h, 0)
		r.CheckTimes = append(r.CheckTimes, time.Since(t0))
		if res.Verdict != lin.VerdictOk {
			return r, fmt.Errorf("porcupine: the generated history is not linearizable: %v", res)
		}
		if len(r.CheckTimes) >= 1000 {
			break
		}
	}
	progress(fmt.Sprintf("porcupine: %d checks of %d operations: %v per 10k operations (median)", len(r.CheckTimes), ops, r.CheckPer10k().Round(time.Microsecond)))
	return r, nil
}

// genHistory generates a linearizable history of keys*opsPerKey
// operations by clients clients (each one operation at a time), the shape
// of linearizability's BenchmarkCheck10kOps: gets, puts, inserts and CaS
// with unique values, each taking effect at an instant inside its
// interval; one in unknownOneIn ends Unknown (and takes effect or not),
// half of those never returning.
func genHistory(seed uint64, keys, opsPerKey, clients, unknownOneIn int) (*lin.History, int) {
	rng := rand.New(rand.NewPCG(seed, 0))
	type genOp struct {
		client    int
		op        lin.Op
		call, ret int64
		point     int64
		unknown   bool
		applies   bool
		out       lin.Outcome
	}
	var keyOrder []string
	for k := range keys {
		for range opsPerKey {
			keyOrder = append(keyOrder, fmt.Sprintf("k%02d", k))
		}
	}
	rng.Shuffle(len(keyOrder), func(i, j int) { keyOrder[i], keyOrder[j] = keyOrder[j], keyOrder[i] })
	written := map[string][]string{}
	clock := make([]int64, clients)
	ops := make([]genOp, len(keyOrder))
	for i, key := range keyOrder {
		c := i % clients
		g := genOp{client: c, call: clock[c] + rng.Int64N(5)}
		dur := 1 + rng.Int64N(50)
		g.ret = g.call + dur
		g.point = g.call + rng.Int64N(dur+1)
		v := fmt.Sprint(i)
		switch x := rng.IntN(10); {
		case x < 3:
			g.op = lin.Get(key)
		case x < 5:
			g.op = lin.Put(key, v)
		case x < 6:
			g.op = lin.Insert(key, v)
		case x < 7:
			g.op = lin.CasAbsent(key, v)
		default:
			expect := v
			if w := written[key]; len(w) > 0 {
				expect = w[max(0, len(w)-1-rng.IntN(3))]
			}
			g.op = lin.Cas(key, expect, v)
		}
		if g.op.Kind != lin.OpGet {
			written[key] = append(written[key], v)
		}
		if rng.IntN(unknownOneIn) == 0 {
			g.unknown, g.applies = true, rng.IntN(2) == 0
			g.point = g.call + rng.Int64N(10*dur)
		}
		clock[c] = g.ret
		ops[i] = g
	}
	// Apply the operations in the order they take effect to learn their
	// outcomes.
	order := make([]int, len(ops))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return int(ops[i].point - ops[j].point) })
	type state struct {
		value   string
		present bool
	}
	store := map[string]state{}
	for _, i := range order {
		g := &ops[i]
		s := store[g.op.Key]
		next, effect := s, false
		switch g.op.Kind {
		case lin.OpPut:
			next, effect = state{g.op.Value, true}, true
		case lin.OpInsert:
			effect = !s.present
		case lin.OpCas:
			effect = (g.op.ExpectAbsent && !s.present) || (!g.op.ExpectAbsent && s.present && s.value == g.op.Expect)
		}
		if effect {
			next = state{g.op.Value, true}
		}
		switch {
		case g.unknown:
			g.out = lin.Outcome{Kind: lin.Unknown}
			if g.applies && effect {
				store[g.op.Key] = next
			}
		case g.op.Kind == lin.OpGet:
			g.out = lin.Outcome{Kind: lin.Ok, Value: s.value, Found: s.present}
		case effect:
			g.out = lin.Outcome{Kind: lin.Ok}
			store[g.op.Key] = next
		case g.op.Kind == lin.OpInsert:
			g.out = lin.Outcome{Kind: lin.Exists}
		default:
			g.out = lin.Outcome{Kind: lin.Failed}
		}
	}
	h := &lin.History{}
	for i, g := range ops {
		id := h.Call(g.client, g.op, g.call)
		if !g.unknown || i%2 == 0 {
			h.Return(id, g.out, g.ret)
		}
	}
	return h, len(ops)
}

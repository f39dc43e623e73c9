package bench

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"time"

	"github.com/picogo/picogo/core/mutant"
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
	GC       string // the collector's setting (sim.UseGCPercent)
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
// history until budget/2 has passed (at least 3 times). The simulator runs
// with the collector as `picogo sim` runs it (sim.UseGCPercent).
func runSim(ctx context.Context, seeds int, budget time.Duration, progress func(string)) (SimResult, error) {
	var r SimResult
	var restore func()
	r.GC, restore = sim.UseGCPercent()
	defer restore()
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
	sim.RunSeeds(1, uint64(r.Seeds), r.Parallel.Workers, mutant.Set{}, func(sim.Result) bool {
		r.Parallel.Seeds++
		return ctx.Err() != nil || time.Since(pstart) > budget
	})
	r.Parallel.Wall = time.Since(pstart)
	if ctx.Err() != nil {
		return r, ctx.Err()
	}
	progress(fmt.Sprintf("sim: %d seeds on %d workers: %.0f seeds/min", r.Parallel.Seeds, r.Parallel.Workers, r.ParallelSeedsPerMinute()))

	// The shape of linearizability's BenchmarkCheck10kOps.
	gen := lin.GenConfig{Seed: 1, Keys: 50, OpsPerKey: 200, Clients: 100, UnknownOneIn: 20}
	h, ops := lin.Generate(gen), gen.Keys*gen.OpsPerKey
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

package sim

import (
	"runtime"
	"sync"

	"github.com/picogo/picogo/core/mutant"
	"github.com/picogo/picogo/internal/gogc"
)

// GCPercent is the collector's setting `picogo sim` runs with unless GOGC
// is set (and BenchmarkSimulator, so that it measures the simulator as it
// runs). Each seed allocates per event over a small live heap (a world's
// state, tens of MB): with Go's default of 100 the collector ran most of
// the time, and its write barriers with it (docs/BENCHMARKS.md, the
// simulator). Memory is the cheaper resource: about 100 MB per worker.
const GCPercent = 1000

// UseGCPercent sets the collector as `picogo sim` runs it: at GCPercent,
// unless GOGC is set (the environment still decides). It says which
// setting is in force, and returns a func that puts the one before back.
func UseGCPercent() (setting string, restore func()) { return gogc.Use(GCPercent, "sim.GCPercent") }

// RunSeeds runs seeds [start, start+n) on up to workers goroutines (the
// runs are independent worlds; each is single-threaded and deterministic)
// and hands the results to report in seed order. It stops early once stop
// returns true for a result.
func RunSeeds(start, n uint64, workers int, mutants mutant.Set, report func(Result) (stop bool)) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	results := make(chan Result, workers)
	seeds := make(chan uint64)
	var wg sync.WaitGroup
	done := make(chan struct{})
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range seeds {
				results <- Run(Options{Seed: s, Mutants: mutants})
			}
		}()
	}
	go func() {
		defer close(seeds)
		for s := start; s < start+n; s++ {
			select {
			case seeds <- s:
			case <-done:
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()

	pending := map[uint64]Result{}
	next := start
	stopped := false
	for r := range results {
		pending[r.Seed] = r
		for !stopped {
			res, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if report(res) {
				stopped = true
				close(done)
			}
		}
	}
}

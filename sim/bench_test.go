package sim

import (
	"testing"
	"time"
)

// BenchmarkSimulator reports how fast the simulator runs worlds of 5
// instances under load: virtual seconds per wall second, events per wall
// second (which does not depend on how busy the worlds are), and seeds per
// minute (one goroutine). `make bench-sim BASE=rev` runs it against an
// older revision's simulator too (scripts/bench-sim).
//
// It runs with the collector at GCPercent, as `picogo sim` does, unless
// GOGC is set (scripts/bench-sim sets it to compare the code alone).
func BenchmarkSimulator(b *testing.B) {
	_, restore := UseGCPercent()
	defer restore()
	var virtual, wall time.Duration
	var events uint64
	seeds := 0
	for seed := uint64(1); seeds < b.N; seed++ {
		r := Run(Options{Seed: seed, fiveInstances: true})
		if r.Err != nil {
			b.Fatalf("seed %d: %v", seed, r.Err)
		}
		virtual += r.Virtual
		events += r.Events
		wall += r.Wall
		seeds++
	}
	b.ReportMetric(virtual.Seconds()/wall.Seconds(), "virtual-s/wall-s")
	b.ReportMetric(float64(events)/wall.Seconds(), "events/s")
	b.ReportMetric(float64(seeds)/wall.Minutes(), "seeds/min")
}

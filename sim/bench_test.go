package sim

import (
	"testing"
	"time"
)

// BenchmarkSimulator reports how fast the simulator runs worlds of 5
// instances under load: virtual seconds per wall second, and seeds per
// minute (one goroutine).
func BenchmarkSimulator(b *testing.B) {
	var virtual, wall time.Duration
	seeds := 0
	for seed := uint64(1); seeds < b.N; seed++ {
		r := Run(Options{Seed: seed, fiveInstances: true})
		if r.Err != nil {
			b.Fatalf("seed %d: %v", seed, r.Err)
		}
		virtual += r.Virtual
		wall += r.Wall
		seeds++
	}
	b.ReportMetric(virtual.Seconds()/wall.Seconds(), "virtual-s/wall-s")
	b.ReportMetric(float64(seeds)/wall.Minutes(), "seeds/min")
}

package sim

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSchedulerRunsEventsInTimeThenScheduleOrder checks the event heap
// against a sort: events run by virtual time, and those at one instant in
// the order they were scheduled, however pushes and pops interleave.
func TestSchedulerRunsEventsInTimeThenScheduleOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		var s scheduler
		type scheduled struct {
			at  int64
			seq int
		}
		var want, got []scheduled
		seq := 0
		schedule := func() {
			seq++
			at := s.now + rng.Int64N(20) // few instants: many ties
			me := scheduled{at: max(at, s.now), seq: seq}
			want = append(want, me)
			s.at(at, func() { got = append(got, me) })
		}
		for range rng.IntN(300) {
			schedule()
		}
		for s.step(1 << 62) {
			if rng.IntN(3) == 0 { // events schedule events
				for range rng.IntN(4) {
					schedule()
				}
			}
		}
		slices.SortStableFunc(want, func(a, b scheduled) int {
			if a.at != b.at {
				return int(a.at - b.at)
			}
			return a.seq - b.seq
		})
		require.Equal(t, want, got, "round %d", round)
		require.Empty(t, s.events)
	}
}

package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Fault timings: a victim stays down (killed or paused) for
// downMin..downMax, and the next cycle starts gapMax at most after the
// cluster has a leader again, which must happen within recoverTimeout.
const (
	downMin        = 200 * time.Millisecond
	downMax        = 1500 * time.Millisecond
	gapMax         = 500 * time.Millisecond
	recoverTimeout = 30 * time.Second
	// leaderBias is the chance that the first victim of a cycle is the
	// leader.
	leaderBias = 0.6
	// killBias is the chance that a victim is killed rather than paused.
	killBias = 0.7
	// rekillBias is the chance that a killed victim is killed again
	// within rekillMax of its restart, while it recovers.
	rekillBias = 0.2
	rekillMax  = 300 * time.Millisecond
)

// faults chooses and applies the faults of each cycle, from its own seeded
// generator: the same seed makes the same choices (of kinds, durations and
// whether to aim at the leader; who leads depends on timing).
type faults struct {
	c   *cluster
	rng *rand.Rand
	out func(format string, a ...any)
}

// cycle runs one fault cycle: take down 1..minority instances (the leader
// first, more often than not), each with SIGKILL or SIGSTOP, for a while;
// then restart or continue them (sometimes killing a restarted one once
// more while it recovers) and wait until one leader is agreed on by all. It returns an error only if the run cannot go on (a process that
// does not start); a cluster that does not recover in time is recorded as
// a problem.
func (f *faults) cycle(ctx context.Context, n, of int) error {
	began := time.Now()
	members := f.c.members()
	maxDown := (len(members) - 1) / 2
	count := 1 + f.rng.IntN(maxDown)
	leader := f.c.leader()
	var victims []*instance
	aimed := f.rng.Float64() < leaderBias
	if aimed && leader != nil {
		victims = append(victims, leader)
	}
	for len(victims) < count {
		in := members[f.rng.IntN(len(members))]
		if !slices.Contains(victims, in) {
			victims = append(victims, in)
		}
	}
	down := downMin + time.Duration(f.rng.Int64N(int64(downMax-downMin)))
	var what []string
	var killed, paused []*instance
	for _, in := range victims {
		role := ""
		if in == leader {
			role = " (leader)"
		}
		if f.rng.Float64() < killBias {
			if err := in.kill(); err != nil {
				return err
			}
			killed = append(killed, in)
			what = append(what, "SIGKILL "+in.name+role)
		} else {
			if err := in.pause(); err != nil {
				// It exited by itself (recorded as a problem): start it
				// again below.
				killed = append(killed, in)
				what = append(what, fmt.Sprintf("SIGSTOP %s%s failed: %v", in.name, role, err))
				continue
			}
			in.note("paused %s (SIGSTOP) for %v", in.name, down.Round(time.Millisecond))
			paused = append(paused, in)
			what = append(what, "SIGSTOP "+in.name+role)
		}
	}
	select {
	case <-ctx.Done():
	case <-time.After(down):
	}
	for _, in := range paused {
		if err := in.resume(); err != nil {
			return err
		}
		in.note("continued %s (SIGCONT)", in.name)
	}
	for _, in := range killed {
		if !in.running() {
			if err := in.start(); err != nil {
				return err
			}
		}
	}
	again := ""
	if len(killed) > 0 && f.rng.Float64() < rekillBias {
		// Kill one again while it starts up and catches up, and start it
		// once more.
		in := killed[f.rng.IntN(len(killed))]
		restarted := time.Now()
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(f.rng.Int64N(int64(rekillMax)))):
		}
		into := time.Since(restarted)
		if err := in.kill(); err != nil {
			return err
		}
		if err := in.start(); err != nil {
			return err
		}
		again = fmt.Sprintf(", then SIGKILL %s again %.2fs into its restart", in.name, into.Seconds())
	}
	restored := time.Now()
	var newLeader *instance
	err := eventually(ctx, recoverTimeout, "one leader agreed on by all", func() error {
		l, _, err := f.c.agreedLeader(f.c.members())
		newLeader = l
		return err
	})
	result := ""
	switch {
	case err == errStopped:
		result = "stopped"
	case err != nil:
		f.c.problem("cycle %d: %v", n, err)
		result = "NOT RECOVERED: " + err.Error()
	default:
		result = fmt.Sprintf("leader %s %.2fs after", newLeader.name, time.Since(restored).Seconds())
	}
	f.out("cycle %d/%d: %s for %.2fs%s; %s (%.1fs)", n, of, strings.Join(what, ", "), down.Seconds(), again, result, time.Since(began).Seconds())
	if ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(f.rng.Int64N(int64(gapMax)))):
		}
	}
	return nil
}

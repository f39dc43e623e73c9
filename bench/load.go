package bench

import (
	"context"
	"sync"
	"time"
)

// opFunc performs one operation for load goroutine worker (0..clients-1).
type opFunc func(ctx context.Context, worker int) error

// Round is one measured round of one system at one client count.
type Round struct {
	System  string
	Clients int
	Round   int // 1-based
	Ops     uint64
	Errors  uint64
	// FirstErr is the first error an operation returned, if any.
	FirstErr error
	// Elapsed is from the end of the warm-up to the completion of the last
	// measured operation.
	Elapsed time.Duration
	Hist    *Histogram
	// CPU is the CPU time the system's server processes used from the end
	// of the warm-up until the last operation completed (0: not measured).
	CPU time.Duration
}

// CPUPerOp is the servers' CPU time per completed operation (0: not
// measured).
func (r Round) CPUPerOp() time.Duration {
	if r.Ops == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Ops)
}

// Rate is completed operations per second.
func (r Round) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Elapsed.Seconds()
}

// errorPause is how long a load goroutine waits after a failed operation,
// so a dead server does not turn the bench into a busy loop.
const errorPause = 10 * time.Millisecond

// runLoad runs clients goroutines, each calling op in a loop, for warmup
// and then duration. Operations that start during the warm-up are not
// measured; those that start before the end are, even if they finish after
// it. It returns when every goroutine has stopped: at most one operation's
// time after the end (op must bound itself), or at once when ctx ends.
// cpu, if not nil, is the servers' CPU time so far, read at the end of the
// warm-up and at the end.
func runLoad(ctx context.Context, clients int, warmup, duration time.Duration, op opFunc, cpu func() time.Duration) Round {
	type worker struct {
		hist     Histogram
		ops      uint64
		errs     uint64
		firstErr error
		last     time.Time
	}
	ws := make([]worker, clients)
	start := time.Now()
	measureFrom := start.Add(warmup)
	end := measureFrom.Add(duration)
	var cpuStart time.Duration
	cpuRead := make(chan struct{})
	if cpu != nil {
		time.AfterFunc(warmup, func() { cpuStart = cpu(); close(cpuRead) })
	}
	var wg sync.WaitGroup
	for i := range ws {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			w := &ws[i]
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(end) {
					return
				}
				err := op(ctx, i)
				t1 := time.Now()
				measured := !t0.Before(measureFrom)
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					if measured {
						w.errs++
						if w.firstErr == nil {
							w.firstErr = err
						}
					}
					time.Sleep(errorPause)
					continue
				}
				if measured {
					w.ops++
					w.hist.Record(t1.Sub(t0))
					w.last = t1
				}
			}
		}(i)
	}
	wg.Wait()
	r := Round{Clients: clients, Hist: &Histogram{}}
	if cpu != nil && ctx.Err() == nil {
		<-cpuRead // the warm-up is over by now
		r.CPU = cpu() - cpuStart
	}
	last := measureFrom
	for i := range ws {
		w := &ws[i]
		r.Ops += w.ops
		r.Errors += w.errs
		if r.FirstErr == nil {
			r.FirstErr = w.firstErr
		}
		r.Hist.Merge(&w.hist)
		if w.last.After(last) {
			last = w.last
		}
	}
	// A round in which nothing completed still lasted its duration.
	r.Elapsed = max(last.Sub(measureFrom), min(duration, time.Since(measureFrom)))
	return r
}

// openAll opens n connections (clients) with open; if one fails, those
// already open are closed.
func openAll[C interface{ Close() error }](n int, open func() (C, error)) ([]C, error) {
	var out []C
	for range n {
		c, err := open()
		if err != nil {
			for _, o := range out {
				o.Close()
			}
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

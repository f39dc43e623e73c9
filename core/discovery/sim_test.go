package discovery

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The simulation: N instances with random --peer lists, a network that
// delivers messages in random order, drops some (the caller sees a failure
// and retries next round), and duplicates some answers; sometimes a late
// instance starts after the leader has decided. Everything is drawn from one
// seeded source, so a seed replays exactly.

const (
	simSeeds    = 1000
	simMaxSteps = 200_000
	simDrop     = 0.15 // a request or an answer is lost: the call fails
	simDup      = 0.05 // an answer is delivered again later
)

type simInstance struct {
	addrs    []string // the addresses that reach it
	list     []string // its --peer list
	st       *State
	started  bool
	late     bool
	inflight map[string]bool // addresses it has a call outstanding to
}

type simMsg struct {
	from int    // the caller
	to   string // the address called
	req  Request
	resp *Response // nil: the request is on its way
	dup  bool      // a duplicate answer: the call was already settled
}

type simRun struct {
	seed  uint64
	insts []*simInstance
	trace []string
	steps int
	late  bool
}

func (r *simRun) logf(format string, args ...any) {
	r.trace = append(r.trace, fmt.Sprintf(format, args...))
}

func (r *simRun) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d after %d steps:\n", r.seed, r.steps)
	for i, in := range r.insts {
		o, ok := in.st.Outcome()
		fmt.Fprintf(&b, "  #%d addrs=%v list=%v late=%v started=%v decided=%v outcome=%+v peers=%v self=%v round=%v\n",
			i, in.addrs, in.list, in.late, in.started, ok, o, in.st.Peers(), in.st.Addresses(), in.st.Round())
	}
	tail := r.trace[max(0, len(r.trace)-40):]
	fmt.Fprintf(&b, "last %d events:\n  %s\n", len(tail), strings.Join(tail, "\n  "))
	return b.String()
}

// newSimRun draws the instances and their --peer lists. The lists keep one
// instance (the root) reachable from every instance along the lists, which
// is the package's precondition (see its doc): each instance lists some
// instance placed before it in a random order that starts with the root, and
// random extra addresses. A late instance lists only early ones, and nobody
// lists it.
func newSimRun(seed uint64) *simRun {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	r := &simRun{seed: seed}
	n := 2 + rng.IntN(6)
	r.late = rng.IntN(2) == 0

	hosts := rng.Perm(100)
	newAddr := func() string {
		a := fmt.Sprintf("h%d:3301", hosts[0])
		hosts = hosts[1:]
		return a
	}
	total := n
	if r.late {
		total++
	}
	for i := range total {
		in := &simInstance{addrs: []string{newAddr()}, inflight: map[string]bool{}, late: i == n}
		if rng.Float64() < 0.15 {
			in.addrs = append(in.addrs, newAddr())
		}
		r.insts = append(r.insts, in)
	}
	addrOf := func(j int) string { return r.insts[j].addrs[rng.IntN(len(r.insts[j].addrs))] }

	order := rng.Perm(n)
	root := rng.IntN(n)
	k := slices.Index(order, root)
	order[0], order[k] = order[k], order[0]
	for k := 1; k < n; k++ {
		i := order[k]
		r.insts[i].list = append(r.insts[i].list, addrOf(order[rng.IntN(k)]))
	}
	for i := range n {
		for j := range n {
			p := 0.25
			if i == j {
				p = 0.5
			}
			if rng.Float64() < p {
				r.insts[i].list = append(r.insts[i].list, addrOf(j))
			}
		}
		rng.Shuffle(len(r.insts[i].list), func(a, b int) {
			r.insts[i].list[a], r.insts[i].list[b] = r.insts[i].list[b], r.insts[i].list[a]
		})
	}
	if r.late {
		l := r.insts[n]
		for range 1 + rng.IntN(3) {
			l.list = append(l.list, addrOf(rng.IntN(n)))
		}
		if rng.IntN(2) == 0 {
			l.list = append(l.list, addrOf(n))
		}
	}
	for _, in := range r.insts {
		in.st = New(fmt.Sprintf("%016x", rng.Uint64()), in.list, true)
		in.started = !in.late
	}
	r.run(rng)
	return r
}

// owner returns the started instance reachable at addr, if any.
func (r *simRun) owner(addr string) *simInstance {
	for _, in := range r.insts {
		if in.started && slices.Contains(in.addrs, addr) {
			return in
		}
	}
	return nil
}

func (r *simRun) bootstrapper() *simInstance {
	for _, in := range r.insts {
		if o, ok := in.st.Outcome(); ok && o.Bootstrap {
			return in
		}
	}
	return nil
}

func (r *simRun) done() bool {
	for _, in := range r.insts {
		if _, ok := in.st.Outcome(); !ok || !in.started {
			return false
		}
	}
	return true
}

func (r *simRun) run(rng *rand.Rand) {
	var bag []simMsg
	for r.steps = 0; r.steps < simMaxSteps && !r.done(); r.steps++ {
		if late := r.insts[len(r.insts)-1]; late.late && !late.started && r.bootstrapper() != nil {
			late.started = true
			r.logf("late #%d starts at %v with %v", len(r.insts)-1, late.addrs, late.list)
		}

		if len(bag) == 0 || rng.IntN(3) == 0 {
			// A random undecided instance runs a round.
			var ready []int
			for i, in := range r.insts {
				if _, ok := in.st.Outcome(); in.started && !ok {
					ready = append(ready, i)
				}
			}
			if len(ready) == 0 {
				continue
			}
			i := ready[rng.IntN(len(ready))]
			in := r.insts[i]
			for _, a := range in.st.Round() {
				if !in.inflight[a] {
					in.inflight[a] = true
					bag = append(bag, simMsg{from: i, to: a, req: in.st.Request()})
					r.logf("#%d calls %s with %v", i, a, in.st.Request().Peers)
				}
			}
			continue
		}

		k := rng.IntN(len(bag))
		m := bag[k]
		if m.resp != nil && !m.dup && rng.Float64() < simDup {
			bag[k].dup = true
		} else {
			bag = slices.Delete(bag, k, k+1)
		}
		caller := r.insts[m.from]
		settle := func() {
			if !m.dup {
				delete(caller.inflight, m.to)
			}
		}

		if m.resp == nil {
			target := r.owner(m.to)
			if target == nil || rng.Float64() < simDrop {
				settle()
				caller.st.Failed(m.to)
				r.logf("#%d's call to %s fails", m.from, m.to)
				continue
			}
			_, decided := target.st.Outcome()
			resp := target.st.Handle(m.req, m.to)
			if decided {
				// A decided instance answers Done with its leader address.
				o, _ := target.st.Outcome()
				want := o.JoinVia
				if o.Bootstrap {
					want = o.Address
				}
				if resp.Done == nil || resp.Done.LeaderAddress != want || want == "" {
					panic(fmt.Sprintf("decided instance at %s answered %+v, want Done{%q}", m.to, resp, want))
				}
			}
			bag = append(bag, simMsg{from: m.from, to: m.to, resp: &resp})
			continue
		}

		if !m.dup && rng.Float64() < simDrop {
			settle()
			caller.st.Failed(m.to)
			r.logf("#%d's answer from %s is lost", m.from, m.to)
			continue
		}
		settle()
		caller.st.Answer(m.to, *m.resp)
		o, ok := caller.st.Outcome()
		r.logf("#%d gets %s from %s (dup=%v): decided=%v %+v", m.from, describe(*m.resp), m.to, m.dup, ok, o)
	}
}

func describe(r Response) string {
	switch {
	case r.Done != nil:
		return fmt.Sprintf("Done{%s}", r.Done.LeaderAddress)
	case r.LeaderElection != nil:
		return fmt.Sprintf("LeaderElection{%s %v}", r.LeaderElection.TmpID, r.LeaderElection.Peers)
	}
	return "{}"
}

// check returns what is wrong with the run's outcome, if anything.
func (r *simRun) check() error {
	if !r.done() {
		return fmt.Errorf("not everyone decided")
	}
	var boots []*simInstance
	for _, in := range r.insts {
		if o, _ := in.st.Outcome(); o.Bootstrap {
			boots = append(boots, in)
		}
	}
	if len(boots) != 1 {
		return fmt.Errorf("%d instances bootstrapped", len(boots))
	}
	o, _ := boots[0].st.Outcome()
	if boots[0].late {
		return fmt.Errorf("the late instance bootstrapped")
	}
	if !slices.Contains(boots[0].addrs, o.Address) {
		return fmt.Errorf("bootstrapped as %q, which is not one of its addresses %v", o.Address, boots[0].addrs)
	}
	for i, in := range r.insts {
		if in == boots[0] {
			continue
		}
		if got, _ := in.st.Outcome(); got != (Outcome{JoinVia: o.Address}) {
			return fmt.Errorf("#%d decided %+v, want Join via %q", i, got, o.Address)
		}
	}
	return nil
}

func TestSimulation(t *testing.T) {
	var late, steps, maxSteps int
	for seed := range uint64(simSeeds) {
		r := newSimRun(seed)
		if err := r.check(); err != nil {
			t.Fatalf("%v\n%s", err, r)
		}
		if r.late {
			late++
		}
		steps += r.steps
		maxSteps = max(maxSteps, r.steps)
	}
	t.Logf("%d seeds, %d with a late instance; steps: mean %d, max %d", simSeeds, late, steps/simSeeds, maxSteps)
	require.Greater(t, late, simSeeds/4, "too few seeds exercise a late instance")
}

// The same seed replays the same run, event for event; another seed does not.
func TestSimulationIsDeterministic(t *testing.T) {
	for _, seed := range []uint64{1, 7, 42} {
		a, b := newSimRun(seed), newSimRun(seed)
		require.Equal(t, a.trace, b.trace, "seed %d", seed)
		require.Equal(t, a.String(), b.String(), "seed %d", seed)
	}
	require.NotEqual(t, newSimRun(1).trace, newSimRun(2).trace)
}

// Package sim is picogo's deterministic simulator. One seed builds a world —
// a cluster of instances running the production core (core/node through
// runtime.Host), simulated disks, a simulated network, clients — and drives it
// in virtual time on one goroutine: a fault phase (message loss,
// duplication, reordering, partitions, crashes with torn writes, pauses,
// clock skew, all at rates drawn from the seed), then a liveness phase
// (faults stop; everything must settle within a bound). Invariants are
// checked as the run goes; the clients' history is checked for
// linearizability at the end. The same seed always gives the same run,
// event for event, and the same trace-hash.
package sim

import (
	"fmt"
	"github.com/picogo/picogo/workload"
	"io"
	"iter"
	"math/rand/v2"
	"time"

	"github.com/picogo/picogo/core/mutant"
	"github.com/picogo/picogo/core/node"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/disk/simdisk"
	lin "github.com/picogo/picogo/linearizability"
)

const clusterID = "sim"

// workload.Table is the GLOBAL user table the clients work on.

// Options configure a run.
type Options struct {
	Seed  uint64
	Trace io.Writer // readable trace (nil: hash only)
	// Mutants are the bugs every instance switches on: none unless built
	// with -tags mutants (see mutants.go).
	Mutants mutant.Set
	// fiveInstances fixes the cluster size (the benchmark's world).
	fiveInstances bool
}

// Result is a run's outcome.
type Result struct {
	Seed      uint64
	Params    Params
	Err       error // nil: passed
	Events    uint64
	Virtual   time.Duration
	TraceHash string
	Wall      time.Duration
	Ops       int // client operations recorded
	// Lin is the linearizability verdict (its Info feeds the HTML).
	Lin lin.Result
}

// World is one seed's simulated cluster.
type World struct {
	seed    uint64
	params  Params
	mutants mutant.Set
	sched   scheduler
	trace   *trace

	netRng, diskRng, faultRng *rand.Rand
	// authRng draws the passwords, the greetings' salts, and the
	// stranger's and the operator's choices (auth.go).
	authRng *rand.Rand

	// The world's passwords, drawn from the seed: every instance starts
	// with them.
	adminPassword, servicePassword string
	// adminAuth is adminPassword as kept (authOf).
	adminAuth *tables.UserAuth
	// locks are the users failed logins locked, per incarnation of an
	// instance; refusals count each host's refused logins there.
	locks    map[lockKey]bool
	refusals map[hostKey]int

	instances []*instance
	byAddr    map[string]*instance
	cut       map[[2]string]bool
	// noDial are links whose caller's calls fail at once (FailDials).
	noDial  map[[2]string]bool
	clients []*client
	history *lin.History
	// checker checks the cluster under test; others checks, per cluster
	// id, the instances a scripted test starts with another one.
	checker  *checker
	others   map[string]*checker
	topology *topologyChecker

	faultsOn  bool
	clientsOn bool
	failure   error
	peers     []string // the founding instances' addresses

	// scripted: a Cluster driven by a test, not a seed's random events.
	scripted bool

	// data is the user-data workload and its checks (data.go).
	data dataPlane

	// roles is the operator's work on roles during the fault phase
	// (roles.go).
	roles rolesOperator
	// initFailures: how many more Inits of a role on an instance (by
	// address, role) fail (Cluster.FailRoleInit).
	initFailures map[[2]string]int

	expels       int    // expels asked for
	retiredOne   bool   // an instance was stopped for good
	operatorSync uint64 // the operator console's request ids
}

// Run runs one seed to its verdict.
func Run(o Options) Result {
	res, _ := runWorld(o)
	return res
}

// runWorld runs one seed to its verdict, and returns its world as the
// run left it (for tests that look inside).
func runWorld(o Options) (Result, *World) {
	began := time.Now()
	root := rand.New(rand.NewPCG(o.Seed, 0x9e3779b97f4a7c15))
	sub := func() *rand.Rand { return rand.New(rand.NewPCG(root.Uint64(), root.Uint64())) }
	w := &World{
		seed:     o.Seed,
		params:   drawParams(sub()),
		byAddr:   map[string]*instance{},
		cut:      map[[2]string]bool{},
		history:  &lin.History{},
		locks:    map[lockKey]bool{},
		refusals: map[hostKey]int{},
	}
	w.mutants = o.Mutants
	if o.fiveInstances {
		w.params.Instances = 5
	}
	w.netRng, w.diskRng, w.faultRng = sub(), sub(), sub()
	clientRng := sub()
	w.authRng = sub()
	w.drawPasswords()
	w.trace = newTrace(o.Trace, func() int64 { return w.sched.now })
	w.newCheckers()
	res := Result{Seed: o.Seed, Params: w.params}
	w.trace.printf("seed %d: %s", o.Seed, w.params)

	if err := w.build(clientRng); err != nil {
		res.Err = err
		return res, w
	}
	w.run()
	res.Events, res.Virtual = w.sched.ran, time.Duration(w.sched.now)
	res.Ops = w.history.Len()
	if w.failure == nil {
		res.Lin = lin.Check(w.history, time.Minute)
		switch res.Lin.Verdict {
		case lin.VerdictIllegal:
			w.fail(fmt.Errorf("not linearizable: %s", res.Lin))
		case lin.VerdictUnknown:
			w.fail(fmt.Errorf("linearizability check timed out: %s", res.Lin))
		}
	}
	w.checkDataHistory()
	res.Err = w.failure
	w.trace.printf("verdict: %v", errOr(w.failure, "ok"))
	res.TraceHash = w.trace.sum()
	res.Wall = time.Since(began)
	return res, w
}

func errOr(err error, ok string) string {
	if err != nil {
		return err.Error()
	}
	return ok
}

// fail records the first violation; the run stops at the next event.
func (w *World) fail(err error) {
	if w.failure == nil {
		w.failure = err
		w.trace.printf("FAIL: %v", err)
	}
}

func (w *World) faulty() bool { return w.faultsOn }

// afterEvent runs the invariant checks after an event touched in.
func (w *World) afterEvent(in *instance) {
	if w.failure != nil {
		return
	}
	if err := w.checkerOf(in).after(in); err != nil {
		w.fail(err)
		return
	}
	if err := w.checkData(in); err != nil {
		w.fail(err)
		return
	}
	if err := w.topology.maybeCheck(); err != nil {
		w.fail(err)
	}
}

// build creates the founding instances, with empty disks: they discover
// each other, one boots the cluster and the others join it. And the
// clients.
func (w *World) build(clientRng *rand.Rand) error {
	r := w.faultRng
	for i := 1; i <= w.params.Instances+w.params.LateInstances+w.params.SecondTierLate; i++ {
		in := &instance{w: w, id: uint64(i), addr: fmt.Sprintf("i%d", i),
			disk: simdisk.New(simdisk.Options{}), tickEvery: w.params.tickOf(r),
			late: i > w.params.Instances}
		in.tier, in.failureDomain = w.params.placement(r, i)
		w.instances = append(w.instances, in)
		w.byAddr[in.addr] = in
		if !in.late {
			w.peers = append(w.peers, in.addr)
		}
	}
	for _, in := range w.instances {
		if in.late {
			continue
		}
		if err := in.start(); err != nil {
			return err
		}
	}
	for i := range w.params.Clients {
		c := &client{w: w, id: i + 1, addr: fmt.Sprintf("c%d", i+1), conns: map[string]*conn{},
			rng: rand.New(rand.NewPCG(clientRng.Uint64(), uint64(i))), target: clientRng.IntN(w.params.Instances)}
		w.clients = append(w.clients, c)
	}
	return nil
}

// setup waits for the cluster to form and creates the kv table through
// CaS, as an application would. It is bounded; a cluster that does not
// form in time fails the run (liveness).
func (w *World) setup() {
	c := w.clients[0]
	deadline := w.sched.now + int64(w.params.LivenessBound)
	created := false
	for !created && w.failure == nil {
		done := false
		c.createTable(workload.Def, func(ok bool) { done, created = true, ok })
		for !done && w.failure == nil && w.sched.step(deadline) {
		}
		if w.sched.now >= deadline {
			w.fail(fmt.Errorf("liveness: the cluster did not form and create the kv table within %v (%s)", w.params.LivenessBound, w.unsettled()))
			return
		}
		if !created {
			w.sched.after(int64(50*time.Millisecond), func() {})
			w.sched.step(deadline)
		}
	}
	w.trace.printf("setup: table kv exists")
	w.setupData()
	w.setupRoles()
}

// run: the setup, the fault phase, then the liveness phase, then final
// reads.
func (w *World) run() {
	w.setup()
	if w.failure != nil {
		return
	}
	w.sched.now = max(w.sched.now, 0)
	w.faultsOn, w.clientsOn = true, true
	for _, in := range w.instances {
		if in.late {
			in := in
			w.sched.after(int64(between(w.faultRng, 0, w.params.FaultPhase)), func() {
				if w.failure == nil && !in.up() {
					if err := in.start(); err != nil {
						w.fail(err)
					}
				}
			})
		}
	}
	for _, c := range w.clients {
		c.next()
	}
	w.scheduleFaults()
	w.scheduleLifecycle()
	w.scheduleStranger()
	w.scheduleDDL()
	w.scheduleMasterFaults()
	w.scheduleRoles()
	faultEnd := w.sched.now + int64(w.params.FaultPhase)
	w.runUntil(faultEnd)
	if w.failure != nil {
		return
	}

	// Liveness: heal everything; the cluster must settle and every client
	// operation must complete within the bound.
	w.faultsOn, w.clientsOn = false, false
	w.trace.printf("faults stop: heal, restart, resume")
	w.cut = map[[2]string]bool{}
	for _, in := range w.instances {
		in.stopping = false
		if !in.up() && !in.terminated && !in.retired && !w.expelledRow(in.raftID) {
			if err := in.start(); err != nil {
				w.fail(err)
				return
			}
		}
		in.resume()
	}
	bound := w.sched.now + int64(w.params.LivenessBound)
	for w.failure == nil && !w.settled() {
		if !w.sched.step(bound) {
			w.fail(fmt.Errorf("liveness: not settled within %v after faults stopped (%s)", w.params.LivenessBound, w.unsettled()))
			return
		}
	}
	if w.failure != nil {
		return
	}
	if err := w.topology.restChecks(); err != nil {
		w.fail(err)
		return
	}
	w.finalReads()
	w.finalDataReads()
	if w.failure == nil {
		if err := w.checker.finalChecks(); err != nil {
			w.fail(err)
		}
	}
}

func (w *World) runUntil(t int64) {
	for w.failure == nil && w.sched.step(t) {
	}
	if w.sched.now < t {
		w.sched.now = t
	}
}

// settled: one leader that every live instance follows, everything
// committed and applied everywhere, no client busy.
func (w *World) settled() bool { return w.unsettledWhy(false) == "" }

// unsettled says why the world is not settled ("" if it is).
func (w *World) unsettled() string { return w.unsettledWhy(true) }

// notSettled is unsettledWhy's answer when not asked to explain: settled
// runs after every event of the settling phase, and formatting a reason
// there was a percent of the simulator.
const notSettled = "not settled"

// because is unsettledWhy's reason: formatted only when asked to explain.
func because(explain bool, format string, a ...any) string {
	if !explain {
		return notSettled
	}
	return fmt.Sprintf(format, a...)
}

func (w *World) unsettledWhy(explain bool) string {
	for _, c := range w.clients {
		if c.busy {
			return because(explain, "client c%d busy", c.id)
		}
	}
	var lead uint64
	var leadSt raft.Status
	var leader *instance
	for in := range w.membersOf(clusterID) {
		if n := in.node(); n != nil {
			if st := n.Status(); st.State == raft.StateLeader {
				lead, leadSt, leader = n.ID(), st, in
			}
		}
	}
	if lead == 0 {
		return "no leader"
	}
	// The checks that read no table come first: while the cluster catches
	// up they fail, and this runs after every event until it settles.
	for in := range w.membersOf(clusterID) {
		if in.up() && in.node().Phase() != node.PhaseRunning {
			return because(explain, "i%d is %s", in.id, in.node().Phase())
		}
	}
	if !leader.node().GovernorIdle() {
		if !explain { // the status string is made only to explain
			return notSettled
		}
		return fmt.Sprintf("the governor on i%d is %s", leader.id, leader.node().GovernorStatus())
	}
	if leadSt.Commit != leadSt.LastIndex {
		return because(explain, "leader i%d has uncommitted entries (%d/%d)", lead, leadSt.Commit, leadSt.LastIndex)
	}
	for in := range w.membersOf(clusterID) {
		n := in.node()
		if n == nil || n.Phase() != node.PhaseRunning {
			continue
		}
		st := n.Status()
		if (st.Lead != lead || st.Term != leadSt.Term || st.Applied != leadSt.Commit) && !w.expelledRow(n.ID()) {
			// an expelled instance is no member: it may never hear
			return because(explain, "i%d not caught up (lead %d term %d applied %d; leader i%d term %d commit %d)",
				in.id, st.Lead, st.Term, st.Applied, lead, leadSt.Term, leadSt.Commit)
		}
	}
	top, err := leader.node().Tables().Topology()
	if err != nil {
		return err.Error()
	}
	for in := range w.membersOf(clusterID) {
		if !in.up() {
			continue
		}
		if !in.node().Activated() && !w.expelledRow(in.node().ID()) {
			return because(explain, "i%d has not asked to be Online yet", in.id)
		}
		for _, i := range top.Instances {
			if i.RaftID == in.node().ID() && !i.ExpelDone() &&
				(i.Current.Variant != tables.GradeOnline || i.Target != i.Current) {
				return because(explain, "i%d (%s) is %s, target %s", in.id, i.InstanceID, i.Current, i.Target)
			}
		}
	}
	if why := w.rolesUnsettled(*top); why != "" {
		return why
	}
	return w.dataUnsettled(leader, *top)
}

// finalReads reads every key linearizably once the cluster settled, so that
// a lost acknowledged write shows in the history.
func (w *World) finalReads() {
	c := w.clients[0]
	for k := range w.params.Keys {
		key := fmt.Sprintf("k%d", k)
		for attempt := 0; attempt < 5 && w.failure == nil; attempt++ {
			done, ok := false, false
			c.read(key, func(read bool) { done, ok = true, read })
			deadline := w.sched.now + int64(2*w.params.OpTimeout)
			for !done && w.failure == nil && w.sched.step(deadline) {
			}
			if ok {
				break
			}
		}
	}
}

// scheduleFaults arms the fault generators for the fault phase.
func (w *World) scheduleFaults() {
	p := w.params
	w.every(p.CrashEvery, w.crashOne)
	w.every(p.PartitionEvery, w.partition)
	w.every(p.PauseEvery, func() {
		r := w.faultRng
		in := w.instances[r.IntN(len(w.instances))]
		if in.up() && !in.paused {
			w.pauseFor(in, between(r, p.PauseFor/2, p.PauseFor*3/2))
		}
	})
}

// pauseFor stalls in's process (its loop and clock stop, what reaches it
// queues) for d.
func (w *World) pauseFor(in *instance, d time.Duration) {
	in.pause()
	w.sched.after(int64(d), in.resume)
}

// every runs fault about once per mean (uniformly between half and one and
// a half of it) for as long as faults are on; a zero mean never.
func (w *World) every(mean time.Duration, fault func()) {
	if mean <= 0 {
		return
	}
	r := w.faultRng
	var tick func()
	tick = func() {
		if !w.faultsOn {
			return
		}
		fault()
		w.sched.after(int64(between(r, mean/2, mean*3/2)), tick)
	}
	w.sched.after(int64(between(r, 0, mean)), tick)
}

// crashOne crashes a random instance, keeping a majority up so that the
// fault phase can make progress too; it restarts after a while.
func (w *World) crashOne() {
	r := w.faultRng
	w.crashAndRestart(w.instances[r.IntN(len(w.instances))])
}

// crashAndRestart crashes in (unless that would leave less than a majority
// up) and restarts it after a while.
func (w *World) crashAndRestart(in *instance) {
	r := w.faultRng
	down := 0
	for _, o := range w.instances {
		if !o.up() {
			down++
		}
	}
	if !in.up() || down+1 > (len(w.instances)-1)/2 {
		return
	}
	in.crash(r.Float64() < w.params.Torn)
	w.sched.after(int64(between(r, w.params.RestartAfter/2, w.params.RestartAfter*3/2)), func() {
		if !in.up() && !in.terminated && w.failure == nil {
			if err := in.start(); err != nil {
				w.fail(err)
			}
		}
	})
}

// partition cuts the instances into two groups (or cuts one link one way)
// and heals after a while.
func (w *World) partition() {
	r := w.faultRng
	var cuts [][2]string
	var stall *instance // the isolated leader, if it stalls too
	lead := w.leader()
	if lead != nil && r.Float64() < w.params.IsolateLeader {
		// The leader alone on one side: the others elect a new one while it
		// may still believe it leads. A client stays with it (one in its
		// zone, say): what it reads there meanwhile must not be stale. Half
		// the time the leader also stalls (a long GC pause, a stuck disk)
		// as the network splits: its clock stops with it, so that when it
		// resumes it counts a whole election timeout more before it sees
		// it lost its quorum, while the others have a new leader — the
		// window where a leader answering reads from its lease, with no
		// heartbeat round, answers them stale.
		for i, o := range w.instances {
			if o != lead {
				cuts = append(cuts, [2]string{lead.addr, o.addr}, [2]string{o.addr, lead.addr})
			} else if len(w.clients) > 0 {
				w.clients[r.IntN(len(w.clients))].target = i
			}
		}
		if r.IntN(2) == 0 && lead.up() && !lead.paused {
			stall = lead
		}
	} else if r.Float64() < w.params.OneWay {
		a := w.instances[r.IntN(len(w.instances))].addr
		b := w.instances[r.IntN(len(w.instances))].addr
		if a != b {
			cuts = append(cuts, [2]string{a, b})
		}
	} else {
		side := make([]bool, len(w.instances))
		for i := range side {
			side[i] = r.IntN(2) == 0
		}
		for i, a := range w.instances {
			for j, b := range w.instances {
				if side[i] != side[j] {
					cuts = append(cuts, [2]string{a.addr, b.addr})
				}
			}
		}
	}
	if len(cuts) == 0 {
		return
	}
	for _, c := range cuts {
		w.cut[c] = true
	}
	w.trace.printf("partition: %d links cut %v", len(cuts), cuts)
	if stall != nil {
		w.pauseFor(stall, between(r, 150*time.Millisecond, 400*time.Millisecond))
	}
	w.sched.after(int64(between(r, w.params.PartitionFor/2, w.params.PartitionFor*3/2)), func() {
		for _, c := range cuts {
			delete(w.cut, c)
		}
		w.trace.printf("partition healed: %v", cuts)
	})
}

// membersOf is the instances started with the given cluster id, in order
// (an iterator: the settle check asks after every event, so no slice).
func (w *World) membersOf(cluster string) iter.Seq[*instance] {
	return func(yield func(*instance) bool) {
		for _, in := range w.instances {
			if in.cluster() == cluster && !yield(in) {
				return
			}
		}
	}
}

// newCheckers sets up the invariant checkers of an empty world.
func (w *World) newCheckers() {
	w.checker = newChecker(w, clusterID)
	w.others = map[string]*checker{}
	w.topology = newTopologyChecker(w)
}

// checkerOf is the checker of in's cluster.
func (w *World) checkerOf(in *instance) *checker {
	if in.cluster() == clusterID {
		return w.checker
	}
	c, ok := w.others[in.cluster()]
	if !ok {
		c = newChecker(w, in.cluster())
		w.others[in.cluster()] = c
	}
	return c
}

// leader is an instance of the cluster under test that believes it leads
// (the highest term's), or nil.
func (w *World) leader() *instance {
	var best *instance
	var term uint64
	for in := range w.membersOf(clusterID) {
		if n := in.node(); n != nil {
			if st := n.Status(); st.State == raft.StateLeader && st.Term >= term {
				best, term = in, st.Term
			}
		}
	}
	return best
}

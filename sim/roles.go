package sim

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/node"
	"github.com/picogo/picogo/core/tables"
)

// Roles in a seed's world (docs/roles.md): three compiled-in test roles
// whose code is the simulator's (every instance's binary has them:
// runtime.Instance.Roles). At setup an operator enables api (with its
// dependency metrics, whose once-per-cluster DDL creates a global table)
// on the first tier and flaky on every tier through `.proc_role_enable`;
// the governor applies the DDL, then starts them. Late instances join
// tiers with roles. Their Init takes virtual time; flaky's fails now and
// then while faults are on, so that failures are recorded and retried.
// During the fault phase the operator may restart every instance in turn
// (rollingRestart) and enable and disable roles per
// tier (toggleRole). Checked:
//   - when a role starts on an instance, its dependencies run there (the
//     governor asks in dependency order; the node asks one at a time);
//     when one stops, no role that needs it runs there;
//   - at rest (rolesUnsettled), the DDL of every role that runs somewhere
//     is applied, the roles that run on each instance are exactly those
//     of its tier as the final _pico_role_tier says if it is Online (an
//     expelled one is no member and may never hear it is; a crash or a
//     stop ends a process's roles), and _pico_role_state agrees.
var simRoles = []tables.Role{
	{Name: "metrics", Version: "1.0.0", Dependencies: []string{},
		OnceDDL: []string{"CREATE TABLE role_metrics (name TEXT PRIMARY KEY, value INT) DISTRIBUTED GLOBALLY"}},
	{Name: "api", Version: "1.2.0", Dependencies: []string{"metrics"}, OnceDDL: []string{}},
	{Name: "flaky", Version: "0.3.1", Dependencies: []string{}, OnceDDL: []string{}},
}

// roleFailure is how often flaky's Init fails while faults are on.
const roleFailure = 0.2

// roleRunner runs an instance's roles in virtual time (runtime.RoleRunner).
// Its running set dies with the process.
type roleRunner struct {
	in      *instance
	rng     *rand.Rand
	running map[string]bool
}

func newRoleRunner(in *instance) *roleRunner {
	return &roleRunner{in: in, running: map[string]bool{},
		rng: rand.New(rand.NewPCG(in.w.seed, 0x726f6c65<<8|in.id<<1|uint64(in.incarnations)))}
}

func roleDef(name string) (tables.Role, bool) {
	i := slices.IndexFunc(simRoles, func(r tables.Role) bool { return r.Name == name })
	if i < 0 {
		return tables.Role{}, false
	}
	return simRoles[i], true
}

// Start implements runtime.RoleRunner.
func (r *roleRunner) Start(name string, _ map[string]any, done func(string, error)) {
	in, w := r.in, r.in.w
	def, ok := roleDef(name)
	if !ok {
		r.after(func() { done("", fmt.Errorf("role %s: no such role in this binary", name)) })
		return
	}
	for _, d := range def.Dependencies {
		if !r.running[d] {
			w.fail(fmt.Errorf("roles: i%d starts %s before its dependency %s runs", in.id, name, d))
			return
		}
	}
	if r.running[name] {
		w.fail(fmt.Errorf("roles: i%d is asked to start %s, which runs", in.id, name))
		return
	}
	fail := name == "flaky" && w.faulty() && r.rng.Float64() < roleFailure
	if k := [2]string{in.addr, name}; w.initFailures[k] > 0 {
		w.initFailures[k]-- // Cluster.FailRoleInit
		fail = true
	}
	w.trace.printf("i%d role %s: Init (fails: %v)", in.id, name, fail)
	r.after(func() {
		if fail {
			done(def.Version, fmt.Errorf("%s: Init failed (the simulator's)", name))
			return
		}
		r.running[name] = true
		done(def.Version, nil)
	})
}

// Stop implements runtime.RoleRunner.
func (r *roleRunner) Stop(name string, done func(string, error)) {
	in, w := r.in, r.in.w
	def, _ := roleDef(name)
	for _, other := range simRoles {
		if r.running[other.Name] && slices.Contains(other.Dependencies, name) {
			w.fail(fmt.Errorf("roles: i%d stops %s while %s, which needs it, runs", in.id, name, other.Name))
			return
		}
	}
	w.trace.printf("i%d role %s: Stop", in.id, name)
	r.after(func() {
		delete(r.running, name)
		done(def.Version, nil)
	})
}

// after runs fn on the instance's loop a few virtual milliseconds from
// now, if the process still runs then.
func (r *roleRunner) after(fn func()) {
	in := r.in
	alive := in.epochGuard()
	in.w.sched.after(int64(time.Millisecond)*(1+r.rng.Int64N(20)), func() {
		if alive.ok() {
			in.post(func() {
				if alive.ok() {
					fn()
					in.w.afterEvent(in)
				}
			})
		}
	})
}

// setupRoles enables the roles as an operator would: `.proc_role_enable`
// on the leader (the instance records the definitions its binary has),
// each retried until it answers; bounded like the rest of the setup.
func (w *World) setupRoles() {
	var enable []api.RoleEnable
	for k, t := range w.params.Tiers {
		if k == 0 {
			enable = append(enable, api.RoleEnable{Role: "api", Tier: t.Name})
		}
		enable = append(enable, api.RoleEnable{Role: "flaky", Tier: t.Name})
	}
	c := w.clients[0]
	deadline := w.sched.now + int64(w.params.LivenessBound)
	for _, req := range enable {
		for w.failure == nil {
			done, ok := false, false
			c.connect()
			c.call(req, func(_ any, e *api.Error) {
				done, ok = true, e == nil
				if e != nil {
					w.trace.printf("c%d %s %s on %s: %v", c.id, req.Proc(), req.Role, req.Tier, e)
					c.retarget(e)
				}
			})
			for !done && w.failure == nil && w.sched.step(deadline) {
			}
			if ok {
				break
			}
			if w.sched.now >= deadline {
				w.fail(fmt.Errorf("liveness: role %s was not enabled within %v (%s)", req.Role, w.params.LivenessBound, w.unsettled()))
				return
			}
			w.sched.after(int64(50*time.Millisecond), func() {})
			w.sched.step(deadline)
		}
	}
	w.trace.printf("setup: roles enabled")
}

// rolesOperator is the operator's work on roles during the fault phase:
// enables and disables at run time, and a rolling restart.
type rolesOperator struct {
	rng *rand.Rand
	// calls are the role calls not finished yet (answered, or dropped
	// after their last attempt): the world is not at rest while one may
	// still change _pico_role_tier.
	calls int
	// asked and answered count the enables and disables asked for and
	// answered ok.
	asked, answered int
	// rolled counts the instances the rolling restart restarted and saw
	// Online again.
	rolled int
}

// drawRoles draws the operator's role actions: in half of the seeds,
// enables and disables about every 0.2–1.5 s; in one
// in six, a rolling restart in the first half of the fault phase. Drawn
// last, so that a seed's other parameters stay what they were.
func drawRoles(r *rand.Rand, p *Params) {
	if r.IntN(2) == 0 {
		p.RoleToggleEvery = between(r, 200*time.Millisecond, 1500*time.Millisecond)
	}
	if r.IntN(6) == 0 {
		p.RollingRestartAt = between(r, time.Millisecond, p.FaultPhase/2)
	}
}

func (p Params) rolesString() string {
	return fmt.Sprintf(" role-toggle=%v rolling-restart=%v", p.RoleToggleEvery, p.RollingRestartAt)
}

// scheduleRoles arms the operator's role actions for the fault phase.
// Their choices come from a generator of their own, so that the other
// generators draw what they drew before in seeds without them.
func (w *World) scheduleRoles() {
	w.roles.rng = rand.New(rand.NewPCG(w.seed, 0x726f6c65_6f70))
	w.every(w.params.RoleToggleEvery, w.toggleRole)
	if w.params.RollingRestartAt > 0 {
		w.sched.after(int64(w.params.RollingRestartAt), w.rollingRestart)
	}
}

// toggleRole enables or disables a role on a tier, as `picogo role
// enable|disable ROLE --tier T` does: a random role (a dependency too:
// enabled on its own, it runs whether or not a role there needs it;
// disabled, it stops only once none does) on a random tier, disabled if
// the most advanced instance's _pico_role_tier enables it there, else
// enabled. One at a time.
func (w *World) toggleRole() {
	o := &w.roles
	top, ok := w.latestTopology()
	if !ok || o.calls > 0 {
		return
	}
	role := simRoles[o.rng.IntN(len(simRoles))].Name
	tier := w.params.Tiers[o.rng.IntN(len(w.params.Tiers))].Name
	var req api.Request = api.RoleEnable{Role: role, Tier: tier}
	what := "enable " + role + " on " + tier
	if slices.Contains(top.RoleTiers, tables.RoleTier{Role: role, Tier: tier}) {
		req = api.RoleDisable{Role: role, Tier: tier}
		what = "disable " + role + " on " + tier
	}
	o.asked++
	o.calls++
	w.roleCall(w.leader(), req, what, 3)
}

// roleCall sends req to the instance that leads (to, if it runs, else a
// random running instance); an answer that names another leader, or
// says the leader is unknown, sends it again 50 ms later (attempts in
// all), there or to a random running instance; any other failure drops
// it, as the operator's other actions are.
func (w *World) roleCall(to *instance, req api.Request, what string, attempts int) {
	o := &w.roles
	if to == nil || !to.up() || to.node().Phase() != node.PhaseRunning {
		run := w.running()
		if len(run) == 0 {
			o.calls--
			return
		}
		to = run[o.rng.IntN(len(run))]
	}
	w.trace.printf("operator: %s via i%d", what, to.id)
	w.operatorCall(to, req, func(_ any, e *api.Error) {
		if e == nil {
			o.calls--
			o.answered++
			w.trace.printf("operator: %s: ok", what)
			return
		}
		w.trace.printf("operator: %s: %s", what, e.Message)
		if attempts <= 1 || (e.Code != api.CodeNotALeader && e.Code != api.CodeLeaderUnknown) {
			o.calls--
			return
		}
		next := w.byRaftID(e.LeaderID)
		w.sched.after(int64(50*time.Millisecond), func() { w.roleCall(next, req, what, attempts-1) })
	})
}

// rollingRestart restarts every instance of the cluster, one at a time
// in order, as an operator rolling out a new binary would: a graceful
// shutdown, a start once it has exited, and the next once it is Online
// again in a new incarnation (its roles started: the governor starts
// them before Online) — or after 4 s, when the faults keep it from
// getting there. An instance that is down, on its way out or expelled is
// passed over, and one that would leave fewer than a majority up waits.
// It ends with the fault phase.
func (w *World) rollingRestart() {
	w.trace.printf("operator: rolling restart")
	w.rollFrom(0)
}

func (w *World) rollFrom(k int) {
	if !w.faultsOn || w.failure != nil || k >= len(w.instances) {
		w.trace.printf("operator: rolling restart ends (%d of %d restarted and Online again)", w.roles.rolled, len(w.instances))
		return
	}
	in := w.instances[k]
	if !in.up() || in.stopping || in.retired || in.terminated || in.raftID == 0 ||
		in.node().Phase() != node.PhaseRunning || w.expelledRow(in.raftID) {
		w.rollFrom(k + 1)
		return
	}
	if w.down()+1 > (len(w.instances)-1)/2 {
		w.sched.after(int64(50*time.Millisecond), func() { w.rollFrom(k) })
		return
	}
	top, ok := w.latestTopology()
	row, known := byRaftID(top, in.raftID)
	if !ok || !known {
		w.rollFrom(k + 1)
		return
	}
	before, started := row.Target.Incarnation, in.incarnations
	in.stopping = true
	w.trace.printf("operator: rolling restart: i%d graceful shutdown", in.id)
	w.shutdown(in)
	deadline := w.sched.now + int64(4*time.Second)
	var wait func()
	wait = func() {
		if !w.faultsOn || w.failure != nil {
			w.rollFrom(k + 1) // ends
			return
		}
		if w.onlineAgain(in, started, before) {
			w.roles.rolled++
			w.trace.printf("operator: rolling restart: i%d is Online again", in.id)
			w.checkRolesAfterRestart(in, started)
			w.rollFrom(k + 1)
			return
		}
		if w.sched.now >= deadline || in.retired || in.terminated {
			w.trace.printf("operator: rolling restart: i%d is not Online again: next", in.id)
			w.rollFrom(k + 1)
			return
		}
		w.sched.after(int64(20*time.Millisecond), wait)
	}
	w.sched.after(int64(20*time.Millisecond), wait)
}

// onlineAgain: in runs a process started after the one of start count
// started, and the most advanced instance's tables say it is Online, as
// its target is, in an incarnation after before.
func (w *World) onlineAgain(in *instance, started, before uint64) bool {
	if !in.up() || in.incarnations <= started || in.node().Phase() != node.PhaseRunning {
		return false
	}
	top, ok := w.latestTopology()
	if !ok {
		return false
	}
	i, ok := byRaftID(top, in.raftID)
	return ok && i.Current.Variant == tables.GradeOnline && i.Current == i.Target && i.Target.Incarnation > before
}

// checkRolesAfterRestart: in is Online again after the rolling restart
// restarted it, in a new incarnation. Its tier's roles were started
// before Online: each has a state of that incarnation (running, or
// failed: a failure does not hold Online back), but for those waiting
// for their DDL; and if its process is the first one started since
// (started counts starts before), each that says running runs in it.
// Not while the operator toggles roles: a role enabled a moment ago has
// no state yet, and a stop under way has stopped a role before its row
// says so.
func (w *World) checkRolesAfterRestart(in *instance, started uint64) {
	if w.params.RoleToggleEvery > 0 || in.incarnations != started+1 || in.roles == nil {
		return
	}
	top, ok := w.latestTopology()
	if !ok {
		return
	}
	i, ok := byRaftID(top, in.raftID)
	if !ok {
		return
	}
	want, err := top.RolesOfTier(i.Tier)
	if err != nil {
		return
	}
	waiting := map[string]bool{}
	for _, r := range want {
		if r.DDLApplied < uint64(len(r.OnceDDL)) || slices.ContainsFunc(r.Dependencies, func(d string) bool { return waiting[d] }) {
			waiting[r.Name] = true
			continue
		}
		st, ok := top.RoleStateOf(i.InstanceID, r.Name)
		switch {
		case !ok || st.Incarnation != i.Target.Incarnation:
			w.fail(fmt.Errorf("roles: i%d is Online(%d) again after a restart, and its tier's role %s has no state of that incarnation (%+v)",
				in.id, i.Target.Incarnation, r.Name, st))
			return
		case st.State == tables.RoleRunning && !in.roles.running[r.Name]:
			w.fail(fmt.Errorf("roles: i%d is Online(%d) again after a restart, and %s's state says running, but its process does not run it",
				in.id, i.Target.Incarnation, r.Name))
			return
		}
	}
}

// rolesUnsettled says what keeps the roles from being, at rest, exactly
// those of each Online instance's tier ("" when they are): the DDL of
// every role that runs somewhere applied (one disabled everywhere before
// its DDL was applied never applies it); no operator's role call under
// way; on each Online
// instance, the simulator's runner runs exactly the roles its tier
// wants as the final _pico_role_tier says (with their dependencies), and
// _pico_role_state agrees with it (roleStatesAgree).
func (w *World) rolesUnsettled(top tables.Topology) string {
	if w.roles.calls > 0 {
		return "an operator's role call is under way"
	}
	for _, t := range top.Tiers {
		roles, err := top.RolesOfTier(t.Name)
		if err != nil {
			return err.Error()
		}
		for _, r := range roles {
			if r.DDLApplied != uint64(len(r.OnceDDL)) {
				return fmt.Sprintf("role %s, which runs on tier %s, has applied %d of its %d DDL statements", r.Name, t.Name, r.DDLApplied, len(r.OnceDDL))
			}
		}
	}
	for in := range w.membersOf(clusterID) {
		if !in.up() || in.roles == nil || w.expelledRow(in.node().ID()) {
			continue // an expelled instance is no member: it may never hear
		}
		var want []string
		var online *tables.Instance
		for _, i := range top.Instances {
			if i.RaftID != in.node().ID() || i.Current.Variant != tables.GradeOnline || i.Expelled() {
				continue
			}
			online = &i
			roles, err := top.RolesOfTier(i.Tier)
			if err != nil {
				return err.Error()
			}
			for _, r := range roles {
				want = append(want, r.Name)
			}
		}
		have := in.roles.runningNames()
		slices.Sort(want)
		if !slices.Equal(want, have) {
			return fmt.Sprintf("i%d runs roles [%s], its tier wants [%s]", in.id, strings.Join(have, " "), strings.Join(want, " "))
		}
		if online != nil {
			if why := roleStatesAgree(top, *online, in.roles.running); why != "" {
				return fmt.Sprintf("i%d: %s", in.id, why)
			}
		}
	}
	return ""
}

// runningNames are the roles the runner runs, by name.
func (r *roleRunner) runningNames() []string {
	var out []string
	for name := range r.running {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// roleStatesAgree says how _pico_role_state disagrees with what an Online
// instance i runs ("" if it does not): every role it runs has a row of
// i's incarnation that says running, at the role's version; every other
// row of i says stopped, or failed (a failed Init: it never ran) — also
// one of an earlier incarnation: at rest the governor has stopped the
// roles the tier no longer wants wherever a row says they run (a process
// since gone answers that they do not).
func roleStatesAgree(top tables.Topology, i tables.Instance, running map[string]bool) string {
	for _, st := range top.RoleStates {
		if st.InstanceID != i.InstanceID {
			continue
		}
		current := st.Incarnation == i.Target.Incarnation
		switch {
		case running[st.Role]:
			def, _ := roleDef(st.Role)
			if !current || st.State != tables.RoleRunning || st.Version != def.Version {
				return fmt.Sprintf("runs %s, whose _pico_role_state row says %s (incarnation %d, version %s; the instance's is %d, the role's %s)",
					st.Role, st.State, st.Incarnation, st.Version, i.Target.Incarnation, def.Version)
			}
		case st.State == tables.RoleRunning:
			return fmt.Sprintf("does not run %s, whose _pico_role_state row says running (incarnation %d; the instance's is %d)", st.Role, st.Incarnation, i.Target.Incarnation)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(running)) {
		if _, ok := top.RoleStateOf(i.InstanceID, name); !ok {
			return fmt.Sprintf("runs %s, which has no _pico_role_state row", name)
		}
	}
	return ""
}

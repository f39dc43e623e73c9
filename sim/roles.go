package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/tables"
)

// Roles in a seed's world (docs/roles.md): three compiled-in test roles
// whose code is the simulator's (every instance's binary has them:
// runtime.Instance.Roles). At setup an operator enables api (with its
// dependency metrics, whose once-per-cluster DDL creates a global table)
// on the first tier and flaky on every tier through `.proc_role_enable`;
// the governor applies the DDL, then starts them. Their Init
// takes virtual time; flaky's fails now and then while faults are on, so
// that failures are recorded and retried. Checked:
//   - when a role starts on an instance, its dependencies run there (the
//     governor asks in dependency order; the node asks one at a time);
//   - at rest, every role's DDL is applied, and the roles that run on
//     each instance are exactly those of
//     its tier if it is Online (an expelled one is no member and may never
//     hear it is; a crash or a stop ends a process's roles).
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
	w.trace.printf("i%d role %s: Init (fails: %v)", in.id, name, fail)
	r.after(func() {
		if fail {
			done(def.Version, errors.New("flaky: Init failed (the simulator's)"))
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
		if alive() {
			in.post(func() {
				if alive() {
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

// rolesUnsettled says what keeps the roles from being, at rest, exactly
// those of each Online instance's tier ("" when they are).
func (w *World) rolesUnsettled(top tables.Topology) string {
	for _, r := range top.Roles {
		if r.DDLApplied != uint64(len(r.OnceDDL)) {
			return fmt.Sprintf("role %s has applied %d of its %d DDL statements", r.Name, r.DDLApplied, len(r.OnceDDL))
		}
	}
	for _, in := range w.membersOf(clusterID) {
		if !in.up() || in.roles == nil || w.expelledRow(in.node().ID()) {
			continue // an expelled instance is no member: it may never hear
		}
		var want []string
		for _, i := range top.Instances {
			if i.RaftID != in.node().ID() || i.Current.Variant != tables.GradeOnline || i.Expelled() {
				continue
			}
			roles, err := top.RolesOfTier(i.Tier)
			if err != nil {
				return err.Error()
			}
			for _, r := range roles {
				want = append(want, r.Name)
			}
		}
		var have []string
		for name := range in.roles.running {
			have = append(have, name)
		}
		slices.Sort(want)
		slices.Sort(have)
		if !slices.Equal(want, have) {
			return fmt.Sprintf("i%d runs roles [%s], its tier wants [%s]", in.id, strings.Join(have, " "), strings.Join(want, " "))
		}
	}
	return ""
}

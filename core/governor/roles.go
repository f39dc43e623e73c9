package governor

import (
	"fmt"
	"slices"
	"strings"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/mutant"
	"github.com/picogo/picogo/core/tables"
)

// The roles step (docs/roles.md): the roles of an instance's tier — those
// enabled on it and what they depend on — run on it from before it goes
// Online (a step of its climb, after sharding) for as long as it is
// Online; a role disabled on the tier stops.
//
//   - An instance at ShardingInitialized(i) with target Online(i), or
//     Online(i), gets .proc_role_start for the roles with no state of
//     incarnation i, or one that says stopped, or failed and not backing
//     off (Input.RoleBackoff: the executor's, so that a failing Init is
//     retried later, not at every step).
//   - The answer, one result per role, is recorded in _pico_role_state
//     (StartRoles.Record): running, or failed with its error. A failure
//     does not keep the instance from Online: the online step waits only
//     until every role has a state of incarnation i (runnings and
//     failures alike).
//   - An Online instance whose tier no longer wants a role that runs
//     there gets .proc_role_stop for it (dependents first), recorded as
//     stopped.
//   - A tier whose roles cannot be ordered (a definition missing, a
//     cycle) starts none, and does not hold its instances back.
//   - One instance per Action, the first by name; its row is the CaS
//     predicate's (the answer is recorded for the grade it was asked at).

// StepRoles is the roles step's name.
const StepRoles = "roles"

// StartRoles starts roles on an instance: the RPC, then Record of its
// answer.
type StartRoles struct {
	Instance    string
	Incarnation uint64
	Roles       []tables.Role // in start order
	// Known are the instance's _pico_role_state rows when planned.
	Known []tables.RoleState
	RPC   RPC
	// Ranges are the record's predicate: the instance's row and all its
	// _pico_role_state rows (roleRowsOf). The executor checks them before
	// it asks, too (docs/roles.md).
	Ranges []tables.Range
}

// StopRoles stops roles on an Online instance: the RPC, then Record of
// its answer.
type StopRoles struct {
	Instance    string
	Incarnation uint64
	Roles       []tables.Role // in stop order
	// Known are the instance's _pico_role_state rows when planned.
	Known  []tables.RoleState
	RPC    RPC
	Ranges []tables.Range // as StartRoles'
}

// MarkRoles records that the governor is about to start (State
// starting) or stop (stopping) roles on an instance, before it asks: if
// the answer is lost, the call may still run there, and a row saying so
// makes the governor ask again — a start whose role is no longer wanted
// is stopped, a stop whose role is wanted again is started.
type MarkRoles struct {
	Instance string
	State    string // tables.RoleStarting or tables.RoleStopping
	Roles    []string
	CaS
}

func (MarkRoles) Step() string { return StepRoles }
func (a MarkRoles) Detail() string {
	return fmt.Sprintf("%s %s on %s", a.State, strings.Join(a.Roles, ", "), a.Instance)
}
func (MarkRoles) isAction()             {}
func (a MarkRoles) Batch() ([]RPC, CaS) { return nil, a.CaS }

func (StartRoles) Step() string { return StepRoles }
func (StopRoles) Step() string  { return StepRoles }
func (a StartRoles) Detail() string {
	return fmt.Sprintf("start %s on %s", strings.Join(roleNames(a.Roles), ", "), a.Instance)
}
func (a StopRoles) Detail() string {
	return fmt.Sprintf("stop %s on %s", strings.Join(roleNames(a.Roles), ", "), a.Instance)
}
func (StartRoles) isAction() {}
func (StopRoles) isAction()  {}

// RoleBackoffKey is a role on an instance in Input.RoleBackoff.
func RoleBackoffKey(instance, role string) string { return instance + "\x00" + role }

// Record is the CaS that records the answer to the RPC: the role results
// the instance answered, one per role asked, in order, and what it said
// runs there (reconcile).
func (a StartRoles) Record(answer any) (CaS, []api.RoleResult, error) {
	return record(a.Instance, a.Incarnation, a.Roles, a.Known, a.Ranges, answer, tables.RoleRunning)
}

// Record is the CaS that records the answer to the RPC.
func (a StopRoles) Record(answer any) (CaS, []api.RoleResult, error) {
	return record(a.Instance, a.Incarnation, a.Roles, a.Known, a.Ranges, answer, tables.RoleStopped)
}

func record(instance string, incarnation uint64, roles []tables.Role, known []tables.RoleState, ranges []tables.Range,
	answer any, ok string) (CaS, []api.RoleResult, error) {
	report, err := roleReport(answer)
	if err != nil {
		return CaS{}, nil, err
	}
	results := report.Results
	if len(results) != len(roles) {
		return CaS{}, nil, fmt.Errorf("%s answered %d role results for %d roles", instance, len(results), len(roles))
	}
	cas := CaS{Ranges: ranges}
	for k, res := range results {
		if res.Role != roles[k].Name {
			return CaS{}, nil, fmt.Errorf("%s answered for role %s where %s was asked", instance, res.Role, roles[k].Name)
		}
		st := tables.RoleState{InstanceID: instance, Role: res.Role, State: ok, Error: res.Error, Version: res.Version, Incarnation: incarnation}
		if res.Error != "" && ok == tables.RoleRunning {
			st.State = tables.RoleFailed
		}
		if st.Version == "" {
			st.Version = roles[k].Version
		}
		cas.Ops = append(cas.Ops, tables.Replace(tables.TablePicoRoleState, st.Tuple()...))
	}
	cas.Ops = append(cas.Ops, reconcile(instance, incarnation, roles, known, report.Running)...)
	return cas, results, nil
}

// reconcile makes the instance's rows of roles it was not asked about
// say what it reported runs there: a row saying running (or starting)
// for a role that does not run (an earlier stop whose answer was lost, run late) says
// stopped; a role that runs without a row saying so for this incarnation
// (an earlier start run late, or the rows of a process that came back
// from being cut off) gets one. The governor's later steps then start or
// stop what the tier wants.
func reconcile(instance string, incarnation uint64, asked []tables.Role, known []tables.RoleState, running []api.RoleResult) []tables.Dml {
	wasAsked := func(role string) bool {
		return slices.ContainsFunc(asked, func(r tables.Role) bool { return r.Name == role })
	}
	row := func(role string) (tables.RoleState, bool) {
		k := slices.IndexFunc(known, func(st tables.RoleState) bool { return st.Role == role })
		if k < 0 {
			return tables.RoleState{}, false
		}
		return known[k], true
	}
	var ops []tables.Dml
	for _, r := range running {
		if wasAsked(r.Role) {
			continue
		}
		if st, ok := row(r.Role); ok && st.State == tables.RoleRunning && st.Incarnation == incarnation && st.Version == r.Version {
			continue
		}
		st := tables.RoleState{InstanceID: instance, Role: r.Role, State: tables.RoleRunning, Version: r.Version, Incarnation: incarnation}
		ops = append(ops, tables.Replace(tables.TablePicoRoleState, st.Tuple()...))
	}
	for _, st := range known {
		runs := slices.ContainsFunc(running, func(r api.RoleResult) bool { return r.Role == st.Role })
		if wasAsked(st.Role) || runs || !mayRun(st.State) {
			continue
		}
		st.State, st.Error, st.Incarnation = tables.RoleStopped, "", incarnation
		ops = append(ops, tables.Replace(tables.TablePicoRoleState, st.Tuple()...))
	}
	return ops
}

// roleReport reads what .proc_role_start or .proc_role_stop answered:
// the report itself (decoded by proc), or the values a call served here
// answered with.
func roleReport(v any) (api.RoleReport, error) {
	switch x := v.(type) {
	case api.RoleReport:
		return x, nil
	case []any:
		if len(x) == 1 {
			return roleReport(x[0])
		}
	}
	return api.RoleReport{}, fmt.Errorf("role report: got %T", v)
}

func roleNames(rs []tables.Role) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	return out
}

// roles is the roles step.
func (p *planner) roles() (Action, bool) {
	top := &p.in.Topology
	for _, i := range p.instances {
		climbing := i.Target.Variant == tables.GradeOnline &&
			i.Current == tables.Grade{Variant: tables.GradeShardingInitialized, Incarnation: i.Target.Incarnation}
		online := i.Target.Variant == tables.GradeOnline && i.Current == i.Target
		if !climbing && !online || i.Expelled() {
			continue
		}
		addr, ok := p.address(i)
		if !ok {
			continue
		}
		want, err := top.RolesOfTier(i.Tier)
		if err != nil {
			continue
		}
		var r rows
		r.readInstance(i)
		var start []tables.Role
		waiting := map[string]bool{}
		for _, role := range want {
			if waitsForDDL(role, waiting) {
				continue
			}
			st, ok := top.RoleStateOf(i.InstanceID, role.Name)
			switch {
			case !ok, p.otherIncarnation(st, i), st.State == tables.RoleStopped, st.State == tables.RoleStarting,
				st.State == tables.RoleStopping:
				start = append(start, role)
			case st.State == tables.RoleFailed && !p.in.RoleBackoff[RoleBackoffKey(i.InstanceID, role.Name)]:
				start = append(start, role)
			}
		}
		if p.in.mutants.Has(mutant.RolesIgnoreDependencies) {
			slices.SortFunc(start, func(a, b tables.Role) int { return strings.Compare(a.Name, b.Name) })
		}
		known := p.roleStatesOf(i)
		if mark := marking(i, tables.RoleStarting, start, known); len(mark.Ops) > 0 {
			mark.Ranges = r.ranges()
			return MarkRoles{Instance: i.InstanceID, State: tables.RoleStarting, Roles: roleNames(start), CaS: mark}, true
		}
		if len(start) > 0 {
			return StartRoles{Instance: i.InstanceID, Incarnation: i.Target.Incarnation, Roles: start, Known: known,
				RPC:    RPC{InstanceID: i.InstanceID, RaftID: i.RaftID, Address: addr, Call: api.RoleStart{Roles: roleNames(start)}},
				Ranges: append(r.ranges(), roleRowsOf(i.InstanceID))}, true
		}
		if !online {
			continue
		}
		if stop := p.unwanted(i, want); len(stop) > 0 {
			if mark := marking(i, tables.RoleStopping, stop, known); len(mark.Ops) > 0 {
				mark.Ranges = r.ranges()
				return MarkRoles{Instance: i.InstanceID, State: tables.RoleStopping, Roles: roleNames(stop), CaS: mark}, true
			}
			return StopRoles{Instance: i.InstanceID, Incarnation: i.Target.Incarnation, Roles: stop, Known: known,
				RPC:    RPC{InstanceID: i.InstanceID, RaftID: i.RaftID, Address: addr, Call: api.RoleStop{Roles: roleNames(stop)}},
				Ranges: append(r.ranges(), roleRowsOf(i.InstanceID))}, true
		}
	}
	return nil, false
}

// roleRowsOf is the range of instance's _pico_role_state rows (the
// instance is the first part of their key). A start or a stop is planned
// on all of them and its record may write any of them (reconcile), so its
// record stands only if no entry after the plan's writes into them — and,
// as the executor checks that before it asks too, an instance is never
// asked while such an entry is in flight: the record of an earlier answer,
// applied after this call ran, would say what ran before it (seed 1123: a
// start's answer "failed" recorded after a later start had started the
// role, since disabled, which nothing then stopped).
func roleRowsOf(instance string) tables.Range {
	prefix := keyOf(tables.TablePicoRoleState, instance).key
	return tables.Range{Table: tables.TablePicoRoleState,
		Min: &tables.Bound{Key: prefix, Included: true}, Max: &tables.Bound{Key: prefix, Included: true}}
}

// marking is the CaS recording roles as state (starting or stopping) on
// i, for those whose rows do not say so for its target incarnation yet.
func marking(i tables.Instance, state string, roles []tables.Role, known []tables.RoleState) CaS {
	var cas CaS
	for _, r := range roles {
		if slices.ContainsFunc(known, func(st tables.RoleState) bool {
			return st.Role == r.Name && st.State == state && st.Incarnation == i.Target.Incarnation
		}) {
			continue
		}
		st := tables.RoleState{InstanceID: i.InstanceID, Role: r.Name, State: state, Version: r.Version,
			Incarnation: i.Target.Incarnation}
		cas.Ops = append(cas.Ops, tables.Replace(tables.TablePicoRoleState, st.Tuple()...))
	}
	return cas
}

// mayRun: a row in this state says its role runs, or may (a start or a
// stop asked for, its answer not recorded).
func mayRun(state string) bool {
	return state == tables.RoleRunning || state == tables.RoleStarting || state == tables.RoleStopping
}

// roleStatesOf are i's _pico_role_state rows.
func (p *planner) roleStatesOf(i tables.Instance) []tables.RoleState {
	var out []tables.RoleState
	for _, st := range p.in.Topology.RoleStates {
		if st.InstanceID == i.InstanceID {
			out = append(out, st)
		}
	}
	return out
}

// unwanted are the roles whose rows say they run, or may (starting, or
// failed), on i, of whatever incarnation, that its tier no longer wants, in
// stop order: a role before the roles it depends on, otherwise by name.
// Rows of an earlier incarnation count: a process cut off and set Offline
// kept running its roles, and the role may have been disabled meanwhile (a
// restarted process answers that it does not run it). A failed start
// counts too: a copy of its call that the network delivered again may have
// started the role after the answer that was recorded (seed 755), and a
// stop of a role that does not run only says so.
func (p *planner) unwanted(i tables.Instance, want []tables.Role) []tables.Role {
	top := &p.in.Topology
	var names []string
	for _, st := range top.RoleStates {
		if st.InstanceID != i.InstanceID || !mayRun(st.State) && st.State != tables.RoleFailed {
			continue
		}
		if !slices.ContainsFunc(want, func(r tables.Role) bool { return r.Name == st.Role }) {
			names = append(names, st.Role)
		}
	}
	slices.Sort(names)
	defs := map[string]tables.Role{}
	for _, r := range top.Roles {
		defs[r.Name] = r
	}
	var out []tables.Role
	for len(names) > 0 {
		// The first by name that no remaining role depends on.
		k := slices.IndexFunc(names, func(n string) bool {
			return !slices.ContainsFunc(names, func(o string) bool { return slices.Contains(defs[o].Dependencies, n) })
		})
		if k < 0 {
			k = 0 // a cycle: the definitions are broken; stop by name
		}
		def, ok := defs[names[k]]
		if !ok {
			def = tables.Role{Name: names[k]}
		}
		out = append(out, def)
		names = slices.Delete(names, k, k+1)
	}
	return out
}

// rolesSettled: every role of i's tier has a state of i's target
// incarnation that is running or failed (not starting or stopping) — what the online step waits for.
func (p *planner) rolesSettled(i tables.Instance) bool {
	top := &p.in.Topology
	want, err := top.RolesOfTier(i.Tier)
	if err != nil {
		return true
	}
	waiting := map[string]bool{}
	for _, role := range want {
		if waitsForDDL(role, waiting) {
			continue
		}
		st, ok := top.RoleStateOf(i.InstanceID, role.Name)
		if !ok || p.otherIncarnation(st, i) || st.State != tables.RoleRunning && st.State != tables.RoleFailed {
			return false
		}
	}
	return true
}

// otherIncarnation: st was recorded for another incarnation of i — a
// process since gone, whose roles went with it.
func (p *planner) otherIncarnation(st tables.RoleState, i tables.Instance) bool {
	return st.Incarnation != i.Target.Incarnation && !p.in.mutants.Has(mutant.RolesSurviveRestart)
}

// StepRoleDDL is the role DDL step's name.
const StepRoleDDL = "role ddl"

// RoleDDL applies the next of a role's once-per-cluster DDL statements:
// the leader runs Statement through SQL's two-phase DDL (as admin), then
// proposes CaS (ddl_applied = Index + 1, predicated on the role's row).
// A statement whose object already exists counts as applied: an earlier
// try created it and its CaS was lost.
type RoleDDL struct {
	Role      string
	Index     uint64
	Statement string
	CaS
}

func (RoleDDL) Step() string { return StepRoleDDL }
func (a RoleDDL) Detail() string {
	return fmt.Sprintf("%s statement %d: %s", a.Role, a.Index+1, a.Statement)
}
func (RoleDDL) isAction() {}

// RoleDDLBackoffKey is a role's DDL in Input.RoleBackoff: a statement that
// failed is not tried again until the executor's backoff lets it.
func RoleDDLBackoffKey(role string) string { return "\x00ddl\x00" + role }

// roleDDL is the role DDL step: a role that runs somewhere (enabled on a
// tier, or needed by one that is) with statements not applied yet, first
// by name, while no other schema change is pending.
func (p *planner) roleDDL() (Action, bool) {
	top := &p.in.Topology
	if top.PendingSchemaVersion != 0 {
		return nil, false
	}
	needed := map[string]bool{}
	for _, t := range p.tiers {
		roles, err := top.RolesOfTier(t.Name)
		if err != nil {
			continue
		}
		for _, r := range roles {
			needed[r.Name] = true
		}
	}
	roles := slices.Clone(top.Roles)
	slices.SortFunc(roles, func(a, b tables.Role) int { return strings.Compare(a.Name, b.Name) })
	for _, r := range roles {
		if !needed[r.Name] || r.DDLApplied >= uint64(len(r.OnceDDL)) || p.in.RoleBackoff[RoleDDLBackoffKey(r.Name)] {
			continue
		}
		var rw rows
		rw.read = append(rw.read, keyOf(tables.TablePicoRole, r.Name))
		rw.ops = append(rw.ops, tables.Update(tables.TablePicoRole, []any{r.Name}, []any{"=", "ddl_applied", r.DDLApplied + 1}))
		rw.writes = append(rw.writes, keyOf(tables.TablePicoRole, r.Name))
		return RoleDDL{Role: r.Name, Index: r.DDLApplied, Statement: r.OnceDDL[r.DDLApplied], CaS: CaS{Ops: rw.ops, Ranges: rw.ranges()}}, true
	}
	return nil, false
}

// waitsForDDL: role has statements the cluster has not applied yet, or
// depends on one that has (waiting holds those seen so far; roles come in
// start order): it does not start until they are applied, nor does an
// instance wait for it to go Online.
func waitsForDDL(r tables.Role, waiting map[string]bool) bool {
	w := r.DDLApplied < uint64(len(r.OnceDDL)) || slices.ContainsFunc(r.Dependencies, func(d string) bool { return waiting[d] })
	if w {
		waiting[r.Name] = true
	}
	return w
}

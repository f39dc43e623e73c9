package tables

import (
	"fmt"
	"slices"

	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tuple"
)

// The roles' tables (docs/roles.md): what the cluster wants run where,
// and what each instance did. picogo's own ids, next to _pico_bucket.
const (
	TablePicoRole       uint32 = 541
	TablePicoRoleTier   uint32 = 542
	TablePicoRoleState  uint32 = 543
	TablePicoRoleConfig uint32 = 544

	TablePicoRoleName       = "_pico_role"
	TablePicoRoleTierName   = "_pico_role_tier"
	TablePicoRoleStateName  = "_pico_role_state"
	TablePicoRoleConfigName = "_pico_role_config"
)

// The states _pico_role_state records for a role on an instance.
const (
	// RoleStarting: the governor is starting it — recorded before it
	// asks, so that a start whose answer is lost is not forgotten (the
	// role may run).
	RoleStarting = "starting"
	RoleRunning  = "running"
	RoleFailed   = "failed"
	// RoleStopping: the governor is stopping it, recorded before it
	// asks, as RoleStarting.
	RoleStopping = "stopping"
	RoleStopped  = "stopped"
)

// roleTables are the roles' table definitions (SystemTables).
func roleTables(sys func(uint32, string, []uint32, ...schema.Field) schema.TableDef, f func(string, tuple.FieldType) schema.Field) []schema.TableDef {
	return []schema.TableDef{
		sys(TablePicoRole, TablePicoRoleName, []uint32{0},
			f("name", tuple.TypeString), f("version", tuple.TypeString), f("dependencies", tuple.TypeArray),
			f("once_ddl", tuple.TypeArray), f("ddl_applied", tuple.TypeUnsigned)),
		sys(TablePicoRoleTier, TablePicoRoleTierName, []uint32{0, 1},
			f("role", tuple.TypeString), f("tier", tuple.TypeString)),
		sys(TablePicoRoleState, TablePicoRoleStateName, []uint32{0, 1},
			f("instance_id", tuple.TypeString), f("role", tuple.TypeString), f("state", tuple.TypeString),
			f("error", tuple.TypeString), f("version", tuple.TypeString), f("incarnation", tuple.TypeUnsigned)),
		sys(TablePicoRoleConfig, TablePicoRoleConfigName, []uint32{0},
			f("role", tuple.TypeString), f("config", tuple.TypeMap)),
	}
}

// Role is a row of _pico_role: a role's definition as the cluster knows
// it (its code is in every instance's binary).
type Role struct {
	Name         string
	Version      string
	Dependencies []string
	// OnceDDL are the SQL DDL statements applied once per cluster, in
	// order; DDLApplied how many of them the cluster has applied.
	OnceDDL    []string
	DDLApplied uint64
}

// Tuple is the row as stored.
func (r Role) Tuple() []any {
	return []any{r.Name, r.Version, stringList(r.Dependencies), stringList(r.OnceDDL), r.DDLApplied}
}

// RoleFrom reads a _pico_role row.
func RoleFrom(v []any) (Role, error) {
	var r Role
	if len(v) != 5 {
		return r, fmt.Errorf("_pico_role row of %d fields", len(v))
	}
	var ok1, ok2, ok3 bool
	r.Name, ok1 = v[0].(string)
	r.Version, ok2 = v[1].(string)
	r.DDLApplied, ok3 = tuple.AsUint64(v[4])
	deps, err1 := stringsFrom(v[2])
	ddl, err2 := stringsFrom(v[3])
	if !ok1 || !ok2 || !ok3 || err1 != nil || err2 != nil {
		return r, fmt.Errorf("_pico_role row %v: want [name, version, dependencies, once_ddl, ddl_applied]", v)
	}
	r.Dependencies, r.OnceDDL = deps, ddl
	return r, nil
}

// RoleTier is a row of _pico_role_tier: Role is enabled on Tier.
type RoleTier struct {
	Role, Tier string
}

// Tuple is the row as stored.
func (r RoleTier) Tuple() []any { return []any{r.Role, r.Tier} }

// RoleTierFrom reads a _pico_role_tier row.
func RoleTierFrom(v []any) (RoleTier, error) {
	var r RoleTier
	var ok1, ok2 bool
	if len(v) == 2 {
		r.Role, ok1 = v[0].(string)
		r.Tier, ok2 = v[1].(string)
	}
	if !ok1 || !ok2 {
		return r, fmt.Errorf("_pico_role_tier row %v: want [role, tier]", v)
	}
	return r, nil
}

// RoleState is a row of _pico_role_state: what the governor last recorded
// of Role on instance InstanceID, for the instance's target incarnation
// Incarnation.
type RoleState struct {
	InstanceID  string
	Role        string
	State       string // RoleStarting, RoleRunning, RoleFailed, RoleStopping or RoleStopped
	Error       string // why it failed ("" otherwise)
	Version     string // the role's version on the instance
	Incarnation uint64
}

// Tuple is the row as stored.
func (r RoleState) Tuple() []any {
	return []any{r.InstanceID, r.Role, r.State, r.Error, r.Version, r.Incarnation}
}

// RoleStateFrom reads a _pico_role_state row.
func RoleStateFrom(v []any) (RoleState, error) {
	var r RoleState
	if len(v) != 6 {
		return r, fmt.Errorf("_pico_role_state row of %d fields", len(v))
	}
	var ok [6]bool
	r.InstanceID, ok[0] = v[0].(string)
	r.Role, ok[1] = v[1].(string)
	r.State, ok[2] = v[2].(string)
	r.Error, ok[3] = v[3].(string)
	r.Version, ok[4] = v[4].(string)
	r.Incarnation, ok[5] = tuple.AsUint64(v[5])
	if slices.Contains(ok[:], false) {
		return r, fmt.Errorf("_pico_role_state row %v: want [instance_id, role, state, error, version, incarnation]", v)
	}
	switch r.State {
	case RoleStarting, RoleRunning, RoleFailed, RoleStopping, RoleStopped:
	default:
		return r, fmt.Errorf("_pico_role_state row %v: state %q is not %s, %s, %s, %s or %s", v, r.State,
			RoleStarting, RoleRunning, RoleFailed, RoleStopping, RoleStopped)
	}
	return r, nil
}

// RoleConfig is a row of _pico_role_config: the configuration of Role on
// every instance running it (a role without a row has none).
type RoleConfig struct {
	Role   string
	Config map[string]any
}

// Tuple is the row as stored.
func (r RoleConfig) Tuple() []any { return []any{r.Role, r.Config} }

// RoleConfigFrom reads a _pico_role_config row.
func RoleConfigFrom(v []any) (RoleConfig, error) {
	var r RoleConfig
	var ok1, ok2 bool
	if len(v) == 2 {
		r.Role, ok1 = v[0].(string)
		r.Config, ok2 = v[1].(map[string]any)
	}
	if !ok1 || !ok2 {
		return r, fmt.Errorf("_pico_role_config row %v: want [role, config]", v)
	}
	return r, nil
}

// ConfigOf is role's configuration as _pico_role_config records it (nil:
// none).
func (t *Topology) ConfigOf(role string) map[string]any {
	i := slices.IndexFunc(t.RoleConfigs, func(c RoleConfig) bool { return c.Role == role })
	if i < 0 {
		return nil
	}
	return t.RoleConfigs[i].Config
}

// stringList is a list as a msgpack array (never nil: an empty list is []).
func stringList(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func stringsFrom(v any) ([]string, error) {
	a, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%v is not an array", v)
	}
	out := make([]string, len(a))
	for i, x := range a {
		if out[i], ok = x.(string); !ok {
			return nil, fmt.Errorf("%v is not an array of strings", v)
		}
	}
	return out, nil
}

// RolesOfTier are the roles that run on tier's instances: those enabled on
// it and, transitively, their dependencies, in start order (StartOrder).
// A role _pico_role does not define is an error: the tier's roles cannot
// start.
func (t *Topology) RolesOfTier(tier string) ([]Role, error) {
	var enabled []string
	for _, rt := range t.RoleTiers {
		if rt.Tier == tier {
			enabled = append(enabled, rt.Role)
		}
	}
	roles, err := StartOrder(t.Roles, enabled, TablePicoRoleName)
	if err != nil {
		return nil, fmt.Errorf("tier %s: %w", tier, err)
	}
	return roles, nil
}

// StartOrder are the roles names name and, transitively, what they depend
// on, as defs define them, in start order: a role after its dependencies,
// otherwise by name. A name defs lack (where says what defs are: the
// table, a binary) or a dependency cycle is an error.
func StartOrder(defs []Role, names []string, where string) ([]Role, error) {
	byName := map[string]Role{}
	for _, r := range defs {
		byName[r.Name] = r
	}
	names = slices.Clone(names)
	slices.Sort(names)
	var order []Role
	state := map[string]int{} // 1: being visited, 2: placed
	var visit func(name string, from string) error
	visit = func(name, from string) error {
		switch state[name] {
		case 2:
			return nil
		case 1:
			return fmt.Errorf("role %s: dependency cycle through %s", from, name)
		}
		def, ok := byName[name]
		if !ok {
			if from == "" {
				return fmt.Errorf("role %s is not defined in %s", name, where)
			}
			return fmt.Errorf("role %s depends on %s, which is not defined in %s", from, name, where)
		}
		state[name] = 1
		deps := slices.Clone(def.Dependencies)
		slices.Sort(deps)
		for _, d := range deps {
			if err := visit(d, name); err != nil {
				return err
			}
		}
		state[name] = 2
		order = append(order, def)
		return nil
	}
	for _, name := range names {
		if err := visit(name, ""); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// RoleStateOf finds what _pico_role_state records of role on instance.
func (t *Topology) RoleStateOf(instance, role string) (RoleState, bool) {
	i := slices.IndexFunc(t.RoleStates, func(x RoleState) bool { return x.InstanceID == instance && x.Role == role })
	if i < 0 {
		return RoleState{}, false
	}
	return t.RoleStates[i], true
}

// AppendedDDL returns the OnceDDL statements that a role's version with
// statements next adds to the statements applied, those of a version the
// cluster has applied: next must begin with applied, unchanged, as a
// statement applied once cannot be taken back or changed.
func AppendedDDL(applied, next []string) ([]string, error) {
	if len(next) < len(applied) {
		return nil, fmt.Errorf("OnceDDL: %d statements were applied but the new version has %d: statements cannot be removed", len(applied), len(next))
	}
	for i, stmt := range applied {
		if next[i] != stmt {
			return nil, fmt.Errorf("OnceDDL statement #%d was applied as %q but the new version has %q: applied statements cannot change", i, stmt, next[i])
		}
	}
	return next[len(applied):], nil
}

package tables

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRoleRowsRoundTrip(t *testing.T) {
	s := New()
	role := Role{Name: "storage", Version: "1.2.0", Dependencies: []string{"metrics"}, OnceDDL: []string{"CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT)"}, DDLApplied: 1}
	bare := Role{Name: "metrics", Version: "0.1.0", Dependencies: []string{}, OnceDDL: []string{}}
	state := RoleState{InstanceID: "s_1_1", Role: "storage", State: RoleFailed, Error: "boom", Version: "1.2.0", Incarnation: 3}
	mustApply(t, s, BatchOp(Insert(TablePicoRole, role.Tuple()...), Insert(TablePicoRole, bare.Tuple()...),
		Insert(TablePicoRoleTier, RoleTier{Role: "storage", Tier: "storage"}.Tuple()...),
		Insert(TablePicoRoleState, state.Tuple()...)))
	top, err := s.ReadTopology()
	require.NoError(t, err)
	require.Equal(t, []Role{bare, role}, top.Roles, "by name")
	require.Equal(t, []RoleTier{{Role: "storage", Tier: "storage"}}, top.RoleTiers)
	require.Equal(t, []RoleState{state}, top.RoleStates)
	got, ok := top.RoleStateOf("s_1_1", "storage")
	require.True(t, ok)
	require.Equal(t, state, got)
	_, ok = top.RoleStateOf("s_1_1", "metrics")
	require.False(t, ok)

	for _, bad := range [][]any{
		{"x", "1.0.0", []any{}, []any{}},
		{"x", "1.0.0", []any{1}, []any{}, uint64(0)},
		{"x", 1, []any{}, []any{}, uint64(0)},
	} {
		_, err := RoleFrom(bad)
		require.Error(t, err, "%v", bad)
	}
	_, err = RoleStateFrom([]any{"i", "r", "dancing", "", "1.0.0", uint64(1)})
	require.ErrorContains(t, err, `state "dancing"`)
	_, err = RoleTierFrom([]any{"r"})
	require.Error(t, err)
}

// RolesOfTier: the roles enabled on a tier and what they need, a role
// after its dependencies, otherwise by name.
func TestRolesOfTier(t *testing.T) {
	def := func(name string, deps ...string) Role { return Role{Name: name, Version: "1.0.0", Dependencies: deps} }
	names := func(rs []Role) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Name)
		}
		return out
	}
	top := Topology{
		Roles: []Role{def("api", "metrics", "auth"), def("auth", "metrics"), def("metrics"), def("storage", "metrics"), def("cron")},
		RoleTiers: []RoleTier{{Role: "storage", Tier: "storage"}, {Role: "api", Tier: "router"}, {Role: "cron", Tier: "router"},
			{Role: "metrics", Tier: "router"}},
	}
	rs, err := top.RolesOfTier("router")
	require.NoError(t, err)
	require.Equal(t, []string{"metrics", "auth", "api", "cron"}, names(rs))
	rs, err = top.RolesOfTier("storage")
	require.NoError(t, err)
	require.Equal(t, []string{"metrics", "storage"}, names(rs), "a dependency runs though not enabled itself")
	rs, err = top.RolesOfTier("arbiter")
	require.NoError(t, err)
	require.Empty(t, rs)

	top.Roles = append(top.Roles, def("a", "b"), def("b", "a"))
	top.RoleTiers = append(top.RoleTiers, RoleTier{Role: "a", Tier: "loop"}, RoleTier{Role: "ghost", Tier: "ghostly"}, RoleTier{Role: "orphan", Tier: "x"})
	top.Roles = append(top.Roles, def("orphan", "missing"))
	_, err = top.RolesOfTier("loop")
	require.ErrorContains(t, err, "dependency cycle")
	_, err = top.RolesOfTier("ghostly")
	require.ErrorContains(t, err, "tier ghostly: role ghost is not defined in _pico_role")
	_, err = top.RolesOfTier("x")
	require.ErrorContains(t, err, "role orphan depends on missing")
}

package role_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/picogo/picogo/role"
	"github.com/stretchr/testify/require"
)

// fake is a role that is only its name, version, dependencies and handlers.
type fake struct {
	name, version string
	deps          []string
	ddl           []string
	handlers      map[string]role.Handler
}

func (f fake) Name() string                                 { return f.name }
func (f fake) Version() string                              { return f.version }
func (f fake) Dependencies() []string                       { return f.deps }
func (f fake) OnceDDL() []string                            { return f.ddl }
func (f fake) Init(context.Context, *role.Context) error    { return nil }
func (f fake) Stop(context.Context, *role.Context) error    { return nil }
func (f fake) Handlers() map[string]role.Handler            { return f.handlers }
func r(name string, deps ...string) role.Role               { return fake{name: name, version: "1.0.0", deps: deps} }
func ok(context.Context, *role.Context, []any) (any, error) { return nil, nil }

func TestVersionParse(t *testing.T) {
	v, err := role.ParseVersion("1.22.333-rc.1.x-y+build.5")
	require.NoError(t, err)
	require.Equal(t, role.Version{Major: 1, Minor: 22, Patch: 333, Pre: []string{"rc", "1", "x-y"}, Build: "build.5"}, v)
	require.Equal(t, "1.22.333-rc.1.x-y+build.5", v.String())

	for s, why := range map[string]string{
		"":                         "MAJOR.MINOR.PATCH",
		"1.2":                      "MAJOR.MINOR.PATCH",
		"1.2.3.4":                  "MAJOR.MINOR.PATCH",
		"v1.2.3":                   "not a number",
		"1.02.3":                   "leading zero",
		"1.2.-3":                   "empty number", // "-3" starts the pre-release
		"1.2.3-":                   "empty identifier",
		"1.2.3-a..b":               "empty identifier",
		"1.2.3-01":                 "leading zero",
		"1.2.3-a_b":                "character",
		"1.2.3+":                   "empty identifier",
		"99999999999999999999.0.0": "out of range",
	} {
		_, err := role.ParseVersion(s)
		require.ErrorContains(t, err, why, "%q", s)
	}
	_, err = role.ParseVersion("1.2.3-0a.00x")
	require.NoError(t, err, "alphanumeric identifiers may start with 0")
}

// The precedence list of semver.org §11, plus numbers compared as numbers.
func TestVersionOrder(t *testing.T) {
	order := []string{"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
		"1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.2.0", "1.10.0", "2.0.0", "10.0.0"}
	for i, a := range order {
		va, err := role.ParseVersion(a)
		require.NoError(t, err)
		for j, b := range order {
			vb, err := role.ParseVersion(b)
			require.NoError(t, err)
			require.Equal(t, i < j, va.Less(vb), "%s < %s", a, b)
			require.Equal(t, i == j, va.Compare(vb) == 0, "%s == %s", a, b)
		}
	}
	a, _ := role.ParseVersion("1.0.0+x")
	b, _ := role.ParseVersion("1.0.0+y")
	require.Equal(t, 0, a.Compare(b), "build metadata does not count")
}

func TestValidate(t *testing.T) {
	require.NoError(t, role.Validate(nil))
	require.NoError(t, role.Validate([]role.Role{r("metrics"), r("storage", "metrics"), r("api_gateway", "storage", "metrics")}))

	for _, c := range []struct {
		roles []role.Role
		want  []string
	}{
		{[]role.Role{nil}, []string{"role #0 is nil"}},
		{[]role.Role{r("Storage"), r(""), r("kafka-consumer")}, []string{`"Storage": a name is`, `"": a name is`, `"kafka-consumer": a name is`}},
		{[]role.Role{r("a"), r("a")}, []string{`"a": defined twice`}},
		{[]role.Role{fake{name: "a", version: "1.0"}}, []string{`role "a": version "1.0"`}},
		{[]role.Role{r("a", "b")}, []string{`role "a" depends on "b", which is not a role`}},
		{[]role.Role{r("a", "a")}, []string{"cycle: a -> a"}},
		{[]role.Role{r("c", "a"), r("a", "b"), r("b", "c"), r("d", "a")}, []string{"cycle: a -> b -> c -> a"}},
		{[]role.Role{fake{name: "a", version: "1.0.0", ddl: []string{"CREATE TABLE t (a INT PRIMARY KEY)", " \n"}}},
			[]string{`role "a": OnceDDL statement #1 is blank`}},
		{[]role.Role{fake{name: "a", version: "1.0.0", handlers: map[string]role.Handler{"": ok, "get": nil, "put": ok}}},
			[]string{`role "a": a handler without a name`, `role "a": handler "get" is nil`}},
	} {
		err := role.Validate(c.roles)
		require.Error(t, err)
		for _, w := range c.want {
			require.ErrorContains(t, err, w)
		}
		require.Equal(t, len(c.want), strings.Count(err.Error(), "\n")+1, "exactly the problems: %v", err)
	}
}

func TestOrder(t *testing.T) {
	// The example of seeds/001: a zabbix sidecar every role depends on.
	roles := []role.Role{
		r("api_gateway", "search_index", "zabbix"),
		r("search_index", "storage", "zabbix"),
		r("storage", "zabbix"),
		r("kafka_consumer", "storage", "zabbix"),
		r("zabbix"),
		r("unrelated"),
	}
	require.NoError(t, role.Validate(roles))
	order := func(names ...string) []string {
		t.Helper()
		o, err := role.Order(roles, names)
		require.NoError(t, err)
		return o
	}
	require.Equal(t, []string{"zabbix", "storage", "search_index", "api_gateway"}, order("api_gateway"))
	require.Equal(t, []string{"zabbix", "storage", "kafka_consumer", "search_index"}, order("search_index", "kafka_consumer"),
		"ties by name")
	require.Equal(t, order("search_index", "kafka_consumer"), order("kafka_consumer", "search_index", "kafka_consumer"),
		"the order of names and duplicates do not matter")
	require.Equal(t, []string{"unrelated", "zabbix"}, order("zabbix", "unrelated"))
	require.Empty(t, order())

	// The order of roles does not matter either.
	reversed := append([]role.Role(nil), roles...)
	for i, j := 0, len(reversed)-1; i < j; i, j = i+1, j-1 {
		reversed[i], reversed[j] = reversed[j], reversed[i]
	}
	o, err := role.Order(reversed, []string{"api_gateway", "kafka_consumer", "unrelated"})
	require.NoError(t, err)
	require.Equal(t, []string{"unrelated", "zabbix", "storage", "kafka_consumer", "search_index", "api_gateway"}, o)

	_, err = role.Order(roles, []string{"storage", "nope"})
	require.ErrorContains(t, err, `no role "nope"`)
	_, err = role.Order([]role.Role{r("a", "b"), r("b", "a"), r("c")}, []string{"c", "a"})
	require.ErrorContains(t, err, "cycle: a -> b -> a")
}

func TestAppendedDDL(t *testing.T) {
	v1 := []string{"CREATE TABLE a (id INT PRIMARY KEY)", "CREATE INDEX a_i ON a (id)"}
	v2 := append(append([]string(nil), v1...), "CREATE TABLE b (id INT PRIMARY KEY)")
	got, err := role.AppendedDDL(v1, v2)
	require.NoError(t, err)
	require.Equal(t, v2[2:], got)
	got, err = role.AppendedDDL(nil, v1)
	require.NoError(t, err)
	require.Equal(t, v1, got, "a first version applies everything")
	got, err = role.AppendedDDL(v1, v1)
	require.NoError(t, err)
	require.Empty(t, got)

	_, err = role.AppendedDDL(v2, v1)
	require.EqualError(t, err, "OnceDDL: 3 statements were applied but the new version has 2: statements cannot be removed")
	_, err = role.AppendedDDL(v1, []string{v1[0], "CREATE INDEX a_i ON a (id, id)", "x"})
	require.ErrorContains(t, err, "OnceDDL statement #1 was applied as")
}

func TestTarget(t *testing.T) {
	tg := role.OnBucket("red", 17).OnReplica().WithTimeout(time.Second)
	require.Equal(t, role.Target{Kind: role.ByBucket, Tier: "red", Bucket: 17, Replica: true, Timeout: time.Second}, tg)
	require.NoError(t, tg.Check())
	require.Equal(t, `bucket 17 of tier "red" (replica)`, tg.String())
	require.NoError(t, role.OnRole().Check())
	require.NoError(t, role.OnReplicaset("r1").OnReplica().Check())
	require.NoError(t, role.OnInstance("i1").Check())

	require.ErrorContains(t, role.OnBucket("", 1).Check(), "no tier given")
	require.ErrorContains(t, role.OnBucket("red", 0).Check(), "no bucket (1 or more) given")
	require.ErrorContains(t, role.OnReplicaset("").Check(), "no replicaset given")
	require.ErrorContains(t, role.OnInstance("").Check(), "no instance given")
	require.ErrorContains(t, role.OnInstance("i1").OnReplica().Check(), "replica cannot be asked of one instance")
	require.ErrorContains(t, role.Target{}.Check(), "unknown kind")
	require.ErrorContains(t, role.OnRole().WithTimeout(-time.Second).Check(), "is not a valid timeout")
}

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/picogo/picogo/core/tables"
	"github.com/stretchr/testify/require"
)

// cfg joins lines into a file's contents.
func cfg(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

func TestInitCfgParses(t *testing.T) {
	tier := func(name string, rf uint64, vote bool, buckets uint64) tables.Tier {
		return tables.Tier{Name: name, ReplicationFactor: rf, CanVote: vote, BucketCount: buckets}
	}
	sync := func(t tables.Tier) tables.Tier {
		t.IsSync = true
		return t
	}
	for _, tt := range []struct {
		name string
		file string
		want []tables.Tier
	}{
		{"defaults of every field", cfg(
			"cluster:",
			"  tiers:",
			"    storage:",
		), []tables.Tier{tier("storage", 1, true, 3000)}},
		{"every field, two tiers in file order", cfg(
			"cluster:",
			"  tiers:",
			"    storage:",
			"      replication_factor: 2",
			"      can_vote: false",
			"      bucket_count: 100",
			"    router: {replication_factor: 1}",
		), []tables.Tier{tier("storage", 2, false, 100), tier("router", 1, true, 3000)}},
		{"cluster defaults, given after the tiers", cfg(
			"cluster:",
			"  tiers:",
			"    a:",
			"    b:",
			"      replication_factor: 3",
			"  default_replication_factor: 2",
			"  default_bucket_count: 10",
		), []tables.Tier{tier("a", 2, true, 10), tier("b", 3, true, 10)}},
		{"no tiers: one, the instance's own, with the defaults", cfg(
			"cluster:",
			"  default_replication_factor: 2",
		), []tables.Tier{tier("storage", 2, true, 3000)}},
		{"an empty cluster section", cfg("cluster:"), []tables.Tier{tier("storage", 1, true, 3000)}},
		{"replication_mode", cfg(
			"cluster:",
			"  tiers:",
			"    storage:",
			"      replication_mode: sync",
			"    router:",
			"      replication_mode: async",
		), []tables.Tier{sync(tier("storage", 1, true, 3000)), tier("router", 1, true, 3000)}},
		{"anchors and aliases", cfg(
			"cluster:",
			"  tiers:",
			"    storage: &common",
			"      replication_factor: 2",
			"    other: *common",
		), []tables.Tier{tier("storage", 2, true, 3000), tier("other", 2, true, 3000)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseInitCfg("init.yaml", []byte(tt.file))
			require.NoError(t, err)
			tiers, err := c.tiersFor("init.yaml", tt.want[0].Name)
			require.NoError(t, err)
			require.Equal(t, tt.want, tiers)
		})
	}
}

func TestInitCfgErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		file string
		want string
	}{
		{"empty file", "", "init.yaml: the file is empty; it needs a cluster: section"},
		{"no cluster section", cfg("# nothing", "{}"), "init.yaml:2: no cluster: section"},
		{"not a mapping", cfg("- cluster"), "init.yaml:1: the file must be a mapping, not a list"},
		{"syntax error", cfg("cluster:", "  tiers: [", ""), "init.yaml:3: did not find expected node content"},
		{"tab indentation", cfg("cluster:", "\ttiers:"), "init.yaml:2: found character that cannot start any token"},
		{"two documents", cfg("cluster:", "---", "cluster:"), "init.yaml:2: a second YAML document; the file holds one"},
		{"unknown top-level key", cfg("cluster:", "instance:", "  tier: x"),
			"init.yaml:2: unknown key instance (known keys: cluster)"},
		{"unknown cluster key", cfg("cluster:", "  name: demo"),
			"init.yaml:2: unknown key cluster.name (known keys: default_replication_factor, default_bucket_count, tiers)"},
		{"Picodata's tier", cfg("cluster:", "  tier:", "    storage:"),
			"init.yaml:2: unknown key cluster.tier; picogo calls it tiers (known keys: default_replication_factor, default_bucket_count, tiers)"},
		{"unknown tier key", cfg("cluster:", "  tiers:", "    storage:", "      replicas: 2"),
			"init.yaml:4: unknown key cluster.tiers.storage.replicas (known keys: replication_factor, can_vote, bucket_count, replication_mode, roles)"},
		{"raft_voter", cfg("cluster:", "  tiers:", "    storage:", "      raft_voter: false"),
			"init.yaml:4: unknown key cluster.tiers.storage.raft_voter; picogo calls it can_vote (known keys: replication_factor, can_vote, bucket_count, replication_mode, roles)"},
		{"replication factor 0", cfg("cluster:", "  tiers:", "    storage:", "      replication_factor: 0"),
			"init.yaml:4: cluster.tiers.storage.replication_factor must be an integer of at least 1, not 0"},
		{"negative replication factor", cfg("cluster:", "  tiers:", "    storage:", "      replication_factor: -1"),
			"init.yaml:4: cluster.tiers.storage.replication_factor must be an integer of at least 1, not -1"},
		{"replication factor a string", cfg("cluster:", "  tiers:", "    storage:", "      replication_factor: two"),
			`init.yaml:4: cluster.tiers.storage.replication_factor must be an integer of at least 1, not "two"`},
		{"replication factor quoted", cfg("cluster:", "  tiers:", "    storage:", `      replication_factor: "2"`),
			`init.yaml:4: cluster.tiers.storage.replication_factor must be an integer of at least 1, not "2"`},
		{"replication factor a float", cfg("cluster:", "  tiers:", "    storage:", "      replication_factor: 1.5"),
			"init.yaml:4: cluster.tiers.storage.replication_factor must be an integer of at least 1, not 1.5"},
		{"replication factor a list", cfg("cluster:", "  tiers:", "    storage:", "      replication_factor: [2]"),
			"init.yaml:4: cluster.tiers.storage.replication_factor must be an integer of at least 1, not a list"},
		{"replication factor empty", cfg("cluster:", "  tiers:", "    storage:", "      replication_factor:"),
			"init.yaml:4: cluster.tiers.storage.replication_factor must be an integer of at least 1, not nothing"},
		{"default replication factor 0", cfg("cluster:", "  default_replication_factor: 0"),
			"init.yaml:2: cluster.default_replication_factor must be an integer of at least 1, not 0"},
		{"bucket count 0", cfg("cluster:", "  tiers:", "    storage:", "      bucket_count: 0"),
			"init.yaml:4: cluster.tiers.storage.bucket_count must be an integer of at least 1, not 0"},
		{"replication_mode true", cfg("cluster:", "  tiers:", "    storage:", "      replication_mode: true"),
			"init.yaml:4: cluster.tiers.storage.replication_mode must be async or sync, not true"},
		{"replication_mode SYNC", cfg("cluster:", "  tiers:", "    storage:", "      replication_mode: SYNC"),
			`init.yaml:4: cluster.tiers.storage.replication_mode must be async or sync, not "SYNC"`},
		{"synchronous", cfg("cluster:", "  tiers:", "    storage:", "      synchronous: true"),
			"init.yaml:4: unknown key cluster.tiers.storage.synchronous; picogo calls it replication_mode (known keys: replication_factor, can_vote, bucket_count, replication_mode, roles)"},
		{"can_vote yes", cfg("cluster:", "  tiers:", "    storage:", "      can_vote: yes"),
			`init.yaml:4: cluster.tiers.storage.can_vote must be true or false, not "yes"`},
		{"can_vote 1", cfg("cluster:", "  tiers:", "    storage:", "      can_vote: 1"),
			"init.yaml:4: cluster.tiers.storage.can_vote must be true or false, not 1"},
		{"duplicate tier", cfg("cluster:", "  tiers:", "    storage:", "    router:", "    storage:", "      replication_factor: 2"),
			`init.yaml:5: tier "storage" is given twice (first at line 3)`},
		{"duplicate key", cfg("cluster:", "  default_replication_factor: 1", "  default_replication_factor: 2"),
			"init.yaml:3: cluster.default_replication_factor is given twice (first at line 2)"},
		{"empty tier name", cfg("cluster:", "  tiers:", `    "":`, "      replication_factor: 2"),
			"init.yaml:3: a tier name must not be empty"},
		{"blank tier name", cfg("cluster:", "  tiers:", `    " ": {}`), "init.yaml:3: a tier name must not be empty"},
		{"null tier name", cfg("cluster:", "  tiers:", "    ~: {}"), "init.yaml:3: a tier name must not be empty"},
		{"tiers a list", cfg("cluster:", "  tiers:", "    - storage"),
			"init.yaml:3: cluster.tiers must be a mapping, not a list"},
		{"tier a string", cfg("cluster:", "  tiers:", "    storage: big"),
			`init.yaml:3: cluster.tiers.storage must be a mapping, not "big"`},
		{"cluster a number", cfg("cluster: 1"), "init.yaml:1: cluster must be a mapping, not 1"},
		{"a key that is a mapping", cfg("cluster:", "  tiers:", "    ? {a: 1}", "    : {}"),
			"init.yaml:3: a key of cluster.tiers must be a name, not a mapping"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseInitCfg("init.yaml", []byte(tt.file))
			require.EqualError(t, err, tt.want)
		})
	}
}

func TestInitCfgTierOfTheInstance(t *testing.T) {
	c, err := parseInitCfg("init.yaml", []byte(cfg("cluster:", "  tiers:", "    storage:", "    router:")))
	require.NoError(t, err)
	_, err = c.tiersFor("init.yaml", "compute")
	require.EqualError(t, err, `init.yaml: this instance's tier "compute" (--tier) is not one of the tiers it configures: storage, router`)
	tiers, err := c.tiersFor("init.yaml", "router")
	require.NoError(t, err)
	require.Len(t, tiers, 2)
}

func TestInitCfgFile(t *testing.T) {
	_, err := loadInitCfg(filepath.Join(t.TempDir(), "missing.yaml"))
	require.ErrorIs(t, err, os.ErrNotExist)
	require.ErrorContains(t, err, "missing.yaml")

	path := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(path, []byte(cfg("cluster:", "  tiers:", "    storage:", "      replication_factor: 0")), 0o644))
	_, err = loadInitCfg(path)
	require.EqualError(t, err, path+":4: cluster.tiers.storage.replication_factor must be an integer of at least 1, not 0")
}

// roles: per tier, seeds/001's shape.
func TestInitCfgRoles(t *testing.T) {
	c, err := parseInitCfg("init.yaml", []byte(cfg(
		"cluster:",
		"  tiers:",
		"    router:",
		"      roles: [api, metrics]",
		"    storage:",
		"      roles:",
		"        - storage",
		"    arbiter:",
	)))
	require.NoError(t, err)
	require.Equal(t, []tables.RoleTier{{Role: "api", Tier: "router"}, {Role: "metrics", Tier: "router"}, {Role: "storage", Tier: "storage"}}, c.Roles)
	for file, want := range map[string]string{
		cfg("cluster:", "  tiers:", "    s:", "      roles: api"):      "init.yaml:4: cluster.tiers.s.roles must be a list of names",
		cfg("cluster:", "  tiers:", "    s:", "      roles: [a, a]"):   "init.yaml:4: cluster.tiers.s.roles names a twice",
		cfg("cluster:", "  tiers:", "    s:", "      roles: [a, [b]]"): "must be a list of names, not one with",
	} {
		_, err := parseInitCfg("init.yaml", []byte(file))
		require.ErrorContains(t, err, want, file)
	}
}

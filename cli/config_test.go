package cli

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/picogo/picogo/core/tables"
	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestRunConfigDefaults(t *testing.T) {
	c, err := parseRunConfig(nil, env(nil), io.Discard)
	require.NoError(t, err)
	require.Equal(t, "./picogo-data", c.DataDir)
	require.Equal(t, "127.0.0.1:3301", c.Listen)
	require.Equal(t, c.Listen, c.Advertise, "advertise defaults to listen")
	require.Empty(t, c.Peers)
	require.Equal(t, "demo", c.ClusterID)
	require.Equal(t, "storage", c.Tier)
	require.Equal(t, 100*time.Millisecond, c.Tick)
	require.Equal(t, slog.LevelInfo, c.LogLevel)
	require.Equal(t, 10*time.Second, c.ShutdownTimeout)
	require.Empty(t, c.InitCfg)
	tiers, err := c.initTiers()
	require.NoError(t, err)
	require.Equal(t, []tables.Tier{{Name: "storage", ReplicationFactor: 1, CanVote: true, BucketCount: 3000}}, tiers,
		"without --init-cfg: one tier, --tier, voting")
}

func TestRunConfigTiers(t *testing.T) {
	c, err := parseRunConfig([]string{"--tier", "router", "--init-replication-factor", "3"}, env(nil), io.Discard)
	require.NoError(t, err)
	tiers, err := c.initTiers()
	require.NoError(t, err)
	require.Equal(t, []tables.Tier{{Name: "router", ReplicationFactor: 3, CanVote: true, BucketCount: 3000}}, tiers)

	path := filepath.Join(t.TempDir(), "init.yaml")
	require.NoError(t, os.WriteFile(path, []byte("cluster:\n  tiers:\n    storage:\n      replication_factor: 2\n    router:\n      can_vote: false\n"), 0o644))
	c, err = parseRunConfig([]string{"--tier", "router"}, env(map[string]string{"PICOGO_INIT_CFG": path}), io.Discard)
	require.NoError(t, err)
	tiers, err = c.initTiers()
	require.NoError(t, err)
	require.Equal(t, []tables.Tier{
		{Name: "storage", ReplicationFactor: 2, CanVote: true, BucketCount: 3000},
		{Name: "router", ReplicationFactor: 1, CanVote: false, BucketCount: 3000},
	}, tiers)

	c.InitCfg = filepath.Join(t.TempDir(), "missing.yaml")
	_, err = c.initTiers()
	require.ErrorContains(t, err, "--init-cfg: open "+c.InitCfg+": no such file or directory")
}

func TestRunConfigFlagsEnvAndPrecedence(t *testing.T) {
	c, err := parseRunConfig([]string{
		"--listen", "127.0.0.1:4000", "--peer", "b:1,a:1", "--peer", "c:1", "--peer", "a:1",
		"--failure-domain", "dc=msk, rack=3", "--log-level", "debug",
	}, env(map[string]string{
		"PICOGO_LISTEN": "ignored:1", "PICOGO_DATA_DIR": "/tmp/x", "PICOGO_CLUSTER_ID": "prod", "PICOGO_TICK": "10ms",
	}), io.Discard)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:4000", c.Listen, "a flag wins over its variable")
	require.Equal(t, "/tmp/x", c.DataDir)
	require.Equal(t, "prod", c.ClusterID)
	require.Equal(t, 10*time.Millisecond, c.Tick)
	require.Equal(t, []string{"b:1", "a:1", "c:1"}, c.Peers, "repeated and comma-separated, without duplicates")
	require.Equal(t, map[string]string{"DC": "MSK", "RACK": "3"}, c.FailureDomain)
	require.Equal(t, slog.LevelDebug, c.LogLevel)

	c, err = parseRunConfig(nil, env(map[string]string{"PICOGO_PEER": "x:1,y:1"}), io.Discard)
	require.NoError(t, err)
	require.Equal(t, []string{"x:1", "y:1"}, c.Peers)
}

func TestRunConfigErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--failure-domain", "dc"}, nil, `"dc" is not KEY=VALUE`},
		{[]string{"--failure-domain", "dc=a,dc=b"}, nil, "key DC given twice"},
		{[]string{"--tick", "0s"}, nil, "at least 1ms"},
		{[]string{"--log-level", "loud"}, nil, "--log-level"},
		{[]string{"--init-replication-factor", "0"}, nil, "at least 1"},
		{[]string{"--cluster-id", ""}, nil, "must not be empty"},
		{[]string{"extra"}, nil, `unexpected argument "extra"`},
		{nil, map[string]string{"PICOGO_INIT_REPLICATION_FACTOR": "many"}, "PICOGO_INIT_REPLICATION_FACTOR"},
		{[]string{"--init-cfg", "x.yaml", "--init-replication-factor", "2"}, nil, "give the replication factor in the file"},
		{[]string{"--init-cfg", "x.yaml"}, map[string]string{"PICOGO_INIT_REPLICATION_FACTOR": "2"}, "give the replication factor in the file"},
		{[]string{"--tier", ""}, nil, "--tier must not be empty"},
		{[]string{"--shutdown-timeout", "0s"}, nil, "--shutdown-timeout 0s: want a positive duration"},
		{[]string{"--shutdown-timeout", "soon"}, nil, "shutdown-timeout"},
	} {
		_, err := parseRunConfig(tt.args, env(tt.env), io.Discard)
		require.ErrorContains(t, err, tt.want, "%v %v", tt.args, tt.env)
	}
}

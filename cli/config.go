package cli

import (
	"errors"
	"flag"
	"fmt"
	"github.com/picogo/picogo/role"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// runConfig is `picogo run`'s configuration: flags, each with a PICOGO_*
// environment variable for when flags are awkward (containers, systemd).
type runConfig struct {
	DataDir           string
	Listen            string
	Advertise         string
	Peers             []string
	ClusterID         string
	InstanceID        string
	ReplicasetID      string
	Tier              string
	FailureDomain     map[string]string
	ReplicationFactor uint64
	// ReplicationFactorSet: --init-replication-factor was given (flag or
	// variable), which --init-cfg does not allow.
	ReplicationFactorSet bool
	InitCfg              string
	ShutdownTimeout      time.Duration
	HTTPListen           string
	// PgListen is where PostgreSQL's protocol is served (off when empty);
	// PgAuth the password exchange it asks clients for.
	PgListen            string
	PgAuth              string
	LogLevel            slog.Level
	Tick                time.Duration
	ServicePassword     string
	ServicePasswordFile string
	// Roles are the roles compiled into this binary (cli.Main's), not a
	// flag.
	Roles []role.Role
	// AppDir is a folder of Go plugins (*.so) whose roles the instance
	// runs too (role/plugin); none when empty.
	AppDir string
}

const runUsage = `Usage: picogo run [flags]

Starts a picogo instance. With no flags it runs a single-instance cluster
on 127.0.0.1:3301 with its data in ./picogo-data — this is 'make run'.

An instance with an empty data directory asks every --peer about the
cluster. If one of them already runs in it, the new instance joins through
its leader (naming any one live instance is enough). If none does, the
instances started with the same --peer list agree that the one with the
smallest address boots the cluster and the others join it. A restarted
instance finds who it is in its data directory and rejoins as itself; its
--instance-id, --replicaset-id, --tier, --failure-domain and --init-cfg are
then ignored.

The cluster's tiers come from --init-cfg FILE (YAML, read only by the
instance that boots the cluster):

  cluster:
    default_replication_factor: 1   # optional, default 1
    default_bucket_count: 3000      # optional, default 3000
    tiers:
      storage:
        replication_factor: 2       # optional: default_replication_factor
        can_vote: true              # optional, default true: may be a Raft voter
        bucket_count: 3000          # optional: default_bucket_count
        roles: [storage, metrics]   # optional: roles the tier runs (the
                                    # binary's own: docs/roles.md)

Without it the cluster has one tier, --tier, with --init-replication-factor.

SIGTERM or SIGINT stops the instance gracefully: it asks the cluster to set
it Offline (a leader hands its leadership over first) and waits for it, at
most --shutdown-timeout; a second signal exits at once. An expelled
instance stops by itself, and refuses to start again.

Every flag has an environment variable: --data-dir is PICOGO_DATA_DIR, and
so on. A flag given on the command line wins over the variable.

The admin user's password is taken from PICOGO_ADMIN_PASSWORD when the
cluster has none yet (a different one later is ignored, with a warning).
Instances authenticate each other as pico_service with the service
password, the same on every instance: --service-password-file (keeps it
out of 'ps'), else --service-password, else the data directory's 'cookie'
file, else a development default (with a warning). Four failed logins in
a row lock a user other than pico_service for 5 minutes ('picogo unlock'
lifts it); failed logins are answered later and later per client address.

--pg-listen serves PostgreSQL's protocol too, for psql and PostgreSQL's
drivers: the same users (passwords by SCRAM-SHA-256, or MD5 with --pg-auth
md5), the same SQL (docs/pgwire.md).

Flags:
`

// parseRunConfig reads flags, then PICOGO_* variables for flags not given.
func parseRunConfig(args []string, env func(string) string, stderr io.Writer) (*runConfig, error) {
	c := &runConfig{}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, runUsage); fs.PrintDefaults() }
	var failureDomain, logLevel, tick string
	fs.StringVar(&c.DataDir, "data-dir", "./picogo-data", "directory of this instance's data (Raft log, snapshots, identity)")
	fs.StringVar(&c.Listen, "listen", "127.0.0.1:3301", "address to accept iproto connections on")
	fs.StringVar(&c.Advertise, "advertise", "", "address other instances reach this one at (default: --listen)")
	fs.StringVar(&c.ClusterID, "cluster-id", "demo", "name of the cluster; calls for another cluster are refused")
	fs.StringVar(&c.InstanceID, "instance-id", "", "name of this instance, fixed at its first start (default: <replicaset>_<n>)")
	fs.StringVar(&c.ReplicasetID, "replicaset-id", "", "replicaset to join at the first start (default: one of its tier with room, else a new <tier>_<n>)")
	fs.StringVar(&c.Tier, "tier", "storage", "tier of this instance, fixed at its first start")
	fs.StringVar(&failureDomain, "failure-domain", "", "where this instance runs, as KEY=VALUE,... (e.g. dc=msk,rack=3)")
	fs.Uint64Var(&c.ReplicationFactor, "init-replication-factor", 1, "replication factor of the default tier, read when the cluster starts")
	fs.StringVar(&c.InitCfg, "init-cfg", "", "YAML file with the cluster's tiers, read only by the instance that boots the cluster (see above)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "how long a graceful stop waits for the instance to be Offline")
	fs.StringVar(&c.HTTPListen, "http-listen", "", "address for /metrics (Prometheus), /health, /ready, /api/cluster, a page with the cluster, and Go profiles under /debug/pprof/ (off when empty; docs/operators.md, Monitoring)")
	fs.StringVar(&c.PgListen, "pg-listen", "", "address to serve PostgreSQL's protocol on, for psql and PostgreSQL drivers (off when empty; docs/pgwire.md)")
	fs.StringVar(&c.PgAuth, "pg-auth", "scram-sha-256", "password exchange PostgreSQL clients log in with: scram-sha-256 or md5")
	fs.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&tick, "tick", "100ms", "period of the Raft clock (elections take 10–20 ticks)")
	fs.StringVar(&c.ServicePassword, "service-password", "", "password instances use with each other as pico_service")
	fs.StringVar(&c.AppDir, "app-dir", "", "folder of Go plugins (*.so, built with -buildmode=plugin against this very binary) whose roles this instance runs besides its own (docs/roles.md, --app-dir)")
	fs.StringVar(&c.ServicePasswordFile, "service-password-file", "", "file holding the service password (instead of --service-password)")
	fs.Func("peer", "address of an instance to find the cluster through; repeat it, or separate addresses by commas (default: this instance alone)", func(v string) error {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" && !slices.Contains(c.Peers, p) {
				c.Peers = append(c.Peers, p)
			}
		}
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		name := "PICOGO_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := env(name); v != "" {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %v", name, v, e)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	fs.Visit(func(f *flag.Flag) {
		c.ReplicationFactorSet = c.ReplicationFactorSet || f.Name == "init-replication-factor"
	})
	if c.Advertise == "" {
		c.Advertise = c.Listen
	}
	if c.FailureDomain, err = parseFailureDomain(failureDomain); err != nil {
		return nil, fmt.Errorf("--failure-domain: %v", err)
	}
	if err := c.LogLevel.UnmarshalText([]byte(logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %v", err)
	}
	if c.Tick, err = time.ParseDuration(tick); err != nil || c.Tick < time.Millisecond {
		return nil, fmt.Errorf("--tick %q: want a duration of at least 1ms", tick)
	}
	if c.ReplicationFactor == 0 {
		return nil, errors.New("--init-replication-factor must be at least 1")
	}
	if c.ClusterID == "" {
		return nil, errors.New("--cluster-id must not be empty")
	}
	if c.InitCfg != "" && c.ReplicationFactorSet {
		return nil, errors.New("--init-replication-factor and --init-cfg: give the replication factor in the file (cluster.default_replication_factor)")
	}
	if c.Tier == "" {
		return nil, errors.New("--tier must not be empty")
	}
	if c.ServicePassword != "" && c.ServicePasswordFile != "" {
		return nil, errors.New("--service-password and --service-password-file: give one")
	}
	if c.PgAuth != "scram-sha-256" && c.PgAuth != "md5" {
		return nil, fmt.Errorf("--pg-auth %q: want scram-sha-256 or md5", c.PgAuth)
	}
	if c.ShutdownTimeout <= 0 {
		return nil, fmt.Errorf("--shutdown-timeout %v: want a positive duration", c.ShutdownTimeout)
	}
	return c, nil
}

// parseFailureDomain reads KEY=VALUE,... ; keys and values are upper-cased
// (Picodata compares them case-insensitively).
func parseFailureDomain(s string) (map[string]string, error) {
	fd := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		k, v = strings.ToUpper(strings.TrimSpace(k)), strings.ToUpper(strings.TrimSpace(v))
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("%q is not KEY=VALUE", kv)
		}
		if _, dup := fd[k]; dup {
			return nil, fmt.Errorf("key %s given twice", k)
		}
		fd[k] = v
	}
	return fd, nil
}

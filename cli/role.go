package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/proc"
	"go.yaml.in/yaml/v3"
)

const roleUsage = `Usage: picogo role enable|disable [flags] [user@]host:port ROLE --tier TIER
       picogo role config [flags] [user@]host:port ROLE [KEY=VALUE ...]

Enables or disables a role on a tier (docs/roles.md). The command asks
host:port for the Raft leader and calls .proc_role_enable(ROLE, TIER) or
.proc_role_disable(ROLE, TIER) there. Enabling records the role's
definition as the leader's binary has it (its version, the roles it needs,
its once-per-cluster DDL) with the enablement; the governor then applies
the DDL and starts the role, after what it needs, on the tier's Online
instances. Disabling stops it there (what it needed stays while another
role of the tier needs it). Enabling a role again from a binary with a
later version of it records that version (the last step of a rolling
upgrade).

config sets the role's configuration on every instance running it to the
KEY=VALUE pairs given, or to the YAML map in --file (none: no
configuration), with .proc_role_config(ROLE, CONFIG). A VALUE is read as
YAML: 8080 is a number, true a boolean, [a, b] a list, anything else a
string. Running roles get it through OnConfigChange.

It logs in as user (default admin) with PICOGO_ADMIN_PASSWORD (or
PICOGO_PASSWORD). It exits with 0 once the leader has committed the
change, 1 when it could not, 2 on bad arguments.

Flags:
`

// runRole is `picogo role`.
func runRole(args []string, env func(string) string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprint(stdout, roleUsage)
		return 0
	}
	if len(args) == 0 || (args[0] != "enable" && args[0] != "disable" && args[0] != "config") {
		fmt.Fprint(stderr, "picogo role: enable, disable or config? (picogo role --help)\n")
		return 2
	}
	action := args[0]
	fs := flag.NewFlagSet("role "+action, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var tier, file *string
	if action == "config" {
		file = fs.String("file", "", "a YAML file holding the configuration, a map (instead of KEY=VALUE pairs)")
	} else {
		tier = fs.String("tier", "", "the tier to "+action+" the role on (required)")
	}
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for the leader's answer")
	fs.Usage = func() { fmt.Fprint(stderr, roleUsage); fs.PrintDefaults() }
	// Flags may come after the positional arguments, as the usage shows.
	var positional []string
	rest := args[1:]
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	var req api.Request
	switch {
	case action == "config":
		if len(positional) < 2 || strings.TrimSpace(positional[1]) == "" {
			fmt.Fprint(stderr, "picogo role config: give the instance to ask and the role (picogo role --help)\n")
			return 2
		}
		cfg, err := roleConfig(positional[2:], *file)
		if err != nil {
			fmt.Fprintf(stderr, "picogo role config: %v\n", err)
			return 2
		}
		req = api.RoleConfig{Role: positional[1], Config: cfg}
	case len(positional) != 2 || strings.TrimSpace(positional[1]) == "" || *tier == "":
		fmt.Fprintf(stderr, "picogo role %s: give the instance to ask, the role and --tier (picogo role --help)\n", action)
		return 2
	case action == "enable":
		req = api.RoleEnable{Role: positional[1], Tier: *tier}
	default:
		req = api.RoleDisable{Role: positional[1], Tier: *tier}
	}
	user, password, addr := credentials(positional[0], proc.Admin, env)
	if password == "" {
		fmt.Fprintf(stderr, "picogo role %s: %s\n", action, missingPassword(user))
		return 2
	}
	c := newClient(user, password)
	defer c.close()
	if err := callOnLeader(c, addr, req, *timeout); err != nil {
		fmt.Fprintf(stderr, "picogo role %s: %v\n", action, err)
		return 1
	}
	if action == "config" {
		fmt.Fprintf(stdout, "role %s configured\n", positional[1])
	} else {
		fmt.Fprintf(stdout, "role %s %sd on tier %s\n", positional[1], action, *tier)
	}
	return 0
}

// roleConfig is the configuration `picogo role config` sets: KEY=VALUE
// pairs, each VALUE read as YAML, or the YAML map in file.
func roleConfig(pairs []string, file string) (map[string]any, error) {
	cfg := map[string]any{}
	if file != "" {
		if len(pairs) > 0 {
			return nil, errors.New("give KEY=VALUE pairs or --file, not both")
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		if err := yaml.Unmarshal(b, &cfg); err != nil {
			return nil, fmt.Errorf("%s: not a YAML map: %v", file, err)
		}
		return cfg, nil
	}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not KEY=VALUE", p)
		}
		if _, dup := cfg[k]; dup {
			return nil, fmt.Errorf("key %s given twice", k)
		}
		var value any
		if err := yaml.Unmarshal([]byte(v), &value); err != nil {
			value = v // not YAML: the string as given
		}
		if value == nil && v != "" {
			value = v
		}
		cfg[k] = value
	}
	return cfg, nil
}

// callOnLeader calls req on the Raft leader that addr knows.
func callOnLeader(c *client, addr string, req api.Request, timeout time.Duration) error {
	leader, err := leaderOf(c, addr)
	if err != nil {
		return err
	}
	args, err := proc.EncodeArgs(req)
	if err != nil {
		return err
	}
	_, err = c.call(leader, req.Proc(), args, timeout)
	return err
}

package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/proc"
)

const roleUsage = `Usage: picogo role enable|disable [flags] [user@]host:port ROLE --tier TIER

Enables or disables a role on a tier (docs/roles.md). The command asks
host:port for the Raft leader and calls .proc_role_enable(ROLE, TIER) or
.proc_role_disable(ROLE, TIER) there. Enabling records the role's
definition as the leader's binary has it (its version, the roles it needs,
its once-per-cluster DDL) with the enablement; the governor then applies
the DDL and starts the role, after what it needs, on the tier's Online
instances. Disabling stops it there (what it needed stays while another
role of the tier needs it).

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
	if len(args) == 0 || (args[0] != "enable" && args[0] != "disable") {
		fmt.Fprint(stderr, "picogo role: enable or disable? (picogo role --help)\n")
		return 2
	}
	action := args[0]
	fs := flag.NewFlagSet("role "+action, flag.ContinueOnError)
	fs.SetOutput(stderr)
	tier := fs.String("tier", "", "the tier to "+action+" the role on (required)")
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
	if len(positional) != 2 || strings.TrimSpace(positional[1]) == "" || *tier == "" {
		fmt.Fprintf(stderr, "picogo role %s: give the instance to ask, the role and --tier (picogo role --help)\n", action)
		return 2
	}
	user, password, addr := credentials(positional[0], proc.Admin, env)
	if password == "" {
		fmt.Fprintf(stderr, "picogo role %s: %s\n", action, missingPassword(user))
		return 2
	}
	c := newClient(user, password)
	defer c.close()
	var req api.Request = api.RoleEnable{Role: positional[1], Tier: *tier}
	if action == "disable" {
		req = api.RoleDisable{Role: positional[1], Tier: *tier}
	}
	if err := callOnLeader(c, addr, req, *timeout); err != nil {
		fmt.Fprintf(stderr, "picogo role %s: %v\n", action, err)
		return 1
	}
	fmt.Fprintf(stdout, "role %s %sd on tier %s\n", positional[1], action, *tier)
	return 0
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

// Command picogo is the one binary: the daemon (run), its operator commands
// (status, expel, connect), the simulator (sim), the benchmarks (bench) and
// the chaos test on real processes (chaos).
package cli

import (
	"fmt"
	"github.com/picogo/picogo/role"
	"os"

	"github.com/picogo/picogo/core/api"
)

const usage = `picogo — a distributed database and cluster manager in the design of Picodata

Usage:
  picogo run       start an instance (picogo run --help)
  picogo status    show the cluster: leader, governor, tiers, replicasets, instances and grades
  picogo expel     expel an instance from the cluster for good (picogo expel --help)
  picogo drain     move a replicaset's buckets away (weight 0), or set its weight (picogo drain --help)
  picogo connect   an SQL console on an instance, and scripts (picogo connect --help)
  picogo unlock    lift the lock failed logins put on a user (picogo unlock --help)
  picogo passwd    set a user's password for the whole cluster (picogo passwd --help)
  picogo role      enable or disable a role on a tier (picogo role --help)
  picogo sim       run the seeded simulator (picogo sim --help)
  picogo bench     measure picogo against etcd, Tarantool and PostgreSQL (picogo bench --help)
  picogo chaos     SIGKILL/SIGSTOP real instances under load, check linearizability (picogo chaos --help)
  picogo version   print the version

Starting, joining, stopping and expelling instances: docs/operators.md.
`

// Main is the picogo command with roles compiled in (docs/roles.md): what
// cmd/picogo runs with none, and an application's own binary with its
// roles (picogo.Main). It exits the process.
func Main(roles ...role.Role) {
	compiledRoles = roles
	mainCommand()
}

// compiledRoles are the roles this binary has (Main's).
var compiledRoles []role.Role

func mainCommand() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		fmt.Print(usage)
		return
	}
	switch cmd := os.Args[1]; cmd {
	case "run":
		os.Exit(runDaemon(os.Args[2:]))
	case "status":
		os.Exit(runStatus(os.Args[2:], os.Getenv, os.Stdout, os.Stderr))
	case "expel":
		os.Exit(runExpel(os.Args[2:], os.Getenv, os.Stdout, os.Stderr))
	case "drain":
		os.Exit(runDrain(os.Args[2:], os.Getenv, os.Stdout, os.Stderr))
	case "passwd":
		os.Exit(runPasswd(os.Args[2:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
	case "unlock":
		os.Exit(runUnlock(os.Args[2:], os.Getenv, os.Stdout, os.Stderr))
	case "role":
		os.Exit(runRole(os.Args[2:], os.Getenv, os.Stdout, os.Stderr))
	case "connect":
		os.Exit(runConnect(os.Args[2:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
	case "sim":
		os.Exit(runSim(os.Args[2:]))
	case "bench":
		os.Exit(runBench(os.Args[2:], os.Stdout, os.Stderr))
	case "chaos":
		os.Exit(runChaos(os.Args[2:]))
	case "version", "--version":
		fmt.Println(api.Version)
	default:
		fmt.Fprintf(os.Stderr, "picogo: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
}

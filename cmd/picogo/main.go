// Command picogo is the one binary: the daemon, its console and the
// simulator. Subcommands land with their issues; until then they say so.
package main

import (
	"fmt"
	"os"
)

const usage = `picogo — a distributed database and cluster manager in the design of Picodata

Usage:
  picogo run       start an instance (lands with the runtime issue #5)
  picogo sim       run the seeded simulator (picogo sim --help)
  picogo status    show the cluster (lands with #5)
  picogo connect   open a console to an instance (lands with #5)
  picogo expel     expel an instance (lands with #5)
`

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		fmt.Print(usage)
		return
	}
	switch cmd := os.Args[1]; cmd {
	case "sim":
		os.Exit(runSim(os.Args[2:]))
	case "run", "status", "connect", "expel":
		fmt.Fprintf(os.Stderr, "picogo %s: not available yet in this build — see `picogo --help` for where it lands\n", cmd)
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "picogo: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
}

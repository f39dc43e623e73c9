// Command picogo is the one binary: the daemon (run), its operator
// commands, the simulator (sim), the benchmarks (bench) and the chaos test
// on real processes (chaos) — package cli, with no roles compiled in. An
// application with roles builds its own binary with picogo.Main.
package main

import "github.com/picogo/picogo/cli"

func main() { cli.Main() }

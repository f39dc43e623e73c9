package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/picogo/picogo/chaos"
)

const chaosUsage = `Usage: picogo chaos [--sharded] [--cycles N] [--instances N] [--clients N] [--seed S] [--keep] [--binary PATH]

Proves picogo on real processes (SPEC N3): starts a cluster of picogo
instances on 127.0.0.1 (free ports, data and logs in a new temporary
directory), creates a GLOBAL table through CaS, and runs concurrent clients
doing CaS writes and linearizable reads over iproto while, for --cycles
cycles, random instances are killed with SIGKILL (the leader more often than
not) and restarted, or paused with SIGSTOP and continued — never more than a
minority at a time. Then it brings everything back, waits for the cluster to
settle, reads every key, and checks the history with porcupine, every
acknowledged write against the final state, and every replica against the
leader.

With --sharded the table is sharded instead (a synchronous tier of
replication factor 2, two replicasets at the start): clients write and read
it through the router of random instances, a third replicaset joins during
the cycles and one of the first two is drained later; at the end the
buckets must come to rest (nothing sending, no garbage, the drained
replicaset owning none) before every key is read through the router.

It prints the cycles run, the operations, the acknowledged writes, the
indeterminate operations (timeouts, lost connections), the lost writes and
'linearizable: yes|no'. On 'no' it writes porcupine's view of the history
(history.html) next to the instances' data and logs, which a failing run
always keeps. Exit status: 0 if the run passed, 1 if it found something
wrong, 2 if it could not run.

Flags:
`

// runChaos is `picogo chaos`.
func runChaos(args []string) int {
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(os.Stderr, chaosUsage); fs.PrintDefaults() }
	cycles := fs.Int("cycles", 10, "fault cycles to run: each takes down 1 to a minority of the instances (SIGKILL or SIGSTOP) for 0.2–1.5 s, then brings them back and waits for a leader")
	instances := fs.Int("instances", 3, "instances in the cluster, 3 to 5")
	clients := fs.Int("clients", 6, "concurrent clients, each one goroutine with its own connections, doing one operation at a time")
	seed := fs.Uint64("seed", 1, "seed of the fault choices (victims, kill or pause, durations) and of the clients' keys and operations; timing is real, so it does not replay a run exactly")
	keep := fs.Bool("keep", false, "keep the data directories and logs after a passing run (a failing run always keeps them)")
	binary := fs.String("binary", "", "the picogo binary to start instances of (default: this executable)")
	dir := fs.String("dir", "", "directory to make the run's directory in (default: the system's temporary directory)")
	sharded := fs.Bool("sharded", false, "run the sharded workload instead: a synchronous tier of replication factor 2, 4 instances (2 replicasets), a sharded table written with .proc_router_replace and read with .proc_router_get through random instances; during the cycles a third replicaset joins (2 more instances) and later one is drained (weight 0); at the end the buckets must come to rest (--instances is ignored)")
	tick := fs.Duration("tick", 0, "the instances' --tick, the period of the Raft clock (default 30ms: elections take 0.3–0.6 s)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "picogo chaos: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *binary == "" {
		exe, err := os.Executable()
		if err != nil {
			fmt.Fprintln(os.Stderr, "picogo chaos: finding this executable:", err)
			return 2
		}
		*binary = exe
	}
	if *cycles < 0 {
		fmt.Fprintln(os.Stderr, "picogo chaos: --cycles must not be negative")
		return 2
	}
	// SIGINT or SIGTERM stops the run; the instances are killed on the
	// way out.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := chaos.Config{Binary: *binary, Instances: *instances, Clients: *clients, Cycles: *cycles,
		Seed: *seed, Keep: *keep, Dir: *dir, Tick: *tick, Sharded: *sharded, Out: os.Stdout}
	rep, err := chaos.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "picogo chaos:", err)
		if rep.Dir != "" {
			fmt.Fprintln(os.Stderr, "picogo chaos: data and logs kept in", rep.Dir)
		}
		return 2
	}
	fmt.Print(rep.Summary())
	if !rep.Passed() {
		return 1
	}
	return 0
}

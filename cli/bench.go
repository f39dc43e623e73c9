package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/picogo/picogo/bench"
)

const benchUsage = `Usage: picogo bench [flags]

Measures picogo against what a user would pick instead, in one run, and
prints markdown tables with the ratios (docs/BENCHMARKS.md explains them):

  writes  durable replicated writes: 3 picogo instances (.proc_cas inserts
          into a GLOBAL table) against 3 etcd members (puts), same key and
          value sizes, fsync on, at each --clients count
  calls   trivial iproto calls: picogo's .proc_version_info against a
          Tarantool Lua function returning the same map, same client
  inserts durable inserts into a replicaset (master + replica): 2 picogo
          instances (--init-replication-factor 2, a sharded table, iproto
          INSERT on the master) against a Tarantool master and replica
          (wal_mode fsync); the replica's lag and rows after each round
  sql     point INSERT and point SELECT by primary key through SQL
          (IPROTO_EXECUTE, go-tarantool's ExecuteRequest) at each --clients
          count: picogo (a sharded table on a one-instance cluster)
          against Tarantool's own SQL (box.execute, wal_mode fsync)
  sql-scan SELECT k % 100, COUNT(*), SUM(v) FROM t GROUP BY 1 over
          --sql-rows rows (default 1e6; multi-row INSERTs of 1000 rows from
          --sql-loaders goroutines) on picogo at --sql-replicasets
          replicasets of one instance (default 1,2,3), on Tarantool's SQL
          and on SQLite in-process; the median of --sql-queries runs
  pg      point INSERT and point SELECT by primary key through PostgreSQL's
          wire protocol (pgx v5, one connection per client) at each
          --clients count: picogo (picogo run --pg-listen, a sharded
          table) against PostgreSQL (Debian's postgresql: initdb and
          postgres in a temporary directory, synchronous_commit and fsync
          on; as the user postgres when the bench runs as root)
  restart one picogo instance with --restart-rows rows (default 1e6) in a
          sharded table: SIGTERM, start again, time until Online with
          every row; then one with a Raft log of --restart-entries
          .proc_cas writes (default 1e6) into a GLOBAL table: the same,
          until Online with every entry applied (picogo only)
  sharding routed writes (.proc_router_insert through random instances) at
          --sharding-replicasets replicasets of 2 instances, and a rebalance
          of --sharding-rows rows from 2 to 3 replicasets under a writer
          (picogo only)
  sim     the simulator's speed and porcupine's check time per 10k ops

The systems take turns, --rounds rounds each of --duration (after --warmup)
at every client count. Every process the bench starts listens on 127.0.0.1
and is killed when it ends, also on an error or Ctrl-C. etcd, tarantool and
PostgreSQL come from Debian's etcd-server, tarantool and postgresql packages
(scripts/install-bench-deps; make bench runs it when they are missing).

Flags:
`

func runBench(args []string, stdout, stderr io.Writer) int {
	cfg := bench.DefaultConfig()
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchUsage); fs.PrintDefaults() }
	bench.RegisterFlags(fs, &cfg)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "picogo bench: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, "picogo bench:", err)
		return 2
	}
	cfg.Command = "picogo bench " + strings.Join(args, " ")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := bench.Run(ctx, cfg, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "picogo bench:", err)
		return 1
	}
	return 0
}

package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/picogo/picogo/core/mutant"
	"github.com/picogo/picogo/linearizability"
	"github.com/picogo/picogo/sim"
)

const simUsage = `Usage:
  picogo sim --seeds N [--start S] [--mutant NAME] [--check-determinism]
  picogo sim --seed S [--trace FILE] [--mutant NAME]
  picogo sim --mutants [--seeds N]
  picogo sim --list-mutants

--mutant, --mutants and --list-mutants need a binary built with -tags
mutants (make sim-mutants builds bin/picogo-mutants).

Runs picogo's deterministic simulator: each seed builds a cluster, drives
clients and faults in virtual time, checks Raft's invariants as it goes and
the clients' history for linearizability at the end. One line per seed; a
failure prints the command that reproduces it. The same seed always gives
the same trace (see --trace and trace-hash).

`

func runSim(args []string) int {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(os.Stderr, simUsage); fs.PrintDefaults() }
	seeds := fs.Uint64("seeds", 0, "run this many seeds (with --mutants: at most this many per mutant, default 2000)")
	start := fs.Uint64("start", 1, "first seed of --seeds")
	seed := fs.Uint64("seed", 0, "run one seed")
	tracePath := fs.String("trace", "", "with --seed: write the readable event trace to FILE (and FILE.html on a linearizability failure)")
	mutantName := fs.String("mutant", "", "switch on a known bug (see --list-mutants); the simulator must catch it")
	list := fs.Bool("list-mutants", false, "list the mutants")
	all := fs.Bool("mutants", false, "run each mutant until a seed catches it; fails unless all are caught")
	determinism := fs.Bool("check-determinism", false, "run every seed twice and fail if the two runs differ")
	workers := fs.Int("workers", 0, "seeds run in parallel (default: the number of CPUs)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "picogo sim: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	sim.UseGCPercent()
	switch {
	case *list:
		return listMutants()
	case *all:
		return runMutants(*seeds, *workers)
	}
	var mutants mutant.Set
	if *mutantName != "" {
		m, err := parseMutant(*mutantName)
		if err != nil {
			fmt.Fprintln(os.Stderr, "picogo sim:", err)
			return 2
		}
		mutants = m
	}
	switch {
	case *seed != 0 && *seeds != 0:
		fmt.Fprintln(os.Stderr, "picogo sim: give --seed or --seeds, not both")
		return 2
	case *seed != 0:
		return runOneSeed(*seed, *tracePath, *mutantName, mutants, *determinism)
	case *seeds != 0:
		if *tracePath != "" {
			fmt.Fprintln(os.Stderr, "picogo sim: --trace goes with --seed")
			return 2
		}
		return runManySeeds(*start, *seeds, *workers, *mutantName, mutants, *determinism)
	}
	fs.Usage()
	return 2
}

// reproduce is the command that runs seed again; a mutant needs the
// mutants build.
func reproduce(seed uint64, mutantName string) string {
	if mutantName != "" {
		return fmt.Sprintf("picogo-mutants sim --seed %d --trace sim-%d.trace --mutant %s", seed, seed, mutantName)
	}
	return fmt.Sprintf("picogo sim --seed %d --trace sim-%d.trace", seed, seed)
}

func line(r sim.Result) string {
	if r.Err != nil {
		return fmt.Sprintf("seed=%d FAIL %v", r.Seed, r.Err)
	}
	return fmt.Sprintf("seed=%d ok events=%d virtual=%.1fs ops=%d wall=%dms", r.Seed, r.Events, r.Virtual.Seconds(), r.Ops, r.Wall.Milliseconds())
}

func runOneSeed(seed uint64, tracePath, mutantName string, mutants mutant.Set, determinism bool) int {
	var w io.Writer
	if tracePath != "" {
		f, err := os.Create(tracePath)
		if err != nil {
			fmt.Fprintln(os.Stderr, "picogo sim:", err)
			return 2
		}
		defer f.Close()
		w = f
	}
	r := sim.Run(sim.Options{Seed: seed, Trace: w, Mutants: mutants})
	fmt.Println(line(r))
	fmt.Printf("trace-hash: %s\n", r.TraceHash)
	code := 0
	if r.Err != nil {
		code = 1
		if tracePath != "" && r.Lin.Verdict == linearizability.VerdictIllegal {
			html := tracePath + ".html"
			if err := linearizability.WriteVisualization(r.Lin, html); err != nil {
				fmt.Fprintln(os.Stderr, "picogo sim: writing the visualization:", err)
			} else {
				fmt.Printf("history visualization: %s\n", html)
			}
		}
	}
	if determinism {
		again := sim.Run(sim.Options{Seed: seed, Mutants: mutants})
		if again.TraceHash != r.TraceHash {
			fmt.Printf("seed=%d NOT DETERMINISTIC: trace-hash %s then %s\n", seed, r.TraceHash, again.TraceHash)
			return 1
		}
	}
	return code
}

func runManySeeds(start, n uint64, workers int, mutantName string, mutants mutant.Set, determinism bool) int {
	passed, failed := 0, 0
	began := time.Now()
	var hashes map[uint64]string
	check := func(r sim.Result) bool {
		if r.Err != nil {
			failed++
			fmt.Println(line(r))
			fmt.Printf("  reproduce: %s\n", reproduce(r.Seed, mutantName))
		} else {
			passed++
			fmt.Println(line(r))
		}
		return false
	}
	if determinism {
		hashes = map[uint64]string{}
		sim.RunSeeds(start, n, workers, mutants, func(r sim.Result) bool { hashes[r.Seed] = r.TraceHash; return false })
	}
	sim.RunSeeds(start, n, workers, mutants, func(r sim.Result) bool {
		if determinism && hashes[r.Seed] != r.TraceHash {
			r.Err = fmt.Errorf("not deterministic: trace-hash %s then %s", hashes[r.Seed], r.TraceHash)
		}
		return check(r)
	})
	fmt.Printf("%d passed, %d failed (%s)\n", passed, failed, time.Since(began).Round(time.Millisecond))
	if failed > 0 {
		return 1
	}
	return 0
}

//go:build linux

package chaos

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testWriter sends progress lines to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestChaosShort is `make chaos` in small: a real 3-instance cluster, 4
// clients, 5 fault cycles; the history must be linearizable and no
// acknowledged write lost. A failing run keeps its directory (the test
// prints it) with every instance's data and log and, if the history is not
// linearizable, history.html.
func TestChaosShort(t *testing.T) {
	runShort(t, Config{Instances: 3, Clients: 4, Cycles: 5, Seed: 1})
}

// TestChaosShardedShort is `picogo chaos --sharded` in small: a sync tier
// of replication factor 2, 4 instances, the sharded table through the
// router, 4 fault cycles, a replicaset added and one drained.
func TestChaosShardedShort(t *testing.T) {
	runShort(t, Config{Sharded: true, Clients: 4, Cycles: 4, Seed: 1})
}

// runShort runs cfg on a freshly built binary and fails t unless it passes.
func runShort(t *testing.T, cfg Config) {
	if testing.Short() {
		t.Skip("chaos: starts picogo processes (skipped with -short)")
	}
	buildCtx, cancelBuild := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancelBuild()
	bin := filepath.Join(t.TempDir(), "picogo")
	build := exec.CommandContext(buildCtx, "go", "build", "-o", bin, "github.com/picogo/picogo/cmd/picogo")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// The run takes about 15 s; the bound leaves room for a loaded
	// machine. Cancelling stops the run and kills the instances.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// A passing run's directory is removed by Run; a failing one's is
	// kept for the developer and reported.
	dir, err := os.MkdirTemp("", "picogo-chaos-test-")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Binary, cfg.Dir, cfg.Out = bin, dir, testWriter{t}
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("the run could not be carried out: %v (data and logs in %s)", err, dir)
	}
	t.Logf("\n%s", rep.Summary())
	if rep.Cycles != cfg.Cycles {
		t.Errorf("%d cycles run; want %d", rep.Cycles, cfg.Cycles)
	}
	if rep.Acked == 0 || rep.Reads == 0 {
		t.Errorf("%d acked writes, %d reads: the clients did not work", rep.Acked, rep.Reads)
	}
	if !rep.Linearizable() {
		t.Errorf("not linearizable: %v; history: %s", rep.Lin, rep.HTML)
	}
	if len(rep.Lost) > 0 {
		t.Errorf("%d acknowledged writes lost", len(rep.Lost))
	}
	if len(rep.Problems) > 0 {
		t.Errorf("problems: %q", rep.Problems)
	}
	if rep.Passed() {
		os.RemoveAll(dir)
	} else {
		t.Logf("data and logs kept in %s", rep.Dir)
	}
}

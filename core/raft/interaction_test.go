package raft_test

import (
	"flag"
	"strings"
	"testing"

	"github.com/picogo/picogo/core/mutant"
	"github.com/picogo/picogo/core/raft/rafttest"
	"github.com/picogo/picogo/internal/testscript"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata scripts with the actual output")

// TestInteractions runs every script in testdata/: each is a sequence of
// steps on an in-memory cluster and the exact output they must produce. The
// cluster also checks Raft's safety properties after every step, so a
// script fails on a safety violation whatever its expected output says.
// The *_mutant.txt scripts switch deliberate bugs on, so they run only in a
// -tags mutants build (make test runs both).
func TestInteractions(t *testing.T) {
	testscript.RunDir(t, "testdata/*.txt", func(t *testing.T, file string) {
		if strings.HasSuffix(file, "_mutant.txt") && !mutant.Enabled {
			t.Skip("switches mutants on: needs -tags mutants")
		}
		out := testscript.RunFile(t, file, *rewrite, rafttest.NewEnv(1).Handle)
		if strings.Contains(out, "SAFETY") {
			t.Errorf("%s: a safety check failed", file)
		}
	})
}

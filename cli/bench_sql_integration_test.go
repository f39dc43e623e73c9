//go:build linux

package cli

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/picogo/picogo/internal/testbin"
)

// TestIntegrationBenchSQL runs the bench's sql and sql-scan phases, tiny:
// point INSERTs and SELECTs through IPROTO_EXECUTE against Tarantool's SQL
// for a fraction of a second, and the aggregate over 3000 rows on 1 and 2
// replicasets, Tarantool and SQLite, every answer checked by the bench.
func TestIntegrationBenchSQL(t *testing.T) {
	skipIfShort(t)
	tarantool := testbin.Tarantool(t)
	stdout, stderr, code := runCLI(t, 4*time.Minute, nil, "bench", "--only", "sql,sql-scan", "--tarantool", tarantool,
		"--duration", "300ms", "--warmup", "100ms", "--rounds", "1", "--clients", "2",
		"--sql-rows", "3000", "--sql-replicasets", "1,2", "--sql-queries", "2", "--sql-loaders", "2")
	if code != 0 {
		t.Fatalf("picogo bench: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"## SQL point INSERT", "## SQL point SELECT", "## SQL scatter-gather aggregate",
		"| picogo, 1 replicaset |", "| picogo, 2 replicasets |", "| tarantool (1 instance) |", "| sqlite (in-process, in memory) |",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the report has no %q", want)
		}
	}
	for _, bad := range []string{"The run failed", "wrong answer", "| failed |", "the query failed"} {
		if strings.Contains(stdout, bad) {
			t.Errorf("the report says %q", bad)
		}
	}
	// Both systems measured at 2 clients, without a failed statement.
	for _, sys := range []string{"picogo", "tarantool"} {
		re := regexp.MustCompile(sys + ` \d+ (inserts|selects)/s per round, \d+ ops, 0 errors`)
		if n := len(re.FindAllString(stdout, -1)); n != 2 {
			t.Errorf("%s: %d error-free INSERT and SELECT lines, want 2", sys, n)
		}
	}
	if t.Failed() {
		t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
}

// Package testbin finds the outside programs that tests drive. A missing
// program skips the test on a developer's machine, but fails it under CI
// (CI set), where .ci/run has installed it: a test CI should run is never
// skipped there.
package testbin

import (
	"os"
	"os/exec"
	"testing"
)

// Tarantool is the path of Debian's tarantool.
func Tarantool(t testing.TB) string {
	t.Helper()
	return find(t, "tarantool", "tarantool is not installed; .ci/run installs it (apt-get install -y tarantool)")
}

func find(t testing.TB, name, missing string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(missing)
		}
		t.Skip(missing)
	}
	return bin
}

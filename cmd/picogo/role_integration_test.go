package main

import (
	"strings"
	"testing"
	"time"
)

// TestIntegrationRoleCommand: `picogo role enable` reaches the leader's
// .proc_role_enable, which refuses a role its binary does not have (the
// stock picogo has none: an application builds its own binary with its
// roles, docs/roles.md) and a tier the cluster does not have, naming them;
// a disable of what is not enabled succeeds (nothing to do).
func TestIntegrationRoleCommand(t *testing.T) {
	in := startOne(t)
	env := []string{"PICOGO_ADMIN_PASSWORD=" + itAdminPassword}
	_, stderr, code := runCLI(t, 30*time.Second, env, "role", "enable", in.addr, "storage_api", "--tier", "storage")
	if code != 1 || !strings.Contains(stderr, "role storage_api: this binary has no such role (it has none)") {
		t.Fatalf("enable of an unknown role (exit %d): %s", code, stderr)
	}
	out, stderr, code := runCLI(t, 30*time.Second, env, "role", "disable", in.addr, "storage_api", "--tier", "storage")
	if code != 0 || !strings.Contains(out, "role storage_api disabled on tier storage") {
		t.Fatalf("disable (exit %d): %s%s", code, out, stderr)
	}
	_, stderr, code = runCLI(t, 30*time.Second, env, "role", "enable", in.addr, "x")
	if code != 2 || !strings.Contains(stderr, "--tier") {
		t.Fatalf("enable without --tier (exit %d): %s", code, stderr)
	}
}

package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestIntegrationRoles: an application's own binary (picogo.Main with its
// roles, cli/testdata/roleapp) runs them: --init-cfg enables hello at
// boot, `picogo role enable` records another role's definition from the
// binary; the governor applies its DDL once,
// then starts it, after what it needs; a role whose Init fails is recorded
// failed with its error and the instance stays up; `picogo role disable`
// stops it, and a graceful stop stops what runs.
func TestIntegrationRoles(t *testing.T) {
	skipIfShort(t)
	bin := filepath.Join(t.TempDir(), "roleapp")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/picogo/picogo/cli/testdata/roleapp").CombinedOutput(); err != nil {
		t.Fatalf("go build roleapp: %v\n%s", err, out)
	}
	dir := t.TempDir()
	t.Setenv("ROLEAPP_DIR", dir)
	initCfg := filepath.Join(t.TempDir(), "init.yaml")
	if err := os.WriteFile(initCfg, []byte("cluster:\n  tiers:\n    storage:\n      roles: [hello]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	in := newCluster(t, 1, "--init-cfg", initCfg)[0]
	in.args[0] = bin
	in.start()
	waitLeader(t, in)
	waitAdminPassword(t, in)

	role := func(args ...string) (string, int) {
		out, stderr, code := runCLIWith(t, bin, 30*time.Second, []string{"PICOGO_ADMIN_PASSWORD=" + itAdminPassword}, append([]string{"role"}, args...)...)
		return out + stderr, code
	}
	started := filepath.Join(dir, "hello-started")
	eventually(t, 30*time.Second, "hello, enabled by --init-cfg, runs", []*instance{in}, func() error {
		_, err := os.Stat(started)
		return err
	})
	if out, code := role("enable", in.addr, "broken", "--tier", "storage"); code != 0 {
		t.Fatalf("role enable broken (exit %d): %s", code, out)
	}
	states := func() (string, error) {
		conn := adminConn(t, in)
		defer conn.Close()
		res, err := call(conn, ".proc_sql", "SELECT role, state, error FROM _pico_role_state ORDER BY role", []any{})
		return fmt.Sprint(res), err
	}
	eventually(t, 30*time.Second, "hello runs and broken failed", []*instance{in}, func() error {
		if _, err := os.Stat(started); err != nil {
			return fmt.Errorf("hello has not started: %v", err)
		}
		s, err := states()
		if err != nil {
			return err
		}
		if !strings.Contains(s, "[broken failed role broken: Init: broken: no configuration]") || !strings.Contains(s, "[hello running ]") {
			return fmt.Errorf("_pico_role_state: %s", s)
		}
		return nil
	})
	conn := adminConn(t, in)
	res, err := call(conn, ".proc_sql", "SELECT COUNT(*) FROM hello_log", []any{})
	conn.Close()
	if err != nil {
		t.Fatalf("hello's DDL made no table: %v (%v)", err, res)
	}

	if out, code := role("disable", in.addr, "broken", "--tier", "storage"); code != 0 {
		t.Fatalf("role disable (exit %d): %s", code, out)
	}
	in.signal(syscall.SIGTERM) // graceful: the instance stops its roles first
	if st := in.waitExit(30 * time.Second); st == nil || st.ExitCode() != 0 {
		t.Fatalf("graceful stop: %v", st)
	}
	if _, err := os.Stat(filepath.Join(dir, "hello-stopped")); err != nil {
		t.Fatalf("a graceful stop did not stop hello: %v", err)
	}
}

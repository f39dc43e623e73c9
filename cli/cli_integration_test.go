//go:build linux

package cli

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runConsole runs `picogo connect` with input on its stdin.
func runConsole(t *testing.T, env []string, input string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), append([]string{"connect"}, args...)...)
	cmd.Env = append(cmd.Environ(), env...)
	cmd.Stdin = strings.NewReader(input)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("picogo connect did not end: %v\nstdout:\n%s\nstderr:\n%s", err, &out, &errOut)
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

// TestIntegrationCLIWithoutPassword: status and connect without
// PICOGO_ADMIN_PASSWORD say what is missing and send nothing, so running
// them more often than the lockout allows leaves admin able to log in.
func TestIntegrationCLIWithoutPassword(t *testing.T) {
	skipIfShort(t)
	in := startOne(t)
	waitAdminPassword(t, in)
	for i := range 6 {
		args := []string{"status", in.addr}
		if i%2 == 1 {
			args = []string{"connect", in.addr}
		}
		_, stderr, code := runCLI(t, 10*time.Second, nil, args...)
		if code != 2 || !strings.Contains(stderr, "PICOGO_ADMIN_PASSWORD") {
			t.Fatalf("picogo %s without a password: exit %d, stderr %q; want 2 and a word on PICOGO_ADMIN_PASSWORD",
				strings.Join(args, " "), code, stderr)
		}
	}
	conn := adminConn(t, in) // not locked: no failed login was spent
	if _, err := call(conn, ".proc_raft_info"); err != nil {
		t.Fatal(err)
	}
	// guest needs no password.
	stdout, stderr, code := runConsole(t, nil, ".proc_version_info\n", "guest@"+in.addr)
	if code != 0 || !strings.Contains(stdout, "picodata_version") {
		t.Fatalf("guest console: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestIntegrationConsole: help lists what the user may call, a call prints
// its result, a failed call is an error that ends a script with exit 1, a
// dead address is an error, --help exits 0.
func TestIntegrationConsole(t *testing.T) {
	skipIfShort(t)
	in := startOne(t)
	waitAdminPassword(t, in)
	admin := []string{"PICOGO_ADMIN_PASSWORD=" + itAdminPassword}

	stdout, stderr, code := runConsole(t, admin, "help\n.proc_raft_info\n.proc_nope\n.proc_raft_info\n", in.addr)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (.proc_nope failed); stderr %q", code, stderr)
	}
	for _, want := range []string{".proc_cas(cluster_id, predicate, op", ".proc_wait_index(target, timeout)",
		".proc_version_info()", `"leader_id":1`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("admin console output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Count(stdout, `"leader_id":1`) != 1 {
		t.Errorf("the call after the failed one ran:\n%s", stdout)
	}
	if !strings.Contains(stderr, "ERROR: Procedure '.proc_nope' is not defined (code ") || !strings.Contains(stderr, "stopped at <stdin>:3") {
		t.Errorf("stderr %q", stderr)
	}

	stdout, _, code = runConsole(t, nil, "help\n", "guest@"+in.addr)
	if code != 0 || !strings.Contains(stdout, ".proc_version_info()") || strings.Contains(stdout, ".proc_cas") {
		t.Errorf("guest's help lists what guest may call, and only that (exit %d):\n%s", code, stdout)
	}

	dead := freeAddrs(t, 1)[0]
	_, stderr, code = runConsole(t, admin, ".proc_raft_info\n", dead)
	if code != 1 || !strings.Contains(stderr, dead) {
		t.Errorf("connect to a dead address: exit %d, stderr %q; want 1 naming the address", code, stderr)
	}

	stdout, stderr, code = runConsole(t, nil, "", "--help")
	if code != 0 || !strings.Contains(stdout+stderr, "Usage: picogo connect") {
		t.Errorf("connect --help: exit %d, output %q", code, stdout+stderr)
	}

	// SQL on stdin: a statement over several lines, a ; inside a string,
	// \d, and the first error stops the script with exit 1.
	script := "CREATE TABLE pets (id INTEGER PRIMARY KEY,\n name TEXT) DISTRIBUTED BY (id);\n" +
		"INSERT INTO pets VALUES (1, 'cat; dog'), (2, NULL);\n" +
		"SELECT * FROM pets ORDER BY id;\n\\d pets\nSELECT nope FROM pets;\nSELECT 1;\n"
	stdout, stderr, code = runConsole(t, admin, script, in.addr)
	if code != 1 {
		t.Errorf("SQL script: exit %d, want 1 (a statement failed); stderr %q", code, stderr)
	}
	for _, want := range []string{"CREATE TABLE\n", "INSERT 2\n",
		" id |   name\n----+----------\n  1 | cat; dog\n  2 | NULL\n(2 rows)\n",
		"Distribution: sharded by (id), tier"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("SQL script output lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, `ERROR: column "nope" does not exist (line 1, column 8) (code 176)`) || !strings.Contains(stderr, "stopped at <stdin>:6") {
		t.Errorf("SQL script stderr %q", stderr)
	}
	stdout, _, code = runConsole(t, admin, "", in.addr, "-c", "SELECT COUNT(*) AS n FROM pets")
	if code != 0 || !strings.Contains(stdout, " n\n---\n 2\n(1 row)") {
		t.Errorf("-c: exit %d, output %q", code, stdout)
	}
}

// TestIntegrationStartOnBusyAddressLeavesNoDataDir: a start refused because
// its address is taken says so and leaves no half-made data directory; an
// existing one is left as it was.
func TestIntegrationStartOnBusyAddressLeavesNoDataDir(t *testing.T) {
	skipIfShort(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	free := freeAddrs(t, 1)[0]
	for _, c := range []struct{ name, listen, http string }{
		{"--listen", busy.Addr().String(), ""},
		{"--http-listen", free, busy.Addr().String()},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			args := []string{"run", "--data-dir", dir, "--listen", c.listen}
			if c.http != "" {
				args = append(args, "--http-listen", c.http)
			}
			_, stderr, code := runCLI(t, 20*time.Second, nil, args...)
			if code == 0 || !strings.Contains(stderr, c.name) || !strings.Contains(stderr, "address already in use") {
				t.Fatalf("exit %d, stderr %q; want a failure naming %s and the busy address", code, stderr, c.name)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Fatalf("the refused start left %s behind (stat: %v)", dir, err)
			}
		})
	}
	t.Run("an existing data dir stays", func(t *testing.T) {
		dir := t.TempDir()
		keep := filepath.Join(dir, "keep")
		if err := os.WriteFile(keep, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, code := runCLI(t, 20*time.Second, nil, "run", "--data-dir", dir, "--listen", busy.Addr().String()); code == 0 {
			t.Fatal("the start on a busy address succeeded")
		}
		if _, err := os.Stat(keep); err != nil {
			t.Fatalf("a file of the existing data dir is gone: %v", err)
		}
	})
}

// TestIntegrationEveryHelpExitsZero: --help of every command prints its
// usage and exits 0.
func TestIntegrationEveryHelpExitsZero(t *testing.T) {
	skipIfShort(t)
	for _, cmd := range []string{"run", "status", "expel", "connect", "unlock", "passwd", "sim", "bench", "chaos"} {
		stdout, stderr, code := runCLI(t, 20*time.Second, nil, cmd, "--help")
		if code != 0 || !strings.Contains(stdout+stderr, "picogo "+cmd) {
			t.Errorf("picogo %s --help: exit %d; output %q", cmd, code, stdout+stderr)
		}
	}
}

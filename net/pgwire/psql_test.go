package pgwire

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestPsql runs psql, if it is installed, against the fake: a real
// libpq client's login (SCRAM), a query's table, a session statement and
// \d's refusal.
func TestPsql(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed")
	}
	srv, _ := startServer(t, ServerConfig{})
	host, port, _ := strings.Cut(srv.Addr().String(), ":")
	cmd := exec.CommandContext(testContext(t), psql, "-X", "-h", host, "-p", port, "-U", "alice", "-d", "db",
		"-c", "SELECT types", "-c", "SET application_name = 'psql test'; SHOW application_name", "-c", `\d`)
	cmd.Env = append(os.Environ(), "PGPASSWORD=secret", "PGCONNECT_TIMEOUT=5", "PGSSLMODE=prefer")
	out, err := cmd.CombinedOutput()
	text := string(out)
	t.Logf("psql: %v\n%s", err, text)
	for _, want := range []string{"héllo", "2024-05-06 07:08:09.123456+00", `\x0001fe`, "psql test",
		"picogo does not have PostgreSQL's catalog"} {
		if !strings.Contains(text, want) {
			t.Errorf("psql's output lacks %q", want)
		}
	}
}

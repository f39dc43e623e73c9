package bench

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCompareVersions(t *testing.T) {
	in := []string{"16.1", "15", "9.6", "x", "16", "10"}
	slices.SortFunc(in, compareVersions)
	if want := []string{"9.6", "10", "15", "16", "16.1", "x"}; !slices.Equal(in, want) {
		t.Fatalf("sorted %v, want %v", in, want)
	}
}

// fakeBin makes dir with executable files named names.
func fakeBin(t *testing.T, dir string, names ...string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFindPostgres(t *testing.T) {
	root := t.TempDir()
	fakeBin(t, filepath.Join(root, "9.6", "bin"), "initdb", "postgres")
	fakeBin(t, filepath.Join(root, "15", "bin"), "initdb", "postgres")
	fakeBin(t, filepath.Join(root, "16", "bin"), "postgres") // no initdb: a client-only leftover
	got, err := findPostgres("", root)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, "15", "bin"); got != want {
		t.Errorf("found %s, want %s (the newest with both binaries, 15 after 9.6)", got, want)
	}
	// A directory given is taken as it is, if it has both.
	if got, err := findPostgres(filepath.Join(root, "9.6", "bin"), root); err != nil || got != filepath.Join(root, "9.6", "bin") {
		t.Errorf("given 9.6: %s, %v", got, err)
	}
	if _, err := findPostgres(filepath.Join(root, "16", "bin"), root); err == nil {
		t.Error("a directory without initdb was accepted")
	}
}

func TestPostgresArgs(t *testing.T) {
	args := postgresArgs("/pg/bin/postgres", "/tmp/d/data", 5433, "/tmp/d")
	line := strings.Join(args, " ")
	for _, want := range []string{"/pg/bin/postgres -D /tmp/d/data -p 5433", "-c listen_addresses=127.0.0.1", "-c unix_socket_directories=/tmp/d",
		"-c synchronous_commit=on", "-c fsync=on"} {
		if !strings.Contains(line, want) {
			t.Errorf("postgres's command line %q lacks %q", line, want)
		}
	}
	init := strings.Join(initdbArgs("/pg/bin/initdb", "/tmp/d/data", "/tmp/d/pw"), " ")
	for _, want := range []string{"-D /tmp/d/data", "-U " + pgUser, "--pwfile /tmp/d/pw", "--auth-host=scram-sha-256"} {
		if !strings.Contains(init, want) {
			t.Errorf("initdb's command line %q lacks %q", init, want)
		}
	}
}

func TestParseStat(t *testing.T) {
	// A command name with spaces and parentheses, as a backend's title is.
	line := "4242 (postgres: bench (x) idle) S 4200 4242 4242 0 -1 4194560 100 0 0 0 37 5 0 0 20 0 1 0 123 0 0"
	ppid, ticks, ok := parseStat(line)
	if !ok || ppid != 4200 || ticks != 42 {
		t.Errorf("parseStat: ppid %d, ticks %d, ok %t; want 4200, 42, true", ppid, ticks, ok)
	}
	if _, _, ok := parseStat("garbage"); ok {
		t.Error("garbage parsed")
	}
	// This process, read for real.
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Skip(err)
	}
	if ppid, _, ok := parseStat(string(b)); !ok || ppid != os.Getppid() {
		t.Errorf("own stat: ppid %d ok %t, want %d", ppid, ok, os.Getppid())
	}
}

func TestPgMultiInsertAndDSN(t *testing.T) {
	if got, want := pgMultiInsert(3, 5, "ab1"), "INSERT INTO kv VALUES (3, 'ab1'), (4, 'ab1'), (5, 'ab1')"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := pgDSN("admin", "pw", "127.0.0.1:5432", "picogo"), "postgres://admin:pw@127.0.0.1:5432/picogo?sslmode=disable"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// The report of the phase: both comparisons side by side, the ratios
// picogo/postgres, and where picogo is behind.
func TestPgReport(t *testing.T) {
	ins, sel := pgComparisons(DefaultConfig())
	round := func(sys string, clients int, ops uint64, lat time.Duration) Round {
		h := &Histogram{}
		for range ops {
			h.Record(lat)
		}
		return Round{System: sys, Clients: clients, Round: 1, Ops: ops, Elapsed: time.Second, Hist: h}
	}
	ins.Rounds = []Round{round("picogo", 16, 2000, 8*time.Millisecond), round("postgres", 16, 4000, 4*time.Millisecond)}
	sel.Rounds = []Round{round("picogo", 16, 30000, 500*time.Microsecond), round("postgres", 16, 20000, 800*time.Microsecond)}
	md := (&Report{Comparisons: []*Comparison{ins, sel}}).Markdown()
	for _, want := range []string{
		"## PostgreSQL protocol: point INSERT",
		"## PostgreSQL protocol: point SELECT",
		"| clients | picogo inserts/s | postgres inserts/s | ratio |",
		"| 16 | 2000 | 4000 | 0.50× |",
		"| 16 | 30000 | 20000 | 1.50× |",
		"INSERT INTO kv VALUES ($1, $2)",
		"one connection per client",
		"synchronous_commit=on",
		"- PostgreSQL protocol: point INSERT, 16 clients: inserts/s is 0.50× postgres's",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "point SELECT, 16 clients") {
		t.Errorf("picogo is ahead on SELECT, yet listed as behind:\n%s", md)
	}
}

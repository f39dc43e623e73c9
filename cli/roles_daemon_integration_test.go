//go:build linux

package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/picogo/picogo/core/api"
)

// buildPackage builds the package pkg into out with go build and the extra
// flags, within 5 minutes.
func buildPackage(t *testing.T, out, pkg string, extra ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := append(append([]string{"build"}, extra...), "-o", out, pkg)
	if b, err := exec.CommandContext(ctx, "go", args...).CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
}

// roleInstanceInfo is in's .proc_instance_info.
func roleInstanceInfo(t *testing.T, in *instance) api.InstanceInfoResult {
	t.Helper()
	conn := adminConn(t, in)
	defer conn.Close()
	var res []api.InstanceInfoResult
	if err := callTyped(conn, &res, ".proc_instance_info"); err != nil || len(res) != 1 {
		t.Fatalf(".proc_instance_info on %s: %v (%d values)", in.name, err, len(res))
	}
	return res[0]
}

// roleStates is _pico_role_state as `role instance state error` lines.
func roleStates(t *testing.T, in *instance) (string, error) {
	t.Helper()
	conn := adminConn(t, in)
	defer conn.Close()
	res, err := call(conn, ".proc_sql", "SELECT role, instance_id, state, error FROM _pico_role_state ORDER BY role, instance_id", []any{})
	return fmt.Sprint(res), err
}

// TestIntegrationRoleContext: what a role's Context gives on a real
// process (cli/testdata/roleapp's hello records it): the instance's name,
// replicaset and tier as the cluster assigned them — also on an instance
// that joined without --instance-id, which learns them only at its join —;
// SQL on the instance (a write and a read with positional parameters, the
// columns, rows and row counts, integers as int64, a time.Time parameter
// back as a time.Time, the node's message for a bad statement, ctx.Err()
// for a cancelled context); and /metrics, which serves what the role
// registered, labelled role="hello", beside the runner's
// picogo_role_status.
func TestIntegrationRoleContext(t *testing.T) {
	skipIfShort(t)
	bin := filepath.Join(t.TempDir(), "roleapp")
	buildPackage(t, bin, "github.com/picogo/picogo/cli/testdata/roleapp")
	dir := t.TempDir()
	t.Setenv("ROLEAPP_DIR", dir)
	initCfg := filepath.Join(t.TempDir(), "init.yaml")
	if err := os.WriteFile(initCfg, []byte("cluster:\n  tiers:\n    storage:\n      roles: [hello]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addrs := freeAddrs(t, 2)
	slices.Sort(addrs)
	https := freeAddrs(t, 2)
	var ins []*instance
	for i, addr := range addrs {
		in := newInstance(t, fmt.Sprintf("i%d", i+1), addr, addrs[:1], "--init-cfg", initCfg, "--http-listen", https[i])
		in.args[0] = bin
		ins = append(ins, in)
	}
	ins[0].start()
	waitLeader(t, ins[0])
	waitAdminPassword(t, ins[0])
	ins[1].start() // joins through i1: its name is the cluster's choice
	eventually(t, 60*time.Second, "both instances Online", ins, func() error { return allOnline(ins) })

	for i, in := range ins {
		info := roleInstanceInfo(t, in)
		file := filepath.Join(dir, "hello-context-"+info.InstanceID)
		var got struct {
			Instance struct {
				Name, Replicaset, Tier, Address, ClusterID string
			}
			InsertCount uint64 `json:"insert_count"`
			Columns     []string
			Rows        [][]any
			RowCount    uint64 `json:"row_count"`
			BadSQL      string `json:"bad_sql"`
			Cancelled   bool
			IDType      string `json:"id_type"`
			IDMatches   bool   `json:"id_matches"`
			Datetime    string
		}
		eventually(t, 30*time.Second, "hello records its context on "+in.name, ins, func() error {
			b, err := os.ReadFile(file)
			if err != nil {
				states, _ := roleStates(t, in)
				return fmt.Errorf("%v (_pico_role_state: %s)", err, states)
			}
			return json.Unmarshal(b, &got)
		})
		if got.Instance.Name != info.InstanceID || got.Instance.Replicaset != info.ReplicasetID || got.Instance.Tier != "storage" ||
			got.Instance.Address != addrs[i] || got.Instance.ClusterID != itClusterID {
			t.Errorf("%s: hello saw instance %+v; .proc_instance_info says %s of %s", in.name, got.Instance, info.InstanceID, info.ReplicasetID)
		}
		if got.InsertCount != 1 || !slices.Equal(got.Columns, []string{"id", "note"}) || got.RowCount != 1 || len(got.Rows) != 1 ||
			got.Rows[0][1] != info.InstanceID+" "+info.ReplicasetID+" storage" || got.IDType != "int64" || !got.IDMatches {
			t.Errorf("%s: hello's SQL: %+v", in.name, got)
		}
		if want := "time.Time 2026-12-06 11:00:00 +0000 UTC"; got.Datetime != want {
			t.Errorf("%s: a datetime parameter came back as %q, want %q", in.name, got.Datetime, want)
		}
		if !strings.Contains(got.BadSQL, "no_such_table") {
			t.Errorf("%s: a bad statement's error does not carry the node's message: %q", in.name, got.BadSQL)
		}
		if !got.Cancelled {
			t.Errorf("%s: SQL with a cancelled context did not return context.Canceled", in.name)
		}

		fams := scrape(t, "http://"+https[i]+"/metrics")
		if v := sum(fams, "roleapp_hello_inits_total", "role=hello"); v != 1 {
			t.Errorf("%s: /metrics roleapp_hello_inits_total{role=\"hello\"} = %v, want 1", in.name, v)
		}
		if v := sum(fams, "picogo_role_status", "role=hello", "status=running"); v != 1 {
			t.Errorf("%s: /metrics picogo_role_status{role=\"hello\",status=\"running\"} = %v, want 1", in.name, v)
		}
		if v := sum(fams, "picogo_raft_term"); v < 1 {
			t.Errorf("%s: /metrics lost the instance's own metrics (picogo_raft_term = %v)", in.name, v)
		}
	}
}

// TestIntegrationRoleAppDir: --app-dir. A plain picogo binary and a plugin
// (cli/testdata/roleplugin) built by the same go command with the same
// flags: the instance runs the plugin's role like a compiled-in one (its
// DDL applied, its Init writing through SQL, its metric on /metrics).
// What fails the start, with exit code 2 and the reason: a file that is no
// plugin, a folder that does not exist, and a plugin defining a role the
// binary has compiled in.
func TestIntegrationRoleAppDir(t *testing.T) {
	skipIfShort(t)
	appDir := t.TempDir()
	// binary(t) is `go build` without flags: the plugin is built likewise.
	buildPackage(t, filepath.Join(appDir, "plugged.so"), "github.com/picogo/picogo/cli/testdata/roleplugin", "-buildmode=plugin")
	initCfg := filepath.Join(t.TempDir(), "init.yaml")
	if err := os.WriteFile(initCfg, []byte("cluster:\n  tiers:\n    storage:\n      roles: [plugged]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	http := freeAddrs(t, 1)[0]
	in := newCluster(t, 1, "--init-cfg", initCfg, "--http-listen", http)[0]
	in.args = append(in.args, "--app-dir", appDir)
	in.start()
	waitLeader(t, in)
	waitAdminPassword(t, in)
	name := roleInstanceInfo(t, in).InstanceID
	eventually(t, 30*time.Second, "plugged runs and has written its row", []*instance{in}, func() error {
		states, err := roleStates(t, in)
		if err != nil {
			return err
		}
		if !strings.Contains(states, "[plugged "+name+" running ]") {
			return fmt.Errorf("_pico_role_state: %s", states)
		}
		conn := adminConn(t, in)
		defer conn.Close()
		res, err := call(conn, ".proc_sql", "SELECT instance, tier FROM plugged_log", []any{})
		if err != nil {
			return err
		}
		if s := fmt.Sprint(res); !strings.Contains(s, "["+name+" storage]") {
			return fmt.Errorf("plugged_log: %s", s)
		}
		return nil
	})
	if v := sum(scrape(t, "http://"+http+"/metrics"), "plugged_inits_total", "role=plugged"); v != 1 {
		t.Errorf("/metrics plugged_inits_total{role=\"plugged\"} = %v, want 1", v)
	}

	refused := func(bin, appDir string, want ...string) {
		t.Helper()
		_, stderr, code := runCLIWith(t, bin, 60*time.Second, nil, "run", "--data-dir", filepath.Join(t.TempDir(), "data"),
			"--listen", freeAddrs(t, 1)[0], "--app-dir", appDir)
		if code != 2 {
			t.Errorf("--app-dir %s: exit code %d, want 2; stderr:\n%s", appDir, code, stderr)
		}
		for _, w := range want {
			if !strings.Contains(stderr, w) {
				t.Errorf("--app-dir %s: stderr does not say %q:\n%s", appDir, w, stderr)
			}
		}
	}
	junkDir := t.TempDir()
	junk := filepath.Join(junkDir, "junk.so")
	if err := os.WriteFile(junk, []byte("not a shared library"), 0o644); err != nil {
		t.Fatal(err)
	}
	refused(binary(t), junkDir, "picogo run: --app-dir: role plugin "+junk+": plugin.Open(")
	refused(binary(t), filepath.Join(junkDir, "missing"), "picogo run: --app-dir: role plugins: open ")

	// roleapp has hello compiled in; role/plugin's dup plugin defines
	// another hello.
	roleapp := filepath.Join(t.TempDir(), "roleapp")
	buildPackage(t, roleapp, "github.com/picogo/picogo/cli/testdata/roleapp")
	dupDir := t.TempDir()
	buildPackage(t, filepath.Join(dupDir, "dup.so"), "github.com/picogo/picogo/role/plugin/testdata/dup", "-buildmode=plugin")
	refused(roleapp, dupDir, `role "hello" is compiled into the binary too`)
}

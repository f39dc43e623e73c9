//go:build linux

package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tarantool/go-tarantool/v2"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/role"
)

// TestIntegrationExampleKV runs the kv example application (examples/kv:
// its own binary, its cluster.yaml) on real processes: tier storage with
// two instances (two replicasets), tier api with one, the roles enabled by
// --init-cfg. The api instance starts while its HTTP port is taken: its api
// role is recorded failed with the listen error while the instance goes
// Online and answers; storage's handlers answer .proc_rpc_call by bucket
// and by role meanwhile. Once the port is free the governor starts api
// again and the HTTP API works (PUT, GET, a missing key, what an RPC
// wrote). `kv role disable api --tier api` stops it: its state row says
// stopped and the HTTP server is gone, its sidecar metrics stays.
func TestIntegrationExampleKV(t *testing.T) {
	skipIfShort(t)
	bin := filepath.Join(t.TempDir(), "kv")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/picogo/picogo/examples/kv").CombinedOutput(); err != nil {
		t.Fatalf("go build examples/kv: %v\n%s", err, out)
	}
	initCfg, err := filepath.Abs(filepath.Join("..", "examples", "kv", "cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}

	// The api role's port, taken until the test frees it.
	httpAddr := freeAddrs(t, 1)[0]
	busy, err := net.Listen("tcp", httpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	t.Setenv("KV_HTTP_LISTEN", httpAddr) // only api listens on it

	ins := newCluster(t, 3, "--init-cfg", initCfg)
	for i, in := range ins {
		in.args[0] = bin
		tier := "storage"
		if i == 2 {
			tier = "api"
		}
		in.args = append(in.args, "--tier", tier)
	}
	for _, in := range ins {
		in.start()
	}
	waitLeader(t, ins...)
	for _, in := range ins {
		waitAdminPassword(t, in)
	}
	eventually(t, 30*time.Second, "every instance Online", ins, func() error { return allOnline(ins) })

	states := func() (map[string]string, error) {
		conn := adminConn(t, ins[0])
		defer conn.Close()
		rows, err := sqlRows(conn, "SELECT instance_id, role, state, error FROM _pico_role_state")
		if err != nil {
			return nil, err
		}
		out := map[string]string{}
		for _, r := range rows {
			if len(r) != 4 {
				return nil, fmt.Errorf("_pico_role_state row %v", r)
			}
			// "storage_1_1/storage" -> "running" (or "failed: <error>")
			inst, _ := r[0].(string)
			tier, _, _ := strings.Cut(inst, "_")
			state := fmt.Sprint(r[2])
			if e, _ := r[3].(string); e != "" {
				state += ": " + e
			}
			out[tier+"/"+fmt.Sprint(r[1])+"@"+inst] = state
		}
		return out, nil
	}
	// want checks the states of every instance of the tiers named: tier/role
	// -> a prefix of the state; every instance of the tier must match.
	want := func(expect map[string]string) func() error {
		return func() error {
			s, err := states()
			if err != nil {
				return err
			}
			seen := map[string]int{}
			for k, state := range s {
				key, _, _ := strings.Cut(k, "@")
				if w, ok := expect[key]; ok {
					if !strings.HasPrefix(state, w) {
						return fmt.Errorf("%s is %q, want %q (all: %v)", k, state, w, sorted(s))
					}
					seen[key]++
				}
			}
			for key := range expect {
				n := 1
				if strings.HasPrefix(key, "storage/") {
					n = 2
				}
				if seen[key] != n {
					return fmt.Errorf("%d state rows for %s, want %d (all: %v)", seen[key], key, n, sorted(s))
				}
			}
			return nil
		}
	}
	eventually(t, 60*time.Second, "storage runs on both storage instances, api failed on the busy port", ins, want(map[string]string{
		"storage/metrics": "running", "storage/storage": "running",
		"api/metrics": "running", "api/api": "failed: role api: Init: listen tcp " + httpAddr,
	}))
	s, _ := states()
	for k, v := range s {
		if strings.HasPrefix(k, "api/api@") && !strings.Contains(v, "address already in use") {
			t.Errorf("api's failure %q does not say the port is taken", v)
		}
	}
	if err := allOnline(ins); err != nil {
		t.Fatalf("with api failed: %v", err)
	}

	// .proc_rpc_call, from an iproto client: by bucket on the storage
	// tier, by role from the api instance (which runs no storage).
	var bucketCount uint64
	{
		conn := adminConn(t, ins[2])
		rows, err := sqlRows(conn, "SELECT bucket_count FROM _pico_tier WHERE name = 'storage'")
		if err != nil || len(rows) != 1 {
			t.Fatalf("storage's bucket_count: %v %v", rows, err)
		}
		bucketCount = mustUint(t, "bucket_count", rows[0][0])
	}
	byBucket := func(key string) map[string]any {
		b, err := role.BucketOf(bucketCount, key)
		if err != nil {
			t.Fatal(err)
		}
		return map[string]any{"kind": "bucket", "tier": "storage", "bucket": b, "timeout": 10.0}
	}
	rpc := func(in *instance, target map[string]any, roleName, handler string, args ...any) (any, error) {
		conn := adminConn(t, in)
		defer conn.Close()
		if args == nil {
			args = []any{}
		}
		res, err := call(conn, ".proc_rpc_call", target, roleName, handler, args)
		if err != nil {
			return nil, err
		}
		if len(res) != 1 {
			return nil, fmt.Errorf(".proc_rpc_call answered %d values %v; want 1", len(res), res)
		}
		return res[0], nil
	}
	eventually(t, 30*time.Second, "put by bucket", ins, func() error {
		_, err := rpc(ins[0], byBucket("alpha"), "storage", "put", "alpha", "one")
		return err
	})
	if v, err := rpc(ins[1], byBucket("alpha"), "storage", "get", "alpha"); err != nil || v != "one" {
		t.Errorf("get alpha by bucket: %#v, %v; want \"one\"", v, err)
	}
	if v, err := rpc(ins[2], map[string]any{"kind": "role"}, "storage", "get", "alpha"); err != nil || v != "one" {
		t.Errorf("get alpha by role from the api instance: %#v, %v; want \"one\"", v, err)
	}
	if v, err := rpc(ins[0], byBucket("nobody"), "storage", "get", "nobody"); err != nil || v != nil {
		t.Errorf("get of a missing key by bucket: %#v, %v; want nil", v, err)
	}
	if v, err := rpc(ins[0], map[string]any{"kind": "role"}, "storage", "put", 42); err == nil || !strings.Contains(err.Error(), "put: want 2 arguments") {
		t.Errorf("put(42): %#v, %v; want the handler's error", v, err)
	}
	{
		// The row is where BucketOf says.
		conn := adminConn(t, ins[0])
		rows, err := sqlRows(conn, "SELECT value, bucket_id FROM kv WHERE key = 'alpha'")
		if err != nil || len(rows) != 1 {
			t.Fatalf("SELECT alpha: %v %v", rows, err)
		}
		if b := mustUint(t, "bucket_id", rows[0][1]); rows[0][0] != "one" || b != byBucket("alpha")["bucket"] {
			t.Errorf("alpha's row %v; want value one in bucket %v", rows[0], byBucket("alpha")["bucket"])
		}
	}
	if _, err := (&http.Client{Timeout: time.Second}).Get("http://" + httpAddr + "/healthz"); err == nil {
		// The test's own listener accepts but never answers HTTP: a
		// response here would be someone else's server.
		t.Fatal("something answers HTTP on the api port while it is taken")
	}

	// The port is free: the governor retries api (its backoff doubles up
	// to 640 ticks, 12.8 s at the harness's 20 ms tick) and it runs.
	busy.Close()
	eventually(t, 60*time.Second, "api runs once its port is free", ins, want(map[string]string{"api/api": "running", "api/metrics": "running"}))
	client := &http.Client{Timeout: 15 * time.Second}
	do := func(method, path, body string) (int, string, error) {
		req, err := http.NewRequest(method, "http://"+httpAddr+path, strings.NewReader(body))
		if err != nil {
			return 0, "", err
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}
	if code, body, err := do("GET", "/healthz", ""); err != nil || code != 200 || body != "ok\n" {
		t.Fatalf("GET /healthz: %d %q %v", code, body, err)
	}
	if code, body, err := do("PUT", "/kv/greeting", "hello, world"); err != nil || code != http.StatusNoContent {
		t.Fatalf("PUT /kv/greeting: %d %q %v", code, body, err)
	}
	if code, body, err := do("GET", "/kv/greeting", ""); err != nil || code != 200 || body != "hello, world" {
		t.Errorf("GET /kv/greeting: %d %q %v", code, body, err)
	}
	if code, body, err := do("GET", "/kv/alpha", ""); err != nil || code != 200 || body != "one" {
		t.Errorf("GET /kv/alpha (written by RPC): %d %q %v", code, body, err)
	}
	if code, body, err := do("GET", "/kv/missing", ""); err != nil || code != http.StatusNotFound {
		t.Errorf("GET /kv/missing: %d %q %v", code, body, err)
	}
	if v, err := rpc(ins[0], byBucket("greeting"), "storage", "get", "greeting"); err != nil || v != "hello, world" {
		t.Errorf("get greeting (written over HTTP) by bucket: %#v, %v", v, err)
	}
	if v, err := rpc(ins[2], map[string]any{"kind": "role"}, "metrics", "requests"); err != nil {
		t.Errorf("metrics.requests by role: %v", err)
	} else if !strings.Contains(fmt.Sprint(v), "http_put/ok:1") { // a map, as go-tarantool decodes it
		t.Errorf("metrics.requests on the api instance: %#v; want http_put/ok counted", v)
	}

	// Disabling api stops it on its tier; metrics, enabled there too,
	// stays.
	out, stderr, code := runCLIWith(t, bin, 30*time.Second, []string{"PICOGO_ADMIN_PASSWORD=" + itAdminPassword},
		"role", "disable", ins[0].addr, "api", "--tier", "api")
	if code != 0 {
		t.Fatalf("kv role disable api --tier api (exit %d): %s%s", code, out, stderr)
	}
	eventually(t, 30*time.Second, "api stopped", ins, want(map[string]string{"api/api": "stopped", "api/metrics": "running", "storage/storage": "running"}))
	eventually(t, 10*time.Second, "the HTTP server gone", ins, func() error {
		if code, _, err := do("GET", "/healthz", ""); err == nil {
			return fmt.Errorf("GET /healthz answers %d after api stopped", code)
		}
		return nil
	})
	if err := allOnline(ins); err != nil {
		t.Errorf("after api stopped: %v", err)
	}
}

// sqlRows runs a query with .proc_sql and returns its rows.
func sqlRows(conn tarantool.Connector, query string, params ...any) ([][]any, error) {
	if params == nil {
		params = []any{}
	}
	var res []api.SQLResult
	if err := callTyped(conn, &res, ".proc_sql", query, params); err != nil {
		return nil, err
	}
	if len(res) != 1 {
		return nil, fmt.Errorf(".proc_sql answered %d values", len(res))
	}
	return res[0].Rows, nil
}

// sorted lists a map's entries in key order, for messages.
func sorted(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

package roles

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/picogo/picogo/role"
)

// fakeSQL serves the statements the roles run, over a map.
type fakeSQL struct {
	mu   sync.Mutex
	rows map[string]string
}

func (f *fakeSQL) SQL(_ context.Context, query string, params ...any) (*role.SQLResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch query {
	case putSQL:
		f.rows[params[0].(string)] = params[1].(string)
		return &role.SQLResult{RowCount: 1}, nil
	case getSQL:
		v, ok := f.rows[params[0].(string)]
		if !ok {
			return &role.SQLResult{Columns: []string{"value"}}, nil
		}
		return &role.SQLResult{Columns: []string{"value"}, Rows: [][]any{{v}}, RowCount: 1}, nil
	case "SELECT bucket_count FROM _pico_tier WHERE name = $1":
		if params[0] != StorageTier {
			return &role.SQLResult{}, nil
		}
		return &role.SQLResult{Columns: []string{"bucket_count"}, Rows: [][]any{{uint64(3000)}}, RowCount: 1}, nil
	}
	return nil, fmt.Errorf("fakeSQL: unexpected %q", query)
}

// fakeRPC calls the storage role's handlers in process, recording targets.
type fakeRPC struct {
	storage *Storage
	c       *role.Context
	mu      sync.Mutex
	targets []role.Target
}

func (f *fakeRPC) Call(ctx context.Context, t role.Target, roleName, handler string, args []any) (any, error) {
	if err := t.Check(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.targets = append(f.targets, t)
	f.mu.Unlock()
	h := f.storage.Handlers()[handler]
	if roleName != "storage" || h == nil {
		return nil, fmt.Errorf("no handler %s.%s", roleName, handler)
	}
	return h(ctx, f.c, args)
}

func newContext(sql role.SQL, rpc role.RPC) *role.Context {
	return &role.Context{Log: slog.New(slog.DiscardHandler), Metrics: prometheus.NewRegistry(), SQL: sql, RPC: rpc}
}

func TestStorageHandlers(t *testing.T) {
	m := NewMetrics()
	s := &Storage{Metrics: m}
	c := newContext(&fakeSQL{rows: map[string]string{}}, nil)
	ctx := context.Background()
	h := s.Handlers()
	if v, err := h["get"](ctx, c, []any{"a"}); v != nil || err != nil {
		t.Fatalf("get of a missing key: %v, %v", v, err)
	}
	if v, err := h["put"](ctx, c, []any{"a", "1"}); v != nil || err != nil {
		t.Fatalf("put: %v, %v", v, err)
	}
	if v, err := h["get"](ctx, c, []any{"a"}); v != "1" || err != nil {
		t.Fatalf("get: %v, %v", v, err)
	}
	for _, bad := range [][]any{nil, {"a"}, {"a", 1}} {
		if _, err := h["put"](ctx, c, bad); err == nil {
			t.Errorf("put%v: no error", bad)
		}
	}
	if _, err := h["get"](ctx, c, []any{int64(1)}); err == nil {
		t.Error("get(1): no error")
	}
	if _, err := h["put"](ctx, newContext(nil, nil), []any{"a", "b"}); err != errNoSQL {
		t.Errorf("put without SQL: %v", err)
	}
	want := map[string]any{"get/not_found": uint64(1), "put/ok": uint64(1), "get/ok": uint64(1),
		"put/error": uint64(4), "get/error": uint64(1)}
	if got := m.Counts(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("counts %v; want %v", got, want)
	}
	if got, err := m.Handlers()["requests"](ctx, c, nil); err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("metrics.requests: %v, %v", got, err)
	}
}

func TestAPIHandler(t *testing.T) {
	m := NewMetrics()
	sql := &fakeSQL{rows: map[string]string{}}
	rpc := &fakeRPC{storage: &Storage{Metrics: m}, c: newContext(sql, nil)}
	a := &API{Metrics: m}
	srv := httptest.NewServer(a.handler(newContext(sql, rpc), 3000))
	defer srv.Close()

	do := func(method, path, body string) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	if code, body, _ := do("GET", "/healthz", ""); code != 200 || body != "ok\n" {
		t.Errorf("healthz: %d %q", code, body)
	}
	if code, _, _ := do("GET", "/kv/lol", ""); code != 404 {
		t.Errorf("GET of a missing key: %d", code)
	}
	if code, body, _ := do("PUT", "/kv/lol", "five"); code != 204 {
		t.Errorf("PUT: %d %q", code, body)
	}
	code, body, hdr := do("GET", "/kv/lol", "")
	if code != 200 || body != "five" {
		t.Errorf("GET: %d %q", code, body)
	}
	want, _ := role.BucketOf(3000, "lol")
	if hdr.Get("X-KV-Bucket") != fmt.Sprint(want) {
		t.Errorf("X-KV-Bucket %q; want %d", hdr.Get("X-KV-Bucket"), want)
	}
	for _, tg := range rpc.targets {
		if tg.Kind != role.ByBucket || tg.Tier != StorageTier || tg.Bucket != want || tg.Timeout != callTimeout {
			t.Errorf("target %+v; want bucket %d of %s", tg, want, StorageTier)
		}
	}
	if code, _, _ := do("POST", "/kv/lol", "x"); code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", code)
	}
	if code, _, _ := do("PUT", "/kv/big", strings.Repeat("x", MaxValue+1)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("PUT of a value too big: %d", code)
	}
}

// freeAddr is a loopback address nobody listens on (most likely).
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestAPILifecycle: Init fails on a busy port with the listen error; on a
// free one it serves until Stop, which shuts the server down.
func TestAPILifecycle(t *testing.T) {
	m := NewMetrics()
	sql := &fakeSQL{rows: map[string]string{}}
	c := newContext(sql, &fakeRPC{storage: &Storage{Metrics: m}, c: newContext(sql, nil)})
	a := &API{Metrics: m}
	ctx := context.Background()

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	t.Setenv(ListenEnv, busy.Addr().String())
	if err := a.Init(ctx, c); err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("Init on a busy port: %v", err)
	}
	if err := a.Stop(ctx, c); err != nil {
		t.Fatalf("Stop after a failed Init: %v", err)
	}
	if err := a.Init(ctx, newContext(sql, nil)); err == nil {
		t.Fatal("Init without RPC: no error")
	}

	addr := freeAddr(t)
	t.Setenv(ListenEnv, addr)
	if err := a.Init(ctx, c); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz: %s", resp.Status)
	}
	stopCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := a.Stop(stopCtx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Get("http://" + addr + "/healthz"); err == nil {
		t.Fatal("the server answers after Stop")
	}
	// A bucket count that _pico_tier lacks fails Init, freeing the port.
	if _, err := bucketCount(ctx, c, "nowhere"); err == nil {
		t.Fatal("bucketCount of a missing tier: no error")
	}
}

func TestAll(t *testing.T) {
	if err := role.Validate(All()); err != nil {
		t.Fatal(err)
	}
}

func TestStatusOf(t *testing.T) {
	for _, c := range []struct {
		err  error
		want int
	}{
		{&role.RPCError{Code: role.CodeNotRunning, Message: "no instance runs storage"}, http.StatusServiceUnavailable},
		{fmt.Errorf("rpc: %w", &role.RPCError{Code: role.CodeNotRunning}), http.StatusServiceUnavailable},
		{&role.RPCError{Code: role.CodeHandler, Message: "put: boom"}, http.StatusBadGateway},
		{context.DeadlineExceeded, http.StatusBadGateway},
	} {
		if got := statusOf(c.err); got != c.want {
			t.Errorf("statusOf(%v) = %d; want %d", c.err, got, c.want)
		}
	}
}

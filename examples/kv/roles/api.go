package roles

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/picogo/picogo/role"
)

// ListenEnv names the environment variable with the address api's HTTP
// server listens on; DefaultListen is used when it is empty.
const (
	ListenEnv     = "KV_HTTP_LISTEN"
	DefaultListen = "127.0.0.1:8080"
)

// MaxValue bounds a PUT's body.
const MaxValue = 1 << 20

// callTimeout bounds one RPC to storage, its retries included.
const callTimeout = 5 * time.Second

// API is the api role: an HTTP server, started by Init on $KV_HTTP_LISTEN
// (default 127.0.0.1:8080) and shut down gracefully by Stop, serving
//
//	PUT /kv/{key}   the body is key's new value: 204
//	GET /kv/{key}   key's value: 200, or 404 when it has none
//	GET /healthz    200 "ok"
//
// A key's request goes to the storage role on the master of the key's
// bucket in StorageTier (RPC by bucket, role.BucketOf with the tier's
// bucket_count, read from _pico_tier once in Init); the bucket is in the
// answer's X-KV-Bucket header. A failed call answers its error: 503 when
// no instance runs storage where the key lives, else 502.
//
// Init fails when the address cannot be listened on (a busy port): the
// governor records the role failed with that error and tries again later;
// the instance stays Online meanwhile.
type API struct {
	Metrics *Metrics

	mu     sync.Mutex
	srv    *http.Server
	served chan struct{} // closed when srv.Serve returned
}

func (*API) Name() string           { return "api" }
func (*API) Version() string        { return "1.0.0" }
func (*API) Dependencies() []string { return []string{"metrics"} }
func (*API) OnceDDL() []string      { return nil }

func (a *API) Init(ctx context.Context, c *role.Context) error {
	addr := os.Getenv(ListenEnv)
	if addr == "" {
		addr = DefaultListen
	}
	if c.RPC == nil {
		return errors.New("kv api: this runtime offers roles no RPC")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err // "listen tcp 127.0.0.1:8080: bind: address already in use"
	}
	count, err := bucketCount(ctx, c, StorageTier)
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{Handler: a.handler(c, count), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			c.Log.Error("kv api: HTTP server", "error", err)
		}
	}()
	a.mu.Lock()
	a.srv, a.served = srv, served
	a.mu.Unlock()
	c.Log.Info("kv api serves HTTP", "listen", ln.Addr().String(), "storage_tier", StorageTier, "bucket_count", count)
	return nil
}

// Stop shuts the HTTP server down: it stops listening, lets requests in
// flight finish (within ctx), then closes what is left.
func (a *API) Stop(ctx context.Context, _ *role.Context) error {
	a.mu.Lock()
	srv, served := a.srv, a.served
	a.srv, a.served = nil, nil
	a.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Shutdown(ctx)
	if err != nil {
		srv.Close()
	}
	<-served
	return err
}

func (*API) Handlers() map[string]role.Handler { return nil }

// bucketCount is tier's bucket count, from _pico_tier.
func bucketCount(ctx context.Context, c *role.Context, tier string) (uint64, error) {
	if c.SQL == nil {
		return 0, errors.New("kv api: this runtime offers roles no SQL")
	}
	res, err := c.SQL.SQL(ctx, "SELECT bucket_count FROM _pico_tier WHERE name = $1", tier)
	if err != nil {
		return 0, fmt.Errorf("kv api: the bucket count of tier %q: %w", tier, err)
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != 1 {
		return 0, fmt.Errorf("kv api: no tier %q in _pico_tier", tier)
	}
	switch n := res.Rows[0][0].(type) {
	case uint64:
		return n, nil
	case int64:
		if n > 0 {
			return uint64(n), nil
		}
	}
	return 0, fmt.Errorf("kv api: tier %q has bucket_count %v", tier, res.Rows[0][0])
}

// handler serves the HTTP API, calling storage through c's RPC client.
func (a *API) handler(c *role.Context, count uint64) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("PUT /kv/{key}", func(w http.ResponseWriter, r *http.Request) {
		key := r.PathValue("key")
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxValue))
		if err != nil {
			a.Metrics.Count("http_put", "error")
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		_, err = a.call(r.Context(), w, c, count, "put", key, string(body))
		a.Metrics.Count("http_put", result(err, true))
		if err != nil {
			http.Error(w, err.Error(), statusOf(err))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /kv/{key}", func(w http.ResponseWriter, r *http.Request) {
		v, err := a.call(r.Context(), w, c, count, "get", r.PathValue("key"))
		a.Metrics.Count("http_get", result(err, v != nil))
		switch s, ok := v.(string); {
		case err != nil:
			http.Error(w, err.Error(), statusOf(err))
		case v == nil:
			http.Error(w, "no such key", http.StatusNotFound)
		case !ok:
			http.Error(w, fmt.Sprintf("storage answered a %T", v), http.StatusBadGateway)
		default:
			w.Header().Set("Content-Type", "application/octet-stream")
			io.WriteString(w, s)
		}
	})
	return a.counted(mux)
}

// call calls storage's handler on key's bucket; the bucket goes in w's
// X-KV-Bucket header.
func (a *API) call(ctx context.Context, w http.ResponseWriter, c *role.Context, count uint64, handler, key string, rest ...any) (any, error) {
	bucket, err := role.BucketOf(count, key)
	if err != nil {
		return nil, err
	}
	w.Header().Set("X-KV-Bucket", strconv.FormatUint(bucket, 10))
	t := role.OnBucket(StorageTier, bucket).WithTimeout(callTimeout)
	return c.RPC.Call(ctx, t, "storage", handler, append([]any{key}, rest...))
}

// statusOf is the HTTP status of a failed call to storage: 503 when no
// instance runs it where the key lives (yet), 502 otherwise.
func statusOf(err error) int {
	if e, ok := errors.AsType[*role.RPCError](err); ok && e.Code == role.CodeNotRunning {
		return http.StatusServiceUnavailable
	}
	return http.StatusBadGateway
}

// counted keeps kv_http_in_flight.
func (a *API) counted(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.Metrics.inFlight.Inc()
		defer a.Metrics.inFlight.Dec()
		h.ServeHTTP(w, r)
	})
}

package runner

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/picogo/picogo/role"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

// The host's view: done gets the role's version; the configuration comes
// with Start, a new one with Configure, the leader with LeaderChanged.
func TestForHost(t *testing.T) {
	var got map[string]any
	kv := &testRole{name: "kv", init: func(_ context.Context, c *role.Context) error { got = c.Config; return nil },
		handlers: map[string]role.Handler{"config": func(_ context.Context, c *role.Context, _ []any) (any, error) { return c.Config, nil }}}
	f := newFixture(t, kv)
	h := f.r.ForHost()

	var version string
	var err error
	h.Start("kv", map[string]any{"for": "kv"}, func(v string, e error) { version, err = v, e })
	f.loop.next(t)
	require.NoError(t, err)
	require.Equal(t, "1.2.3", version)
	require.Equal(t, map[string]any{"for": "kv"}, got)
	h.Configure("kv", map[string]any{"for": "all"}, func(e error) { err = e })
	f.loop.next(t)
	require.NoError(t, err)
	noArgs, _ := msgpack.Marshal([]any{})
	h.Call("kv", "config", noArgs, time.Second, func(res msgpack.RawMessage, e error) {
		err = e
		got = nil
		if e == nil {
			v, _ := DecodeValue(res)
			got, _ = v.(map[string]any)
		}
	})
	f.loop.next(t)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"for": "all"}, got, "later calls see the new configuration")
	h.LeaderChanged("kv", 7, func(e error) { err = e })
	f.loop.next(t)
	require.NoError(t, err)

	h.Stop("kv", func(v string, e error) { version, err = v, e })
	f.loop.next(t)
	require.NoError(t, err)
	require.Equal(t, "1.2.3", version)

	h.Start("nope", nil, func(v string, e error) { version, err = v, e })
	f.loop.next(t)
	require.EqualError(t, err, `no role "nope" on this instance`)
	require.Equal(t, "", version)
}

// A graceful shutdown stops dependents first and goes on past a role
// whose Stop fails.
func TestStopAll(t *testing.T) {
	var mu sync.Mutex
	var stopped []string
	mk := func(name string, stopErr error, deps ...string) *testRole {
		return &testRole{name: name, deps: deps, stop: func(context.Context, *role.Context) error {
			mu.Lock()
			defer mu.Unlock()
			stopped = append(stopped, name)
			return stopErr
		}}
	}
	broken := errors.New("cannot flush")
	roles := []*testRole{mk("api", nil, "storage", "zabbix"), mk("storage", broken, "zabbix"), mk("zabbix", nil), mk("idle", nil),
		mk("failed", nil, "zabbix")}
	roles[4].init = func(context.Context, *role.Context) error { return errors.New("no port") }
	f := newFixture(t, roles[0], roles[1], roles[2], roles[3], roles[4])
	for _, name := range []string{"zabbix", "storage", "api"} {
		require.NoError(t, f.start(name, nil))
	}
	require.Error(t, f.start("failed", nil))

	var err error
	f.r.StopAll(func(e error) { err = e })
	for range 4 { // one Stop per role not stopped: api, storage, zabbix, failed
		f.loop.next(t)
	}
	require.ErrorIs(t, err, broken)
	require.EqualError(t, err, "role storage: Stop: cannot flush")
	require.Equal(t, []string{"api", "storage", "zabbix"}, stopped, "dependents first; a failed role's Stop is not called")
	for _, s := range f.r.StateList() {
		require.Equal(t, Stopped, s.Status, s.Name)
	}

	f.r.StopAll(func(e error) { err = e })
	f.loop.next(t)
	require.NoError(t, err, "nothing to stop")
}

// The host's calls: msgpack arguments decoded as role.Handler promises
// (int64, uint64 above MaxInt64, maps with string keys), the result
// encoded; what cannot be decoded or encoded is the call's error.
func TestHostCall(t *testing.T) {
	var got []any
	kv := &testRole{name: "kv", handlers: map[string]role.Handler{
		"echo": func(_ context.Context, _ *role.Context, args []any) (any, error) { got = args; return args[0], nil },
		"chan": func(context.Context, *role.Context, []any) (any, error) { return make(chan int), nil },
	}}
	f := newFixture(t, kv)
	require.NoError(t, f.start("kv", nil))
	h := f.r.ForHost()
	call := func(handler string, args msgpack.RawMessage) (msgpack.RawMessage, error) {
		var res msgpack.RawMessage
		var err error
		h.Call("kv", handler, args, time.Second, func(r msgpack.RawMessage, e error) { res, err = r, e })
		f.loop.next(t)
		return res, err
	}
	args, err := msgpack.Marshal([]any{"k", int8(7), uint64(math.MaxUint64), -3.5, map[any]any{"a": []any{1}}, []byte("b"), nil})
	require.NoError(t, err)
	res, err := call("echo", args)
	require.NoError(t, err)
	require.Equal(t, []any{"k", int64(7), uint64(math.MaxUint64), -3.5, map[string]any{"a": []any{int64(1)}}, []byte("b"), nil}, got)
	v, err := DecodeValue(res)
	require.NoError(t, err)
	require.Equal(t, "k", v)

	_, err = call("chan", args)
	require.ErrorContains(t, err, `handler "chan" returned chan int, which msgpack cannot encode`)
	notArray, _ := msgpack.Marshal(map[string]any{"a": 1})
	_, err = call("echo", notArray)
	require.ErrorContains(t, err, "arguments: map[string]interface {} is not an array")
	intKeys, _ := msgpack.Marshal([]any{map[int]int{1: 2}})
	_, err = call("echo", intKeys)
	require.ErrorContains(t, err, "map key 1 (int8) is not a string")
}

package runner

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/picogo/picogo/role"
	"github.com/stretchr/testify/require"
)

// The host's view: done gets the role's version, and the configuration
// comes from the function given.
func TestForHost(t *testing.T) {
	var got map[string]any
	kv := &testRole{name: "kv", init: func(_ context.Context, c *role.Context) error { got = c.Config; return nil }}
	f := newFixture(t, kv)
	h := f.r.ForHost(func(name string) map[string]any { return map[string]any{"for": name} })

	var version string
	var err error
	h.Start("kv", func(v string, e error) { version, err = v, e })
	f.loop.next(t)
	require.NoError(t, err)
	require.Equal(t, "1.2.3", version)
	require.Equal(t, map[string]any{"for": "kv"}, got)

	h.Stop("kv", func(v string, e error) { version, err = v, e })
	f.loop.next(t)
	require.NoError(t, err)
	require.Equal(t, "1.2.3", version)

	h.Start("nope", func(v string, e error) { version, err = v, e })
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

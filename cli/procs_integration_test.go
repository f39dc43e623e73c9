//go:build linux

package cli

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/tarantool/go-iproto"
	"github.com/tarantool/go-tarantool/v2"
)

// Tables the tests read and write, by id (what a client without the schema
// uses) and name.
const (
	spacePeerAddress = uint32(514) // _pico_peer_address: raft_id, address
	spaceProperty    = uint32(516) // _pico_property: key (string), value (any)
)

// stringMap asserts v is a msgpack map with string keys.
func stringMap(t *testing.T, what string, v any) map[string]any {
	t.Helper()
	m, ok := v.(map[any]any)
	if !ok {
		t.Fatalf("%s = %#v (%T); want a map", what, v, v)
	}
	out := make(map[string]any, len(m))
	for k, e := range m {
		s, ok := k.(string)
		if !ok {
			t.Fatalf("%s has a key %#v (%T); want string keys", what, k, k)
		}
		out[s] = e
	}
	return out
}

// requireKeys asserts m has exactly the keys.
func requireKeys(t *testing.T, what string, m map[string]any, keys ...string) {
	t.Helper()
	var got []string
	for k := range m {
		got = append(got, k)
	}
	sort.Strings(got)
	sort.Strings(keys)
	if !slices.Equal(got, keys) {
		t.Fatalf("%s has keys %v; want %v (value %v)", what, got, keys, m)
	}
}

func requireString(t *testing.T, what string, v any) string {
	t.Helper()
	s, ok := v.(string)
	if !ok {
		t.Fatalf("%s = %#v (%T); want a string", what, v, v)
	}
	return s
}

// TestIntegrationProcResultShapes calls every public and service procedure
// of a single-instance cluster as admin and checks its result: keys, types
// and values.
func TestIntegrationProcResultShapes(t *testing.T) {
	in := startOne(t)
	conn := adminConn(t, in)

	t.Run(".proc_version_info", func(t *testing.T) {
		data, err := call(conn, ".proc_version_info")
		if err != nil {
			t.Fatal(err)
		}
		m := stringMap(t, "version info", single(t, ".proc_version_info", data))
		requireKeys(t, "version info", m, "picodata_version", "proc_api_version")
		if v := requireString(t, "picodata_version", m["picodata_version"]); v != api.Version {
			t.Errorf("picodata_version = %q; want %q", v, api.Version)
		}
		if v := requireString(t, "proc_api_version", m["proc_api_version"]); v != api.ProcAPIVersion {
			t.Errorf("proc_api_version = %q; want %q", v, api.ProcAPIVersion)
		}
	})

	t.Run(".proc_version_info over CALL_16", func(t *testing.T) {
		// CALL_16 (npm tarantool-driver, net.box's call_16) wraps every
		// return value in a tuple.
		data, err := conn.Do(tarantool.NewCall16Request(".proc_version_info").Args([]any{})).Get()
		if err != nil {
			t.Fatal(err)
		}
		tuple, ok := single(t, "CALL_16 .proc_version_info", data).([]any)
		if !ok || len(tuple) != 1 {
			t.Fatalf("CALL_16 reply %#v; want [[{...}]]", data)
		}
		m := stringMap(t, "CALL_16 version info", tuple[0])
		if m["picodata_version"] != api.Version {
			t.Fatalf("CALL_16 picodata_version = %#v; want %q", m["picodata_version"], api.Version)
		}
	})

	var info raftInfo
	t.Run(".proc_raft_info", func(t *testing.T) {
		data, err := call(conn, ".proc_raft_info")
		if err != nil {
			t.Fatal(err)
		}
		m := stringMap(t, "raft info", single(t, ".proc_raft_info", data))
		requireKeys(t, "raft info", m, "id", "term", "applied", "leader_id", "state")
		info = raftInfo{
			ID: mustUint(t, "id", m["id"]), Term: mustUint(t, "term", m["term"]),
			Applied: mustUint(t, "applied", m["applied"]), LeaderID: mustUint(t, "leader_id", m["leader_id"]),
			State: requireString(t, "state", m["state"]),
		}
		if !slices.Contains([]string{"Follower", "Candidate", "Leader", "PreCandidate"}, info.State) {
			t.Fatalf("state %q is not a Raft state", info.State)
		}
		// A single instance is raft id 1 and elected itself; its first
		// entries (peer addresses, users, the admin password) are applied.
		if info.ID != 1 || info.LeaderID != 1 || info.State != "Leader" || info.Term < 1 || info.Applied < 3 {
			t.Fatalf("raft info %+v; want id 1, leader_id 1, Leader, term >= 1, applied >= 3", info)
		}
	})
	if info.ID == 0 {
		t.FailNow()
	}

	var index uint64
	t.Run(".proc_get_index", func(t *testing.T) {
		data, err := call(conn, ".proc_get_index")
		if err != nil {
			t.Fatal(err)
		}
		index = mustUint(t, "applied index", single(t, ".proc_get_index", data))
		if index < info.Applied {
			t.Fatalf(".proc_get_index = %d; .proc_raft_info said applied %d before", index, info.Applied)
		}
	})

	t.Run(".proc_read_index", func(t *testing.T) {
		for _, timeout := range []any{1, 0.5} { // seconds, integer or float
			data, err := call(conn, ".proc_read_index", timeout)
			if err != nil {
				t.Fatalf(".proc_read_index(%v): %v", timeout, err)
			}
			if got := mustUint(t, "read index", single(t, ".proc_read_index", data)); got < index {
				t.Fatalf(".proc_read_index(%v) = %d; .proc_get_index said %d before", timeout, got, index)
			}
		}
	})

	t.Run(".proc_wait_index", func(t *testing.T) {
		data, err := call(conn, ".proc_wait_index", index, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got := mustUint(t, "applied index", single(t, ".proc_wait_index", data)); got < index {
			t.Fatalf(".proc_wait_index(%d, 1) = %d", index, got)
		}

		// Waiting for an index not yet written: a write makes it. The wait
		// and the write go on one connection with one request queue
		// (Concurrency 1), so the server reads the wait first: it is
		// registered before the write is proposed, and only the write (or
		// a later entry) can answer it.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ordered, err := tarantool.Connect(ctx, tarantool.NetDialer{Address: in.addr, User: "admin", Password: itAdminPassword},
			tarantool.Opts{Timeout: 5 * time.Second, Concurrency: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer ordered.Close()
		cur, err := raftInfoOf(ordered)
		if err != nil {
			t.Fatal(err)
		}
		target := cur.Applied + 1
		wait := ordered.Do(tarantool.NewCallRequest(".proc_wait_index").Args([]any{target, 4}))
		casInsert(t, ordered, spaceProperty, "wait-index-key", 1)
		data, err = wait.Get()
		if err != nil {
			t.Fatalf(".proc_wait_index(%d, 4) while writing: %v", target, err)
		}
		if got := mustUint(t, "applied index", single(t, ".proc_wait_index", data)); got < target {
			t.Fatalf(".proc_wait_index(%d, 4) = %d", target, got)
		}

		// An index far ahead times out with TIMEOUT.
		_, err = call(conn, ".proc_wait_index", target+1000, 0.1)
		requireCode(t, err, iproto.ER_TIMEOUT, ".proc_wait_index")
	})

	t.Run(".proc_raft_promote", func(t *testing.T) {
		before, err := raftInfoOf(conn)
		if err != nil {
			t.Fatal(err)
		}
		data, err := call(conn, ".proc_raft_promote")
		if err != nil {
			t.Fatal(err)
		}
		if len(data) != 0 {
			t.Fatalf(".proc_raft_promote returned %#v; want no values", data)
		}
		// The leader promoting itself changes nothing.
		after, err := raftInfoOf(conn)
		if err != nil {
			t.Fatal(err)
		}
		if after.State != "Leader" || after.Term != before.Term {
			t.Fatalf("after .proc_raft_promote on the leader: %+v; before %+v", after, before)
		}
	})

	t.Run(".proc_cas", func(t *testing.T) {
		pred, err := raftInfoOf(conn)
		if err != nil {
			t.Fatal(err)
		}
		op := insertOp(spaceProperty, "test-key", "v")
		data, err := call(conn, ".proc_cas", itClusterID, casPredicate(pred), op, 1)
		if err != nil {
			t.Fatalf(".proc_cas insert: %v", err)
		}
		if len(data) != 2 {
			t.Fatalf(".proc_cas returned %#v; want [index, term]", data)
		}
		idx, term := mustUint(t, "index", data[0]), mustUint(t, "term", data[1])
		if idx <= pred.Applied || term != pred.Term {
			t.Fatalf(".proc_cas = [%d, %d] for a predicate at [%d, %d]; want a later index of the same term",
				idx, term, pred.Applied, pred.Term)
		}
		// The reply comes once the entry is applied here.
		if got, err := call(conn, ".proc_get_index"); err != nil || mustUint(t, "applied", single(t, "get_index", got)) < idx {
			t.Fatalf(".proc_get_index after CaS at %d: %v, %v", idx, got, err)
		}
		rows, err := selectRows(conn, spaceProperty, "test-key")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || fmt.Sprint(rows[0]) != "[test-key v]" {
			t.Fatalf("_pico_property[test-key] = %#v; want [[test-key v]]", rows)
		}

		// The same insert with the same predicate: the entry written since
		// the predicate's index wrote that very key.
		_, err = call(conn, ".proc_cas", itClusterID, casPredicate(pred), op, 1)
		requireCode(t, err, iproto.Error(api.CodeConflictFound), "ConflictFound")

		// With a fresh predicate it reaches the table: a duplicate key.
		fresh, err := raftInfoOf(conn)
		if err != nil {
			t.Fatal(err)
		}
		_, err = call(conn, ".proc_cas", itClusterID, casPredicate(fresh), op, 1)
		requireCode(t, err, iproto.ER_TUPLE_FOUND)

		// A predicate of another term.
		stale := fresh
		stale.Term--
		_, err = call(conn, ".proc_cas", itClusterID, casPredicate(stale), insertOp(spaceProperty, "k2", "v"), 1)
		requireCode(t, err, iproto.Error(10003), "TermMismatch")

		// Another cluster's request.
		_, err = call(conn, ".proc_cas", "other-cluster", casPredicate(fresh), insertOp(spaceProperty, "k2", "v"), 1)
		requireCode(t, err, iproto.Error(10002), "cluster_id")

		// None of the refused operations wrote anything.
		rows, err = selectRows(conn, spaceProperty, "k2")
		if err != nil || len(rows) != 0 {
			t.Fatalf("_pico_property[k2] = %#v, %v; want no row", rows, err)
		}
	})

	t.Run("SELECT _pico_peer_address", func(t *testing.T) {
		want := fmt.Sprint([]any{[]any{1, in.addr}})
		byID, err := selectRows(conn, spacePeerAddress)
		if err != nil {
			t.Fatal(err)
		}
		if len(byID) != 1 {
			t.Fatalf("SELECT space 514 = %#v; want one row", byID)
		}
		row, _ := byID[0].([]any)
		if len(row) != 2 || mustUint(t, "raft_id", row[0]) != 1 || requireString(t, "address", row[1]) != in.addr {
			t.Fatalf("SELECT space 514 = %#v; want %s", byID, want)
		}
		// By name: go-tarantool resolved it from _vspace at connect.
		byName, err := selectRows(conn, "_pico_peer_address")
		if err != nil {
			t.Fatalf("SELECT _pico_peer_address by name: %v", err)
		}
		if fmt.Sprint(byName) != fmt.Sprint(byID) {
			t.Fatalf("by name %v, by id %v", byName, byID)
		}
		// A key that is not there.
		none, err := selectRows(conn, spacePeerAddress, uint64(99))
		if err != nil || len(none) != 0 {
			t.Fatalf("SELECT raft_id 99 = %#v, %v; want no rows", none, err)
		}
	})
}

// TestIntegrationBadCalls: what a client gets for calls that cannot be
// served — an unknown procedure, or arguments of the wrong number or type
// (ILLEGAL_PARAMS naming the procedure and the argument) — and that the
// instance keeps serving afterwards.
func TestIntegrationBadCalls(t *testing.T) {
	in := startOne(t)
	conn := adminConn(t, in)

	_, err := call(conn, ".proc_no_such_thing")
	requireCode(t, err, iproto.ER_NO_SUCH_PROC, "Procedure '.proc_no_such_thing' is not defined")

	pred := map[string]any{"index": 1, "term": 1, "ranges": []any{}}
	op := insertOp(spaceProperty, "bad-key", "v")
	cases := []struct {
		name      string
		fn        string
		args      []any
		fragments []string
	}{
		{"read_index without timeout", ".proc_read_index", []any{},
			[]string{".proc_read_index", "expected 1 arguments (timeout), got 0"}},
		{"read_index with a string timeout", ".proc_read_index", []any{"soon"},
			[]string{".proc_read_index", "timeout"}},
		{"read_index with a negative timeout", ".proc_read_index", []any{-1},
			[]string{".proc_read_index", "timeout"}},
		{"wait_index without timeout", ".proc_wait_index", []any{1},
			[]string{".proc_wait_index", "expected 2 arguments (target, timeout), got 1"}},
		{"wait_index with a string target", ".proc_wait_index", []any{"ten", 1},
			[]string{".proc_wait_index", "argument 1 (target)"}},
		{"wait_index with a string timeout", ".proc_wait_index", []any{1, "one"},
			[]string{".proc_wait_index", "argument 2 (timeout)"}},
		{"cas with one argument", ".proc_cas", []any{itClusterID},
			[]string{".proc_cas", "expected 4 arguments (cluster_id, predicate, op, as_user), got 1"}},
		{"cas with a numeric cluster_id", ".proc_cas", []any{7, pred, op, 1},
			[]string{".proc_cas", "argument 1 (cluster_id)"}},
		{"cas with a string predicate", ".proc_cas", []any{itClusterID, "yesterday", op, 1},
			[]string{".proc_cas", "argument 2 (predicate)"}},
		{"cas with an unknown op kind", ".proc_cas", []any{itClusterID, pred, map[string]any{"kind": "frobnicate"}, 1},
			[]string{".proc_cas", "argument 3 (op)", "frobnicate"}},
		{"cas with a boolean as_user", ".proc_cas", []any{itClusterID, pred, op, true},
			[]string{".proc_cas", "argument 4 (as_user)", "not a user id or name"}},
		{"snapshot chunk with two arguments", ".proc_raft_snapshot_next_chunk", []any{1, 2},
			[]string{".proc_raft_snapshot_next_chunk", "expected 3 arguments"}},
		{"raft_interact with a string", ".proc_raft_interact", []any{"not messages"},
			[]string{".proc_raft_interact", "argument 1 (raft_messages)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := call(conn, c.fn, c.args...)
			requireCode(t, err, iproto.ER_ILLEGAL_PARAMS, c.fragments...)
		})
	}

	// Nothing was written, and the instance still serves.
	rows, err := selectRows(conn, spaceProperty, "bad-key")
	if err != nil || len(rows) != 0 {
		t.Fatalf("_pico_property[bad-key] = %#v, %v; want no row", rows, err)
	}
	if info, err := raftInfoOf(conn); err != nil || info.State != "Leader" {
		t.Fatalf(".proc_raft_info after the bad calls: %+v, %v", info, err)
	}
}

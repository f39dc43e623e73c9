package node

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/sharding"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
)

// routerSolo is a solo instance after the governor's bootstrap: its tier
// (DefaultTier, 3000 buckets) owns 1..3000 on its replicaset storage_1,
// whose master it is. Its tables also hold:
//   - tier cold (30 buckets) on instances elsewhere: replicaset r2 (master
//     i2, replica i3) owns 1..15, r3 (master i4) owns 16..30;
//   - tier warm, bootstrapped by nobody: no bucket has an owner.
//
// Sharded tables (fields: id unsigned, the primary key, then bucket_id):
// orders (id, name; sharded by id) on DefaultTier, events (id, kind;
// sharded by kind, not within the primary key) on DefaultTier, cold_orders
// (as orders) on cold, warm_orders (as orders) on warm.
//
// Calls to i2, i3 and i4 (but Raft messages) go to answer, if set, and
// are logged as "to proc"; else they fail as if nobody listened.
type routerSolo struct {
	*solo
	log    []string
	answer func(to string, req api.Request) (any, *api.Error)
}

func newRouterSolo(t *testing.T) *routerSolo {
	s := &routerSolo{solo: newSoloWith(t, Config{SentinelTimeout: time.Hour})}
	for range 100 { // the governor makes storage_1 ready, its master, and bootstraps its tier
		s.n.Tick()
		s.settle()
	}
	require.Equal(t, []BucketRange{{Replicaset: "storage_1", First: 1, Last: tables.DefaultBucketCount}}, s.n.governor.bucketMap())

	var ops []tables.Dml
	for _, tier := range []tables.Tier{
		{Name: "cold", ReplicationFactor: 2, CurrentVshardConfigVersion: 1, TargetVshardConfigVersion: 1, VshardBootstrapped: true, BucketCount: 30},
		{Name: "warm", ReplicationFactor: 1, CurrentVshardConfigVersion: 1, TargetVshardConfigVersion: 1, VshardBootstrapped: true, BucketCount: 30},
	} {
		ops = append(ops, tables.Replace(tables.TablePicoTier, tier.Tuple()...))
	}
	for _, rs := range []tables.Replicaset{
		{ReplicasetID: "r2", ReplicasetUUID: "r2-uuid", CurrentMasterID: "i2", TargetMasterID: "i2", Tier: "cold", Weight: 1,
			State: tables.ReplicasetReady, CurrentConfigVersion: 1, TargetConfigVersion: 1},
		{ReplicasetID: "r3", ReplicasetUUID: "r3-uuid", CurrentMasterID: "i4", TargetMasterID: "i4", Tier: "cold", Weight: 1,
			State: tables.ReplicasetReady, CurrentConfigVersion: 1, TargetConfigVersion: 1},
	} {
		ops = append(ops, tables.Replace(tables.TablePicoReplicaset, rs.Tuple()...))
	}
	for _, m := range []struct {
		id uint64
		rs string
	}{{2, "r2"}, {3, "r2"}, {4, "r3"}} {
		id, rs := m.id, m.rs
		name := fmt.Sprintf("i%d", id)
		i := tables.Instance{InstanceID: name, InstanceUUID: name + "-uuid", RaftID: id, ReplicasetID: rs,
			ReplicasetUUID: rs + "-uuid", Current: tables.Grade{Variant: tables.GradeOnline, Incarnation: 1},
			Target: tables.Grade{Variant: tables.GradeOnline, Incarnation: 1}, FailureDomain: map[string]string{}, Tier: "cold"}
		ops = append(ops, tables.Replace(tables.TablePicoInstance, i.Tuple()...),
			tables.Replace(tables.TablePicoPeerAddress, id, name))
	}
	for _, b := range []tables.BucketRange{
		{Tier: "cold", First: 1, Last: 15, ReplicasetID: "r2", State: tables.BucketActive},
		{Tier: "cold", First: 16, Last: 30, ReplicasetID: "r3", State: tables.BucketActive},
	} {
		ops = append(ops, tables.Replace(tables.TablePicoBucket, b.Tuple()...))
	}
	r := s.cas(s.pred(), tables.BatchOp(ops...))
	require.Nil(t, r.Err, "%v", r.Err)

	for _, d := range []struct{ name, tier, shardBy, second string }{
		{"orders", DefaultTier, "id", "name"},
		{"events", DefaultTier, "kind", "kind"},
		{"cold_orders", "cold", "id", "name"},
		{"warm_orders", "warm", "id", "name"},
	} {
		def := schema.TableDef{Name: d.name, Distribution: schema.DistributionSharded, Tier: d.tier,
			ShardingKey: []string{d.shardBy},
			Format:      []schema.Field{{Name: "id", Type: tuple.TypeUnsigned}, {Name: d.second, Type: tuple.TypeString}},
			PrimaryKey:  []uint32{0}}
		// Two-phase DDL, committed here before the next tick.
		r := s.cas(s.pred(), tables.PrepareCreateTableOp(def, 0))
		require.Nil(t, r.Err, "prepare create %s: %v", d.name, r.Err)
		r = s.cas(s.pred(), tables.DdlCommitOp(0))
		require.Nil(t, r.Err, "commit create %s: %v", d.name, r.Err)
	}
	s.elsewhere = func(e OutCall) bool {
		if e.To == "i1" || e.Request.Proc() == ".proc_raft_interact" || s.answer == nil {
			return false
		}
		s.log = append(s.log, e.To+" "+e.Request.Proc())
		result, err := s.answer(e.To, e.Request)
		s.n.CallDone(e.ID, result, err)
		return true
	}
	return s
}

// routed sends req and ticks until it is answered, at most ticks times.
func (s *routerSolo) routed(req api.Request, ticks int) Reply {
	s.t.Helper()
	s.next++
	id := s.next
	s.n.Call(id, "admin", req)
	s.settle()
	for range ticks {
		if r, ok := s.replies[id]; ok {
			return r
		}
		s.n.Tick()
		s.settle()
	}
	r, ok := s.replies[id]
	require.True(s.t, ok, "no reply to %s within %d ticks", req.Proc(), ticks)
	return r
}

// answered requires r answered without an error, and returns its values.
func answered(t *testing.T, r Reply) []any {
	t.Helper()
	require.Nil(t, r.Err, "%v", r.Err)
	return r.Values
}

func bucketOf(t *testing.T, key any, count uint64) uint64 {
	t.Helper()
	b, err := sharding.BucketID([]any{key}, count)
	require.NoError(t, err)
	return b
}

// uints reads a row's unsigned fields (the others as they are).
func uints(row any) []any {
	out := []any{}
	for _, v := range row.([]any) {
		if u, ok := tuple.AsUint64(v); ok {
			v = u
		}
		out = append(out, v)
	}
	return out
}

// keysOf are the ids (the first fields) of rows.
func keysOf(rows any) []uint64 {
	var out []uint64
	for _, row := range rows.([]any) {
		id, _ := tuple.AsUint64(row.([]any)[0])
		out = append(out, id)
	}
	return out
}

// Routed writes and reads on a table of this instance's own tier: the
// router computes bucket_id, and the requests are served here (this
// instance is the owner's master).
func TestRouterLocal(t *testing.T) {
	s := newRouterSolo(t)
	b1 := bucketOf(t, uint64(1), tables.DefaultBucketCount)
	require.Equal(t, uint64(1934), b1, "Picodata's bucket of key 1 (docs/sharding.md)")

	got := answered(t, s.routed(api.RouterInsert{Table: "orders", Tuple: []any{uint64(1), "apple"}}, 1))
	require.Len(t, got, 1)
	require.Equal(t, []any{uint64(1), b1, "apple"}, uints(got[0]), "the stored tuple, bucket_id computed")
	requireCode(t, s.routed(api.RouterInsert{Table: "orders", Tuple: []any{uint64(1), "again"}}, 1), tuple.CodeTupleFound)

	got = answered(t, s.routed(api.RouterGet{Table: "orders", Key: []any{uint64(1)}}, 1))
	require.Len(t, got, 1)
	require.Equal(t, []any{uint64(1), b1, "apple"}, uints(got[0]))
	require.Empty(t, answered(t, s.routed(api.RouterGet{Table: "orders", Key: []any{uint64(2)}}, 1)), "no such row: no values")
	id := s.tableID("orders")
	got = answered(t, s.routed(api.RouterGet{Table: uint64(id), Key: []any{uint64(1)}, Options: map[string]any{"prefer_replica": true}}, 1))
	require.Equal(t, []any{uint64(1), b1, "apple"}, uints(got[0]), "by id; a replicaset without replicas reads from its master")

	got = answered(t, s.routed(api.RouterReplace{Table: "orders", Tuple: []any{uint64(1), "pear"}}, 1))
	require.Equal(t, []any{uint64(1), b1, "pear"}, uints(got[0]))
	got = answered(t, s.routed(api.RouterGet{Table: "orders", Key: []any{uint64(1)}}, 1))
	require.Equal(t, []any{uint64(1), b1, "pear"}, uints(got[0]))

	got = answered(t, s.routed(api.RouterDelete{Table: "orders", Key: []any{uint64(1)}}, 1))
	require.Equal(t, []any{uint64(1), b1, "pear"}, uints(got[0]), "the deleted tuple")
	require.Empty(t, answered(t, s.routed(api.RouterGet{Table: "orders", Key: []any{uint64(1)}}, 1)))

	for _, k := range []uint64{5, 3, 9, 1, 7} {
		answered(t, s.routed(api.RouterInsert{Table: "orders", Tuple: []any{k, fmt.Sprint("n", k)}}, 1))
	}
	got = answered(t, s.routed(api.RouterScan{Table: "orders"}, 1))
	require.Len(t, got, 1, "one value: the array of rows")
	require.Equal(t, []uint64{1, 3, 5, 7, 9}, keysOf(got[0]))
	for _, row := range got[0].([]any) {
		k, _ := tuple.AsUint64(row.([]any)[0])
		require.Equal(t, bucketOf(t, k, tables.DefaultBucketCount), uints(row)[1], "bucket_id of %d", k)
	}
	got = answered(t, s.routed(api.RouterScan{Table: "orders", Limit: 2}, 1))
	require.Equal(t, []uint64{1, 3}, keysOf(got[0]))
	require.Empty(t, s.log, "nothing went elsewhere")

	// Sharded by a field outside the primary key: written by tuple,
	// read by scan.
	got = answered(t, s.routed(api.RouterInsert{Table: "events", Tuple: []any{uint64(1), "click"}}, 1))
	require.Equal(t, []any{uint64(1), bucketOf(t, "click", tables.DefaultBucketCount), "click"}, uints(got[0]))
	got = answered(t, s.routed(api.RouterScan{Table: "events"}, 1))
	require.Equal(t, []uint64{1}, keysOf(got[0]))
}

func (s *routerSolo) tableID(name string) uint32 {
	def, ok := s.n.Tables().TableByName(name)
	require.True(s.t, ok, name)
	return def.ID
}

// Requests the router refuses before routing, with what is wrong.
func TestRouterErrors(t *testing.T) {
	s := newRouterSolo(t)
	tests := []struct {
		name string
		req  api.Request
		code uint32
		msg  string
	}{
		{"unknown table", api.RouterInsert{Table: "nope", Tuple: []any{uint64(1), "x"}}, api.CodeNoSuchSpace,
			".proc_router_insert: Space 'nope' does not exist"},
		{"unknown id", api.RouterGet{Table: uint64(99999), Key: []any{uint64(1)}}, api.CodeNoSuchSpace, "Space '99999' does not exist"},
		{"bad table", api.RouterScan{Table: true}, api.CodeIllegalParams, "true is not a table name or id"},
		{"global", api.RouterInsert{Table: "kv", Tuple: []any{"k", "v"}}, api.CodeTableNotAllowed,
			".proc_router_insert: table kv is global: use .proc_cas"},
		{"global get", api.RouterGet{Table: "kv", Key: []any{"k"}}, api.CodeTableNotAllowed, "table kv is global: use .proc_cas"},
		{"system", api.RouterScan{Table: "_pico_bucket"}, api.CodeTableNotAllowed, "table _pico_bucket is global"},
		{"long tuple", api.RouterInsert{Table: "orders", Tuple: []any{uint64(1), uint64(1934), "apple"}}, api.CodeIllegalParams,
			".proc_router_insert: table orders: a tuple of 3 fields, want 2 (id, name: its format without bucket_id, which the router computes)"},
		{"short tuple", api.RouterReplace{Table: "orders", Tuple: []any{uint64(1)}}, api.CodeIllegalParams, "a tuple of 1 fields, want 2"},
		{"field type", api.RouterInsert{Table: "orders", Tuple: []any{"one", "apple"}}, tuple.CodeFieldType,
			".proc_router_insert: table orders: Tuple field 1 (id) type does not match"},
		{"key outside", api.RouterGet{Table: "events", Key: []any{uint64(1)}}, api.CodeIllegalParams,
			".proc_router_get: table events: its sharding key is not within the primary key: use .proc_router_scan"},
		{"key outside, delete", api.RouterDelete{Table: "events", Key: []any{uint64(1)}}, api.CodeIllegalParams,
			"its sharding key is not within the primary key"},
		{"key parts", api.RouterGet{Table: "orders", Key: []any{uint64(1), uint64(2)}}, tuple.CodeExactMatch,
			".proc_router_get: table orders: Invalid key part count"},
		{"key type", api.RouterDelete{Table: "orders", Key: []any{"one"}}, tuple.CodeKeyPartType, "table orders: Supplied key type"},
		{"option", api.RouterGet{Table: "orders", Key: []any{uint64(1)}, Options: map[string]any{"fast": true}}, api.CodeIllegalParams,
			`unknown option "fast"`},
		{"limit", api.RouterScan{Table: "orders", Limit: -1}, api.CodeIllegalParams, "-1 is not a limit"},
	}
	for _, tt := range tests {
		r := s.routed(tt.req, 0)
		requireCode(t, r, tt.code)
		require.Contains(t, r.Err.Message, tt.msg, tt.name)
	}
	require.Empty(t, s.log)
}

// A tier whose buckets have no owners: the router waits for a map until
// the request's deadline (RequestTimeout, 30 ticks here), then says what it
// waited for.
func TestRouterNoBucketMap(t *testing.T) {
	s := newRouterSolo(t)
	deadline := s.n.cfg.ticks(s.n.cfg.RequestTimeout)
	require.Equal(t, 30, deadline)
	for _, req := range []api.Request{
		api.RouterInsert{Table: "warm_orders", Tuple: []any{uint64(1), "x"}},
		api.RouterGet{Table: "warm_orders", Key: []any{uint64(1)}},
		api.RouterScan{Table: "warm_orders"},
	} {
		s.next++
		id := s.next
		s.n.Call(id, "admin", req)
		s.settle()
		for range deadline - 1 {
			s.n.Tick()
			s.settle()
		}
		_, done := s.replies[id]
		require.False(t, done, "%s: answered before its deadline", req.Proc())
		s.n.Tick()
		s.settle()
		r, done := s.replies[id]
		require.True(t, done, "%s: not answered at its deadline", req.Proc())
		requireCode(t, r, api.CodeTimeout)
		require.Contains(t, r.Err.Message, "router: ")
		require.Contains(t, r.Err.Message, "not bootstrapped", req.Proc())
		require.Contains(t, r.Err.Message, "tier warm")
	}
	require.Empty(t, s.log)
}

// Requests on a tier owned elsewhere go to the owner's master (or, asked
// to, a replica) as Tarantool's requests, and answer what it answered.
func TestRouterRemote(t *testing.T) {
	s := newRouterSolo(t)
	// keys of r2 (buckets 1..15) and of r3 (16..30).
	var r2keys, r3keys []uint64
	for k := uint64(1); len(r2keys) < 3 || len(r3keys) < 3; k++ {
		if bucketOf(t, k, 30) <= 15 {
			r2keys = append(r2keys, k)
		} else {
			r3keys = append(r3keys, k)
		}
	}
	row := func(k uint64, name string) []any { return []any{k, bucketOf(t, k, 30), name} }
	var asked []api.Request
	s.answer = func(to string, req api.Request) (any, *api.Error) {
		asked = append(asked, req)
		switch req := req.(type) {
		case api.Insert:
			return []any{req.Tuple}, nil
		case api.Select:
			if req.Iterator == api.IterALL {
				// A scan: each replicaset's rows in key order.
				keys := r2keys
				if to == "i4" {
					keys = r3keys
				}
				var rows []any
				for _, k := range keys {
					rows = append(rows, row(k, to))
				}
				if req.Limit > 0 && len(rows) > int(req.Limit) {
					rows = rows[:req.Limit]
				}
				return rows, nil
			}
			k, _ := tuple.AsUint64(req.Key[0])
			return []any{row(k, to)}, nil
		}
		return nil, api.Errorf(api.CodeProcLua, "unexpected %s", req.Proc())
	}
	coldID := s.tableID("cold_orders")

	got := answered(t, s.routed(api.RouterInsert{Table: "cold_orders", Tuple: []any{r3keys[0], "plum"}}, 1))
	require.Equal(t, []any{row(r3keys[0], "plum")}, got)
	require.Equal(t, []string{"i4 insert"}, s.log, "r3's master")
	require.Equal(t, api.Insert{Table: coldID, Tuple: row(r3keys[0], "plum")}, asked[0], "the full tuple")

	s.log, asked = nil, nil
	got = answered(t, s.routed(api.RouterGet{Table: "cold_orders", Key: []any{r2keys[0]}}, 1))
	require.Equal(t, []any{row(r2keys[0], "i2")}, got)
	got = answered(t, s.routed(api.RouterGet{Table: "cold_orders", Key: []any{r2keys[0]}, Options: map[string]any{"prefer_replica": true}}, 1))
	require.Equal(t, []any{row(r2keys[0], "i3")}, got)
	require.Equal(t, []string{"i2 select", "i3 select"}, s.log, "the master, then r2's replica")
	require.Equal(t, api.Select{Table: coldID, Key: []any{r2keys[0]}, Limit: 1, Iterator: api.IterEQ}, asked[0])

	// A scan merges the replicasets' rows by primary key.
	s.log = nil
	got = answered(t, s.routed(api.RouterScan{Table: "cold_orders"}, 1))
	want := []uint64{}
	for i, j := 0, 0; i < 3 || j < 3; {
		if j == 3 || (i < 3 && r2keys[i] < r3keys[j]) {
			want, i = append(want, r2keys[i]), i+1
		} else {
			want, j = append(want, r3keys[j]), j+1
		}
	}
	require.Equal(t, want, keysOf(got[0]))
	require.NotEqual(t, append(append([]uint64{}, r2keys...), r3keys...), want, "the keys interleave: the merge is tested")
	require.Equal(t, []string{"i2 select", "i4 select"}, s.log, "every replicaset's master, in replicaset order")
	got = answered(t, s.routed(api.RouterScan{Table: "cold_orders", Limit: 4}, 1))
	require.Equal(t, want[:4], keysOf(got[0]))
}

// A storage whose map is newer than this instance's (CodeWrongBucket at a
// Raft index not applied here): the router waits until this instance has
// applied that index, then routes again from the new map.
func TestRouterWrongBucketWaitsForTheIndex(t *testing.T) {
	s := newRouterSolo(t)
	key := uint64(1)
	for bucketOf(t, key, 30) > 15 {
		key++
	}
	for range 20 { // the governor has a step left to take after the setup
		s.n.Tick()
		s.settle()
	}
	future := s.n.Status().Applied + 1
	s.answer = func(to string, req api.Request) (any, *api.Error) {
		if to == "i2" {
			return nil, &api.Error{Code: api.CodeWrongBucket, Message: "bucket moved", Index: future}
		}
		return []any{[]any{key, bucketOf(t, key, 30), to}}, nil
	}
	s.next++
	id := s.next
	s.n.Call(id, "admin", api.RouterGet{Table: "cold_orders", Key: []any{key}})
	s.settle()
	for range 10 {
		s.n.Tick()
		s.settle()
	}
	require.Less(t, s.n.Status().Applied, future)
	require.Equal(t, []string{"i2 select"}, s.log, "no retry before the index is applied")
	_, done := s.replies[id]
	require.False(t, done)

	// The entry at that index: r2's buckets now belong to r3 (master i4).
	r := s.cas(s.pred(), tables.DmlOp(tables.Replace(tables.TablePicoBucket,
		tables.BucketRange{Tier: "cold", First: 1, Last: 15, ReplicasetID: "r3", State: tables.BucketActive}.Tuple()...)))
	require.Nil(t, r.Err)
	require.GreaterOrEqual(t, s.n.Status().Applied, future)
	s.n.Tick()
	s.settle()
	rep, done := s.replies[id]
	require.True(t, done)
	require.Equal(t, []any{[]any{key, bucketOf(t, key, 30), "i4"}}, answered(t, rep))
	require.Equal(t, []string{"i2 select", "i4 select"}, s.log)
}

// An owner nobody answers for: the router retries until the deadline, then
// says so; a storage's own timeout is passed on at once (the write may have
// happened).
func TestRouterUnreachableOwner(t *testing.T) {
	s := newRouterSolo(t)
	key := uint64(1)
	for bucketOf(t, key, 30) <= 15 {
		key++
	}
	r := s.routed(api.RouterInsert{Table: "cold_orders", Tuple: []any{key, "x"}}, 40)
	requireCode(t, r, api.CodeTimeout)
	require.Contains(t, r.Err.Message, fmt.Sprintf("router: bucket %d of tier cold: no answer within 30 ticks", bucketOf(t, key, 30)))
	require.Contains(t, r.Err.Message, "no connection from i4")

	s.answer = func(string, api.Request) (any, *api.Error) {
		return nil, api.Errorf(api.CodeTimeout, "the write is not confirmed yet")
	}
	r = s.routed(api.RouterInsert{Table: "cold_orders", Tuple: []any{key, "x"}}, 1)
	requireCode(t, r, api.CodeTimeout)
	require.Equal(t, "the write is not confirmed yet", r.Err.Message)
	require.Equal(t, []string{"i4 insert"}, s.log, "not retried")
}

package node

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/sharding"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
)

// routerModule is the module that routes requests on sharded tables: the
// routed procedures (`.proc_router_insert`, `_replace`, `_delete`, `_get`,
// `_scan`) compute a row's or a key's bucket, and a sharding.Router sends
// the storage request (Tarantool's INSERT, REPLACE, DELETE or SELECT) to
// the replicaset that owns it as this instance has applied _pico_bucket,
// retrying redirects until the request's deadline (the instance's
// RequestTimeout). Any instance routes, whatever its tier.
//
// The router reads this instance's applied tables through the node's
// placement (placement.go); the module carries its effects out: a Call to this instance's own address is
// served here directly (as pico_service, like a call that came over the
// wire), any other is an OutCall; its answer goes back to the router. A
// Done answers the client that asked. The router's clock is the node's
// tick (tickRoute), and routes waiting for a Raft index go on once it is
// applied (checked on every tick and after every event of the module).
//
// Retries wait routerRetryTicks: half an election timeout (at least one
// tick), long enough for a new master or a new bucket map to be applied,
// short enough to fit several retries in a request timeout (three election
// timeouts by default).
type routerModule struct {
	*Node
	r    *sharding.Router
	next sharding.RouteID
	// pending are the routes not done yet: whom to answer, and how.
	pending map[sharding.RouteID]routed
	// applied is the Raft index the router last heard was applied.
	applied  uint64
	draining bool
}

// routed is a route's client: finish turns the router's results (one per
// part) into the return values.
type routed struct {
	respond responder
	finish  func(results []any) ([]any, *api.Error)
}

func routerRetryTicks(cfg Config) int { return max(1, cfg.Raft.ElectionTick/2) }

func newRouter(n *Node) *routerModule {
	return &routerModule{Node: n, pending: map[sharding.RouteID]routed{},
		r: sharding.NewRouter(sharding.RouterConfig{RetryTicks: routerRetryTicks(n.cfg)}, n.placement)}
}

func (m *routerModule) register(r *registry) {
	serve(r, running, m.insert)
	serve(r, running, m.replace)
	serve(r, running, m.delete)
	serve(r, running, m.get)
	serve(r, running, m.scan)
	r.tick(tickRoute, running, func() {
		m.r.Tick()
		m.drain()
	})
}

func (m *routerModule) insert(_ string, r api.RouterInsert, respond responder) {
	m.write(r.Proc(), r.Table, r.Tuple, false, respond)
}

func (m *routerModule) replace(_ string, r api.RouterReplace, respond responder) {
	m.write(r.Proc(), r.Table, r.Tuple, true, respond)
}

// write routes an INSERT (a REPLACE) of row, the table's fields without
// bucket_id, with its bucket_id computed, to the master owning the bucket.
func (m *routerModule) write(proc string, table any, row []any, replace bool, respond responder) {
	def, count, e := m.shardedTable(proc, table, true)
	if e != nil {
		respond(nil, e)
		return
	}
	pos, ok := def.FieldIndex(schema.BucketIDField)
	if !ok {
		respond(nil, api.Errorf(api.CodeProcLua, "%s: table %s has no %s field", proc, def.Name, schema.BucketIDField))
		return
	}
	if want := len(def.Format) - 1; len(row) != want {
		respond(nil, api.Errorf(api.CodeIllegalParams,
			"%s: table %s: a tuple of %d fields, want %d (%s: its format without %s, which the router computes)",
			proc, def.Name, len(row), want, strings.Join(slices.Delete(def.FieldNames(), pos, pos+1), ", "), schema.BucketIDField))
		return
	}
	full := slices.Insert(slices.Clone(row), pos, any(uint64(1)))
	if te := def.CheckTuple(full); te != nil {
		respond(nil, &api.Error{Code: te.Code, Message: fmt.Sprintf("%s: table %s: %s", proc, def.Name, te.Message)})
		return
	}
	bucket, err := sharding.RowBucket(def, full, count)
	if err != nil {
		respond(nil, api.Errorf(api.CodeIllegalParams, "%s: table %s: %v", proc, def.Name, err))
		return
	}
	full[pos] = bucket
	var call api.Request = api.Insert{Table: def.ID, Tuple: full}
	if replace {
		call = api.Replace{Table: def.ID, Tuple: full}
	}
	m.route(sharding.Request{Tier: def.Tier, Bucket: bucket, Write: true, Call: call}, respond, firstValues)
}

func (m *routerModule) delete(_ string, r api.RouterDelete, respond responder) {
	def, bucket, e := m.keyBucket(r.Proc(), r.Table, r.Key, true)
	if e != nil {
		respond(nil, e)
		return
	}
	m.route(sharding.Request{Tier: def.Tier, Bucket: bucket, Write: true,
		Call: api.Delete{Table: def.ID, Index: 0, Key: r.Key}}, respond, firstValues)
}

func (m *routerModule) get(_ string, r api.RouterGet, respond responder) {
	if err := r.CheckArgs(); err != nil { // proc checked a call from the wire
		respond(nil, api.Errorf(api.CodeIllegalParams, "%s: %v", r.Proc(), err))
		return
	}
	def, bucket, e := m.keyBucket(r.Proc(), r.Table, r.Key, false)
	if e != nil {
		respond(nil, e)
		return
	}
	m.route(sharding.Request{Tier: def.Tier, Bucket: bucket, PreferReplica: r.PreferReplica(),
		Call: api.Select{Table: def.ID, Key: r.Key, Limit: 1, Index: 0, Iterator: api.IterEQ}}, respond,
		func(results []any) ([]any, *api.Error) {
			rows := resultValues(results[0])
			if len(rows) == 0 {
				return nil, nil
			}
			return rows[:1], nil
		})
}

// scan reads every row of the table from the master of every replicaset
// owning buckets of its tier, and answers them as one array sorted by
// primary key (tuple.Compare's order, the storage's), cut to the limit.
// Each storage is asked for at most limit rows: its first ones in key
// order, which include its share of the first limit overall.
func (m *routerModule) scan(_ string, r api.RouterScan, respond responder) {
	if err := r.CheckArgs(); err != nil { // proc checked a call from the wire
		respond(nil, api.Errorf(api.CodeIllegalParams, "%s: %v", r.Proc(), err))
		return
	}
	def, _, e := m.shardedTable(r.Proc(), r.Table, false)
	if e != nil {
		respond(nil, e)
		return
	}
	m.route(sharding.Request{Tier: def.Tier, Scan: true,
		Call: api.Select{Table: def.ID, Limit: uint32(min(r.Limit, math.MaxUint32)), Index: 0, Iterator: api.IterALL}}, respond,
		func(results []any) ([]any, *api.Error) {
			var rows [][]any
			for _, res := range results {
				for _, row := range resultValues(res) {
					t, ok := row.([]any)
					if !ok {
						return nil, api.Errorf(api.CodeProcLua, "%s: table %s: a storage answered %v, not a tuple", r.Proc(), def.Name, row)
					}
					rows = append(rows, t)
				}
			}
			slices.SortStableFunc(rows, func(a, b []any) int { return tuple.CompareValues(def.KeyValues(a), def.KeyValues(b)) })
			if r.Limit > 0 && int64(len(rows)) > r.Limit {
				rows = rows[:r.Limit]
			}
			out := make([]any, len(rows))
			for i, row := range rows {
				out[i] = row
			}
			return []any{out}, nil
		})
}

// firstValues: a point request answers what its storage answered.
func firstValues(results []any) ([]any, *api.Error) { return resultValues(results[0]), nil }

// shardedTable resolves a routed procedure's table: a sharded table (for a
// write: one whose schema is not changing), and its tier's bucket count.
func (m *routerModule) shardedTable(proc string, table any, write bool) (schema.TableDef, uint64, *api.Error) {
	name, id, err := api.TableName(table)
	if err != nil {
		return schema.TableDef{}, 0, api.Errorf(api.CodeIllegalParams, "%s: %v", proc, err)
	}
	var def *schema.TableDef
	var ok bool
	if name != "" {
		def, ok = m.tables.TableByName(name)
	} else {
		def, ok = m.tables.Table(id)
	}
	switch {
	case !ok:
		return schema.TableDef{}, 0, api.Errorf(api.CodeNoSuchSpace, "%s: Space '%v' does not exist", proc, table)
	case !def.IsSharded():
		return schema.TableDef{}, 0, api.Errorf(api.CodeTableNotAllowed,
			"%s: table %s is global: use .proc_cas", proc, def.Name)
	case write && !def.Operable:
		return schema.TableDef{}, 0, api.Errorf(api.CodeTableNotOper,
			"%s: TableNotOperable: table %s is not operable: a schema change on it is pending", proc, def.Name)
	}
	topo := m.placement.topology()
	tier, ok := topo.Tier(def.Tier)
	if !ok || tier.BucketCount == 0 {
		return schema.TableDef{}, 0, api.Errorf(api.CodeIllegalParams, "%s: table %s: its tier %s has no bucket count", proc, def.Name, def.Tier)
	}
	return def.Clone(), tier.BucketCount, nil
}

// keyBucket resolves the table and the bucket of a primary key.
func (m *routerModule) keyBucket(proc string, table any, key []any, write bool) (schema.TableDef, uint64, *api.Error) {
	def, count, e := m.shardedTable(proc, table, write)
	if e != nil {
		return def, 0, e
	}
	if _, te := def.EncodeKey(key); te != nil {
		return def, 0, &api.Error{Code: te.Code, Message: fmt.Sprintf("%s: table %s: %s", proc, def.Name, te.Message)}
	}
	bucket, ok, err := sharding.KeyBucket(def, key, count)
	switch {
	case err != nil:
		return def, 0, api.Errorf(api.CodeIllegalParams, "%s: table %s: %v", proc, def.Name, err)
	case !ok:
		return def, 0, api.Errorf(api.CodeIllegalParams,
			"%s: table %s: its sharding key is not within the primary key: use .proc_router_scan", proc, def.Name)
	}
	return def, bucket, nil
}

// route hands req to the router, finish answering respond when it is done.
func (m *routerModule) route(req sharding.Request, respond responder, finish func([]any) ([]any, *api.Error)) {
	m.routeWithin(req, m.cfg.ticks(m.cfg.RequestTimeout), respond, finish)
}

// routeWithin is route with a deadline of its own, in ticks.
func (m *routerModule) routeWithin(req sharding.Request, ticks int, respond responder, finish func([]any) ([]any, *api.Error)) {
	m.next++
	req.Deadline = ticks
	m.pending[m.next] = routed{respond: respond, finish: finish}
	m.r.Route(m.next, req)
	m.drain()
}

// drain tells the router about a newly applied index and carries out its
// effects until it has none. Answers may come while it runs (a call served
// here at once): the outer drain carries out what they made.
func (m *routerModule) drain() {
	if m.draining {
		return
	}
	m.draining = true
	defer func() { m.draining = false }()
	for {
		if a := m.placement.Applied(); a != m.applied {
			m.applied = a
			m.r.Applied()
		}
		effects := m.r.TakeEffects()
		if len(effects) == 0 {
			return
		}
		for _, e := range effects {
			m.carryOut(e)
		}
	}
}

func (m *routerModule) carryOut(e sharding.Effect) {
	switch e := e.(type) {
	case sharding.Call:
		id := e.ID
		answer := func(result any, err *api.Error) {
			m.r.Answer(id, result, err)
			m.drain()
		}
		if m.isSelf(e.To) {
			m.handle(tables.PicoServiceName, e.Request, func(values []any, err *api.Error) {
				if err != nil {
					answer(nil, err)
					return
				}
				answer(values, nil)
			})
			return
		}
		m.callWithin(e.To, e.Request, time.Duration(e.Ticks)*m.cfg.Tick, answer)
	case sharding.Done:
		p, ok := m.pending[e.ID]
		if !ok {
			return
		}
		delete(m.pending, e.ID)
		if e.Err != nil {
			p.respond(nil, e.Err)
			return
		}
		p.respond(p.finish(e.Results))
	default:
		panic(fmt.Sprintf("node: unknown router effect %T", e))
	}
}

// isSelf reports whether addr is this instance's own address.
func (m *routerModule) isSelf(addr string) bool {
	if addr == m.cfg.Self.Address {
		return true
	}
	own, ok := m.address(m.identity.RaftID)
	return ok && own == addr
}

package chaos

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
	lin "github.com/picogo/picogo/linearizability"
	"github.com/picogo/picogo/workload"
)

// The sharded workload (Config.Sharded): a synchronous tier of
// replication factor 2, four instances (two replicasets) at the start, a
// sharded table kv written with .proc_router_replace and read with
// .proc_router_get through random instances; during the fault cycles a
// third replicaset joins (two more instances) and, later, one of the first
// two is drained (weight 0).

const (
	// shardedInstances and shardedExtra: the instances at the start and
	// those that join during the run (one more replicaset).
	shardedInstances = 4
	shardedExtra     = 2
	// shardedTier is the instances' tier (picogo run's default --tier).
	shardedTier = "storage"
	// routerTimeout bounds a router call: the router may wait for a
	// bucket being sent, or for a replicaset's new master.
	routerTimeout = 4 * time.Second
	// restTimeout bounds the wait for the buckets to come to rest after
	// the faults.
	restTimeout = 3 * time.Minute
)

// shardedInitCfg is the init-cfg of the sharded run: one synchronous tier
// of replication factor 2.
const shardedInitCfg = `cluster:
  tiers:
    storage:
      replication_factor: 2
      replication_mode: sync
      bucket_count: 3000
`

// shardedDef is the sharded kv table: key and value strings, sharded by key
// (murmur3) over the tier storage. Its stored format is {key, bucket_id,
// value}: the DDL adds bucket_id after the primary key.
var shardedDef = schema.TableDef{ID: workload.Table, Name: "kv", Distribution: schema.DistributionSharded,
	Engine: "memtx", Owner: tables.AdminID,
	Format:      []schema.Field{{Name: "key", Type: "string"}, {Name: "value", Type: "string"}},
	PrimaryKey:  []uint32{0},
	ShardingKey: []string{"key"}, ShardingFn: schema.ShardingFnMurmur3, Tier: shardedTier}

// writeInitCfg writes the sharded run's init-cfg into dir and returns the
// flags that give it to an instance.
func writeInitCfg(dir string) ([]string, error) {
	path := filepath.Join(dir, "init-cfg.yaml")
	if err := os.WriteFile(path, []byte(shardedInitCfg), 0o644); err != nil {
		return nil, err
	}
	return []string{"--init-cfg", path}, nil
}

// createShardedTable is createTable for shardedDef.
func createShardedTable(r *rpc, leader *instance) error {
	return createTableDef(r, leader, shardedDef)
}

// routerGet reads key through the router of addr: Ok with the value (or
// not found) when it answered, Unknown otherwise.
func routerGet(r *rpc, addr, key string) (lin.Outcome, *api.Error, error) {
	unknown := lin.Outcome{Kind: lin.Unknown}
	res, e, err := r.call(addr, api.RouterGet{Table: shardedDef.Name, Key: []any{key}}, routerTimeout)
	if err != nil || e != nil {
		return unknown, e, err
	}
	vals, ok := res.([]any)
	if !ok {
		return unknown, nil, fmt.Errorf(".proc_router_get(%s) answered %#v", key, res)
	}
	if len(vals) == 0 || (len(vals) == 1 && vals[0] == nil) {
		return lin.Outcome{Kind: lin.Ok}, nil, nil
	}
	row, ok := vals[0].([]any)
	if len(vals) != 1 || !ok || len(row) != 3 {
		return unknown, nil, fmt.Errorf(".proc_router_get(%s) answered %#v", key, res)
	}
	if k, _ := row[0].(string); k != key {
		return unknown, nil, fmt.Errorf(".proc_router_get(%s) answered the row of %#v", key, row[0])
	}
	v, ok := row[2].(string)
	if !ok {
		return unknown, nil, fmt.Errorf(".proc_router_get(%s): value %#v is not a string", key, row[2])
	}
	return lin.Outcome{Kind: lin.Ok, Value: v, Found: true}, nil, nil
}

// routerRefused is the outcome of a .proc_router_replace the instance
// answered with an error. Only a refusal of the call's arguments is sure
// to have done nothing (Failed); any other error may come after the
// router sent the write to a storage — a storage's timeout waiting for its
// replica's quorum, a connection lost mid-call — so it is Unknown.
func routerRefused(e *api.Error) lin.OutcomeKind {
	switch e.Code {
	case api.CodeIllegalParams, api.CodeNoSuchSpace:
		return lin.Failed
	default:
		return lin.Unknown
	}
}

// shardedOperate is client.operate for the sharded workload: a read
// (.proc_router_get) or a Put (.proc_router_replace) of a random key
// through a random instance.
func (c *client) shardedOperate() bool {
	key := c.key()
	c.target = c.w.c.random(c.rng)
	if c.rng.IntN(10) < 4 {
		c.w.stats.reads.Add(1)
		id := c.w.history.Call(c.id, lin.Get(key), c.w.now())
		out, _, _ := routerGet(c.rpc, c.target.addr, key)
		c.w.history.Return(id, out, c.w.now())
		if out.Kind == lin.Unknown {
			c.w.stats.unknown.Add(1)
			return false
		}
		c.w.stats.readsOk.Add(1)
		return true
	}
	val := c.value()
	op := lin.Put(key, val)
	c.w.stats.writes.Add(1)
	id := c.w.history.Call(c.id, op, c.w.now())
	_, e, err := c.rpc.call(c.target.addr, api.RouterReplace{Table: shardedDef.Name, Tuple: []any{key, val}}, routerTimeout)
	out := lin.Outcome{Kind: lin.Ok}
	switch {
	case err != nil:
		out.Kind = lin.Unknown
	case e != nil:
		out.Kind = routerRefused(e)
	}
	c.w.history.Return(id, out, c.w.now())
	c.w.recordWrite(writeRecord{Client: c.id, Op: op, Out: out.Kind})
	switch out.Kind {
	case lin.Ok:
		c.w.stats.acked.Add(1)
	case lin.Unknown:
		c.w.stats.unknown.Add(1)
	}
	return err == nil && e == nil
}

// routable checks that every member routes a read of k0.
func (r *runner) routable(admin *rpc) error {
	for _, in := range r.c.members() {
		out, e, err := routerGet(admin, in.addr, "k0")
		if out.Kind != lin.Ok {
			return fmt.Errorf("%s: .proc_router_get: %v%v", in.name, err, e)
		}
	}
	return nil
}

// addReplicaset starts the extra instances and waits until they are
// Online; then they become members (targets of clients and faults).
func (r *runner) addReplicaset(ctx context.Context) error {
	began := time.Now()
	var names []string
	for _, in := range r.extra {
		if err := in.start(); err != nil {
			return err
		}
		names = append(names, in.name)
	}
	err := eventually(ctx, 90*time.Second, strings.Join(names, ", ")+" join and come Online", func() error {
		for _, in := range r.extra {
			cur, target, err := r.c.grades(in)
			if err != nil {
				return fmt.Errorf("%s: %v", in.name, err)
			}
			if cur != "Online" || target != "Online" {
				return fmt.Errorf("%s is %s, target %s", in.name, cur, target)
			}
		}
		infos, errs := r.c.infos(r.extra)
		for in, err := range errs {
			return fmt.Errorf("%s: %v", in.name, err)
		}
		r.c.learnIDs(infos)
		return nil
	})
	if err != nil {
		r.c.problem("adding a replicaset: %v", err)
		r.out("adding a replicaset (%s): FAILED: %v", strings.Join(names, ", "), err)
		// They are members all the same: the end waits for them.
	} else {
		r.out("replicaset added: %s Online (%.1fs)", strings.Join(names, ", "), time.Since(began).Seconds())
	}
	r.c.addMembers(r.extra...)
	return nil
}

// replicasets is _pico_replicaset on in: id → weight.
func (r *runner) replicasets(in *instance) (map[string]float64, error) {
	rows, e, err := r.c.probe.rows(in.addr, tables.TablePicoReplicaset, nil, probeTimeout)
	if err == nil && e != nil {
		err = e
	}
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, row := range rows {
		if len(row) < 6 {
			return nil, fmt.Errorf("_pico_replicaset row %v", row)
		}
		id, _ := row[0].(string)
		w, ok := row[5].(float64)
		if !ok {
			if u, ok := tuple.AsUint64(row[5]); ok {
				w = float64(u)
			}
		}
		out[id] = w
	}
	return out, nil
}

// drain sets the weight of the first replicaset (by name) to 0 through a
// random member, and remembers it.
func (r *runner) drain(ctx context.Context) error {
	var target string
	err := eventually(ctx, 30*time.Second, "draining a replicaset", func() error {
		in := r.c.random(r.rng)
		if target == "" {
			rs, err := r.replicasets(in)
			if err != nil {
				return fmt.Errorf("%s: %v", in.name, err)
			}
			ids := slices.Sorted(func(yield func(string) bool) {
				for id := range rs {
					if !yield(id) {
						return
					}
				}
			})
			if len(ids) == 0 {
				return errors.New("no replicaset")
			}
			target = ids[0]
		}
		_, e, err := r.admin.call(in.addr, api.ReplicasetWeight{ClusterID: clusterID, ReplicasetID: target, Weight: 0}, routerTimeout)
		if err == nil && e != nil {
			err = e
		}
		if err != nil {
			return fmt.Errorf("%s: .proc_replicaset_weight(%s, 0): %v", in.name, target, err)
		}
		return nil
	})
	if err != nil {
		r.c.problem("%v", err)
		r.out("drain: FAILED: %v", err)
		return nil
	}
	r.drained = target
	r.out("replicaset %s drained (weight 0)", target)
	return nil
}

// atRest checks, on the leader, that no bucket range is sending or has
// garbage, that the drained replicaset owns none, and that the governor is
// idle.
func (r *runner) atRest(leader *instance) error {
	rows, e, err := r.c.probe.rows(leader.addr, tables.TablePicoBucket, nil, probeTimeout)
	if err == nil && e != nil {
		err = e
	}
	if err != nil {
		return err
	}
	owners := map[string]uint64{}
	for _, row := range rows {
		if len(row) < 7 {
			return fmt.Errorf("_pico_bucket row %v", row)
		}
		first, _ := tuple.AsUint64(row[1])
		last, _ := tuple.AsUint64(row[2])
		owner, _ := row[3].(string)
		state, _ := row[4].(string)
		garbage, _ := row[6].(string)
		if state != "active" {
			return fmt.Errorf("buckets %d..%d of %s are %s", first, last, owner, state)
		}
		if garbage != "" {
			return fmt.Errorf("buckets %d..%d have garbage on %s", first, last, garbage)
		}
		owners[owner] += last - first + 1
	}
	if n := owners[r.drained]; r.drained != "" && n > 0 {
		return fmt.Errorf("drained replicaset %s still owns %d buckets", r.drained, n)
	}
	status, err := r.c.governor(leader)
	if err != nil {
		return err
	}
	if status != "idle" {
		return fmt.Errorf("the governor is %q", status)
	}
	r.owners = owners
	return nil
}

// shardedFinish is finish for the sharded workload: bring every member
// back, wait for the cluster to settle and the buckets to come to rest,
// then read every key once through the router (into the history).
func (r *runner) shardedFinish(ctx context.Context) (evidence, error) {
	ev := evidence{history: &r.w.history, final: map[string]finalValue{}, replicas: map[string]map[string]string{}, unordered: true}
	leader, err := r.bringBackAndSettle(ctx, 2*time.Minute)
	if err != nil {
		return ev, err
	}
	began := time.Now()
	err = eventually(ctx, restTimeout, "the buckets come to rest", func() error {
		if l := r.c.leader(); l != nil {
			leader = l
		}
		return r.atRest(leader)
	})
	if err != nil {
		return ev, err
	}
	r.out("buckets at rest (%.1fs): %v", time.Since(began).Seconds(), r.owners)
	finalClient := r.cfg.Clients
	for k := range r.cfg.Keys {
		key := fmt.Sprintf("k%d", k)
		err := eventually(ctx, 30*time.Second, "final read of "+key, func() error {
			in := r.c.random(r.rng)
			id := r.w.history.Call(finalClient, lin.Get(key), r.w.now())
			out, e, err := routerGet(r.admin, in.addr, key)
			r.w.history.Return(id, out, r.w.now())
			if out.Kind != lin.Ok {
				return fmt.Errorf("%s: %v%v", in.name, err, e)
			}
			ev.final[key] = finalValue{Value: out.Value, Found: out.Found}
			return nil
		})
		if err != nil {
			return ev, err
		}
	}
	return ev, nil
}

package sim

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/node"
	"github.com/picogo/picogo/core/replication"
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/sharding"
	"github.com/picogo/picogo/core/storage"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
	lin "github.com/picogo/picogo/linearizability"
)

// User data in a seed's world (docs/simulator.md, "User data"): the setup
// creates a sharded table in the first tier through two-phase DDL; clients
// replace rows on the replicasets' masters (following a replica's refusal
// to the master it names) and select them anywhere; in some seeds a DDL
// client creates and drops further sharded tables during the fault phase.
// The writes, and a read of every key on its replicaset's master once the
// world is at rest, form a history of their own: in a synchronous tier it
// must be linearizable (an asynchronous tier may lose acknowledged writes
// on a failover, by design, and is checked for convergence only:
// datacheck.go).

// Table ids the simulator gives its sharded tables.
const (
	rowsTableID  uint32 = 1100
	extraTableID uint32 = 1200 // + n for the DDL client's n-th table
)

// dataPlane is a world's user-data workload and what the checks need.
type dataPlane struct {
	// def is the sharded table's committed definition (zero before the
	// setup created it).
	def   schema.TableDef
	ready bool
	// history is the data plane's own linearizability history: keys are
	// "k<id>", a row's key in the table, wherever its bucket lives.
	ops  []dataOp
	keys map[string]uint64 // key -> its bucket
	// lossy are the replicasets where the governor began a failover (an
	// unreachable master): an asynchronous tier may lose acknowledged
	// writes there, by design.
	lossy map[string]bool
	// failedOver are the replicasets where the governor began any failover
	// (lossy or not): an old master cut off may not know it was replaced
	// and answer reads from what it has. The reads of the history (an SQL
	// UPDATE that found no row) are judged only for keys whose bucket
	// never lived on one.
	failedOver map[string]bool
	// acked are the keys some client's write of was acknowledged, in the
	// order of the first (the SQL UPDATEs and point selects aim at them).
	acked    []uint64
	ackedSet map[uint64]bool
	// sql are the SQL statements on the table (sqlops.go).
	sql sqlText
	// visited are, per bucket, the replicasets it lived on: the owner a
	// write was sent to, and every destination a move named. A key whose
	// bucket visited a lossy replicaset is left out of the check.
	visited map[uint64]map[string]bool
	valueOf map[string]string // value -> the key it was written for
	// ddl creates and drops the extra tables.
	ddl      *client
	extras   int    // extra tables created so far (ids extraTableID+n)
	extraID  uint32 // the extra table that exists now (0: none)
	creating bool   // the create of extra table extras is under way
	ddlBusy  bool
	ddlAsked int // schema-change steps checked (datacheck.go)
	// committedSchema are the schema versions each cluster committed
	// (datacheck.go, noteSchemaVersion).
	committedSchema map[clusterSchema]bool
	fresh           int // fresh row ids handed out
	// The topology last read (topology).
	top      tables.Topology
	topOf    *instance
	topAt    uint64
	topEpoch int
}

// drawData draws the data plane's parameters, after every other one (so
// that a seed's other parameters stay what they were).
func drawData(r *rand.Rand, p *Params) {
	p.Tiers[0].IsSync = r.IntN(2) == 0
	if p.Tiers[0].IsSync {
		// A synchronous replicaset fails over only once a majority of its
		// members answer: one stopped for good and not expelled could
		// leave it without a master for good (by design; the operator
		// expels it). The simulator's operator does not retire there.
		p.Retire = false
	}
	if r.IntN(3) == 0 {
		p.Tiers[0].ReplicationFactor = uint64(2 + r.IntN(2))
	}
	if p.Tiers[0].IsSync && r.IntN(3) > 0 {
		// A synchronous replicaset of three: a failover is possible with
		// a member down (a majority of two answers).
		p.Tiers[0].ReplicationFactor = 3
	}
	p.DataShare = 0.2 + r.Float64()*0.4
	if p.Limits.MaxMsgBytes == 64<<10 && r.IntN(2) == 0 {
		// Bounded shipping, a small window (a replica behind it gets a
		// full copy), frequent checkpoints and small copy chunks.
		p.Limits.Replication = node.ReplicationConfig{
			MaxBytesInFlight: 64 + r.IntN(2048),
			WindowBytes:      256 + r.IntN(8<<10),
			CheckpointEvery:  4 + r.IntN(60),
			CopyChunkBytes:   64 + r.IntN(1024),
		}
	}
	if r.IntN(2) == 0 {
		p.DdlEvery = between(r, 200*time.Millisecond, 1500*time.Millisecond)
	}
	if r.IntN(3) > 0 {
		p.MasterFaultEvery = between(r, 500*time.Millisecond, 2*time.Second)
	}
}

func (p Params) dataString() string {
	rl := p.Limits.Replication
	return fmt.Sprintf(" data=%.2f sync=%v repl-limits=%d/%d/%d/%d ddl=%v master-faults=%v", p.DataShare, p.Tiers[0].IsSync,
		rl.MaxBytesInFlight, rl.WindowBytes, rl.CheckpointEvery, rl.CopyChunkBytes, p.DdlEvery, p.MasterFaultEvery)
}

// dataTier is the tier the sharded tables live in.
func (w *World) dataTier() tables.Tier { return w.params.Tiers[0] }

// shardedDef is a sharded table of the data tier.
func (w *World) shardedDef(id uint32, name string) schema.TableDef {
	return schema.TableDef{ID: id, Name: name, Distribution: schema.DistributionSharded,
		Format:      []schema.Field{{Name: "id", Type: "unsigned"}, {Name: "value", Type: "string"}},
		PrimaryKey:  []uint32{0},
		ShardingKey: []string{"id"}, Tier: w.dataTier().Name, Engine: schema.EngineMemtx, Operable: true}
}

// extraDef is the nth table the DDL client creates: every other one is
// GLOBAL, so that every tier's masters are asked; the others are sharded,
// in each tier in turn, created and dropped while its buckets move.
func (w *World) extraDef(n int, id uint32, name string) schema.TableDef {
	if n%2 == 0 {
		def := w.shardedDef(id, name)
		def.Tier = w.params.Tiers[(n/2)%len(w.params.Tiers)].Name
		return def
	}
	return schema.TableDef{ID: id, Name: name, Distribution: schema.DistributionGlobal, Engine: schema.EngineMemtx, Operable: true,
		Format:     []schema.Field{{Name: "key", Type: "string"}, {Name: "value", Type: "string"}},
		PrimaryKey: []uint32{0}}
}

// setupData creates the sharded table and waits until the leader's tables
// say it is operable; its definition (with the bucket_id column the
// cluster added) is the committed one.
func (w *World) setupData() {
	w.data.keys = map[string]uint64{}
	w.data.lossy = map[string]bool{}
	w.data.failedOver = map[string]bool{}
	w.data.ackedSet = map[uint64]bool{}
	w.data.visited = map[uint64]map[string]bool{}
	w.data.valueOf = map[string]string{}
	c := w.clients[0]
	def := w.shardedDef(rowsTableID, "rows")
	deadline := w.sched.now + int64(w.params.LivenessBound)
	for w.failure == nil {
		done, created := false, false
		c.createTable(def, func(ok bool) { done, created = true, ok })
		for !done && w.failure == nil && w.sched.step(deadline) {
		}
		if created {
			if l := w.leader(); l != nil {
				if d, ok := l.node().Tables().Table(rowsTableID); ok && d.Operable {
					w.data.def, w.data.ready = d.Clone(), true
					w.data.sql = sqlStatements(w.data.def)
					w.trace.printf("setup: sharded table rows exists in tier %s (sync %v)", w.dataTier().Name, w.dataTier().IsSync)
					return
				}
			}
		}
		if w.sched.now >= deadline {
			w.fail(fmt.Errorf("liveness: the sharded table was not created within %v (%s)", w.params.LivenessBound, w.unsettled()))
			return
		}
		w.sched.after(int64(50*time.Millisecond), func() {})
		w.sched.step(deadline)
	}
}

// tierInstances are the indexes (in w.instances) of the data tier's
// instances.
func (w *World) tierInstances() []int {
	var out []int
	for i, in := range w.instances {
		if in.tier == w.dataTier().Name {
			out = append(out, i)
		}
	}
	return out
}

// replicasetOf is the replicaset of the instance with raft id id, per the
// most advanced running instance's tables.
func (w *World) replicasetOf(in *instance) (string, bool) {
	if in.raftID == 0 {
		return "", false
	}
	top, ok := w.data.topology(w)
	if !ok {
		return "", false
	}
	for _, i := range top.Instances {
		if i.RaftID == in.raftID {
			return i.ReplicasetID, i.ReplicasetID != ""
		}
	}
	return "", false
}

// topology is latestTopology, read again only once the most advanced
// running instance or its applied index changed.
func (d *dataPlane) topology(w *World) (tables.Topology, bool) {
	best := w.mostAdvanced()
	if best == nil {
		return tables.Topology{}, false
	}
	applied := best.node().Status().Applied
	if d.topOf != best || d.topAt != applied || d.topEpoch != best.epoch {
		top, err := best.node().Tables().ReadTopology()
		if err != nil {
			return tables.Topology{}, false
		}
		d.top, d.topOf, d.topAt, d.topEpoch = top, best, applied, best.epoch
	}
	return d.top, true
}

// rowTuple is a row of def: id, its bucket, value.
func (w *World) rowTuple(def schema.TableDef, id uint64, value string) []any {
	return shardedRow(def, id, value, w.dataTier().BucketCount)
}

// shardedRow is a row {id, value} of def with its bucket id (the bucket
// of id, its sharding key, as Picodata computes it) wherever the
// definition has the column.
func shardedRow(def schema.TableDef, id uint64, value string, buckets uint64) []any {
	out := make([]any, len(def.Format))
	for i, f := range def.Format {
		switch f.Name {
		case "id":
			out[i] = id
		case "value":
			out[i] = value
		case schema.BucketIDField:
			out[i] = bucketOf(id, buckets)
		}
	}
	return out
}

// bucketOf is the bucket of row id (the sharding key of the simulator's
// tables).
func bucketOf(id, buckets uint64) uint64 {
	b, err := sharding.BucketID([]any{id}, buckets)
	if err != nil {
		panic(err) // an unsigned key and a positive count always hash
	}
	return b
}

// ownerOf is the replicaset owning bucket b of the data tier, and the index
// (in w.instances) of its current master, as the most advanced running
// instance has them applied; false if the tier has no bucket map yet or
// the owner has no master there.
func (w *World) ownerOf(b uint64) (rs string, master int, ok bool) {
	top, ok := w.data.topology(w)
	if !ok {
		return "", 0, false
	}
	r, ok := sharding.NewMap(top.Buckets).Find(w.dataTier().Name, b)
	if !ok {
		return "", 0, false
	}
	row, ok := top.Replicaset(r.ReplicasetID)
	if !ok {
		return "", 0, false
	}
	m, ok := top.Instance(row.CurrentMasterID)
	if !ok {
		return "", 0, false
	}
	for i, in := range w.instances {
		if in.raftID == m.RaftID {
			return r.ReplicasetID, i, true
		}
	}
	return "", 0, false
}

// visit records that bucket b lives (or may have lived) on replicaset rs.
func (d *dataPlane) visit(b uint64, rs string) {
	if d.visited[b] == nil {
		d.visited[b] = map[string]bool{}
	}
	d.visited[b][rs] = true
}

// dataOp is a client's operation on the sharded table: a replace of a
// row (two in three) sent to the master of the replicaset owning its
// bucket — as the most advanced instance knows it; a refusal that names
// another master, another owner or a moving bucket sends it again, twice
// at most —, or a select on a random instance of the tier.
func (c *client) dataOp() {
	w := c.w
	tier := w.tierInstances()
	c.target = tier[c.rng.IntN(len(tier))]
	// Half the rows are hot (few keys, overwritten), half fresh (written
	// once: a lost acknowledged write shows in the final read).
	k := uint64(c.rng.IntN(w.params.Keys))
	if c.rng.IntN(2) == 0 {
		w.data.fresh++
		k = uint64(1000 + w.data.fresh)
	}
	switch c.rng.IntN(8) {
	case 0, 1:
		c.routedOp(k)
		return
	case 2:
		c.sqlOp(k)
		return
	}
	c.connect()
	def := w.data.def
	if c.rng.IntN(3) == 0 {
		// A select anywhere: a replica may lag; not recorded.
		c.call(api.Select{Table: def.ID, Key: []any{k}, Limit: 1}, func(_ any, e *api.Error) {
			w.trace.printf("c%d select rows %d on i%d: %v", c.id, k, c.target+1, e)
			c.finish()
		})
		return
	}
	b := bucketOf(k, w.dataTier().BucketCount)
	key := fmt.Sprintf("k%d", k)
	val := c.value()
	id := -1 // the history's operation, once something was sent
	req := api.Replace{Table: def.ID, Tuple: w.rowTuple(def, k, val)}
	var attempt func(left int)
	attempt = func(left int) {
		rs, master, ok := w.ownerOf(b)
		if ok && !w.instances[master].up() {
			// The owner's master is down: a client that knows it does
			// not write there (each such write would be an unknown
			// outcome, and a hot key's dozens of them make the history
			// too costly to check).
			ok = false
		}
		if !ok {
			if id >= 0 {
				// Only refusals so far: the write did nothing.
				w.data.ret(id, lin.Outcome{Kind: lin.Failed}, c.now())
			}
			c.finish()
			return
		}
		if id < 0 {
			w.data.keys[key] = b
			w.data.valueOf[val] = key
			id = w.data.call(c.id, lin.Put(key, val), c.now())
		}
		w.data.visit(b, rs)
		c.target = master
		c.connect()
		c.call(req, func(_ any, e *api.Error) {
			if e != nil && left > 0 && redirect(e) {
				w.trace.printf("c%d replace %s=%s (bucket %d) on i%d (%s) refused, routed again: %s", c.id, key, val, b,
					master+1, rs, e.Message)
				attempt(left - 1)
				return
			}
			out := lin.Outcome{Kind: lin.Ok}
			msg := "ok"
			if e != nil {
				out.Kind, msg = dataRefused(e), e.Message
			}
			w.data.ret(id, out, c.now())
			w.trace.printf("c%d replace %s=%s (bucket %d) on i%d (%s) → %s: %s", c.id, key, val, b, master+1, rs, out.Kind, msg)
			c.finish()
		})
	}
	attempt(2)
}

// connectToLive makes a random instance that is up the client's target;
// false if none is. One known to be down is not asked: its refusal to
// connect would be an unknown outcome, and many of them make the history
// costly.
func (c *client) connectToLive() bool {
	var up []int
	for i, in := range c.w.instances {
		if in.up() {
			up = append(up, i)
		}
	}
	if len(up) == 0 {
		return false
	}
	c.target = up[c.rng.IntN(len(up))]
	c.connect()
	return true
}

// routedOp is an operation through the router of a random instance, of
// any tier that runs (`.proc_router_replace` or `.proc_router_get`, by the table's
// name): the instance finds the owner in the bucket map it has applied,
// which may be behind, and retries redirects itself until its request
// timeout.
//
// A replace is recorded in the history; it failing is an unknown outcome,
// since an attempt may have landed before the router gave up. As every
// owner the bucket ever had may have taken it, the key is checked only
// if none of them is lossy: they are all in visited (the owners the
// client saw, and every move's source and destination). Like dataOp it
// does not write while the owner's master is known down.
//
// A get is not recorded (the master it reaches may have been replaced
// without knowing it yet: its read may be stale, which is not a
// linearizable read), but what it returns must be a value some client
// wrote for that key.
func (c *client) routedOp(k uint64) {
	w := c.w
	if !c.connectToLive() {
		c.finish()
		return
	}
	def := w.data.def
	b := bucketOf(k, w.dataTier().BucketCount)
	key := fmt.Sprintf("k%d", k)
	via := c.target + 1
	if c.rng.IntN(3) == 0 {
		get := api.RouterGet{Table: def.Name, Key: []any{k}}
		if c.rng.IntN(2) == 0 {
			get.Options = map[string]any{api.RouterOptionPreferReplica: true}
		}
		c.call(get, func(res any, e *api.Error) {
			if e == nil {
				if err := w.routedRead(def, key, res); err != nil {
					w.fail(fmt.Errorf("c%d routed get %s via i%d: %w", c.id, key, via, err))
					return
				}
			}
			w.trace.printf("c%d routed get %s via i%d (prefer replica %v): %v %v", c.id, key, via, get.PreferReplica(), res, e)
			c.finish()
		})
		return
	}
	rs, master, ok := w.ownerOf(b)
	if !ok || !w.instances[master].up() {
		c.finish()
		return
	}
	val := c.value()
	w.data.keys[key] = b
	w.data.valueOf[val] = key
	w.data.visit(b, rs)
	id := w.data.call(c.id, lin.Put(key, val), c.now())
	c.call(api.RouterReplace{Table: def.Name, Tuple: []any{k, val}}, func(_ any, e *api.Error) {
		if rs, _, ok := w.ownerOf(b); ok {
			w.data.visit(b, rs)
		}
		out := lin.Outcome{Kind: lin.Ok}
		msg := "ok"
		if e != nil {
			out.Kind, msg = lin.Unknown, e.Message
		}
		w.data.ret(id, out, c.now())
		w.trace.printf("c%d routed replace %s=%s (bucket %d) via i%d → %s: %s", c.id, key, val, b, via, out.Kind, msg)
		c.finish()
	})
}

// routedRead checks what a routed get of key answered: nothing, or a row
// of key whose value some client wrote for key.
func (w *World) routedRead(def schema.TableDef, key string, res any) error {
	rows, _ := res.([]any)
	if len(rows) == 0 {
		return nil
	}
	row, ok := rows[0].([]any)
	if !ok || len(row) != len(def.Format) {
		return fmt.Errorf("answered %v: not a row of %s", res, def.Name)
	}
	for i, f := range def.Format {
		if f.Name != "value" {
			continue
		}
		v, _ := row[i].(string)
		if w.data.valueOf[v] != key {
			return fmt.Errorf("answered %v: value %q was never written for %s", res, v, key)
		}
	}
	return nil
}

// redirect reports a refusal that names where to go instead and did
// nothing: a replica's, another replicaset's bucket, a moving one.
func redirect(e *api.Error) bool {
	switch e.Code {
	case replication.CodeReadonly, api.CodeWrongBucket, api.CodeBucketMoving:
		return true
	}
	return false
}

// dataOp is one operation of the data history.
type dataOp struct {
	client    int
	op        lin.Op
	call, ret int64
	out       lin.Outcome
	returned  bool
	// read: a read during the run (an SQL UPDATE that found no row),
	// judged only if its key's bucket never lived where a failover began.
	read bool
}

func (d *dataPlane) call(client int, op lin.Op, at int64) int {
	d.ops = append(d.ops, dataOp{client: client, op: op, call: at})
	return len(d.ops) - 1
}

func (d *dataPlane) ret(id int, out lin.Outcome, at int64) {
	d.ops[id].out, d.ops[id].ret, d.ops[id].returned = out, at, true
	if out.Kind == lin.Ok && d.ops[id].op.Kind == lin.OpPut {
		d.ack(d.ops[id].op.Key)
	}
}

// history is the data history of the keys whose buckets lived only on
// replicasets keep says to check.
func (d *dataPlane) history(keep func(rs string) bool) *lin.History {
	h := &lin.History{}
	for _, o := range d.ops {
		visited := slices.Sorted(maps.Keys(d.visited[d.keys[o.op.Key]]))
		if slices.ContainsFunc(visited, func(rs string) bool { return !keep(rs) }) {
			continue
		}
		if o.read && slices.ContainsFunc(visited, func(rs string) bool { return d.failedOver[rs] }) {
			continue // the read may have reached an old master cut off
		}
		if o.returned && o.out.Kind == lin.Failed {
			continue // no effect and nothing learned: nothing to order
		}
		id := h.Call(o.client, o.op, o.call)
		if o.returned {
			h.Return(id, o.out, o.ret)
		}
	}
	return h
}

// dataRefused is what a refused write means: a refusal before anything was
// written (a replica's, a table that is not there or not operable, the
// engine's) had no effect; a timeout or a lost connection may have had.
func dataRefused(e *api.Error) lin.OutcomeKind {
	switch e.Code {
	case replication.CodeReadonly, api.CodeNoSuchSpace, api.CodeTableNotOper, api.CodeTableNotAllowed,
		api.CodeIllegalParams, tuple.CodeWrongSchemaVersion, api.CodeWrongBucket, api.CodeBucketMoving:
		return lin.Failed
	}
	return lin.Unknown
}

// scheduleMasterFaults aims faults at the data tier's masters, about every
// MasterFaultEvery: a master crashes, or is cut off from every other
// instance (clients still reach it), for 0.8–2 s — long enough for the
// sentinel to take it Offline and the governor to fail over while clients
// write to it — or is cut off from one member and shut down gracefully
// (laggingSwitchover).
func (w *World) scheduleMasterFaults() {
	if !w.data.ready || w.params.MasterFaultEvery <= 0 {
		return
	}
	w.every(w.params.MasterFaultEvery, func() {
		r := w.faultRng
		l := w.leader()
		if l == nil {
			return
		}
		top, err := l.node().Tables().ReadTopology()
		if err != nil {
			return
		}
		var masters []*instance
		for _, rs := range top.Replicasets {
			if rs.Tier != w.dataTier().Name {
				continue
			}
			if i := w.masterOf(rs.ReplicasetID); i >= 0 && w.instances[i].up() {
				masters = append(masters, w.instances[i])
			}
		}
		if len(masters) == 0 {
			return
		}
		in := masters[r.IntN(len(masters))]
		down := 0
		for _, o := range w.instances {
			if !o.up() {
				down++
			}
		}
		kind := r.IntN(3)
		if kind == 2 && down+1 <= (len(w.instances)-1)/2 {
			w.laggingSwitchover(in, r)
			return
		}
		if kind == 0 && down+1 <= (len(w.instances)-1)/2 {
			in.crash(r.Float64() < w.params.Torn)
			w.sched.after(int64(between(r, 800*time.Millisecond, 2*time.Second)), func() {
				if !in.up() && !in.terminated && w.failure == nil {
					if err := in.start(); err != nil {
						w.fail(err)
					}
				}
			})
			return
		}
		var cuts [][2]string
		for _, o := range w.instances {
			if o != in {
				cuts = append(cuts, [2]string{in.addr, o.addr}, [2]string{o.addr, in.addr})
			}
		}
		for _, c := range cuts {
			w.cut[c] = true
		}
		w.trace.printf("partition: master i%d cut off", in.id)
		w.sched.after(int64(between(r, 800*time.Millisecond, 2*time.Second)), func() {
			for _, c := range cuts {
				delete(w.cut, c)
			}
			w.trace.printf("partition healed: master i%d", in.id)
		})
	})
}

// laggingSwitchover cuts a master off from one member of its replicaset
// (both ways; everyone else still reaches both) for 0.5–1.5 s, and shuts
// the master down gracefully 0.1–0.3 s into the cut: the governor switches
// over, perhaps to the member that lags — which must not take writes
// before it has the old master's.
func (w *World) laggingSwitchover(master *instance, r *rand.Rand) {
	rs, ok := w.replicasetOf(master)
	if !ok {
		return
	}
	var others []*instance
	for _, o := range w.instances {
		if o != master {
			if ors, ok := w.replicasetOf(o); ok && ors == rs {
				others = append(others, o)
			}
		}
	}
	if len(others) == 0 {
		return
	}
	lag := others[r.IntN(len(others))]
	cuts := [][2]string{{master.addr, lag.addr}, {lag.addr, master.addr}}
	for _, c := range cuts {
		w.cut[c] = true
	}
	w.trace.printf("partition: master i%d cut off from i%d", master.id, lag.id)
	w.sched.after(int64(between(r, 500*time.Millisecond, 1500*time.Millisecond)), func() {
		for _, c := range cuts {
			delete(w.cut, c)
		}
		w.trace.printf("partition healed: master i%d and i%d", master.id, lag.id)
	})
	w.sched.after(int64(between(r, 100*time.Millisecond, 300*time.Millisecond)), func() {
		if !w.faultsOn || !master.up() || master.stopping || master.node().Phase() != node.PhaseRunning ||
			w.down()+1 > (len(w.instances)-1)/2 {
			return
		}
		// As shutdownOne, aimed (never for good).
		master.stopping = true
		w.trace.printf("i%d graceful shutdown (a master)", master.id)
		alive := master.epochGuard()
		master.host.Shutdown()
		w.afterEvent(master)
		w.sched.after(int64(w.params.ShutdownTimeout), func() {
			if alive.ok() && master.stopping {
				w.trace.printf("i%d did not stop within %v: kill", master.id, w.params.ShutdownTimeout)
				master.stopped()
			}
		})
	})
}

// scheduleDDL arms the DDL client: about every DdlEvery, it creates the
// next extra table, or drops the one there is: the governor asks the
// masters of every replicaset while faults make some unreachable.
func (w *World) scheduleDDL() {
	if !w.data.ready || w.params.DdlEvery <= 0 {
		return
	}
	w.data.ddl = &client{w: w, id: len(w.clients) + 1, addr: "ddl", conns: map[string]*conn{},
		rng: rand.New(rand.NewPCG(w.faultRng.Uint64(), 0xdd1)), target: w.faultRng.IntN(w.params.Instances)}
	w.every(w.params.DdlEvery, func() {
		d := &w.data
		if d.ddlBusy {
			return
		}
		d.ddlBusy = true
		c := d.ddl // on the instance it last found leading (retarget)
		if d.extraID == 0 {
			if !d.creating {
				d.extras++
				d.creating = true
			}
			// A create that failed (the target was not the leader, the
			// answer was lost, the governor has not committed it yet) is
			// tried again with the same definition: a prepare of a table
			// that exists just reads how far it got.
			def := w.extraDef(d.extras, extraTableID+uint32(d.extras), fmt.Sprintf("extra%d", d.extras))
			c.createTable(def, func(ok bool) {
				d.ddlBusy = false
				if ok {
					d.extraID, d.creating = def.ID, false
				}
			})
			return
		}
		id := d.extraID
		c.dropTable(id, func(ok bool) {
			d.ddlBusy = false
			if ok {
				d.extraID = 0
			}
		})
	})
}

// dropTable proposes a ddl_prepare dropping table id on the leader; then
// learns whether the table is gone (or its drop was prepared).
func (c *client) dropTable(id uint32, then func(ok bool)) {
	c.prepareDDL(tables.PrepareDropTableOp(id, 0), func(e *api.Error) {
		c.w.trace.printf("ddl prepare drop table %d: %v", id, e)
		if e != nil {
			c.retarget(e)
		}
		then(e == nil || e.Code == tuple.CodeNoSuchSpace)
	})
}

// finalDataReads reads every key written, once the world is at rest: one
// select of the whole table on each replicaset's current master, which
// shows the rows of the buckets that replicaset owns; together they read
// every key at once. A key whose owner could not be read is left unknown;
// a row shown by two replicasets fails the run (a bucket has one owner).
func (w *World) finalDataReads() {
	if !w.data.ready {
		return
	}
	c := w.clients[0]
	top, ok := w.data.topology(w)
	if !ok {
		return
	}
	at := w.sched.now
	rows := map[uint64]string{}
	where := map[uint64]string{}
	unread := map[string]bool{} // replicasets whose rows are unknown
	for _, r := range top.Replicasets {
		if r.Tier != w.dataTier().Name {
			continue
		}
		rs := r.ReplicasetID
		master := w.masterOf(rs)
		if master < 0 || !w.instances[master].up() {
			unread[rs] = true
			continue
		}
		var got map[uint64]string
		for attempt := 0; attempt < 5 && w.failure == nil && got == nil; attempt++ {
			c.target = master
			c.connect()
			done := false
			c.call(api.Select{Table: w.data.def.ID, Iterator: uint8(storage.IterALL), Limit: ^uint32(0)}, func(res any, e *api.Error) {
				done = true
				if e != nil {
					w.trace.printf("final read of %s on i%d: %s", rs, master+1, e.Message)
					return
				}
				got = w.rowValues(res)
			})
			deadline := w.sched.now + int64(2*w.params.OpTimeout)
			for !done && w.failure == nil && w.sched.step(deadline) {
			}
		}
		if got == nil {
			unread[rs] = true
			continue
		}
		for id, v := range got {
			if other, dup := where[id]; dup {
				w.fail(fmt.Errorf("row k%d is visible on replicaset %s and on %s", id, other, rs))
				return
			}
			rows[id], where[id] = v, rs
		}
		w.trace.printf("final read of %s on i%d: %d rows", rs, master+1, len(got))
	}
	bm := sharding.NewMap(top.Buckets)
	for _, key := range slices.Sorted(maps.Keys(w.data.keys)) {
		var k uint64
		fmt.Sscanf(key, "k%d", &k)
		id := w.data.call(c.id, lin.Get(key), at)
		out := lin.Outcome{Kind: lin.Unknown}
		if owner, ok := bm.Find(w.dataTier().Name, w.data.keys[key]); ok && !unread[owner.ReplicasetID] {
			out.Kind = lin.Ok
			out.Value, out.Found = rows[k]
		}
		w.data.ret(id, out, w.sched.now)
	}
	if _, bootstrapped := bm.Find(w.dataTier().Name, 1); bootstrapped && len(unread) == 0 {
		// (A tier whose replicasets never filled up has no buckets: SQL
		// on it waits for owners, by design.)
		w.finalSQL(rows)
	}
}

// rowValues is the id → value of the rows a select returned.
func (w *World) rowValues(res any) map[uint64]string {
	out := map[uint64]string{}
	idPos, _ := w.data.def.FieldIndex("id")
	valPos, _ := w.data.def.FieldIndex("value")
	rows, _ := res.([]any)
	for _, r := range rows {
		row, ok := r.([]any)
		if !ok || idPos >= len(row) || valPos >= len(row) {
			continue
		}
		id, _ := tuple.AsUint64(row[idPos])
		out[id], _ = row[valPos].(string)
	}
	return out
}

// masterOf is the index of replicaset rs's current master per the
// leader's tables (-1: none).
func (w *World) masterOf(rs string) int {
	l := w.leader()
	if l == nil {
		return -1
	}
	top, err := l.node().Tables().ReadTopology()
	if err != nil {
		return -1
	}
	r, ok := top.Replicaset(rs)
	if !ok {
		return -1
	}
	m, ok := top.Instance(r.CurrentMasterID)
	if !ok {
		return -1
	}
	for i, in := range w.instances {
		if in.raftID == m.RaftID {
			return i
		}
	}
	return -1
}

// checkDataHistory: the data history must be linearizable, but for the
// replicasets where a failover may have lost acknowledged writes by design
// (lossy; a graceful switchover loses nothing).
func (w *World) checkDataHistory() {
	if !w.data.ready || w.failure != nil {
		return
	}
	sync := w.dataTier().IsSync
	h := w.data.history(func(rs string) bool { return !w.data.lossy[rs] })
	res := lin.Check(h, time.Minute)
	switch res.Verdict {
	case lin.VerdictIllegal:
		w.fail(fmt.Errorf("user data in tier %s (sync %v) not linearizable: %s", w.dataTier().Name, sync, res))
	case lin.VerdictUnknown:
		w.fail(fmt.Errorf("user data linearizability check timed out: %s", res))
	}
}

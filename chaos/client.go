package chaos

import (
	"fmt"
	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/workload"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
	lin "github.com/picogo/picogo/linearizability"
	"github.com/picogo/picogo/proc"
)

const (
	// clusterID is picogo run's default --cluster-id, which .proc_cas
	// checks.
	clusterID = "demo"

	// Per-call timeouts. A read's read_index and wait_index each ask the
	// instance for readWait and give the call a little more.
	callTimeout = time.Second
	readWait    = time.Second
	readTimeout = readWait + 500*time.Millisecond
	// casTimeout: .proc_cas answers once the entry is applied, which
	// takes an election when the leader dies under it.
	casTimeout = 3 * time.Second
)

// writeRecord is one CaS write and how it ended; acknowledged ones (Ok)
// carry the [index, term] .proc_cas answered.
type writeRecord struct {
	Client      int
	Op          lin.Op
	Out         lin.OutcomeKind
	Index, Term uint64
}

// stats counts the clients' operations by outcome.
type stats struct {
	reads, readsOk, writes, acked, unknown atomic.Int64
}

// load is what the clients share: the cluster, the history, the
// record of writes, the counters.
type load struct {
	c       *cluster
	keys    int
	sharded bool // the sharded workload: router calls
	started time.Time
	history lin.History
	stats   stats

	mu     sync.Mutex
	writes []writeRecord
}

// now is the history's clock: nanoseconds since the run started,
// monotonic.
func (w *load) now() int64 { return int64(time.Since(w.started)) }

func (w *load) recordWrite(r writeRecord) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, r)
}

func (w *load) writeRecords() []writeRecord {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]writeRecord(nil), w.writes...)
}

// client is one application: one goroutine, its own connections (as
// admin), doing linearizable reads and CaS writes exactly as the
// simulator's clients do, following the leader.
type client struct {
	w      *load
	id     int
	rpc    *rpc
	rng    *rand.Rand
	target *instance
	seq    int
}

func newClient(w *load, id int, seed uint64, adminPassword string) *client {
	rng := rand.New(rand.NewPCG(seed, uint64(id)))
	return &client{w: w, id: id, rpc: newRPC(proc.Admin, adminPassword), rng: rng,
		target: w.c.random(rng)}
}

func (c *client) close() { c.rpc.close() }

// run does operations until stop is closed or it has done maxOps, pausing
// up to think between them.
func (c *client) run(stop <-chan struct{}, maxOps int, think time.Duration) {
	for range maxOps {
		select {
		case <-stop:
			return
		default:
		}
		pause := time.Duration(c.rng.Int64N(int64(think) + 1))
		if !c.operate() {
			// Nothing answered: do not spin while the cluster recovers.
			pause += 50 * time.Millisecond
		}
		select {
		case <-stop:
			return
		case <-time.After(pause):
		}
	}
}

func (c *client) key() string { return fmt.Sprintf("k%d", c.rng.IntN(c.w.keys)) }

// value is unique to the client and the write: the checker settles
// indeterminate writes by their values.
func (c *client) value() string {
	c.seq++
	return fmt.Sprintf("c%d.%d", c.id, c.seq)
}

// operate does one operation and reports whether it got an answer.
func (c *client) operate() bool {
	if c.w.sharded {
		return c.shardedOperate()
	}
	key := c.key()
	switch x := c.rng.IntN(10); {
	case x < 4:
		if c.rng.IntN(10) < 3 {
			// Reads go to any instance: followers forward the read
			// index to the leader.
			c.target = c.w.c.random(c.rng)
		}
		return c.read(key)
	case x < 7:
		return c.write(key, workload.Cas)
	case x < 9:
		return c.write(key, workload.Insert)
	default:
		return c.write(key, workload.Put)
	}
}

// retarget moves to the leader e names, or to any instance.
func (c *client) retarget(e *api.Error) {
	if e != nil && e.LeaderID != 0 {
		if in := c.w.c.byRaftID(e.LeaderID); in != nil {
			c.target = in
			return
		}
	}
	c.target = c.w.c.random(c.rng)
}

// read is a linearizable read on the current target: a read index
// confirmed by the leader, waited for there, then a local SELECT. A read
// that fails says nothing and is recorded Unknown (the checker drops it).
func (c *client) read(key string) bool {
	c.w.stats.reads.Add(1)
	id := c.w.history.Call(c.id, lin.Get(key), c.w.now())
	out, e := readOnce(c.rpc, c.target.addr, key)
	if out.Kind == lin.Unknown {
		c.w.stats.unknown.Add(1)
		c.w.history.Return(id, out, c.w.now())
		c.retarget(e)
		return false
	}
	c.w.history.Return(id, out, c.w.now())
	c.w.stats.readsOk.Add(1)
	return true
}

// readOnce is read_index → wait_index → SELECT on addr; Unknown (with the
// instance's error, if it answered one) unless all three succeed.
func readOnce(r *rpc, addr, key string) (lin.Outcome, *api.Error) {
	unknown := lin.Outcome{Kind: lin.Unknown}
	res, e, err := r.call(addr, api.ReadIndex{Timeout: readWait}, readTimeout)
	if err != nil || e != nil {
		return unknown, e
	}
	idx, ok := uintOf(res)
	if !ok {
		return unknown, nil
	}
	if _, e, err := r.call(addr, api.WaitIndex{Target: idx, Timeout: readWait}, readTimeout); err != nil || e != nil {
		return unknown, e
	}
	v, found, e, err := r.get(addr, key, callTimeout)
	if err != nil || e != nil {
		return unknown, e
	}
	return lin.Outcome{Kind: lin.Ok, Value: v, Found: found}, nil
}

// write performs one CaS write: learn the leader's term and applied index
// (following redirects, at most 3 tries), for workload.Cas read the key there,
// then propose with that predicate. It reports whether the CaS was sent.
func (c *client) write(key string, kind workload.WriteKind) bool {
	for attempt := range 3 {
		if attempt > 0 {
			time.Sleep(time.Duration(20+c.rng.IntN(60)) * time.Millisecond)
		}
		info, err := c.rpc.raftInfo(c.target.addr, callTimeout)
		if err != nil {
			e, _ := err.(*api.Error)
			c.retarget(e)
			continue
		}
		if info.State != "Leader" {
			c.retarget(&api.Error{LeaderID: info.LeaderID})
			continue
		}
		var expect string
		var found bool
		if kind == workload.Cas {
			v, f, e, err := c.rpc.get(c.target.addr, key, callTimeout)
			if err != nil || e != nil {
				c.retarget(e)
				continue
			}
			expect, found = v, f
		}
		c.propose(key, kind, expect, found, info)
		return true
	}
	return false
}

// propose sends the CaS and records its outcome: Ok with its [index,
// term], Exists, Conflict, Failed for the instance's other refusals, and
// Unknown when it timed out or the connection failed after the request
// may have been sent.
func (c *client) propose(key string, kind workload.WriteKind, expect string, found bool, info api.RaftInfoResult) {
	val := c.value()
	// An update (rather than a replace) half the time a CaS saw the row.
	update := kind == workload.Cas && found && c.rng.IntN(2) == 0
	op, dml, ranges := workload.Write(kind, key, val, expect, found, update)
	req := workload.CasRequest(clusterID, info, dml, ranges)
	c.w.stats.writes.Add(1)
	id := c.w.history.Call(c.id, op, c.w.now())
	res, e, err := c.rpc.call(c.target.addr, req, casTimeout)
	rec := writeRecord{Client: c.id, Op: op}
	out := lin.Outcome{Kind: lin.Ok}
	switch {
	case err != nil:
		out.Kind = lin.Unknown
	case e == nil:
		index, term, ok := casResult(res)
		if !ok {
			// Acknowledged, but with an answer we cannot read: the
			// write is in, where is unknown.
			out.Kind = lin.Unknown
			break
		}
		rec.Index, rec.Term = index, term
	default:
		out.Kind = workload.Refused(e)
	}
	c.w.history.Return(id, out, c.w.now())
	rec.Out = out.Kind
	c.w.recordWrite(rec)
	switch out.Kind {
	case lin.Ok:
		c.w.stats.acked.Add(1)
	case lin.Unknown:
		c.w.stats.unknown.Add(1)
	}
	if e != nil || err != nil {
		c.retarget(e)
	}
}

// createTable creates the kv table through two-phase DDL at the leader, as
// an application's DDL would: ddl_prepare, then done once the table's
// _pico_table row on the leader says it is operable (the governor
// committed this prepare or an earlier one whose answer was lost). A
// prepare refused because the table exists or a change is pending is no
// failure: the row says how far it got.
func createTable(r *rpc, leader *instance) error {
	return createTableDef(r, leader, workload.Def)
}

// createTableDef creates def as createTable creates kv.
func createTableDef(r *rpc, leader *instance, def schema.TableDef) error {
	target := leader
	info, err := r.raftInfo(target.addr, callTimeout)
	if err != nil {
		return err
	}
	if info.State != "Leader" {
		return fmt.Errorf("%s is %s (leader %d)", target.name, info.State, info.LeaderID)
	}
	req := api.Cas{ClusterID: clusterID, Predicate: api.Predicate{Index: info.Applied, Term: info.Term},
		Op: tables.PrepareCreateTableOp(def, 0), AsUser: tables.AdminID}
	_, e, err := r.call(target.addr, req, casTimeout)
	if err != nil {
		return err
	}
	if e != nil && e.Code != tuple.CodeSpaceExists && e.Code != tuple.CodeIllegalParams {
		return e
	}
	rows, e, err := r.rows(target.addr, tables.TablePicoTable, []any{uint64(def.ID)}, callTimeout)
	switch {
	case err != nil:
		return err
	case e != nil:
		return e
	case len(rows) != 1 || len(rows[0]) <= 5:
		return fmt.Errorf("table kv: prepared, no _pico_table row on %s yet", target.name)
	case rows[0][5] != true:
		return fmt.Errorf("table kv: prepared, not committed yet")
	}
	return nil
}

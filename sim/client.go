package sim

import (
	"fmt"
	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/workload"
	"math/rand/v2"

	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
	lin "github.com/picogo/picogo/linearizability"
	"github.com/picogo/picogo/net/tcp"
	"github.com/picogo/picogo/proc"
)

// client is one application talking to the cluster through the Proc API,
// over the simulated network, exactly as a real client would: linearizable
// reads (read_index → wait_index → local read) and CaS writes (raft_info →
// local read → cas) against any instance, following redirects to the leader.
// Every operation goes into the history the checker judges.
type client struct {
	w      *World
	id     int
	addr   string
	rng    *rand.Rand
	target int // index of the instance it talks to
	// conn is the connection the current operation uses: all its calls go
	// to one process, or fail.
	conn *conn
	// conns are the connections it keeps, one per instance (a driver's
	// pool): the next operation there uses it too, until it is lost.
	conns map[string]*conn
	sync  uint64
	seq   int
	busy  bool
	done  int // operations completed
}

// call sends one request — a procedure call, or Tarantool's own request
// for a select or a write — and decodes the reply for it.
func (c *client) call(req api.Request, then func(result any, err *api.Error)) {
	c.sync++
	frame, err := proc.EncodeRequest(c.sync, req)
	if err != nil {
		panic(fmt.Sprintf("sim: client cannot encode %T: %v", req, err))
	}
	c.w.call(c.addr, c.conn.to, c.open, frame, c.w.params.OpTimeout, func(resp []byte, err error) {
		if err != nil {
			then(nil, errorOf(err))
			return
		}
		then(proc.DecodeReply(req, resp))
	})
}

// get reads key on the current target without any consistency step.
func (c *client) get(key string, then func(value string, found bool, err *api.Error)) {
	c.sync++
	frame, err := proc.EncodeSelect(c.sync, workload.Table, []any{key})
	if err != nil {
		panic(err)
	}
	c.w.call(c.addr, c.conn.to, c.open, frame, c.w.params.OpTimeout, func(resp []byte, err error) {
		if err != nil {
			then("", false, errorOf(err))
			return
		}
		rows, e := proc.DecodeRows(resp)
		if e != nil || len(rows) == 0 {
			then("", false, e)
			return
		}
		v, _ := rows[0][1].(string)
		then(v, true, nil)
	})
}

func (c *client) now() int64 { return c.w.sched.now }

// connect picks the connection to the current target for an operation:
// the one it has there, unless it was lost (the process it reached
// restarted, or the login failed) — then a new one, which logs in as admin
// with the world's admin password, to whichever process runs there now.
func (c *client) connect() {
	addr := c.w.instances[c.target].addr
	c.conn = c.conns[addr]
	if c.conn == nil || c.conn.state == connLost {
		c.conn = c.w.dial(c.addr, addr, proc.Admin, c.w.adminPassword, tcp.DefaultDialTimeout)
		c.conns[addr] = c.conn
	}
}

// open is the connection the operation's calls go on.
func (c *client) open() *conn { return c.conn }

// next schedules the client's next operation after a think time.
func (c *client) next() {
	if !c.w.clientsOn {
		c.busy = false
		return
	}
	c.busy = true
	c.w.sched.after(int64(between(c.rng, 0, c.w.params.ClientThink)), c.operate)
}

func (c *client) key() string { return fmt.Sprintf("k%d", c.rng.IntN(c.w.params.Keys)) }

func (c *client) value() string {
	c.seq++
	return fmt.Sprintf("c%d.%d", c.id, c.seq)
}

func (c *client) operate() {
	if !c.w.clientsOn {
		c.busy = false
		return
	}
	if c.w.data.ready && c.rng.Float64() < c.w.params.DataShare {
		c.dataOp()
		return
	}
	key := c.key()
	switch x := c.rng.IntN(10); {
	case x < 4:
		if c.rng.Float64() < c.w.params.ReadAnywhere {
			c.target = c.rng.IntN(len(c.w.instances))
		}
		c.read(key, func(bool) { c.finish() })
	case x < 7:
		c.write(key, workload.Cas)
	case x < 9:
		c.write(key, workload.Insert)
	default:
		c.write(key, workload.Put)
	}
}

func (c *client) finish() {
	c.done++
	c.next()
}

// retarget moves to the named leader (as a client would: the leader's
// address is in _pico_peer_address), or any other instance.
func (c *client) retarget(e *api.Error) {
	if e != nil && e.LeaderID != 0 {
		for i, in := range c.w.instances {
			if in.raftID == e.LeaderID {
				c.target = i
				return
			}
		}
	}
	c.target = c.rng.IntN(len(c.w.instances))
}

// createTable creates def through two-phase DDL, as an application's DDL
// would: find the leader, propose ddl_prepare, then read the table's
// _pico_table row there. then learns whether the table exists and is
// operable now (the governor committed this prepare, or an earlier one
// whose answer was lost); a prepare refused because the table exists or a
// change is pending is no failure: the row says how far it got.
func (c *client) createTable(def schema.TableDef, then func(ok bool)) {
	c.prepareDDL(tables.PrepareCreateTableOp(def, 0), func(e *api.Error) {
		c.w.trace.printf("c%d prepare create table %s: %v", c.id, def.Name, e)
		if e != nil && e.Code != tuple.CodeSpaceExists && e.Code != tuple.CodeIllegalParams {
			c.retarget(e)
			then(false)
			return
		}
		c.tableOperable(def.ID, then)
	})
}

// prepareDDL proposes a ddl_prepare op through `.proc_cas` on the leader
// (the target must be it: otherwise then gets a NotALeader naming the
// leader, to retarget to); then gets the CaS's error.
func (c *client) prepareDDL(op tables.Op, then func(e *api.Error)) {
	c.connect()
	c.call(api.RaftInfo{}, func(res any, e *api.Error) {
		info, ok := raftInfoOf(res)
		if e != nil || !ok || info.State != "Leader" {
			if e == nil {
				e = &api.Error{Code: api.CodeNotALeader, Message: "not the leader", LeaderID: info.LeaderID}
			}
			then(e)
			return
		}
		req := api.Cas{ClusterID: clusterID, Predicate: api.Predicate{Index: info.Applied, Term: info.Term}, Op: op, AsUser: tables.AdminID}
		c.call(req, func(_ any, e *api.Error) { then(e) })
	})
}

// tableOperable reads table id's _pico_table row on the target: then
// learns whether it exists and is operable.
func (c *client) tableOperable(id uint32, then func(ok bool)) {
	c.sync++
	frame, err := proc.EncodeSelect(c.sync, tables.TablePicoTable, []any{uint64(id)})
	if err != nil {
		panic(err)
	}
	c.w.call(c.addr, c.conn.to, c.open, frame, c.w.params.OpTimeout, func(resp []byte, err error) {
		if err != nil {
			then(false)
			return
		}
		rows, e := proc.DecodeRows(resp)
		then(e == nil && len(rows) == 1 && len(rows[0]) > 5 && rows[0][5] == true)
	})
}

// read is a linearizable read: a read index confirmed by the leader, waited
// for locally, then a local read. A read that fails says nothing and is
// recorded as unknown (the checker drops it). then learns whether it
// completed.
func (c *client) read(key string, then func(ok bool)) {
	c.connect()
	id := c.w.history.Call(c.id, lin.Get(key), c.now())
	c.w.trace.printf("c%d get %s ...", c.id, key)
	fail := func(e *api.Error) {
		c.w.history.Return(id, lin.Outcome{Kind: lin.Unknown}, c.now())
		c.w.trace.printf("c%d get %s failed: %s", c.id, key, e.Message)
		c.retarget(e)
		then(false)
	}
	timeout := 2 * c.w.params.OpTimeout / 5
	c.call(api.ReadIndex{Timeout: timeout}, func(res any, e *api.Error) {
		if e != nil {
			fail(e)
			return
		}
		idx, ok := uintOf(res)
		if !ok {
			fail(&api.Error{Message: fmt.Sprintf("read_index returned %v", res)})
			return
		}
		c.call(api.WaitIndex{Target: idx, Timeout: timeout}, func(_ any, e *api.Error) {
			if e != nil {
				fail(e)
				return
			}
			c.get(key, func(v string, found bool, e *api.Error) {
				if e != nil {
					fail(e)
					return
				}
				c.w.history.Return(id, lin.Outcome{Kind: lin.Ok, Value: v, Found: found}, c.now())
				c.w.trace.printf("c%d get %s = %q (found %v) at %d", c.id, key, v, found, idx)
				then(true)
			})
		})
	})
}

// write performs one CaS write: learn the leader's term and applied index,
// (for workload.Cas) read the key there, then propose with that predicate.
func (c *client) write(key string, kind workload.WriteKind) {
	attempts := 0
	var try func()
	try = func() {
		attempts++
		if attempts > 3 {
			c.finish()
			return
		}
		c.connect()
		c.call(api.RaftInfo{}, func(res any, e *api.Error) {
			if e != nil {
				c.retarget(e)
				try()
				return
			}
			info, ok := raftInfoOf(res)
			if !ok || info.State != "Leader" {
				c.retarget(&api.Error{LeaderID: info.LeaderID})
				try()
				return
			}
			if kind != workload.Cas {
				c.propose(key, kind, "", false, info)
				return
			}
			c.get(key, func(v string, found bool, e *api.Error) {
				if e != nil {
					c.retarget(e)
					try()
					return
				}
				c.propose(key, kind, v, found, info)
			})
		})
	}
	try()
}

// propose sends the CaS and records its outcome.
func (c *client) propose(key string, kind workload.WriteKind, expect string, found bool, info api.RaftInfoResult) {
	val := c.value()
	// An update (rather than a replace) half the time a CaS saw the row.
	update := kind == workload.Cas && found && c.rng.IntN(2) == 0
	op, dml, ranges := workload.Write(kind, key, val, expect, found, update)
	req := workload.CasRequest(clusterID, info, dml, ranges)
	id := c.w.history.Call(c.id, op, c.now())
	c.w.trace.printf("c%d %s ... (i%d, predicate %d/%d)", c.id, op, c.target+1, req.Predicate.Index, req.Predicate.Term)
	c.call(req, func(res any, e *api.Error) {
		out := lin.Outcome{Kind: lin.Ok}
		switch {
		case e == nil:
			idx, term := casResult(res)
			c.w.checker.ackedWrite(idx, term)
		default:
			out.Kind = workload.Refused(e)
		}
		c.w.history.Return(id, out, c.now())
		msg := out.Kind.String()
		if e != nil {
			msg += ": " + e.Message
			c.retarget(e)
		}
		c.w.trace.printf("c%d %s → %s", c.id, op, msg)
		c.finish()
	})
}

func uintOf(v any) (uint64, bool) {
	vals, ok := v.([]any)
	if !ok || len(vals) != 1 {
		return 0, false
	}
	return tuple.AsUint64(vals[0])
}

func raftInfoOf(v any) (api.RaftInfoResult, bool) {
	r, ok := v.(api.RaftInfoResult)
	return r, ok && r.ID != 0
}

func casResult(v any) (index, term uint64) {
	vals, _ := v.([]any)
	if len(vals) == 2 {
		index, _ = tuple.AsUint64(vals[0])
		term, _ = tuple.AsUint64(vals[1])
	}
	return index, term
}

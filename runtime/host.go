package runtime

import (
	"errors"
	"fmt"
	"github.com/picogo/picogo/core/tuple"
	"github.com/vmihailenco/msgpack/v5"
	"sync/atomic"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/auth"
	"github.com/picogo/picogo/core/node"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/sql/exec"
	"github.com/picogo/picogo/disk"
	"github.com/picogo/picogo/net"
	"github.com/picogo/picogo/net/iproto"
	"github.com/picogo/picogo/net/tcp"
	"github.com/picogo/picogo/proc"
)

// Writer makes disk batches durable for a Host: the simulator with virtual
// latency, production with a disk goroutine per stream.
type Writer interface {
	// Write applies b (synced when sync) after the writes issued before it
	// on the same stream, and then runs done on the driver's loop.
	Write(stream node.Stream, b *disk.Batch, sync bool, done func(error))
}

// Host runs one node: it carries the node's effects out through a transport
// and a writer, and feeds it requests and completions. It is the code both
// drivers share; only the loop around it differs. Every method and callback
// runs on the driver's loop.
type Host struct {
	node      *node.Node
	transport net.Transport
	writer    Writer
	observe   func(node.Effect)
	requests  RequestObserver
	stopped   bool

	nextIn   node.CallID
	incoming map[node.CallID]incoming
	outgoing map[node.CallID]outgoing

	// batching: inside Drain, Raft messages wait in held, per address
	// in the order first seen, and go as one call each when it ends.
	batching bool
	held     []heldSend

	// schema is the node's schema version as of the last pump, for
	// readers off the loop (SchemaVersion).
	schema atomic.Uint64

	// prepared are the SQL statements PREPARE named.
	prepared preparedStatements

	// roles runs the roles' code (nil: this binary has none).
	roles RoleRunner
}

// RoleRunner runs roles' code for a Host: production's runs each callback
// off the loop with a deadline (role/runner), the simulator's in virtual
// time. done runs later — never before Start or Stop returns — on the
// driver's loop, exactly once: with the role's version, and the error of
// its Init or Stop.
//
// Call runs handler of running role name with args (a msgpack array)
// within timeout; done gets the result encoded as msgpack, or the error
// (the handler's own, a panic, the deadline, a role or handler that does
// not exist), on the loop, exactly once.
//
// Configure gives running role name a new configuration and
// LeaderChanged the new Raft leader's raft id (their OnConfigChange and
// OnLeaderChange); done gets the callback's error.
type RoleRunner interface {
	Start(name string, config map[string]any, done func(version string, err error))
	Stop(name string, done func(version string, err error))
	Configure(name string, config map[string]any, done func(err error))
	LeaderChanged(name string, leader uint64, done func(err error))
	Call(name, handler string, args msgpack.RawMessage, timeout time.Duration, done func(result msgpack.RawMessage, err error))
}

// SetRoleRunner gives the host the roles' code (before anything runs).
func (h *Host) SetRoleRunner(r RoleRunner) { h.roles = r }

// outgoing is a call in flight: its request, and the calls merged into it
// (Raft messages to the same address held during a Batch), which complete
// with it.
type outgoing struct {
	req    api.Request
	merged []node.CallID
}

// heldSend is the Raft messages to one address held during a Batch, and
// the calls that asked to send them.
type heldSend struct {
	to      string
	first   node.OutCall
	merged  []node.CallID    // the calls after first
	message api.RaftInteract // its Messages are msgs'
	// msgs gathers the calls' messages, each MsgApp merged into the one
	// before it when it continues it: a busy leader's proposals each make
	// a MsgApp to every follower, and sent as one the follower steps and
	// answers them once (docs/BENCHMARKS.md).
	msgs raft.Coalescer
}

type incoming struct {
	sync   uint64
	call16 bool
	// execute: an IPROTO_EXECUTE, answered with METADATA and DATA or
	// SQL_INFO rather than a call's DATA.
	execute bool
	reply   func([]byte)
	// answer, if set, takes the result instead of reply: a request made
	// in this process (SQL), not read from an iproto connection.
	answer func(values []any, err *api.Error)
	done   func(code uint32) // the observer's, if any
}

// RequestObserver hears of every request a Host serves: it is called when
// one arrives, with what it asks for (a procedure's name, or "ping",
// "select", "insert", "replace", "update", "upsert", "delete", "execute",
// "unknown" for another request type, "malformed"),
// and the function it returns when the request is answered, with the error
// code (0: success). It runs on the driver's loop.
type RequestObserver func(what string) (done func(code uint32))

// NewHost starts driving n. observe sees every effect: after the host has
// carried it out, or — for Note, Alert, FailStop and Terminate — instead, since those
// are the driver's to act on.
func NewHost(n *node.Node, t net.Transport, w Writer, observe func(node.Effect)) *Host {
	h := &Host{node: n, transport: t, writer: w, observe: observe,
		incoming: map[node.CallID]incoming{}, outgoing: map[node.CallID]outgoing{}}
	h.pump()
	return h
}

// ObserveRequests sets the observer of the requests served (nil: none).
func (h *Host) ObserveRequests(o RequestObserver) { h.requests = o }

// observeRequest starts observing a request; the returned function ends it.
func (h *Host) observeRequest(what string) func(code uint32) {
	if h.requests == nil {
		return func(uint32) {}
	}
	return h.requests(what)
}

// SchemaVersion is the schema version the node has applied, as of the
// last event it handled; safe to call from any goroutine (the replies a
// connection writes itself carry it).
func (h *Host) SchemaVersion() uint64 { return h.schema.Load() }

// Node is the node this host drives.
func (h *Host) Node() *node.Node { return h.node }

// Stop detaches the host (the process crashed or stopped): callbacks still
// in flight are ignored.
func (h *Host) Stop() { h.stopped = true }

// Shutdown starts the node's graceful shutdown: it asks the cluster for
// target Offline and emits Terminate once it is Offline.
func (h *Host) Shutdown() {
	if h.stopped {
		return
	}
	h.node.Shutdown()
	h.pump()
}

// flush sends the held Raft messages.
func (h *Host) flush() {
	held := h.held
	h.held = nil
	for i := range held {
		if h.stopped {
			return
		}
		s := &held[i]
		c := s.first
		s.message.Messages = s.msgs.Messages()
		c.Request = s.message
		h.send(c, s.merged)
	}
	clear(held)
	if h.held == nil {
		h.held = held[:0] // the next Batch's, unless sending held more
	}
}

// Tick passes one tick of the node's clock.
func (h *Host) Tick() {
	if h.stopped {
		return
	}
	h.node.Tick()
	h.pump()
}

// Login checks a client's login (an AUTH) by the node's login rules
// (core/auth). The driver answers it: at once on success, after the
// verdict's Delay on a refusal, off its loop.
func (h *Host) Login(a auth.Attempt) auth.Verdict { return h.node.Login(a) }

// SQL runs one SQL statement for a session of user that did not come over
// iproto (PostgreSQL's protocol, net/pgwire): as `.proc_sql`, observed
// as one. answer takes its result, later, on the loop.
func (h *Host) SQL(user string, r api.SQL, answer func(api.SQLResult, *api.Error)) {
	callOne(h, user, r, answer)
}

// callOne serves r, a request that did not come over iproto, for user,
// observed as one; answer takes its one value, of type T, later, on the
// loop.
func callOne[T any](h *Host, user string, r api.Request, answer func(T, *api.Error)) {
	if h.stopped {
		return
	}
	done := h.observeRequest(r.Proc())
	h.call(user, r, incoming{done: done, answer: func(values []any, e *api.Error) {
		var res T
		if e == nil && len(values) == 1 {
			res, _ = values[0].(T)
		}
		answer(res, e)
	}})
}

// DescribeSQL answers what query takes and returns, for user, without
// running it (node.DescribeSQL).
func (h *Host) DescribeSQL(user, query string) (*exec.Description, *api.Error) {
	return h.node.DescribeSQL(user, query)
}

// SCRAMSalt is the salt and iteration count of user's SCRAM-SHA-256
// secret, for PostgreSQL's login exchange (node.SCRAMSalt).
func (h *Host) SCRAMSalt(user string) ([]byte, int) { return h.node.SCRAMSalt(user) }

// Handle serves one request packet of a session authenticated as user;
// reply takes the response frame.
func (h *Host) Handle(user string, packet []byte, reply func([]byte)) {
	if h.stopped {
		return
	}
	req, err := iproto.DecodeRequest(packet)
	if err != nil {
		// The header may be intact: answer it rather than leave the caller
		// waiting.
		h.observeRequest("malformed")(iproto.CodeInvalidMsgpack)
		reply(iproto.EncodeError(req.Sync, h.SchemaVersion(), iproto.CodeInvalidMsgpack, "Invalid MsgPack - "+err.Error()))
		return
	}
	if frame, what := h.answer(user, req); frame != nil {
		h.observeRequest(what)(0)
		reply(frame)
		return
	}
	var done func(code uint32)
	fail := func(e *api.Error) {
		done(e.Code)
		reply(proc.EncodeError(req.Sync, h.SchemaVersion(), e))
	}
	switch req.Type {
	case iproto.TypePing:
		h.observeRequest("ping")(0)
		reply(iproto.EncodeOK(req.Sync, h.SchemaVersion(), nil))
	case iproto.TypeCall, iproto.TypeCall16:
		name, err := req.FunctionName()
		if err != nil {
			done = h.observeRequest("malformed")
			fail(&api.Error{Code: api.CodeIllegalParams, Message: err.Error()})
			return
		}
		done = h.observeRequest(name)
		args, err := req.Tuple()
		if err != nil {
			fail(&api.Error{Code: api.CodeIllegalParams, Message: name + ": " + err.Error()})
			return
		}
		if e := proc.Authorize(user, name); e != nil {
			fail(e)
			return
		}
		r, e := proc.Decode(name, args)
		if e != nil {
			fail(e)
			return
		}
		h.call(user, r, incoming{sync: req.Sync, call16: req.Type == iproto.TypeCall16, reply: reply, done: done})
	case iproto.TypeSelect:
		done = h.observeRequest("select")
		r, e := proc.DecodeSelect(req)
		if e == nil && user != proc.Admin && user != proc.PicoService && !node.IsSchemaView(r.Table) {
			e = &api.Error{Code: api.CodeAccessDenied, Message: fmt.Sprintf("Read access to space '%d' is denied for user '%s'", r.Table, user)}
		}
		if e != nil {
			fail(e)
			return
		}
		h.call(user, r, incoming{sync: req.Sync, reply: reply, done: done})
	case iproto.TypeInsert, iproto.TypeReplace, iproto.TypeUpdate, iproto.TypeUpsert, iproto.TypeDelete:
		done = h.observeRequest(proc.DMLNames[req.Type])
		r, e := proc.DecodeDML(req)
		if e == nil && user != proc.Admin && user != proc.PicoService {
			e = &api.Error{Code: api.CodeAccessDenied, Message: fmt.Sprintf("Write access to space '%d' is denied for user '%s'", dmlTable(r), user)}
		}
		if e != nil {
			fail(e)
			return
		}
		h.call(user, r, incoming{sync: req.Sync, reply: reply, done: done})
	case iproto.TypeExecute:
		done = h.observeRequest("execute")
		text, stmtID, binds, err := req.SQL()
		if err != nil {
			fail(&api.Error{Code: api.CodeIllegalParams, Message: "execute: " + err.Error()})
			return
		}
		if stmtID != 0 {
			var ok bool
			if text, ok = h.prepared.get(stmtID); !ok {
				fail(&api.Error{Code: api.CodeIllegalParams, Message: fmt.Sprintf("Prepared statement with id %d does not exist", stmtID)})
				return
			}
		}
		var params []any
		if err := msgpack.Unmarshal(binds, &params); err != nil {
			fail(&api.Error{Code: api.CodeIllegalParams, Message: "execute: SQL_BIND: " + err.Error()})
			return
		}
		for _, p := range params {
			if _, named := p.(map[string]any); named {
				fail(&api.Error{Code: api.CodeIllegalParams, Message: "execute: named parameters are not supported: bind by position ($1 or ?)"})
				return
			}
		}
		h.call(user, api.SQL{Query: text, Params: params}, incoming{sync: req.Sync, execute: true, reply: reply, done: done})
	case iproto.TypePrepare:
		done = h.observeRequest("prepare")
		text, stmtID, _, err := req.SQL()
		switch {
		case err != nil:
			fail(&api.Error{Code: api.CodeIllegalParams, Message: "prepare: " + err.Error()})
		case stmtID != 0: // unprepare
			h.prepared.forget(stmtID)
			done(0)
			reply(iproto.EncodeOK(req.Sync, h.SchemaVersion(), nil))
		default:
			id, params, e := h.prepared.prepare(text)
			if e != nil {
				fail(e)
				return
			}
			done(0)
			reply(iproto.EncodePrepared(req.Sync, h.SchemaVersion(), id, params, nil))
		}
	default:
		done = h.observeRequest("unknown")
		fail(&api.Error{Code: iproto.CodeUnknownRequestType, Message: fmt.Sprintf("Unknown request type %d", req.Type)})
	}
}

// encodeExecute is EXECUTE's reply from `.proc_sql`'s answer: METADATA
// and DATA for a query, SQL_INFO's row count for the rest.
func encodeExecute(sync, schemaVersion uint64, values []any) []byte {
	var res api.SQLResult
	if len(values) == 1 {
		res, _ = values[0].(api.SQLResult)
	}
	if !res.Query {
		return iproto.EncodeSQLInfo(sync, schemaVersion, res.RowCount)
	}
	cols := make([]iproto.Column, len(res.Metadata))
	for i, c := range res.Metadata {
		cols[i] = iproto.Column{Name: c.Name, Type: c.Type}
	}
	// Through core/tuple, which writes decimals, uuids and datetimes as
	// Tarantool's extensions.
	rows := make([]any, len(res.Rows))
	for i, row := range res.Rows {
		rows[i] = row
	}
	raw, err := tuple.Marshal(rows)
	if err != nil {
		return iproto.EncodeError(sync, schemaVersion, api.CodeIllegalParams, "execute: encoding the rows: "+err.Error())
	}
	return iproto.EncodeSQLResult(sync, schemaVersion, cols, msgpack.RawMessage(raw))
}

// dmlTable is the table a DML request writes.
func dmlTable(r api.Request) uint32 {
	switch r := r.(type) {
	case api.Insert:
		return r.Table
	case api.Replace:
		return r.Table
	case api.Update:
		return r.Table
	case api.Upsert:
		return r.Table
	case api.Delete:
		return r.Table
	}
	return 0
}

func (h *Host) call(user string, r api.Request, in incoming) {
	h.nextIn++
	h.incoming[h.nextIn] = in
	h.node.Call(h.nextIn, user, r)
	h.pump()
}

// pump carries out everything the node wants done.
func (h *Host) pump() {
	for !h.stopped {
		effects := h.node.TakeEffects()
		// Once per batch, not per reply: the effects were made on the
		// state this reads.
		h.schema.Store(h.node.SchemaVersion())
		if len(effects) == 0 {
			return
		}
		for _, e := range effects {
			h.carryOut(e)
		}
	}
}

func (h *Host) carryOut(effect node.Effect) {
	// observe is given effect, not e: boxing e again allocated a copy of
	// every reply and call.
	switch e := effect.(type) {
	case node.Reply:
		// A reply may carry Raft messages (core/node's consensus.hold):
		// the simulator learns what the node promised from them.
		defer h.observe(effect)
		in, ok := h.incoming[e.ID]
		if !ok {
			return
		}
		delete(h.incoming, e.ID)
		var code uint32
		if e.Err != nil {
			code = e.Err.Code
		}
		in.done(code)
		if in.answer != nil {
			in.answer(e.Values, e.Err)
			return
		}
		if in.execute && e.Err == nil {
			in.reply(encodeExecute(in.sync, h.SchemaVersion(), e.Values))
			return
		}
		in.reply(proc.EncodeReply(in.sync, h.SchemaVersion(), in.call16, e.Values, e.Err))
	case node.OutCall:
		if ri, ok := e.Request.(api.RaftInteract); ok && h.batching {
			h.hold(e, ri)
		} else {
			h.send(e, nil)
		}
		h.observe(effect)
	case node.RoleStart:
		h.runRole(e.ID, e.Name, func(r RoleRunner, done func(string, error)) { r.Start(e.Name, e.Config, done) })
	case node.RoleStop:
		h.runRole(e.ID, e.Name, func(r RoleRunner, done func(string, error)) { r.Stop(e.Name, done) })
	case node.RoleConfigure:
		h.runRole(e.ID, e.Name, func(r RoleRunner, done func(string, error)) {
			r.Configure(e.Name, e.Config, func(err error) { done("", err) })
		})
	case node.RoleLeader:
		h.runRole(e.ID, e.Name, func(r RoleRunner, done func(string, error)) {
			r.LeaderChanged(e.Name, e.Leader, func(err error) { done("", err) })
		})
	case node.RoleCall:
		h.callRole(e)
	case node.Persist:
		stream, id := e.Stream, e.ID
		h.writer.Write(stream, e.Batch, e.Sync, func(err error) {
			if h.stopped {
				return
			}
			if err != nil {
				h.node.PersistFailed(stream, id, err)
				h.pump()
				return
			}
			h.node.PersistDone(stream, id)
			h.pump()
		})
	default:
		h.observe(effect)
	}
}

// runRole runs a role's lifecycle callback through the runner, and
// reports to the node when it is done.
func (h *Host) runRole(id node.RoleOpID, name string, run func(RoleRunner, func(version string, err error))) {
	if h.roles == nil {
		// Answered now: the pump this runs in takes what it makes.
		h.node.RoleDone(id, "", fmt.Errorf("role %s: this binary has no roles", name))
		return
	}
	run(h.roles, func(version string, err error) {
		if h.stopped {
			return
		}
		h.node.RoleDone(id, version, err)
		h.pump()
	})
}

// callRole runs a role's handler through the runner, and reports to the
// node when it is done.
func (h *Host) callRole(e node.RoleCall) {
	if h.roles == nil {
		h.node.RoleCallDone(e.ID, nil, fmt.Errorf("role %s: this binary has no roles", e.Role))
		return
	}
	id := e.ID
	h.roles.Call(e.Role, e.Handler, e.Args, e.Timeout, func(result msgpack.RawMessage, err error) {
		if h.stopped {
			return
		}
		h.node.RoleCallDone(id, result, err)
		h.pump()
	})
}

// RPC calls a role's handler somewhere in the cluster for user (a role's
// own RPC client; `.proc_rpc_call`), observed as one. answer takes the
// handler's result as msgpack, later, on the loop.
func (h *Host) RPC(user string, r api.RPCCall, answer func(msgpack.RawMessage, *api.Error)) {
	if err := r.CheckArgs(); err != nil {
		answer(nil, api.Errorf(api.CodeIllegalParams, "%s: %v", r.Proc(), err))
		return
	}
	callOne(h, user, r, answer)
}

// hold keeps a Raft message call for the end of the Batch, merged with
// the others to the same address (and from the same sender address).
func (h *Host) hold(c node.OutCall, ri api.RaftInteract) {
	for i := range h.held {
		if s := &h.held[i]; s.to == c.To && s.message.SenderAddress == ri.SenderAddress {
			s.merged = append(s.merged, c.ID)
			s.msgs.Add(ri.Messages)
			return
		}
	}
	h.held = append(h.held, heldSend{to: c.To, first: c, message: ri})
	h.held[len(h.held)-1].msgs.Add(ri.Messages) // kept without a copy until more come
}

// send makes the call c — a CALL, or Tarantool's own request for a SELECT
// or a write (the router's calls to a storage); the calls merged into it
// complete with it.
func (h *Host) send(c node.OutCall, merged []node.CallID) {
	frame, err := proc.EncodeRequest(uint64(c.ID), c.Request)
	if err != nil {
		h.observe(node.FailStop{Err: err}) // a request the codec cannot encode: a bug
		return
	}
	h.outgoing[c.ID] = outgoing{req: c.Request, merged: merged}
	h.transport.Roundtrip(c.To, frame, c.Timeout, func(resp []byte, err error) {
		if h.stopped {
			return
		}
		out, ok := h.outgoing[c.ID]
		if !ok {
			return
		}
		delete(h.outgoing, c.ID)
		var result any
		var e *api.Error
		if err != nil {
			e = transportError(err)
		} else {
			result, e = proc.DecodeReply(out.req, resp)
		}
		h.node.CallDone(c.ID, result, e)
		for _, id := range out.merged {
			// The result once: a Raft call's reply carries messages.
			h.node.CallDone(id, nil, e)
		}
		h.pump()
	})
}

// transportError is how a node hears of a call the transport could not
// complete: one that may have been served — a timeout, a connection lost
// with the call on it — as a timeout (a router must not send a write
// again), one that never left — a refused dial, a full queue — as no
// connection.
func transportError(err error) *api.Error {
	if errors.Is(err, tcp.ErrTimeout) || errors.Is(err, tcp.ErrConnLost) {
		return &api.Error{Code: api.CodeTimeout, Message: err.Error()}
	}
	return &api.Error{Code: iproto.CodeNoConnection, Message: err.Error()}
}

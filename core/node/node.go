package node

import (
	"errors"
	"fmt"
	"time"

	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/tables"
)

// Version is what `.proc_version_info` reports.
const (
	Version        = "picogo-0.1.0"
	ProcAPIVersion = "1.0.0"
)

// Config configures an instance.
type Config struct {
	ClusterID string
	// Raft carries the raft id, timing in ticks, limits, randomness and
	// Raft mutants.
	Raft raft.Config
	// Tick is how long one Tick is: it turns timeouts given in time into
	// ticks. The node never reads a clock.
	Tick time.Duration
	// RequestTimeout bounds requests that carry no timeout of their own.
	RequestTimeout time.Duration
	// CallTimeout bounds calls to other instances.
	CallTimeout time.Duration
	// SnapshotEvery: snapshot and purge the log after this many applied
	// entries (0: only when asked).
	SnapshotEvery uint64
	// SnapshotChunkBytes bounds one snapshot chunk (0: the tables' default).
	SnapshotChunkBytes int
	// AdminAuth, if set, is the chap-sha1 hash (sha1(sha1(password))) to
	// give the admin user when the cluster has none yet: the leader
	// proposes it.
	AdminAuth []byte
	Mutants   Mutants
}

// Mutants are deliberate bugs above Raft; only the simulator sets them.
type Mutants struct {
	// CasSkipsUncommitted: the CaS conflict scan looks at committed entries
	// only.
	CasSkipsUncommitted bool
}

// Node is one instance.
type Node struct {
	cfg     Config
	ra      *ra.Server
	tables  *tables.Store
	effects []Effect

	nextReq  ra.ReqID
	waiting  map[ra.ReqID]waitingCall // our ra requests, by what answers them
	nextOut  CallID
	outCalls map[CallID]outCall
	// adminAuthAt is the tick an admin-auth proposal was made (0: none
	// pending).
	adminAuthAt int
	ticks       int
}

type waitingCall struct {
	id   CallID
	kind string // the procedure being answered
}

type outCall struct {
	fetch uint64 // the ra chunk fetch this call serves, or 0
}

// New starts an instance from what its disk held (see Load and Bootstrap).
func New(cfg Config, disk ra.DiskState) (*Node, error) {
	if cfg.ClusterID == "" {
		return nil, errors.New("node: cluster id must be set")
	}
	if cfg.Tick <= 0 {
		return nil, errors.New("node: tick period must be positive")
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = time.Duration(3*cfg.Raft.ElectionTick) * cfg.Tick
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = time.Duration(cfg.Raft.ElectionTick) * cfg.Tick
	}
	st := tables.New()
	if cfg.SnapshotChunkBytes > 0 {
		st.ChunkBytes = cfg.SnapshotChunkBytes
	}
	srv, err := ra.NewServer(ra.Config{
		Raft:           cfg.Raft,
		RequestTimeout: cfg.ticks(cfg.RequestTimeout),
		SnapshotEvery:  cfg.SnapshotEvery,
	}, st, disk)
	if err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, ra: srv, tables: st, waiting: map[ra.ReqID]waitingCall{}, outCalls: map[CallID]outCall{}}
	n.collect()
	return n, nil
}

func (c *Config) ticks(d time.Duration) int {
	t := int((d + c.Tick - 1) / c.Tick)
	return max(t, 1)
}

// ID is the instance's raft id.
func (n *Node) ID() uint64 { return n.cfg.Raft.ID }

// TakeEffects returns and clears what the node wants done.
func (n *Node) TakeEffects() []Effect {
	e := n.effects
	n.effects = nil
	return e
}

func (n *Node) emit(e Effect) { n.effects = append(n.effects, e) }

// Tick advances the instance's clock by one period.
func (n *Node) Tick() {
	n.ticks++
	n.ra.Tick()
	n.maybeSetAdminAuth()
	n.collect()
}

// PersistDone reports a Persist durable.
func (n *Node) PersistDone(id uint64) {
	if err := n.ra.PersistDone(id); err != nil {
		n.emit(Fatal{Err: fmt.Errorf("persist %d: %w", id, err)})
	}
	n.collect()
}

// Call handles a request. user is the authenticated session user; the proc
// layer has already checked the user may call it.
func (n *Node) Call(id CallID, user string, req Request) {
	switch r := req.(type) {
	case VersionInfo:
		n.reply(id, VersionInfoResult{PicodataVersion: Version, ProcAPIVersion: ProcAPIVersion})
	case RaftInfo:
		n.reply(id, n.raftInfo())
	case GetIndex:
		n.reply(id, n.ra.BasicStatus().Applied)
	case ReadIndex:
		req := n.await(id, r.Proc())
		n.ra.ConsistentQuery(req, func(ra.StateMachine) any { return nil })
		n.ra.SetDeadline(req, n.cfg.ticks(r.Timeout))
	case WaitIndex:
		req := n.await(id, r.Proc())
		n.ra.WaitApplied(req, r.Target)
		n.ra.SetDeadline(req, n.cfg.ticks(r.Timeout))
	case RaftPromote:
		if err := n.ra.Elect(); err != nil {
			n.fail(id, errorf(CodeProcLua, "%v", err))
		} else {
			n.reply(id)
		}
	case RaftInteract:
		// Messages that do not fit are refused one by one inside; the
		// sender learns nothing it could act on, as with a lost message.
		_ = n.ra.Receive(r.Messages)
		n.reply(id)
	case SnapshotNextChunk:
		n.serveChunk(id, r)
	case Cas:
		n.cas(id, r)
	case Select:
		n.selectRows(id, r)
	default:
		n.fail(id, errorf(CodeNoSuchProc, "Procedure '%s' is not defined", req.Proc()))
	}
	n.collect()
}

// CallDone delivers the answer to an OutCall: result is the decoded result
// (ChunkResult for a snapshot chunk), or err.
func (n *Node) CallDone(id CallID, result any, err *Error) {
	oc, ok := n.outCalls[id]
	if !ok {
		return
	}
	delete(n.outCalls, id)
	if oc.fetch != 0 {
		n.chunkArrived(oc.fetch, result, err)
	}
	n.collect()
}

func (n *Node) raftInfo() RaftInfoResult {
	st := n.ra.BasicStatus()
	return RaftInfoResult{ID: st.ID, Term: st.Term, Applied: st.Applied, LeaderID: st.Lead, State: st.State.String()}
}

func (n *Node) reply(id CallID, values ...any) { n.emit(Reply{ID: id, Values: values}) }

func (n *Node) fail(id CallID, err *Error) { n.emit(Reply{ID: id, Err: err}) }

// await registers that the ra request about to be made answers call id.
func (n *Node) await(id CallID, kind string) ra.ReqID {
	n.nextReq++
	n.waiting[n.nextReq] = waitingCall{id: id, kind: kind}
	return n.nextReq
}

// collect turns what the ra server wants done into the node's effects.
func (n *Node) collect() {
	for {
		effects := n.ra.TakeEffects()
		if len(effects) == 0 {
			return
		}
		for _, e := range effects {
			n.translate(e)
		}
	}
}

func (n *Node) translate(e ra.Effect) {
	switch e := e.(type) {
	case ra.Send:
		addr, ok := n.address(e.To)
		if !ok {
			n.emit(Note{Event: "no address", Detail: fmt.Sprintf("raft messages to %d dropped: its address is unknown", e.To)})
			return
		}
		n.nextOut++
		n.emit(OutCall{ID: n.nextOut, To: addr, Request: RaftInteract{Messages: e.Messages}, Timeout: n.cfg.CallTimeout})
		n.outCalls[n.nextOut] = outCall{}
	case ra.Persist:
		n.emit(Persist{ID: e.ID, Batch: persistBatch(e), Sync: e.Sync})
	case ra.Reply:
		n.answer(e)
	case ra.FetchChunk:
		n.fetchChunk(e)
	case ra.LeaderChanged:
		n.emit(Note{Event: "raft", Detail: fmt.Sprintf("%s, term %d, leader %d", e.State, e.Term, e.Leader)})
	case ra.Fatal:
		n.emit(Fatal{Err: e.Err})
	case ra.Terminate:
		n.emit(Terminate{Delete: e.Delete, Reason: e.Reason})
	case ra.Applied, ra.Rejected, ra.TerminateMember:
		// Not used by an instance: it proposes with ProposeHere only.
	default:
		panic(fmt.Sprintf("node: unknown ra effect %T", e))
	}
}

// answer turns the ra server's reply into the reply of the call it serves.
func (n *Node) answer(r ra.Reply) {
	w, ok := n.waiting[r.Req]
	if !ok {
		return
	}
	delete(n.waiting, r.Req)
	if r.Err != nil {
		n.fail(w.id, n.raError(r.Err, w.kind))
		return
	}
	switch w.kind {
	case ReadIndex{}.Proc():
		n.reply(w.id, r.Result.(ra.QueryResult).ReadIndex)
	case WaitIndex{}.Proc():
		n.reply(w.id, r.Result)
	case Cas{}.Proc():
		res, _ := r.Result.(tables.Result)
		if res.Err != nil {
			n.fail(w.id, &Error{Code: res.Err.Code, Message: res.Err.Message})
			return
		}
		n.reply(w.id, r.Index, r.Term)
	}
}

// raError maps the ra layer's refusals to error replies.
func (n *Node) raError(err error, proc string) *Error {
	var nl *ra.NotLeaderError
	switch {
	case errors.As(err, &nl):
		if nl.Leader == raft.None {
			return errorf(CodeLeaderUnknown, "%s: leader unknown", proc)
		}
		return &Error{Code: CodeNotALeader, Message: fmt.Sprintf("%s: not a leader, leader is %d", proc, nl.Leader), LeaderID: nl.Leader}
	case errors.Is(err, ra.ErrTimeout):
		return errorf(CodeTimeout, "%s: timeout", proc)
	case errors.Is(err, ra.ErrProposalDropped), errors.Is(err, raft.ErrProposalDropped):
		return errorf(CodeProposalDropped, "%s: proposal dropped: %v", proc, err)
	}
	return errorf(CodeProcLua, "%s: %v", proc, err)
}

// address is where raft id listens, from _pico_peer_address.
func (n *Node) address(id uint64) (string, bool) {
	row, ok, err := n.tables.Get(tables.TablePicoPeerAddress, []any{id})
	if err != nil || !ok {
		return "", false
	}
	addr, ok := row.Values()[1].(string)
	return addr, ok
}

func (n *Node) selectRows(id CallID, r Select) {
	if IsSchemaView(r.Table) {
		n.emit(Reply{ID: id, Values: n.viewRows(r.Table, r.Key)})
		return
	}
	def, ok := n.tables.Table(r.Table)
	if !ok {
		n.fail(id, errorf(CodeNoSuchSpace, "Space '%d' does not exist", r.Table))
		return
	}
	var rows []any
	if len(r.Key) > 0 {
		row, found, err := n.tables.Get(r.Table, r.Key)
		if err != nil {
			n.fail(id, errorf(CodeKeyTypeMismatch, "select from %s: %v", def.Name, err))
			return
		}
		if found {
			rows = append(rows, row.Values())
		}
	} else {
		all, err := n.tables.Scan(r.Table)
		if err != nil {
			n.fail(id, errorf(CodeProcLua, "select from %s: %v", def.Name, err))
			return
		}
		for _, row := range all {
			if r.Limit > 0 && uint32(len(rows)) >= r.Limit {
				break
			}
			rows = append(rows, row.Values())
		}
	}
	n.emit(Reply{ID: id, Values: rows})
}

// Status is the Raft status, for checks and `.proc_raft_info`.
func (n *Node) Status() raft.Status { return n.ra.Status() }

// Log exposes the Raft log for the simulator's checks. Read, do not keep.
func (n *Node) Log() (prevIndex uint64, entries []raft.Entry) { return n.ra.Log() }

// Term is the term of the entry at index i, if the log holds it.
func (n *Node) Term(i uint64) (uint64, bool) { return n.ra.Term(i) }

// Tables exposes the global tables for local reads and checks. Read only.
func (n *Node) Tables() *tables.Store { return n.tables }

// AuthChapSha1 is how a user's password is kept in _pico_user.auth:
// ["chap-sha1", hex(sha1(sha1(password)))].
const AuthChapSha1 = "chap-sha1"

// maybeSetAdminAuth: a leader that was given an admin password and finds
// admin without one proposes it (again, if an earlier try came to nothing).
func (n *Node) maybeSetAdminAuth() {
	if len(n.cfg.AdminAuth) == 0 || n.ra.BasicStatus().State != raft.StateLeader {
		return
	}
	if n.adminAuthAt != 0 && n.ticks-n.adminAuthAt < n.cfg.ticks(n.cfg.RequestTimeout) {
		return
	}
	row, ok, err := n.tables.Get(tables.TablePicoUser, []any{uint64(tables.AdminID)})
	if err != nil || !ok || row.Values()[3] != nil {
		return
	}
	v := row.Values()
	auth := []any{AuthChapSha1, fmt.Sprintf("%x", n.cfg.AdminAuth)}
	op := tables.DmlOp(tables.Replace(tables.TablePicoUser, v[0], v[1], v[2], auth, v[4]))
	n.nextReq++
	if _, _, err := n.ra.ProposeHere(n.nextReq, op.Encode()); err == nil {
		n.adminAuthAt = n.ticks
		n.emit(Note{Event: "users", Detail: "proposing the admin password given at start"})
	}
}

package node

import (
	"errors"
	"fmt"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/mutant"
	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/replication"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/topology"
	"github.com/picogo/picogo/core/wal"
)

// Config configures an instance.
type Config struct {
	ClusterID string
	// Identity is who this instance is, read from its disk; nil for an
	// empty disk: the instance discovers its peers and boots or joins.
	Identity *Identity
	// Self is who a new instance asks to be, and Peers whom it asks.
	Self  Self
	Peers []string
	// InitTiers are the tiers a booting cluster starts with (default: one
	// tier, Self's, replication factor 1, voting).
	InitTiers []tables.Tier
	// Roles are the definitions of the roles this binary has (their code
	// is the driver's): what `.proc_role_enable` records. InitRoles are
	// the roles a booting cluster starts with enabled (--init-cfg).
	Roles     []tables.Role
	InitRoles []tables.RoleTier
	// Raft carries timing in ticks, limits and randomness;
	// its ID comes from the identity.
	Raft raft.Config
	// Tick is how long one Tick is: it turns timeouts given in time into
	// ticks. The node never reads a clock.
	Tick time.Duration
	// Clock is the wall clock, injected: what SQL's NOW() reads (the
	// simulator passes its simulated time). Nil: the instance's ticks
	// since the Unix epoch.
	Clock func() time.Time
	// RequestTimeout bounds requests that carry no timeout of their own.
	RequestTimeout time.Duration
	// CallTimeout bounds calls to other instances.
	CallTimeout time.Duration
	// SentinelTimeout: the leader sets an instance it has not heard from
	// for this long to target Offline (default: 5 election timeouts).
	SentinelTimeout time.Duration
	// SnapshotEvery: snapshot and purge the log after this many applied
	// entries (0: only when asked).
	SnapshotEvery uint64
	// SnapshotChunkBytes bounds one snapshot chunk (0: the tables' default).
	SnapshotChunkBytes int
	// AdminAuth, if set, is the password (auth.Secrets of it) to give the
	// admin user when the cluster has none yet: the leader proposes it.
	// Until then admin logs in with it on this instance.
	AdminAuth *tables.UserAuth
	// mutants are the deliberate bugs switched on: always none outside a
	// -tags mutants build (SetMutants). Zero bytes in production.
	mutants mutant.Set
	// ServiceAuth is the chap-sha1 hash of the service password: instances
	// log in to this one as pico_service with it.
	ServiceAuth [20]byte
	// Replication configures the replicaset member that holds the user
	// data (its ID is the instance's raft id, set by the node).
	Replication ReplicationConfig
	// Recovered is what the replicaset log on disk holds (wal.Recover):
	// nil for an empty disk.
	Recovered *wal.Recovered
}

// ReplicationConfig is replication.Config without the raft id, which the
// node learns at boot or join.
type ReplicationConfig replication.Config

func (c ReplicationConfig) withID(id uint64, mutants mutant.Set) replication.Config {
	r := replication.Config(c)
	r.ID, r.Mutants = id, mutants
	return r
}

// ErrExpelled: New refuses to run an instance its own state says is
// expelled. (One whose log does not say so yet learns it once it runs:
// it stops with Terminate{Expelled}.)
var ErrExpelled = topology.ErrExpelled

// Node is one instance: a router over its modules (registry.go) and the
// plumbing they share.
type Node struct {
	cfg      Config
	phase    Phase
	ra       *ra.Server // nil until the instance runs
	tables   *tables.Store
	effects  []Effect
	ticks    int
	identity Identity
	// addressBook holds addresses learnt before the tables have them.
	addressBook map[uint64]string
	// placement is the applied topology and bucket map (placement.go).
	placement *placement
	// peerAddrs is _pico_peer_address, and peerTaken the raft ids whose
	// address another has taken over (tables.TakenOver), as of
	// peerAddrsAt.
	peerAddrs   map[uint64]string
	peerTaken   map[uint64]bool
	peerAddrsAt tables.Stamp

	nextReq ra.ReqID
	waiting map[ra.ReqID]waitingCall // our ra requests, by what answers them
	// storedLast is the last log index on disk once the writes issued so
	// far are done: entries at or below it that a new write replaces are
	// deleted first.
	storedLast uint64
	nextOut    CallID
	outCalls   map[CallID]func(result any, err *api.Error)
	// raftAnswered is every Raft call's answer handler (raftAnswer), made
	// once: a closure per call was an allocation per message sent.
	raftAnswered func(result any, err *api.Error)
	stats        Stats

	modules
	registry registry
}

// responder answers a request: return values, or an error.
type responder func(values []any, err *api.Error)

type waitingCall struct {
	respond responder
	kind    string // the procedure being answered
	then    func(ra.Reply) ([]any, *api.Error)
}

// New starts an instance: from its disk if it has an identity, else by
// discovering its peers.
func New(cfg Config, disk ra.DiskState) (*Node, error) {
	if cfg.ClusterID == "" {
		return nil, errors.New("node: cluster id must be set")
	}
	if cfg.Tick <= 0 {
		return nil, errors.New("node: tick period must be positive")
	}
	if cfg.Raft.Rand == nil {
		return nil, errors.New("node: Raft.Rand must be injected")
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = time.Duration(3*cfg.Raft.ElectionTick) * cfg.Tick
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = time.Duration(cfg.Raft.ElectionTick) * cfg.Tick
	}
	if cfg.SentinelTimeout <= 0 {
		cfg.SentinelTimeout = time.Duration(5*cfg.Raft.ElectionTick) * cfg.Tick
	}
	st := tables.New()
	if cfg.SnapshotChunkBytes > 0 {
		st.ChunkBytes = cfg.SnapshotChunkBytes
	}
	n := &Node{cfg: cfg, tables: st, waiting: map[ra.ReqID]waitingCall{},
		outCalls: map[CallID]func(any, *api.Error){}, addressBook: map[uint64]string{}}
	n.raftAnswered = n.raftAnswer
	n.compose()
	n.users.committedAtStart = disk.HardState.Commit
	if cfg.Identity == nil {
		if len(disk.Entries) > 0 || disk.Snapshot != nil || !disk.HardState.IsEmpty() {
			return nil, errors.New("node: a disk with Raft state but no identity")
		}
		n.lifecycle.startFresh()
		return n, nil
	}
	if err := n.run(*cfg.Identity, disk); err != nil {
		return nil, err
	}
	n.collect()
	if row, ok := n.selfRow(); ok && row.ExpelDone() {
		return nil, fmt.Errorf("instance %s is %w", row.InstanceID, ErrExpelled)
	}
	return n, nil
}

func (c *Config) ticks(d time.Duration) int {
	t := int((d + c.Tick - 1) / c.Tick)
	return max(t, 1)
}

// ID is the instance's raft id (0 before it has one).
func (n *Node) ID() uint64 { return n.identity.RaftID }

// TakeEffects returns and clears what the node wants done.
func (n *Node) TakeEffects() []Effect {
	e := n.effects
	n.effects = nil
	return e
}

func (n *Node) emit(e Effect) {
	if n.effects == nil {
		// Room for a few from the start: growing from nil took three
		// allocations for a batch of three.
		n.effects = make([]Effect, 0, 4)
	}
	n.effects = append(n.effects, e)
}

// PersistDone reports a Persist durable.
func (n *Node) PersistDone(stream Stream, id uint64) {
	switch {
	case stream == StreamReplicasetLog:
		n.data.persistDone(id)
	case id > nodeWrite:
		n.lifecycle.firstStateDone(id)
	case n.ra != nil:
		if err := n.ra.PersistDone(id); err != nil {
			n.failStop(fmt.Errorf("persist %d: %w", id, err))
		}
	}
	n.collect()
}

// Call handles a request. user is the authenticated session user; the proc
// layer has already checked the user may call it.
func (n *Node) Call(id CallID, user string, req api.Request) {
	n.handle(user, req, func(values []any, err *api.Error) { n.emit(Reply{ID: id, Values: values, Err: err}) })
	n.collect()
}

// CallDone delivers the answer to an OutCall: result is the decoded result
// (see proc.DecodeResult), or err.
func (n *Node) CallDone(id CallID, result any, err *api.Error) {
	then, ok := n.outCalls[id]
	if !ok {
		return
	}
	delete(n.outCalls, id)
	then(result, err)
	n.collect()
}

// call makes an OutCall to the instance at addr; then receives the answer.
func (n *Node) call(addr string, req api.Request, then func(result any, err *api.Error)) {
	n.callWithin(addr, req, n.cfg.CallTimeout, then)
}

// callWithin is call with its own timeout.
func (n *Node) callWithin(addr string, req api.Request, timeout time.Duration, then func(result any, err *api.Error)) {
	n.nextOut++
	n.outCalls[n.nextOut] = then
	n.emit(OutCall{ID: n.nextOut, To: addr, Request: req, Timeout: timeout})
}

// toLeader sends req to the leader — handled here if this instance leads.
func (n *Node) toLeader(req api.Request, then func(result any, err *api.Error)) {
	st := n.ra.BasicStatus()
	switch {
	case st.State == raft.StateLeader:
		n.handle(tables.PicoServiceName, req, func(values []any, err *api.Error) {
			if err != nil {
				then(nil, err)
				return
			}
			then(values, nil)
		})
	case st.Lead == raft.None:
		then(nil, api.Errorf(api.CodeLeaderUnknown, "%s: leader unknown", req.Proc()))
	default:
		addr, ok := n.address(st.Lead)
		if !ok {
			then(nil, api.Errorf(api.CodeLeaderUnknown, "%s: address of leader %d unknown", req.Proc(), st.Lead))
			return
		}
		n.call(addr, req, then)
	}
}

// await registers that the ra request about to be made answers respond;
// then turns a successful ra reply into the return values.
func (n *Node) await(respond responder, kind string, then func(ra.Reply) ([]any, *api.Error)) ra.ReqID {
	n.nextReq++
	n.waiting[n.nextReq] = waitingCall{respond: respond, kind: kind, then: then}
	return n.nextReq
}

// collect turns what the ra server and the replicaset member want done
// into the node's effects, until neither wants more.
func (n *Node) collect() {
	for n.ra != nil {
		effects := n.ra.TakeEffects()
		for _, e := range effects {
			n.translate(e)
		}
		if !n.data.pump() && len(effects) == 0 {
			return
		}
	}
}

// raftAnswer takes the answer to a Raft call: the peer's messages to this
// instance, if it had any (consensus.hold).
func (n *Node) raftAnswer(res any, _ *api.Error) {
	if msgs, ok := res.([]raft.Message); ok && n.ra != nil {
		n.consensus.receive(msgs)
	}
}

func (n *Node) translate(e ra.Effect) {
	switch e := e.(type) {
	case ra.Send:
		if n.consensus.sendOnReply(e.To, e.Messages) {
			return
		}
		addr, ok := n.address(e.To)
		if !ok {
			n.emit(Note{Event: "no address", Detail: fmt.Sprintf("raft messages to %d dropped: its address is unknown", e.To)})
			return
		}
		n.call(addr, api.RaftInteract{Messages: e.Messages, SenderAddress: n.cfg.Self.Address}, n.raftAnswered)
	case ra.Persist:
		n.emit(Persist{Stream: StreamRaftLog, ID: e.ID, Batch: persistBatch(e, n.storedLast), Sync: e.Sync})
		if e.Snapshot != nil && e.ReplacesLog {
			n.storedLast = e.Snapshot.Meta.Index
		}
		if k := len(e.Entries); k > 0 {
			n.storedLast = e.Entries[k-1].Index
		}
	case ra.Reply:
		n.answer(e)
	case ra.FetchChunk:
		n.consensus.fetchChunk(e)
	case ra.LeaderChanged:
		n.stats.LeaderChanges++
		n.emit(Note{Event: "raft", Detail: fmt.Sprintf("%s, term %d, leader %d", e.State, e.Term, e.Leader)})
		n.roles.leaderChanged(e.Leader)
	case ra.Fatal:
		n.failStop(e.Err)
	case ra.Alert:
		n.emit(Alert{Err: e.Err})
	case ra.Terminate:
		n.stop(e.Delete, e.Reason)
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
		w.respond(nil, n.raError(r.Err, w.kind))
		return
	}
	w.respond(w.then(r))
}

// raError maps the ra layer's refusals to error replies.
func (n *Node) raError(err error, proc string) *api.Error {
	var nl *ra.NotLeaderError
	switch {
	case errors.As(err, &nl):
		if nl.Leader == raft.None {
			return api.Errorf(api.CodeLeaderUnknown, "%s: leader unknown", proc)
		}
		return n.notALeader(proc, nl.Leader)
	case errors.Is(err, ra.ErrTimeout):
		return api.Errorf(api.CodeTimeout, "%s: timeout", proc)
	case errors.Is(err, ra.ErrProposalDropped), errors.Is(err, raft.ErrProposalDropped):
		return api.Errorf(api.CodeProposalDropped, "%s: proposal dropped: %v", proc, err)
	}
	return api.Errorf(api.CodeProcLua, "%s: %v", proc, err)
}

// notALeader is the redirect a follower answers with: the message names
// the leader's raft id and, when known, its address, so that a client can
// go there; LeaderID carries the id in the error's fields.
func (n *Node) notALeader(prefix string, leader uint64) *api.Error {
	where := fmt.Sprintf("raft id %d", leader)
	if addr, ok := n.address(leader); ok {
		where += " at " + addr
	}
	return &api.Error{Code: api.CodeNotALeader, Message: prefix + ": not a leader, the leader is " + where, LeaderID: leader}
}

// address is where raft id listens: _pico_peer_address (none if a later
// join took that address over: tables.TakenOver), or what a join answer
// said before the tables caught up.
func (n *Node) address(id uint64) (string, bool) {
	if st := n.tables.Stamp(tables.TablePicoPeerAddress, tables.TablePicoInstance); st != n.peerAddrsAt {
		n.peerAddrs, n.peerTaken, n.peerAddrsAt = nil, map[uint64]bool{}, st
		if top, err := n.tables.Topology(); err == nil {
			n.peerAddrs = top.Addresses
			started := tables.StartedIDs(top.Instances)
			for id := range n.peerAddrs {
				n.peerTaken[id] = tables.TakenOver(n.peerAddrs, started, id)
			}
		}
	}
	if addr, ok := n.peerAddrs[id]; ok {
		return addr, addr != "" && !n.peerTaken[id]
	}
	addr, ok := n.addressBook[id]
	return addr, ok
}

// Status is the Raft status without the leader's view of each member
// (raft.Node.BasicStatus: cheap enough for a check after every event), for
// checks and the simulator (zero before the instance runs).
func (n *Node) Status() raft.Status {
	if n.ra == nil {
		return raft.Status{}
	}
	return n.ra.BasicStatus()
}

// SchemaVersion is the global schema version this instance has applied
// (_pico_property global_schema_version): every reply's header carries it,
// and a client reloads its schema when it changes.
func (n *Node) SchemaVersion() uint64 { return n.tables.SchemaVersion() }

// Log exposes the Raft log for the simulator's checks. Read, do not keep.
func (n *Node) Log() (prevIndex uint64, entries []raft.Entry) {
	if n.ra == nil {
		return 0, nil
	}
	return n.ra.Log()
}

// Term is the term of the entry at index i, if the log holds it.
func (n *Node) Term(i uint64) (uint64, bool) {
	if n.ra == nil {
		return 0, false
	}
	return n.ra.Term(i)
}

// Tables exposes the global tables for local reads and checks. Read only.
func (n *Node) Tables() *tables.Store { return n.tables }

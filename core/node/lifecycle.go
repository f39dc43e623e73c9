package node

import (
	"fmt"
	"slices"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/discovery"
	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/topology"
	"github.com/picogo/picogo/disk"
)

// An instance's life before it runs Raft: with an empty disk it discovers
// its peers; the one chosen boots the cluster, the others join it. Both end
// with an identity and a first state written to disk, and then the Raft
// server starts. See docs/lifecycle.md.

// Phase is where an instance is in its life.
type Phase uint8

const (
	PhaseDiscovering Phase = iota
	PhaseJoining
	PhaseStarting // writing its identity and first state
	PhaseRunning
	PhaseStopped
)

func (p Phase) String() string {
	return [...]string{"discovering", "joining", "starting", "running", "stopped"}[p]
}

// lifecycle is the module of an instance's life: discovery, boot and join
// before Raft runs; then its own target grade (Online, Offline on
// shutdown, stopping once expelled); and the topology procedures, decided
// on the leader (topology.go).
type lifecycle struct {
	*Node
	discovery    *discovery.State
	joinVia      string
	joinUUID     string
	pendingFirst *firstState
	nextWrite    uint64
	retryAt      int
	activated    bool
	shuttingDown bool
	askVia       string   // the peer last asked when no leader is known
	deferred     []func() // what waits for the next tick
}

func (m *lifecycle) register(r *registry) {
	// Discovery is answered in every phase: a discovering instance takes
	// part, a running one names its leader.
	serve(r, anyPhase, func(_ string, req api.Discover, respond responder) { respond([]any{m.discover(req)}, nil) })
	serve(r, running, func(_ string, req api.RaftJoin, respond responder) { m.topologyChange(req, respond) })
	serve(r, running, func(_ string, req api.UpdateInstance, respond responder) {
		// The instance asking (directly or through a follower) is
		// alive: the sentinel counts from here.
		m.governor.heardFromInstance(req.InstanceID)
		m.topologyChange(req, respond)
	})
	serve(r, running, func(_ string, req api.Expel, respond responder) { m.topologyChange(req, respond) })
	serve(r, running, func(_ string, req api.ReplicasetWeight, respond responder) { m.topologyChange(req, respond) })
	serve(r, running, m.expelRedirect)
	r.tick(tickRetry, anyPhase, m.retry)
	r.tick(tickDeferred, running, m.runDeferred)
	r.tick(tickActivate, running, m.activate)
}

// retry asks again, when it is time, while discovering or joining.
func (m *lifecycle) retry() {
	switch m.phase {
	case PhaseDiscovering:
		if m.ticks >= m.retryAt {
			m.discoverRound()
		}
	case PhaseJoining:
		if m.ticks >= m.retryAt {
			m.join()
		}
	}
}

// runDeferred runs what waited for the next tick.
func (m *lifecycle) runDeferred() {
	fns := m.deferred
	m.deferred = nil
	for _, fn := range fns {
		fn()
	}
}

// afterTick runs fn at the next tick.
func (m *lifecycle) afterTick(fn func()) { m.deferred = append(m.deferred, fn) }

// Self is who an instance asks to be when it first starts.
type Self struct {
	Address       string
	InstanceID    string
	ReplicasetID  string
	Tier          string
	FailureDomain map[string]string
}

// nodeWrite is the id space of the node's own writes (its identity and
// first state), apart from the Raft server's.
const nodeWrite = uint64(1) << 62

// retryTicks is how long to wait before asking again (discover, join,
// update_instance).
const retryTicks = 5

// startFresh begins discovery on an empty disk.
func (m *lifecycle) startFresh() {
	m.phase = PhaseDiscovering
	m.discovery = discovery.New(m.newUUID(), m.cfg.Peers, m.canVote())
	m.discoverRound()
}

// canVote reports whether this instance's tier votes, by the tiers a
// booting cluster would start with.
func (m *lifecycle) canVote() bool {
	tier := orDefault(m.cfg.Self.Tier, DefaultTier)
	for _, t := range m.cfg.InitTiers {
		if t.Name == tier {
			return t.CanVote
		}
	}
	return true // no init config: its own tier, voting
}

// newUUID draws a uuid from the injected randomness.
func (m *lifecycle) newUUID() string {
	r := m.cfg.Raft.Rand
	hi, lo := r.Uint64(), r.Uint64()
	hi = hi&^0xf000 | 0x4000         // version 4
	lo = lo&^(0xc<<60) | (0x8 << 60) // variant 10
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", hi>>32, hi>>16&0xffff, hi&0xffff, lo>>48, lo&0xffffffffffff)
}

// discoverRound calls every peer not heard from yet.
func (m *lifecycle) discoverRound() {
	if out, ok := m.discovery.Outcome(); ok {
		m.discovered(out)
		return
	}
	m.retryAt = m.ticks + retryTicks
	for _, addr := range m.discovery.Round() {
		m.call(addr, api.Discover{Request: m.discovery.Request(), Receiver: addr}, func(result any, err *api.Error) {
			if m.phase != PhaseDiscovering {
				return
			}
			if err != nil {
				m.discovery.Failed(addr)
				return
			}
			if resp, ok := result.(discovery.Response); ok {
				m.discovery.Answer(addr, resp)
			}
			if out, ok := m.discovery.Outcome(); ok {
				m.discovered(out)
			}
		})
	}
}

func (m *lifecycle) discovered(out discovery.Outcome) {
	if out.Bootstrap {
		m.emit(Note{Event: "lifecycle", Detail: "discovery: this instance boots the cluster"})
		m.boot()
		return
	}
	m.emit(Note{Event: "lifecycle", Detail: "discovery: joining through " + out.JoinVia})
	m.phase = PhaseJoining
	m.joinVia = out.JoinVia
	if m.joinUUID == "" {
		// Chosen here, sent from the first attempt: a retry whose first
		// answer was lost is then the same join (topology's Idempotence),
		// not a second instance whose row would claim this address.
		m.joinUUID = m.newUUID()
	}
	m.join()
}

// boot writes the cluster's first entries: this instance as the sole voter
// and its rows — the same join the leader would plan on a topology of only
// the tiers — then the tiers and the built-in users.
func (m *lifecycle) boot() {
	self := m.cfg.Self
	tier := orDefault(self.Tier, DefaultTier)
	tiers := m.cfg.InitTiers
	if len(tiers) == 0 {
		tiers = []tables.Tier{{Name: tier, ReplicationFactor: 1, CanVote: true, BucketCount: tables.DefaultBucketCount}}
	}
	plan, err := topology.PlanJoin(tables.Topology{Tiers: tiers}, m.cfg.ClusterID, topology.JoinRequest{
		ClusterID: m.cfg.ClusterID, InstanceID: self.InstanceID, ReplicasetID: self.ReplicasetID,
		Address: self.Address, FailureDomain: self.FailureDomain, Tier: tier}, m.newUUID)
	if err != nil {
		m.failStop(fmt.Errorf("boot: %w", err))
		return
	}
	ops := plan.Ops
	for _, t := range tiers {
		ops = append(ops, tables.Insert(tables.TablePicoTier, t.Tuple()...))
	}
	ops = append(ops, tables.BuiltinUsers()...)
	roles, err := m.initRoles()
	if err != nil {
		m.failStop(fmt.Errorf("boot: %w", err))
		return
	}
	ops = append(ops, roles...)
	state, err := ra.Bootstrap([]uint64{plan.Instance.RaftID}, tables.BatchOp(ops...).Encode())
	if err != nil {
		m.failStop(fmt.Errorf("boot: %w", err))
		return
	}
	m.writeFirstState(m.identityOf(plan.Instance), state, true)
}

// identityOf is the identity this instance keeps for its row.
func (m *lifecycle) identityOf(i tables.Instance) Identity {
	return Identity{ClusterID: m.cfg.ClusterID, RaftID: i.RaftID, InstanceID: i.InstanceID, Address: m.cfg.Self.Address,
		Tier: i.Tier, ReplicasetID: i.ReplicasetID, FailureDomain: i.FailureDomain}
}

// DefaultTier is the tier of an instance that names none.
const DefaultTier = "storage"

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// join asks the cluster, through joinVia, to take this instance in.
func (m *lifecycle) join() {
	self := m.cfg.Self
	m.retryAt = m.ticks + retryTicks
	req := api.RaftJoin{ClusterID: m.cfg.ClusterID, InstanceID: self.InstanceID, ReplicasetID: self.ReplicasetID,
		Address: self.Address, FailureDomain: self.FailureDomain, Tier: orDefault(self.Tier, DefaultTier),
		InstanceUUID: m.joinUUID}
	m.call(m.joinVia, req, func(result any, err *api.Error) {
		if m.phase != PhaseJoining {
			return
		}
		if err != nil {
			m.emit(Note{Event: "lifecycle", Detail: "join via " + m.joinVia + " failed: " + err.Message})
			switch err.Code {
			case api.CodeJoinRefused:
				m.failStop(fmt.Errorf("join refused: %s", err.Message))
			case api.CodeExpelled:
				// Its uuid is expelled: a join the leader took in (its
				// answer lost), then expelled before this retry. The
				// cluster is done with this instance: it stops as
				// expelled, not as failed.
				m.phase = PhaseStopped
				m.emit(Terminate{Expelled: true, Reason: "this instance is expelled: " + err.Message})
			case api.CodeConflictFound:
				// The leader decided on changed tables: ask it again.
			default:
				// Whom discovery named may be gone, or not know the
				// leader: any running peer forwards a join to the leader.
				m.joinVia = m.nextPeer(m.joinVia)
			}
			return
		}
		res, ok := result.(api.JoinResult)
		if !ok {
			return
		}
		m.joined(res)
	})
}

// nextPeerAddress is the address in _pico_peer_address after addr (not
// this instance's), or "" if there is none.
func (m *lifecycle) nextPeerAddress(addr string) string {
	top, err := m.tables.ReadTopology()
	if err != nil {
		return ""
	}
	var addrs []string
	for _, id := range sortedIDs(top.Addresses) {
		if id != m.identity.RaftID && top.Addresses[id] != "" {
			addrs = append(addrs, top.Addresses[id])
		}
	}
	if len(addrs) == 0 {
		return ""
	}
	return addrs[(slices.Index(addrs, addr)+1)%len(addrs)]
}

// nextPeer is the peer after addr in the peer list (not this instance).
func (m *lifecycle) nextPeer(addr string) string {
	var peers []string
	for _, p := range m.cfg.Peers {
		if p != m.cfg.Self.Address {
			peers = append(peers, p)
		}
	}
	if len(peers) == 0 {
		return addr
	}
	return peers[(slices.Index(peers, addr)+1)%len(peers)]
}

func (m *lifecycle) joined(res api.JoinResult) {
	i := res.Instance
	m.joinUUID = i.InstanceUUID
	peers := map[uint64]string{}
	for _, p := range res.PeerAddresses {
		peers[p.RaftID] = p.Address
	}
	m.emit(Note{Event: "lifecycle", Detail: fmt.Sprintf("joined as %s (raft id %d) in %s", i.InstanceID, i.RaftID, i.ReplicasetID)})
	id := m.identityOf(tables.Instance{RaftID: i.RaftID, InstanceID: i.InstanceID, Tier: i.Tier,
		ReplicasetID: i.ReplicasetID, FailureDomain: i.FailureDomain})
	id.JoinPeers = peers
	m.writeFirstState(id, ra.DiskState{}, false)
}

// writeFirstState makes the identity and the first state durable; the
// instance runs once they are.
func (m *lifecycle) writeFirstState(id Identity, state ra.DiskState, campaign bool) {
	m.phase = PhaseStarting
	b := &disk.Batch{}
	if len(state.Entries) > 0 || !state.HardState.IsEmpty() {
		b = BootstrapBatch(state)
	}
	SaveIdentity(b, id)
	m.nextWrite++
	wid := nodeWrite + m.nextWrite
	m.pendingFirst = &firstState{write: wid, identity: id, state: state, campaign: campaign}
	m.emit(Persist{Stream: StreamRaftLog, ID: wid, Batch: b, Sync: true})
}

type firstState struct {
	write    uint64
	identity Identity
	state    ra.DiskState
	campaign bool
}

// firstStateDone starts the Raft server once the first state is durable.
func (m *lifecycle) firstStateDone(id uint64) {
	f := m.pendingFirst
	if f == nil || f.write != id {
		return
	}
	m.pendingFirst = nil
	if err := m.run(f.identity, f.state); err != nil {
		m.failStop(err)
		return
	}
	if f.campaign {
		_ = m.ra.Elect()
	}
}

// run starts the Raft server as identity, from state.
func (n *Node) run(id Identity, state ra.DiskState) error {
	cfg := n.cfg.Raft
	cfg.ID = id.RaftID
	srv, err := ra.NewServer(ra.Config{
		Raft:           cfg,
		RequestTimeout: n.cfg.ticks(n.cfg.RequestTimeout),
		SnapshotEvery:  n.cfg.SnapshotEvery,
	}, n.tables, state)
	if err != nil {
		return err
	}
	n.identity, n.ra, n.phase = id, srv, PhaseRunning
	if err := n.data.start(n.cfg.Recovered); err != nil {
		return err
	}
	n.storedLast = 0
	if k := len(state.Entries); k > 0 {
		n.storedLast = state.Entries[k-1].Index
	} else if state.Snapshot != nil {
		n.storedLast = state.Snapshot.Meta.Index
	}
	for raftID, addr := range id.JoinPeers {
		n.addressBook[raftID] = addr
	}
	n.emit(Started{Identity: id})
	return nil
}

// Identity is who this instance is (once it has one).
func (n *Node) Identity() (Identity, bool) {
	return n.identity, n.phase >= PhaseStarting && n.identity.RaftID != 0
}

// Phase is where the instance is in its life.
func (n *Node) Phase() Phase { return n.phase }

// selfRow is this instance's row in _pico_instance, if there is one yet.
func (n *Node) selfRow() (tables.Instance, bool) {
	top, err := n.tables.Topology()
	if err != nil {
		return tables.Instance{}, false
	}
	return top.Instance(n.identity.InstanceID)
}

// activate keeps this instance's target grade where it wants it: Online
// (with a new incarnation, once per start) unless it is shutting down, then
// Offline. An expelled instance stops.
func (m *lifecycle) activate() {
	if m.phase != PhaseRunning || m.ticks < m.retryAt {
		return
	}
	row, ok := m.selfRow()
	if !ok {
		return // not caught up with its own join yet
	}
	switch {
	case row.Expelled():
		// A target Expelled is never undone: the instance stops once it
		// no longer votes (the governor demotes it first) and the voters
		// left have synced that (raft.Node.RemovalSettled). If it does not
		// hear that — it crashed before those entries reached it, and is
		// no member by now — it asks: the leader answers CodeExpelled once
		// its current grade is Expelled.
		// Even the only voter waits: expelled, it would take the cluster's
		// last vote with it for good (the governor promotes another and
		// hands leadership over first).
		if row.ExpelDone() || m.ra.RemovalSettled() {
			m.phase = PhaseStopped
			m.emit(Terminate{Expelled: true, Reason: "this instance is expelled"})
			return
		}
		m.askTarget(tables.GradeOnline)
	case m.shuttingDown:
		if row.Current.Variant == tables.GradeOffline && row.Target.Variant == tables.GradeOffline && m.mayLeave() {
			// Its roles stop first (docs/roles.md), dependents first;
			// then the replicaset log checkpoints, so that the next start
			// replays nothing.
			m.roles.stopAll(func() {
				m.data.checkpointThen(func() { m.stop(false, "graceful shutdown") })
			})
			return
		}
		if row.Target.Variant != tables.GradeOffline {
			m.askTarget(tables.GradeOffline)
		}
	case !m.activated || row.Target.Variant != tables.GradeOnline:
		// Once per start (a new incarnation), and again whenever someone
		// (the sentinel) set it Offline while it runs.
		m.askTarget(tables.GradeOnline)
	}
}

// mayLeave reports whether this instance, Offline, may stop without taking
// a vote from the cluster: it is no voter any more (the governor demotes
// Offline voters) and the voters left can prove it whatever crashes next
// (raft.Node.RemovalSettled), or it is the only voter — then nobody could
// take its place.
func (m *lifecycle) mayLeave() bool {
	cs := m.ra.BasicStatus().ConfState
	return m.ra.RemovalSettled() || (len(cs.Voters) == 1 && len(cs.VotersOutgoing) == 0 && m.isVoter())
}

// isVoter reports whether this instance votes in the configuration it has
// applied (incoming or outgoing).
func (m *lifecycle) isVoter() bool {
	cs := m.ra.BasicStatus().ConfState
	return slices.Contains(cs.Voters, m.identity.RaftID) || slices.Contains(cs.VotersOutgoing, m.identity.RaftID)
}

// Activated reports whether this instance, since it started, has had its
// request for target Online accepted.
func (n *Node) Activated() bool { return n.lifecycle.activated }

// askTarget asks the leader to set this instance's target grade.
func (m *lifecycle) askTarget(variant string) {
	m.retryAt = m.ticks + retryTicks
	req := api.UpdateInstance{InstanceID: m.identity.InstanceID, ClusterID: m.cfg.ClusterID, TargetGrade: variant}
	answer := func(_ any, err *api.Error) {
		switch {
		case err == nil && variant == tables.GradeOnline:
			m.activated = true
		case err != nil && err.Code == api.CodeNotReady && m.retryAt > m.ticks+1:
			// The leader is catching up (a new one, before it applied an
			// entry of its term: a restarted sole voter, a tick after its
			// start) or the instance asked is starting: a tick, not
			// retryTicks, is enough.
			m.retryAt = m.ticks + 1
		case err != nil && err.Code == api.CodeExpelled:
			// Expelled while it was away: its log may never say so (it
			// is no member any more), the leader does.
			m.phase = PhaseStopped
			m.emit(Terminate{Expelled: true, Reason: "this instance is expelled: " + err.Message})
		}
	}
	if m.ra.BasicStatus().Lead == raft.None {
		// No leader heard of — perhaps because this instance is no
		// member any more: any peer forwards to the leader.
		m.askVia = m.nextPeerAddress(m.askVia)
		if m.askVia != "" {
			m.call(m.askVia, req, answer)
		}
		return
	}
	m.toLeader(req, answer)
}

// Shutdown asks the cluster to take this instance Offline, then stops it
// (Terminate) once it is; a leader hands leadership over first (the
// governor sees its target).
func (n *Node) Shutdown() { n.lifecycle.shutdown() }

func (m *lifecycle) shutdown() {
	if m.phase != PhaseRunning {
		m.stop(false, "shutdown")
		return
	}
	m.shuttingDown = true
	m.retryAt = 0
	m.activate()
	m.collect()
}

// failStop stops the instance for good on an error it cannot go on from.
func (n *Node) failStop(err error) {
	if n.phase == PhaseStopped {
		return
	}
	n.phase = PhaseStopped
	n.emit(FailStop{Err: err})
}

// PersistFailed reports that a Persist could not be made durable: the
// instance cannot go on (as etcd and TigerBeetle, it does not guess what
// reached the disk).
func (n *Node) PersistFailed(stream Stream, id uint64, err error) {
	n.failStop(fmt.Errorf("disk write %d on the %s: %w", id, stream, err))
}

func (n *Node) stop(del bool, reason string) {
	if n.phase == PhaseStopped {
		return
	}
	n.phase = PhaseStopped
	n.emit(Terminate{Delete: del, Reason: reason})
}

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
func (n *Node) startFresh() {
	n.phase = PhaseDiscovering
	n.discovery = discovery.New(n.newUUID(), n.cfg.Peers, n.canVote())
	n.discoverRound()
}

// canVote reports whether this instance's tier votes, by the tiers a
// booting cluster would start with.
func (n *Node) canVote() bool {
	tier := orDefault(n.cfg.Self.Tier, DefaultTier)
	for _, t := range n.cfg.InitTiers {
		if t.Name == tier {
			return t.CanVote
		}
	}
	return true // no init config: its own tier, voting
}

// newUUID draws a uuid from the injected randomness.
func (n *Node) newUUID() string {
	r := n.cfg.Raft.Rand
	hi, lo := r.Uint64(), r.Uint64()
	hi = hi&^0xf000 | 0x4000         // version 4
	lo = lo&^(0xc<<60) | (0x8 << 60) // variant 10
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", hi>>32, hi>>16&0xffff, hi&0xffff, lo>>48, lo&0xffffffffffff)
}

// discoverRound calls every peer not heard from yet.
func (n *Node) discoverRound() {
	if out, ok := n.discovery.Outcome(); ok {
		n.discovered(out)
		return
	}
	n.retryAt = n.ticks + retryTicks
	for _, addr := range n.discovery.Round() {
		n.call(addr, api.Discover{Request: n.discovery.Request(), Receiver: addr}, func(result any, err *api.Error) {
			if n.phase != PhaseDiscovering {
				return
			}
			if err != nil {
				n.discovery.Failed(addr)
				return
			}
			if resp, ok := result.(discovery.Response); ok {
				n.discovery.Answer(addr, resp)
			}
			if out, ok := n.discovery.Outcome(); ok {
				n.discovered(out)
			}
		})
	}
}

func (n *Node) discovered(out discovery.Outcome) {
	if out.Bootstrap {
		n.emit(Note{Event: "lifecycle", Detail: "discovery: this instance boots the cluster"})
		n.boot()
		return
	}
	n.emit(Note{Event: "lifecycle", Detail: "discovery: joining through " + out.JoinVia})
	n.phase = PhaseJoining
	n.joinVia = out.JoinVia
	n.join()
}

// boot writes the cluster's first entries: this instance as the sole voter
// and its rows — the same join the leader would plan on a topology of only
// the tiers — then the tiers and the built-in users.
func (n *Node) boot() {
	self := n.cfg.Self
	tier := orDefault(self.Tier, DefaultTier)
	tiers := n.cfg.InitTiers
	if len(tiers) == 0 {
		tiers = []tables.Tier{{Name: tier, ReplicationFactor: 1, CanVote: true, BucketCount: tables.DefaultBucketCount}}
	}
	plan, err := topology.PlanJoin(tables.Topology{Tiers: tiers}, n.cfg.ClusterID, topology.JoinRequest{
		ClusterID: n.cfg.ClusterID, InstanceID: self.InstanceID, ReplicasetID: self.ReplicasetID,
		Address: self.Address, FailureDomain: self.FailureDomain, Tier: tier}, n.newUUID)
	if err != nil {
		n.failStop(fmt.Errorf("boot: %w", err))
		return
	}
	ops := plan.Ops
	for _, t := range tiers {
		ops = append(ops, tables.Insert(tables.TablePicoTier, t.Tuple()...))
	}
	ops = append(ops, tables.BuiltinUsers()...)
	state, err := ra.Bootstrap([]uint64{plan.Instance.RaftID}, tables.BatchOp(ops...).Encode())
	if err != nil {
		n.failStop(fmt.Errorf("boot: %w", err))
		return
	}
	n.writeFirstState(n.identityOf(plan.Instance), state, true)
}

// identityOf is the identity this instance keeps for its row.
func (n *Node) identityOf(i tables.Instance) Identity {
	return Identity{ClusterID: n.cfg.ClusterID, RaftID: i.RaftID, InstanceID: i.InstanceID, Address: n.cfg.Self.Address,
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
func (n *Node) join() {
	self := n.cfg.Self
	n.retryAt = n.ticks + retryTicks
	req := api.RaftJoin{ClusterID: n.cfg.ClusterID, InstanceID: self.InstanceID, ReplicasetID: self.ReplicasetID,
		Address: self.Address, FailureDomain: self.FailureDomain, Tier: orDefault(self.Tier, DefaultTier),
		InstanceUUID: n.joinUUID}
	n.call(n.joinVia, req, func(result any, err *api.Error) {
		if n.phase != PhaseJoining {
			return
		}
		if err != nil {
			n.emit(Note{Event: "lifecycle", Detail: "join via " + n.joinVia + " failed: " + err.Message})
			switch err.Code {
			case api.CodeJoinRefused:
				n.failStop(fmt.Errorf("join refused: %s", err.Message))
			case api.CodeConflictFound:
				// The leader decided on changed tables: ask it again.
			default:
				// Whom discovery named may be gone, or not know the
				// leader: any running peer forwards a join to the leader.
				n.joinVia = n.nextPeer(n.joinVia)
			}
			return
		}
		res, ok := result.(api.JoinResult)
		if !ok {
			return
		}
		n.joined(res)
	})
}

// nextPeerAddress is the address in _pico_peer_address after addr (not
// this instance's), or "" if there is none.
func (n *Node) nextPeerAddress(addr string) string {
	top, err := n.tables.ReadTopology()
	if err != nil {
		return ""
	}
	var addrs []string
	for _, id := range sortedIDs(top.Addresses) {
		if id != n.identity.RaftID && top.Addresses[id] != "" {
			addrs = append(addrs, top.Addresses[id])
		}
	}
	if len(addrs) == 0 {
		return ""
	}
	return addrs[(slices.Index(addrs, addr)+1)%len(addrs)]
}

// nextPeer is the peer after addr in the peer list (not this instance).
func (n *Node) nextPeer(addr string) string {
	var peers []string
	for _, p := range n.cfg.Peers {
		if p != n.cfg.Self.Address {
			peers = append(peers, p)
		}
	}
	if len(peers) == 0 {
		return addr
	}
	return peers[(slices.Index(peers, addr)+1)%len(peers)]
}

func (n *Node) joined(res api.JoinResult) {
	i := res.Instance
	n.joinUUID = i.InstanceUUID
	peers := map[uint64]string{}
	for _, p := range res.PeerAddresses {
		peers[p.RaftID] = p.Address
	}
	n.emit(Note{Event: "lifecycle", Detail: fmt.Sprintf("joined as %s (raft id %d) in %s", i.InstanceID, i.RaftID, i.ReplicasetID)})
	id := n.identityOf(tables.Instance{RaftID: i.RaftID, InstanceID: i.InstanceID, Tier: i.Tier,
		ReplicasetID: i.ReplicasetID, FailureDomain: i.FailureDomain})
	id.JoinPeers = peers
	n.writeFirstState(id, ra.DiskState{}, false)
}

// writeFirstState makes the identity and the first state durable; the
// instance runs once they are.
func (n *Node) writeFirstState(id Identity, state ra.DiskState, campaign bool) {
	n.phase = PhaseStarting
	b := &disk.Batch{}
	if len(state.Entries) > 0 || !state.HardState.IsEmpty() {
		b = BootstrapBatch(state)
	}
	SaveIdentity(b, id)
	n.nextWrite++
	wid := nodeWrite + n.nextWrite
	n.pendingFirst = &firstState{write: wid, identity: id, state: state, campaign: campaign}
	n.emit(Persist{Stream: StreamRaftLog, ID: wid, Batch: b, Sync: true})
}

type firstState struct {
	write    uint64
	identity Identity
	state    ra.DiskState
	campaign bool
}

// firstStateDone starts the Raft server once the first state is durable.
func (n *Node) firstStateDone(id uint64) {
	f := n.pendingFirst
	if f == nil || f.write != id {
		return
	}
	n.pendingFirst = nil
	if err := n.run(f.identity, f.state); err != nil {
		n.failStop(err)
		return
	}
	if f.campaign {
		_ = n.ra.Elect()
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
	row, ok, err := n.tables.Get(tables.TablePicoInstance, []any{n.identity.InstanceID})
	if err != nil || !ok {
		return tables.Instance{}, false
	}
	inst, err := tables.InstanceFrom(row.Values())
	return inst, err == nil
}

// activate keeps this instance's target grade where it wants it: Online
// (with a new incarnation, once per start) unless it is shutting down, then
// Offline. An expelled instance stops.
func (n *Node) activate() {
	if n.phase != PhaseRunning || n.ticks < n.retryAt {
		return
	}
	row, ok := n.selfRow()
	if !ok {
		return // not caught up with its own join yet
	}
	switch {
	case row.Target.Variant == tables.GradeExpelled || row.Current.Variant == tables.GradeExpelled:
		// A target Expelled is never undone: the instance stops once it
		// no longer votes (the governor demotes it first) and the voters
		// left have synced that (raft.Node.RemovalSettled). If it does not
		// hear that — it crashed before those entries reached it, and is
		// no member by now — it asks: the leader answers CodeExpelled once
		// its current grade is Expelled.
		// Even the only voter waits: expelled, it would take the cluster's
		// last vote with it for good (the governor promotes another and
		// hands leadership over first).
		if row.Current.Variant == tables.GradeExpelled || n.ra.RemovalSettled() {
			n.phase = PhaseStopped
			n.emit(Terminate{Expelled: true, Reason: "this instance is expelled"})
			return
		}
		n.askTarget(tables.GradeOnline)
	case n.shuttingDown:
		if row.Current.Variant == tables.GradeOffline && row.Target.Variant == tables.GradeOffline && n.mayLeave() {
			n.stop(false, "graceful shutdown")
			return
		}
		if row.Target.Variant != tables.GradeOffline {
			n.askTarget(tables.GradeOffline)
		}
	case !n.activated || row.Target.Variant != tables.GradeOnline:
		// Once per start (a new incarnation), and again whenever someone
		// (the sentinel) set it Offline while it runs.
		n.askTarget(tables.GradeOnline)
	}
}

// mayLeave reports whether this instance, Offline, may stop without taking
// a vote from the cluster: it is no voter any more (the governor demotes
// Offline voters) and the voters left can prove it whatever crashes next
// (raft.Node.RemovalSettled), or it is the only voter — then nobody could
// take its place.
func (n *Node) mayLeave() bool {
	cs := n.ra.BasicStatus().ConfState
	return n.ra.RemovalSettled() || (len(cs.Voters) == 1 && len(cs.VotersOutgoing) == 0 && n.isVoter())
}

// isVoter reports whether this instance votes in the configuration it has
// applied (incoming or outgoing).
func (n *Node) isVoter() bool {
	cs := n.ra.BasicStatus().ConfState
	return slices.Contains(cs.Voters, n.identity.RaftID) || slices.Contains(cs.VotersOutgoing, n.identity.RaftID)
}

// Activated reports whether this instance, since it started, has had its
// request for target Online accepted.
func (n *Node) Activated() bool { return n.activated }

// askTarget asks the leader to set this instance's target grade.
func (n *Node) askTarget(variant string) {
	n.retryAt = n.ticks + retryTicks
	req := api.UpdateInstance{InstanceID: n.identity.InstanceID, ClusterID: n.cfg.ClusterID, TargetGrade: variant}
	answer := func(_ any, err *api.Error) {
		switch {
		case err == nil && variant == tables.GradeOnline:
			n.activated = true
		case err != nil && err.Code == api.CodeExpelled:
			// Expelled while it was away: its log may never say so (it
			// is no member any more), the leader does.
			n.phase = PhaseStopped
			n.emit(Terminate{Expelled: true, Reason: "this instance is expelled: " + err.Message})
		}
	}
	if n.ra.BasicStatus().Lead == raft.None {
		// No leader heard of — perhaps because this instance is no
		// member any more: any peer forwards to the leader.
		n.askVia = n.nextPeerAddress(n.askVia)
		if n.askVia != "" {
			n.call(n.askVia, req, answer)
		}
		return
	}
	n.toLeader(req, answer)
}

// Shutdown asks the cluster to take this instance Offline, then stops it
// (Terminate) once it is; a leader hands leadership over first (the
// governor sees its target).
func (n *Node) Shutdown() {
	if n.phase != PhaseRunning {
		n.stop(false, "shutdown")
		return
	}
	n.shuttingDown = true
	n.retryAt = 0
	n.activate()
	n.collect()
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

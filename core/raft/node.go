package raft

import (
	"errors"
	"fmt"
	"slices"

	"github.com/picogo/picogo/core/mutant"
)

// Node is one Raft node as a pure state machine. Its inputs are the methods
// below (events); its outputs are collected in Ready (effects). It does no
// IO, starts no goroutines and reads no clock: the same Node runs under the
// simulator and in production.
//
// The driver's loop:
//
//	feed events (Tick, Step, Propose, ...)
//	rd := n.Ready()
//	send rd.Messages now
//	if rd.CommittedEntries: apply them, then n.Applied()
//	if rd.Write != nil: persist it (sync if MustSync); once durable send
//	   MessagesAfterPersist, then n.Advance()
//
// At most one Write is outstanding; events may keep arriving meanwhile and
// Ready keeps handing out messages that need no write, and committed
// entries: an entry is applied as soon as it is committed and durable here,
// not with the next write (which, on a busy leader, is one fsync later).
type Node struct {
	r        *raft
	prevHard HardState
	prevSoft SoftState
	writing  *Write
	// applyingOut: CommittedEntries were handed out and Applied is due.
	applyingOut bool
}

// State is what a node's disk held at start: the hard state, the newest
// durable snapshot's meta (zero if none), and the entries after it.
type State struct {
	HardState HardState
	Snapshot  SnapshotMeta
	Entries   []Entry
}

// Bootstrap is the initial durable state of each founding member of a new
// cluster: one entry at term 1 that makes them voters, already committed.
// Every founder must be given the same voters. Nodes added later start from
// an empty State and learn everything from the leader.
func Bootstrap(voters ...uint64) (State, error) {
	if len(voters) == 0 {
		return State{}, errors.New("raft: bootstrap needs at least one voter")
	}
	cc := ConfChange{}
	for _, id := range voters {
		cc.Changes = append(cc.Changes, ConfChangeSingle{Type: AddVoter, NodeID: id})
	}
	if _, err := applyConfChange(ConfState{}, cc); err != nil {
		return State{}, err
	}
	return State{
		HardState: HardState{Term: 1, Commit: 1},
		Entries:   []Entry{{Term: 1, Index: 1, Type: EntryConfChange, Data: cc.Marshal()}},
	}, nil
}

// New creates a node from its configuration and restored state.
func New(cfg Config, st State) (*Node, error) {
	r, err := newRaft(cfg, st)
	if err != nil {
		return nil, err
	}
	return &Node{r: r, prevHard: st.HardState, prevSoft: r.softState()}, nil
}

// Tick advances logical time by one tick.
func (n *Node) Tick() { n.r.tick() }

// Step hands the node a message from another node. Malformed or misrouted
// messages are refused with an error; nothing from the network can make it
// panic.
func (n *Node) Step(m Message) error {
	r := n.r
	if err := validateMessage(m, r.id); err != nil {
		return err
	}
	if m.Type.isResponse() && !r.isMember(m.From) && m.From != r.lead {
		return ErrStepPeerNotFound
	}
	return r.step(m)
}

// Campaign starts an election now (openraft's elect, Picodata's
// raft_promote). With PreVote it asks first whether it could win.
func (n *Node) Campaign() error {
	return n.r.step(Message{Type: MsgHup})
}

// Propose appends commands on the leader and returns the index and term of
// the first; a follower forwards them to the leader (index 0) unless
// forwarding is disabled.
func (n *Node) Propose(data ...[]byte) (index, term uint64, err error) {
	if len(data) == 0 {
		return 0, 0, errors.New("raft: empty proposal")
	}
	ents := make([]Entry, len(data))
	for i, d := range data {
		ents[i] = Entry{Type: EntryNormal, Data: d}
	}
	return n.r.propose(ents)
}

// ProposeConfChange proposes a membership change. It is validated against
// the configuration in force; one change is in flight at a time.
func (n *Node) ProposeConfChange(cc ConfChange) (index, term uint64, err error) {
	if _, err := applyConfChange(n.r.conf, cc); err != nil {
		return 0, 0, err
	}
	return n.r.propose([]Entry{{Type: EntryConfChange, Data: cc.Marshal()}})
}

// propose appends on the leader or forwards from a follower.
func (r *raft) propose(ents []Entry) (uint64, uint64, error) {
	if r.state != StateLeader {
		return 0, 0, r.step(Message{Type: MsgProp, From: r.id, Entries: ents})
	}
	idx, err := r.leaderPropose(ents)
	return idx, r.term, err
}

// leaderPropose appends local or forwarded proposals; a conf change travels
// alone.
func (r *raft) leaderPropose(ents []Entry) (uint64, error) {
	if r.leadTransferee != None {
		return 0, ErrProposalDropped
	}
	for i := range ents {
		if ents[i].Type != EntryConfChange {
			continue
		}
		if len(ents) != 1 {
			return 0, &InvalidConfChangeError{Reason: "a conf change must be proposed alone"}
		}
		cc, err := UnmarshalConfChange(ents[0].Data)
		if err != nil {
			return 0, err
		}
		idx, _, err := r.appendConfChange(cc)
		return idx, err
	}
	// The caller's entries stay as they were (a transport may still hold
	// the message); the log gets its own copies, numbered.
	return r.appendEntries(slices.Clone(ents)...)
}

// ReadIndex asks for a linearizable read index. The answer arrives as a
// ReadState carrying ctx; on a follower the request goes to the leader.
func (n *Node) ReadIndex(ctx []byte) error {
	return n.r.step(Message{Type: MsgReadIndex, From: n.r.id, Context: ctx})
}

// TransferLeader hands leadership to voter to; a follower forwards the
// request to the leader.
func (n *Node) TransferLeader(to uint64) error {
	r := n.r
	if r.state == StateLeader {
		return r.handleTransferLeader(to)
	}
	return r.step(Message{Type: MsgTransferLeader, From: to})
}

// Heartbeat sends a heartbeat round now (openraft's trigger heartbeat).
func (n *Node) Heartbeat() error {
	if n.r.state != StateLeader {
		return &NotLeaderError{Leader: n.r.lead}
	}
	n.r.bcastHeartbeat()
	return nil
}

// PurgeLog drops entries up to upto, never past the newest durable snapshot,
// and on the leader not while an active follower still needs them: what
// cannot be purged yet is purged later.
func (n *Node) PurgeLog(upto uint64) { n.r.purgeLog(upto) }

// AllowNextRevert lets the leader, once, restart replication to a follower
// whose log went backwards (its data was wiped on purpose) instead of
// treating it as fatal. allow=false withdraws the permission.
func (n *Node) AllowNextRevert(to uint64, allow bool) error {
	r := n.r
	if r.state != StateLeader {
		return &NotLeaderError{Leader: r.lead}
	}
	pr := r.progress[to]
	if pr == nil || to == r.id {
		return ErrUnknownPeer
	}
	if !allow {
		delete(r.allowRevert, to)
		return nil
	}
	if pr.reverted {
		// Already detected: recover now.
		r.restartReplication(to, pr, 0)
		return nil
	}
	r.allowRevert[to] = true
	return nil
}

// ReportUnreachable tells the leader a message to id could not be delivered:
// stop streaming to it and probe.
func (n *Node) ReportUnreachable(id uint64) {
	if pr := n.r.progress[id]; n.r.state == StateLeader && pr != nil && pr.State == StateReplicate {
		pr.becomeProbe()
	}
}

// ReportSnapshot tells the leader a snapshot could not reach id, so that it is
// offered again.
func (n *Node) ReportSnapshot(id uint64, failed bool) {
	if pr := n.r.progress[id]; n.r.state == StateLeader && pr != nil && pr.State == StateSnapshot && failed {
		pr.becomeProbe()
		pr.ProbeSent = true // wait for the next heartbeat before retrying
	}
}

// SnapshotMeta describes a snapshot of the state machine as applied now; the
// application pairs it with its data, makes both durable and then calls
// SnapshotTaken.
func (n *Node) SnapshotMeta() (SnapshotMeta, error) {
	l := n.r.log
	if l.applied == 0 || l.applied <= l.snapshot.Index || n.r.confIndex > l.applied {
		// Nothing new, or still replaying: the configuration is ahead of
		// what is applied.
		return SnapshotMeta{}, ErrNoSnapshot
	}
	t, ok := l.term(l.applied)
	if !ok {
		return SnapshotMeta{}, ErrNoSnapshot
	}
	return SnapshotMeta{Index: l.applied, Term: t, ConfState: cloneConfState(n.r.conf)}, nil
}

// SnapshotTaken records that the snapshot meta describes is durable: it is
// now what followers that fall behind receive, and entries up to it may be
// purged.
func (n *Node) SnapshotTaken(meta SnapshotMeta) error {
	l := n.r.log
	switch {
	case meta.Index <= l.snapshot.Index:
		return ErrSnapshotOutOfDate
	case meta.Index > l.applied:
		return fmt.Errorf("raft: snapshot at %d is beyond applied %d", meta.Index, l.applied)
	case !l.matchTerm(meta.Index, meta.Term):
		return fmt.Errorf("raft: snapshot at %d/%d does not match the log", meta.Index, meta.Term)
	}
	l.snapshot = meta
	n.r.maybePurge()
	return nil
}

// SoftState is volatile state worth reporting when it changes.
type SoftState struct {
	Lead  uint64
	State StateType
}

func (r *raft) softState() SoftState { return SoftState{Lead: r.lead, State: r.state} }

// Ready is everything the node wants done since the last call.
type Ready struct {
	// SoftState is set when the leader or this node's role changed.
	SoftState *SoftState
	// Messages may be sent at once.
	Messages []Message
	// ReadStates are confirmed read indexes.
	ReadStates []ReadState
	// Errors are fatal conditions to report (e.g. a follower's log reverted).
	Errors []error
	// CommittedEntries are committed and durable on this node: apply them,
	// in order, then call Applied before the next Ready.
	CommittedEntries []Entry
	// Write is state to make durable; nil when none or one is outstanding.
	Write *Write
}

// Write is one atomic write, and what depends on it.
type Write struct {
	// HardState to store, if changed.
	HardState *HardState
	// Snapshot received from the leader: store it and restore the state
	// machine from it. It replaces the whole log: delete every entry.
	Snapshot *Snapshot
	// Entries to store; they replace any stored entry from Entries[0].Index on.
	Entries []Entry
	// PurgeTo: delete stored entries up to and including this index.
	PurgeTo uint64
	// MustSync: the write must be synced (fsync) before it counts as durable.
	MustSync bool
	// After the write is durable: send these, then Advance.
	MessagesAfterPersist []Message

	syncsCommit uint64 // the commit index this write makes synced, if MustSync
}

func (w *Write) empty() bool {
	return w.HardState == nil && w.Snapshot == nil && len(w.Entries) == 0 && w.PurgeTo == 0 &&
		len(w.MessagesAfterPersist) == 0
}

// maxApplyBytes bounds the committed entries handed out in one Ready.
const maxApplyBytes = 64 << 20

// HasReady reports whether Ready would return anything.
func (n *Node) HasReady() bool {
	r := n.r
	if len(r.msgs) > 0 || len(r.readStates) > 0 || len(r.errors) > 0 || r.softState() != n.prevSoft ||
		(r.state == StateLeader && r.reads.round < r.reads.wantRound) {
		return true
	}
	if !n.applyingOut && r.log.hasNextCommitted(r.cfg.mutants.Has(mutant.ApplyBeforeCommit)) {
		return true
	}
	return n.writing == nil && n.hasWrite()
}

// hasWrite is !peekWrite().empty() without building the write: HasReady
// is asked after every event.
func (n *Node) hasWrite() bool {
	r := n.r
	return r.log.pendingSnapshot != nil || len(r.log.unstableEntries()) > 0 || r.purgedTo != 0 ||
		len(r.msgsAfterPersist) > 0 || r.hardState() != n.prevHard
}

// Ready collects the node's effects. See Node for the contract.
func (n *Node) Ready() Ready {
	r := n.r
	if n.applyingOut {
		panic("raft: Ready before the last Ready's CommittedEntries were Applied")
	}
	r.startWantedRound()
	rd := Ready{Messages: r.msgs, ReadStates: r.readStates, Errors: r.errors}
	if ents := r.log.nextCommitted(maxApplyBytes, r.cfg.mutants.Has(mutant.ApplyBeforeCommit)); len(ents) > 0 {
		rd.CommittedEntries = slices.Clone(ents)
		r.log.applying = ents[len(ents)-1].Index
		n.applyingOut = true
	}
	r.msgs, r.readStates, r.errors = nil, nil, nil
	if len(rd.Messages) > 0 {
		r.msgsHint = len(rd.Messages)
	}
	if ss := r.softState(); ss != n.prevSoft {
		n.prevSoft = ss
		changed := ss // allocated only here: &ss would be at every Ready
		rd.SoftState = &changed
	}
	if n.writing == nil && n.hasWrite() {
		w := n.peekWrite()
		n.takeWrite(w)
		rd.Write = w
	}
	return rd
}

// peekWrite builds the next write without taking it. Slices are copied:
// the log may change under an outstanding write.
func (n *Node) peekWrite() *Write {
	r := n.r
	w := &Write{
		Snapshot:             r.log.pendingSnapshot,
		Entries:              slices.Clone(r.log.unstableEntries()),
		PurgeTo:              r.purgedTo,
		MessagesAfterPersist: r.msgsAfterPersist,
	}
	if hs := r.hardState(); hs != n.prevHard {
		changed := hs // allocated only here: &hs would be at every peek
		w.HardState = &changed
	}
	_, holdsConfCommit := r.log.unsyncedCommittedConfChange()
	w.MustSync = len(w.Entries) > 0 || w.Snapshot != nil || holdsConfCommit ||
		(w.HardState != nil && (w.HardState.Term != n.prevHard.Term || w.HardState.Vote != n.prevHard.Vote))
	if w.MustSync {
		w.syncsCommit = r.log.committed
	}
	return w
}

func (n *Node) takeWrite(w *Write) {
	r := n.r
	n.writing = w
	r.msgsAfterPersist = nil
	r.purgedTo = 0
	if w.HardState != nil {
		n.prevHard = *w.HardState
	}
}

// Applied reports the last Ready's CommittedEntries applied. It returns the
// outcome of each conf change among them.
func (n *Node) Applied() []ConfChangeResult {
	if !n.applyingOut {
		panic("raft: Applied without CommittedEntries handed out")
	}
	n.applyingOut = false
	r := n.r
	l := r.log
	ents, ok := l.slice(l.applied+1, l.applying+1, ^uint64(0), int(^uint(0)>>1))
	if !ok {
		panic(fmt.Sprintf("raft: entries %d..%d being applied are purged", l.applied+1, l.applying))
	}
	var results []ConfChangeResult
	for _, e := range ents {
		if e.Type == EntryConfChange && e.Index > r.confIndex {
			results = append(results, r.applyConfChangeEntry(e))
		}
	}
	l.applied = l.applying
	r.maybeAutoLeave()
	r.maybePurge()
	return results
}

// Advance reports the outstanding Write durable.
func (n *Node) Advance() {
	w := n.writing
	if w == nil {
		panic("raft: Advance without an outstanding Write")
	}
	if n.applyingOut {
		panic("raft: Advance before the last Ready's CommittedEntries were Applied")
	}
	n.writing = nil
	r := n.r
	l := r.log
	if w.HardState != nil {
		r.durableTerm = max(r.durableTerm, w.HardState.Term)
	}
	advertised := r.advertisedCommit()
	l.committedSynced = max(l.committedSynced, w.syncsCommit)
	if r.state == StateLeader && r.advertisedCommit() > advertised {
		r.bcastAppend()
	}
	if w.Snapshot != nil {
		if l.pendingSnapshot == w.Snapshot {
			l.pendingSnapshot = nil
		}
		l.applying = max(l.applying, w.Snapshot.Meta.Index)
		l.applied = max(l.applied, w.Snapshot.Meta.Index)
	}
	if k := len(w.Entries); k > 0 {
		l.stableTo(w.Entries[k-1].Index, w.Entries[k-1].Term)
	}
	if r.state == StateLeader {
		if self := r.progress[r.id]; self != nil && self.maybeUpdate(l.stable) && r.maybeCommit() {
			r.bcastAppend()
		}
	}
	r.maybePurge()
}

// RemovalSettled reports whether this node, no voter any more, may stop for
// good: a leader voting in the new configuration has synced the change.
func (n *Node) RemovalSettled() bool { return n.r.removalSettled() }

// Term returns the term of the entry at index i, if the log still holds it
// (or i is where it was purged).
func (n *Node) Term(i uint64) (uint64, bool) { return n.r.log.term(i) }

// Log returns the index before the first held entry and the held entries,
// persisted or not. The slice is the node's own: read it, do not keep it.
func (n *Node) Log() (prevIndex uint64, entries []Entry) {
	return n.r.log.prevIndex, n.r.log.entries
}

// cloneConfState copies the four lists into one allocation (BasicStatus
// is asked after most events): each gets a part of it, capped, so that an
// append to one never writes into the next.
func cloneConfState(cs ConfState) ConfState {
	n := len(cs.Voters) + len(cs.VotersOutgoing) + len(cs.Learners) + len(cs.LearnersNext)
	if n == 0 {
		return ConfState{AutoLeave: cs.AutoLeave}
	}
	all := make([]uint64, 0, n)
	part := func(ids []uint64) []uint64 {
		if ids == nil {
			return nil
		}
		start := len(all)
		all = append(all, ids...)
		return all[start:len(all):len(all)]
	}
	return ConfState{
		Voters: part(cs.Voters), VotersOutgoing: part(cs.VotersOutgoing),
		Learners: part(cs.Learners), LearnersNext: part(cs.LearnersNext),
		AutoLeave: cs.AutoLeave,
	}
}

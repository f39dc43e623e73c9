package ra

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/picogo/picogo/core/raft"
)

// Config configures a Server.
type Config struct {
	Raft raft.Config
	// RequestTimeout: ticks after which an unanswered request fails with
	// ErrTimeout (default: 3 election timeouts).
	RequestTimeout int
	// SnapshotEvery: take a snapshot and purge the log once this many
	// entries were applied since the last one (0: only when triggered) —
	// and they are at least as many bytes as the last snapshot, so that a
	// snapshot of the whole state costs each entry O(1), however large the
	// state grows.
	SnapshotEvery uint64
	// LowPriorityBatch: low-priority commands are appended when this many
	// are held, or at the next tick (default 64).
	LowPriorityBatch int
}

// DiskState is what a server's disk held at start.
type DiskState struct {
	HardState raft.HardState
	Snapshot  *StoredSnapshot
	Entries   []raft.Entry
}

// Server is one member of a replicated state machine.
type Server struct {
	id          uint64
	cfg         Config
	node        *raft.Node
	sm          StateMachine
	incarnation uint64 // tells this run's commands from an earlier run's
	now         int    // ticks since start
	effects     []Effect
	lead        uint64
	state       raft.StateType
	term        uint64

	snapshot *StoredSnapshot // newest durable snapshot, served to followers
	// bytesSinceSnapshot is the size of the entries applied since the last
	// snapshot was taken here (see maybeSnapshot).
	bytesSinceSnapshot uint64
	snapWanted         bool
	snapQueued         bool
	autoPurge          bool
	writes             []queuedWrite // writes[0] is out with the driver
	nextWriteID        uint64

	// Requests waiting for an answer, by id, with their deadline tick.
	waiting map[ReqID]int

	seq           uint64                 // envelopes proposed here
	commands      map[uint64]ReqID       // process_command by envelope seq
	proposedAt    map[uint64]uint64      // envelope seq by index, for commands this leader appended
	appliedWaits  []appliedWait          // WaitApplied requests
	correlations  map[uint64]Correlation // pipeline_command by envelope seq
	held          []heldCommand          // waiting for a leader to be known
	low           []heldCommand          // low-priority, waiting for a batch
	readSeq       uint64
	reads         map[uint64]pendingRead // consistent queries by read id
	readsAtIndex  []pendingRead          // confirmed, waiting for apply
	conf          *pendingConf
	transfer      *pendingTransfer
	fetch         *chunkFetch
	fetchSeq      uint64
	endOfLife     uint64 // index of the applied end-of-life entry
	endOfLifeReq  ReqID
	endOfLifeAsks bool
	terminated    bool
}

type queuedWrite struct {
	id     uint64
	issued bool
	raft   *raft.Write     // a Raft write, or
	local  *StoredSnapshot // a local snapshot
}

type heldCommand struct {
	req  ReqID
	corr Correlation
	data []byte
	kind uint8
}

type pendingRead struct {
	req   ReqID
	query Query
	index uint64
}

type pendingConf struct {
	req       ReqID
	index     uint64
	terminate *TerminateMember
}

type pendingTransfer struct {
	req ReqID
	to  uint64
}

// NewServer starts (or restarts) a server from what its disk holds. A new
// member of an existing cluster starts from an empty DiskState; a founding
// member from Bootstrap.
func NewServer(cfg Config, sm StateMachine, disk DiskState) (*Server, error) {
	if cfg.Raft.Rand == nil {
		return nil, errors.New("ra: config: Raft.Rand must be injected")
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 3 * cfg.Raft.ElectionTick
	}
	if cfg.LowPriorityBatch <= 0 {
		cfg.LowPriorityBatch = 64
	}
	st := raft.State{HardState: disk.HardState, Entries: disk.Entries}
	if disk.Snapshot != nil {
		st.Snapshot = disk.Snapshot.Meta
		if err := sm.Restore(disk.Snapshot.Chunks); err != nil {
			return nil, fmt.Errorf("ra: restoring snapshot %d: %w", disk.Snapshot.Meta.Index, err)
		}
	}
	node, err := raft.New(cfg.Raft, st)
	if err != nil {
		return nil, err
	}
	s := &Server{
		id: cfg.Raft.ID, cfg: cfg, node: node, sm: sm,
		incarnation:  cfg.Raft.Rand.Uint64(),
		snapshot:     disk.Snapshot,
		waiting:      map[ReqID]int{},
		commands:     map[uint64]ReqID{},
		proposedAt:   map[uint64]uint64{},
		correlations: map[uint64]Correlation{},
		reads:        map[uint64]pendingRead{},
		term:         disk.HardState.Term,
	}
	s.drive()
	return s, nil
}

// Bootstrap is the initial disk of each founding member of a new cluster:
// the voters, then the commands that give the state machine its initial
// contents, all committed at term 1. Every founder must be given the same.
func Bootstrap(voters []uint64, cmds ...[]byte) (DiskState, error) {
	st, err := raft.Bootstrap(voters...)
	if err != nil {
		return DiskState{}, err
	}
	for _, c := range cmds {
		e := envelope{Kind: kindCommand, Data: c}
		st.Entries = append(st.Entries, raft.Entry{Term: 1, Index: uint64(len(st.Entries)) + 1, Data: e.marshal()})
	}
	st.HardState.Commit = uint64(len(st.Entries))
	return DiskState{HardState: st.HardState, Entries: st.Entries}, nil
}

// ID is this server's raft id.
func (s *Server) ID() uint64 { return s.id }

// Terminated reports whether the server has stopped.
func (s *Server) Terminated() bool { return s.terminated }

// TakeEffects returns and clears what the server wants done.
func (s *Server) TakeEffects() []Effect {
	e := s.effects
	s.effects = nil
	return e
}

func (s *Server) emit(e Effect) {
	if s.effects == nil {
		s.effects = make([]Effect, 0, 4) // as core/node's emit
	}
	s.effects = append(s.effects, e)
}

// Tick advances time: Raft's clocks, request deadlines, low-priority
// batches, snapshot fetches.
func (s *Server) Tick() {
	if s.terminated {
		return
	}
	s.now++
	s.node.Tick()
	s.flushLow()
	s.expireRequests()
	s.expireFetch()
	s.drive()
}

// Receive hands the server messages from another server. Malformed ones are
// refused (the error says why) and change nothing.
func (s *Server) Receive(msgs []raft.Message) error {
	if s.terminated {
		return ErrTerminated
	}
	var errs []error
	for _, m := range msgs {
		if m.Type == raft.MsgSnap && m.To == s.id {
			s.snapshotOffered(m)
			continue
		}
		if err := s.node.Step(m); err != nil {
			errs = append(errs, err)
		}
	}
	s.drive()
	return errors.Join(errs...)
}

// PersistDone reports the Persist with this id durable. A write that
// completes after the server stopped is no error: nothing waits for it.
func (s *Server) PersistDone(id uint64) error {
	if s.terminated {
		return nil
	}
	if len(s.writes) == 0 || s.writes[0].id != id {
		return fmt.Errorf("ra: PersistDone(%d) but the outstanding write is not that one", id)
	}
	w := s.writes[0]
	s.writes = s.writes[1:]
	if w.raft != nil {
		s.completeRaftWrite(w.raft)
	} else {
		s.completeLocalSnapshot(w.local)
	}
	s.issueWrite()
	s.drive()
	return nil
}

// drive collects the Raft node's effects until it has nothing more to say.
func (s *Server) drive() {
	for !s.terminated && s.node.HasReady() {
		rd := s.node.Ready()
		if ss := rd.SoftState; ss != nil {
			s.roleChanged(ss.Lead, ss.State)
		}
		for _, err := range rd.Errors {
			s.emit(Alert{Err: &FatalError{Err: err}})
		}
		s.sendAll(rd.Messages)
		if rd.Write != nil {
			s.queueWrite(queuedWrite{raft: rd.Write})
		}
		if len(rd.CommittedEntries) > 0 {
			s.applyEntries(rd.CommittedEntries)
			for _, res := range s.node.Applied() {
				s.confApplied(res)
			}
			s.afterApply()
		}
		for _, rs := range rd.ReadStates {
			s.readIndexConfirmed(rs)
		}
	}
	s.maybeFinishEndOfLife()
}

func (s *Server) roleChanged(lead uint64, state raft.StateType) {
	wasLeader := s.state == raft.StateLeader
	s.lead, s.state = lead, state
	s.term = s.node.BasicStatus().Term
	s.emit(LeaderChanged{Leader: lead, Term: s.term, State: state})
	if wasLeader && state != raft.StateLeader {
		// Raft forgot the low-priority batch's chance and its unconfirmed
		// reads; reads are asked again below, low commands are rejected.
		for _, c := range s.low {
			s.emit(Rejected{Leader: lead, Corr: c.corr})
		}
		s.low = nil
	}
	if lead == raft.None {
		return
	}
	if t := s.transfer; t != nil && lead == t.to {
		s.reply(t.req, "ok", nil)
		s.transfer = nil
	}
	// A leader is known: what waited for one goes now, and reads asked of
	// an earlier leader are asked again (the first answer wins).
	held := s.held
	s.held = nil
	for _, c := range held {
		s.propose(c)
	}
	for _, id := range slices.Sorted(maps.Keys(s.reads)) {
		_ = s.node.ReadIndex(readContext(id))
	}
}

// sendAll groups messages by destination, keeping their order.
func (s *Server) sendAll(msgs []raft.Message) {
	for len(msgs) > 0 {
		to := msgs[0].To
		// The common case: a run of messages to one peer and none to it
		// after the run (the slice is ours: raft gave it up with Ready).
		run := 1
		for run < len(msgs) && msgs[run].To == to {
			run++
		}
		if !slices.ContainsFunc(msgs[run:], func(m raft.Message) bool { return m.To == to }) {
			s.emit(Send{To: to, Messages: msgs[:run:run]})
			msgs = msgs[run:]
			continue
		}
		var batch, rest []raft.Message
		for _, m := range msgs {
			if m.To == to {
				batch = append(batch, m)
			} else {
				rest = append(rest, m)
			}
		}
		s.emit(Send{To: to, Messages: batch})
		msgs = rest
	}
}

func (s *Server) queueWrite(w queuedWrite) {
	s.nextWriteID++
	w.id = s.nextWriteID
	s.writes = append(s.writes, w)
	s.issueWrite()
}

// issueWrite hands the oldest queued write to the driver, unless it already
// has it.
func (s *Server) issueWrite() {
	if len(s.writes) == 0 || s.writes[0].issued {
		return
	}
	s.writes[0].issued = true
	w := s.writes[0]
	p := Persist{ID: w.id}
	if rw := w.raft; rw != nil {
		p.HardState, p.Entries, p.PurgeTo, p.Sync = rw.HardState, rw.Entries, rw.PurgeTo, rw.MustSync
		if rw.Snapshot != nil {
			p.Snapshot = &StoredSnapshot{Meta: rw.Snapshot.Meta, Chunks: decodeChunks(rw.Snapshot.Data)}
			p.ReplacesLog = true
		}
	} else {
		p.Snapshot, p.Sync = w.local, true
	}
	s.emit(p)
}

// completeRaftWrite: the write is durable, so what waited for it proceeds.
func (s *Server) completeRaftWrite(w *raft.Write) {
	s.sendAll(w.MessagesAfterPersist)
	if w.Snapshot != nil {
		stored := &StoredSnapshot{Meta: w.Snapshot.Meta, Chunks: decodeChunks(w.Snapshot.Data)}
		if err := s.sm.Restore(stored.Chunks); err != nil {
			// The leader's snapshot does not load: this server cannot go on.
			s.emit(Fatal{Err: &FatalError{Err: fmt.Errorf("restoring snapshot %d: %w", stored.Meta.Index, err)}})
			s.terminate(false, "snapshot restore failed")
			return
		}
		s.snapshot = stored
	}
	s.node.Advance()
	if w.Snapshot != nil {
		s.afterApply() // the applied index jumped to the snapshot's
	}
}

// afterApply runs what waited for the applied index to grow.
func (s *Server) afterApply() {
	s.runReadyReads()
	s.runAppliedWaits()
	s.maybeSnapshot()
}

func (s *Server) terminate(del bool, reason string) {
	if s.terminated {
		return
	}
	s.terminated = true
	for _, req := range slices.Sorted(maps.Keys(s.waiting)) {
		s.emit(Reply{Req: req, Leader: s.lead, Err: ErrTerminated})
	}
	s.waiting = map[ReqID]int{}
	s.emit(Terminate{Delete: del, Reason: reason})
}

// reply answers a waiting request once; later answers are dropped.
func (s *Server) reply(req ReqID, result any, err error) {
	if _, ok := s.waiting[req]; !ok {
		return
	}
	delete(s.waiting, req)
	s.emit(Reply{Req: req, Result: result, Leader: s.lead, Err: err})
}

// SetDeadline gives a waiting request its own timeout, in ticks from now.
func (s *Server) SetDeadline(req ReqID, ticks int) {
	if _, ok := s.waiting[req]; ok {
		s.waiting[req] = s.now + max(ticks, 1)
	}
}

// begin registers req to be answered later, or answers it at once with why
// it cannot be (the server stopped, the id is taken) and reports false.
func (s *Server) begin(req ReqID) bool {
	if err := s.wait(req); err != nil {
		s.emit(Reply{Req: req, Err: err})
		return false
	}
	return true
}

// wait registers a request that will be answered later.
func (s *Server) wait(req ReqID) error {
	if s.terminated {
		return ErrTerminated
	}
	if _, dup := s.waiting[req]; dup {
		return fmt.Errorf("ra: request %d is already waiting", req)
	}
	s.waiting[req] = s.now + s.cfg.RequestTimeout
	return nil
}

func (s *Server) expireRequests() {
	if s.anyExpired() {
		for _, req := range slices.Sorted(maps.Keys(s.waiting)) {
			if s.waiting[req] <= s.now {
				s.reply(req, nil, ErrTimeout)
			}
		}
	}
	// Forget bookkeeping of requests that are answered.
	maps.DeleteFunc(s.commands, func(_ uint64, r ReqID) bool { _, ok := s.waiting[r]; return !ok })
	maps.DeleteFunc(s.reads, func(_ uint64, r pendingRead) bool { _, ok := s.waiting[r.req]; return !ok })
	s.readsAtIndex = slices.DeleteFunc(s.readsAtIndex, func(r pendingRead) bool { _, ok := s.waiting[r.req]; return !ok })
	s.appliedWaits = slices.DeleteFunc(s.appliedWaits, func(w appliedWait) bool { _, ok := s.waiting[w.req]; return !ok })
	maps.DeleteFunc(s.proposedAt, func(_ uint64, seq uint64) bool { _, ok := s.commands[seq]; return !ok })
	s.held = slices.DeleteFunc(s.held, func(c heldCommand) bool {
		_, ok := s.waiting[c.req]
		return c.req != 0 && !ok
	})
	if s.conf != nil {
		if _, ok := s.waiting[s.conf.req]; !ok {
			s.conf = nil
		}
	}
	if s.transfer != nil {
		if _, ok := s.waiting[s.transfer.req]; !ok {
			s.transfer = nil
		}
	}
}

// anyExpired reports whether a request waits past its deadline: most
// ticks none does, and sorting the requests to find out was an allocation
// per tick.
func (s *Server) anyExpired() bool {
	for _, deadline := range s.waiting {
		if deadline <= s.now {
			return true
		}
	}
	return false
}

func (s *Server) isLeader() bool { return s.state == raft.StateLeader }

func (s *Server) notLeader() error { return &NotLeaderError{Leader: s.lead} }

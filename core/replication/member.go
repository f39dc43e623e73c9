package replication

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/picogo/picogo/core/mutant"
	"slices"

	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/storage"
	"github.com/picogo/picogo/core/tuple"
	"github.com/picogo/picogo/core/vclock"
	"github.com/picogo/picogo/core/wal"
)

// Defaults of Config.
const (
	DefaultMaxBytesInFlight = 1 << 20
	DefaultWindowBytes      = 64 << 20
	DefaultCheckpointEvery  = 10000
	DefaultCopyChunkBytes   = 256 << 10
	DefaultRetryTicks       = 10
)

// MaxBatchChangeBytes bounds the encoded change of one batch write
// (storage.OpBatch; storage.MaxBatchOps bounds its ops): Write refuses a
// bigger one with ILLEGAL_PARAMS, undone. A batch is one entry, and an
// entry is never split: it is one wal record, one window entry and travels
// whole in one shipment (alone if it outweighs MaxBytesInFlight), which
// must fit the transport's frame (64 MiB in production, 16 MiB in the
// simulator) with room to spare. An entry bigger than WindowBytes leaves
// the window at once: a replica that has not taken it gets a full copy.
const MaxBatchChangeBytes = 8 << 20

// Error codes of Done.Err besides the engine's (core/tuple's).
const (
	// CodeReadonly: a write on a member that is not writable (Tarantool's
	// ER_READONLY). The node adds who the master is.
	CodeReadonly uint32 = 7
	// CodeTimeout: WaitVClock or Promote did not reach its vclock in
	// time; a synchronous write whose member stopped being the master
	// before a quorum confirmed it (its fate is then unknown). Tarantool's
	// ER_TIMEOUT, the same as core/api.CodeTimeout.
	CodeTimeout uint32 = 78
)

// Config configures a Member. Zero fields take the defaults.
type Config struct {
	ID  uint64 // this instance's raft id (never 0)
	WAL wal.Options
	// MaxBytesInFlight bounds the bytes of entries shipped to one replica
	// and not yet acknowledged (one shipment at least one entry).
	MaxBytesInFlight int
	// WindowBytes bounds the most recent entries kept in memory for
	// shipping; a replica behind the window gets a full copy.
	WindowBytes int
	// CheckpointEvery: a checkpoint after this many records since the
	// last one (a batch's record counts as many as its rows) — and once
	// their bytes reach half the last checkpoint's size, so that
	// checkpointing large tables costs each write a constant share (a
	// checkpoint encodes every table).
	CheckpointEvery int
	// CopyChunkBytes is the size of a full copy's chunks (one in flight
	// per replica).
	CopyChunkBytes int
	// RetryTicks: resend or re-probe a peer after this many ticks without
	// an answer, and wait this long after a failure or a refusal.
	RetryTicks int
	// Mutants are the deliberate bugs the simulator switches on (always
	// none outside a -tags mutants build).
	Mutants mutant.Set
}

func (c Config) withDefaults() Config {
	if c.MaxBytesInFlight <= 0 {
		c.MaxBytesInFlight = DefaultMaxBytesInFlight
	}
	if c.WindowBytes <= 0 {
		c.WindowBytes = DefaultWindowBytes
	}
	if c.CheckpointEvery <= 0 {
		c.CheckpointEvery = DefaultCheckpointEvery
	}
	if c.CopyChunkBytes <= 0 {
		c.CopyChunkBytes = DefaultCopyChunkBytes
	}
	if c.RetryTicks <= 0 {
		c.RetryTicks = DefaultRetryTicks
	}
	return c
}

// Role is a member's place in its replicaset, as the global tables and the
// governor's calls say.
type Role struct {
	// Master is the raft id of the replicaset's current master per the
	// global tables (0: unknown). The member with Master == ID relays its
	// log to Peers; a replica accepts shipments only from Master.
	Master uint64
	// Peers are the raft ids of the other members (not expelled).
	Peers []uint64
	// Writable: accepts writes (set by .proc_replication(is_master),
	// cleared by Demote, set by Promote). Configure takes it as given: the
	// node passes on the last value (see Member.Role) unless a call of the
	// governor changes it.
	Writable bool
	// Sync: a write is Done only once a majority of {self}+Peers have it
	// durable.
	Sync bool
}

// ReqID names a request of the node's (a write, a wait, a promote, a
// shipment received) in the effects that answer it.
type ReqID uint64

// SchemaChange is one committed DDL; exactly one field is set. Steps is a
// change made of several, applied in order as one at one schema version:
// a table with its secondary indexes, or everything a member that caught
// up with the Raft log through a snapshot missed. A drop in Steps of what
// is not there is no error (a step list may be applied again after a
// deferral); if a step fails, the creations of the earlier steps are
// undone (put drops first).
type SchemaChange struct {
	CreateTable *schema.TableDef
	DropTable   uint32
	CreateIndex *schema.IndexDef
	DropIndex   *struct{ Table, Index uint32 }
	Steps       []SchemaChange `msgpack:",omitempty"`
}

// winEntry is an entry of the in-memory window: the sig (vclock Sum after
// it), the local LSN of its record, and its encoding.
type winEntry struct {
	sig, walLSN uint64
	data        []byte
}

// undurableRec is a record that moves the vclock and is not durable yet:
// a data entry (origin, lsn) or a full copy's marker (vc).
type undurableRec struct {
	walLSN      uint64
	origin, lsn uint64        // a data entry
	vc          vclock.VClock // a copy's marker (with schema)
	schema      uint64        // a DDL record (or a marker's)
}

type pendingDDL struct {
	version uint64
	ch      SchemaChange
}

type pendingWrite struct {
	id     ReqID
	walLSN uint64
	lsn    uint64 // this member's own component right after the write
	result tuple.Tuple
	rows   int // the rows it changed
	vc     vclock.VClock
	// read: a ReadBarrier, not a write: on a member that is not the
	// master it waits for local durability only.
	read bool
}

type waiter struct {
	id      ReqID
	target  vclock.VClock
	ticks   int
	promote bool
}

type pendingAnswer struct {
	id     ReqID
	walLSN uint64
	seq    uint64
	status byte
}

type incomingCopy struct {
	from, id uint64
	total    uint64
	buf      []byte
}

// Member is one replicaset member's user data and its replication: a
// deterministic state machine (see the package doc). Not safe for
// concurrent use.
type Member struct {
	cfg Config
	eng *storage.Engine
	log *wal.Log

	vc        vclock.VClock // applied
	durVC     vclock.VClock // durable (every record that moved it is durable)
	durSchema uint64        // the last DDL version whose record is durable
	role      Role

	schemaSet     uint64 // SetSchemaVersion
	schemaApplied uint64 // the last DDL version applied to the engine
	stale         bool
	// promotedOver is the master this member was promoted over (0: none):
	// until a Configure names another master — itself, once the tables
	// caught up, or anyone else — it takes no shipment from that one. A
	// promoted member is the replicaset's reference even while the tables
	// still name the old master; an old master that comes back believing it
	// is one would otherwise make it Stale (and the replicaset masterless).
	promotedOver uint64
	// fenced is the master a failover's survey fenced this replica from
	// (Fence; 0: none): it takes no shipment from that one until a
	// Configure names another master, a Promote asks for its rows, a
	// Demote, or Unfence.
	fenced uint64
	// pending: committed DDL a replica could not apply yet (it does not
	// fit the data at the replica's position: a unique index over rows the
	// master changed before its DDL). Applied in order, at the master's
	// point: before the first entry of its version or newer, or once the
	// replica has everything the master had when it had applied it (seen).
	pending    []pendingDDL
	seen       vclock.VClock // the master's vclock and schema, from its last shipment
	seenSchema uint64

	win      []winEntry
	winBase  uint64 // the sig before the window's first entry
	winBytes int

	undurable []undurableRec
	sinceCkpt int
	// sinceCkptBytes are the bytes of data records since the last
	// checkpoint, lastCkptBytes that checkpoint's size: a checkpoint is
	// due only once the records outweigh half of it, so that the cost of
	// checkpoints per write stays constant however large the tables grow.
	sinceCkptBytes, lastCkptBytes int
	wantCkpt                      bool // a full copy was installed: checkpoint at the first chance

	writes  []pendingWrite
	waiters []waiter
	answers []pendingAnswer

	peers      []*peer // sorted by id; only while this member is the master
	nextSeq    uint64
	nextCopyID uint64
	copyIn     *incomingCopy

	effects []Effect
}

// Recover rebuilds a member from what wal.Recover found (nil: an empty
// store): the checkpoint's state, then every record after it replayed in
// order (data entries, DDL, full-copy markers). The window holds the
// entries replayed after the checkpoint. The role is empty (not the
// master, not writable) until Configure. The first effect may be a Persist
// (the wal's owed sync of the recovered records).
func Recover(cfg Config, rec *wal.Recovered) (*Member, error) {
	if cfg.ID == 0 {
		return nil, errors.New("replication: Config.ID is 0")
	}
	m := &Member{cfg: cfg.withDefaults(), eng: storage.New(), vc: vclock.VClock{}}
	if rec != nil && rec.Checkpoint != nil {
		if err := m.install(rec.Checkpoint, false); err != nil {
			return nil, fmt.Errorf("replication: the checkpoint at %d: %w", rec.CheckpointLSN, err)
		}
	}
	m.durVC, m.durSchema = m.vc.Clone(), m.schemaApplied
	if rec != nil {
		for _, r := range rec.Records {
			if err := m.replay(r.LSN, r.Payload); err != nil {
				return nil, fmt.Errorf("replication: record %d: %w", r.LSN, err)
			}
		}
		m.sinceCkpt += len(rec.Records) // replay counted a batch's rows beyond one
		m.lastCkptBytes = len(rec.Checkpoint)
		for _, r := range rec.Records {
			m.sinceCkptBytes += len(r.Payload)
		}
	}
	m.log = wal.New(rec, m.cfg.WAL)
	m.flush()
	return m, nil
}

// install replaces the engine, vclock, schema and stale flag with a state
// (a checkpoint's or a full copy's) and empties the window. A copy keeps
// the deferred DDL newer than it.
func (m *Member) install(blob []byte, copy bool) error {
	s, err := decodeState(blob)
	if err != nil {
		return err
	}
	eng, err := storage.Restore(s.engine)
	if err != nil {
		return err
	}
	m.eng, m.vc, m.schemaApplied, m.stale = eng, s.vc.Clone(), s.schema, s.stale
	if copy {
		m.pending = slices.DeleteFunc(m.pending, func(d pendingDDL) bool { return d.version <= s.schema })
	} else {
		m.pending = s.pending
	}
	m.win, m.winBytes, m.winBase = nil, 0, m.vc.Sum()
	return nil
}

func (m *Member) replay(lsn uint64, p []byte) error {
	if len(p) == 0 {
		return errors.New("an empty record")
	}
	switch p[0] {
	case recData:
		data := bytes.Clone(p[1:])
		e, err := decodeEntry(data)
		if err != nil {
			return err
		}
		rows, err := m.applyEntry(e)
		if err != nil {
			return err
		}
		m.sinceCkpt += extraRows(rows)
		m.pushWindow(data, lsn)
		m.undurable = append(m.undurable, undurableRec{walLSN: lsn, origin: e.origin, lsn: e.lsn})
	case recSchema:
		v, ch, err := decodeSchemaRecord(p[1:])
		if err != nil {
			return err
		}
		if ch.count() == 0 {
			// Skipped: see applyDDLAsMaster.
		} else if terr := m.applySchemaChange(ch); terr != nil {
			return terr
		}
		m.schemaApplied = v
		m.pending = slices.DeleteFunc(m.pending, func(d pendingDDL) bool { return d.version <= v })
		m.undurable = append(m.undurable, undurableRec{walLSN: lsn, schema: v})
	case recDefer:
		v, ch, err := decodeSchemaRecord(p[1:])
		if err != nil {
			return err
		}
		if v > m.knownSchema() {
			m.pending = append(m.pending, pendingDDL{version: v, ch: ch})
		}
	case recCopy:
		if err := m.install(bytes.Clone(p[1:]), true); err != nil {
			return err
		}
		m.undurable = append(m.undurable, undurableRec{walLSN: lsn, vc: m.vc.Clone(), schema: m.schemaApplied})
		m.wantCkpt = true // its checkpoint did not complete: take one
	case recStale:
		m.stale = true
	case recAdopt:
		m.stale = false
	default:
		return fmt.Errorf("unknown record kind %q", p[0])
	}
	return nil
}

// applyEntry applies an entry to the engine and the vclock, and returns
// the rows it changed. An entry for a table that does not exist is skipped
// (the table was dropped since: the caller made sure the schema is at
// least the entry's); so are the row changes of a batch for such tables,
// the others apply. A batch applies whole or not at all.
func (m *Member) applyEntry(e entry) (int, error) {
	if want := m.vc[e.origin] + 1; e.lsn != want {
		return 0, fmt.Errorf("an entry %d:%d where %d:%d comes next", e.origin, e.lsn, e.origin, want)
	}
	ch, err := storage.DecodeChange(e.change)
	if err != nil {
		return 0, err
	}
	rows := ch.Rows()
	dropped := func(c storage.Change) bool { _, ok := m.eng.Table(c.Table); return !ok }
	if ch.IsBatch() {
		ch.Batch = slices.DeleteFunc(ch.Batch, dropped) // still a batch, if empty
	}
	if ch.IsBatch() || !dropped(ch) {
		if terr := m.eng.Apply(ch); terr != nil {
			return 0, terr
		}
	}
	m.vc[e.origin] = e.lsn
	return rows, nil
}

// extraRows is what a data record of rows row changes counts toward the
// next checkpoint beyond the one every record counts: a batch's rows
// count as if each were a record.
func extraRows(rows int) int { return max(0, rows-1) }

func (m *Member) pushWindow(data []byte, walLSN uint64) {
	sig := m.winBase + uint64(len(m.win)) + 1
	m.win = append(m.win, winEntry{sig: sig, walLSN: walLSN, data: data})
	m.winBytes += len(data)
	for m.winBytes > m.cfg.WindowBytes && len(m.win) > 0 {
		m.winBytes -= len(m.win[0].data)
		m.win[0] = winEntry{}
		m.win = m.win[1:]
		m.winBase++
	}
}

func (m *Member) appendRecord(kind byte, body []byte) uint64 {
	p := make([]byte, 0, 1+len(body))
	p = append(append(p, kind), body...)
	m.sinceCkpt++
	m.sinceCkptBytes += len(p)
	return m.log.Append(p)
}

// schemaVersion is the version entries are checked against and stamped
// with: the newer of SetSchemaVersion's and the last DDL applied.
func (m *Member) schemaVersion() uint64 { return max(m.schemaSet, m.knownSchema()) }

// knownSchema is the last DDL version applied or deferred.
func (m *Member) knownSchema() uint64 {
	if n := len(m.pending); n > 0 {
		return m.pending[n-1].version
	}
	return m.schemaApplied
}

// Role is the member's role as it is now (Writable as Demote and Promote
// left it).
func (m *Member) Role() Role {
	r := m.role
	r.Peers = slices.Clone(r.Peers)
	return r
}

// Configure sets the role. A member that becomes the master (or whose
// peers change) probes every new peer; one that stops being the master
// stops shipping, and its synchronous writes not yet confirmed by a
// quorum end with CodeTimeout (they may or may not survive).
func (m *Member) Configure(r Role) {
	defer m.flush()
	var peers []uint64
	for _, id := range r.Peers {
		if id != 0 && id != m.cfg.ID {
			peers = append(peers, id)
		}
	}
	slices.Sort(peers)
	peers = slices.Compact(peers)
	wasMaster := m.role.Master == m.cfg.ID
	if r.Master != m.role.Master {
		m.seen, m.seenSchema = nil, 0 // another master, another log
	}
	if r.Master != m.promotedOver {
		m.promotedOver = 0
	}
	if r.Master != m.fenced {
		m.fenced = 0
	}
	m.role = Role{Master: r.Master, Peers: peers, Writable: r.Writable && !m.stale, Sync: r.Sync}
	if r.Master != m.cfg.ID {
		m.peers = nil
		if wasMaster && r.Sync {
			m.failUnconfirmed()
		}
	} else {
		// A new master's data is the reference: what it deferred, it
		// applies now; what still does not apply is lost (below).
		m.applyDDLAsMaster()
		old := m.peers
		if !wasMaster {
			old = nil
		}
		m.peers = nil
		for _, id := range peers {
			i := slices.IndexFunc(old, func(p *peer) bool { return p.id == id })
			if i >= 0 {
				m.peers = append(m.peers, old[i])
			} else {
				m.peers = append(m.peers, &peer{id: id, mode: modeProbe})
			}
		}
	}
	m.settle()
	m.pump()
}

func (m *Member) failUnconfirmed() {
	for _, w := range m.writes {
		m.emit(Done{ID: w.id, VClock: w.vc, Err: tuple.Errorf(CodeTimeout,
			"no longer the master before a quorum confirmed the write: it may or may not survive")})
	}
	m.writes = nil
}

// SetSchemaVersion records the global schema version the instance has
// applied from Raft (after calling ApplySchema for every DDL up to it that
// concerns this replicaset). Entries stamped with a newer version wait.
func (m *Member) SetSchemaVersion(v uint64) {
	if v > m.schemaSet {
		m.schemaSet = v
	}
}

// Write runs a write on the master: it applies op to the engine, logs it
// and ships it; Done when it is durable here (async) or on a quorum
// (Role.Sync). Not writable: Done at once with CodeReadonly. A
// schemaVersion newer than the member's (the op was bound against a
// schema it has not applied) fails with WRONG_SCHEMA_VERSION. The engine's
// error fails it with nothing written.
//
// A batch (storage.OpBatch) is one write: the engine runs its ops all or
// nothing (an error names the failing op, "row N: ...", and nothing is
// written), and its row changes are one entry — one LSN, one wal record —
// that replicas and recovery apply whole, and that a torn wal tail drops
// whole. Done.Rows counts its changed rows (Result is empty). A batch whose
// change encodes to more than MaxBatchChangeBytes is refused with
// ILLEGAL_PARAMS, nothing written.
func (m *Member) Write(id ReqID, schemaVersion uint64, op storage.Op) {
	defer m.flush()
	if !m.role.Writable || m.stale {
		m.emit(Done{ID: id, VClock: m.vc.Clone(), Err: tuple.Errorf(CodeReadonly, "Can't modify data on a read-only instance")})
		return
	}
	if sv := m.schemaVersion(); schemaVersion > sv {
		m.emit(Done{ID: id, VClock: m.vc.Clone(), Err: tuple.Errorf(tuple.CodeWrongSchemaVersion,
			"Wrong schema version, current: %d, in request: %d", sv, schemaVersion)})
		return
	}
	ch, res, terr := m.eng.Exec(op)
	if terr != nil {
		m.emit(Done{ID: id, VClock: m.vc.Clone(), Err: terr})
		return
	}
	me := m.cfg.ID
	if ch.Empty() {
		// Nothing to log; what it saw must still be durable (or
		// confirmed) before the answer.
		m.writes = append(m.writes, pendingWrite{id: id, walLSN: m.log.Last(), lsn: m.vc[me], result: res, vc: m.vc.Clone()})
		m.settle()
		return
	}
	change := storage.EncodeChange(ch)
	if ch.IsBatch() && len(change) > MaxBatchChangeBytes {
		if uerr := m.eng.Undo(ch); uerr != nil {
			panic("replication: undoing a batch just made: " + uerr.Error())
		}
		m.emit(Done{ID: id, VClock: m.vc.Clone(), Err: tuple.Errorf(tuple.CodeIllegalParams,
			"A batch that changes %d rows by %d bytes is more than the %d bytes one write may change", ch.Rows(), len(change), MaxBatchChangeBytes)})
		return
	}
	e := entry{origin: me, lsn: m.vc[me] + 1, schema: m.schemaVersion(), change: change}
	m.vc[me] = e.lsn
	data := encodeEntry(e)
	walLSN := m.appendRecord(recData, data)
	m.sinceCkpt += extraRows(ch.Rows())
	m.pushWindow(data, walLSN)
	m.undurable = append(m.undurable, undurableRec{walLSN: walLSN, origin: me, lsn: e.lsn})
	m.writes = append(m.writes, pendingWrite{id: id, walLSN: walLSN, lsn: e.lsn, result: res, rows: ch.Rows(), vc: m.vc.Clone()})
	m.maybeCheckpoint()
	m.pump()
}

// WaitVClock: Done{VClock} once VClock() >= target in every component;
// after timeoutTicks ticks without, Done with CodeTimeout.
func (m *Member) WaitVClock(id ReqID, target vclock.VClock, timeoutTicks int) {
	defer m.flush()
	m.waiters = append(m.waiters, waiter{id: id, target: target.Clone(), ticks: timeoutTicks})
	m.settle()
	m.expire()
}

// Fence makes a replica take no more shipments from its master, for a
// failover that asked for its vclock: the failover picks the new master
// by the vclocks it was told, so a member that told must not then confirm
// a write of the old master's — in a synchronous replicaset that write
// could count the member towards its quorum, be acknowledged, and be lost
// with the new master, which never had it. It lasts until a Configure
// names another master (the failover's CaS), a Promote asks this member
// for the old master's rows (a switchover from it after all), or Unfence.
// On the master itself, or a member without one, it does nothing.
func (m *Member) Fence() {
	if m.role.Master != 0 && m.role.Master != m.cfg.ID {
		m.fenced = m.role.Master
	}
}

// Unfence undoes Fence: the governor configured the replicaset anew
// (`.proc_replication`), as the tables say it is.
func (m *Member) Unfence() { m.fenced = 0 }

// Demote makes the member read-only at once and returns its applied
// vclock, which covers every write it accepted. It goes on shipping while
// it is Role.Master, so that its replicas catch up with it.
func (m *Member) Demote() vclock.VClock {
	m.role.Writable = false
	m.promotedOver, m.fenced = 0, 0 // told it is not the master: it follows whom it is told
	return m.vc.Clone()
}

// Promote: once DurableVClock() >= target, the member turns writable and
// Done; after timeoutTicks ticks without, Done with CodeTimeout and it
// stays read-only. A Stale member cannot be promoted (CodeReadonly) unless
// it already has target (a failover adopting its data as it is). It
// waits for durability, not only for the applied vclock: a new master that
// crashed and came back without what it had applied would wipe, by full
// copies, what its replicas have durable — writes a quorum confirmed.
func (m *Member) Promote(id ReqID, target vclock.VClock, timeoutTicks int) {
	defer m.flush()
	if m.stale {
		if !target.LessEq(m.vc) {
			m.emit(Done{ID: id, VClock: m.vc.Clone(), Err: tuple.Errorf(CodeReadonly,
				"Can't promote an instance whose data diverged from its master's: it waits for a full copy")})
			return
		}
		// Asked for no more than it has: a failover chose this member's
		// data as it is (its own vclock, from the survey), because the
		// master it diverged from is out of reach — no full copy will
		// come. Its data becomes the replicaset's; the others' diverged
		// part goes (a failover may lose writes; the governor's ranking
		// says which member loses the fewest).
		m.stale = false
		m.appendRecord(recAdopt, nil)
		m.emit(Note{Event: "adopted", Detail: fmt.Sprintf("promoted as it is at %s", m.vc)})
	}
	if old := m.fenced; old != 0 && target.Get(old) > m.vc.Get(old) {
		m.fenced = 0 // a switchover from the master it was fenced from: it follows it again
	}
	if old := m.promotedOver; old != 0 && target.Get(old) > m.vc.Get(old) {
		// Promoted over old by a failover whose tables change never
		// committed, this member is now asked to wait for rows of old's
		// it lacks: a switchover from old, which the governor demoted
		// at target. A demoted master is no longer one that believes
		// it takes writes: its rows up to target are the reference, and
		// this member follows it, read-only, until it has them.
		m.promotedOver = 0
		m.role.Writable = false
		m.emit(Note{Event: "promote", Detail: fmt.Sprintf("follows raft id %d again: asked for %s", old, target)})
	}
	m.waiters = append(m.waiters, waiter{id: id, target: target.Clone(), ticks: timeoutTicks, promote: true})
	m.settle()
	m.expire()
}

// ReadBarrier ends (Done) once everything this member has applied is
// acknowledgeable: durable here, and on the master of a synchronous tier
// confirmed by a quorum — what a write's Done waits for. A read answered
// after it never shows a write that a crash (or a failover) may still take
// back: the engine applies a write before it is durable, and a reader that
// saw it while the writer got no answer would see it vanish (the sharded
// chaos workload found it). On a master that stops being one meanwhile it
// ends with CodeTimeout, like the writes it waited behind.
func (m *Member) ReadBarrier(id ReqID) {
	defer m.flush()
	m.writes = append(m.writes, pendingWrite{id: id, walLSN: m.log.Last(), lsn: m.vc[m.cfg.ID], vc: m.vc.Clone(), read: true})
	m.settle()
}

// ApplySchema applies a committed DDL to the engine and logs it (replay
// reproduces it). A version at or below the last applied (or deferred) is
// ignored. An empty change records a version that changed nothing in this
// engine (DDL on global tables, or another tier's): every member then
// counts the same versions, whatever it applied — a full copy from a
// master is refused only when the master is really behind. On the master an error leaves the engine and the version as
// they were. A replica whose data does not fit the DDL yet — it lags, and
// the master changed those rows before its DDL (a unique index over keys
// that were duplicate then) — defers it, logged, and applies it at the
// point of the master's log where the master did (before the first entry
// of that schema version, or once it has everything the master had then);
// it returns nil. Every DDL after a deferred one waits behind it.
func (m *Member) ApplySchema(version uint64, ch SchemaChange) *tuple.Error {
	defer m.flush()
	if version <= m.knownSchema() {
		return nil
	}
	if ch.count() > 1 {
		return tuple.Errorf(tuple.CodeIllegalParams, "a schema change must set exactly one of its fields, not %d", ch.count())
	}
	if len(m.pending) == 0 {
		err := m.applySchemaChange(ch)
		if err == nil {
			m.schemaApplied = version
			m.sinceCkpt++
			m.schemaRecord(version, ch)
			m.maybeCheckpoint()
			m.pump() // tell the replicas (a probe carries the version)
			return nil
		}
		if m.role.Master == m.cfg.ID {
			return err
		}
		m.emit(Note{Event: "schema change deferred", Detail: fmt.Sprintf("version %d at %s: %v", version, m.vc, err)})
	}
	m.pending = append(m.pending, pendingDDL{version: version, ch: ch})
	m.sinceCkpt++
	m.log.Append(encodeSchemaRecord(recDefer, version, ch))
	m.applyReadyDDL()
	return nil
}

// schemaRecord logs an applied DDL; DurableSchemaVersion reaches it once
// the record is durable.
func (m *Member) schemaRecord(version uint64, ch SchemaChange) {
	lsn := m.log.Append(encodeSchemaRecord(recSchema, version, ch))
	m.undurable = append(m.undurable, undurableRec{walLSN: lsn, schema: version})
}

// DurableSchemaVersion is the last DDL version applied here whose record
// is durable. A master's node answers .proc_apply_schema_change only once
// it reaches the change's version: a crash before would lose the DDL, and
// perhaps the rows that made it fit, while the cluster commits it.
func (m *Member) DurableSchemaVersion() uint64 { return m.durSchema }

// applyDDLUpTo applies the deferred DDL up to version, in order; one that
// still does not apply means this member's data diverged (Stale).
func (m *Member) applyDDLUpTo(version uint64) bool {
	for len(m.pending) > 0 && m.pending[0].version <= version {
		d := m.pending[0]
		if err := m.applySchemaChange(d.ch); err != nil {
			m.markStale(fmt.Sprintf("schema version %d does not apply at %s: %v", d.version, m.vc, err))
			return false
		}
		m.pending = m.pending[1:]
		m.schemaApplied = d.version
		m.sinceCkpt++
		m.schemaRecord(d.version, d.ch)
	}
	return true
}

// applyDDLAsMaster applies every deferred DDL on a member that becomes the
// master. One that does not fit its data — an asynchronous failover lost
// the master's writes that made it fit — cannot be applied by anyone: it
// is skipped with a Note, and logged as skipped (an empty change) so that
// replay skips it too. Its replicas, copies of this data, end the same.
func (m *Member) applyDDLAsMaster() {
	for len(m.pending) > 0 {
		d := m.pending[0]
		m.pending = m.pending[1:]
		if err := m.applySchemaChange(d.ch); err != nil {
			m.emit(Note{Event: "schema change lost", Detail: fmt.Sprintf("version %d does not apply to the new master's data at %s: %v", d.version, m.vc, err)})
			d.ch = SchemaChange{}
		}
		m.schemaApplied = d.version
		m.sinceCkpt++
		m.schemaRecord(d.version, d.ch)
	}
}

// applyReadyDDL applies the deferred DDL the master had applied when this
// member had all the master had (the master's point of that DDL is then
// this member's position).
func (m *Member) applyReadyDDL() {
	if m.seen != nil && !m.stale && len(m.pending) > 0 && m.vc.Equal(m.seen) {
		m.applyDDLUpTo(m.seenSchema)
	}
}

func (ch SchemaChange) count() int {
	n := 0
	for _, set := range []bool{ch.CreateTable != nil, ch.DropTable != 0, ch.CreateIndex != nil, ch.DropIndex != nil, len(ch.Steps) > 0} {
		if set {
			n++
		}
	}
	return n
}

func (m *Member) applySchemaChange(ch SchemaChange) *tuple.Error {
	switch ch.count() {
	case 0:
		return nil // a version that changed nothing here (see ApplySchema)
	case 1:
	default:
		return tuple.Errorf(tuple.CodeIllegalParams, "a schema change must set exactly one of its fields, not %d", ch.count())
	}
	switch {
	case len(ch.Steps) > 0:
		return m.applySteps(ch.Steps)
	case ch.CreateTable != nil:
		return m.eng.CreateTable(*ch.CreateTable)
	case ch.DropTable != 0:
		return m.eng.DropTable(ch.DropTable)
	case ch.CreateIndex != nil:
		return m.eng.CreateIndex(*ch.CreateIndex)
	default:
		return m.eng.DropIndex(ch.DropIndex.Table, ch.DropIndex.Index)
	}
}

// applySteps applies a change's steps in order; on a failure it undoes the
// tables and indexes the earlier steps created.
func (m *Member) applySteps(steps []SchemaChange) *tuple.Error {
	var undo []func()
	for _, st := range steps {
		if st.count() != 1 || len(st.Steps) > 0 {
			return tuple.Errorf(tuple.CodeIllegalParams, "a step must set exactly one of the other fields")
		}
		switch {
		case st.DropTable != 0:
			if _, ok := m.eng.Table(st.DropTable); !ok {
				continue
			}
		case st.DropIndex != nil:
			if idx, err := m.eng.Indexes(st.DropIndex.Table); err != nil ||
				!slices.ContainsFunc(idx, func(x schema.IndexDef) bool { return x.ID == st.DropIndex.Index }) {
				continue
			}
		}
		if err := m.applySchemaChange(st); err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
			return err
		}
		switch {
		case st.CreateTable != nil:
			id := st.CreateTable.ID
			undo = append(undo, func() { _ = m.eng.DropTable(id) })
		case st.CreateIndex != nil:
			t, i := st.CreateIndex.TableID, st.CreateIndex.ID
			undo = append(undo, func() { _ = m.eng.DropIndex(t, i) })
		}
	}
	return nil
}

// CheckSchema is a dry run of a DDL on this member's engine (the master's
// check for .proc_apply_schema_change): the error ApplySchema would give,
// with nothing changed.
func (m *Member) CheckSchema(ch SchemaChange) *tuple.Error {
	if ch.count() != 1 {
		return tuple.Errorf(tuple.CodeIllegalParams, "a schema change must set exactly one of its fields, not %d", ch.count())
	}
	if len(ch.Steps) > 0 {
		return tuple.Errorf(tuple.CodeIllegalParams, "a dry run takes one change, not steps")
	}
	switch {
	case ch.CreateTable != nil:
		def := ch.CreateTable
		if err := def.Validate(); err != nil {
			return err
		}
		if _, ok := m.eng.Table(def.ID); ok {
			return tuple.Errorf(tuple.CodeSpaceExists, "Space '%d' already exists", def.ID)
		}
		if _, ok := m.eng.TableID(def.Name); ok {
			return tuple.Errorf(tuple.CodeSpaceExists, "Space '%s' already exists", def.Name)
		}
		return nil
	case ch.DropTable != 0:
		if _, ok := m.eng.Table(ch.DropTable); !ok {
			return tuple.Errorf(tuple.CodeNoSuchSpace, "Space '%d' does not exist", ch.DropTable)
		}
		return nil
	case ch.CreateIndex != nil:
		// Build it and drop it again: the only way to know that its rows
		// fit (types, uniqueness).
		if err := m.eng.CreateIndex(*ch.CreateIndex); err != nil {
			return err
		}
		return m.eng.DropIndex(ch.CreateIndex.TableID, ch.CreateIndex.ID)
	default:
		d := ch.DropIndex
		idx, err := m.eng.Indexes(d.Table)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(idx, func(x schema.IndexDef) bool { return x.ID == d.Index }) {
			return tuple.Errorf(tuple.CodeNoSuchIndexID, "No index #%d is defined in space '%d'", d.Index, d.Table)
		}
		if d.Index == 0 {
			return tuple.Errorf(tuple.CodeDropPrimaryKey, "Can't drop primary key in space '%d': drop the table instead", d.Table)
		}
		return nil
	}
}

// PersistDone reports the Persist of Write.Seq complete.
func (m *Member) PersistDone(seq uint64) error {
	if err := m.log.Done(seq); err != nil {
		return err
	}
	m.settle()
	m.maybeCheckpoint()
	m.pump()
	m.flush()
	return nil
}

// Tick is the only time: retries, timeouts, pending checkpoints.
func (m *Member) Tick() {
	defer m.flush()
	for _, p := range m.peers {
		switch {
		case p.outstanding:
			p.waited++
			if p.waited >= m.cfg.RetryTicks {
				p.lost()
			}
		case p.pause > 0:
			p.pause--
		}
	}
	for i := range m.waiters {
		m.waiters[i].ticks--
	}
	m.expire()
	m.maybeCheckpoint()
	m.pump()
}

// expire ends the waiters whose time is up.
func (m *Member) expire() {
	m.waiters = slices.DeleteFunc(m.waiters, func(w waiter) bool {
		if w.ticks > 0 {
			return false
		}
		what := "wait for vclock"
		if w.promote {
			what = "promote"
		}
		m.emit(Done{ID: w.id, VClock: m.vc.Clone(), Err: tuple.Errorf(CodeTimeout,
			"%s: timed out at %s, waiting for %s", what, m.vc, w.target)})
		return true
	})
}

// durableLSN is the local LSN up to which records count as durable: synced
// — or, with WAL.NoSync (Tarantool's wal_mode = write), written: a power
// loss may then lose what was acknowledged, which is what NoSync means.
func (m *Member) durableLSN() uint64 {
	if m.cfg.WAL.NoSync {
		return m.log.Written()
	}
	return m.log.Durable()
}

// settle moves the durable vclock and ends what can end: writes durable
// (or confirmed by a quorum), answers whose entries are durable, waits
// whose vclock is reached.
func (m *Member) settle() {
	durable := m.durableLSN()
	n := 0
	for ; n < len(m.undurable) && m.undurable[n].walLSN <= durable; n++ {
		u := m.undurable[n]
		switch {
		case u.vc != nil:
			m.durVC, m.durSchema = u.vc.Clone(), u.schema
		case u.origin != 0:
			m.durVC[u.origin] = u.lsn
		default:
			m.durSchema = u.schema
		}
	}
	if n > 0 {
		m.undurable = slices.Delete(m.undurable, 0, n)
	}
	m.writes = slices.DeleteFunc(m.writes, func(w pendingWrite) bool {
		quorum := m.role.Sync && !(w.read && m.role.Master != m.cfg.ID)
		if w.walLSN > durable || quorum && !m.confirmed(w.lsn) && !m.cfg.Mutants.Has(mutant.SyncAckBeforeQuorum) {
			return false
		}
		m.emit(Done{ID: w.id, Result: w.result, Rows: w.rows, VClock: w.vc})
		return true
	})
	m.answers = slices.DeleteFunc(m.answers, func(a pendingAnswer) bool {
		if a.walLSN > durable {
			return false
		}
		m.answerNow(a.id, a.seq, a.status)
		return true
	})
	m.waiters = slices.DeleteFunc(m.waiters, func(w waiter) bool {
		reached := m.vc
		if w.promote {
			reached = m.durVC
		}
		if !w.target.LessEq(reached) && !(w.promote && m.cfg.Mutants.Has(mutant.PromoteWithoutWait)) {
			return false
		}
		if w.promote {
			if m.stale {
				return false
			}
			m.role.Writable = true
			if m.role.Master != m.cfg.ID {
				m.promotedOver = m.role.Master
			}
		}
		m.emit(Done{ID: w.id, VClock: m.vc.Clone()})
		return true
	})
}

// confirmed: a majority of {self}+Peers have this member's own entries up
// to lsn durable (self's durability is the caller's check).
func (m *Member) confirmed(lsn uint64) bool {
	have := 1
	for _, p := range m.peers {
		if p.acked.Get(m.cfg.ID) >= lsn {
			have++
		}
	}
	return have > (len(m.role.Peers)+1)/2
}

// CheckpointNow starts a checkpoint of everything appended, unless one is
// being written or the last one holds it all: a graceful stop takes one, so
// that the next start replays no records (Checkpointing says when it is
// durable).
func (m *Member) CheckpointNow() {
	m.wantCkpt = true
	m.maybeCheckpoint()
	m.flush()
}

// Checkpointing reports whether a checkpoint is being written.
func (m *Member) Checkpointing() bool { return m.log.Checkpointing() }

// maybeCheckpoint starts a checkpoint when one is due and none is being
// written.
func (m *Member) maybeCheckpoint() {
	due := m.sinceCkpt >= m.cfg.CheckpointEvery && m.sinceCkptBytes >= m.lastCkptBytes/2
	if m.log.Checkpointing() || !m.wantCkpt && !due {
		return
	}
	last := m.log.Last()
	if last <= m.log.CheckpointLSN() {
		m.wantCkpt = false
		return
	}
	blob := m.stateBlob()
	if err := m.log.Checkpoint(last, blob); err != nil {
		m.emit(Note{Event: "checkpoint refused", Detail: err.Error()})
		return
	}
	m.wantCkpt, m.sinceCkpt, m.sinceCkptBytes, m.lastCkptBytes = false, 0, 0, len(blob)
}

func (m *Member) stateBlob() []byte {
	return encodeState(state{vc: m.vc, schema: m.schemaApplied, stale: m.stale, pending: m.pending, engine: m.eng.Snapshot()})
}

// flush hands the wal's next write to the node, if it has one.
func (m *Member) flush() {
	if w, ok := m.log.Next(); ok {
		m.emit(Persist{Write: w})
	}
}

func (m *Member) emit(e Effect) { m.effects = append(m.effects, e) }

// TakeEffects returns the effects made since the last call, in order.
func (m *Member) TakeEffects() []Effect {
	e := m.effects
	m.effects = nil
	return e
}

// Engine is the engine, for local reads (a replica's may lag its master's:
// WaitVClock waits). Callers do not write to it.
func (m *Member) Engine() *storage.Engine { return m.eng }

// VClock is the applied vclock.
func (m *Member) VClock() vclock.VClock { return m.vc.Clone() }

// DurableVClock is the vclock of what is durable (what answers carry).
func (m *Member) DurableVClock() vclock.VClock { return m.durVC.Clone() }

// Stale: this member learned that its data diverged from its master's,
// and no full copy has replaced it yet. The node refuses reads while so.
func (m *Member) Stale() bool { return m.stale }

// SchemaVersion is the last DDL version applied to the engine.
func (m *Member) SchemaVersion() uint64 { return m.schemaApplied }

func (m *Member) markStale(why string) {
	if m.stale {
		return
	}
	m.stale = true
	m.role.Writable = false
	m.appendRecord(recStale, nil)
	m.emit(Note{Event: "diverged", Detail: why})
}

package node

import (
	"fmt"
	"slices"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/mutant"
	"github.com/picogo/picogo/core/replication"
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
	"github.com/picogo/picogo/core/wal"
)

// data is the module that holds this instance's user data: a
// replication.Member (the storage engine, the replicaset log on the
// replicaset-log stream, the vclock, shipping to the replicas), the role
// the global tables give it, and the schema the Raft log commits. It
// carries the member's effects out and feeds it the node's events; what a
// write, a shipment or a promotion means is core/replication's.
//
// The role: the member relays its log when the tables name it its
// replicaset's current master, and accepts writes only while, besides,
// the governor made it master (`.proc_replication(is_master)`, or a
// promotion) and did not demote it since. A member the tables no longer
// name master never writes, whatever it was told: so two members of a
// replicaset are never both writable in the governor's view.
//
// The schema: every instance applies the committed DDL on the sharded
// tables of its tier to its own engine, from the Raft log (not from its
// master's log: the Raft log is what every instance already applies in one
// order, and a replica then never depends on its master for its schema).
// Row changes carry the schema version they were written at; a replica
// applies them once it has applied that version (replication.Member).
type data struct {
	*Node
	member *replication.Member // nil until the instance runs
	// master: the governor made this instance master (`.proc_replication`
	// or a promotion) and has not demoted it since.
	master bool
	role   replication.Role
	// reconciled is the stamp of the tables (roleTables) the role and the
	// engine's schema were last brought in line with.
	reconciled tables.Stamp // the zero Stamp: never (a store's stamps are not zero)
	next       replication.ReqID
	// afterCheckpoint runs once the checkpoint a graceful stop asked for
	// is durable (checkpointThen).
	afterCheckpoint func()
	done            map[replication.ReqID]func(replication.Done)
	answers         map[replication.ReqID]responder
}

func newData(n *Node) *data {
	return &data{Node: n, done: map[replication.ReqID]func(replication.Done){}, answers: map[replication.ReqID]responder{}}
}

func (m *data) register(r *registry) {
	serve(r, running, m.getVClock)
	serve(r, running, m.waitVClock)
	serve(r, running, m.demote)
	serve(r, running, m.promote)
	serve(r, running, m.ship)
	serve(r, running, m.insert)
	serve(r, running, m.replace)
	serve(r, running, m.update)
	serve(r, running, m.upsert)
	serve(r, running, m.delete)
	r.tick(tickData, running, func() {
		m.member.Tick()
	})
}

// roleTables are the tables the role and the schema are read from.
var roleTables = []uint32{tables.TablePicoInstance, tables.TablePicoReplicaset, tables.TablePicoTier,
	tables.TablePicoTable, tables.TablePicoIndex, tables.TablePicoProperty}

// start recovers the member from what the replicaset log holds, once the
// instance has its raft id.
func (m *data) start(recovered *wal.Recovered) error {
	if recovered == nil {
		recovered = &wal.Recovered{}
	}
	mem, err := replication.Recover(m.cfg.Replication.withID(m.identity.RaftID, m.cfg.mutants), recovered)
	if err != nil {
		return fmt.Errorf("user data: %w", err)
	}
	m.member, m.reconciled = mem, tables.Stamp{}
	return nil
}

// pump brings the role and the schema in line with newly applied tables,
// and carries out what the member wants done. It reports whether it did
// anything.
func (m *data) pump() bool {
	if m.member == nil {
		return false
	}
	if stamp := m.tables.Stamp(roleTables...); stamp != m.reconciled {
		m.reconciled = stamp
		m.reconcileSchema()
		m.configure()
	}
	effects := m.member.TakeEffects()
	for _, e := range effects {
		m.carryOut(e)
	}
	if fn := m.afterCheckpoint; fn != nil && !m.member.Checkpointing() {
		m.afterCheckpoint = nil
		fn()
	}
	return len(effects) > 0
}

// checkpointThen checkpoints the replicaset log, then runs fn: a graceful
// stop's last step, so that a restart replays no records (with a large
// table, most of its recovery). fn runs at once when there is nothing to
// checkpoint.
func (m *data) checkpointThen(fn func()) {
	if m.member == nil {
		fn()
		return
	}
	m.member.CheckpointNow()
	if !m.member.Checkpointing() {
		fn()
		return
	}
	m.emit(Note{Event: "replication", Detail: "stopping: a checkpoint first, so that the next start replays nothing"})
	m.afterCheckpoint = fn
}

func (m *data) carryOut(e replication.Effect) {
	switch e := e.(type) {
	case replication.Persist:
		m.emit(Persist{Stream: StreamReplicasetLog, ID: e.Write.Seq, Batch: e.Write.Batch, Sync: e.Write.Sync})
	case replication.Ship:
		to := e.To
		addr, ok := m.address(to)
		if !ok {
			m.member.Response(to, nil, fmt.Errorf("address of %d unknown", to))
			return
		}
		m.call(addr, api.ReplicasetShip{From: m.identity.RaftID, Payload: e.Payload}, func(result any, err *api.Error) {
			if err != nil {
				m.member.Response(to, nil, err)
				return
			}
			payload, perr := shipAnswer(result)
			m.member.Response(to, payload, perr)
		})
	case replication.Answer:
		if respond, ok := m.answers[e.ID]; ok {
			delete(m.answers, e.ID)
			respond([]any{e.Payload}, nil)
		}
	case replication.Done:
		if then, ok := m.done[e.ID]; ok {
			delete(m.done, e.ID)
			then(e)
		}
	case replication.Note:
		m.emit(Note{Event: e.Event, Detail: e.Detail})
	default:
		panic(fmt.Sprintf("node: unknown replication effect %T", e))
	}
}

// shipAnswer is the payload of `.proc_replicaset_ship`'s reply.
func shipAnswer(result any) ([]byte, error) {
	values, ok := result.([]any)
	if ok && len(values) == 1 {
		if b, ok := values[0].([]byte); ok {
			return b, nil
		}
	}
	return nil, fmt.Errorf(".proc_replicaset_ship: a reply of %T, want one binary value", result)
}

// persistDone: a write of the replicaset log is durable.
func (m *data) persistDone(id uint64) {
	if m.member == nil {
		panic(fmt.Sprintf("node: PersistDone(%d) on the replicaset log before it is open", id))
	}
	if err := m.member.PersistDone(id); err != nil {
		m.failStop(fmt.Errorf("replicaset log write %d: %w", id, err))
	}
}

// request registers then as the end of the member request about to be
// made.
func (m *data) request(then func(replication.Done)) replication.ReqID {
	m.next++
	m.done[m.next] = then
	return m.next
}

// tier is this instance's tier ("" before the tables have its row).
func (m *data) tier() string {
	if row, ok := m.selfRow(); ok {
		return row.Tier
	}
	return ""
}

// configure gives the member the role the tables and the governor give
// this instance.
func (m *data) configure() {
	topo, err := m.tables.Topology()
	if err != nil {
		return
	}
	self, ok := topo.Instance(m.identity.InstanceID)
	if !ok {
		return
	}
	role := replication.Role{}
	if rs, ok := topo.Replicaset(self.ReplicasetID); ok {
		if master, ok := topo.Instance(rs.CurrentMasterID); ok {
			role.Master = master.RaftID
		}
		if tier, ok := topo.Tier(rs.Tier); ok {
			role.Sync = tier.IsSync
		}
	}
	for _, inst := range topo.Instances {
		if inst.ReplicasetID == self.ReplicasetID && inst.RaftID != self.RaftID && inst.Target.Variant != tables.GradeExpelled &&
			inst.Started() {
			role.Peers = append(role.Peers, inst.RaftID)
		}
	}
	slices.Sort(role.Peers)
	role.Writable = m.master && role.Master == m.identity.RaftID || m.cfg.mutants.Has(mutant.ReplicaAcceptsWrites)
	// The member's own Writable counts too: a promotion makes it writable
	// before the tables name it master; until they do, it must not be.
	if role.Master == m.role.Master && role.Writable == m.role.Writable && role.Sync == m.role.Sync &&
		slices.Equal(role.Peers, m.role.Peers) && role.Writable == m.member.Role().Writable {
		return
	}
	was := m.role.Writable
	m.role = role
	m.member.Configure(role)
	if role.Writable && !was {
		// A new master: what a failover lost may include a collect's
		// deletes (buckets.sweepStray).
		m.buckets.sweepStray()
	}
	m.emit(Note{Event: "replication", Detail: fmt.Sprintf("master %d, peers %v, writable %t, sync %t",
		role.Master, role.Peers, role.Writable, role.Sync)})
}

// setMaster records the governor's word on whether this instance is its
// replicaset's master, and reconfigures the member.
func (m *data) setMaster(master bool) {
	m.master = master
	if !master && m.member != nil {
		m.member.Demote() // the governor's word: a replica, whatever it was promoted to before
	}
	m.configure()
}

// reconcileSchema brings the engine's tables and indexes in line with the
// committed schema of this instance's tier: a table is created (with its
// secondary indexes) once its creation is committed (operable), dropped
// once its drop is (its row is gone); an index likewise. A table or index
// being dropped stays until the drop commits. The differences go to the
// member as one change at the applied schema version — drops first — so
// that a member that skipped versions (a Raft snapshot) catches up in one
// step.
func (m *data) reconcileSchema() {
	version := m.tables.SchemaVersion()
	tier := m.tier()
	if tier == "" {
		// Not before this instance's row is applied: which tables are
		// its tier's is not known yet, and a version recorded now with
		// nothing to do would swallow the tier's tables.
		return
	}
	engine := m.member.Engine()
	committed := func(operable bool) bool { return operable || m.cfg.mutants.Has(mutant.SchemaBeforeCommit) }
	var drops, creates []replication.SchemaChange
	want := map[uint32]bool{}
	for def := range m.tables.TableDefs() {
		if !def.IsSharded() || def.Tier != tier {
			continue
		}
		_, have := engine.Table(def.ID)
		if !have && !committed(def.Operable) {
			continue
		}
		want[def.ID] = true
		var haveIdx []schema.IndexDef
		if have {
			haveIdx, _ = engine.Indexes(def.ID)
		} else {
			d := def.Clone()
			creates = append(creates, replication.SchemaChange{CreateTable: &d})
		}
		rows := m.tables.Indexes(def.ID)
		for _, x := range rows {
			if x.ID != 0 && committed(x.Operable) && !slices.ContainsFunc(haveIdx, func(h schema.IndexDef) bool { return h.ID == x.ID }) {
				x := x.Clone()
				creates = append(creates, replication.SchemaChange{CreateIndex: &x})
			}
		}
		for _, h := range haveIdx {
			if h.ID != 0 && !slices.ContainsFunc(rows, func(x schema.IndexDef) bool { return x.ID == h.ID }) {
				drops = append(drops, replication.SchemaChange{DropIndex: &struct{ Table, Index uint32 }{def.ID, h.ID}})
			}
		}
	}
	for _, id := range engine.Tables() {
		if !want[id] {
			drops = append(drops, replication.SchemaChange{DropTable: id})
		}
	}
	switch steps := append(drops, creates...); len(steps) {
	case 0:
		// Nothing changes in this engine, but the version is recorded
		// all the same: members compare versions (a full copy from a
		// master behind this member's schema is refused), so they must
		// count the same ones whatever their engines needed.
		if version > m.member.SchemaVersion() {
			m.applySchema(version, replication.SchemaChange{})
		}
	case 1:
		m.applySchema(version, steps[0])
	default:
		m.applySchema(version, replication.SchemaChange{Steps: steps})
	}
	m.member.SetSchemaVersion(version)
}

// checkSchema is a master's dry run of a pending change on the sharded
// tables of its tier: nil if its engine can take it. The table being
// changed is not writable meanwhile, so the answer holds until the commit.
func (m *data) checkSchema(ddl tables.Ddl) *tuple.Error {
	if m.member == nil || !slices.Contains(m.tables.TiersConcerned(ddl), m.tier()) {
		return nil
	}
	switch {
	case ddl.Kind == tables.DdlCreateTable && ddl.Def != nil && ddl.Def.IsSharded():
		return m.member.CheckSchema(replication.SchemaChange{CreateTable: ddl.Def})
	case ddl.Kind == tables.DdlCreateIndex && ddl.Index != nil:
		if _, ok := m.member.Engine().Table(ddl.Index.TableID); ok {
			return m.member.CheckSchema(replication.SchemaChange{CreateIndex: ddl.Index})
		}
	}
	return nil
}

// schemaApplied reports whether the engine has applied schema version ver.
// Only committed versions reach it, so ver is committed even while the
// tables have it pending: a restart replays the Raft log up to the commit
// index on disk, which Raft syncs lazily and may stop short of the
// ddl_commit the engine applied before the crash (its replicaset log is
// durable on its own). The tables apply the commit again once a leader
// commits it anew.
func (m *data) schemaApplied(ver uint64) bool {
	return m.member != nil && m.member.SchemaVersion() >= ver
}

func (m *data) applySchema(version uint64, ch replication.SchemaChange) {
	if err := m.member.ApplySchema(version, ch); err != nil {
		// The change was committed: every master said it applies. An
		// engine that refuses it cannot follow the cluster's schema.
		m.failStop(fmt.Errorf("applying committed schema version %d: %s", version, err.Message))
	}
}

// userTable is a sharded table this instance's engine holds, with its
// definition from the tables.
func (m *data) userTable(id uint32) (schema.TableDef, bool) {
	if m.member == nil {
		return schema.TableDef{}, false
	}
	if _, ok := m.member.Engine().Table(id); !ok {
		return schema.TableDef{}, false
	}
	def, ok := m.tables.Table(id)
	if !ok {
		return schema.TableDef{}, false
	}
	return *def, true
}

// boxError is an engine error as a reply.
func boxError(e *tuple.Error) *api.Error { return &api.Error{Code: e.Code, Message: e.Message} }

// Member is this instance's replicaset member (nil before the instance
// runs), for local reads and the simulator's checks. Read only.
func (n *Node) Member() *replication.Member { return n.data.member }

// StorageInfo is the user data this instance holds: its replication state
// and each table's memory (`.proc_runtime_info`, /metrics).
func (n *Node) StorageInfo() api.StorageInfo {
	m := n.data
	if m.member == nil {
		return api.StorageInfo{}
	}
	info := api.StorageInfo{VClock: m.member.VClock(), MasterRaftID: m.role.Master, Writable: m.role.Writable,
		Stale: m.member.Stale()}
	for _, t := range m.member.Engine().MemoryAll() {
		info.Tables = append(info.Tables, api.TableMemory{ID: t.Table, Name: t.Name, Rows: t.Rows,
			TupleBytes: t.TupleBytes, IndexBytes: t.IndexBytes})
		info.MemoryBytes += t.Total()
	}
	return info
}

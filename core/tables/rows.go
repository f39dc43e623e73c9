package tables

import (
	"fmt"
	"maps"
	"slices"

	"github.com/picogo/picogo/core/tuple"
)

// Typed rows of the topology tables: what the lifecycle and the governor
// read and write. Each converts to and from its tuple; a row that does not
// convert is reported, never guessed at.

// Grade variants, in the order an instance climbs them.
const (
	GradeOffline             = "Offline"
	GradeReplicated          = "Replicated"
	GradeShardingInitialized = "ShardingInitialized"
	GradeOnline              = "Online"
	GradeExpelled            = "Expelled"
)

// Grade is an instance's state: a variant and the incarnation it belongs to.
// Tuple shape: [variant, incarnation].
type Grade struct {
	Variant     string
	Incarnation uint64
}

func (g Grade) tuple() []any { return []any{g.Variant, g.Incarnation} }

func (g Grade) String() string { return fmt.Sprintf("%s(%d)", g.Variant, g.Incarnation) }

func gradeFrom(v any) (Grade, error) {
	a, ok := v.([]any)
	if !ok || len(a) != 2 {
		return Grade{}, fmt.Errorf("grade %v is not [variant, incarnation]", v)
	}
	variant, ok1 := a[0].(string)
	inc, ok2 := tuple.AsUint64(a[1])
	if !ok1 || !ok2 {
		return Grade{}, fmt.Errorf("grade %v is not [variant, incarnation]", v)
	}
	return Grade{Variant: variant, Incarnation: inc}, nil
}

// Instance is a row of _pico_instance.
type Instance struct {
	InstanceID     string
	InstanceUUID   string
	RaftID         uint64
	ReplicasetID   string
	ReplicasetUUID string
	Current        Grade
	Target         Grade
	FailureDomain  map[string]string
	Tier           string
}

// Started reports whether the instance ever asked to come online (its
// target incarnation moved past 0). One that did not — its process gone
// between its join and its first .proc_update_instance, or a join retried
// under a new name — was never configured as a replica or a master: it
// holds no write and never will, so no replication quorum counts it.
func (i Instance) Started() bool { return i.Target.Incarnation > 0 }

// Expelled reports whether the instance is expelled or on its way out: its
// target or its current grade is Expelled. A target Expelled is never
// undone, so from the moment it is set the instance counts nowhere any
// more — no replicaset member, bucket owner, voter or quorum of tomorrow —
// and never runs again. This is what "is it expelled" almost always means.
func (i Instance) Expelled() bool {
	return i.Target.Variant == GradeExpelled || i.Current.Variant == GradeExpelled
}

// ExpelDone reports whether the expel is finished: the current grade is
// Expelled (the governor's last step, once the instance votes no more).
// It is apart from Expelled because a few decisions must tell "being
// expelled" from "expelled": the governor's steps (expel, offline, the
// removal from the Raft configuration), the instance stopping itself or
// refusing to start, `.proc_expel_redirect` answering, a new instance
// taking the name, an update refused as expelled rather than as being
// expelled.
func (i Instance) ExpelDone() bool { return i.Current.Variant == GradeExpelled }

// Tuple is the row as stored.
func (i Instance) Tuple() []any {
	return []any{i.InstanceID, i.InstanceUUID, i.RaftID, i.ReplicasetID, i.ReplicasetUUID,
		i.Current.tuple(), i.Target.tuple(), anyMap(i.FailureDomain), i.Tier}
}

// anyMap is m as a map of values a tuple can hold (encoded with sorted keys).
func anyMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// InstanceFrom reads a _pico_instance row.
func InstanceFrom(v []any) (Instance, error) {
	var i Instance
	if len(v) != 9 {
		return i, fmt.Errorf("_pico_instance row of %d fields", len(v))
	}
	var err error
	i.InstanceID, _ = v[0].(string)
	i.InstanceUUID, _ = v[1].(string)
	i.RaftID, _ = tuple.AsUint64(v[2])
	i.ReplicasetID, _ = v[3].(string)
	i.ReplicasetUUID, _ = v[4].(string)
	if i.Current, err = gradeFrom(v[5]); err != nil {
		return i, err
	}
	if i.Target, err = gradeFrom(v[6]); err != nil {
		return i, err
	}
	i.FailureDomain = map[string]string{}
	if m, ok := v[7].(map[string]any); ok {
		for k, x := range m {
			i.FailureDomain[k], _ = x.(string)
		}
	}
	i.Tier, _ = v[8].(string)
	return i, nil
}

// Replicaset is a row of _pico_replicaset.
type Replicaset struct {
	ReplicasetID         string
	ReplicasetUUID       string
	CurrentMasterID      string
	TargetMasterID       string
	Tier                 string
	Weight               float64
	State                string
	CurrentConfigVersion uint64
	TargetConfigVersion  uint64
	PromotionVclock      map[string]any
}

// Replicaset states.
const (
	ReplicasetNotReady = "not-ready"
	ReplicasetReady    = "ready"
)

// Tuple is the row as stored.
func (r Replicaset) Tuple() []any {
	vc := r.PromotionVclock
	if vc == nil {
		vc = map[string]any{}
	}
	return []any{r.ReplicasetID, r.ReplicasetUUID, r.CurrentMasterID, r.TargetMasterID, r.Tier, r.Weight, r.State,
		r.CurrentConfigVersion, r.TargetConfigVersion, vc}
}

// ReplicasetFrom reads a _pico_replicaset row.
func ReplicasetFrom(v []any) (Replicaset, error) {
	var r Replicaset
	if len(v) != 10 {
		return r, fmt.Errorf("_pico_replicaset row of %d fields", len(v))
	}
	r.ReplicasetID, _ = v[0].(string)
	r.ReplicasetUUID, _ = v[1].(string)
	r.CurrentMasterID, _ = v[2].(string)
	r.TargetMasterID, _ = v[3].(string)
	r.Tier, _ = v[4].(string)
	r.Weight, _ = tuple.AsFloat64(v[5])
	r.State, _ = v[6].(string)
	r.CurrentConfigVersion, _ = tuple.AsUint64(v[7])
	r.TargetConfigVersion, _ = tuple.AsUint64(v[8])
	r.PromotionVclock, _ = v[9].(map[string]any)
	return r, nil
}

// Tier is a row of _pico_tier.
type Tier struct {
	Name                       string
	ReplicationFactor          uint64
	CanVote                    bool
	CurrentVshardConfigVersion uint64
	TargetVshardConfigVersion  uint64
	VshardBootstrapped         bool
	BucketCount                uint64
	// IsSync is whether the tier replicates synchronously: a write to a
	// table of the tier returns once a quorum of the replicaset confirmed
	// it (Tarantool's is_sync; Picodata's tier option replication_mode:
	// sync). Default false.
	IsSync bool
}

// DefaultBucketCount is a tier's number of buckets unless configured.
const DefaultBucketCount = 3000

// Tuple is the row as stored.
func (t Tier) Tuple() []any {
	return []any{t.Name, t.ReplicationFactor, t.CanVote, t.CurrentVshardConfigVersion, t.TargetVshardConfigVersion,
		t.VshardBootstrapped, t.BucketCount, t.IsSync}
}

// TierFrom reads a _pico_tier row.
func TierFrom(v []any) (Tier, error) {
	var t Tier
	if len(v) != 7 && len(v) != 8 { // 7: written before is_sync
		return t, fmt.Errorf("_pico_tier row of %d fields", len(v))
	}
	if len(v) == 8 {
		t.IsSync, _ = v[7].(bool)
	}
	t.Name, _ = v[0].(string)
	t.ReplicationFactor, _ = tuple.AsUint64(v[1])
	t.CanVote, _ = v[2].(bool)
	t.CurrentVshardConfigVersion, _ = tuple.AsUint64(v[3])
	t.TargetVshardConfigVersion, _ = tuple.AsUint64(v[4])
	t.VshardBootstrapped, _ = v[5].(bool)
	t.BucketCount, _ = tuple.AsUint64(v[6])
	return t, nil
}

// Bucket range states (_pico_bucket state).
const (
	// BucketActive: the owner serves reads and writes.
	BucketActive = "active"
	// BucketSending: the owner serves reads and refuses writes (retryably)
	// while the range is copied to its destination.
	BucketSending = "sending"
)

// BucketRange is a _pico_bucket row: buckets First..Last of a tier, owned
// by a replicaset. Destination is where a sending range goes ("" when
// active). Garbage names a replicaset that may still hold rows of these
// buckets although it does not own them — the source after a move, or the
// destination of a move rolled back — until the governor has them deleted
// ("" when none).
type BucketRange struct {
	Tier         string
	First, Last  uint64
	ReplicasetID string
	State        string
	Destination  string
	Garbage      string
}

// Tuple is the row as stored.
func (b BucketRange) Tuple() []any {
	return []any{b.Tier, b.First, b.Last, b.ReplicasetID, b.State, b.Destination, b.Garbage}
}

// Key is the row's primary key.
func (b BucketRange) Key() []any { return []any{b.Tier, b.First} }

// Count is how many buckets the range holds.
func (b BucketRange) Count() uint64 { return b.Last - b.First + 1 }

func (b BucketRange) String() string {
	s := fmt.Sprintf("%s %d-%d %s %s", b.Tier, b.First, b.Last, b.ReplicasetID, b.State)
	if b.Destination != "" {
		s += " to " + b.Destination
	}
	if b.Garbage != "" {
		s += ", garbage on " + b.Garbage
	}
	return s
}

// BucketRangeFrom decodes a _pico_bucket row.
func BucketRangeFrom(v []any) (BucketRange, error) {
	var b BucketRange
	if len(v) != 7 {
		return b, fmt.Errorf("_pico_bucket row of %d fields", len(v))
	}
	b.Tier, _ = v[0].(string)
	b.First, _ = tuple.AsUint64(v[1])
	b.Last, _ = tuple.AsUint64(v[2])
	b.ReplicasetID, _ = v[3].(string)
	b.State, _ = v[4].(string)
	b.Destination, _ = v[5].(string)
	b.Garbage, _ = v[6].(string)
	if b.First == 0 || b.Last < b.First {
		return b, fmt.Errorf("_pico_bucket row %v: buckets %d-%d", v[:3], b.First, b.Last)
	}
	return b, nil
}

// Topology is a consistent read of the topology tables, each sorted by its
// primary key.
type Topology struct {
	Instances   []Instance
	Replicasets []Replicaset
	Tiers       []Tier
	// Buckets are the bucket ranges of every tier (_pico_bucket), by tier
	// then first bucket.
	Buckets   []BucketRange
	Addresses map[uint64]string // raft id -> address
	// Roles, RoleTiers and RoleStates are the roles' tables: definitions,
	// the tiers each is enabled on, what each instance did
	// (docs/roles.md).
	Roles      []Role
	RoleTiers  []RoleTier
	RoleStates []RoleState
	// RoleConfigs are the roles' configurations (_pico_role_config).
	RoleConfigs []RoleConfig
	// PendingSchemaVersion is _pico_property's pending_schema_version: the
	// version of the pending two-phase schema change, 0 if none is.
	PendingSchemaVersion uint64
	// PendingSchemaTiers are the tiers that change concerns
	// (Store.TiersConcerned), sorted; empty if none is pending.
	PendingSchemaTiers []string
}

// topologyTables are the tables ReadTopology reads: the topology's, the
// roles', _pico_property (the pending schema change) and _pico_table (the
// tiers it concerns).
var topologyTables = []uint32{TablePicoInstance, TablePicoReplicaset, TablePicoTier, TablePicoBucket, TablePicoPeerAddress,
	TablePicoRole, TablePicoRoleTier, TablePicoRoleState, TablePicoRoleConfig, TablePicoProperty, TablePicoTable}

// topologyMemo is the last topology read, and the stamp of the tables it
// was read from, together and each.
type topologyMemo struct {
	at     Stamp // the zero Stamp: never read
	top    Topology
	err    error
	tables systemStamps // zero: none (never read, or an error)
}

// systemStamps are stamps of system tables, by id: an array, as a map was
// allocated and filled at every read of the topology.
type systemStamps [systemSlots]Stamp

func (m *systemStamps) of(id uint32) Stamp     { return m[id-systemLow] }
func (m *systemStamps) set(id uint32, s Stamp) { m[id-systemLow] = s }

// ReadTopology reads the topology tables: a copy of Topology's, whose
// slices and map the caller may change.
func (s *Store) ReadTopology() (Topology, error) {
	top, err := s.Topology()
	return top.clone(), err
}

// Topology is the topology as the tables hold it, shared: read it, do not
// change it or keep it past the next write (ReadTopology gives a copy).
// The governor, the sentinel, the modules and the simulator's checks ask
// after most events while the tables change far less often, so it is
// decoded once after each write to one of them.
func (s *Store) Topology() (*Topology, error) {
	if s.TopologyStamp() != s.topo.at {
		m, err := s.readTopology(&s.topo)
		if err != nil {
			m = topologyMemo{at: m.at, top: m.top, err: err} // read everything again next time
		}
		s.topo = m
	}
	return &s.topo.top, s.topo.err
}

// TopologyStamp is the stamp of the tables ReadTopology reads: what a
// reader derives from the topology holds while it is the same.
func (s *Store) TopologyStamp() Stamp { return s.Stamp(topologyTables...) }

// clone copies the slices and the map, not what their elements point to.
func (t Topology) clone() Topology {
	t.Instances = slices.Clone(t.Instances)
	t.Replicasets = slices.Clone(t.Replicasets)
	t.Tiers = slices.Clone(t.Tiers)
	t.Buckets = slices.Clone(t.Buckets)
	t.Addresses = maps.Clone(t.Addresses)
	t.Roles = slices.Clone(t.Roles)
	t.RoleTiers = slices.Clone(t.RoleTiers)
	t.RoleStates = slices.Clone(t.RoleStates)
	t.RoleConfigs = slices.Clone(t.RoleConfigs)
	t.PendingSchemaTiers = slices.Clone(t.PendingSchemaTiers)
	return t
}

// readTopology decodes the tables that were written since prev was read,
// and takes prev's decoding of the others (never changed once made: the
// slices are shared).
func (s *Store) readTopology(prev *topologyMemo) (topologyMemo, error) {
	m := topologyMemo{at: s.TopologyStamp()}
	t := &m.top
	var err error
	if t.Instances, err = readRows(s, prev, &m, TablePicoInstance, prev.top.Instances, InstanceFrom); err != nil {
		return m, err
	}
	if t.Replicasets, err = readRows(s, prev, &m, TablePicoReplicaset, prev.top.Replicasets, ReplicasetFrom); err != nil {
		return m, err
	}
	if t.Tiers, err = readRows(s, prev, &m, TablePicoTier, prev.top.Tiers, TierFrom); err != nil {
		return m, err
	}
	if t.Buckets, err = readRows(s, prev, &m, TablePicoBucket, prev.top.Buckets, BucketRangeFrom); err != nil {
		return m, err
	}
	if t.Roles, err = readRows(s, prev, &m, TablePicoRole, prev.top.Roles, RoleFrom); err != nil {
		return m, err
	}
	if t.RoleTiers, err = readRows(s, prev, &m, TablePicoRoleTier, prev.top.RoleTiers, RoleTierFrom); err != nil {
		return m, err
	}
	if t.RoleStates, err = readRows(s, prev, &m, TablePicoRoleState, prev.top.RoleStates, RoleStateFrom); err != nil {
		return m, err
	}
	if t.RoleConfigs, err = readRows(s, prev, &m, TablePicoRoleConfig, prev.top.RoleConfigs, RoleConfigFrom); err != nil {
		return m, err
	}
	if st := s.Stamp(TablePicoPeerAddress); prev.tables.of(TablePicoPeerAddress) == st {
		t.Addresses = prev.top.Addresses
	} else {
		rows, err := s.Scan(TablePicoPeerAddress)
		if err != nil {
			return m, err
		}
		t.Addresses = make(map[uint64]string, len(rows))
		for _, r := range rows {
			id, _ := tuple.AsUint64(r.Values()[0])
			t.Addresses[id], _ = r.Values()[1].(string)
		}
	}
	m.tables.set(TablePicoPeerAddress, s.Stamp(TablePicoPeerAddress))
	// The pending schema change is _pico_property's, and the tiers it
	// concerns are its tables': decoded again only when either changed.
	propAt, tableAt := s.Stamp(TablePicoProperty), s.Stamp(TablePicoTable)
	m.tables.set(TablePicoProperty, propAt)
	m.tables.set(TablePicoTable, tableAt)
	if prev.tables.of(TablePicoProperty) == propAt && prev.tables.of(TablePicoTable) == tableAt {
		t.PendingSchemaVersion, t.PendingSchemaTiers = prev.top.PendingSchemaVersion, prev.top.PendingSchemaTiers
	} else if ddl, v, ok := s.PendingSchemaChange(); ok {
		t.PendingSchemaVersion = v
		t.PendingSchemaTiers = s.TiersConcerned(ddl)
	}
	return m, nil
}

// readRows is one table of the topology: its rows decoded with from, or
// prev's when the table has not been written since prev was read.
func readRows[T any](s *Store, prevMemo, m *topologyMemo, table uint32, prev []T, from func([]any) (T, error)) ([]T, error) {
	st := s.Stamp(table)
	m.tables.set(table, st)
	if prevMemo.tables.of(table) == st {
		return prev, nil
	}
	rows, err := s.Scan(table)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	out := make([]T, 0, len(rows))
	for _, r := range rows {
		x, err := from(r.Values())
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

// Instance finds an instance by name.
func (t *Topology) Instance(id string) (Instance, bool) {
	i := slices.IndexFunc(t.Instances, func(x Instance) bool { return x.InstanceID == id })
	if i < 0 {
		return Instance{}, false
	}
	return t.Instances[i], true
}

// Address is where to reach the instance with this raft id; false when it
// has none, or the address was taken over (TakenOver).
func (t *Topology) Address(raftID uint64) (string, bool) {
	a := t.Addresses[raftID]
	if a == "" || TakenOver(t.Addresses, StartedIDs(t.Instances), raftID) {
		return "", false
	}
	return a, true
}

// TakenOver reports whether an instance that joined later (a greater raft
// id) and has started (Instance.Started; started holds the raft ids of
// those) advertises raftID's address too: a process that lost its data and
// joined again under a new name listens there now, so the address is no
// longer raftID's — an RPC, a shipment or a redirect meant for the old name
// would reach the new one and act on it. A later join that never started
// takes nothing over: its process may be long gone, its join forwarded
// late by an instance that was paused, while the older name still runs
// there (seed 1589).
func TakenOver(addrs map[uint64]string, started map[uint64]bool, raftID uint64) bool {
	a := addrs[raftID]
	for id, other := range addrs {
		if id > raftID && other == a && started[id] {
			return true
		}
	}
	return false
}

// StartedIDs are the raft ids of the instances that have started
// (Instance.Started), for TakenOver.
func StartedIDs(instances []Instance) map[uint64]bool {
	out := make(map[uint64]bool, len(instances))
	for _, i := range instances {
		if i.Started() {
			out[i.RaftID] = true
		}
	}
	return out
}

// Replicaset finds a replicaset by name.
func (t *Topology) Replicaset(id string) (Replicaset, bool) {
	i := slices.IndexFunc(t.Replicasets, func(x Replicaset) bool { return x.ReplicasetID == id })
	if i < 0 {
		return Replicaset{}, false
	}
	return t.Replicasets[i], true
}

// Tier finds a tier by name.
func (t *Topology) Tier(name string) (Tier, bool) {
	i := slices.IndexFunc(t.Tiers, func(x Tier) bool { return x.Name == name })
	if i < 0 {
		return Tier{}, false
	}
	return t.Tiers[i], true
}

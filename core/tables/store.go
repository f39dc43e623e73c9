package tables

import (
	"crypto/sha256"
	"encoding/binary"
	"iter"
	"maps"
	"slices"

	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/storage"
	"github.com/picogo/picogo/core/tuple"
)

// DefaultChunkBytes is the default snapshot chunk size.
const DefaultChunkBytes = 1 << 20

// Store holds every global table; make one with New. It is not safe for
// concurrent use (like all of core/, it is driven by one caller).
//
// The rows of a system table live in a Go map per table, keyed by the
// encoding of their primary key (schema.TableDef.RowKey): point reads and
// writes are O(key size). Ordered reads (Scan, Snapshot, StateHash) sort
// the keys of a table once, O(n log n), and reuse the order until the
// table is written again.
//
// The rows of a global user table live in a storage.Engine, the engine
// sharded tables use (B-tree indexes, unique secondary indexes enforced,
// Tarantool's DML semantics): a table is a table whichever way it is
// replicated. The engine has a table from its ddl_commit to its drop, with
// its committed secondary indexes. table.inEngine decides which is which.
// Both kinds read the same: rows in primary key order, so a Store's
// outputs (Scan, StateHash, Snapshot) do not depend on where rows live.
type Store struct {
	// ChunkBytes is the size after which a snapshot chunk is cut (at least
	// one tuple per chunk). Zero or less means DefaultChunkBytes.
	ChunkBytes int

	tables map[uint32]*table
	// system holds the tables of ids systemLow.. as tables does: Stamp
	// reads the topology's eleven tables at every tick and message, and
	// the map's lookups were a few percent of the simulator's CPU.
	system [systemSlots]*table
	byName map[string]uint32
	eng    *storage.Engine // the rows of the global user tables
	resets uint64          // how many times the store was emptied (a snapshot restored)
	topo   topologyMemo    // ReadTopology's

	// grants remembers Granted's answers as of grantsAt, _pico_privilege's
	// stamp: the leader asks the same question for every CaS write, and
	// each answer costs up to a dozen point reads.
	grants   map[grantQuery]bool
	grantsAt Stamp

	// schema is SchemaVersion's answer as of schemaAt, _pico_property's
	// stamp: the host asks it after every event.
	schema   uint64
	schemaAt Stamp
}

type grantQuery struct {
	user                  uint32
	privilege, objectType string
	objectID              int64
}

// table is a table's definition and, for a system table, its rows.
type table struct {
	def    schema.TableDef
	rows   map[string]tuple.Tuple // a system table's rows; empty for the others
	sorted []string               // row keys in order; nil when stale
	writes uint64                 // rows set or deleted so far
}

// New returns a store holding the system tables, whose definitions are
// rows of _pico_table and _pico_index.
func New() *Store {
	s := &Store{ChunkBytes: DefaultChunkBytes}
	s.reset()
	for _, t := range systemTemplate {
		s.put(&table{def: t.def.Clone(), rows: maps.Clone(t.rows), sorted: t.sorted, writes: t.writes})
	}
	return s
}

// systemTemplate is what New starts from: the system tables with their
// _pico_table and _pico_index rows, the same in every store. Encoding those
// rows was a tenth of a simulated instance's start (each start makes a
// store), so it is done once; New copies the tables (the rows are
// immutable values, shared).
// The tables are in SystemTables' order.
var systemTemplate = newSystemTemplate()

func newSystemTemplate() []*table {
	s := &Store{}
	s.reset()
	var tpl []*table
	for _, def := range SystemTables() {
		tpl = append(tpl, s.addTable(def))
	}
	for _, def := range SystemTables() {
		s.putDefRows(&def)
	}
	for _, t := range tpl {
		t.keys() // sorted once, shared
	}
	return tpl
}

// systemLow and systemSlots bound the ids Store.system holds: every system
// table's (TestSystemTablesAreInTheArray).
const (
	systemLow   = 512
	systemSlots = 64
)

func (s *Store) reset() {
	s.tables = map[uint32]*table{}
	s.system = [systemSlots]*table{}
	s.byName = map[string]uint32{}
	s.eng = storage.New()
	s.resets++
}

// Stamp identifies the contents of some tables: it is different after any
// of them was written, or the store restored from a snapshot. A reader
// that derives state from a few tables (core/node's data module, from the
// topology and the schema) compares stamps instead of re-reading them
// after every entry.
type Stamp struct{ resets, writes uint64 }

// Stamp is the stamp of the tables ids (a missing table counts as empty).
// It is never the zero Stamp: a store counts its first reset (New).
func (s *Store) Stamp(ids ...uint32) Stamp {
	st := Stamp{resets: s.resets}
	for _, id := range ids {
		if i := id - systemLow; i < systemSlots {
			if t := s.system[i]; t != nil {
				st.writes += t.writes
			}
		} else if t, ok := s.tables[id]; ok {
			st.writes += t.writes
		}
	}
	return st
}

func (s *Store) addTable(def schema.TableDef) *table {
	t := &table{def: def, rows: map[string]tuple.Tuple{}}
	s.put(t)
	return t
}

// put adds t to the tables by id and name.
func (s *Store) put(t *table) {
	s.tables[t.def.ID] = t
	if i := t.def.ID - systemLow; i < systemSlots {
		s.system[i] = t
	}
	s.byName[t.def.Name] = t.def.ID
}

// remove takes table id out of the tables by id and name.
func (s *Store) remove(id uint32) {
	t := s.tables[id]
	delete(s.tables, id)
	if i := id - systemLow; i < systemSlots {
		s.system[i] = nil
	}
	delete(s.byName, t.def.Name)
}

// putDefRows writes a new table's _pico_table row and _pico_index rows:
// its primary index, and a sharded table's bucket_id index.
func (s *Store) putDefRows(def *schema.TableDef) {
	idx := def.PkIndex()
	s.putRow(TablePicoTable, tuple.FromValues(TableRow(def)))
	s.putIndex(&idx)
	if def.IsSharded() {
		b := def.BucketIDIndex()
		s.putIndex(&b)
	}
}

// putRow stores a row built by this package, which fits its table.
func (s *Store) putRow(id uint32, tup tuple.Tuple) {
	t := s.tables[id]
	key, err := t.def.RowKey(tup.Values())
	if err != nil {
		panic("tables: internal row does not fit " + t.def.Name + ": " + err.Error())
	}
	t.set(string(key), &tup)
}

// inEngine is the one place that decides where a table's rows live: a
// global user table's in the engine (Store.eng), a system table's in
// table.rows. A sharded table's rows are not the global tables' at all
// (DML into it is refused), so it has none here.
func (t *table) inEngine() bool {
	return t.def.ID >= FirstUserTableID && !t.def.IsSharded()
}

// ordered returns a table's rows in primary key order, wherever they
// live. A global table whose create is pending is not in the engine yet:
// it has no rows.
func (s *Store) ordered(t *table) []tuple.Tuple {
	if !t.inEngine() {
		return t.ordered()
	}
	rows, _ := s.eng.Select(t.def.ID, 0, nil, storage.IterALL, 0, storage.NoLimit)
	return rows
}

// set writes (tup != nil) or deletes a row of a system table.
func (t *table) set(key string, tup *tuple.Tuple) {
	t.writes++
	if tup == nil {
		if _, ok := t.rows[key]; !ok {
			return
		}
		delete(t.rows, key)
	} else {
		_, existed := t.rows[key]
		t.rows[key] = *tup
		if existed {
			return // the order is unchanged
		}
	}
	t.sorted = nil
}

// keys returns the row keys in primary key order.
func (t *table) keys() []string {
	if t.sorted == nil {
		t.sorted = slices.Sorted(maps.Keys(t.rows))
	}
	return t.sorted
}

// ordered returns the rows in primary key order.
func (t *table) ordered() []tuple.Tuple {
	keys := t.keys()
	out := make([]tuple.Tuple, len(keys))
	for i, k := range keys {
		out[i] = t.rows[k]
	}
	return out
}

// ids returns the table ids in order.
func (s *Store) ids() []uint32 {
	ids := make([]uint32, 0, len(s.tables))
	for id := range s.tables {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Operable reports whether the table exists and is operable, without the
// copy of its definition Table makes.
func (s *Store) Operable(id uint32) bool {
	t, ok := s.tables[id]
	return ok && t.def.Operable
}

// Table returns a table's definition.
func (s *Store) Table(id uint32) (*schema.TableDef, bool) {
	t, ok := s.tables[id]
	if !ok {
		return nil, false
	}
	def := t.def.Clone()
	return &def, true
}

// TableByName returns a table's definition by name.
func (s *Store) TableByName(name string) (*schema.TableDef, bool) {
	id, ok := s.byName[name]
	if !ok {
		return nil, false
	}
	return s.Table(id)
}

// Tables returns every table's definition in id order.
func (s *Store) Tables() []schema.TableDef {
	out := make([]schema.TableDef, 0, len(s.tables))
	for def := range s.TableDefs() {
		out = append(out, def.Clone())
	}
	return out
}

// TableDefs are the table definitions by id, the store's own: for reading
// only, and only until the store changes (the data module and the
// simulator's checks read them after every event; Tables copies them).
func (s *Store) TableDefs() iter.Seq[*schema.TableDef] {
	return func(yield func(*schema.TableDef) bool) {
		for _, id := range s.ids() {
			if !yield(&s.tables[id].def) {
				return
			}
		}
	}
}

// KeyOf checks key values against the table's primary key (part count and
// types) and encodes them.
func (s *Store) KeyOf(table uint32, key []any) ([]byte, error) {
	t, ok := s.tables[table]
	if !ok {
		return nil, errNoSuchTable(table)
	}
	k, e := t.def.EncodeKey(key)
	if e != nil {
		return nil, e
	}
	return k, nil
}

// Get returns the row with the given primary key.
func (s *Store) Get(table uint32, key []any) (tuple.Tuple, bool, error) {
	k, err := s.KeyOf(table, key)
	if err != nil {
		return tuple.Tuple{}, false, err
	}
	if t := s.tables[table]; t.inEngine() {
		tup, ok, _ := s.eng.Get(table, 0, key) // KeyOf has checked the key; no table (a pending create): no row
		return tup, ok, nil
	}
	tup, ok := s.tables[table].rows[string(k)]
	return tup, ok, nil
}

// Scan returns every row of a table in primary key order.
func (s *Store) Scan(table uint32) ([]tuple.Tuple, error) {
	t, ok := s.tables[table]
	if !ok {
		return nil, errNoSuchTable(table)
	}
	return s.ordered(t), nil
}

// Property returns the value of a _pico_property key.
func (s *Store) Property(key string) (any, bool) {
	tup, ok := s.tables[TablePicoProperty].rows[propKey(key)]
	if !ok {
		return nil, false
	}
	return tup.Field(1), true
}

// SchemaVersion is the global_schema_version property (0 if unset).
func (s *Store) SchemaVersion() uint64 {
	if st := s.Stamp(TablePicoProperty); st != s.schemaAt {
		v, _ := s.Property(PropGlobalSchemaVersion)
		s.schema, _ = tuple.AsUint64(v)
		s.schemaAt = st
	}
	return s.schema
}

// propKey is the encoded primary key of a _pico_property row.
func propKey(key string) string {
	if k, ok := propKeys[key]; ok {
		return k
	}
	return encodePropKey(key)
}

func encodePropKey(key string) string {
	k, _ := tuple.EncodeKey([]any{key}) // a string always encodes
	return string(k)
}

// propKeys are the keys picogo itself reads, encoded once: they are read
// after most entries (the schema version, the pending change). Written
// only here, at start.
var propKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{PropGlobalSchemaVersion, PropNextSchemaVersion, PropPendingSchemaChange, PropPendingSchemaVersion, PropNextTableID} {
		m[k] = encodePropKey(k)
	}
	return m
}()

// nextTableID is the id a ddl_prepare creating a table assigns: one more
// than the largest table id, at least FirstUserTableID and at least
// _pico_property's next_table_id, which every prepared create moves past
// its id, so that an id is never handed out twice, even once its table is
// dropped or its create aborted. It depends only on the state, so it is
// the same on every instance. 0 when no id is left.
func (s *Store) nextTableID() uint32 {
	next := max(uint64(FirstUserTableID), s.propUint(PropNextTableID))
	for _, id := range s.ids() {
		next = max(next, uint64(id)+1)
	}
	if next > 1<<32-1 {
		return 0
	}
	return uint32(next)
}

// StateHash is a SHA-256 over every table's rows in (table id, primary key)
// order: stores with equal contents hash equal.
func (s *Store) StateHash() [32]byte {
	h := sha256.New()
	var n [8]byte
	for _, id := range s.ids() {
		rows := s.ordered(s.tables[id])
		binary.BigEndian.PutUint64(n[:], uint64(id))
		h.Write(n[:])
		binary.BigEndian.PutUint64(n[:], uint64(len(rows)))
		h.Write(n[:])
		for _, row := range rows {
			raw := row.Raw()
			binary.BigEndian.PutUint64(n[:], uint64(len(raw)))
			h.Write(n[:])
			h.Write(raw)
		}
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

func errNoSuchTable(id uint32) *tuple.Error {
	return tuple.Errorf(tuple.CodeNoSuchSpace, "Space '%d' does not exist", id)
}

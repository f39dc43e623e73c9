package tables

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
)

// DefaultChunkBytes is the default snapshot chunk size.
const DefaultChunkBytes = 1 << 20

// Store holds every global table; make one with New. It is not safe for
// concurrent use (like all of core/, it is driven by one caller).
//
// Rows live in a Go map per table, keyed by the EncodeKey encoding of their
// primary key: point reads and writes are O(key size). Ordered reads (Scan,
// Snapshot, StateHash) sort the keys of a table once, O(n log n), and reuse
// the order until the table is written again.
type Store struct {
	// ChunkBytes is the size after which a snapshot chunk is cut (at least
	// one tuple per chunk). Zero or less means DefaultChunkBytes.
	ChunkBytes int

	tables map[uint32]*table
	byName map[string]uint32
}

// table is a table's definition and rows.
type table struct {
	def    TableDef
	rows   map[string]Tuple
	sorted []string // row keys in order; nil when stale
}

// New returns a store holding the system tables, whose definitions are
// rows of _pico_table and _pico_index.
func New() *Store {
	s := &Store{ChunkBytes: DefaultChunkBytes}
	s.reset()
	for _, def := range SystemTables() {
		s.addTable(def)
	}
	for _, def := range SystemTables() {
		s.putDefRows(&def)
	}
	return s
}

func (s *Store) reset() {
	s.tables = map[uint32]*table{}
	s.byName = map[string]uint32{}
}

func (s *Store) addTable(def TableDef) *table {
	t := &table{def: def, rows: map[string]Tuple{}}
	s.tables[def.ID] = t
	s.byName[def.Name] = def.ID
	return t
}

// putDefRows writes the table's _pico_table and _pico_index rows.
func (s *Store) putDefRows(def *TableDef) {
	idx := def.PkIndex()
	s.putRow(TablePicoTable, mustTuple(def.ToTuple()))
	s.putRow(TablePicoIndex, mustTuple(idx.ToTuple()))
}

// putRow stores a row built by this package, which fits its table.
func (s *Store) putRow(id uint32, tup Tuple) {
	t := s.tables[id]
	key, err := pkOf(&t.def, tup.vals)
	if err != nil {
		panic("tables: internal row does not fit " + t.def.Name + ": " + err.Error())
	}
	t.set(key, &tup)
}

func mustTuple(vals []any) Tuple {
	raw := mustMarshal(vals)
	t, err := NewTuple(raw)
	if err != nil {
		panic("tables: " + err.Error())
	}
	return t
}

// set writes (tup != nil) or deletes a row.
func (t *table) set(key string, tup *Tuple) {
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
		keys := make([]string, 0, len(t.rows))
		for k := range t.rows {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		t.sorted = keys
	}
	return t.sorted
}

// ordered returns the rows in primary key order.
func (t *table) ordered() []Tuple {
	keys := t.keys()
	out := make([]Tuple, len(keys))
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

// pkOf encodes the primary key of a tuple's values (which fit def).
func pkOf(def *TableDef, vals []any) (string, error) {
	parts := make([]any, len(def.PrimaryKey))
	for i, pos := range def.PrimaryKey {
		if int(pos) < len(vals) {
			parts[i] = vals[pos]
		}
	}
	k, err := EncodeKey(parts)
	return string(k), err
}

// Table returns a table's definition.
func (s *Store) Table(id uint32) (*TableDef, bool) {
	t, ok := s.tables[id]
	if !ok {
		return nil, false
	}
	def := t.def.Clone()
	return &def, true
}

// TableByName returns a table's definition by name.
func (s *Store) TableByName(name string) (*TableDef, bool) {
	id, ok := s.byName[name]
	if !ok {
		return nil, false
	}
	return s.Table(id)
}

// Tables returns every table's definition in id order.
func (s *Store) Tables() []TableDef {
	ids := s.ids()
	out := make([]TableDef, len(ids))
	for i, id := range ids {
		out[i] = s.tables[id].def.Clone()
	}
	return out
}

// KeyOf checks key values against the table's primary key (part count and
// types) and encodes them.
func (s *Store) KeyOf(table uint32, key []any) ([]byte, error) {
	t, ok := s.tables[table]
	if !ok {
		return nil, errNoSuchTable(table)
	}
	k, e := t.def.encodeKey(key)
	if e != nil {
		return nil, e
	}
	return k, nil
}

// Get returns the row with the given primary key.
func (s *Store) Get(table uint32, key []any) (Tuple, bool, error) {
	k, err := s.KeyOf(table, key)
	if err != nil {
		return Tuple{}, false, err
	}
	tup, ok := s.tables[table].rows[string(k)]
	return tup, ok, nil
}

// Scan returns every row of a table in primary key order.
func (s *Store) Scan(table uint32) ([]Tuple, error) {
	t, ok := s.tables[table]
	if !ok {
		return nil, errNoSuchTable(table)
	}
	return t.ordered(), nil
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
	v, _ := s.Property(PropGlobalSchemaVersion)
	u, _ := AsUint64(v)
	return u
}

// propKey is the encoded primary key of a _pico_property row.
func propKey(key string) string {
	k, _ := EncodeKey([]any{key}) // a string always encodes
	return string(k)
}

// nextTableID is the id ddl_create_table assigns: one more than the largest
// user table id, at least FirstUserTableID. It depends only on the state,
// so it is the same on every instance (a dropped last id is reused).
func (s *Store) nextTableID() uint32 {
	next := FirstUserTableID
	for _, id := range s.ids() {
		if id >= next {
			next = id + 1
		}
	}
	return next
}

// StateHash is a SHA-256 over every table's rows in (table id, primary key)
// order: stores with equal contents hash equal.
func (s *Store) StateHash() [32]byte {
	h := sha256.New()
	var n [8]byte
	for _, id := range s.ids() {
		t := s.tables[id]
		binary.BigEndian.PutUint64(n[:], uint64(id))
		h.Write(n[:])
		binary.BigEndian.PutUint64(n[:], uint64(len(t.rows)))
		h.Write(n[:])
		for _, k := range t.keys() {
			raw := t.rows[k].raw
			binary.BigEndian.PutUint64(n[:], uint64(len(raw)))
			h.Write(n[:])
			h.Write(raw)
		}
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

func errNoSuchTable(id uint32) *Error {
	return errorf(CodeNoSuchSpace, "Space '%d' does not exist", id)
}

// encodeKey validates key values against the primary key and encodes them.
func (d *TableDef) encodeKey(key []any) ([]byte, *Error) {
	if len(key) != len(d.PrimaryKey) {
		return nil, errorf(CodeExactMatch, "Invalid key part count in an exact match (expected %d, got %d)",
			len(d.PrimaryKey), len(key))
	}
	return d.encodeKeyPrefix(key)
}

// encodeKeyPrefix validates the first len(key) primary key parts.
func (d *TableDef) encodeKeyPrefix(key []any) ([]byte, *Error) {
	if len(key) > len(d.PrimaryKey) {
		return nil, errorf(CodeKeyPartCount, "Invalid key part count (expected [0..%d], got %d)",
			len(d.PrimaryKey), len(key))
	}
	for i, v := range key {
		f := d.Format[d.PrimaryKey[i]]
		if v == nil || !valueMatches(f.Type, v) {
			return nil, errorf(CodeKeyPartType, "Supplied key type of part %d does not match index part type: expected %s, got %s",
				i, f.Type, valueTypeName(v))
		}
	}
	k, err := EncodeKey(key)
	if err != nil {
		return nil, errorf(CodeKeyPartType, "%v", err)
	}
	return k, nil
}

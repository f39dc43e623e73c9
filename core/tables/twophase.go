package tables

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tuple"
)

// Two-phase DDL, as Picodata: ddl_prepare records a pending schema change
// in _pico_property (pending_schema_change, pending_schema_version; and
// next_schema_version = that version + 1) and writes the table's or the
// index's rows with operable = false; the governor asks the master of
// every replicaset of the tiers the change concerns (TiersConcerned) to
// apply it (`.proc_apply_schema_change`), then proposes ddl_commit (the
// table or index becomes operable, or is dropped; global_schema_version =
// the pending version) or ddl_abort (the prepare is undone;
// global_schema_version is unchanged, and next_schema_version stays ahead
// so the aborted version is never reused). One change is pending at a
// time. DML into a table that is not operable is refused with
// TableNotOperable (10023, retryable). A created table's id is never one
// an earlier create took (next_table_id).
//
// A sharded table (schema.TableDef.IsSharded) is defined here like a
// global one, plus its bucket_id field and index (docs/ddl.md); its rows
// are not the global tables' (DML into it is refused).
//
// Encoding: an op is {"kind": "ddl_prepare", "schema_version": v, "ddl":
// {"kind": "create_table", "def": {...}} | {"kind": "drop_table",
// "table_id": id} | {"kind": "create_index", "index": {...}} | {"kind":
// "drop_index", "table_id": id, "index_id": n}}, {"kind": "ddl_commit"}
// and {"kind": "ddl_abort"}, each with an optional "schema_version" that
// must be the pending one. Picodata's Op is tagged the same way (kind
// ddl_prepare, ddl_commit, ddl_abort); its Ddl's fields are its own
// (picogo keeps the table as a schema.TableDef, the index as a
// schema.IndexDef). The pending_schema_change value is the Ddl's encoding
// as a msgpack map, with the ids and defaults filled in.

// DdlKind discriminates Ddls.
type DdlKind string

const (
	// DdlCreateTable creates Ddl.Def (id 0: the next free user table id).
	DdlCreateTable DdlKind = "create_table"
	// DdlDropTable drops table Ddl.TableID with its rows and indexes.
	DdlDropTable DdlKind = "drop_table"
	// DdlCreateIndex creates Ddl.Index on table Index.TableID (index id 0:
	// the next free one of the table).
	DdlCreateIndex DdlKind = "create_index"
	// DdlDropIndex drops index Ddl.IndexID of table Ddl.TableID (not the
	// primary one, nor a sharded table's bucket_id index).
	DdlDropIndex DdlKind = "drop_index"
)

// CodeTableNotOperable is Picodata's TableNotOperable (10023): DML into a
// table whose schema change is pending.
const CodeTableNotOperable uint32 = 10023

// Ddl is one schema change.
type Ddl struct {
	Kind    DdlKind          `msgpack:"kind"`
	Def     *schema.TableDef `msgpack:"def,omitempty"`
	TableID uint32           `msgpack:"table_id,omitempty"`
	Index   *schema.IndexDef `msgpack:"index,omitempty"`
	IndexID uint32           `msgpack:"index_id,omitempty"`
}

func (d *Ddl) checkShape() *tuple.Error {
	switch d.Kind {
	case DdlCreateTable:
		if d.Def == nil {
			return tuple.Errorf(tuple.CodeIllegalParams, "ddl %q without def", d.Kind)
		}
	case DdlDropTable, DdlDropIndex:
		if d.TableID == 0 {
			return tuple.Errorf(tuple.CodeIllegalParams, "ddl %q without table_id", d.Kind)
		}
	case DdlCreateIndex:
		if d.Index == nil {
			return tuple.Errorf(tuple.CodeIllegalParams, "ddl %q without index", d.Kind)
		}
	default:
		return tuple.Errorf(tuple.CodeIllegalParams, "unknown ddl kind %q", d.Kind)
	}
	return nil
}

// TableOf is the id of the table the change concerns (for an index, the
// table it is on).
func (d *Ddl) TableOf() uint32 {
	switch {
	case d.Kind == DdlCreateTable && d.Def != nil:
		return d.Def.ID
	case d.Kind == DdlCreateIndex && d.Index != nil:
		return d.Index.TableID
	}
	return d.TableID
}

func errNotOperable(name string) *tuple.Error {
	return tuple.Errorf(CodeTableNotOperable, "TableNotOperable: table %s is not operable: a schema change on it is pending", name)
}

// PendingSchemaChange returns the pending change and its schema version;
// ok is false if none is pending. TiersConcerned says which tiers'
// masters must apply it.
func (s *Store) PendingSchemaChange() (ddl Ddl, version uint64, ok bool) {
	v, ok := s.Property(PropPendingSchemaChange)
	if !ok {
		return Ddl{}, 0, false
	}
	raw, err := msgpack.Marshal(v)
	if err != nil || msgpack.Unmarshal(raw, &ddl) != nil {
		return Ddl{}, 0, false // written by ddlPrepare only: does not happen
	}
	return ddl, s.pendingVersion(), true
}

// PendingSchemaVersion is the version of the pending schema change, if
// one is: PendingSchemaChange without decoding the change, for the checks
// that refuse a second one (a DDL or ACL while one is pending).
func (s *Store) PendingSchemaVersion() (version uint64, ok bool) {
	if _, ok := s.Property(PropPendingSchemaChange); !ok {
		return 0, false
	}
	return s.pendingVersion(), true
}

func (s *Store) pendingVersion() uint64 {
	pv, _ := s.Property(PropPendingSchemaVersion)
	version, _ := tuple.AsUint64(pv)
	return version
}

// TiersConcerned returns the names of the tiers whose replicaset masters
// must apply ddl (.proc_apply_schema_change), sorted: for a global table
// (created, dropped, or one an index is on) every tier of _pico_tier; for
// a sharded one, its tier. A change on a table the store does not have
// concerns every tier.
func (s *Store) TiersConcerned(ddl Ddl) []string {
	var def *schema.TableDef
	if ddl.Kind == DdlCreateTable && ddl.Def != nil {
		def = ddl.Def
	} else if t, ok := s.tables[ddl.TableOf()]; ok {
		def = &t.def
	}
	if def != nil && def.IsSharded() {
		return []string{def.Tier}
	}
	return s.tierNames()
}

// tierNames are the names of _pico_tier's rows, in order.
func (s *Store) tierNames() []string {
	var names []string
	for _, tup := range s.tables[TablePicoTier].ordered() { // a system table
		if name, ok := tup.Field(0).(string); ok {
			names = append(names, name)
		}
	}
	return names
}

// ddlPrepare applies OpDdlPrepare.
func (s *Store) ddlPrepare(op Op) Result {
	if v, ok := s.PendingSchemaVersion(); ok {
		return Result{Err: tuple.Errorf(tuple.CodeIllegalParams,
			"another schema change is pending (schema version %d): one at a time, retry once it is committed or aborted", v)}
	}
	ver, e := s.newSchemaVersion(op.SchemaVersion)
	if e != nil {
		return Result{Err: e}
	}
	if nv, ok := s.Property(PropNextSchemaVersion); ok {
		next, _ := tuple.AsUint64(nv)
		switch {
		case op.SchemaVersion == 0 && ver < next:
			ver = next
		case ver < next:
			return Result{Err: tuple.Errorf(tuple.CodeWrongSchemaVersion,
				"Wrong schema version, next: %d, in request: %d", next, ver)}
		}
	}
	ddl := *op.Ddl
	switch ddl.Kind {
	case DdlCreateTable:
		def := ddl.Def.Clone()
		if e := s.checkNewTable(&def); e != nil {
			return Result{Err: e}
		}
		// Only the definition's structure is checked here; whether this
		// kind of table can be created is the masters' answer to
		// .proc_apply_schema_change (ApplicableHere).
		if e := validateDef(&def); e != nil {
			return Result{Err: e}
		}
		def.SchemaVersion = ver
		def.Operable = false
		s.addTable(def)
		s.putDefRows(&def)
		s.setProperty(PropNextTableID, max(s.propUint(PropNextTableID), uint64(def.ID)+1))
		ddl.Def = &def
	case DdlDropTable:
		t, e := s.userTable(ddl.TableID, tuple.CodeDropSpace, "Can't drop space '%s': it is a system space")
		if e != nil {
			return Result{Err: e}
		}
		s.setOperable(t, false)
	case DdlCreateIndex:
		x, e := s.checkNewIndex(*ddl.Index)
		if e != nil {
			return Result{Err: e}
		}
		x.SchemaVersion = ver
		x.Operable = false
		s.putIndex(&x)
		ddl.Index = &x
	case DdlDropIndex:
		if e := s.checkDropIndex(ddl.TableID, ddl.IndexID); e != nil {
			return Result{Err: e}
		}
		x, _ := s.index(ddl.TableID, ddl.IndexID)
		x.Operable = false
		s.putIndex(&x)
	}
	var change any
	if err := msgpack.Unmarshal(tuple.MustMarshal(ddl), &change); err != nil {
		panic("tables: ddl does not round-trip: " + err.Error())
	}
	s.setProperty(PropPendingSchemaChange, change)
	s.setProperty(PropPendingSchemaVersion, ver)
	s.setProperty(PropNextSchemaVersion, ver+1)
	return Result{}
}

// propUint is an unsigned _pico_property value (0 if unset).
func (s *Store) propUint(key string) uint64 {
	v, _ := s.Property(key)
	u, _ := tuple.AsUint64(v)
	return u
}

// userTable returns a user table, or NO_SUCH_SPACE, or (for a system
// table) the error code with the message systemMsg (which takes the name).
func (s *Store) userTable(id uint32, code uint32, systemMsg string) (*table, *tuple.Error) {
	t, ok := s.tables[id]
	if !ok {
		return nil, errNoSuchTable(id)
	}
	if id < FirstUserTableID {
		return nil, tuple.Errorf(code, systemMsg, t.def.Name)
	}
	return t, nil
}

// checkNewTable fills a new table's defaults and id and checks they are
// free. A sharded table's defaults are Picodata's: the sharding key is the
// primary key's fields, the function murmur3, the tier the cluster's only
// one; its tier must exist and have buckets, and it gets its bucket_id
// field (which the definition must not have).
func (s *Store) checkNewTable(def *schema.TableDef) *tuple.Error {
	bad := func(format string, args ...any) *tuple.Error {
		return tuple.Errorf(tuple.CodeCreateSpace, "Failed to create space '%s': %s", def.Name, fmt.Sprintf(format, args...))
	}
	if def.Distribution == "" {
		def.Distribution = schema.DistributionGlobal
	}
	if def.Engine == "" {
		def.Engine = schema.EngineMemtx
	}
	if _, ok := s.byName[def.Name]; ok {
		return tuple.Errorf(tuple.CodeSpaceExists, "Space '%s' already exists", def.Name)
	}
	switch {
	case def.ID == 0:
		def.ID = s.nextTableID()
		if def.ID < FirstUserTableID { // wrapped around
			return bad("no table id left")
		}
	case def.ID < FirstUserTableID:
		return bad("id %d is reserved for system tables", def.ID)
	default:
		if t, ok := s.tables[def.ID]; ok {
			return tuple.Errorf(tuple.CodeSpaceExists, "Space '%s' already exists with id %d", t.def.Name, def.ID)
		}
	}
	if !def.IsSharded() {
		return nil
	}
	if _, ok := def.FieldIndex(schema.BucketIDField); ok {
		return bad("field %q is added to a sharded table by the cluster: leave it out of the format", schema.BucketIDField)
	}
	if len(def.ShardingKey) == 0 {
		for _, pos := range def.PrimaryKey {
			if int(pos) < len(def.Format) {
				def.ShardingKey = append(def.ShardingKey, def.Format[pos].Name)
			}
		}
	}
	if def.ShardingFn == "" {
		def.ShardingFn = schema.ShardingFnMurmur3
	}
	tiers := s.tierNames()
	if def.Tier == "" {
		if len(tiers) != 1 {
			return bad("a sharded table needs a tier: the cluster has %d (%s)", len(tiers), strings.Join(tiers, ", "))
		}
		def.Tier = tiers[0]
	}
	tup, ok := s.tables[TablePicoTier].rows[propKey(def.Tier)] // the key of _pico_tier is its name, as _pico_property's
	if !ok {
		return bad("tier %q does not exist", def.Tier)
	}
	if tier, err := TierFrom(tup.Values()); err != nil || tier.BucketCount == 0 {
		return bad("tier %q has no buckets", def.Tier)
	}
	def.AddBucketID()
	return nil
}

// checkNewIndex completes and checks a create_index: the table is a user
// table, the name is free cluster-wide (as Picodata's index names are)
// and not the reserved bucket_id, the id (0: one more than the table's
// largest) is free in the table, and the definition resolves against the
// table's format (schema.IndexDef.Resolve).
func (s *Store) checkNewIndex(x schema.IndexDef) (schema.IndexDef, *tuple.Error) {
	x = x.Clone()
	t, e := s.userTable(x.TableID, tuple.CodeModifyIndex, "Can't create or modify index in space '%s': it is a system space")
	if e != nil {
		return x, e
	}
	if x.Name == schema.BucketIDIndexName {
		return x, tuple.Errorf(tuple.CodeModifyIndex, "Can't create or modify index '%s' in space '%s': the name is reserved for the index of sharded tables' bucket ids",
			x.Name, t.def.Name)
	}
	for _, tup := range s.tables[TablePicoIndex].ordered() {
		if other, err := IndexDefFrom(tup.Values()); err == nil && other.Name == x.Name {
			return x, tuple.Errorf(tuple.CodeIndexExists, "Index '%s' already exists", x.Name)
		}
	}
	existing := s.Indexes(x.TableID)
	switch {
	case x.ID == 0:
		x.ID = 1
		if n := len(existing); n > 0 { // the primary index always exists
			x.ID = existing[n-1].ID + 1
		}
	case slices.ContainsFunc(existing, func(o schema.IndexDef) bool { return o.ID == x.ID }):
		return x, tuple.Errorf(tuple.CodeIndexExists, "Index id %d already exists in space '%s'", x.ID, t.def.Name)
	}
	if e := x.Resolve(&t.def); e != nil {
		return x, e
	}
	return x, nil
}

// checkDropIndex checks a drop_index: the index exists on a user table and
// is neither the primary index nor a sharded table's bucket_id index.
func (s *Store) checkDropIndex(tableID, indexID uint32) *tuple.Error {
	t, e := s.userTable(tableID, tuple.CodeDropSpace, "Can't drop an index of space '%s': it is a system space")
	if e != nil {
		return e
	}
	x, ok := s.index(tableID, indexID)
	switch {
	case !ok:
		return tuple.Errorf(tuple.CodeNoSuchIndexID, "No index #%d is defined in space '%s'", indexID, t.def.Name)
	case indexID == 0:
		return tuple.Errorf(tuple.CodeDropPrimaryKey, "Can't drop primary key in space '%s': the primary index goes with the table (drop_table)",
			t.def.Name)
	case t.def.IsSharded() && indexID == schema.BucketIDIndexID:
		return tuple.Errorf(tuple.CodeModifyIndex, "Can't drop index '%s' in space '%s': a sharded table's bucket_id index goes with the table (drop_table)",
			x.Name, t.def.Name)
	}
	return nil
}

// ddlFinish applies OpDdlCommit (commit) or OpDdlAbort.
func (s *Store) ddlFinish(op Op, commit bool) Result {
	ddl, ver, ok := s.PendingSchemaChange()
	if !ok {
		return Result{Err: tuple.Errorf(tuple.CodeIllegalParams, "%s: no schema change is pending", op.Kind)}
	}
	if op.SchemaVersion != 0 && op.SchemaVersion != ver {
		return Result{Err: tuple.Errorf(tuple.CodeWrongSchemaVersion,
			"%s: the pending schema change has version %d, not %d", op.Kind, ver, op.SchemaVersion)}
	}
	id := ddl.TableOf()
	t, exists := s.tables[id]
	create := ddl.Kind == DdlCreateTable || ddl.Kind == DdlCreateIndex
	if commit && exists && t.inEngine() {
		// First, as it may fail: a unique index over rows written since
		// the masters' dry run (ApplicableHere) have equal keys. Then the
		// commit is refused and the change stays pending: asked again,
		// the masters answer abort.
		if e := s.commitInEngine(t, ddl); e != nil {
			return Result{Err: e}
		}
	}
	switch {
	case !exists: // cannot happen: the table is not dropped while a change on it is pending
	case ddl.Kind == DdlCreateTable || ddl.Kind == DdlDropTable:
		if create == commit {
			s.setOperable(t, true)
		} else {
			s.removeTable(id)
		}
	default: // an index
		indexID := ddl.IndexID
		if ddl.Kind == DdlCreateIndex && ddl.Index != nil {
			indexID = ddl.Index.ID
		}
		if x, ok := s.index(id, indexID); ok {
			if create == commit {
				x.Operable = true
				s.putIndex(&x)
			} else {
				s.deleteIndex(id, indexID)
			}
		}
	}
	props := s.tables[TablePicoProperty]
	props.set(propKey(PropPendingSchemaChange), nil)
	props.set(propKey(PropPendingSchemaVersion), nil)
	if commit {
		s.setProperty(PropGlobalSchemaVersion, ver)
	}
	return Result{}
}

// commitInEngine applies a committed change to the engine, which holds
// the committed tables and indexes only (an aborted change never reached
// it). It fails, changing nothing, only if an index does not build.
func (s *Store) commitInEngine(t *table, ddl Ddl) *tuple.Error {
	id := t.def.ID
	switch ddl.Kind {
	case DdlCreateTable:
		return s.createInEngine(t, 0)
	case DdlDropTable:
		_ = s.eng.DropTable(id) // it is there: created at its commit
	case DdlCreateIndex:
		if ddl.Index == nil {
			return nil // written by ddlPrepare, which sets it: does not happen
		}
		if x, ok := s.index(id, ddl.Index.ID); ok {
			return s.eng.CreateIndex(x)
		}
	case DdlDropIndex:
		_ = s.eng.DropIndex(id, ddl.IndexID) // it is there: created at its commit
	}
	return nil
}

// createInEngine creates a global table in the engine with its secondary
// indexes (its _pico_index rows), but for index skip (0: none, as the
// primary index comes with the table). Either all is created or nothing.
func (s *Store) createInEngine(t *table, skip uint32) *tuple.Error {
	if e := s.eng.CreateTable(t.def); e != nil {
		return e
	}
	for _, x := range s.Indexes(t.def.ID) {
		if x.ID == 0 || x.ID == skip {
			continue
		}
		if e := s.eng.CreateIndex(x); e != nil {
			_ = s.eng.DropTable(t.def.ID)
			return e
		}
	}
	return nil
}

// tryIndex is a dry run of creating an index in the engine: the error the
// commit would get (TUPLE_FOUND for a unique index over rows with equal
// keys), the engine left as it was. As core/replication's CheckSchema, it
// builds the index and drops it again.
func (s *Store) tryIndex(x schema.IndexDef) *tuple.Error {
	if e := s.eng.CreateIndex(x); e != nil {
		return e
	}
	return s.eng.DropIndex(x.TableID, x.ID)
}

// setOperable sets the operable flag of a table and of its indexes, as
// Picodata's ddl_meta_space_update_operable does.
func (s *Store) setOperable(t *table, operable bool) {
	t.def.Operable = operable
	s.putRow(TablePicoTable, tuple.FromValues(TableRow(&t.def)))
	for _, x := range s.Indexes(t.def.ID) {
		x.Operable = operable
		s.putIndex(&x)
	}
}

// Indexes returns the definitions of a table's indexes (its _pico_index
// rows), in index id order; nil if the table has none.
func (s *Store) Indexes(table uint32) []schema.IndexDef {
	prefix, _ := tuple.EncodeKey([]any{uint64(table)})
	idx := s.tables[TablePicoIndex]
	var out []schema.IndexDef
	for _, k := range idx.keys() {
		if !strings.HasPrefix(k, string(prefix)) {
			continue
		}
		if x, err := IndexDefFrom(idx.rows[k].Values()); err == nil && x.TableID == table {
			out = append(out, x)
		}
	}
	return out
}

// index returns one _pico_index row of a table.
func (s *Store) index(table, id uint32) (schema.IndexDef, bool) {
	k, _ := tuple.EncodeKey([]any{uint64(table), uint64(id)})
	tup, ok := s.tables[TablePicoIndex].rows[string(k)]
	if !ok {
		return schema.IndexDef{}, false
	}
	x, err := IndexDefFrom(tup.Values())
	return x, err == nil
}

func (s *Store) putIndex(x *schema.IndexDef) {
	s.putRow(TablePicoIndex, tuple.FromValues(IndexRow(x)))
}

func (s *Store) deleteIndex(table, id uint32) {
	k, _ := tuple.EncodeKey([]any{uint64(table), uint64(id)})
	s.tables[TablePicoIndex].set(string(k), nil)
}

// removeTable deletes a table, its rows and its _pico_table and _pico_index
// rows.
func (s *Store) removeTable(id uint32) {
	tableKey, _ := tuple.EncodeKey([]any{uint64(id)})
	s.tables[TablePicoTable].set(string(tableKey), nil)
	for _, x := range s.Indexes(id) {
		s.deleteIndex(id, x.ID)
	}
	s.remove(id)
}

// ApplicableHere says whether this instance can apply the change: nil, or
// the reason it cannot, which is deterministic (the same on every instance
// at the same applied index). A created global table must be one the
// Raft-replicated store keeps (memtx); a sharded table's definition must
// be valid — what its rows allow (a unique index over duplicates) is
// checked by the node against its engine. A created index on a global
// table must build over the table's rows (tryIndex: a unique one over
// rows with equal keys answers TUPLE_FOUND). Dropping is always
// applicable.
func (s *Store) ApplicableHere(ddl Ddl) *tuple.Error {
	switch {
	case ddl.Kind == DdlCreateTable && ddl.Def != nil && ddl.Def.IsSharded():
		// Its rows live in the tier's engines: the node's data module
		// checks the change against them.
		return validateDef(ddl.Def)
	case ddl.Kind == DdlCreateTable && ddl.Def != nil:
		return validateGlobal(ddl.Def)
	case ddl.Kind == DdlCreateIndex && ddl.Index != nil:
		if t, ok := s.tables[ddl.Index.TableID]; ok && t.inEngine() {
			return s.tryIndex(*ddl.Index)
		}
	}
	return nil
}

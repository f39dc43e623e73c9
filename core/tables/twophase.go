package tables

import (
	"bytes"
	"slices"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tuple"
)

// Two-phase DDL, as Picodata: ddl_prepare records a pending schema change
// in _pico_property (pending_schema_change, pending_schema_version; and
// next_schema_version = that version + 1) and writes the table's rows with
// operable = false; the governor asks every replicaset master to apply it
// (`.proc_apply_schema_change`), then proposes ddl_commit (the table becomes
// operable, or is dropped; global_schema_version = the pending version) or
// ddl_abort (the prepare is undone; global_schema_version is unchanged, and
// next_schema_version stays ahead so the aborted version is never reused).
// One change is pending at a time. DML into a table that is not operable is
// refused with TableNotOperable (10023, retryable).
//
// Encoding: an op is {"kind": "ddl_prepare", "schema_version": v, "ddl":
// {"kind": "create_table", "def": {...}} | {"kind": "drop_table",
// "table_id": id}}, {"kind": "ddl_commit"} and {"kind": "ddl_abort"}, each
// with an optional "schema_version" that must be the pending one. Picodata's
// Op is tagged the same way (kind ddl_prepare, ddl_commit, ddl_abort);
// its Ddl's fields are its own (picogo keeps the table as a schema.TableDef).
// The pending_schema_change value is the Ddl's encoding as a msgpack map,
// with the table's id and defaults filled in.

// DdlKind discriminates Ddls.
type DdlKind string

const (
	// DdlCreateTable creates Ddl.Def (id 0: the next free user table id).
	DdlCreateTable DdlKind = "create_table"
	// DdlDropTable drops table Ddl.TableID with its rows.
	DdlDropTable DdlKind = "drop_table"
)

// CodeTableNotOperable is Picodata's TableNotOperable (10023): DML into a
// table whose schema change is pending.
const CodeTableNotOperable uint32 = 10023

// Ddl is one schema change.
type Ddl struct {
	Kind    DdlKind          `msgpack:"kind"`
	Def     *schema.TableDef `msgpack:"def,omitempty"`
	TableID uint32           `msgpack:"table_id,omitempty"`
}

func (d *Ddl) checkShape() *tuple.Error {
	switch d.Kind {
	case DdlCreateTable:
		if d.Def == nil {
			return tuple.Errorf(tuple.CodeIllegalParams, "ddl %q without def", d.Kind)
		}
	case DdlDropTable:
		if d.TableID == 0 {
			return tuple.Errorf(tuple.CodeIllegalParams, "ddl %q without table_id", d.Kind)
		}
	default:
		return tuple.Errorf(tuple.CodeIllegalParams, "unknown ddl kind %q", d.Kind)
	}
	return nil
}

// TableOf is the id of the table the change concerns.
func (d *Ddl) TableOf() uint32 {
	if d.Kind == DdlCreateTable && d.Def != nil {
		return d.Def.ID
	}
	return d.TableID
}

func errNotOperable(name string) *tuple.Error {
	return tuple.Errorf(CodeTableNotOperable, "TableNotOperable: table %s is not operable: a schema change on it is pending", name)
}

// PendingSchemaChange returns the pending change and its schema version;
// ok is false if none is pending.
func (s *Store) PendingSchemaChange() (ddl Ddl, version uint64, ok bool) {
	v, ok := s.Property(PropPendingSchemaChange)
	if !ok {
		return Ddl{}, 0, false
	}
	raw, err := msgpack.Marshal(v)
	if err != nil || msgpack.Unmarshal(raw, &ddl) != nil {
		return Ddl{}, 0, false // written by ddlPrepare only: does not happen
	}
	pv, _ := s.Property(PropPendingSchemaVersion)
	version, _ = tuple.AsUint64(pv)
	return ddl, version, true
}

// ddlPrepare applies OpDdlPrepare.
func (s *Store) ddlPrepare(op Op) Result {
	if _, v, ok := s.PendingSchemaChange(); ok {
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
		if e := def.Validate(); e != nil {
			return Result{Err: e}
		}
		def.SchemaVersion = ver
		def.Operable = false
		s.addTable(def)
		s.putDefRows(&def)
		ddl.Def = &def
	case DdlDropTable:
		t, ok := s.tables[ddl.TableID]
		if !ok {
			return Result{Err: errNoSuchTable(ddl.TableID)}
		}
		if ddl.TableID < FirstUserTableID {
			return Result{Err: tuple.Errorf(tuple.CodeDropSpace, "Can't drop space '%s': it is a system space", t.def.Name)}
		}
		t.def.Operable = false
		s.putDefRows(&t.def)
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

// checkNewTable fills a new table's defaults and id and checks they are
// free.
func (s *Store) checkNewTable(def *schema.TableDef) *tuple.Error {
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
			return tuple.Errorf(tuple.CodeCreateSpace, "Failed to create space '%s': no table id left", def.Name)
		}
	case def.ID < FirstUserTableID:
		return tuple.Errorf(tuple.CodeCreateSpace, "Failed to create space '%s': id %d is reserved for system tables",
			def.Name, def.ID)
	default:
		if t, ok := s.tables[def.ID]; ok {
			return tuple.Errorf(tuple.CodeSpaceExists, "Space '%s' already exists with id %d", t.def.Name, def.ID)
		}
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
	switch {
	case !exists: // cannot happen: the table is not operable while pending
	case ddl.Kind == DdlCreateTable && commit, ddl.Kind == DdlDropTable && !commit:
		t.def.Operable = true
		s.putDefRows(&t.def)
	default: // a commit of a drop, an abort of a create
		s.removeTable(id)
	}
	props := s.tables[TablePicoProperty]
	props.set(propKey(PropPendingSchemaChange), nil)
	props.set(propKey(PropPendingSchemaVersion), nil)
	if commit {
		s.setProperty(PropGlobalSchemaVersion, ver)
	}
	return Result{}
}

// removeTable deletes a table, its rows and its _pico_table and _pico_index
// rows.
func (s *Store) removeTable(id uint32) {
	t := s.tables[id]
	tableKey, _ := tuple.EncodeKey([]any{uint64(id)})
	s.tables[TablePicoTable].set(string(tableKey), nil)
	// Every _pico_index row of the table: keys (table_id, index_id) start
	// with the encoding of table_id.
	idx := s.tables[TablePicoIndex]
	for _, k := range slices.Clone(idx.keys()) {
		if bytes.HasPrefix([]byte(k), tableKey) {
			idx.set(k, nil)
		}
	}
	delete(s.tables, id)
	delete(s.byName, t.def.Name)
}

// ApplicableHere says whether this instance can apply the change: nil, or
// the reason it cannot, which is deterministic (the same on every instance
// at the same applied index). For a global table, the table must be one
// this instance can keep in the Raft-replicated store: distribution global,
// engine memtx. (Sharded tables and other engines come with the local
// storage.)
func (s *Store) ApplicableHere(ddl Ddl) *tuple.Error {
	if ddl.Kind == DdlCreateTable && ddl.Def != nil {
		return validateGlobal(ddl.Def)
	}
	return nil
}

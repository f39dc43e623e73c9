package storage

import (
	"maps"
	"slices"

	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tuple"
)

// Engine holds tables in memory. It is not safe for concurrent use: its
// owner (a Raft state machine, a replicaset's applier) serializes every
// call, which is what makes it deterministic.
type Engine struct {
	spaces map[uint32]*space
	byName map[string]uint32
	// ids is Tables' answer while idsKnown, which a table coming or going
	// clears: the simulator asks after every event. Never written in place
	// once made, so a list handed out stays whole. (Not nil for unknown:
	// an engine without tables would sort its empty map at every ask.)
	ids      []uint32
	idsKnown bool
	// OnUpsertError, if set, hears of every upsert operation that failed
	// and was skipped (Tarantool logs them): the upsert itself succeeds.
	OnUpsertError func(table uint32, e *tuple.Error)
}

// space is a table: its definition and its indexes, the primary first.
type space struct {
	def     schema.TableDef
	names   []string
	minimum int // the fewest fields a tuple may have
	indexes []*index
	bytes   int64 // raw tuple bytes
}

// New returns an empty engine.
func New() *Engine {
	return &Engine{spaces: map[uint32]*space{}, byName: map[string]uint32{}}
}

func (s *space) pk() *index { return s.indexes[0] }

// index finds an index by id.
func (s *space) index(id uint32) (*index, *tuple.Error) {
	for _, x := range s.indexes {
		if x.def.ID == id {
			return x, nil
		}
	}
	return nil, tuple.Errorf(tuple.CodeNoSuchIndexID, "No index #%d is defined in space '%s'", id, s.def.Name)
}

func (e *Engine) space(id uint32) (*space, *tuple.Error) {
	s, ok := e.spaces[id]
	if !ok {
		return nil, tuple.Errorf(tuple.CodeNoSuchSpace, "Space '%d' does not exist", id)
	}
	return s, nil
}

// CreateTable creates an empty table with its primary index (named
// def.PkName()). Errors: CREATE_SPACE for an invalid definition,
// SPACE_EXISTS for a taken id or name.
func (e *Engine) CreateTable(def schema.TableDef) *tuple.Error {
	if err := def.Validate(); err != nil {
		return err
	}
	if _, ok := e.spaces[def.ID]; ok {
		return tuple.Errorf(tuple.CodeSpaceExists, "Space '%d' already exists", def.ID)
	}
	if _, ok := e.byName[def.Name]; ok {
		return tuple.Errorf(tuple.CodeSpaceExists, "Space '%s' already exists", def.Name)
	}
	def = def.Clone()
	s := &space{def: def, names: def.FieldNames()}
	for i, f := range def.Format {
		if !f.Nullable {
			s.minimum = i + 1
		}
	}
	pkDef := def.PkIndex()
	parts := make([]part, len(def.PrimaryKey))
	for i, pos := range def.PrimaryKey {
		f := def.Format[pos]
		parts[i] = part{field: int(pos), typ: f.Type}
	}
	s.indexes = []*index{newIndex(pkDef, parts)}
	e.spaces[def.ID] = s
	e.byName[def.Name] = def.ID
	e.idsKnown = false
	return nil
}

// DropTable drops a table with its rows and indexes.
func (e *Engine) DropTable(id uint32) *tuple.Error {
	s, err := e.space(id)
	if err != nil {
		return err
	}
	delete(e.spaces, id)
	delete(e.byName, s.def.Name)
	e.idsKnown = false
	return nil
}

// TableID finds a table by name.
func (e *Engine) TableID(name string) (uint32, bool) {
	id, ok := e.byName[name]
	return id, ok
}

// Table returns a table's definition.
func (e *Engine) Table(id uint32) (schema.TableDef, bool) {
	s, ok := e.spaces[id]
	if !ok {
		return schema.TableDef{}, false
	}
	return s.def.Clone(), true
}

// Tables lists the table ids in ascending order. The list is shared: read
// it, do not write into it.
func (e *Engine) Tables() []uint32 {
	if !e.idsKnown {
		e.ids, e.idsKnown = slices.Sorted(maps.Keys(e.spaces)), true
	}
	return e.ids[:len(e.ids):len(e.ids)]
}

// Indexes lists a table's index definitions in id order.
func (e *Engine) Indexes(table uint32) ([]schema.IndexDef, *tuple.Error) {
	s, err := e.space(table)
	if err != nil {
		return nil, err
	}
	out := make([]schema.IndexDef, len(s.indexes))
	for i, x := range s.indexes {
		out[i] = x.def
	}
	return out, nil
}

// IndexID finds an index of a table by name.
func (e *Engine) IndexID(table uint32, name string) (uint32, *tuple.Error) {
	s, err := e.space(table)
	if err != nil {
		return 0, err
	}
	for _, x := range s.indexes {
		if x.def.Name == name {
			return x.def.ID, nil
		}
	}
	return 0, tuple.Errorf(tuple.CodeNoSuchIndexName, "No index '%s' is defined in space '%s'", name, s.def.Name)
}

// CreateIndex adds a secondary index (def.ID > 0, type "tree" or empty)
// and builds it over the table's rows. Each part names a field of the
// format; an empty part type is the field's; a part is nullable exactly
// when its field is. It fails, leaving the table as it was, with
// INDEX_EXISTS (the id or name is taken), MODIFY_INDEX (a bad definition),
// FIELD_TYPE (a row does not fit a part's type) or TUPLE_FOUND (a unique
// index over rows with equal keys: what aborts a CREATE INDEX in DDL).
func (e *Engine) CreateIndex(def schema.IndexDef) *tuple.Error {
	s, err := e.space(def.TableID)
	if err != nil {
		return err
	}
	bad := func(format string, args ...any) *tuple.Error {
		return tuple.Errorf(tuple.CodeModifyIndex, "Can't create or modify index '%s' in space '%s': "+format,
			append([]any{def.Name, s.def.Name}, args...)...)
	}
	for _, x := range s.indexes {
		if x.def.ID == def.ID || x.def.Name == def.Name {
			return tuple.Errorf(tuple.CodeIndexExists, "Index '%s' already exists", x.def.Name)
		}
	}
	switch {
	case def.Name == "":
		return bad("the name is empty")
	case def.Type != "" && def.Type != "tree" && def.Type != "TREE":
		return tuple.Errorf(tuple.CodeUnsupported, "memtx does not support index type '%s' (only TREE)", def.Type)
	case len(def.Parts) == 0:
		return bad("part count must be positive")
	}
	parts := make([]part, len(def.Parts))
	for i, p := range def.Parts {
		pos, ok := s.def.FieldIndex(p.Field)
		if !ok {
			return bad("field '%s' is not in the format", p.Field)
		}
		f := s.def.Format[pos]
		typ := p.Type
		if typ == "" {
			typ = f.Type
		}
		if !typ.Indexable() {
			return bad("field '%s' of type '%s' cannot be indexed", p.Field, typ)
		}
		if p.Nullable != f.Nullable {
			return bad("field '%s' is nullable in the format but not in the index, or the other way round", p.Field)
		}
		for _, q := range parts[:i] {
			if q.field == pos {
				return bad("field '%s' is indexed twice", p.Field)
			}
		}
		parts[i] = part{field: pos, typ: typ, nullable: f.Nullable}
	}
	def.Opts = cloneOpts(def.Opts)
	def.Parts = slices.Clone(def.Parts)
	x := newIndex(def, parts)
	var failed *tuple.Error
	s.pk().tree.Scan(func(pe entry) bool {
		if failed = checkParts(s, x, pe.tup.Values()); failed != nil {
			return false
		}
		en := x.entryOf(pe.tup, s.pk())
		if x.unique && !hasNull(en.key[:len(x.parts)]) {
			if dup, ok := x.first(en.key[:len(x.parts)]); ok {
				failed = duplicate(s, x, dup.tup, pe.tup)
				return false
			}
		}
		x.tree.Set(en)
		return true
	})
	if failed != nil {
		return failed
	}
	s.indexes = append(s.indexes, x)
	slices.SortFunc(s.indexes, func(a, b *index) int { return int(a.def.ID) - int(b.def.ID) })
	return nil
}

func cloneOpts(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// DropIndex drops a secondary index. The primary index goes only with its
// table (DROP_PRIMARY_KEY).
func (e *Engine) DropIndex(table, id uint32) *tuple.Error {
	s, err := e.space(table)
	if err != nil {
		return err
	}
	if _, err := s.index(id); err != nil {
		return err
	}
	if id == 0 {
		return tuple.Errorf(tuple.CodeDropPrimaryKey, "Can't drop primary key in space '%s': drop the table instead", s.def.Name)
	}
	s.indexes = slices.DeleteFunc(s.indexes, func(x *index) bool { return x.def.ID == id })
	return nil
}

// duplicate is the TUPLE_FOUND error of a unique index.
func duplicate(s *space, x *index, old, new tuple.Tuple) *tuple.Error {
	return tuple.Errorf(tuple.CodeTupleFound,
		"Duplicate key exists in unique index \"%s\" in space \"%s\" with old tuple - %s and new tuple - %s",
		x.def.Name, s.def.Name, old, new)
}

// validate checks tuple values against the space's format and the parts
// of its indexes, as Tarantool does: fields beyond the format are allowed
// (and unchecked unless indexed), trailing nullable fields may be absent.
// The fields present are type-checked before absent ones are missed (a
// tuple that lost its first field to "#" fails on the type of the field
// that moved there), as in Tarantool.
func (s *space) validate(vals []any) *tuple.Error {
	for i, f := range s.def.Format {
		if i >= len(vals) {
			break
		}
		if err := checkField(s, i, f.Type, f.Nullable, vals[i]); err != nil {
			return err
		}
	}
	for _, x := range s.indexes {
		if err := checkParts(s, x, vals); err != nil {
			return err
		}
	}
	if len(vals) < s.minimum {
		missing := len(vals)
		for s.def.Format[missing].Nullable {
			missing++
		}
		return tuple.Errorf(tuple.CodeFieldMissing, "Tuple field %s required by space format is missing",
			tuple.FieldLabel(s.names, missing))
	}
	return nil
}

// checkParts checks the fields an index covers against its parts' types;
// an absent field is NULL (validate reports a missing required one).
func checkParts(s *space, x *index, vals []any) *tuple.Error {
	for _, p := range x.parts {
		if p.field >= len(vals) {
			if p.nullable {
				continue
			}
			return tuple.Errorf(tuple.CodeFieldMissing, "Tuple field %s required by space format is missing",
				tuple.FieldLabel(s.names, p.field))
		}
		if err := checkField(s, p.field, p.typ, p.nullable, vals[p.field]); err != nil {
			return err
		}
	}
	return nil
}

func checkField(s *space, i int, typ tuple.FieldType, nullable bool, v any) *tuple.Error {
	if v == nil && nullable || v != nil && typ.Matches(v) {
		return nil
	}
	return tuple.Errorf(tuple.CodeFieldType, "Tuple field %s type does not match one required by operation: expected %s, got %s",
		tuple.FieldLabel(s.names, i), typ, tuple.TypeName(v))
}

// checkKey validates a search key against an index's parts: at most as
// many parts (KEY_PART_COUNT), exactly as many if exact (EXACT_MATCH), each
// of its part's type (KEY_PART_TYPE). NULL is allowed in a nullable part of
// a select's key, never in an exact key (get, delete, update), as in
// Tarantool's exact_key_validate.
func checkKey(x *index, key []any, exact bool) *tuple.Error {
	if exact && len(key) != len(x.parts) {
		return tuple.Errorf(tuple.CodeExactMatch, "Invalid key part count in an exact match (expected %d, got %d)",
			len(x.parts), len(key))
	}
	if len(key) > len(x.parts) {
		return tuple.Errorf(tuple.CodeKeyPartCount, "Invalid key part count (expected [0..%d], got %d)",
			len(x.parts), len(key))
	}
	for i, v := range key {
		p := x.parts[i]
		if v == nil && p.nullable && !exact || v != nil && p.typ.Matches(v) {
			continue
		}
		return tuple.Errorf(tuple.CodeKeyPartType, "Supplied key type of part %d does not match index part type: expected %s, got %s",
			i, p.typ, tuple.TypeName(v))
	}
	return nil
}

package tables

import (
	"fmt"
	"slices"
)

// FieldType is the type of a table field, as in Tarantool's space format.
type FieldType string

const (
	TypeUnsigned FieldType = "unsigned"
	TypeInteger  FieldType = "integer"
	TypeDouble   FieldType = "double"
	TypeNumber   FieldType = "number"
	TypeString   FieldType = "string"
	TypeBoolean  FieldType = "boolean"
	TypeMap      FieldType = "map"
	TypeArray    FieldType = "array"
	TypeAny      FieldType = "any"
	TypeUUID     FieldType = "uuid"
)

// Valid reports whether t is a known field type.
func (t FieldType) Valid() bool {
	switch t {
	case TypeUnsigned, TypeInteger, TypeDouble, TypeNumber, TypeString,
		TypeBoolean, TypeMap, TypeArray, TypeAny, TypeUUID:
		return true
	}
	return false
}

// Indexable reports whether a primary key part may have type t.
func (t FieldType) Indexable() bool {
	switch t {
	case TypeUnsigned, TypeInteger, TypeDouble, TypeNumber, TypeString, TypeBoolean, TypeUUID:
		return true
	}
	return false
}

// Field is one column of a table format.
type Field struct {
	Name     string    `msgpack:"name"`
	Type     FieldType `msgpack:"type"`
	Nullable bool      `msgpack:"is_nullable"`
}

// Distributions.
const (
	DistributionGlobal  = "global"
	DistributionSharded = "sharded"
)

// EngineMemtx is the only engine of global tables.
const EngineMemtx = "memtx"

// TableDef defines a table. It is stored as a row of _pico_table (see
// ToTuple; the primary key lives in the table's _pico_index row, see
// PkIndex).
type TableDef struct {
	ID            uint32   `msgpack:"id"`
	Name          string   `msgpack:"name"`
	Distribution  string   `msgpack:"distribution"`
	Format        []Field  `msgpack:"format"`
	PrimaryKey    []uint32 `msgpack:"primary_key"` // field positions, 0-based
	SchemaVersion uint64   `msgpack:"schema_version"`
	Operable      bool     `msgpack:"operable"`
	Engine        string   `msgpack:"engine"`
	Owner         uint32   `msgpack:"owner"`
	Description   string   `msgpack:"description"`
}

// Clone returns a deep copy.
func (d TableDef) Clone() TableDef {
	d.Format = slices.Clone(d.Format)
	d.PrimaryKey = slices.Clone(d.PrimaryKey)
	return d
}

// FieldIndex returns the position of the field called name.
func (d *TableDef) FieldIndex(name string) (int, bool) {
	for i, f := range d.Format {
		if f.Name == name {
			return i, true
		}
	}
	return -1, false
}

// PkName is the name of the table's primary index.
func (d *TableDef) PkName() string { return d.Name + "_pkey" }

// fieldLabel names field i the way Tarantool's messages do: 1-based
// position and name.
func (d *TableDef) fieldLabel(i int) string {
	if i >= 0 && i < len(d.Format) {
		return fmt.Sprintf("%d (%s)", i+1, d.Format[i].Name)
	}
	return fmt.Sprint(i + 1)
}

// ToTuple is the table's _pico_table row: id, name, distribution, format,
// schema_version, operable, engine, owner, description. The format is an
// array of maps {name, type, is_nullable}.
func (d *TableDef) ToTuple() []any {
	format := make([]any, len(d.Format))
	for i, f := range d.Format {
		format[i] = map[string]any{"name": f.Name, "type": string(f.Type), "is_nullable": f.Nullable}
	}
	return []any{uint64(d.ID), d.Name, d.Distribution, format, d.SchemaVersion,
		d.Operable, d.Engine, uint64(d.Owner), d.Description}
}

// TableDefFromTuple parses a _pico_table row. PrimaryKey is left empty: it
// comes from the table's _pico_index row (see IndexDef.PrimaryKeyOf).
func TableDefFromTuple(v []any) (TableDef, error) {
	var d TableDef
	if len(v) != 9 {
		return d, fmt.Errorf("_pico_table row has %d fields, want 9", len(v))
	}
	p := fieldParser{row: v, table: TablePicoTableName}
	d.ID = p.uint32(0)
	d.Name = p.string(1)
	d.Distribution = p.string(2)
	d.Format = p.format(3)
	d.SchemaVersion = p.uint64(4)
	d.Operable = p.bool(5)
	d.Engine = p.string(6)
	d.Owner = p.uint32(7)
	d.Description = p.string(8)
	return d, p.err
}

// IndexPart is one part of an index: a field name, its type and
// nullability.
type IndexPart struct {
	Field    string
	Type     FieldType
	Nullable bool
}

// IndexDef is a row of _pico_index. Only primary indexes (ID 0, type
// "tree") exist so far.
type IndexDef struct {
	TableID       uint32
	ID            uint32
	Name          string
	Type          string
	Opts          map[string]any
	Parts         []IndexPart
	Operable      bool
	SchemaVersion uint64
}

// PkIndex is the _pico_index row of the table's primary key.
func (d *TableDef) PkIndex() IndexDef {
	parts := make([]IndexPart, len(d.PrimaryKey))
	for i, pos := range d.PrimaryKey {
		f := d.Format[pos]
		parts[i] = IndexPart{Field: f.Name, Type: f.Type, Nullable: f.Nullable}
	}
	return IndexDef{TableID: d.ID, ID: 0, Name: d.PkName(), Type: "tree", Opts: map[string]any{},
		Parts: parts, Operable: d.Operable, SchemaVersion: d.SchemaVersion}
}

// ToTuple is the _pico_index row: table_id, id, name, type, opts, parts,
// operable, schema_version; parts are [[field_name, type, is_nullable], ...].
func (x *IndexDef) ToTuple() []any {
	parts := make([]any, len(x.Parts))
	for i, p := range x.Parts {
		parts[i] = []any{p.Field, string(p.Type), p.Nullable}
	}
	opts := x.Opts
	if opts == nil {
		opts = map[string]any{}
	}
	return []any{uint64(x.TableID), uint64(x.ID), x.Name, x.Type, opts, parts, x.Operable, x.SchemaVersion}
}

// IndexDefFromTuple parses a _pico_index row.
func IndexDefFromTuple(v []any) (IndexDef, error) {
	var x IndexDef
	if len(v) != 8 {
		return x, fmt.Errorf("_pico_index row has %d fields, want 8", len(v))
	}
	p := fieldParser{row: v, table: TablePicoIndexName}
	x.TableID = p.uint32(0)
	x.ID = p.uint32(1)
	x.Name = p.string(2)
	x.Type = p.string(3)
	if m, ok := v[4].(map[string]any); ok {
		x.Opts = m
	} else {
		p.fail(4, "a map")
	}
	x.Parts = p.parts(5)
	x.Operable = p.bool(6)
	x.SchemaVersion = p.uint64(7)
	return x, p.err
}

// PrimaryKeyOf resolves the index parts to field positions of d.
func (x *IndexDef) PrimaryKeyOf(d *TableDef) ([]uint32, error) {
	pk := make([]uint32, len(x.Parts))
	for i, p := range x.Parts {
		pos, ok := d.FieldIndex(p.Field)
		if !ok {
			return nil, fmt.Errorf("index %q: field %q is not in the format of table %q", x.Name, p.Field, d.Name)
		}
		pk[i] = uint32(pos)
	}
	return pk, nil
}

// validate checks a definition for ddl_create_table; the result is a
// CREATE_SPACE error.
func (d *TableDef) validate() *Error {
	bad := func(format string, args ...any) *Error {
		return errorf(CodeCreateSpace, "Failed to create space '%s': %s", d.Name, fmt.Sprintf(format, args...))
	}
	switch {
	case d.Name == "":
		return bad("the name is empty")
	case d.Distribution != DistributionGlobal:
		return bad("distribution %q: only global tables are replicated by Raft", d.Distribution)
	case d.Engine != EngineMemtx:
		return bad("engine %q: global tables use %q", d.Engine, EngineMemtx)
	case len(d.Format) == 0:
		return bad("the format has no fields")
	case len(d.PrimaryKey) == 0:
		return bad("the primary key has no parts")
	}
	for i, f := range d.Format {
		if f.Name == "" {
			return bad("field %d has no name", i+1)
		}
		if !f.Type.Valid() {
			return bad("field %q has unknown type %q", f.Name, f.Type)
		}
		if j, _ := d.FieldIndex(f.Name); j != i {
			return bad("field %q is duplicate", f.Name)
		}
	}
	for i, pos := range d.PrimaryKey {
		if int(pos) >= len(d.Format) {
			return bad("primary key part %d refers to field %d, the format has %d", i, pos, len(d.Format))
		}
		if slices.Index(d.PrimaryKey, pos) != i {
			return bad("primary key uses field %q twice", d.Format[pos].Name)
		}
		f := d.Format[pos]
		if f.Nullable {
			return bad("primary key field %q is nullable", f.Name)
		}
		if !f.Type.Indexable() {
			return bad("primary key field %q has type %q, which cannot be indexed", f.Name, f.Type)
		}
	}
	return nil
}

// fieldParser reads typed fields of a system row, keeping the first error.
type fieldParser struct {
	row   []any
	table string
	err   error
}

func (p *fieldParser) fail(i int, want string) {
	if p.err == nil {
		p.err = fmt.Errorf("%s row: field %d is %s, want %s", p.table, i+1, valueTypeName(p.row[i]), want)
	}
}

func (p *fieldParser) uint64(i int) uint64 {
	u, ok := AsUint64(p.row[i])
	if !ok {
		p.fail(i, "unsigned")
	}
	return u
}

func (p *fieldParser) uint32(i int) uint32 {
	u := p.uint64(i)
	if u > 1<<32-1 {
		p.fail(i, "a 32-bit unsigned")
	}
	return uint32(u)
}

func (p *fieldParser) string(i int) string {
	s, ok := p.row[i].(string)
	if !ok {
		p.fail(i, "string")
	}
	return s
}

func (p *fieldParser) bool(i int) bool {
	b, ok := p.row[i].(bool)
	if !ok {
		p.fail(i, "boolean")
	}
	return b
}

func (p *fieldParser) format(i int) []Field {
	arr, ok := p.row[i].([]any)
	if !ok {
		p.fail(i, "array")
		return nil
	}
	out := make([]Field, len(arr))
	for j, e := range arr {
		m, ok := e.(map[string]any)
		name, ok1 := m["name"].(string)
		typ, ok2 := m["type"].(string)
		nullable, ok3 := m["is_nullable"].(bool)
		if !ok || !ok1 || !ok2 || !ok3 {
			p.fail(i, "an array of {name, type, is_nullable}")
			return nil
		}
		out[j] = Field{Name: name, Type: FieldType(typ), Nullable: nullable}
	}
	return out
}

func (p *fieldParser) parts(i int) []IndexPart {
	arr, ok := p.row[i].([]any)
	if !ok {
		p.fail(i, "array")
		return nil
	}
	out := make([]IndexPart, len(arr))
	for j, e := range arr {
		part, ok := e.([]any)
		if !ok || len(part) != 3 {
			p.fail(i, "an array of [field, type, is_nullable]")
			return nil
		}
		name, ok1 := part[0].(string)
		typ, ok2 := part[1].(string)
		nullable, ok3 := part[2].(bool)
		if !ok1 || !ok2 || !ok3 {
			p.fail(i, "an array of [field, type, is_nullable]")
			return nil
		}
		out[j] = IndexPart{Field: name, Type: FieldType(typ), Nullable: nullable}
	}
	return out
}

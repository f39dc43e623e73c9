package schema

import (
	"fmt"
	"slices"

	"github.com/picogo/picogo/core/tuple"
)

// Field is one column of a table format.
type Field struct {
	Name     string          `msgpack:"name"`
	Type     tuple.FieldType `msgpack:"type"`
	Nullable bool            `msgpack:"is_nullable"`
}

// Distributions.
const (
	DistributionGlobal  = "global"
	DistributionSharded = "sharded"
)

// EngineMemtx is the in-memory engine (Tarantool's memtx), the only one so
// far.
const EngineMemtx = "memtx"

// TableDef defines a table. The global tables keep it as a row of
// _pico_table, and its primary key as the table's _pico_index row (see
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

// FieldNames are the names of the format's fields, in order: what
// tuple.ParseUpdate resolves field names with.
func (d *TableDef) FieldNames() []string {
	names := make([]string, len(d.Format))
	for i, f := range d.Format {
		names[i] = f.Name
	}
	return names
}

// CheckTuple validates decoded values against the format: exact field
// count, types, nullability.
func (d *TableDef) CheckTuple(vals []any) *tuple.Error {
	if len(vals) != len(d.Format) {
		return tuple.Errorf(tuple.CodeExactFieldCount, "Tuple field count %d does not match space field count %d",
			len(vals), len(d.Format))
	}
	for i, f := range d.Format {
		v := vals[i]
		if v == nil {
			if f.Nullable {
				continue
			}
		} else if f.Type.Matches(v) {
			continue
		}
		return tuple.Errorf(tuple.CodeFieldType, "Tuple field %s type does not match one required by operation: expected %s, got %s",
			tuple.FieldLabel(d.FieldNames(), i), f.Type, tuple.TypeName(v))
	}
	return nil
}

// RowKey encodes the primary key of a tuple's values (which fit the
// format: see CheckTuple).
func (d *TableDef) RowKey(vals []any) ([]byte, error) {
	parts := make([]any, len(d.PrimaryKey))
	for i, pos := range d.PrimaryKey {
		if int(pos) < len(vals) {
			parts[i] = vals[pos]
		}
	}
	return tuple.EncodeKey(parts)
}

// EncodeKey validates key values against the primary key (part count and
// types) and encodes them.
func (d *TableDef) EncodeKey(key []any) ([]byte, *tuple.Error) {
	if len(key) != len(d.PrimaryKey) {
		return nil, tuple.Errorf(tuple.CodeExactMatch, "Invalid key part count in an exact match (expected %d, got %d)",
			len(d.PrimaryKey), len(key))
	}
	return d.EncodeKeyPrefix(key)
}

// EncodeKeyPrefix validates and encodes the first len(key) primary key
// parts.
func (d *TableDef) EncodeKeyPrefix(key []any) ([]byte, *tuple.Error) {
	if len(key) > len(d.PrimaryKey) {
		return nil, tuple.Errorf(tuple.CodeKeyPartCount, "Invalid key part count (expected [0..%d], got %d)",
			len(d.PrimaryKey), len(key))
	}
	for i, v := range key {
		f := d.Format[d.PrimaryKey[i]]
		if v == nil || !f.Type.Matches(v) {
			return nil, tuple.Errorf(tuple.CodeKeyPartType, "Supplied key type of part %d does not match index part type: expected %s, got %s",
				i, f.Type, tuple.TypeName(v))
		}
	}
	k, err := tuple.EncodeKey(key)
	if err != nil {
		return nil, tuple.Errorf(tuple.CodeKeyPartType, "%v", err)
	}
	return k, nil
}

// IndexPart is one part of an index: a field name, its type and
// nullability.
type IndexPart struct {
	Field    string
	Type     tuple.FieldType
	Nullable bool
}

// IndexDef defines an index; the global tables keep it as a row of
// _pico_index. The global tables have primary indexes only (ID 0, type
// "tree"); core/storage's tables also have secondary ones, unique or not
// (IsUnique).
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

// IsUnique reports whether the index is unique: a primary index always is;
// a secondary one unless its options say {"unique": false}, Tarantool's
// default.
func (x *IndexDef) IsUnique() bool {
	if x.ID == 0 {
		return true
	}
	u, ok := x.Opts["unique"].(bool)
	return !ok || u
}

// PkIndex is the definition of the table's primary index.
func (d *TableDef) PkIndex() IndexDef {
	parts := make([]IndexPart, len(d.PrimaryKey))
	for i, pos := range d.PrimaryKey {
		f := d.Format[pos]
		parts[i] = IndexPart{Field: f.Name, Type: f.Type, Nullable: f.Nullable}
	}
	return IndexDef{TableID: d.ID, ID: 0, Name: d.PkName(), Type: "tree", Opts: map[string]any{},
		Parts: parts, Operable: d.Operable, SchemaVersion: d.SchemaVersion}
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

// Validate checks a definition: a name, a known distribution, a format of
// distinct named fields of known types, and a primary key of distinct,
// non-nullable, indexable fields. The result is a CREATE_SPACE error.
func (d *TableDef) Validate() *tuple.Error {
	bad := func(format string, args ...any) *tuple.Error {
		return tuple.Errorf(tuple.CodeCreateSpace, "Failed to create space '%s': %s", d.Name, fmt.Sprintf(format, args...))
	}
	switch {
	case d.Name == "":
		return bad("the name is empty")
	case d.Distribution != DistributionGlobal && d.Distribution != DistributionSharded:
		return bad("unknown distribution %q", d.Distribution)
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

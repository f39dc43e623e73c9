package schema

import (
	"fmt"
	"maps"
	"slices"
	"strings"

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

// Sharding, as Picodata's Distribution::ShardedImplicitly {sharding_key,
// sharding_fn, tier}: a sharded table's rows are spread over its tier's
// buckets by a hash of the sharding key, and each row carries its bucket in
// the field BucketIDField, which the cluster adds to the format itself.
const (
	// ShardingFnMurmur3 is the sharding function (Picodata's default and
	// the only one picogo computes).
	ShardingFnMurmur3 = "murmur3"
	// BucketIDField is the name of the unsigned field that holds a sharded
	// row's bucket id.
	BucketIDField = "bucket_id"
	// BucketIDIndexName is the name of a sharded table's non-unique index
	// on BucketIDField (index id BucketIDIndexID).
	BucketIDIndexName = "bucket_id"
	// BucketIDIndexID is the id of that index.
	BucketIDIndexID uint32 = 1
)

// IndexTypeTree is the index type of every index so far (Tarantool's TREE).
const IndexTypeTree = "tree"

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
	// Sharded tables only (Distribution DistributionSharded): the fields
	// whose values are hashed into the bucket id, the hash function
	// (ShardingFnMurmur3) and the tier whose replicasets keep the rows.
	ShardingKey []string `msgpack:"sharding_key,omitempty"`
	ShardingFn  string   `msgpack:"sharding_fn,omitempty"`
	Tier        string   `msgpack:"tier,omitempty"`
}

// IsSharded reports whether the table is sharded (not global).
func (d *TableDef) IsSharded() bool { return d.Distribution == DistributionSharded }

// BucketIDPosition is where a sharded table's BucketIDField goes in a format
// that lacks it: right after the last primary key field, as Picodata places
// it (index_of_bucket_id_column).
func (d *TableDef) BucketIDPosition() int {
	last := -1
	for _, pos := range d.PrimaryKey {
		last = max(last, int(pos))
	}
	return last + 1
}

// AddBucketID inserts BucketIDField (unsigned, not nullable) at
// BucketIDPosition. The primary key's positions are all before it, so
// they do not move. It does nothing if the format has the field already.
func (d *TableDef) AddBucketID() {
	if _, ok := d.FieldIndex(BucketIDField); ok {
		return
	}
	pos := min(d.BucketIDPosition(), len(d.Format))
	d.Format = slices.Insert(slices.Clone(d.Format), pos, Field{Name: BucketIDField, Type: tuple.TypeUnsigned})
}

// BucketIDIndex is the definition of a sharded table's index on
// BucketIDField: id BucketIDIndexID, non-unique, tree.
func (d *TableDef) BucketIDIndex() IndexDef {
	return IndexDef{TableID: d.ID, ID: BucketIDIndexID, Name: BucketIDIndexName, Type: IndexTypeTree,
		Opts: map[string]any{"unique": false}, Parts: []IndexPart{{Field: BucketIDField, Type: tuple.TypeUnsigned}},
		Operable: d.Operable, SchemaVersion: d.SchemaVersion}
}

// Clone returns a deep copy.
func (d TableDef) Clone() TableDef {
	d.Format = slices.Clone(d.Format)
	d.PrimaryKey = slices.Clone(d.PrimaryKey)
	d.ShardingKey = slices.Clone(d.ShardingKey)
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

// KeyValues are the primary key's values in a tuple's values (nil for a
// field the values lack).
func (d *TableDef) KeyValues(vals []any) []any {
	parts := make([]any, len(d.PrimaryKey))
	for i, pos := range d.PrimaryKey {
		if int(pos) < len(vals) {
			parts[i] = vals[pos]
		}
	}
	return parts
}

// RowKey encodes the primary key of a tuple's values (which fit the
// format: see CheckTuple).
func (d *TableDef) RowKey(vals []any) ([]byte, error) { return tuple.EncodeKey(d.KeyValues(vals)) }

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
	Field    string          `msgpack:"field"`
	Type     tuple.FieldType `msgpack:"type,omitempty"`
	Nullable bool            `msgpack:"is_nullable,omitempty"`
}

// IndexDef defines an index; the global tables keep it as a row of
// _pico_index. Index 0 is the primary one; secondary indexes are unique or
// not (IsUnique). The msgpack encoding is that of a create_index DDL (see
// core/tables).
type IndexDef struct {
	TableID       uint32         `msgpack:"table_id"`
	ID            uint32         `msgpack:"id"`
	Name          string         `msgpack:"name"`
	Type          string         `msgpack:"type"`
	Opts          map[string]any `msgpack:"opts"`
	Parts         []IndexPart    `msgpack:"parts"`
	Operable      bool           `msgpack:"operable"`
	SchemaVersion uint64         `msgpack:"schema_version"`
}

// Clone returns a deep copy (Opts' values are shared: they are scalars).
func (x IndexDef) Clone() IndexDef {
	x.Parts = slices.Clone(x.Parts)
	if x.Opts != nil {
		x.Opts = maps.Clone(x.Opts)
	}
	return x
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
	return IndexDef{TableID: d.ID, ID: 0, Name: d.PkName(), Type: IndexTypeTree, Opts: map[string]any{},
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
// non-nullable, indexable fields. The result is a CREATE_SPACE error. How
// the cluster distributes the table is ValidateDistribution's.
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

// ValidateDistribution checks a definition's distribution as the cluster
// keeps it: a sharded table needs a sharding key of distinct fields of the
// format (nullable ones allowed, as Picodata allows them), the murmur3
// sharding function, a tier, and its BucketIDField (unsigned, not
// nullable, in neither key); a global table has none of these. The result
// is a CREATE_SPACE error.
func (d *TableDef) ValidateDistribution() *tuple.Error {
	bad := func(format string, args ...any) *tuple.Error {
		return tuple.Errorf(tuple.CodeCreateSpace, "Failed to create space '%s': %s", d.Name, fmt.Sprintf(format, args...))
	}
	if !d.IsSharded() {
		if len(d.ShardingKey) != 0 || d.ShardingFn != "" || d.Tier != "" {
			return bad("a global table has no sharding key, sharding function or tier")
		}
		return nil
	}
	switch {
	case len(d.ShardingKey) == 0:
		return bad("a sharded table needs a sharding key")
	case d.ShardingFn != ShardingFnMurmur3:
		return bad("sharding function %q: only %q is supported", d.ShardingFn, ShardingFnMurmur3)
	case d.Tier == "":
		return bad("a sharded table needs a tier")
	}
	for i, name := range d.ShardingKey {
		if name == BucketIDField {
			return bad("the sharding key cannot include %q", BucketIDField)
		}
		if _, ok := d.FieldIndex(name); !ok {
			return bad("sharding key field %q is not in the format", name)
		}
		if slices.Index(d.ShardingKey, name) != i {
			return bad("sharding key uses field %q twice", name)
		}
	}
	pos, ok := d.FieldIndex(BucketIDField)
	if !ok {
		return bad("a sharded table has a %q field", BucketIDField)
	}
	if f := d.Format[pos]; f.Type != tuple.TypeUnsigned || f.Nullable {
		return bad("field %q must be unsigned and not nullable", BucketIDField)
	}
	if slices.Contains(d.PrimaryKey, uint32(pos)) {
		return bad("the primary key cannot include %q", BucketIDField)
	}
	return nil
}

// Resolve completes and checks an index definition for table d: the type
// defaults to IndexTypeTree (TREE in any case is accepted; other types are
// not supported), and each part's type and nullability are taken from the
// format (a part that gives them must agree). It checks a name, parts of
// distinct fields of the format with indexable types, non-nullable parts
// for the primary index, and options that are at most {"unique": bool}.
// The result is a MODIFY_INDEX error.
func (x *IndexDef) Resolve(d *TableDef) *tuple.Error {
	bad := func(format string, args ...any) *tuple.Error {
		return tuple.Errorf(tuple.CodeModifyIndex, "Can't create or modify index '%s' in space '%s': %s",
			x.Name, d.Name, fmt.Sprintf(format, args...))
	}
	switch {
	case x.Name == "":
		return bad("the name is empty")
	case x.Type == "" || strings.EqualFold(x.Type, IndexTypeTree):
		x.Type = IndexTypeTree
	default:
		return bad("index type %q: only %q is supported", x.Type, IndexTypeTree)
	}
	for _, k := range slices.Sorted(maps.Keys(x.Opts)) {
		if _, isBool := x.Opts[k].(bool); k != "unique" || !isBool {
			return bad("option %q: the only option is unique = true|false", k)
		}
	}
	if len(x.Parts) == 0 {
		return bad("the index has no parts")
	}
	for i := range x.Parts {
		p := &x.Parts[i]
		pos, ok := d.FieldIndex(p.Field)
		if !ok {
			return bad("field %q is not in the format", p.Field)
		}
		if slices.IndexFunc(x.Parts, func(q IndexPart) bool { return q.Field == p.Field }) != i {
			return bad("field %q is used twice", p.Field)
		}
		f := d.Format[pos]
		if p.Type != "" && p.Type != f.Type || p.Nullable && !f.Nullable {
			return bad("part %q is given as %s (nullable %v), the field is %s (nullable %v)",
				p.Field, p.Type, p.Nullable, f.Type, f.Nullable)
		}
		if !f.Type.Indexable() {
			return bad("field %q has type %q, which cannot be indexed", f.Name, f.Type)
		}
		if x.ID == 0 && f.Nullable {
			return bad("primary key field %q is nullable", f.Name)
		}
		p.Type, p.Nullable = f.Type, f.Nullable
	}
	return nil
}

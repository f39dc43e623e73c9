package tables

import (
	"bytes"
	"slices"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tuple"
)

// Primitives for the leader's CaS check (.proc_cas): the keys an op writes,
// and whether a predicate's range contains a key.

// KeyRef is one written row: a table and the tuple.EncodeKey encoding of its
// primary key. A nil Key means "some row of Table, key unknown": OpKeys
// returns it for DML on a table this store does not know yet (one created
// by a log entry not applied here), and every range of that table contains
// it, so a CaS check errs on the side of a conflict.
type KeyRef struct {
	Table uint32 `msgpack:"table"`
	Key   []byte `msgpack:"key"`
}

// Range is a set of keys of one table: exactly Key (a msgpack array, the
// full primary key), or the keys between Min and Max (nil: unbounded), or,
// with neither, the whole table. Bound keys may be prefixes of the primary
// key (one part or more): "k >= [a]" holds for every key starting with a.
type Range struct {
	Table uint32             `msgpack:"table"`
	Key   msgpack.RawMessage `msgpack:"key,omitempty"`
	Min   *Bound             `msgpack:"min,omitempty"`
	Max   *Bound             `msgpack:"max,omitempty"`
}

// Bound is one end of a Range.
type Bound struct {
	Key      msgpack.RawMessage `msgpack:"key"`
	Included bool               `msgpack:"included"`
}

// OpKeys returns every (table, primary key) the op writes, in op order.
// DDL ops write the global_schema_version property and the table's
// _pico_table and _pico_index rows (for a create with ID 0, the id the op
// would get if applied now). ACL ops write the schema version properties,
// the user's row and the privilege rows they add or remove (acl.go). A
// nop and an empty batch write nothing. A
// malformed op (an undecodable tuple or key, a key of the wrong types) is
// an error, with the code applying it would fail with: it would write
// nothing when applied.
func (s *Store) OpKeys(op Op) ([]KeyRef, *tuple.Error) {
	if e := op.checkShape(); e != nil {
		return nil, e
	}
	switch op.Kind {
	case OpDml:
		k, err := s.dmlKey(op.Dml)
		if err != nil {
			return nil, err
		}
		return []KeyRef{k}, nil
	case OpBatch:
		out := make([]KeyRef, 0, len(op.Ops))
		for i := range op.Ops {
			k, err := s.dmlKey(&op.Ops[i])
			if err != nil {
				return nil, tuple.Errorf(err.Code, "batch op %d: %s", i, err.Message)
			}
			out = append(out, k)
		}
		return out, nil
	case OpDdlPrepare:
		return append(s.ddlKeys(*op.Ddl), pendingKeys()...), nil
	case OpDdlCommit, OpDdlAbort:
		keys := pendingKeys()
		if ddl, _, ok := s.PendingSchemaChange(); ok {
			keys = append(s.ddlKeys(ddl), keys...)
		}
		return keys, nil
	case OpAclChangeAuth:
		key, _ := tuple.EncodeKey([]any{uint64(op.ChangeAuth.UserID)})
		return []KeyRef{{Table: TablePicoUser, Key: key}}, nil
	case OpAcl:
		return s.aclKeys(*op.Acl), nil
	}
	return nil, nil // OpNop
}

// ddlKeys are the keys a schema change writes (or, for a prepare whose
// id is to be chosen, would write in the current state): its table's
// _pico_table row and _pico_index rows (the primary index, the table's
// other indexes, the index created or dropped, a sharded table's bucket_id
// index), global_schema_version, and a create_table's next_table_id.
func (s *Store) ddlKeys(ddl Ddl) []KeyRef {
	id := ddl.TableOf()
	if ddl.Kind == DdlCreateTable && id == 0 {
		id = s.nextTableID()
	}
	tableKey, _ := tuple.EncodeKey([]any{uint64(id)})
	keys := []KeyRef{
		{Table: TablePicoProperty, Key: []byte(propKey(PropGlobalSchemaVersion))},
		{Table: TablePicoTable, Key: tableKey},
	}
	indexIDs := []uint32{0}
	for _, x := range s.Indexes(id) {
		if x.ID != 0 {
			indexIDs = append(indexIDs, x.ID)
		}
	}
	switch ddl.Kind {
	case DdlCreateTable:
		keys = append(keys, KeyRef{Table: TablePicoProperty, Key: []byte(propKey(PropNextTableID))})
		if ddl.Def != nil && ddl.Def.IsSharded() {
			indexIDs = append(indexIDs, schema.BucketIDIndexID)
		}
	case DdlCreateIndex:
		if ddl.Index != nil && ddl.Index.ID != 0 {
			indexIDs = append(indexIDs, ddl.Index.ID)
		} else {
			indexIDs = append(indexIDs, indexIDs[len(indexIDs)-1]+1)
		}
	case DdlDropIndex:
		indexIDs = append(indexIDs, ddl.IndexID)
	}
	slices.Sort(indexIDs)
	for _, x := range slices.Compact(indexIDs) {
		k, _ := tuple.EncodeKey([]any{uint64(id), uint64(x)})
		keys = append(keys, KeyRef{Table: TablePicoIndex, Key: k})
	}
	return keys
}

// pendingKeys are the _pico_property keys two-phase DDL writes besides
// global_schema_version.
func pendingKeys() []KeyRef {
	var out []KeyRef
	for _, k := range []string{PropNextSchemaVersion, PropPendingSchemaChange, PropPendingSchemaVersion} {
		out = append(out, KeyRef{Table: TablePicoProperty, Key: []byte(propKey(k))})
	}
	return out
}

// dmlKey is the key a DML operation writes.
func (s *Store) dmlKey(d *Dml) (KeyRef, *tuple.Error) {
	t, ok := s.tables[d.Table]
	if !ok {
		return KeyRef{Table: d.Table}, nil // unknown key: see KeyRef
	}
	def := &t.def
	var key []any
	switch d.Kind {
	case DmlInsert, DmlReplace:
		vals, e := tuple.DecodeArray(d.Tuple)
		if e != nil {
			return KeyRef{}, e
		}
		if len(vals) != len(def.Format) {
			return KeyRef{}, tuple.Errorf(tuple.CodeExactFieldCount, "Tuple field count %d does not match space field count %d",
				len(vals), len(def.Format))
		}
		for _, pos := range def.PrimaryKey {
			key = append(key, vals[pos])
		}
	case DmlUpdate, DmlDelete:
		vals, e := tuple.DecodeArray(d.Key)
		if e != nil {
			return KeyRef{}, e
		}
		key = vals
	default:
		return KeyRef{}, tuple.Errorf(tuple.CodeIllegalParams, "unknown dml kind %q", d.Kind)
	}
	k, e := def.EncodeKey(key)
	if e != nil {
		return KeyRef{}, e
	}
	return KeyRef{Table: d.Table, Key: k}, nil
}

// compiledRange is a Range with its keys encoded.
type compiledRange struct {
	table    uint32
	whole    bool
	key      []byte // exact key, or nil
	min, max []byte // nil: unbounded
	minIncl  bool
	maxIncl  bool
}

// CheckRange checks a range: well formed, and its keys of the types of the
// table's primary key (for a table this store does not know, only that the
// keys encode). Errors are *tuple.Error: KEY_PART_TYPE, EXACT_MATCH,
// KEY_PART_COUNT, INVALID_MSGPACK, TUPLE_NOT_ARRAY, ILLEGAL_PARAMS.
func (s *Store) CheckRange(r Range) error {
	if _, e := s.compileRange(r); e != nil {
		return e
	}
	return nil
}

func (s *Store) compileRange(r Range) (compiledRange, *tuple.Error) {
	c := compiledRange{table: r.Table}
	if len(r.Key) != 0 {
		if r.Min != nil || r.Max != nil {
			return c, tuple.Errorf(tuple.CodeIllegalParams, "a range has either a key or bounds")
		}
		k, e := s.rangeKey(r.Table, r.Key, false)
		c.key = k
		return c, e
	}
	if r.Min == nil && r.Max == nil {
		c.whole = true
		return c, nil
	}
	var e *tuple.Error
	if r.Min != nil {
		c.minIncl = r.Min.Included
		if c.min, e = s.rangeKey(r.Table, r.Min.Key, true); e != nil {
			return c, e
		}
	}
	if r.Max != nil {
		c.maxIncl = r.Max.Included
		if c.max, e = s.rangeKey(r.Table, r.Max.Key, true); e != nil {
			return c, e
		}
	}
	return c, nil
}

// rangeKey decodes and encodes a range key: the full primary key, or a
// non-empty prefix of it for a bound.
func (s *Store) rangeKey(table uint32, raw []byte, prefix bool) ([]byte, *tuple.Error) {
	vals, e := tuple.DecodeArray(raw)
	if e != nil {
		return nil, e
	}
	if prefix && len(vals) == 0 {
		return nil, tuple.Errorf(tuple.CodeIllegalParams, "a range bound needs at least one key part")
	}
	t, ok := s.tables[table]
	if !ok {
		k, err := tuple.EncodeKey(vals)
		if err != nil {
			return nil, tuple.Errorf(tuple.CodeKeyPartType, "%v", err)
		}
		return k, nil
	}
	if prefix {
		return t.def.EncodeKeyPrefix(vals)
	}
	return t.def.EncodeKey(vals)
}

// RangeContains reports whether the range contains the key. The range is
// checked first (see CheckRange), whatever the key, so that a bad range is
// an error every time. O(size of the range's keys).
func (s *Store) RangeContains(r Range, k KeyRef) (bool, error) {
	c, e := s.compileRange(r)
	if e != nil {
		return false, e
	}
	return c.contains(k), nil
}

func (c *compiledRange) contains(k KeyRef) bool {
	if c.table != k.Table {
		return false
	}
	if c.whole || k.Key == nil {
		return true
	}
	if c.key != nil {
		return bytes.Equal(c.key, k.Key)
	}
	if c.min != nil {
		// Keys extending the bound's prefix sort after it.
		if cmp := bytes.Compare(k.Key, c.min); cmp < 0 || (!c.minIncl && bytes.HasPrefix(k.Key, c.min)) {
			return false
		}
	}
	if c.max != nil {
		cmp := bytes.Compare(k.Key, c.max)
		if c.maxIncl && cmp > 0 && !bytes.HasPrefix(k.Key, c.max) || !c.maxIncl && cmp >= 0 {
			return false
		}
	}
	return true
}

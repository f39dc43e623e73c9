package storage

import (
	"github.com/tidwall/btree"

	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tuple"
)

// part is one resolved index part: a field position, its type and whether
// it may be NULL.
type part struct {
	field    int
	typ      tuple.FieldType
	nullable bool
}

// entry is an item of an index tree: the tuple and its key in that index.
// A primary index's key is its parts' values; a secondary index's key is
// its parts' values followed by the primary key's (Tarantool's cmp_def),
// so that the entries of a non-unique index are distinct and tuples with
// equal secondary keys are ordered by primary key.
//
// A search probe has a key that may be a prefix and a bound: -1 sorts it
// before every entry it is a prefix of, +1 after them all.
type entry struct {
	key   []any
	tup   tuple.Tuple
	bound int8
}

func compareEntries(a, b entry) int {
	n := min(len(a.key), len(b.key))
	for i := 0; i < n; i++ {
		if c := tuple.Compare(a.key[i], b.key[i]); c != 0 {
			return c
		}
	}
	switch {
	case len(a.key) == len(b.key):
		return int(a.bound) - int(b.bound)
	case len(a.key) < len(b.key): // a is a prefix probe
		if a.bound > 0 {
			return 1
		}
		return -1
	}
	if b.bound > 0 {
		return -1
	}
	return 1
}

func lessEntries(a, b entry) bool { return compareEntries(a, b) < 0 }

// index is one ordered index of a space.
type index struct {
	def    schema.IndexDef
	parts  []part // the index's own parts
	unique bool
	// nullable: some part may be NULL; then a unique index admits several
	// tuples whose key has a NULL, as Tarantool's does.
	nullable bool
	tree     *btree.BTreeG[entry]
	// hint remembers where the last search in tree ended: keys written in
	// order (ids, a log's replay) are found without a full search. It
	// changes no result.
	hint btree.PathHint
}

func newIndex(def schema.IndexDef, parts []part) *index {
	x := &index{def: def, parts: parts, unique: def.IsUnique(),
		tree: btree.NewBTreeGOptions(lessEntries, btree.Options{NoLocks: true})}
	for _, p := range parts {
		x.nullable = x.nullable || p.nullable
	}
	return x
}

// keyOf extracts the index's own key from tuple values; fields beyond the
// tuple (optional nullable ones) are NULL.
func (x *index) keyOf(vals []any) []any {
	return x.appendKey(make([]any, 0, len(x.parts)), vals)
}

func (x *index) appendKey(k []any, vals []any) []any {
	for _, p := range x.parts {
		var v any
		if p.field < len(vals) {
			v = vals[p.field]
		}
		k = append(k, v)
	}
	return k
}

// entryOf is the tree entry of a tuple; pk is the primary index (nil when x
// is the primary index). Its key is one allocation.
func (x *index) entryOf(t tuple.Tuple, pk *index) entry {
	if pk == nil {
		return entry{key: x.keyOf(t.Values()), tup: t}
	}
	k := x.appendKey(make([]any, 0, len(x.parts)+len(pk.parts)), t.Values())
	return entry{key: pk.appendKey(k, t.Values()), tup: t}
}

// hasNull reports whether a key of the index's own parts contains NULL.
func hasNull(key []any) bool {
	for _, v := range key {
		if v == nil {
			return true
		}
	}
	return false
}

// first returns the first entry whose key starts with key (ascending).
func (x *index) first(key []any) (entry, bool) {
	var found entry
	var ok bool
	x.tree.Ascend(entry{key: key, bound: -1}, func(e entry) bool {
		if prefixEqual(e.key, key) {
			found, ok = e, true
		}
		return false
	})
	return found, ok
}

func prefixEqual(full, prefix []any) bool {
	for i, v := range prefix {
		if tuple.Compare(full[i], v) != 0 {
			return false
		}
	}
	return true
}

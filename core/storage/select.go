package storage

import (
	"math"
	"strings"

	"github.com/picogo/picogo/core/tuple"
)

// Iterator is a select's iterator type, with IPROTO's numbers.
type Iterator uint8

const (
	IterEQ  Iterator = 0 // keys equal to the key (a prefix for a partial key), ascending
	IterREQ Iterator = 1 // the same, descending
	IterALL Iterator = 2 // every tuple ascending; with a key, as GE (a TREE index does so)
	IterLT  Iterator = 3 // keys less than the key, descending
	IterLE  Iterator = 4 // keys less than or equal, descending
	IterGE  Iterator = 5 // keys greater than or equal, ascending
	IterGT  Iterator = 6 // keys greater, ascending
)

var iteratorNames = []string{"EQ", "REQ", "ALL", "LT", "LE", "GE", "GT"}

func (it Iterator) String() string {
	if int(it) < len(iteratorNames) {
		return iteratorNames[it]
	}
	return "UNKNOWN"
}

// ParseIterator reads an iterator's name, in any case. Error:
// ITERATOR_TYPE.
func ParseIterator(name string) (Iterator, *tuple.Error) {
	for i, n := range iteratorNames {
		if strings.EqualFold(n, name) {
			return Iterator(i), nil
		}
	}
	return 0, tuple.Errorf(tuple.CodeIteratorType, "Unknown iterator type '%s'", name)
}

func (it Iterator) reverse() bool { return it == IterREQ || it == IterLT || it == IterLE }

// NoLimit is the limit of a select that returns every match.
const NoLimit = math.MaxUint32

// Select returns the tuples an iterator over an index yields from key,
// skipping offset of them and returning at most limit. The key may have
// fewer parts than the index (none at all: every tuple, ascending for EQ,
// GE, GT and ALL, descending for REQ, LE, LT); tuples with equal keys in a
// non-unique index come in primary key order (reversed by REQ, LE, LT).
// Errors: NO_SUCH_SPACE, NO_SUCH_INDEX_ID, ITERATOR_TYPE, KEY_PART_COUNT,
// KEY_PART_TYPE.
func (e *Engine) Select(table, index uint32, key []any, it Iterator, offset, limit uint32) ([]tuple.Tuple, *tuple.Error) {
	var out []tuple.Tuple
	err := e.iterate(table, index, key, it, func(t tuple.Tuple) bool {
		if offset > 0 {
			offset--
			return true
		}
		if uint32(len(out)) >= limit {
			return false
		}
		out = append(out, t)
		return uint32(len(out)) < limit
	})
	return out, err
}

// Count is how many tuples Select would return without offset and limit,
// except that ALL counts every tuple whatever the key, as Tarantool's TREE
// index does.
func (e *Engine) Count(table, index uint32, key []any, it Iterator) (int, *tuple.Error) {
	if it == IterALL {
		s, err := e.space(table)
		if err != nil {
			return 0, err
		}
		x, err := s.index(index)
		if err != nil {
			return 0, err
		}
		if err := checkKey(x, key, false); err != nil {
			return 0, err
		}
		return x.tree.Len(), nil
	}
	n := 0
	err := e.iterate(table, index, key, it, func(tuple.Tuple) bool { n++; return true })
	return n, err
}

// Len is the number of tuples in a table.
func (e *Engine) Len(table uint32) (int, *tuple.Error) {
	s, err := e.space(table)
	if err != nil {
		return 0, err
	}
	return s.pk().tree.Len(), nil
}

// iterate calls fn for each tuple the iterator yields, until it returns
// false.
func (e *Engine) iterate(table, id uint32, key []any, it Iterator, fn func(tuple.Tuple) bool) *tuple.Error {
	s, err := e.space(table)
	if err != nil {
		return err
	}
	x, err := s.index(id)
	if err != nil {
		return err
	}
	if it > IterGT {
		return tuple.Errorf(tuple.CodeIteratorType, "Unknown iterator type '%d'", it)
	}
	if err := checkKey(x, key, false); err != nil {
		return err
	}
	each := func(en entry) bool { return fn(en.tup) }
	if len(key) == 0 {
		if it.reverse() {
			x.tree.Reverse(each)
		} else {
			x.tree.Scan(each)
		}
		return nil
	}
	before, after := entry{key: key, bound: -1}, entry{key: key, bound: 1}
	switch it {
	case IterEQ:
		x.tree.Ascend(before, func(en entry) bool { return prefixEqual(en.key, key) && fn(en.tup) })
	case IterREQ:
		x.tree.Descend(after, func(en entry) bool { return prefixEqual(en.key, key) && fn(en.tup) })
	case IterALL, IterGE:
		x.tree.Ascend(before, each)
	case IterGT:
		x.tree.Ascend(after, each)
	case IterLE:
		x.tree.Descend(after, each)
	case IterLT:
		x.tree.Descend(before, each)
	}
	return nil
}

// Each calls fn with every tuple of the table in primary key order until
// fn returns false, without gathering them first (what SQL's scans read).
func (e *Engine) Each(table uint32, fn func(tuple.Tuple) bool) *tuple.Error {
	return e.iterate(table, 0, nil, IterALL, fn)
}

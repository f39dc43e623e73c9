package simdisk

import (
	"bytes"
	"slices"
)

// defaultChunk is the most entries one chunk of a keyspace holds before it
// splits in two.
const defaultChunk = 256

// entry is one key and its value. Both are owned by the keyspace and never
// written to after they are stored, so a reader may keep referring to them
// after the keyspace changes.
type entry struct {
	key, value []byte
}

// keyspace is an ordered map from byte strings to byte strings, compared with
// bytes.Compare: a sorted list of sorted chunks of at most max entries. It is
// a B-tree of height two, which keeps inserts, deletes and seeks cheap without
// rebalancing machinery, and it iterates in the same order every time.
//
// Invariants: every chunk is non-empty and sorted, and the last key of a chunk
// is below the first key of the next.
type keyspace struct {
	chunks [][]entry
	max    int
}

func newKeyspace(max int) *keyspace {
	return &keyspace{max: max}
}

// search returns the position of the first entry whose key is >= k: chunk ci
// and index i within it. When every key is below k it returns
// (len(chunks), 0).
func (ks *keyspace) search(k []byte) (ci, i int) {
	ci, _ = slices.BinarySearchFunc(ks.chunks, k, func(c []entry, k []byte) int {
		return bytes.Compare(c[len(c)-1].key, k)
	})
	if ci == len(ks.chunks) {
		return ci, 0
	}
	i, _ = slices.BinarySearchFunc(ks.chunks[ci], k, func(e entry, k []byte) int {
		return bytes.Compare(e.key, k)
	})
	return ci, i
}

// at returns the entry at a position search returned, or ok == false at the
// end.
func (ks *keyspace) at(ci, i int) (entry, bool) {
	if ci >= len(ks.chunks) {
		return entry{}, false
	}
	return ks.chunks[ci][i], true
}

// next returns the position after (ci, i).
func (ks *keyspace) next(ci, i int) (int, int) {
	if i+1 < len(ks.chunks[ci]) {
		return ci, i + 1
	}
	return ci + 1, 0
}

// get returns the entry stored under k.
func (ks *keyspace) get(k []byte) (entry, bool) {
	e, ok := ks.at(ks.search(k))
	if !ok || !bytes.Equal(e.key, k) {
		return entry{}, false
	}
	return e, true
}

// set stores a copy of k and v, replacing what k held.
func (ks *keyspace) set(k, v []byte) {
	buf := make([]byte, len(k)+len(v))
	copy(buf, k)
	copy(buf[len(k):], v)
	e := entry{key: buf[:len(k):len(k)], value: buf[len(k):]}

	if len(ks.chunks) == 0 {
		ks.chunks = append(ks.chunks, []entry{e})
		return
	}
	ci, i := ks.search(k)
	if ci == len(ks.chunks) { // after every key: append to the last chunk
		ci = len(ks.chunks) - 1
		i = len(ks.chunks[ci])
	}
	c := ks.chunks[ci]
	if i < len(c) && bytes.Equal(c[i].key, k) {
		c[i] = e
		return
	}
	c = slices.Insert(c, i, e)
	if len(c) <= ks.max {
		ks.chunks[ci] = c
		return
	}
	h := len(c) / 2
	right := slices.Clone(c[h:])
	clear(c[h:])
	ks.chunks[ci] = c[:h]
	ks.chunks = slices.Insert(ks.chunks, ci+1, right)
}

// delete removes k if present.
func (ks *keyspace) delete(k []byte) {
	ci, i := ks.search(k)
	if ci == len(ks.chunks) || !bytes.Equal(ks.chunks[ci][i].key, k) {
		return
	}
	ks.chunks[ci] = slices.Delete(ks.chunks[ci], i, i+1)
	ks.fix(ci)
}

// deleteRange removes every key in [start, end); an empty end means no upper
// bound.
func (ks *keyspace) deleteRange(start, end []byte) {
	if len(end) > 0 && bytes.Compare(start, end) >= 0 {
		return
	}
	ci, i := ks.search(start)
	if ci == len(ks.chunks) {
		return
	}
	cj, j := len(ks.chunks), 0
	if len(end) > 0 {
		cj, j = ks.search(end)
	}
	if cj == len(ks.chunks) { // to the end
		c := ks.chunks[ci]
		clear(c[i:])
		ks.chunks[ci] = c[:i]
		clear(ks.chunks[ci+1:])
		ks.chunks = ks.chunks[:ci+1]
		ks.fix(ci)
		return
	}
	if ci == cj {
		ks.chunks[ci] = slices.Delete(ks.chunks[ci], i, j)
		ks.fix(ci)
		return
	}
	c := ks.chunks[ci]
	clear(c[i:])
	ks.chunks[ci] = c[:i]
	ks.chunks[cj] = slices.Delete(ks.chunks[cj], 0, j)
	ks.chunks = slices.Delete(ks.chunks, ci+1, cj)
	ks.fix(ci + 1)
	ks.fix(ci)
}

// fix restores the invariants around chunk ci after entries left it: an empty
// chunk goes, and a small one merges with a neighbour so that deletes cannot
// leave a long list of tiny chunks behind.
func (ks *keyspace) fix(ci int) {
	if ci >= len(ks.chunks) {
		return
	}
	if len(ks.chunks[ci]) == 0 {
		ks.chunks = slices.Delete(ks.chunks, ci, ci+1)
		return
	}
	if ci+1 < len(ks.chunks) && len(ks.chunks[ci])+len(ks.chunks[ci+1]) <= ks.max/2 {
		ks.chunks[ci] = append(ks.chunks[ci], ks.chunks[ci+1]...)
		ks.chunks = slices.Delete(ks.chunks, ci+1, ci+2)
	}
	if ci > 0 && len(ks.chunks[ci-1])+len(ks.chunks[ci]) <= ks.max/2 {
		ks.chunks[ci-1] = append(ks.chunks[ci-1], ks.chunks[ci]...)
		ks.chunks = slices.Delete(ks.chunks, ci, ci+1)
	}
}

// len returns the number of keys.
func (ks *keyspace) len() int {
	n := 0
	for _, c := range ks.chunks {
		n += len(c)
	}
	return n
}

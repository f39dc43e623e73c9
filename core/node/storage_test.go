package node

import (
	"bytes"
	"testing"

	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/disk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func rangeDeletions(b *disk.Batch) [][2][]byte {
	var out [][2][]byte
	for _, op := range b.Ops {
		if op.Kind == disk.OpDeleteRange {
			out = append(out, [2][]byte{op.Key, op.End})
		}
	}
	return out
}

// TestPersistDeletesOnlyAReplacedSuffix: appending entries deletes nothing
// (a range deletion per write made Pebble's memtable flushes quadratic);
// entries that replace stored ones delete the stored suffix past them.
func TestPersistDeletesOnlyAReplacedSuffix(t *testing.T) {
	ents := func(from, to uint64) []raft.Entry {
		var out []raft.Entry
		for i := from; i <= to; i++ {
			out = append(out, raft.Entry{Index: i, Term: 2})
		}
		return out
	}
	assert.Empty(t, rangeDeletions(persistBatch(ra.Persist{Entries: ents(11, 12)}, 10)), "an append")
	assert.Equal(t, [][2][]byte{{logKey(8), logKey(11)}},
		rangeDeletions(persistBatch(ra.Persist{Entries: ents(8, 9)}, 10)), "a replaced suffix 8..10")
	assert.Equal(t, [][2][]byte{{logKey(0), logKey(6)}},
		rangeDeletions(persistBatch(ra.Persist{PurgeTo: 5}, 10)), "a purge")
}

// TestFramedEntryMatchesReflection: an entry framed by hand is the bytes
// reflection frames, Data's nil-ness and every length form included.
func TestFramedEntryMatchesReflection(t *testing.T) {
	for _, e := range []raft.Entry{
		{Term: 1, Index: 2, Data: []byte("ab")},
		{Term: 1 << 40, Index: 70000, Type: raft.EntryConfChange},
		{Term: 3, Index: 4, Data: []byte{}},
		{Term: 3, Index: 5, Data: bytes.Repeat([]byte("x"), 255)},
		{Term: 3, Index: 6, Data: bytes.Repeat([]byte("x"), 256)},
		{Term: 3, Index: 7, Data: bytes.Repeat([]byte("x"), 1<<16)},
	} {
		require.Equal(t, framed(e), framedEntry(&e))
		var back raft.Entry
		require.NoError(t, unframe(nil, framedEntry(&e), &back))
		require.Equal(t, e, back)
	}
}

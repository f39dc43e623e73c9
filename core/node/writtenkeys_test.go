package node

import (
	"testing"

	"github.com/picogo/picogo/core/tables"
	"github.com/stretchr/testify/assert"
)

func TestWrittenKeysSlots(t *testing.T) {
	var c writtenKeys
	a := []tables.KeyRef{{Table: 1, Key: []byte("a")}}
	b := []tables.KeyRef{{Table: 1, Key: []byte("b")}}
	c.remember(7, 2, 1, a)

	keys, ok := c.lookup(7, 2, 1)
	assert.True(t, ok)
	assert.Equal(t, a, keys)
	for _, miss := range []struct{ index, term, schema uint64 }{
		{7, 3, 1}, // another term's entry at that index
		{7, 2, 2}, // the schema moved: keys may differ
		{8, 2, 1}, // never remembered
		{7 + writtenKeysSlots, 2, 1},
	} {
		_, ok := c.lookup(miss.index, miss.term, miss.schema)
		assert.False(t, ok, "%+v", miss)
	}

	// An entry sharing the slot replaces the older one.
	c.remember(7+writtenKeysSlots, 2, 1, b)
	_, ok = c.lookup(7, 2, 1)
	assert.False(t, ok)
	keys, ok = c.lookup(7+writtenKeysSlots, 2, 1)
	assert.True(t, ok)
	assert.Equal(t, b, keys)

	// Index 0 is no entry.
	c.remember(0, 1, 1, a)
	_, ok = c.lookup(0, 1, 1)
	assert.False(t, ok)
}

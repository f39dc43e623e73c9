package iproto

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

func TestSplitArray(t *testing.T) {
	b, err := msgpack.Marshal([]any{uint64(1), "two", []any{3, nil}, nil, map[string]any{"k": 1}})
	require.NoError(t, err)
	elems, err := SplitArray(b)
	require.NoError(t, err)
	require.Len(t, elems, 5)
	for i, want := range []any{uint64(1), "two", []any{int8(3), nil}, nil, map[string]any{"k": int8(1)}} {
		var got any
		require.NoError(t, msgpack.Unmarshal(elems[i], &got))
		assert.EqualValues(t, want, got, "element %d", i)
	}
	assert.Equal(t, msgpack.RawMessage{0xc0}, elems[3], "nil stays a nil value")

	empty, err := SplitArray([]byte{0x90})
	require.NoError(t, err)
	assert.Empty(t, empty)

	for name, bad := range map[string][]byte{
		"not an array": {0x81, 0x01, 0x02},
		"short":        {0x92, 0x01},
		"trailing":     {0x91, 0x01, 0x02},
		"huge claim":   {0xdd, 0xff, 0xff, 0xff, 0xff, 0x01},
		"element cut":  {0x91, 0xa3, 'a'},
		"empty input":  {},
	} {
		_, err := SplitArray(bad)
		assert.Error(t, err, name)
	}
}

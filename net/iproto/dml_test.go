package iproto

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

func TestDMLRoundTrips(t *testing.T) {
	tup := mp(t, []any{1, "a"})
	key := mp(t, []any{1})
	ops := mp(t, []any{[]any{"=", 1, "b"}})

	for _, typ := range []uint64{TypeInsert, TypeReplace} {
		frame := EncodeInsert(3, 512, tup)
		if typ == TypeReplace {
			frame = EncodeReplace(3, 512, tup)
		}
		req := serve(t, frame)
		assert.Equal(t, typ, req.Type)
		assert.Equal(t, uint64(3), req.Sync)
		space, err := req.SpaceID()
		require.NoError(t, err)
		assert.Equal(t, uint64(512), space)
		got, err := req.Tuple()
		require.NoError(t, err)
		assert.Equal(t, tup, got)
		_, err = req.RequiredKey()
		assert.ErrorContains(t, err, "Missing mandatory field 'KEY' in request")
	}

	req := serve(t, EncodeUpdate(4, 513, 2, key, ops))
	assert.Equal(t, uint64(TypeUpdate), req.Type)
	idx, err := req.IndexID()
	require.NoError(t, err)
	assert.Equal(t, uint64(2), idx)
	got, err := req.RequiredKey()
	require.NoError(t, err)
	assert.Equal(t, key, got)
	got, err = req.Tuple() // UPDATE's operations are its TUPLE, as in Tarantool
	require.NoError(t, err)
	assert.Equal(t, ops, got)
	base, err := req.IndexBase()
	require.NoError(t, err)
	assert.Equal(t, uint64(0), base)

	req = serve(t, EncodeUpsert(5, 514, tup, ops))
	assert.Equal(t, uint64(TypeUpsert), req.Type)
	got, err = req.Tuple()
	require.NoError(t, err)
	assert.Equal(t, tup, got)
	got, err = req.Ops()
	require.NoError(t, err)
	assert.Equal(t, ops, got)

	req = serve(t, EncodeDelete(6, 515, 1, key))
	assert.Equal(t, uint64(TypeDelete), req.Type)
	idx, err = req.IndexID()
	require.NoError(t, err)
	assert.Equal(t, uint64(1), idx)
	got, err = req.RequiredKey()
	require.NoError(t, err)
	assert.Equal(t, key, got)
	_, err = req.Ops()
	var de *DecodeError
	require.True(t, errors.As(err, &de))
	assert.Equal(t, uint32(CodeMissingRequestField), de.Code)
	assert.Equal(t, "Missing mandatory field 'OPS' in request", de.Message)

	// nil raw arrays are [].
	req = serve(t, EncodeUpsert(7, 1, nil, nil))
	got, err = req.Ops()
	require.NoError(t, err)
	assert.Equal(t, msgpack.RawMessage{0x90}, got)
}

// The frames are net.box's: header {SYNC, REQUEST_TYPE}, then the body in
// its order.
func TestDMLFrameBytes(t *testing.T) {
	assert.Equal(t, []byte{0xce, 0, 0, 0, 0x0d, 0x82, 0x01, 0x07, 0x00, 0x02,
		0x82, 0x10, 0xcd, 0x02, 0x00, 0x21, 0x91, 0x01}, EncodeInsert(7, 512, msgpack.RawMessage{0x91, 0x01}))
	assert.Equal(t, []byte{0xce, 0, 0, 0, 0x0d, 0x82, 0x01, 0x07, 0x00, 0x05,
		0x83, 0x10, 0x01, 0x11, 0x00, 0x20, 0x91, 0x02}, EncodeDelete(7, 1, 0, msgpack.RawMessage{0x91, 0x02}))
}

func TestDMLBodyErrors(t *testing.T) {
	body := func(kv ...any) Request {
		b := appendMapLen(nil, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			b = append(appendUint(b, uint64(kv[i].(int))), mp(t, kv[i+1])...)
		}
		return Request{Type: TypeUpdate, Body: b}
	}
	_, err := body(KeyIndexBase, "one").IndexBase()
	assert.ErrorContains(t, err, "Invalid MsgPack - packet body: INDEX_BASE must be an unsigned integer")
	_, err = body(KeyOps, "x").Ops()
	assert.ErrorContains(t, err, "OPS must be an array")
	_, err = body(KeyKey, 1).RequiredKey()
	assert.ErrorContains(t, err, "KEY must be an array")
	base, err := body(KeyIndexBase, 1).IndexBase()
	require.NoError(t, err)
	assert.Equal(t, uint64(1), base)
}

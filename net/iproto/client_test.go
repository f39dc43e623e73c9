package iproto

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

// serve decodes a request frame the way the server does.
func serve(t *testing.T, frame []byte) Request {
	t.Helper()
	req, err := DecodeRequest(unframe(t, frame))
	require.NoError(t, err)
	return req
}

func TestClientRoundTrips(t *testing.T) {
	args := mp(t, []any{"a", 1, map[string]any{"x": []int{1}}})

	req := serve(t, EncodeCall(11, ".proc_raft_interact", args))
	assert.Equal(t, uint64(TypeCall), req.Type)
	assert.Equal(t, uint64(11), req.Sync)
	fn, err := req.FunctionName()
	require.NoError(t, err)
	assert.Equal(t, ".proc_raft_interact", fn)
	got, err := req.Args()
	require.NoError(t, err)
	assert.Equal(t, args, got)

	req = serve(t, EncodeCall16(12, "box.info", nil))
	assert.Equal(t, uint64(TypeCall16), req.Type)
	fn, err = req.FunctionName()
	require.NoError(t, err)
	assert.Equal(t, "box.info", fn)
	got, err = req.Tuple()
	require.NoError(t, err)
	assert.Equal(t, msgpack.RawMessage{0x90}, got)

	req = serve(t, EncodeEval(13, "return ...", args))
	assert.Equal(t, uint64(TypeEval), req.Type)
	expr, err := req.Expr()
	require.NoError(t, err)
	assert.Equal(t, "return ...", expr)
	got, err = req.Args()
	require.NoError(t, err)
	assert.Equal(t, args, got)

	salt := vectorSalt()
	req = serve(t, EncodeAuth(14, "admin", Scramble(salt[:], "pw")))
	assert.Equal(t, uint64(TypeAuth), req.Type)
	user, err := req.AuthUser()
	require.NoError(t, err)
	assert.Equal(t, "admin", user)
	scramble, err := req.AuthScramble()
	require.NoError(t, err)
	assert.True(t, CheckScramble(salt[:], scramble, Hash2("pw")))

	req = serve(t, EncodePing(15))
	assert.Equal(t, Request{Type: TypePing, Sync: 15}, req)

	req = serve(t, EncodeID(16, ProtocolVersion, []uint64{0, 1, 2}))
	assert.Equal(t, uint64(TypeID), req.Type)
	v, err := req.IDVersion()
	require.NoError(t, err)
	assert.Equal(t, uint64(ProtocolVersion), v)
	f, err := req.IDFeatures()
	require.NoError(t, err)
	assert.Equal(t, []uint64{0, 1, 2}, f)

	key := mp(t, []any{"k"})
	req = serve(t, EncodeSelect(17, 512, 1, IterGT, 10, 20, key))
	assert.Equal(t, uint64(TypeSelect), req.Type)
	for _, c := range []struct {
		get  func() (uint64, error)
		want uint64
	}{{req.SpaceID, 512}, {req.IndexID, 1}, {req.Iterator, IterGT}, {req.Offset, 10}, {req.Limit, 20}} {
		got, err := c.get()
		require.NoError(t, err)
		assert.Equal(t, c.want, got)
	}
	gotKey, err := req.Key()
	require.NoError(t, err)
	assert.Equal(t, key, gotKey)

	binds := mp(t, []any{1, "two"})
	req = serve(t, EncodeExecute(18, "SELECT * FROM t WHERE a = ?", binds))
	assert.Equal(t, uint64(TypeExecute), req.Type)
	sql, _, gotBinds, err := req.SQL()
	require.NoError(t, err)
	assert.Equal(t, "SELECT * FROM t WHERE a = ?", sql)
	assert.Equal(t, binds, gotBinds)
	opts, ok := req.Body.Get(KeyOptions)
	assert.True(t, ok)
	assert.Equal(t, msgpack.RawMessage{0x90}, opts)

	for typ, frame := range map[uint64][]byte{TypeWatch: EncodeWatch(19, "box.status"), TypeUnwatch: EncodeUnwatch(19, "box.status")} {
		req = serve(t, frame)
		assert.Equal(t, typ, req.Type)
		k, err := req.EventKey()
		require.NoError(t, err)
		assert.Equal(t, "box.status", k)
	}
}

func TestClientLongStrings(t *testing.T) {
	for _, n := range []int{0, 31, 32, 255, 256, 65535, 65536} {
		name := string(make([]byte, n))
		req := serve(t, EncodeCall(1, name, nil))
		fn, err := req.FunctionName()
		require.NoError(t, err)
		assert.Len(t, fn, n)
	}
	big := make([]any, 70000)
	args := mp(t, big)
	req := serve(t, EncodeCall(1, "f", args))
	got, err := req.Args()
	require.NoError(t, err)
	assert.Equal(t, args, got)
}

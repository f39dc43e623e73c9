package iproto

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

// The "Observed 2.6 bytes" of the notes: net.box 2.6 requests and the
// replies it accepted. The AUTH scramble is the chap-sha1 vector for
// "secret" with the vector salt.

var vectorScramble = hx("b32bb3a583e1340c0a1108d58b1be49781ad8c2f")

var (
	observedAuth = cat(hx("ce0000002e 82 01 01 00 07 | 82 23 a5"), "admin",
		hx("21 92 a9"), "chap-sha1", hx("b4"), vectorScramble)
	observedAuthOK   = hx("ce00000008 83 00 00 01 01 05 50 | 80")
	observedSelect   = hx("ce00000018 82 01 02 00 01 | 86 10 cd0119 11 00 14 02 13 00 12 ceffffffff 20 90")
	observedSelectOK = hx("ce0000000a 83 00 00 01 02 05 50 | 81 30 90")
	observedPing     = hx("ce00000005 82 01 05 00 40")
	observedCall     = cat(hx("ce0000001c 82 01 06 00 0a | 82 22 b2"), ".proc_version_info", hx("21 90"))
	// A real server's failed call: {0x31: "boom", 0x52: {0: [{0:
	// "ClientError", 1: "server.lua", 2: 6, 3: "boom", 4: 0, 5: 32}]}}.
	observedCallError = frameOf(cat(hx("83 00 cd8020 01 06 05 50 | 82 31 a4"), "boom",
		hx("52 81 00 91 86 00 ab"), "ClientError", hx("01 aa"), "server.lua",
		hx("02 06 03 a4"), "boom", hx("04 00 05 20")))
)

func TestObservedAuth(t *testing.T) {
	salt := vectorSalt()
	req, err := DecodeRequest(unframe(t, observedAuth))
	require.NoError(t, err)
	assert.Equal(t, uint64(TypeAuth), req.Type)
	assert.Equal(t, uint64(1), req.Sync)
	user, err := req.AuthUser()
	require.NoError(t, err)
	assert.Equal(t, "admin", user)
	method, err := req.AuthMethod()
	require.NoError(t, err)
	assert.Equal(t, AuthChapSha1, method)
	scramble, err := req.AuthScramble()
	require.NoError(t, err)
	assert.Equal(t, vectorScramble, scramble)
	assert.True(t, CheckScramble(salt[:], scramble, Hash2("secret")))
	assert.False(t, CheckScramble(salt[:], scramble, Hash2("Secret")))

	assert.Equal(t, observedAuth, EncodeAuth(1, "admin", Scramble(salt[:], "secret")))
	assert.Equal(t, observedAuthOK, EncodeOK(1, 0x50, nil))
	assert.Equal(t, observedAuthOK, EncodeOK(1, 0x50, map[uint64]any{}))
}

func TestObservedSelect(t *testing.T) {
	req, err := DecodeRequest(unframe(t, observedSelect))
	require.NoError(t, err)
	assert.Equal(t, uint64(TypeSelect), req.Type)
	assert.Equal(t, uint64(2), req.Sync)
	for _, c := range []struct {
		get  func() (uint64, error)
		want uint64
	}{
		{req.SpaceID, 281}, {req.IndexID, 0}, {req.Iterator, IterAll},
		{req.Offset, 0}, {req.Limit, 0xffffffff},
	} {
		got, err := c.get()
		require.NoError(t, err)
		assert.Equal(t, c.want, got)
	}
	key, err := req.Key()
	require.NoError(t, err)
	assert.Equal(t, msgpack.RawMessage{0x90}, key)

	assert.Equal(t, observedSelect, EncodeSelect(2, 281, 0, IterAll, 0, 0xffffffff, nil))
	assert.Equal(t, observedSelectOK, EncodeSelectReply(2, 0x50, msgpack.RawMessage{0x90}))
	assert.Equal(t, observedSelectOK, EncodeSelectReply(2, 0x50, []any{}))
	assert.Equal(t, observedSelectOK, EncodeSelectReply(2, 0x50, nil))
	assert.Equal(t, observedSelectOK, EncodeSelectReply(2, 0x50, []any(nil)))
	assert.Equal(t, observedSelectOK, EncodeOK(2, 0x50, map[uint64]any{KeyData: []int{}}))
}

func TestObservedPing(t *testing.T) {
	req, err := DecodeRequest(unframe(t, observedPing))
	require.NoError(t, err)
	assert.Equal(t, uint64(TypePing), req.Type)
	assert.Equal(t, uint64(5), req.Sync)
	assert.Nil(t, req.Body)
	assert.Equal(t, observedPing, EncodePing(5))
}

func TestObservedCall(t *testing.T) {
	req, err := DecodeRequest(unframe(t, observedCall))
	require.NoError(t, err)
	assert.Equal(t, uint64(TypeCall), req.Type)
	assert.Equal(t, uint64(6), req.Sync)
	fn, err := req.FunctionName()
	require.NoError(t, err)
	assert.Equal(t, ".proc_version_info", fn)
	args, err := req.Tuple()
	require.NoError(t, err)
	assert.Equal(t, msgpack.RawMessage{0x90}, args)
	assert.Equal(t, observedCall, EncodeCall(6, ".proc_version_info", nil))
	assert.Equal(t, observedCall, EncodeCall(6, ".proc_version_info", msgpack.RawMessage{0x90}))
}

func TestObservedCallError(t *testing.T) {
	resp, err := DecodeResponse(unframe(t, observedCallError))
	require.NoError(t, err)
	assert.Equal(t, uint64(0x8020), resp.Type)
	assert.Equal(t, uint64(6), resp.Sync)
	assert.Equal(t, uint64(0x50), resp.SchemaVersion)
	assert.Equal(t, uint32(CodeProcLua), resp.Code)
	require.NotNil(t, resp.Err)
	assert.Equal(t, &Error{Code: CodeProcLua, Message: "boom"}, resp.Err)
	assert.Nil(t, resp.Data)
}

package iproto

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

// decodeReply reads a reply frame the way picogo's client does.
func decodeReply(t *testing.T, frame []byte) Response {
	t.Helper()
	resp, err := DecodeResponse(unframe(t, frame))
	require.NoError(t, err)
	return resp
}

// mp marshals v for expectations.
func mp(t *testing.T, v any) msgpack.RawMessage {
	t.Helper()
	b, err := marshal(v)
	require.NoError(t, err)
	return b
}

func TestReplyHeaderEveryTime(t *testing.T) {
	for name, frame := range map[string][]byte{
		"ok":     EncodeOK(7, 0x50, nil),
		"data":   EncodeData(7, 0x50, []int{1}),
		"call":   EncodeCallReply(7, 0x50),
		"call16": EncodeCall16Reply(7, 0x50),
		"error":  EncodeError(7, 0x50, CodeNoSuchProc, "x"),
		"sql":    EncodeSQLResult(7, 0x50, nil, nil),
		"info":   EncodeSQLInfo(7, 0x50, 1),
		"id":     EncodeIDReply(7, 0x50, 3, nil),
		"select": EncodeSelectReply(7, 0x50, nil),
	} {
		p := unframe(t, frame)
		h, _, err := decodePacket(p)
		require.NoError(t, err, name)
		n, b, err := readMapLen(p)
		require.NoError(t, err)
		assert.Equal(t, uint64(3), n, name)
		// {0x00: code, 0x01: sync, 0x05: schema} in that order.
		assert.Equal(t, byte(0x00), b[0], name)
		assert.Equal(t, uint64(7), h.sync, name)
		assert.Equal(t, uint64(0x50), h.schema, name)
		resp := decodeReply(t, frame)
		assert.Equal(t, uint64(7), resp.Sync, name)
		assert.Equal(t, uint64(0x50), resp.SchemaVersion, name)
	}
}

func TestEncodeOKBody(t *testing.T) {
	frame := EncodeOK(3, 1, map[uint64]any{
		KeyData:    msgpack.RawMessage(hx("92 01 02")),
		KeySQLInfo: map[uint64]uint64{0: 300},
		0x7f:       "x",
	})
	// Keys ascending, compact integers.
	assert.Equal(t, frameOf(cat(hx("83 00 00 01 03 05 01 | 83 30 92 01 02 42 81 00 cd012c 7f a1"), "x")), frame)
	resp := decodeReply(t, frame)
	assert.Nil(t, resp.Err)
	assert.Equal(t, msgpack.RawMessage(hx("92 01 02")), resp.Data)
	n, err := resp.RowCount()
	require.NoError(t, err)
	assert.Equal(t, uint64(300), n)
}

func TestEncodeCallReply(t *testing.T) {
	resp := decodeReply(t, EncodeCallReply(4, 1, mp(t, "a"), mp(t, 2), mp(t, map[string]int{"k": 1})))
	assert.Equal(t, mp(t, []any{"a", 2, map[string]int{"k": 1}}), resp.Data)
	resp = decodeReply(t, EncodeCallReply(4, 1))
	assert.Equal(t, msgpack.RawMessage{0x90}, resp.Data)
	resp = decodeReply(t, EncodeData(4, 1, []any{"x", nil}))
	assert.Equal(t, mp(t, []any{"x", nil}), resp.Data)
}

func TestCall16Data(t *testing.T) {
	for name, c := range map[string]struct {
		in   []any
		want any
	}{
		"nothing":               {nil, []any{}},
		"scalar":                {[]any{5}, []any{[]any{5}}},
		"map":                   {[]any{map[string]int{"a": 1}}, []any{[]any{map[string]int{"a": 1}}}},
		"nil":                   {[]any{nil}, []any{[]any{nil}}},
		"empty array":           {[]any{[]any{}}, []any{[]any{}}},
		"array of scalars":      {[]any{[]any{1, "a", 3}}, []any{[]any{1, "a", 3}}},
		"array of arrays":       {[]any{[]any{[]any{1}, []any{2, 3}}}, []any{[]any{1}, []any{2, 3}}},
		"arrays then scalars":   {[]any{[]any{[]any{1}, 2, map[string]int{"m": 0}}}, []any{[]any{1}, []any{2}, []any{map[string]int{"m": 0}}}},
		"several":               {[]any{1, []any{2, 3}, "x"}, []any{[]any{1}, []any{2, 3}, []any{"x"}}},
		"several arrays":        {[]any{[]any{1}, []any{}}, []any{[]any{1}, []any{}}},
		"several nested arrays": {[]any{[]any{[]any{1}}, 2}, []any{[]any{[]any{1}}, []any{2}}},
	} {
		var in []msgpack.RawMessage
		for _, v := range c.in {
			in = append(in, mp(t, v))
		}
		got, err := Call16Data(in...)
		require.NoError(t, err, name)
		assert.Equal(t, mp(t, c.want), got, name)
		resp := decodeReply(t, EncodeCall16Reply(1, 2, in...))
		assert.Equal(t, mp(t, c.want), resp.Data, name)
	}
	_, err := Call16Data(msgpack.RawMessage(hx("92 01")))
	assert.Error(t, err)
}

func TestEncodeError(t *testing.T) {
	frame := EncodeError(9, 0x50, CodeNoSuchProc, "Procedure 'nope' is not defined")
	p := unframe(t, frame)
	h, body, err := decodePacket(p)
	require.NoError(t, err)
	assert.Equal(t, uint64(0x8000|CodeNoSuchProc), h.typ)
	msg24, ok := body.Get(KeyError24)
	require.True(t, ok)
	rawStack, ok := body.Get(KeyError)
	require.True(t, ok)
	assert.Equal(t, mp(t, "Procedure 'nope' is not defined"), msg24)
	var stack map[int][]map[int]any
	require.NoError(t, msgpack.Unmarshal(rawStack, &stack))
	require.Len(t, stack[0], 1)
	e := stack[0][0]
	assert.Equal(t, "ClientError", e[ErrorType])
	assert.Equal(t, "picogo", e[ErrorFile])
	assert.EqualValues(t, 0, e[ErrorLine])
	assert.Equal(t, "Procedure 'nope' is not defined", e[ErrorMessage])
	assert.EqualValues(t, 0, e[ErrorErrno])
	assert.EqualValues(t, CodeNoSuchProc, e[ErrorCode])

	resp := decodeReply(t, frame)
	assert.Equal(t, uint32(CodeNoSuchProc), resp.Code)
	assert.Equal(t, &Error{Code: CodeNoSuchProc, Message: "Procedure 'nope' is not defined"}, resp.Err)

	// The observed real-server shape decodes the same way as ours.
	real := decodeReply(t, observedCallError)
	ours := decodeReply(t, EncodeError(6, 0x50, CodeProcLua, "boom"))
	assert.Equal(t, real.Err, ours.Err)
	assert.Equal(t, real.Type, ours.Type)

	// Codes beyond 15 bits are masked in the type, whole in MP_ERROR.
	resp = decodeReply(t, EncodeError(1, 1, 0x18001, "big"))
	assert.Equal(t, uint64(0x8001), resp.Type)
	assert.Equal(t, uint32(0x18001), resp.Err.Code)
	assert.Equal(t, uint32(0x18001), resp.Code)

	// ER_UNKNOWN (0) is still an error.
	resp = decodeReply(t, EncodeError(1, 1, CodeUnknown, "Unknown error"))
	require.NotNil(t, resp.Err)
	assert.Zero(t, resp.Code)
}

func TestResponseErrorFallbacks(t *testing.T) {
	hdr := hx("83 00 cd802f 01 01 05 00")
	// Only ERROR_24.
	resp, err := DecodeResponse(cat(hdr, hx("81 31 a3"), "bad"))
	require.NoError(t, err)
	assert.Equal(t, &Error{Code: CodePasswordMismatch, Message: "bad"}, resp.Err)
	// ERROR without a usable stack: ERROR_24 wins.
	for _, e := range [][]byte{hx("80"), hx("81 00 90"), hx("81 00 91 81 05 01"), hx("c0"), hx("81 00 91 81 03 01")} {
		resp, err = DecodeResponse(cat(hdr, hx("82 52"), e, hx("31 a3"), "bad"))
		require.NoError(t, err)
		assert.Equal(t, &Error{Code: CodePasswordMismatch, Message: "bad"}, resp.Err, "%x", e)
	}
	// A stack without a code keeps the header's.
	resp, err = DecodeResponse(cat(hdr, hx("81 52 81 00 91 81 03 a2"), "mm"))
	require.NoError(t, err)
	assert.Equal(t, &Error{Code: CodePasswordMismatch, Message: "mm"}, resp.Err)
	// Nothing at all.
	resp, err = DecodeResponse(hdr)
	require.NoError(t, err)
	assert.Equal(t, &Error{Code: CodePasswordMismatch, Message: "error 47"}, resp.Err)
}

func TestEncodeSQL(t *testing.T) {
	frame := EncodeSQLResult(2, 1, []Column{{"A", "integer"}, {"B", "string"}}, [][]any{{1, "x"}, {2, "y"}})
	resp := decodeReply(t, frame)
	cols, err := resp.Metadata()
	require.NoError(t, err)
	assert.Equal(t, []Column{{"A", "integer"}, {"B", "string"}}, cols)
	assert.Equal(t, mp(t, [][]any{{1, "x"}, {2, "y"}}), resp.Data)
	p := unframe(t, frame)
	assert.True(t, bytes.HasPrefix(p[7:], cat(hx("82 32 92 82 00 a1"), "A", hx("01 a7"), "integer")), "METADATA first, as the notes show")

	resp = decodeReply(t, EncodeSQLInfo(2, 1, 7))
	n, err := resp.RowCount()
	require.NoError(t, err)
	assert.Equal(t, uint64(7), n)
	assert.Equal(t, frameOf(hx("83 00 00 01 02 05 01 | 81 42 81 00 07")), EncodeSQLInfo(2, 1, 7))
	_, err = resp.Metadata()
	assert.ErrorIs(t, err, ErrMalformed)

	resp = decodeReply(t, EncodeSQLResult(2, 1, nil, nil))
	cols, err = resp.Metadata()
	require.NoError(t, err)
	assert.Empty(t, cols)
	assert.Equal(t, msgpack.RawMessage{0x90}, resp.Data)
	_, err = resp.RowCount()
	assert.ErrorIs(t, err, ErrMalformed)
}

func TestEncodeIDReply(t *testing.T) {
	frame := EncodeIDReply(1, 0x50, ProtocolVersion, []uint64{FeatureStreams, FeatureErrorExtension})
	assert.Equal(t, frameOf(cat(hx("83 00 00 01 01 05 50 | 83 54 03 55 92 00 02 5b a9"), "chap-sha1")), frame)
	resp := decodeReply(t, frame)
	v, err := resp.IDVersion()
	require.NoError(t, err)
	assert.Equal(t, uint64(3), v)
	f, err := resp.IDFeatures()
	require.NoError(t, err)
	assert.Equal(t, []uint64{0, 2}, f)
	a, err := resp.IDAuthType()
	require.NoError(t, err)
	assert.Equal(t, AuthChapSha1, a)
}

func TestEncodeFailuresBecomeErrorReplies(t *testing.T) {
	for name, frame := range map[string][]byte{
		"data not an array":     EncodeData(5, 1, 42),
		"data a map":            EncodeData(5, 1, map[string]int{"a": 1}),
		"data unencodable":      EncodeData(5, 1, []any{make(chan int)}),
		"raw data garbage":      EncodeData(5, 1, msgpack.RawMessage(hx("92 01"))),
		"raw data trailing":     EncodeData(5, 1, msgpack.RawMessage(hx("90 90"))),
		"nested raw garbage":    EncodeData(5, 1, []msgpack.RawMessage{{0xc1}}),
		"body unencodable":      EncodeOK(5, 1, map[uint64]any{KeyData: func() {}}),
		"body raw empty":        EncodeOK(5, 1, map[uint64]any{KeyData: msgpack.RawMessage{}}),
		"call result garbage":   EncodeCallReply(5, 1, msgpack.RawMessage(hx("c1"))),
		"call16 result garbage": EncodeCall16Reply(5, 1, nil),
		"rows not an array":     EncodeSQLResult(5, 1, nil, "rows"),
	} {
		resp := decodeReply(t, frame)
		assert.Equal(t, uint64(5), resp.Sync, name)
		require.NotNil(t, resp.Err, name)
		assert.Equal(t, uint32(CodeProcLua), resp.Err.Code, name)
		assert.Contains(t, resp.Err.Message, "cannot encode reply", name)
	}
}

func TestDecodeResponseMalformed(t *testing.T) {
	for name, p := range map[string][]byte{
		"empty":          nil,
		"header array":   hx("90"),
		"body array":     hx("83 00 00 01 01 05 00 90"),
		"body truncated": hx("83 00 00 01 01 05 00 81 30 92 01"),
		"trailing":       hx("83 00 00 01 01 05 00 80 00"),
	} {
		_, err := DecodeResponse(p)
		assert.ErrorIs(t, err, ErrMalformed, name)
	}
	resp, err := DecodeResponse(hx("83 00 00 01 09 05 00 90"))
	assert.Error(t, err)
	assert.Equal(t, uint64(9), resp.Sync, "header kept on a body error")
}

func TestDecodeResponsePush(t *testing.T) {
	resp, err := DecodeResponse(hx("83 00 cc80 01 04 05 01 81 30 91 01"))
	require.NoError(t, err)
	assert.Equal(t, uint64(TypeChunk), resp.Type)
	assert.Nil(t, resp.Err)
	assert.Equal(t, msgpack.RawMessage(hx("91 01")), resp.Data)
}

func TestErrorFieldsRoundTrip(t *testing.T) {
	frame := EncodeErrorFields(7, 80, 10001, "not a leader", map[string]any{"leader_id": uint64(3)})
	packet := frame[5:] // ce + uint32 length
	resp, err := DecodeResponse(packet)
	require.NoError(t, err)
	require.NotNil(t, resp.Err)
	require.Equal(t, uint32(10001), resp.Err.Code)
	require.Equal(t, "not a leader", resp.Err.Message)
	id, ok := resp.Err.Fields["leader_id"]
	require.True(t, ok)
	require.EqualValues(t, 3, id)

	// Without fields the entry is the one real Tarantool sends.
	plain, err := DecodeResponse(EncodeError(7, 80, 32, "boom")[5:])
	require.NoError(t, err)
	require.Nil(t, plain.Err.Fields)
}

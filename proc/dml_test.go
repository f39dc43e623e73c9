package proc

import (
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/tuple"
	"github.com/picogo/picogo/net/iproto"
)

// request decodes a frame (with its length prefix) as the server does.
func request(t *testing.T, frame []byte) iproto.Request {
	t.Helper()
	req, err := iproto.DecodeRequest(frame[5:])
	require.NoError(t, err)
	return req
}

// packet is a request packet built by hand: a header {REQUEST_TYPE: typ}
// and a body of the given keys and values (msgpack.RawMessage verbatim).
func packet(t *testing.T, typ uint64, body map[uint64]any) []byte {
	t.Helper()
	h, err := msgpack.Marshal(map[uint64]any{iproto.KeyRequestType: typ, iproto.KeySync: 9})
	require.NoError(t, err)
	b, err := msgpack.Marshal(body)
	require.NoError(t, err)
	return append(h, b...)
}

func handmade(t *testing.T, typ uint64, body map[uint64]any) iproto.Request {
	t.Helper()
	req, err := iproto.DecodeRequest(packet(t, typ, body))
	require.NoError(t, err)
	return req
}

func raw(t *testing.T, v any) msgpack.RawMessage {
	t.Helper()
	b, err := tuple.Marshal(v)
	require.NoError(t, err)
	return b
}

func TestDecodeDML(t *testing.T) {
	u := uuid.MustParse("11111111-2222-3333-4444-555555555555")
	dt := tuple.Datetime{Epoch: 1700000000, Nsec: 5, TzOffset: 60}
	tup := []any{int8(1), "a", tuple.MustDecimal("1.25"), u, dt, nil, []byte{1}, []any{true}, map[string]any{"k": 2.5}}

	r, e := DecodeDML(request(t, iproto.EncodeInsert(1, 512, raw(t, tup))))
	require.Nil(t, e)
	require.Equal(t, api.Insert{Table: 512, Tuple: tup}, r)
	require.Equal(t, "insert", r.Proc())

	r, e = DecodeDML(request(t, iproto.EncodeReplace(2, 513, raw(t, []any{int8(2)}))))
	require.Nil(t, e)
	require.Equal(t, api.Replace{Table: 513, Tuple: []any{int8(2)}}, r)
	require.Equal(t, "replace", r.Proc())

	ops := []any{[]any{"=", 1, "b"}, []any{"+", "n", 1}, []any{"#", -1, 1}}
	r, e = DecodeDML(request(t, iproto.EncodeUpdate(3, 514, 2, raw(t, []any{u}), raw(t, ops))))
	require.Nil(t, e)
	require.Equal(t, api.Update{Table: 514, Index: 2, Key: []any{u},
		Ops: [][]any{{"=", int8(1), "b"}, {"+", "n", int8(1)}, {"#", int8(-1), int8(1)}}}, r)
	require.Equal(t, "update", r.Proc())

	r, e = DecodeDML(request(t, iproto.EncodeUpsert(4, 515, raw(t, []any{int8(3), "x"}), raw(t, ops))))
	require.Nil(t, e)
	require.Equal(t, api.Upsert{Table: 515, Tuple: []any{int8(3), "x"},
		Ops: [][]any{{"=", int8(1), "b"}, {"+", "n", int8(1)}, {"#", int8(-1), int8(1)}}}, r)
	require.Equal(t, "upsert", r.Proc())

	r, e = DecodeDML(request(t, iproto.EncodeDelete(5, 516, 0, raw(t, []any{"k", dt}))))
	require.Nil(t, e)
	require.Equal(t, api.Delete{Table: 516, Key: []any{"k", dt}}, r)
	require.Equal(t, "delete", r.Proc())

	for typ, name := range DMLNames {
		require.Equal(t, name, api.Request(map[uint64]api.Request{iproto.TypeInsert: api.Insert{}, iproto.TypeReplace: api.Replace{},
			iproto.TypeUpdate: api.Update{}, iproto.TypeUpsert: api.Upsert{}, iproto.TypeDelete: api.Delete{}}[typ]).Proc())
	}
	_, e = DecodeDML(request(t, iproto.EncodePing(6)))
	require.Equal(t, uint32(iproto.CodeUnknownRequestType), e.Code)

	// Absent INDEX_ID is the primary index; net.box's INDEX_BASE 1 makes
	// field numbers 1-based, negative ones count from the end still.
	upd, e := DecodeUpdate(handmade(t, iproto.TypeUpdate, map[uint64]any{
		iproto.KeySpaceID: 7, iproto.KeyKey: []any{1}, iproto.KeyIndexBase: 1,
		iproto.KeyTuple: []any{[]any{"=", 2, "x"}, []any{"!", -1, 0}, []any{"=", "name", 1}, []any{"+", uint64(1 << 63), 1}}}))
	require.Nil(t, e)
	require.Equal(t, api.Update{Table: 7, Key: []any{int8(1)},
		Ops: [][]any{{"=", uint64(1), "x"}, {"!", int8(-1), int8(0)}, {"=", "name", int8(1)}, {"+", uint64(1<<63 - 1), int8(1)}}}, upd)
	ups, e := DecodeUpsert(handmade(t, iproto.TypeUpsert, map[uint64]any{
		iproto.KeySpaceID: 7, iproto.KeyTuple: []any{1}, iproto.KeyIndexBase: 1, iproto.KeyOps: []any{[]any{"+", 3, 1}}}))
	require.Nil(t, e)
	require.Equal(t, [][]any{{"+", uint64(2), int8(1)}}, ups.Ops)
	// INDEX_BASE 0 changes nothing.
	upd, e = DecodeUpdate(handmade(t, iproto.TypeUpdate, map[uint64]any{
		iproto.KeySpaceID: 7, iproto.KeyKey: []any{1}, iproto.KeyIndexBase: 0, iproto.KeyTuple: []any{[]any{"=", 0, "x"}}}))
	require.Nil(t, e)
	require.Equal(t, [][]any{{"=", int8(0), "x"}}, upd.Ops)
}

func TestDecodeDMLErrors(t *testing.T) {
	badDecimal := msgpack.RawMessage{0x91, 0xd4, 0x01, 0xff} // ext 1 (decimal), a nonsense payload
	for _, tc := range []struct {
		name string
		typ  uint64
		body map[uint64]any
		code uint32
		msg  string
	}{
		{"no space", iproto.TypeInsert, map[uint64]any{iproto.KeyTuple: []any{1}},
			iproto.CodeMissingRequestField, "Missing mandatory field 'SPACE_ID' in request"},
		{"space not a number", iproto.TypeReplace, map[uint64]any{iproto.KeySpaceID: "t", iproto.KeyTuple: []any{1}},
			iproto.CodeInvalidMsgpack, "Invalid MsgPack - packet body: SPACE_ID must be an unsigned integer"},
		{"space beyond 32 bits", iproto.TypeInsert, map[uint64]any{iproto.KeySpaceID: uint64(1 << 32), iproto.KeyTuple: []any{1}},
			api.CodeNoSuchSpace, "Space '4294967296' does not exist"},
		{"no tuple", iproto.TypeInsert, map[uint64]any{iproto.KeySpaceID: 1},
			iproto.CodeMissingRequestField, "Missing mandatory field 'TUPLE' in request"},
		{"tuple not an array", iproto.TypeReplace, map[uint64]any{iproto.KeySpaceID: 1, iproto.KeyTuple: "x"},
			iproto.CodeInvalidMsgpack, "Invalid MsgPack - packet body: TUPLE must be an array"},
		{"tuple with a broken decimal", iproto.TypeInsert, map[uint64]any{iproto.KeySpaceID: 1, iproto.KeyTuple: badDecimal},
			iproto.CodeInvalidMsgpack, ""},
		{"update without key", iproto.TypeUpdate, map[uint64]any{iproto.KeySpaceID: 1, iproto.KeyTuple: []any{}},
			iproto.CodeMissingRequestField, "Missing mandatory field 'KEY' in request"},
		{"update without operations", iproto.TypeUpdate, map[uint64]any{iproto.KeySpaceID: 1, iproto.KeyKey: []any{1}},
			iproto.CodeMissingRequestField, "Missing mandatory field 'TUPLE' in request"},
		{"update with an index beyond 32 bits", iproto.TypeUpdate, map[uint64]any{iproto.KeySpaceID: 1, iproto.KeyIndexID: uint64(1 << 33), iproto.KeyKey: []any{1}, iproto.KeyTuple: []any{}},
			iproto.CodeNoSuchIndexID, "No index #8589934592 is defined in space '1'"},
		{"update with a string index", iproto.TypeUpdate, map[uint64]any{iproto.KeySpaceID: 1, iproto.KeyIndexID: "pk", iproto.KeyKey: []any{1}, iproto.KeyTuple: []any{}},
			iproto.CodeInvalidMsgpack, "Invalid MsgPack - packet body: INDEX_ID must be an unsigned integer"},
		{"operation not an array", iproto.TypeUpdate, map[uint64]any{iproto.KeySpaceID: 1, iproto.KeyKey: []any{1}, iproto.KeyTuple: []any{"="}},
			api.CodeIllegalParams, "update operation must be an array {op,..}"},
		{"empty operation", iproto.TypeUpsert, map[uint64]any{iproto.KeySpaceID: 1, iproto.KeyTuple: []any{1}, iproto.KeyOps: []any{[]any{}}},
			api.CodeIllegalParams, "update operation must be an array {op,..}, got empty array"},
		{"field 0 with base 1", iproto.TypeUpdate, map[uint64]any{iproto.KeySpaceID: 1, iproto.KeyKey: []any{1}, iproto.KeyIndexBase: 1, iproto.KeyTuple: []any{[]any{"=", 0, 1}}},
			tuple.CodeNoSuchFieldNo, "Field 0 was not found in the tuple"},
		{"index base not a number", iproto.TypeUpsert, map[uint64]any{iproto.KeySpaceID: 1, iproto.KeyTuple: []any{1}, iproto.KeyIndexBase: -1, iproto.KeyOps: []any{}},
			iproto.CodeInvalidMsgpack, "Invalid MsgPack - packet body: INDEX_BASE must be an unsigned integer"},
		{"upsert without ops", iproto.TypeUpsert, map[uint64]any{iproto.KeySpaceID: 1, iproto.KeyTuple: []any{1}},
			iproto.CodeMissingRequestField, "Missing mandatory field 'OPS' in request"},
		{"upsert ops not an array", iproto.TypeUpsert, map[uint64]any{iproto.KeySpaceID: 1, iproto.KeyTuple: []any{1}, iproto.KeyOps: map[string]any{}},
			iproto.CodeInvalidMsgpack, "Invalid MsgPack - packet body: OPS must be an array"},
		{"delete without key", iproto.TypeDelete, map[uint64]any{iproto.KeySpaceID: 1},
			iproto.CodeMissingRequestField, "Missing mandatory field 'KEY' in request"},
		{"delete key not an array", iproto.TypeDelete, map[uint64]any{iproto.KeySpaceID: 1, iproto.KeyKey: 1},
			iproto.CodeInvalidMsgpack, "Invalid MsgPack - packet body: KEY must be an array"},
	} {
		r, e := DecodeDML(handmade(t, tc.typ, tc.body))
		require.Nil(t, r, tc.name)
		require.NotNil(t, e, tc.name)
		require.Equal(t, tc.code, e.Code, "%s: %s", tc.name, e.Message)
		if tc.msg != "" {
			require.Equal(t, tc.msg, e.Message, tc.name)
		}
		require.NotEmpty(t, e.Message, tc.name)
	}
}

func TestDecodeSelect(t *testing.T) {
	// What proc's own client sends: EQ over the primary key.
	sel, err := EncodeSelect(1, 512, nil)
	require.NoError(t, err)
	r, e := DecodeSelect(request(t, sel))
	require.Nil(t, e)
	require.Equal(t, api.Select{Table: 512, Key: []any{}, Limit: 1<<32 - 1}, r)
	require.Equal(t, api.IterEQ, r.Iterator)

	u := uuid.MustParse("11111111-2222-3333-4444-555555555555")
	r, e = DecodeSelect(request(t, iproto.EncodeSelect(2, 513, 3, iproto.IterLE, 10, 20, raw(t, []any{"k", u, tuple.MustDecimal("0.5")}))))
	require.Nil(t, e)
	require.Equal(t, api.Select{Table: 513, Index: 3, Iterator: api.IterLE, Offset: 10, Limit: 20,
		Key: []any{"k", u, tuple.MustDecimal("0.5")}}, r)

	// The iterators are Tarantool's codes.
	for it, want := range []uint8{api.IterEQ, api.IterREQ, api.IterALL, api.IterLT, api.IterLE, api.IterGE, api.IterGT} {
		r, e := DecodeSelect(request(t, iproto.EncodeSelect(3, 1, 0, uint64(it), 0, 1, nil)))
		require.Nil(t, e)
		require.Equal(t, want, r.Iterator)
		require.Equal(t, uint8(it), r.Iterator)
	}

	// A body with only SPACE_ID: the defaults.
	r, e = DecodeSelect(handmade(t, iproto.TypeSelect, map[uint64]any{iproto.KeySpaceID: 5}))
	require.Nil(t, e)
	require.Equal(t, api.Select{Table: 5, Key: []any{}, Limit: 1<<32 - 1}, r)
	// Offsets and limits beyond 32 bits are clamped.
	r, e = DecodeSelect(handmade(t, iproto.TypeSelect, map[uint64]any{iproto.KeySpaceID: 5, iproto.KeyOffset: uint64(1 << 40), iproto.KeyLimit: uint64(1 << 40)}))
	require.Nil(t, e)
	require.Equal(t, uint32(1<<32-1), r.Offset)
	require.Equal(t, uint32(1<<32-1), r.Limit)

	for _, tc := range []struct {
		name string
		body map[uint64]any
		code uint32
		msg  string
	}{
		{"no space", map[uint64]any{iproto.KeyKey: []any{}}, iproto.CodeMissingRequestField, "Missing mandatory field 'SPACE_ID' in request"},
		{"unknown iterator", map[uint64]any{iproto.KeySpaceID: 5, iproto.KeyIterator: 7}, iproto.CodeIteratorType, "Unknown iterator type '7'"},
		{"huge iterator", map[uint64]any{iproto.KeySpaceID: 5, iproto.KeyIterator: uint64(1 << 40)}, iproto.CodeIteratorType, "Unknown iterator type '1099511627776'"},
		{"iterator not a number", map[uint64]any{iproto.KeySpaceID: 5, iproto.KeyIterator: "EQ"}, iproto.CodeInvalidMsgpack, "Invalid MsgPack - packet body: ITERATOR must be an unsigned integer"},
		{"negative offset", map[uint64]any{iproto.KeySpaceID: 5, iproto.KeyOffset: -1}, iproto.CodeInvalidMsgpack, "Invalid MsgPack - packet body: OFFSET must be an unsigned integer"},
		{"limit not a number", map[uint64]any{iproto.KeySpaceID: 5, iproto.KeyLimit: 1.5}, iproto.CodeInvalidMsgpack, "Invalid MsgPack - packet body: LIMIT must be an unsigned integer"},
		{"key not an array", map[uint64]any{iproto.KeySpaceID: 5, iproto.KeyKey: 1}, iproto.CodeInvalidMsgpack, "Invalid MsgPack - packet body: KEY must be an array"},
		{"index beyond 32 bits", map[uint64]any{iproto.KeySpaceID: 5, iproto.KeyIndexID: uint64(1 << 32)}, iproto.CodeNoSuchIndexID, "No index #4294967296 is defined in space '5'"},
	} {
		_, e := DecodeSelect(handmade(t, iproto.TypeSelect, tc.body))
		require.NotNil(t, e, tc.name)
		require.Equal(t, tc.code, e.Code, "%s: %s", tc.name, e.Message)
		require.Equal(t, tc.msg, e.Message, tc.name)
	}
}

// decodeAll runs every data-request decoder over a packet: none may panic,
// and an error must have a code and a message.
func decodeAll(t *testing.T, packet []byte) {
	req, err := iproto.DecodeRequest(packet)
	if err != nil {
		return
	}
	for typ := range DMLNames {
		req.Type = typ
		if r, e := DecodeDML(req); e != nil {
			if e.Code == 0 || e.Message == "" {
				t.Fatalf("%s: an error without a code or message: %+v", DMLNames[typ], e)
			}
		} else if r.Proc() != DMLNames[typ] {
			t.Fatalf("%s decoded as %s", DMLNames[typ], r.Proc())
		}
	}
	if _, e := DecodeSelect(req); e != nil && (e.Code == 0 || e.Message == "") {
		t.Fatalf("select: an error without a code or message: %+v", e)
	}
}

func dmlSeeds(t testing.TB) [][]byte {
	key, _ := tuple.Marshal([]any{1, "k"})
	tup, _ := tuple.Marshal([]any{1, "k", tuple.MustDecimal("1.5"), uuid.UUID{1}, tuple.Datetime{Epoch: 1}})
	ops, _ := tuple.Marshal([]any{[]any{"=", 1, "v"}, []any{"+", 2, 1}})
	var out [][]byte
	for _, f := range [][]byte{
		iproto.EncodeInsert(1, 512, tup), iproto.EncodeReplace(1, 512, tup), iproto.EncodeUpdate(1, 512, 1, key, ops),
		iproto.EncodeUpsert(1, 512, tup, ops), iproto.EncodeDelete(1, 512, 0, key), iproto.EncodeSelect(1, 512, 1, iproto.IterGE, 1, 2, key),
	} {
		out = append(out, f[5:])
	}
	return out
}

// Random bytes, and corrupted requests, never make a decoder panic.
func TestDecodeDMLRandomBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	seeds := dmlSeeds(t)
	decoded := 0
	for i := range 20000 {
		var b []byte
		if i%4 == 0 {
			b = make([]byte, rng.IntN(64))
			for j := range b {
				b[j] = byte(rng.IntN(256))
			}
		} else {
			b = append([]byte{}, seeds[rng.IntN(len(seeds))]...)
			for range 1 + rng.IntN(4) {
				pos := rng.IntN(len(b))
				switch rng.IntN(3) {
				case 0:
					b[pos] = byte(rng.IntN(256))
				case 1:
					b[pos] = []byte{0xc0, 0x90, 0x80, 0xdd, 0xdf, 0xc6, 0xd4, 0xc7, 0xff, 0x00}[rng.IntN(10)]
				default:
					b = append(b[:pos], b[pos+1:]...)
				}
				if len(b) == 0 {
					break
				}
			}
		}
		if _, err := iproto.DecodeRequest(b); err == nil {
			decoded++
		}
		decodeAll(t, b)
	}
	require.Greater(t, decoded, 1000, "too few corruptions decode as requests to exercise the decoders")
}

func FuzzDecodeDML(f *testing.F) {
	for _, s := range dmlSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) { decodeAll(t, b) })
}

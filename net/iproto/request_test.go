package iproto

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

// kv is one map entry: a key and an already encoded value.
type kv struct {
	key uint64
	val []byte
}

// mapOf encodes a map whose keys are written in integer format w.
func mapOf(w byte, entries ...kv) []byte {
	b := appendMapLen(nil, len(entries))
	for _, e := range entries {
		b = append(b, mustWidth(e.key, w)...)
		b = append(b, e.val...)
	}
	return b
}

func TestDecodeRequestEveryIntegerWidth(t *testing.T) {
	for _, w := range widths {
		u := func(v uint64) []byte { return mustWidth(v, w) }
		// Keys and values in reverse order, every integer in format w.
		hdr := mapOf(w, kv{KeyStreamID, u(3)}, kv{KeySchemaVersion, u(0x50)},
			kv{KeySync, u(7)}, kv{KeyRequestType, u(TypeSelect)})
		body := mapOf(w, kv{KeyKey, cat(hx("91"), u(5))}, kv{KeyLimit, u(100)},
			kv{KeyOffset, u(4)}, kv{KeyIterator, u(IterGE)}, kv{KeyIndexID, u(1)},
			kv{KeySpaceID, u(120)})
		req, err := DecodeRequest(cat(hdr, body))
		require.NoError(t, err, "width %#x", w)
		assert.Equal(t, Request{Type: TypeSelect, Sync: 7, SchemaVersion: 0x50, StreamID: 3, Body: req.Body}, req)
		for _, c := range []struct {
			get  func() (uint64, error)
			want uint64
		}{{req.SpaceID, 120}, {req.IndexID, 1}, {req.Iterator, IterGE}, {req.Offset, 4}, {req.Limit, 100}} {
			got, err := c.get()
			require.NoError(t, err)
			assert.Equal(t, c.want, got, "width %#x", w)
		}
		key, err := req.Key()
		require.NoError(t, err)
		assert.Equal(t, msgpack.RawMessage(cat(hx("91"), u(5))), key)

		// String- and array-valued keys in format w too.
		hdr = mapOf(w, kv{KeyRequestType, u(TypeCall)}, kv{KeySync, u(9)})
		req, err = DecodeRequest(cat(hdr, mapOf(w,
			kv{KeyTuple, cat(hx("92"), u(1), u(2))},
			kv{KeyFunctionName, appendStr(nil, ".proc_x")})))
		require.NoError(t, err)
		fn, err := req.FunctionName()
		require.NoError(t, err)
		assert.Equal(t, ".proc_x", fn)

		hdr = mapOf(w, kv{KeyRequestType, u(TypeID)})
		req, err = DecodeRequest(cat(hdr, mapOf(w,
			kv{KeyFeatures, cat(hx("93"), u(0), u(1), u(2))}, kv{KeyVersion, u(6)})))
		require.NoError(t, err)
		assert.Zero(t, req.Sync, "missing sync is 0")
		version, err := req.IDVersion()
		require.NoError(t, err)
		assert.Equal(t, uint64(6), version)
		features, err := req.IDFeatures()
		require.NoError(t, err)
		assert.Equal(t, []uint64{0, 1, 2}, features)

		hdr = mapOf(w, kv{KeyRequestType, u(TypeAuth)}, kv{KeySync, u(1)})
		req, err = DecodeRequest(cat(hdr, mapOf(w,
			kv{KeyTuple, cat(hx("92 a9"), "chap-sha1", hx("b4"), vectorScramble)},
			kv{KeyUserName, appendStr(nil, "admin")})))
		require.NoError(t, err)
		user, err := req.AuthUser()
		require.NoError(t, err)
		assert.Equal(t, "admin", user)
		scramble, err := req.AuthScramble()
		require.NoError(t, err)
		assert.Equal(t, vectorScramble, scramble)

		hdr = mapOf(w, kv{KeyRequestType, u(TypeExecute)}, kv{KeySync, u(2)})
		req, err = DecodeRequest(cat(hdr, mapOf(w, kv{KeyOptions, hx("90")},
			kv{KeySQLBind, cat(hx("91"), u(7))}, kv{KeySQLText, appendStr(nil, "SELECT ?")})))
		require.NoError(t, err)
		sql, _, binds, err := req.SQL()
		require.NoError(t, err)
		assert.Equal(t, "SELECT ?", sql)
		assert.Equal(t, msgpack.RawMessage(cat(hx("91"), u(7))), binds)

		for _, typ := range []uint64{TypeWatch, TypeEval} {
			hdr = mapOf(w, kv{KeyRequestType, u(typ)})
			req, err = DecodeRequest(cat(hdr, mapOf(w, kv{KeyEventKey, appendStr(nil, "k")},
				kv{KeyExpr, appendStr(nil, "return 1")})))
			require.NoError(t, err)
			assert.Equal(t, typ, req.Type)
			key, err := req.EventKey()
			require.NoError(t, err)
			assert.Equal(t, "k", key)
			expr, err := req.Expr()
			require.NoError(t, err)
			assert.Equal(t, "return 1", expr)
		}
	}
}

func TestDecodeRequestWideValues(t *testing.T) {
	hdr := mapOf(0xcf, kv{KeySync, hx("cfffffffffffffffff")}, kv{KeyRequestType, hx("d3000000000000000a")},
		kv{KeySchemaVersion, hx("d2 7fffffff")})
	body := mapOf(0xd3, kv{KeyLimit, hx("d3 00000000ffffffff")}, kv{KeySpaceID, hx("cd0119")})
	req, err := DecodeRequest(cat(hdr, body))
	require.NoError(t, err)
	assert.Equal(t, uint64(1<<64-1), req.Sync)
	assert.Equal(t, uint64(TypeCall), req.Type)
	assert.Equal(t, uint64(0x7fffffff), req.SchemaVersion)
	limit, err := req.Limit()
	require.NoError(t, err)
	assert.Equal(t, uint64(0xffffffff), limit)
}

func TestDecodeRequestIgnoresUnknownKeys(t *testing.T) {
	hdr := mapOf(0, kv{KeyThreadID, hx("81 01 92 a1 61 c0")}, kv{0x7f, appendStr(nil, "x")},
		kv{KeyRequestType, hx("0a")}, kv{KeySync, hx("03")}, kv{0x10000, hx("c3")})
	body := mapOf(0, kv{0x99, hx("92 91 90 d4 01 02")}, kv{KeyFunctionName, appendStr(nil, "f")},
		kv{0x5e, hx("cb 3ff0000000000000")})
	req, err := DecodeRequest(cat(hdr, body))
	require.NoError(t, err)
	assert.Equal(t, uint64(TypeCall), req.Type)
	assert.Equal(t, uint64(3), req.Sync)
	fn, err := req.FunctionName()
	require.NoError(t, err)
	assert.Equal(t, "f", fn)
	args, err := req.Args()
	require.NoError(t, err)
	assert.Equal(t, msgpack.RawMessage{0x90}, args, "absent TUPLE is no arguments")
	_, err = req.Tuple()
	assert.ErrorIs(t, err, ErrMalformed)
}

func TestDecodeRequestDefaults(t *testing.T) {
	req, err := DecodeRequest(cat(hx("81 00 01"), mapOf(0, kv{KeySpaceID, hx("05")})))
	require.NoError(t, err)
	for _, c := range []struct {
		get  func() (uint64, error)
		want uint64
	}{{req.IndexID, 0}, {req.Iterator, IterEQ}, {req.Offset, 0}, {req.Limit, 0xffffffff}, {req.IDVersion, 0}} {
		got, err := c.get()
		require.NoError(t, err)
		assert.Equal(t, c.want, got)
	}
	key, err := req.Key()
	require.NoError(t, err)
	assert.Equal(t, msgpack.RawMessage{0x90}, key)
	features, err := req.IDFeatures()
	require.NoError(t, err)
	assert.Empty(t, features)
	auth, err := req.IDAuthType()
	require.NoError(t, err)
	assert.Empty(t, auth)
}

func TestDecodeRequestMalformed(t *testing.T) {
	for name, p := range map[string][]byte{
		"empty":              nil,
		"header not a map":   hx("92 00 01"),
		"header truncated":   hx("82 00 01 01"),
		"header str key":     cat(hx("81 a1"), "a", hx("01")),
		"header neg key":     hx("81 ff 01"),
		"sync is a string":   cat(hx("81 01 a1"), "a"),
		"sync negative":      hx("81 01 ff"),
		"type is nil":        hx("81 00 c0"),
		"unknown truncated":  hx("81 0b 92 01"),
		"reserved byte":      hx("81 0b c1"),
		"body not a map":     hx("81 00 40 90"),
		"body is a string":   cat(hx("81 00 40 a3"), "abc"),
		"body truncated":     hx("81 00 01 82 10 01 11"),
		"body str key":       cat(hx("81 00 01 81 a1"), "k", hx("01")),
		"body value cut":     hx("81 00 01 81 21 93 01 02"),
		"trailing bytes":     hx("81 00 40 80 00"),
		"two bodies":         hx("81 00 40 80 80"),
		"huge map claim":     hx("df ffffffff 00"),
		"huge str in body":   hx("81 00 01 81 22 db ffffffff 61"),
		"huge array in body": hx("81 00 01 81 21 dd ffffffff 01 02"),
		"ext truncated":      hx("81 00 01 81 21 c9 00000010 01 02"),
	} {
		_, err := DecodeRequest(p)
		require.Error(t, err, name)
		assert.ErrorIs(t, err, ErrMalformed, name)
		var de *DecodeError
		require.True(t, errors.As(err, &de), name)
		assert.Equal(t, uint32(CodeInvalidMsgpack), de.Code, name)
	}
}

func TestDecodeRequestKeepsHeaderOnBodyError(t *testing.T) {
	req, err := DecodeRequest(hx("82 00 0a 01 2a 92 01 02"))
	assert.ErrorIs(t, err, ErrMalformed)
	assert.Equal(t, uint64(TypeCall), req.Type)
	assert.Equal(t, uint64(42), req.Sync)
	assert.Nil(t, req.Body)
}

func TestDecodeRequestTruncations(t *testing.T) {
	for _, frame := range [][]byte{observedAuth, observedSelect, observedPing, observedCall} {
		p := frame[5:]
		full, err := DecodeRequest(p)
		require.NoError(t, err)
		hdrLen := len(p)
		if full.Body != nil {
			_, rest, err := readValue(p)
			require.NoError(t, err)
			hdrLen -= len(rest)
		}
		for cut := 0; cut < len(p); cut++ {
			_, err := DecodeRequest(p[:cut])
			if cut == hdrLen {
				assert.NoError(t, err, "header alone is a request without body")
				continue
			}
			assert.ErrorIs(t, err, ErrMalformed, "cut at %d of %x", cut, p)
		}
	}
}

func TestRequestAccessorErrors(t *testing.T) {
	decode := func(body ...kv) Request {
		req, err := DecodeRequest(cat(hx("82 00 0a 01 01"), mapOf(0, body...)))
		require.NoError(t, err)
		return req
	}
	code := func(err error) uint32 {
		var de *DecodeError
		require.True(t, errors.As(err, &de), "%v", err)
		return de.Code
	}

	empty := decode()
	_, err := empty.FunctionName()
	assert.Equal(t, uint32(CodeMissingRequestField), code(err))
	assert.EqualError(t, err, "iproto: Missing mandatory field 'FUNCTION_NAME' in request")
	_, err = empty.AuthUser()
	assert.Equal(t, uint32(CodeMissingRequestField), code(err))
	_, err = empty.AuthScramble()
	assert.Equal(t, uint32(CodeMissingRequestField), code(err))
	_, err = empty.SpaceID()
	assert.Equal(t, uint32(CodeMissingRequestField), code(err))
	_, _, _, err = empty.SQL()
	assert.Equal(t, uint32(CodeMissingRequestField), code(err))
	_, err = empty.Expr()
	assert.Equal(t, uint32(CodeMissingRequestField), code(err))
	_, err = empty.EventKey()
	assert.Equal(t, uint32(CodeMissingRequestField), code(err))

	bad := decode(kv{KeyFunctionName, hx("01")}, kv{KeyTuple, hx("80")}, kv{KeySpaceID, hx("ff")},
		kv{KeyLimit, appendStr(nil, "x")}, kv{KeyKey, hx("c0")}, kv{KeySQLText, hx("c3")},
		kv{KeyFeatures, cat(hx("92 01 a1"), "x")}, kv{KeyVersion, hx("cb 4000000000000000")},
		kv{KeyUserName, hx("c4 01 61")}, kv{KeyAuthType, hx("01")})
	for name, f := range map[string]func() error{
		"FunctionName": func() error { _, err := bad.FunctionName(); return err },
		"Tuple":        func() error { _, err := bad.Tuple(); return err },
		"Args":         func() error { _, err := bad.Args(); return err },
		"SpaceID":      func() error { _, err := bad.SpaceID(); return err },
		"Limit":        func() error { _, err := bad.Limit(); return err },
		"Key":          func() error { _, err := bad.Key(); return err },
		"SQL":          func() error { _, _, _, err := bad.SQL(); return err },
		"IDFeatures":   func() error { _, err := bad.IDFeatures(); return err },
		"IDVersion":    func() error { _, err := bad.IDVersion(); return err },
		"AuthUser":     func() error { _, err := bad.AuthUser(); return err },
		"AuthMethod":   func() error { _, err := bad.AuthMethod(); return err },
		"IDAuthType":   func() error { _, err := bad.IDAuthType(); return err },
	} {
		err := f()
		require.Error(t, err, name)
		assert.Equal(t, uint32(CodeInvalidMsgpack), code(err), name)
	}

	binds := decode(kv{KeySQLText, appendStr(nil, "select 1")}, kv{KeySQLBind, hx("81 01 02")})
	_, _, _, err = binds.SQL()
	assert.Equal(t, uint32(CodeInvalidMsgpack), code(err))
}

func TestAuthTuple(t *testing.T) {
	decode := func(tuple []byte) Request {
		req, err := DecodeRequest(cat(hx("82 00 07 01 01"),
			mapOf(0, kv{KeyUserName, appendStr(nil, "guest")}, kv{KeyTuple, tuple})))
		require.NoError(t, err)
		return req
	}
	scramble := vectorScramble
	for name, tuple := range map[string][]byte{
		"str":   cat(hx("92 a9"), "chap-sha1", hx("b4"), scramble),
		"str8":  cat(hx("92 a9"), "chap-sha1", hx("d9 14"), scramble),
		"bin":   cat(hx("92 a9"), "chap-sha1", hx("c4 14"), scramble),
		"bin32": cat(hx("92 a9"), "chap-sha1", hx("c6 00000014"), scramble),
		"extra": cat(hx("93 a9"), "chap-sha1", hx("c4 14"), scramble, hx("c0")),
	} {
		req := decode(tuple)
		method, err := req.AuthMethod()
		require.NoError(t, err, name)
		assert.Equal(t, AuthChapSha1, method, name)
		got, err := req.AuthScramble()
		require.NoError(t, err, name)
		assert.Equal(t, scramble, got, name)
	}

	// An empty tuple: no password (Tarantool lets a session return to guest so).
	req := decode(hx("90"))
	method, err := req.AuthMethod()
	require.NoError(t, err)
	assert.Empty(t, method)
	got, err := req.AuthScramble()
	require.NoError(t, err)
	assert.Nil(t, got)

	for name, tuple := range map[string][]byte{
		"one element":      cat(hx("91 a9"), "chap-sha1"),
		"method not a str": cat(hx("92 01 b4"), scramble),
		"scramble an int":  cat(hx("92 a9"), "chap-sha1", hx("05")),
	} {
		req := decode(tuple)
		_, err := req.AuthScramble()
		assert.ErrorIs(t, err, ErrMalformed, name)
	}
	// A cut scramble makes the whole body malformed.
	_, err = DecodeRequest(cat(hx("82 00 07 01 01"), mapOf(0,
		kv{KeyTuple, cat(hx("92 a9"), "chap-sha1", hx("b4"), scramble[:10])})))
	assert.ErrorIs(t, err, ErrMalformed)
}

func TestDecodeRequestDuplicateKeysLastWins(t *testing.T) {
	req, err := DecodeRequest(hx("83 00 01 01 05 01 06 82 10 01 10 02"))
	require.NoError(t, err)
	assert.Equal(t, uint64(6), req.Sync)
	space, err := req.SpaceID()
	require.NoError(t, err)
	assert.Equal(t, uint64(2), space)
}

// TestBodyKeepsTheLastOfARepeatedKey: as a decoded map would.
func TestBodyKeepsTheLastOfARepeatedKey(t *testing.T) {
	req, err := DecodeRequest(hx("82 00 0a 01 2a 83 22 a1 61 21 90 22 a1 62"))
	require.NoError(t, err)
	name, err := req.FunctionName()
	require.NoError(t, err)
	assert.Equal(t, "b", name)
	_, ok := req.Body.Get(KeyExpr)
	assert.False(t, ok)
}

// TestDecodeRequestDoesNotAllocate: the body is read in place.
func TestDecodeRequestDoesNotAllocate(t *testing.T) {
	p := observedCall[5:]
	allocs := testing.AllocsPerRun(100, func() {
		req, err := DecodeRequest(p)
		if err != nil {
			panic(err)
		}
		if _, ok := req.Body.Get(KeyTuple); !ok {
			panic("no tuple")
		}
	})
	assert.Zero(t, allocs)
}

// TestBodyGetMatchesAFullWalk: Get, which stops before the last value,
// finds what reading every entry finds, for any key, repeated or not, in
// any position.
func TestBodyGetMatchesAFullWalk(t *testing.T) {
	values := [][]byte{hx("01"), hx("a1 61"), hx("92 01 93 02 03 a1 62"), hx("90"), hx("81 01 92 02 03"), hx("c0")}
	for seed := range 500 {
		var entries []kv
		for i := range 1 + seed%5 {
			entries = append(entries, kv{uint64((seed / (i + 1)) % 3), values[(seed*7+i*3)%len(values)]})
		}
		req, err := DecodeRequest(cat(hx("81 00 0a"), mapOf(0x00, entries...)))
		require.NoError(t, err)
		for key := uint64(0); key < 4; key++ {
			var want []byte
			found := false
			for _, e := range entries {
				if e.key == key {
					want, found = e.val, true
				}
			}
			got, ok := req.Body.Get(key)
			require.Equal(t, found, ok, "seed %d key %d", seed, key)
			require.Equal(t, want, []byte(got), "seed %d key %d", seed, key)
		}
	}
}

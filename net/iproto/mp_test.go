package iproto

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

// Every msgpack format, as one complete value, with its kind.
var mpValues = []struct {
	hex  string
	kind kind
}{
	{"00", kindInt}, {"7f", kindInt}, {"e0", kindInt}, {"ff", kindInt},
	{"cc ff", kindInt}, {"cd ffff", kindInt}, {"ce ffffffff", kindInt}, {"cf ffffffffffffffff", kindInt},
	{"d0 80", kindInt}, {"d1 8000", kindInt}, {"d2 80000000", kindInt}, {"d3 8000000000000000", kindInt},
	{"c0", kindNil}, {"c2", kindBool}, {"c3", kindBool},
	{"ca 3f800000", kindFloat}, {"cb 3ff0000000000000", kindFloat},
	{"a0", kindStr}, {"a3 616263", kindStr}, {"d9 01 61", kindStr}, {"da 0001 61", kindStr}, {"db 00000001 61", kindStr},
	{"c4 00", kindBin}, {"c4 02 0102", kindBin}, {"c5 0001 01", kindBin}, {"c6 00000001 01", kindBin},
	{"d4 01 02", kindExt}, {"d5 01 0203", kindExt}, {"d6 01 02030405", kindExt},
	{"d7 01 0203040506070809", kindExt}, {"d8 01 02030405060708090a0b0c0d0e0f1011", kindExt},
	{"c7 02 01 0203", kindExt}, {"c8 0002 01 0203", kindExt}, {"c9 00000002 01 0203", kindExt},
	{"90", kindArray}, {"92 01 a1 61", kindArray}, {"dc 0002 01 02", kindArray}, {"dd 00000001 90", kindArray},
	{"80", kindMap}, {"81 01 92 01 80", kindMap}, {"de 0001 01 02", kindMap}, {"df 00000001 a1 61 c0", kindMap},
	{"93 81 01 91 91 91 90 d4 01 02 c9 00000000 05", kindArray},
}

func TestSkipValueEveryFormat(t *testing.T) {
	for _, v := range mpValues {
		b := hx(v.hex)
		assert.Equal(t, v.kind, kindOf(b), v.hex)
		rest, err := skipValue(append(b, 0xaa))
		require.NoError(t, err, v.hex)
		assert.Equal(t, []byte{0xaa}, rest, v.hex)
		require.NoError(t, checkValue(b), v.hex)

		// The reference decoder agrees on where the value ends.
		raw, err := msgpack.NewDecoder(bytes.NewReader(append(b, 0xaa))).DecodeRaw()
		require.NoError(t, err, v.hex)
		assert.Equal(t, b, []byte(raw), v.hex)

		for cut := 0; cut < len(b); cut++ {
			_, err := skipValue(b[:cut])
			assert.Error(t, err, "%s cut at %d", v.hex, cut)
		}
	}
	_, err := skipValue(hx("c1"))
	assert.ErrorIs(t, err, errReserved)
	assert.Equal(t, kindInvalid, kindOf(hx("c1")))
	assert.Equal(t, kindInvalid, kindOf(nil))
	assert.ErrorIs(t, checkValue(hx("90 90")), errTrailing)
}

func TestReadUint(t *testing.T) {
	for _, w := range widths {
		for _, v := range []uint64{0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0xffff, 0x7fffffff, 0xffffffff, 1<<63 - 1, 1<<64 - 1} {
			b, ok := encodeWidth(v, w)
			if !ok {
				continue
			}
			got, rest, err := readUint(append(b, 0xaa))
			require.NoError(t, err, "%#x in %#x", v, w)
			assert.Equal(t, v, got)
			assert.Equal(t, []byte{0xaa}, rest)
		}
	}
	for _, neg := range []string{"ff", "e0", "d0 ff", "d1 8000", "d2 ffffffff", "d3 ffffffffffffffff"} {
		_, _, err := readUint(hx(neg))
		assert.ErrorIs(t, err, errNegative, neg)
	}
	for _, bad := range []string{"c0", "c2", "a1 61", "90", "80", "ca 00000000", "c1"} {
		_, _, err := readUint(hx(bad))
		assert.ErrorIs(t, err, errWrongType, bad)
	}
}

func TestAppendCompact(t *testing.T) {
	for v, want := range map[uint64]string{
		0: "00", 0x7f: "7f", 0x80: "cc80", 0xff: "ccff", 0x100: "cd0100", 0xffff: "cdffff",
		0x10000: "ce00010000", 0xffffffff: "ceffffffff", 1 << 32: "cf0000000100000000",
	} {
		assert.Equal(t, hx(want), appendUint(nil, v), "%#x", v)
	}
	for n, want := range map[int]string{0: "a0", 31: "bf", 32: "d920", 255: "d9ff", 256: "da0100", 65536: "db00010000"} {
		assert.Equal(t, hx(want), appendStr(nil, string(make([]byte, n)))[:len(hx(want))], n)
	}
	for n, want := range map[int]string{0: "90", 15: "9f", 16: "dc0010", 65536: "dd00010000"} {
		assert.Equal(t, hx(want), appendArrayLen(nil, n), n)
	}
	for n, want := range map[int]string{0: "80", 15: "8f", 16: "de0010", 65536: "df00010000"} {
		assert.Equal(t, hx(want), appendMapLen(nil, n), n)
	}
}

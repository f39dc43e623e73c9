package tcp

import (
	"testing"

	"github.com/picogo/picogo/net/iproto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadHeader(t *testing.T) {
	for _, tc := range []struct {
		name      string
		packet    []byte
		typ, sync uint64
	}{
		{"net.box ping", []byte{0x82, 0x01, 0x05, 0x00, 0x40}, 64, 5},
		{"uint32 keys and values", []byte{0x82, 0xce, 0, 0, 0, 0, 0xce, 0, 0, 0, 10, 0xce, 0, 0, 0, 1, 0xcf, 0, 0, 0, 0, 0, 0, 1, 0}, 10, 256},
		{"signed non-negative", []byte{0x82, 0xd0, 0x00, 0xd1, 0x00, 0x07, 0x01, 0xd3, 0, 0, 0, 0, 0, 0, 0, 9}, 7, 9},
		{"map16", []byte{0xde, 0x00, 0x01, 0x01, 0x03}, 0, 3},
		{"no sync", []byte{0x81, 0x00, 0x40}, 64, 0},
		{"unknown keys skipped", append([]byte{0x84, 0x0b, 0x92, 0xa1, 'x', 0x81, 0xc0, 0xc3, 0x05, 0xcb, 1, 2, 3, 4, 5, 6, 7, 8,
			0x2a, 0xc7, 0x02, 0x01, 0xaa, 0xbb}, 0x01, 0x11), 0, 0x11},
		{"body not looked at", []byte{0x82, 0x00, 0x0a, 0x01, 0x02, 0xc1, 0xc1}, 10, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := readHeader(tc.packet)
			require.NoError(t, err)
			assert.Equal(t, tc.typ, h.typ)
			assert.Equal(t, tc.sync, h.sync)
		})
	}
}

func TestReadHeaderRejects(t *testing.T) {
	for name, packet := range map[string][]byte{
		"empty":            nil,
		"not a map":        {0x92, 0x00, 0x01},
		"truncated map":    {0x82, 0x00},
		"negative sync":    {0x81, 0x01, 0xff},
		"negative int8":    {0x81, 0x01, 0xd0, 0x80},
		"string type":      {0x81, 0x00, 0xa1, 'x'},
		"truncated uint":   {0x81, 0x01, 0xce, 0x00},
		"string key":       {0x81, 0xa1, 'x', 0x01},
		"0xc1 value":       {0x81, 0x07, 0xc1},
		"huge array claim": {0x81, 0x07, 0xdd, 0xff, 0xff, 0xff, 0xff, 0x00},
		"huge str claim":   {0x81, 0x07, 0xdb, 0xff, 0xff, 0xff, 0xff, 0x00},
		"map32 truncated":  {0xdf, 0x00, 0x00},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := readHeader(packet)
			assert.Error(t, err)
		})
	}
	// Nesting of any depth is skipped as the codec skips it (iteratively:
	// no stack to exhaust), so the two never disagree on a header.
	deep := []byte{0x82, 0x07}
	for range 100_000 {
		deep = append(deep, 0x91)
	}
	deep = append(deep, 0x00, 0x01, 0x2a) // ..., SYNC: 42
	h, err := readHeader(deep)
	require.NoError(t, err)
	assert.Equal(t, uint64(42), h.sync)
	_, err = readHeader(deep[:len(deep)-3])
	assert.Error(t, err, "truncated inside the nesting")
}

func TestFrameHeader(t *testing.T) {
	h, err := frameHeader(iproto.EncodeCall(42, "f", nil))
	require.NoError(t, err)
	assert.Equal(t, header{typ: iproto.TypeCall, sync: 42}, h)
	_, err = frameHeader(iproto.EncodePing(1)[:6])
	assert.Error(t, err)
	_, err = frameHeader(append(iproto.EncodePing(1), 0))
	assert.Error(t, err)
}

// FuzzReadHeader: never panics, and agrees with the codec on every packet
// the codec accepts.
func FuzzReadHeader(f *testing.F) {
	for _, frame := range [][]byte{
		iproto.EncodePing(5),
		iproto.EncodeCall(1, "f", nil),
		iproto.EncodeAuth(3, "admin", make([]byte, 20)),
		iproto.EncodeID(9, 3, []uint64{1, 2}),
		iproto.EncodeError(4, 80, 47, "x"),
	} {
		f.Add(frame[5:])
	}
	f.Add([]byte{0x84, 0x0b, 0x92, 0xa1, 'x', 0x81, 0xc0, 0xc3, 0x05, 0xcb, 1, 2, 3, 4, 5, 6, 7, 8, 0x01, 0x11})
	f.Fuzz(func(t *testing.T, packet []byte) {
		h, err := readHeader(packet)
		req, cerr := iproto.DecodeRequest(packet)
		if cerr == nil {
			if err != nil {
				t.Fatalf("the codec reads the header, readHeader fails: %v", err)
			}
			if h.typ != req.Type || h.sync != req.Sync {
				t.Fatalf("readHeader %+v, codec type %d sync %d", h, req.Type, req.Sync)
			}
		}
	})
}

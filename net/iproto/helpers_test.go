package iproto

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// hx decodes hex written with optional spaces and '|' separators.
func hx(s string) []byte {
	s = strings.NewReplacer(" ", "", "|", "", "\n", "", "\t", "").Replace(s)
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// cat concatenates byte pieces; strings are taken literally.
func cat(parts ...any) []byte {
	var out []byte
	for _, p := range parts {
		switch p := p.(type) {
		case []byte:
			out = append(out, p...)
		case string:
			out = append(out, p...)
		default:
			panic("cat: []byte or string")
		}
	}
	return out
}

// vectorSalt is the notes' test salt: bytes 1..32.
func vectorSalt() [32]byte {
	var s [32]byte
	for i := range s {
		s[i] = byte(i + 1)
	}
	return s
}

// unframe reads the single frame a whole byte slice holds.
func unframe(t *testing.T, frame []byte) []byte {
	t.Helper()
	r := bytes.NewReader(frame)
	p, err := ReadFrame(r, 0)
	require.NoError(t, err)
	require.Zero(t, r.Len(), "frame has trailing bytes")
	return p
}

// widths are the msgpack integer formats: fixint, uint8..64, int8..64.
var widths = []byte{0x00, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3}

// encodeWidth encodes v in the given integer format; ok is false if it does
// not fit.
func encodeWidth(v uint64, w byte) ([]byte, bool) {
	put := func(n int) []byte {
		b := []byte{w}
		for i := n - 1; i >= 0; i-- {
			b = append(b, byte(v>>(8*i)))
		}
		return b
	}
	switch w {
	case 0x00:
		return []byte{byte(v)}, v <= 0x7f
	case 0xcc:
		return put(1), v <= 0xff
	case 0xcd:
		return put(2), v <= 0xffff
	case 0xce:
		return put(4), v <= 0xffffffff
	case 0xcf:
		return put(8), true
	case 0xd0:
		return put(1), v <= 0x7f
	case 0xd1:
		return put(2), v <= 0x7fff
	case 0xd2:
		return put(4), v <= 0x7fffffff
	case 0xd3:
		return put(8), v <= 1<<63-1
	}
	return nil, false
}

// mustWidth is encodeWidth, falling back to cf when v does not fit.
func mustWidth(v uint64, w byte) []byte {
	if b, ok := encodeWidth(v, w); ok {
		return b
	}
	b, _ := encodeWidth(v, 0xcf)
	return b
}

// frameOf prefixes a packet with 0xce and its length.
func frameOf(packet []byte) []byte {
	n := len(packet)
	return append([]byte{0xce, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, packet...)
}

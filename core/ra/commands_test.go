package ra

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

// TestEnvelopeCodecMatchesReflection: the hand codec writes reflection's
// bytes and reads them back as reflection does, Data's nil-ness included.
func TestEnvelopeCodecMatchesReflection(t *testing.T) {
	for _, e := range []envelope{
		{Kind: kindCommand, Origin: 2, Incarnation: 3, Seq: 4, Data: []byte("ab")},
		{Kind: kindEndOfLife, Origin: 1 << 40, Incarnation: 70000, Seq: 300},
		{Kind: kindCommand, Data: []byte{}},
		{Kind: kindCommand, Data: bytes.Repeat([]byte("x"), 255)},
		{Kind: kindCommand, Data: bytes.Repeat([]byte("x"), 256)},
		{Kind: kindCommand, Data: bytes.Repeat([]byte("x"), 1<<16)},
	} {
		want, err := msgpack.Marshal(&e)
		require.NoError(t, err)
		require.Equal(t, want, e.marshal())

		var viaReflection envelope
		require.NoError(t, msgpack.Unmarshal(want, &viaReflection))
		got, ok := decodeEnvelope(want)
		require.True(t, ok)
		require.True(t, reflect.DeepEqual(viaReflection, got), "%+v != %+v", viaReflection, got)
	}
}

// TestEnvelopeOtherEncodings: an envelope encoded otherwise (compact
// integers) still decodes, through reflection; a damaged one does not.
func TestEnvelopeOtherEncodings(t *testing.T) {
	b := []byte{0x95, 0x01, 0x02, 0x03, 0x04, 0xc4, 0x01, 'x'}
	e, ok := unmarshalEnvelope(b)
	require.True(t, ok)
	require.Equal(t, envelope{Kind: 1, Origin: 2, Incarnation: 3, Seq: 4, Data: []byte("x")}, e)

	full := (&envelope{Kind: kindCommand, Seq: 9, Data: []byte("abc")}).marshal()
	_, ok = unmarshalEnvelope(full[:len(full)-1])
	require.False(t, ok)
	_, ok = decodeEnvelope(append(full, 0))
	require.False(t, ok)

	// Data as a str: read by hand as reflection reads it.
	str := append(full[:envelopeFixed:envelopeFixed], 0xa3, 'a', 'b', 'c')
	var viaReflection envelope
	require.NoError(t, msgpack.Unmarshal(str, &viaReflection))
	e, ok = decodeEnvelope(str)
	require.True(t, ok)
	require.Equal(t, viaReflection, e)
}

package wal

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The keys keep LSN (and chunk) order bytewise, stay under "wal/", and the
// three kinds never overlap each other or the Raft log's keys.
func TestKeyOrder(t *testing.T) {
	lsns := []uint64{0, 1, 2, 255, 256, 257, 65535, 65536, 1 << 32, 1<<64 - 1}
	for i := 1; i < len(lsns); i++ {
		require.Negative(t, bytes.Compare(recordKey(lsns[i-1]), recordKey(lsns[i])), "%d < %d", lsns[i-1], lsns[i])
		require.Negative(t, bytes.Compare(chunkKey(lsns[i-1], 1<<31), chunkKey(lsns[i], 0)))
		require.Negative(t, bytes.Compare(chunkKey(lsns[i-1], 0), checkpointStart(lsns[i-1]+1)))
	}
	for _, n := range []uint32{0, 1, 255, 256, 1<<32 - 1} {
		k := chunkKey(7, n)
		require.True(t, bytes.Compare(checkpointStart(7), k) <= 0 && bytes.Compare(k, checkpointStart(8)) < 0,
			"chunk %d of 7 lies in the checkpoint's range", n)
	}
	for _, k := range [][]byte{recordKey(0), recordKey(1<<64 - 1), chunkKey(0, 0), chunkKey(1<<64-1, 1<<32-1), keyManifest} {
		require.True(t, bytes.HasPrefix(k, []byte("wal/")), "%q", k)
		for _, other := range []string{"raft/", "meta/"} {
			require.False(t, strings.HasPrefix(string(k), other), "%q is under the Raft log's %q", k, other)
		}
	}
	// The ranges of records and chunks, and the manifest, are disjoint.
	in := func(k, p []byte) bool { return bytes.Compare(p, k) <= 0 && bytes.Compare(k, prefixEnd(p)) < 0 }
	require.False(t, in(keyManifest, prefixRecord))
	require.False(t, in(keyManifest, prefixChunk))
	require.False(t, in(recordKey(1<<64-1), prefixChunk))
	require.False(t, in(chunkKey(0, 0), prefixRecord))
	require.True(t, in(recordKey(1<<64-1), prefixRecord))
}

func TestRecordFraming(t *testing.T) {
	for _, tc := range []struct {
		name    string
		lsn     uint64
		payload []byte
	}{
		{"empty", 1, nil},
		{"small", 42, []byte("hello")},
		{"binary", 1<<40 + 3, []byte{0, 0xff, 0, 0x80}},
		{"large", 7, bytes.Repeat([]byte("x"), 100_000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := encodeRecord(tc.lsn, tc.payload)
			require.Len(t, v, recordHeader+len(tc.payload))
			got, err := decodeRecord(tc.lsn, v)
			require.NoError(t, err)
			require.Equal(t, len(tc.payload), len(got))
			require.True(t, bytes.Equal(tc.payload, got))

			_, err = decodeRecord(tc.lsn+1, v)
			require.ErrorContains(t, err, "says it is", "a record under another LSN's key")
			for _, i := range []int{0, 3, 4, 11, len(v) - 1} {
				bad := bytes.Clone(v)
				bad[i] ^= 1
				_, err := decodeRecord(tc.lsn, bad)
				require.ErrorContains(t, err, "checksum", "byte %d flipped", i)
			}
			for _, n := range []int{0, 3, recordHeader - 1} {
				_, err := decodeRecord(tc.lsn, v[:n])
				require.Error(t, err, "cut to %d bytes", n)
			}
			if len(v) > recordHeader {
				_, err := decodeRecord(tc.lsn, v[:len(v)-1])
				require.Error(t, err, "a torn record")
			}
		})
	}
}

func TestChunkFraming(t *testing.T) {
	v := encodeChunk(9, 3, []byte("chunk data"))
	got, err := decodeChunk(9, 3, v)
	require.NoError(t, err)
	require.Equal(t, "chunk data", string(got))
	_, err = decodeChunk(9, 4, v)
	require.ErrorContains(t, err, "says it is")
	_, err = decodeChunk(10, 3, v)
	require.ErrorContains(t, err, "says it is")
	v[len(v)-1] ^= 1
	_, err = decodeChunk(9, 3, v)
	require.ErrorContains(t, err, "checksum")
	_, err = decodeChunk(9, 3, v[:chunkHeader-1])
	require.Error(t, err)
}

func TestManifestFraming(t *testing.T) {
	m := manifest{LSN: 1<<50 + 1, Chunks: 17, Size: 1 << 33, Sum: 0xdeadbeef}
	v := encodeManifest(m)
	require.Len(t, v, manifestLen)
	got, err := decodeManifest(v)
	require.NoError(t, err)
	require.Equal(t, m, got)
	for i := range v {
		bad := bytes.Clone(v)
		bad[i] ^= 0x10
		_, err := decodeManifest(bad)
		require.Error(t, err, "byte %d flipped", i)
	}
	_, err = decodeManifest(append(bytes.Clone(v), 0))
	require.Error(t, err, "a longer manifest")
	future := bytes.Clone(v)
	future[crcLen] = manifestVersion + 1
	_, err = decodeManifest(seal(future))
	require.ErrorContains(t, err, "version")
}

package wal

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// The layout in the instance's store, under its own prefix (the Raft log's
// keys are under "raft/" and "meta/", see core/node/storage.go):
//
//	wal/r/<lsn:8 BE>               one record
//	wal/c/<lsn:8 BE><chunk:4 BE>   chunk n of the checkpoint taken at lsn
//	wal/m                          the manifest: the newest complete checkpoint
//
// Big-endian numbers keep the keys in LSN (and chunk) order. Every value is
// framed with a CRC-32C (Castagnoli) of everything after it, and repeats
// what its key says (the LSN, the chunk number), so that a value damaged on
// disk, or found under a key it was not written to, is detected when read:
//
//	record    crc:4 lsn:8 payload
//	chunk     crc:4 lsn:8 chunk:4 data
//	manifest  crc:4 version:1 lsn:8 chunks:4 size:8 sum:4
//
// where the manifest's size and sum are the length and CRC-32C of the whole
// checkpoint (its chunks' data concatenated in order).
var (
	prefixRecord = []byte("wal/r/")
	prefixChunk  = []byte("wal/c/")
	keyManifest  = []byte("wal/m")
)

const (
	crcLen          = 4
	recordHeader    = crcLen + 8
	chunkHeader     = crcLen + 8 + 4
	manifestLen     = crcLen + 1 + 8 + 4 + 8 + 4
	manifestVersion = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// recordKey is the key of the record at lsn.
func recordKey(lsn uint64) []byte {
	return binary.BigEndian.AppendUint64(append(make([]byte, 0, len(prefixRecord)+8), prefixRecord...), lsn)
}

// chunkKey is the key of chunk n of the checkpoint at lsn.
func chunkKey(lsn uint64, n uint32) []byte {
	k := append(make([]byte, 0, len(prefixChunk)+12), prefixChunk...)
	k = binary.BigEndian.AppendUint64(k, lsn)
	return binary.BigEndian.AppendUint32(k, n)
}

// checkpointStart is the first key of the checkpoint at lsn's chunks, and
// checkpointStart(lsn+1) the first key after them.
func checkpointStart(lsn uint64) []byte {
	return binary.BigEndian.AppendUint64(append(make([]byte, 0, len(prefixChunk)+8), prefixChunk...), lsn)
}

// prefixEnd is the first key after every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	end[len(end)-1]++
	return end
}

// seal writes the checksum of v[crcLen:] into v's first bytes.
func seal(v []byte) []byte {
	binary.BigEndian.PutUint32(v, crc32.Checksum(v[crcLen:], castagnoli))
	return v
}

// intact reports whether v is at least n bytes and its checksum holds.
func intact(v []byte, n int) bool {
	return len(v) >= n && binary.BigEndian.Uint32(v) == crc32.Checksum(v[crcLen:], castagnoli)
}

// encodeRecord frames payload as the record at lsn.
func encodeRecord(lsn uint64, payload []byte) []byte {
	v := make([]byte, recordHeader, recordHeader+len(payload))
	binary.BigEndian.PutUint64(v[crcLen:], lsn)
	return seal(append(v, payload...))
}

// decodeRecord returns the payload of the record at lsn, which shares v's
// memory.
func decodeRecord(lsn uint64, v []byte) ([]byte, error) {
	if !intact(v, recordHeader) {
		return nil, fmt.Errorf("record %d fails its checksum", lsn)
	}
	if got := binary.BigEndian.Uint64(v[crcLen:]); got != lsn {
		return nil, fmt.Errorf("record under the key of %d says it is %d", lsn, got)
	}
	return v[recordHeader:], nil
}

// lsnOfRecordKey returns the LSN a record key names.
func lsnOfRecordKey(k []byte) (uint64, bool) {
	if len(k) != len(prefixRecord)+8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(k[len(prefixRecord):]), true
}

func encodeChunk(lsn uint64, n uint32, data []byte) []byte {
	v := make([]byte, chunkHeader, chunkHeader+len(data))
	binary.BigEndian.PutUint64(v[crcLen:], lsn)
	binary.BigEndian.PutUint32(v[crcLen+8:], n)
	return seal(append(v, data...))
}

// decodeChunk returns the data of chunk n of the checkpoint at lsn, which
// shares v's memory.
func decodeChunk(lsn uint64, n uint32, v []byte) ([]byte, error) {
	if !intact(v, chunkHeader) {
		return nil, fmt.Errorf("chunk %d of the checkpoint at %d fails its checksum", n, lsn)
	}
	gotLSN, gotN := binary.BigEndian.Uint64(v[crcLen:]), binary.BigEndian.Uint32(v[crcLen+8:])
	if gotLSN != lsn || gotN != n {
		return nil, fmt.Errorf("chunk under the key of %d/%d says it is %d/%d", lsn, n, gotLSN, gotN)
	}
	return v[chunkHeader:], nil
}

// manifest names the newest complete checkpoint.
type manifest struct {
	LSN    uint64
	Chunks uint32
	Size   uint64
	Sum    uint32 // CRC-32C of the whole checkpoint
}

func encodeManifest(m manifest) []byte {
	v := make([]byte, manifestLen)
	v[crcLen] = manifestVersion
	binary.BigEndian.PutUint64(v[crcLen+1:], m.LSN)
	binary.BigEndian.PutUint32(v[crcLen+9:], m.Chunks)
	binary.BigEndian.PutUint64(v[crcLen+13:], m.Size)
	binary.BigEndian.PutUint32(v[crcLen+21:], m.Sum)
	return seal(v)
}

func decodeManifest(v []byte) (manifest, error) {
	if len(v) != manifestLen || !intact(v, manifestLen) {
		return manifest{}, fmt.Errorf("the manifest fails its checksum")
	}
	if v[crcLen] != manifestVersion {
		return manifest{}, fmt.Errorf("the manifest has format version %d, not %d", v[crcLen], manifestVersion)
	}
	return manifest{
		LSN:    binary.BigEndian.Uint64(v[crcLen+1:]),
		Chunks: binary.BigEndian.Uint32(v[crcLen+9:]),
		Size:   binary.BigEndian.Uint64(v[crcLen+13:]),
		Sum:    binary.BigEndian.Uint32(v[crcLen+21:]),
	}, nil
}

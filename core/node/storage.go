package node

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/disk"
	"github.com/picogo/picogo/net/iproto"
	"github.com/vmihailenco/msgpack/v5"
)

// The layout of an instance's disk: one key space, prefixes that say what a
// key holds. Every value is framed as crc32c(payload) ++ payload, so that a
// value damaged on disk is detected when read, never used.
//
//	meta/identity            who this instance is (cluster, raft id, name)
//	raft/hs                  the Raft hard state
//	raft/log/<index:8 BE>    one log entry
//	raft/snap                the newest snapshot's meta
//	raft/snapchunk/<n:4 BE>  its chunks, in order
//
// The global tables are not stored: they are the snapshot plus the log,
// replayed at start.
var (
	keyIdentity    = []byte("meta/identity")
	keyHardState   = []byte("raft/hs")
	prefixLog      = []byte("raft/log/")
	keySnapshot    = []byte("raft/snap")
	prefixSnapshot = []byte("raft/snapchunk/")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func logKey(index uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(nil), prefixLog...), index)
}

func chunkKey(n int) []byte {
	return binary.BigEndian.AppendUint32(append([]byte(nil), prefixSnapshot...), uint32(n))
}

// prefixEnd is the first key after every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	end[len(end)-1]++
	return end
}

// framed encodes v with its checksum in front.
func framed(v any) []byte { return framedSized(v, 0) }

// framedSized is framed, encoding into a buffer of about sizeHint bytes
// from the start, so that large values (snapshot chunks of a megabyte) are
// neither regrown nor copied once more.
func framedSized(v any, sizeHint int) []byte {
	buf := bytes.NewBuffer(make([]byte, 4, 4+sizeHint))
	enc := msgpack.GetEncoder()
	defer msgpack.PutEncoder(enc)
	enc.Reset(buf)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("node: encoding %T cannot fail: %v", v, err))
	}
	out := buf.Bytes()
	binary.BigEndian.PutUint32(out, crc32.Checksum(out[4:], castagnoli))
	return out
}

// framedEntry is framed(*e), written by hand: every instance frames every
// entry it appends, and reflection's encoder was a few percent of a
// loaded server's CPU (docs/BENCHMARKS.md). The bytes are reflection's
// (TestFramedEntryMatchesReflection): an array of 4, Term and Index as
// uint64s in full, Type as a uint8, Data as bin (nil as nil).
func framedEntry(e *raft.Entry) []byte {
	b := make([]byte, 4, 4+1+2*9+2+5+len(e.Data))
	b = append(b, 0x94, 0xcf)
	b = binary.BigEndian.AppendUint64(b, e.Term)
	b = append(b, 0xcf)
	b = binary.BigEndian.AppendUint64(b, e.Index)
	b = iproto.AppendBin(append(b, 0xcc, byte(e.Type)), e.Data)
	binary.BigEndian.PutUint32(b, crc32.Checksum(b[4:], castagnoli))
	return b
}

func unframe(key, value []byte, v any) error {
	if len(value) < 4 {
		return fmt.Errorf("node: value at %q is %d bytes: damaged", key, len(value))
	}
	payload := value[4:]
	if binary.BigEndian.Uint32(value) != crc32.Checksum(payload, castagnoli) {
		return fmt.Errorf("node: value at %q fails its checksum: damaged", key)
	}
	if err := msgpack.Unmarshal(payload, v); err != nil {
		return fmt.Errorf("node: value at %q does not decode: %w", key, err)
	}
	return nil
}

// persistBatch lays one ra write out as a disk batch; storedLast is the
// last log index the disk holds before it.
func persistBatch(p ra.Persist, storedLast uint64) *disk.Batch {
	b := &disk.Batch{}
	if s := p.Snapshot; s != nil {
		if p.ReplacesLog {
			b.DeleteRange(prefixLog, prefixEnd(prefixLog))
		}
		b.DeleteRange(prefixSnapshot, prefixEnd(prefixSnapshot))
		b.Set(keySnapshot, framed(s.Meta))
		for i, c := range s.Chunks {
			b.Set(chunkKey(i), framedSized(c, len(c.Pos)+len(c.Next)+len(c.Data)+32))
		}
	}
	if len(p.Entries) > 0 {
		if first := p.Entries[0].Index; first <= storedLast && !p.ReplacesLog {
			// A new leader's entries replace a stored suffix: the stored
			// entries past the new ones must go. Only then: a range
			// deletion in every write (the common case appends) left
			// Pebble a memtable of thousands of overlapping tombstones
			// whose flush took seconds and stalled writes
			// (docs/BENCHMARKS.md).
			b.DeleteRange(logKey(first), logKey(storedLast+1))
		}
		for _, e := range p.Entries {
			b.Set(logKey(e.Index), framedEntry(&e))
		}
	}
	if p.PurgeTo > 0 {
		b.DeleteRange(logKey(0), logKey(p.PurgeTo+1))
	}
	if p.HardState != nil {
		b.Set(keyHardState, framed(*p.HardState))
	}
	return b
}

// Load reads what an instance's disk holds. An empty disk gives an empty
// state (and empty == true); a damaged value is an error.
func Load(s disk.Store) (st ra.DiskState, empty bool, err error) {
	if v, ok, err := s.Get(keyHardState); err != nil {
		return st, false, err
	} else if ok {
		if err := unframe(keyHardState, v, &st.HardState); err != nil {
			return st, false, err
		}
	}
	if v, ok, err := s.Get(keySnapshot); err != nil {
		return st, false, err
	} else if ok {
		snap := &ra.StoredSnapshot{}
		if err := unframe(keySnapshot, v, &snap.Meta); err != nil {
			return st, false, err
		}
		var scanErr error
		err := s.Scan(prefixSnapshot, prefixEnd(prefixSnapshot), func(k, v []byte) bool {
			var c ra.Chunk
			if scanErr = unframe(k, v, &c); scanErr != nil {
				return false
			}
			snap.Chunks = append(snap.Chunks, c)
			return true
		})
		if err = firstErr(err, scanErr); err != nil {
			return st, false, err
		}
		st.Snapshot = snap
	}
	var scanErr error
	err = s.Scan(prefixLog, prefixEnd(prefixLog), func(k, v []byte) bool {
		var e raft.Entry
		if scanErr = unframe(k, v, &e); scanErr != nil {
			return false
		}
		if st.Snapshot == nil || e.Index > st.Snapshot.Meta.Index {
			st.Entries = append(st.Entries, e)
		}
		return true
	})
	if err = firstErr(err, scanErr); err != nil {
		return st, false, err
	}
	empty = st.HardState.IsEmpty() && st.Snapshot == nil && len(st.Entries) == 0
	return st, empty, nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// BootstrapBatch is the disk batch that holds a founding member's initial
// state (see ra.Bootstrap).
func BootstrapBatch(st ra.DiskState) *disk.Batch {
	hs := st.HardState
	return persistBatch(ra.Persist{HardState: &hs, Entries: st.Entries, Snapshot: st.Snapshot, ReplacesLog: true}, 0)
}

// Identity is who an instance is. It is written once, with the instance's
// first state, and read back at every start: a restarted instance is itself
// whatever its flags say.
type Identity struct {
	ClusterID     string            `msgpack:"cluster_id"`
	RaftID        uint64            `msgpack:"raft_id"`
	InstanceID    string            `msgpack:"instance_id"`
	Address       string            `msgpack:"address"`
	Tier          string            `msgpack:"tier"`
	ReplicasetID  string            `msgpack:"replicaset_id"`
	FailureDomain map[string]string `msgpack:"failure_domain"`
	// JoinPeers are the addresses the join answer gave: until this
	// instance has applied the log that holds them, they are how it
	// reaches the leader — also after a crash right after joining.
	JoinPeers map[uint64]string `msgpack:"join_peers,omitempty"`
}

// SaveIdentity adds the identity to b.
func SaveIdentity(b *disk.Batch, id Identity) { b.Set(keyIdentity, framed(id)) }

// LoadIdentity reads the identity; ok is false on a disk that has none.
func LoadIdentity(s disk.Store) (id Identity, ok bool, err error) {
	v, ok, err := s.Get(keyIdentity)
	if err != nil || !ok {
		return id, false, err
	}
	return id, true, unframe(keyIdentity, v, &id)
}

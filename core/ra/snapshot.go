package ra

import (
	"bytes"
	"fmt"

	"github.com/picogo/picogo/core/raft"
	"github.com/vmihailenco/msgpack/v5"
)

// Snapshots travel in the state machine's own chunks: the leader's Raft
// offers a snapshot by its meta alone (MsgSnap without data), the follower
// fetches the chunks one by one from the leader (FetchChunk, answered by the
// leader's ServeChunk), and only then hands the complete snapshot to its
// Raft. No single message carries a whole state machine.

type chunkFetch struct {
	req      uint64
	pos      []byte       // the position asked for
	msg      raft.Message // the leader's MsgSnap
	chunks   []Chunk
	deadline int
}

// maybeSnapshot takes a local snapshot when asked or when enough entries
// were applied since the last one.
func (s *Server) maybeSnapshot() {
	if s.snapQueued || s.terminated {
		return
	}
	st := s.node.BasicStatus()
	var last uint64
	if s.snapshot != nil {
		last = s.snapshot.Meta.Index
	}
	// Each snapshot is the whole state: taken every SnapshotEvery entries
	// alone, its cost per entry grows with the state (a loaded leader's
	// writes/s halved as its tables grew, docs/BENCHMARKS.md). Waiting
	// also for as many bytes of log as the snapshot holds keeps it O(1)
	// per entry, with the log at most about the state's size.
	auto := s.cfg.SnapshotEvery > 0 && st.Applied >= last+s.cfg.SnapshotEvery &&
		s.bytesSinceSnapshot >= snapshotBytes(s.snapshot)
	if !s.snapWanted && !auto {
		return
	}
	meta, err := s.node.SnapshotMeta()
	if err != nil {
		return // nothing new applied yet; try again after the next apply
	}
	chunks, err := readAll(s.sm.Snapshot())
	if err != nil {
		s.emit(Fatal{Err: &FatalError{Err: fmt.Errorf("taking snapshot at %d: %w", meta.Index, err)}})
		return
	}
	s.snapWanted, s.snapQueued = false, true
	s.bytesSinceSnapshot = 0
	s.autoPurge = auto
	s.queueWrite(queuedWrite{local: &StoredSnapshot{Meta: meta, Chunks: chunks}})
}

func readAll(sn Snapshotter) ([]Chunk, error) {
	var chunks []Chunk
	var pos []byte
	for {
		c, err := sn.Chunk(pos)
		if err != nil {
			return nil, err
		}
		chunks = append(chunks, c)
		if c.Next == nil {
			return chunks, nil
		}
		if len(chunks) > 1<<24 {
			return nil, fmt.Errorf("snapshot never ends")
		}
		pos = c.Next
	}
}

func (s *Server) completeLocalSnapshot(snap *StoredSnapshot) {
	s.snapQueued = false
	if err := s.node.SnapshotTaken(snap.Meta); err != nil {
		return // a newer snapshot came from the leader meanwhile
	}
	s.snapshot = snap
	if s.autoPurge {
		s.node.PurgeLog(snap.Meta.Index)
	}
	s.maybeSnapshot() // one asked for while this one was queued
}

// ServeChunk answers a follower fetching the snapshot (term, index): the
// chunk at pos (nil: the first).
func (s *Server) ServeChunk(term, index uint64, pos []byte) (Chunk, error) {
	sn := s.snapshot
	if sn == nil || sn.Meta.Index != index || sn.Meta.Term != term {
		have := "none"
		if sn != nil {
			have = fmt.Sprintf("%d/%d", sn.Meta.Term, sn.Meta.Index)
		}
		return Chunk{}, fmt.Errorf("ra: snapshot %d/%d is not available (have %s)", term, index, have)
	}
	for _, c := range sn.Chunks {
		if bytes.Equal(c.Pos, pos) {
			return c, nil
		}
	}
	return Chunk{}, fmt.Errorf("ra: snapshot %d/%d has no chunk at position %x", term, index, pos)
}

// snapshotOffered starts fetching a snapshot the leader offers, unless this
// server already holds what it covers.
func (s *Server) snapshotOffered(m raft.Message) {
	if m.Snapshot == nil {
		return
	}
	meta := m.Snapshot.Meta
	if meta.Index <= s.node.BasicStatus().Commit {
		// Raft acknowledges it without needing the data. Data never comes
		// inline: it is always fetched in chunks.
		stale := *m.Snapshot
		stale.Data = nil
		m.Snapshot = &stale
		_ = s.node.Step(m)
		return
	}
	if f := s.fetch; f != nil && f.msg.Snapshot.Meta.Index >= meta.Index {
		return // already fetching this one (or a newer one)
	}
	s.fetchSeq++
	s.fetch = &chunkFetch{req: s.fetchSeq, msg: m, deadline: s.now + s.cfg.RequestTimeout}
	s.emit(FetchChunk{Req: s.fetchSeq, From: m.From, Term: meta.Term, Index: meta.Index})
}

// ChunkArrived delivers the answer to FetchChunk req (its Pos is ignored:
// the chunk is the one asked for).
func (s *Server) ChunkArrived(req uint64, c Chunk, err error) {
	f := s.fetch
	if s.terminated || f == nil || f.req != req {
		return // stale
	}
	if err != nil {
		// The leader re-offers the snapshot when it notices.
		s.fetch = nil
		return
	}
	// The chunk is stored under the position it was asked for, so that this
	// server can serve it in turn.
	c.Pos = f.pos
	f.chunks = append(f.chunks, c)
	if c.Next != nil {
		s.fetchSeq++
		f.req, f.pos, f.deadline = s.fetchSeq, c.Next, s.now+s.cfg.RequestTimeout
		meta := f.msg.Snapshot.Meta
		s.emit(FetchChunk{Req: f.req, From: f.msg.From, Term: meta.Term, Index: meta.Index, Pos: c.Next})
		return
	}
	s.fetch = nil
	m := f.msg
	snap := *m.Snapshot
	snap.Data = encodeChunks(f.chunks)
	m.Snapshot = &snap
	_ = s.node.Step(m)
	s.drive()
}

func (s *Server) expireFetch() {
	if f := s.fetch; f != nil && f.deadline <= s.now {
		s.fetch = nil
	}
}

func encodeChunks(chunks []Chunk) []byte {
	b, err := msgpack.Marshal(chunks)
	if err != nil {
		panic(fmt.Sprintf("ra: encoding chunks cannot fail: %v", err))
	}
	return b
}

func decodeChunks(data []byte) []Chunk {
	var chunks []Chunk
	if err := msgpack.Unmarshal(data, &chunks); err != nil {
		panic(fmt.Sprintf("ra: a snapshot assembled here does not decode: %v", err))
	}
	return chunks
}

// snapshotBytes is the size of a snapshot's data (0 for none).
func snapshotBytes(sn *StoredSnapshot) uint64 {
	if sn == nil {
		return 0
	}
	var n uint64
	for _, c := range sn.Chunks {
		n += uint64(len(c.Data))
	}
	return n
}

package node

import (
	"fmt"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/tables"
)

// Snapshot chunks on the wire (`.proc_raft_snapshot_next_chunk`, SPEC P18):
// a position {table_id, tuple_offset}, the start being {0, 0}; a chunk is
// the encoded SnapshotData, whose next_position is nil after the last one.
// The ra layer names the start "no position"; this file translates.

// fetchChunk calls the leader for the next chunk of the snapshot it offered.
func (m *consensus) fetchChunk(f ra.FetchChunk) {
	addr, ok := m.address(f.From)
	if !ok {
		m.ra.ChunkArrived(f.Req, ra.Chunk{}, fmt.Errorf("address of %d unknown", f.From))
		return
	}
	var pos tables.SnapshotPosition
	if f.Pos == nil {
		m.emit(Note{Event: "snapshot", Detail: fmt.Sprintf("fetching snapshot %d/%d from %d in chunks", f.Term, f.Index, f.From)})
	} else {
		p, err := tables.DecodePosition(f.Pos)
		if err != nil {
			m.ra.ChunkArrived(f.Req, ra.Chunk{}, err)
			return
		}
		pos = p
	}
	req := f.Req
	m.call(addr, api.SnapshotNextChunk{Term: f.Term, Index: f.Index, Position: pos}, func(result any, err *api.Error) {
		m.chunkArrived(req, result, err)
	})
}

func (m *consensus) chunkArrived(fetch uint64, result any, callErr *api.Error) {
	if callErr != nil {
		m.ra.ChunkArrived(fetch, ra.Chunk{}, callErr)
		return
	}
	c, ok := result.(api.ChunkResult)
	if !ok {
		m.ra.ChunkArrived(fetch, ra.Chunk{}, fmt.Errorf("snapshot chunk reply of type %T", result))
		return
	}
	chunk := ra.Chunk{Data: c.Data}
	if c.Next != nil {
		chunk.Next = tables.EncodePosition(*c.Next)
	}
	m.ra.ChunkArrived(fetch, chunk, nil)
}

// serveChunk answers a follower fetching this leader's snapshot.
func (m *consensus) serveChunk(_ string, r api.SnapshotNextChunk, respond responder) {
	var pos []byte
	if r.Position != (tables.SnapshotPosition{}) {
		pos = tables.EncodePosition(r.Position)
	}
	c, err := m.ra.ServeChunk(r.Term, r.Index, pos)
	if err != nil {
		respond(nil, api.Errorf(api.CodeProcLua, "%s: %v", r.Proc(), err))
		return
	}
	res := api.ChunkResult{Data: c.Data}
	if c.Next != nil {
		p, err := tables.DecodePosition(c.Next)
		if err != nil {
			respond(nil, api.Errorf(api.CodeProcLua, "%s: %v", r.Proc(), err))
			return
		}
		res.Next = &p
	}
	m.stats.SnapshotChunksSent++
	respond([]any{res}, nil)
}

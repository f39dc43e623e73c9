package ratest

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/picogo/picogo/core/ra"
)

// LogSM is the test state machine: it appends every command to a list and
// replies with the list's new length. Its snapshots come in chunks of
// ChunkItems items, positioned by item offset, so that transfers take
// several chunks.
type LogSM struct {
	Items []string
}

// ChunkItems is how many items one snapshot chunk holds.
const ChunkItems = 2

// Apply appends each command.
func (sm *LogSM) Apply(cmds []ra.Command) []any {
	out := make([]any, len(cmds))
	for i, c := range cmds {
		sm.Items = append(sm.Items, string(c.Data))
		out[i] = len(sm.Items)
	}
	return out
}

// Snapshot captures the items as they are now.
func (sm *LogSM) Snapshot() ra.Snapshotter {
	return logSnapshot(append([]string(nil), sm.Items...))
}

// Restore replaces the items with the chunks' contents.
func (sm *LogSM) Restore(chunks []ra.Chunk) error {
	var items []string
	for i, c := range chunks {
		if len(c.Pos) != 0 && len(c.Pos) != 8 {
			return fmt.Errorf("chunk %d: bad position", i)
		}
		if len(c.Data) > 0 {
			items = append(items, strings.Split(string(c.Data), "\x00")...)
		}
	}
	sm.Items = items
	return nil
}

func (sm *LogSM) String() string { return "[" + strings.Join(sm.Items, " ") + "]" }

type logSnapshot []string

func (s logSnapshot) Chunk(pos []byte) (ra.Chunk, error) {
	var off uint64
	if len(pos) == 8 {
		off = binary.BigEndian.Uint64(pos)
	} else if len(pos) != 0 {
		return ra.Chunk{}, fmt.Errorf("bad position %x", pos)
	}
	if off > uint64(len(s)) {
		return ra.Chunk{}, fmt.Errorf("position %d beyond %d items", off, len(s))
	}
	end := min(off+ChunkItems, uint64(len(s)))
	c := ra.Chunk{Pos: pos, Data: []byte(strings.Join(s[off:end], "\x00"))}
	if end < uint64(len(s)) {
		c.Next = binary.BigEndian.AppendUint64(nil, end)
	}
	return c, nil
}

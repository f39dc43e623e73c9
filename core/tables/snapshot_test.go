package tables

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tuple"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

// populated returns a store with system rows, 300 kv rows and 50 multi rows.
func populated(t *testing.T) *Store {
	s := newTestStore(t)
	var ds []Dml
	for i := range 300 {
		ds = append(ds, Insert(kvID, 1000-i, fmt.Sprintf("row %d", i), float64(i)/3, []any{i}))
	}
	for i := range 50 {
		ds = append(ds, Insert(multiID, fmt.Sprintf("k%d", i%7), i, map[string]any{"i": i}))
	}
	ds = append(ds, Insert(TablePicoTier, "default", 1, true, 0, 0, false, 3000, false))
	mustApply(t, s, BatchOp(ds...))
	return s
}

// readChunks reads a whole snapshot the way ra does.
func readChunks(t *testing.T, sn ra.Snapshotter) []ra.Chunk {
	t.Helper()
	var out []ra.Chunk
	var pos []byte
	for {
		c, err := sn.Chunk(pos)
		require.NoError(t, err)
		out = append(out, c)
		if c.Next == nil {
			return out
		}
		require.Less(t, len(out), 100000, "snapshot never ends")
		pos = c.Next
	}
}

func TestSnapshotRestoreRoundTrip(t *testing.T) {
	for _, chunkBytes := range []int{1, 64, 1000, 0} {
		t.Run(fmt.Sprint(chunkBytes), func(t *testing.T) {
			src := populated(t)
			src.ChunkBytes = chunkBytes
			chunks := readChunks(t, src.Snapshot())
			if chunkBytes != 0 {
				require.Greater(t, len(chunks), 10)
			} else {
				require.Len(t, chunks, 1) // default 1 MiB
			}

			dst := New()
			createTable(t, dst, schema.TableDef{Name: "gone", Format: []schema.Field{{Name: "a", Type: tuple.TypeString}}, PrimaryKey: []uint32{0}}, 0)
			mustApply(t, dst, DmlOp(Insert(1024, "x")))
			require.NoError(t, dst.Restore(chunks))

			require.Equal(t, src.StateHash(), dst.StateHash())
			require.Equal(t, src.Tables(), dst.Tables())
			require.Equal(t, src.SchemaVersion(), dst.SchemaVersion())
			for _, def := range src.Tables() {
				a, err := src.Scan(def.ID)
				require.NoError(t, err)
				b, err := dst.Scan(def.ID)
				require.NoError(t, err)
				require.Equal(t, a, b, def.Name)
			}
			_, ok := dst.TableByName("gone")
			require.False(t, ok)

			// The restored store works like the original.
			for _, op := range []Op{
				DmlOp(Insert(kvID, 1000, "dup", 1, nil)),
				DmlOp(Update(kvID, []any{999}, []any{"+", "score", 1})),
				PrepareCreateTableOp(schema.TableDef{Name: "later", Format: []schema.Field{{Name: "a", Type: tuple.TypeString}}, PrimaryKey: []uint32{0}}, 0),
				DdlCommitOp(0),
			} {
				require.Equal(t, src.ApplyOp(op), dst.ApplyOp(op))
				require.Equal(t, src.StateHash(), dst.StateHash())
			}
		})
	}
}

func TestSnapshotChunks(t *testing.T) {
	s := populated(t)
	s.ChunkBytes = 100
	chunks := readChunks(t, s.Snapshot())
	require.Greater(t, len(chunks), 10)

	// Expected: every non-empty table's raw rows in (id, pk) order.
	want := map[uint32][][]byte{}
	var order []uint32
	for _, def := range s.Tables() {
		rows, err := s.Scan(def.ID)
		require.NoError(t, err)
		if len(rows) == 0 {
			continue
		}
		order = append(order, def.ID)
		for _, r := range rows {
			want[def.ID] = append(want[def.ID], r.Raw())
		}
	}

	got := map[uint32][][]byte{}
	var seen []uint32
	var prevNext []byte
	for i, c := range chunks {
		if i == 0 {
			require.Nil(t, c.Pos)
		} else {
			require.Equal(t, prevNext, c.Pos)
		}
		var data SnapshotData
		require.NoError(t, unmarshalStrict(c.Data, &data))
		require.Equal(t, s.SchemaVersion(), data.SchemaVersion)
		require.NotEmpty(t, data.SpaceDumps)
		size := 0
		for j, d := range data.SpaceDumps {
			require.NotEmpty(t, d.Tuples, "chunk %d dump %d", i, j)
			if len(seen) == 0 || seen[len(seen)-1] != d.TableID {
				seen = append(seen, d.TableID)
			}
			for _, tup := range d.Tuples {
				got[d.TableID] = append(got[d.TableID], tup)
				size += len(tup)
			}
		}
		// Cut once over the limit: all but the last tuple fit.
		last := data.SpaceDumps[len(data.SpaceDumps)-1]
		require.LessOrEqual(t, size-len(last.Tuples[len(last.Tuples)-1]), s.ChunkBytes)

		if c.Next == nil {
			require.Nil(t, data.NextPosition)
			require.Equal(t, len(chunks)-1, i)
		} else {
			require.NotNil(t, data.NextPosition)
			require.Equal(t, tuple.MustMarshal(data.NextPosition), []byte(c.Next))
			// The position: the last table returned and how many of its
			// tuples have been returned so far.
			require.Equal(t, last.TableID, data.NextPosition.TableID)
			require.EqualValues(t, len(got[last.TableID]), data.NextPosition.TupleOffset)
		}
		prevNext = c.Next
	}
	require.Equal(t, order, seen, "tables in id order, each once")
	require.Equal(t, want, got)
	require.Equal(t, []uint32{TablePicoTable, TablePicoIndex, TablePicoProperty, TablePicoTier, kvID, multiID}, order)
}

func TestSnapshotServedByPosition(t *testing.T) {
	s := populated(t)
	s.ChunkBytes = 50
	sn := s.Snapshot()
	chunks := readChunks(t, sn)
	// Any chunk, any order, any number of times: the same bytes.
	for i := len(chunks) - 1; i >= 0; i-- {
		c, err := sn.Chunk(chunks[i].Pos)
		require.NoError(t, err)
		require.Equal(t, chunks[i], c)
	}
	// A second snapshot of the unchanged store serves the same chunks.
	require.Equal(t, chunks, readChunks(t, s.Snapshot()))

	// A position at the very end of a table continues with the next table.
	rows, _ := s.Scan(TablePicoTable)
	c, err := sn.Chunk(tuple.MustMarshal(SnapshotPosition{TableID: TablePicoTable, TupleOffset: uint64(len(rows))}))
	require.NoError(t, err)
	var data SnapshotData
	require.NoError(t, unmarshalStrict(c.Data, &data))
	require.Equal(t, TablePicoIndex, data.SpaceDumps[0].TableID)

	for name, pos := range map[string][]byte{
		"garbage":        {0xc1},
		"not a position": tuple.MustMarshal([]any{1, 2}),
		"unknown field":  tuple.MustMarshal(map[string]any{"table_id": 512, "tuple_offset": 0, "x": 1}),
		"unknown table":  tuple.MustMarshal(SnapshotPosition{TableID: 9999}),
		"empty table":    tuple.MustMarshal(SnapshotPosition{TableID: TablePicoUser}),
		"beyond":         tuple.MustMarshal(SnapshotPosition{TableID: kvID, TupleOffset: 301}),
	} {
		_, err := sn.Chunk(pos)
		require.Error(t, err, name)
	}
}

func TestSnapshotIsImmutable(t *testing.T) {
	s := populated(t)
	s.ChunkBytes = 200
	sn := s.Snapshot()
	before := readChunks(t, sn)
	hash := s.StateHash()

	mustApply(t, s, BatchOp(
		Insert(kvID, 1, "new", 1, nil),
		Update(kvID, []any{1000}, []any{"=", "name", "changed"}),
		Delete(kvID, 999),
		Replace(multiID, "k0", 0, "replaced"),
	))
	dropTable(t, s, multiID)
	s.ChunkBytes = 10
	require.NotEqual(t, hash, s.StateHash())

	require.Equal(t, before, readChunks(t, sn))
	restored := New()
	require.NoError(t, restored.Restore(before))
	require.Equal(t, hash, restored.StateHash())
}

func TestSnapshotWireShape(t *testing.T) {
	s := New()
	s.ChunkBytes = 1
	c, err := s.Snapshot().Chunk(nil)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, msgpack.Unmarshal(c.Data, &m))
	require.Equal(t, int8(0), m["schema_version"])
	dumps := m["space_dumps"].([]any)
	require.Len(t, dumps, 1)
	dump := dumps[0].(map[string]any)
	require.Equal(t, uint16(TablePicoTable), dump["table_id"])
	require.Len(t, dump["tuples"], 1)
	require.Equal(t, map[string]any{"table_id": uint16(TablePicoTable), "tuple_offset": int8(1)}, m["next_position"])

	var pos map[string]any
	require.NoError(t, msgpack.Unmarshal(c.Next, &pos))
	require.Equal(t, m["next_position"], pos)
}

func TestRestoreErrors(t *testing.T) {
	src := populated(t)
	src.ChunkBytes = 500
	chunks := readChunks(t, src.Snapshot())
	require.Greater(t, len(chunks), 3)

	withData := func(i int, data SnapshotData) []ra.Chunk {
		out := append([]ra.Chunk(nil), chunks...)
		out[i].Data = tuple.MustMarshal(data)
		return out
	}
	first := func() SnapshotData {
		var d SnapshotData
		require.NoError(t, unmarshalStrict(chunks[0].Data, &d))
		return d
	}
	noPicoTable := first()
	noPicoTable.SpaceDumps = noPicoTable.SpaceDumps[1:]
	dupRow := first()
	dupRow.SpaceDumps[0].Tuples = append(dupRow.SpaceDumps[0].Tuples, dupRow.SpaceDumps[0].Tuples[0])
	undefined := first()
	undefined.SpaceDumps = append(undefined.SpaceDumps, SpaceDump{TableID: 7777, Tuples: []msgpack.RawMessage{tuple.MustMarshal([]any{1})}})
	badRow := first()
	badRow.SpaceDumps = append(badRow.SpaceDumps, SpaceDump{TableID: kvID, Tuples: []msgpack.RawMessage{tuple.MustMarshal([]any{"x"})}})

	cases := map[string][]ra.Chunk{
		"none":            nil,
		"missing last":    chunks[:len(chunks)-1],
		"missing first":   chunks[1:],
		"swapped":         append([]ra.Chunk{chunks[0], chunks[2], chunks[1]}, chunks[3:]...),
		"extra":           append(append([]ra.Chunk(nil), chunks...), chunks[len(chunks)-1]),
		"garbage data":    append([]ra.Chunk{{Data: []byte{0xc1}, Next: chunks[0].Next}}, chunks[1:]...),
		"no _pico_table":  withData(0, noPicoTable),
		"duplicate row":   withData(0, dupRow),
		"undefined table": withData(0, undefined),
		"row of bad type": withData(0, badRow),
	}
	for name, cs := range cases {
		dst := newTestStore(t)
		mustApply(t, dst, DmlOp(Insert(kvID, 1, "keep", 1, nil)))
		before := dst.StateHash()
		require.Error(t, dst.Restore(cs), name)
		require.Equal(t, before, dst.StateHash(), name)
	}
}

// Chunks as ra keeps them: stored with msgpack, positions re-encoded by the
// driver on the way (DecodePosition, then EncodePosition).
func TestRestoreFromStoredChunks(t *testing.T) {
	src := populated(t)
	src.ChunkBytes = 256
	sn := src.Snapshot()
	var fetched []ra.Chunk
	var pos []byte
	for {
		c, err := sn.Chunk(pos)
		require.NoError(t, err)
		c.Pos = pos
		fetched = append(fetched, c)
		if c.Next == nil {
			break
		}
		p, err := DecodePosition(c.Next)
		require.NoError(t, err)
		pos = EncodePosition(p)
	}
	stored, err := msgpack.Marshal(ra.StoredSnapshot{Chunks: fetched})
	require.NoError(t, err)
	var back ra.StoredSnapshot
	require.NoError(t, msgpack.Unmarshal(stored, &back))

	dst := New()
	require.NoError(t, dst.Restore(back.Chunks))
	require.Equal(t, src.StateHash(), dst.StateHash())
	// The restored store serves the same snapshot in turn.
	dst.ChunkBytes = src.ChunkBytes
	require.Equal(t, readChunks(t, sn), readChunks(t, dst.Snapshot()))
}

// TestSnapshotDataByHand checks the hand encoder of a chunk's data against
// the reflective one, byte for byte, over shapes a chunk can take and a
// few it cannot (nil lists, empty raw tuples, lengths past each header
// size).
func TestSnapshotDataByHand(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	raw := func() msgpack.RawMessage {
		switch rng.IntN(8) {
		case 0:
			return nil
		case 1:
			return msgpack.RawMessage{}
		default:
			return tuple.MustMarshal([]any{rng.Uint64N(1 << uint(rng.IntN(64))), strings.Repeat("v", rng.IntN(300))})
		}
	}
	counts := []int{0, 1, 15, 16, 300, 65535, 65536}
	for i := range 60 {
		d := SnapshotData{SchemaVersion: rng.Uint64N(1 << uint(rng.IntN(64)))}
		if i%10 != 0 {
			d.SpaceDumps = []SpaceDump{}
		}
		for range rng.IntN(4) {
			dump := SpaceDump{TableID: uint32(rng.Uint64N(1 << uint(rng.IntN(33))))}
			if n := counts[rng.IntN(len(counts))]; n > 0 || rng.IntN(2) == 0 {
				dump.Tuples = make([]msgpack.RawMessage, n)
				for j := range dump.Tuples {
					dump.Tuples[j] = raw()
				}
			}
			d.SpaceDumps = append(d.SpaceDumps, dump)
		}
		if rng.IntN(2) == 0 {
			d.NextPosition = &SnapshotPosition{TableID: uint32(rng.Uint32()), TupleOffset: rng.Uint64N(1 << uint(rng.IntN(64)))}
		}
		want, got := tuple.MustMarshal(d), appendSnapshotData(nil, &d)
		if at := firstDifference(want, got); at >= 0 {
			t.Fatalf("case %d: the bytes differ from %d of %d: want % x, got % x", i, at, len(want),
				want[at:min(at+16, len(want))], got[at:min(at+16, len(got))])
		}
	}
}

// firstDifference is the first index where a and b differ (-1: equal).
func firstDifference(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// BenchmarkSnapshot is a whole snapshot of a table of 100,000 rows, cut
// into chunks and encoded, as a leader takes one on its event loop.
func BenchmarkSnapshot(b *testing.B) {
	s := New()
	for _, op := range []Op{PrepareCreateTableOp(kvDef(), 0), DdlCommitOp(0)} {
		if r := s.ApplyOp(op); r.Err != nil {
			b.Fatal(r.Err)
		}
	}
	for i := 0; i < 100_000; i += 1000 {
		var ds []Dml
		for j := i; j < i+1000; j++ {
			ds = append(ds, Insert(kvID, uint64(j), fmt.Sprintf("name %d", j), float64(j), nil))
		}
		if r := s.ApplyOp(BatchOp(ds...)); r.Err != nil {
			b.Fatal(r.Err)
		}
	}
	for b.Loop() {
		sn := s.Snapshot()
		var pos []byte
		for {
			c, err := sn.Chunk(pos)
			if err != nil {
				b.Fatal(err)
			}
			if c.Next == nil {
				break
			}
			pos = c.Next
		}
	}
}

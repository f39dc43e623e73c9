package tables

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tuple"
	"github.com/picogo/picogo/net/iproto"
	"github.com/vmihailenco/msgpack/v5"
)

// Snapshots, as served by .proc_raft_snapshot_next_chunk: the tuples of
// every table (system tables first, then user tables: id order), each
// table's in primary key order, cut into chunks of about ChunkBytes.
//
// A chunk is addressed by a SnapshotPosition: the id of the last table whose
// tuples the previous chunks returned, and how many of its tuples they
// returned. The first chunk's position is nil. Chunk.Pos and Chunk.Next are
// msgpack SnapshotPositions, Chunk.Data a msgpack SnapshotData whose
// NextPosition equals Next. Tables without rows are left out.

// SnapshotPosition addresses a snapshot chunk.
type SnapshotPosition struct {
	TableID     uint32 `msgpack:"table_id"`
	TupleOffset uint64 `msgpack:"tuple_offset"`
}

// EncodePosition is the msgpack encoding of a position, as in Chunk.Pos
// and Chunk.Next.
func EncodePosition(p SnapshotPosition) []byte { return tuple.MustMarshal(p) }

// DecodePosition decodes a Chunk.Pos or Chunk.Next.
func DecodePosition(b []byte) (SnapshotPosition, error) {
	var p SnapshotPosition
	if err := unmarshalStrict(b, &p); err != nil {
		return SnapshotPosition{}, fmt.Errorf("snapshot position: %w", err)
	}
	return p, nil
}

// SnapshotData is one chunk's contents.
type SnapshotData struct {
	SchemaVersion uint64            `msgpack:"schema_version"`
	SpaceDumps    []SpaceDump       `msgpack:"space_dumps"`
	NextPosition  *SnapshotPosition `msgpack:"next_position"`
}

// SpaceDump is a run of one table's raw tuples.
type SpaceDump struct {
	TableID uint32               `msgpack:"table_id"`
	Tuples  []msgpack.RawMessage `msgpack:"tuples"`
}

// snapshot is an immutable view of the store. Stored tuples are never
// modified in place (writes replace them), so the view shares them.
type snapshot struct {
	schemaVersion uint64
	chunkBytes    int
	tables        []snapTable // tables with rows, in id order
}

type snapTable struct {
	id   uint32
	rows []msgpack.RawMessage
}

// Snapshot captures the store as it is now (ra.StateMachine); later writes
// do not change it. O(rows) once the tables' orders are cached.
func (s *Store) Snapshot() ra.Snapshotter {
	sn := &snapshot{schemaVersion: s.SchemaVersion(), chunkBytes: s.ChunkBytes}
	if sn.chunkBytes <= 0 {
		sn.chunkBytes = DefaultChunkBytes
	}
	for _, id := range s.ids() {
		if rows := s.rawRows(s.tables[id]); len(rows) > 0 {
			sn.tables = append(sn.tables, snapTable{id: id, rows: rows})
		}
	}
	return sn
}

// rawRows is a table's rows' encodings in primary key order (ordered's
// rows): a global table's read straight from the engine, without a slice
// of its tuples first (a loaded leader's every snapshot allocated one).
func (s *Store) rawRows(t *table) []msgpack.RawMessage {
	if !t.inEngine() {
		tups := t.ordered()
		rows := make([]msgpack.RawMessage, len(tups))
		for i, tup := range tups {
			rows[i] = tup.Raw()
		}
		return rows
	}
	n, err := s.eng.Len(t.def.ID)
	if err != nil {
		return nil // not in the engine yet: no rows (as ordered)
	}
	rows := make([]msgpack.RawMessage, 0, n)
	_ = s.eng.Each(t.def.ID, func(tup tuple.Tuple) bool {
		rows = append(rows, tup.Raw())
		return true
	})
	return rows
}

// Chunk returns the chunk at pos (nil: the first one).
func (sn *snapshot) Chunk(pos []byte) (ra.Chunk, error) {
	ti, off, err := sn.start(pos)
	if err != nil {
		return ra.Chunk{}, err
	}
	data := SnapshotData{SchemaVersion: sn.schemaVersion, SpaceDumps: []SpaceDump{}}
	size, count := 0, 0
	for ti < len(sn.tables) {
		t := sn.tables[ti]
		dump := SpaceDump{TableID: t.id}
		from := off
		for off < len(t.rows) && size <= sn.chunkBytes {
			size += len(t.rows[off])
			count++
			off++
		}
		if off > from {
			dump.Tuples = t.rows[from:off:off] // the view's own: read, not copied
		}
		data.SpaceDumps = append(data.SpaceDumps, dump)
		if off < len(t.rows) {
			data.NextPosition = &SnapshotPosition{TableID: t.id, TupleOffset: uint64(off)}
			break
		}
		ti, off = ti+1, 0
		if size > sn.chunkBytes {
			if ti < len(sn.tables) {
				data.NextPosition = &SnapshotPosition{TableID: t.id, TupleOffset: uint64(len(t.rows))}
			}
			break
		}
	}
	// The tuples are raw msgpack, copied as they are; around them, a few
	// bytes per tuple and per table.
	c := ra.Chunk{Pos: pos, Data: appendSnapshotData(make([]byte, 0, size+5*count+64*len(data.SpaceDumps)+64), &data)}
	if data.NextPosition != nil {
		c.Next = EncodePosition(*data.NextPosition)
	}
	return c, nil
}

// appendSnapshotData appends d's msgpack encoding, byte for byte what the
// reflective encoder makes of it (TestSnapshotDataByHand): a snapshot of a
// loaded table is millions of raw tuples, and reflection went over each
// one on the event loop (a loaded leader's snapshots were 7% of its CPU).
func appendSnapshotData(b []byte, d *SnapshotData) []byte {
	b = iproto.AppendMapLen(b, 3)
	b = iproto.AppendUint(iproto.AppendStr(b, "schema_version"), d.SchemaVersion)
	b = iproto.AppendStr(b, "space_dumps")
	if d.SpaceDumps == nil {
		b = iproto.AppendNil(b)
	} else {
		b = iproto.AppendArrayLen(b, len(d.SpaceDumps))
	}
	for _, dump := range d.SpaceDumps {
		b = iproto.AppendMapLen(b, 2)
		b = iproto.AppendUint(iproto.AppendStr(b, "table_id"), uint64(dump.TableID))
		b = iproto.AppendStr(b, "tuples")
		if dump.Tuples == nil {
			b = iproto.AppendNil(b)
			continue
		}
		b = iproto.AppendArrayLen(b, len(dump.Tuples))
		for _, raw := range dump.Tuples {
			if raw == nil {
				b = iproto.AppendNil(b) // as a nil msgpack.RawMessage encodes
				continue
			}
			b = append(b, raw...)
		}
	}
	b = iproto.AppendStr(b, "next_position")
	if p := d.NextPosition; p != nil {
		b = iproto.AppendMapLen(b, 2)
		b = iproto.AppendUint(iproto.AppendStr(b, "table_id"), uint64(p.TableID))
		b = iproto.AppendUint(iproto.AppendStr(b, "tuple_offset"), p.TupleOffset)
	} else {
		b = iproto.AppendNil(b)
	}
	return b
}

// start resolves a position to a table index and an offset in it.
func (sn *snapshot) start(pos []byte) (int, int, error) {
	if pos == nil {
		return 0, 0, nil
	}
	p, err := DecodePosition(pos)
	if err != nil {
		return 0, 0, err
	}
	ti, found := slices.BinarySearchFunc(sn.tables, p.TableID, func(t snapTable, id uint32) int {
		return int(int64(t.id) - int64(id))
	})
	if !found {
		return 0, 0, fmt.Errorf("snapshot position: table %d has no tuples in this snapshot", p.TableID)
	}
	n := uint64(len(sn.tables[ti].rows))
	if p.TupleOffset > n {
		return 0, 0, fmt.Errorf("snapshot position: offset %d beyond the %d tuples of table %d", p.TupleOffset, n, p.TableID)
	}
	if p.TupleOffset == n {
		return ti + 1, 0, nil
	}
	return ti, int(p.TupleOffset), nil
}

// Restore replaces the whole store with a snapshot's chunks, in order
// (ra.StateMachine). It collects every tuple first, rebuilds the table
// definitions from the _pico_table and _pico_index rows, then places and
// checks every row. On error the store is unchanged.
func (s *Store) Restore(chunks []ra.Chunk) error {
	rows := map[uint32][]msgpack.RawMessage{}
	var expect []byte // the position the next chunk must have
	for i, c := range chunks {
		if i > 0 && len(expect) == 0 {
			return fmt.Errorf("restore: chunk %d follows the last chunk", i)
		}
		if !samePosition(c.Pos, expect) {
			return fmt.Errorf("restore: chunk %d has position %x, want %x", i, c.Pos, expect)
		}
		var data SnapshotData
		if err := unmarshalStrict(c.Data, &data); err != nil {
			return fmt.Errorf("restore: chunk %d: %w", i, err)
		}
		if data.NextPosition == nil && len(c.Next) != 0 || data.NextPosition != nil && !samePosition(c.Next, EncodePosition(*data.NextPosition)) {
			return fmt.Errorf("restore: chunk %d: next position disagrees with its data", i)
		}
		for _, d := range data.SpaceDumps {
			rows[d.TableID] = append(rows[d.TableID], d.Tuples...)
		}
		expect = c.Next
	}
	if len(chunks) == 0 || len(expect) != 0 {
		return fmt.Errorf("restore: the snapshot is incomplete")
	}
	next, err := rebuild(rows)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	s.tables, s.system, s.byName, s.eng = next.tables, next.system, next.byName, next.eng
	s.resets++ // every Stamp taken before is stale
	return nil
}

// samePosition compares encoded positions by value (nil: the start).
func samePosition(a, b []byte) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == 0 && len(b) == 0
	}
	pa, errA := DecodePosition(a)
	pb, errB := DecodePosition(b)
	return errA == nil && errB == nil && pa == pb
}

// rebuild makes a store from every table's raw tuples.
func rebuild(rows map[uint32][]msgpack.RawMessage) (*Store, error) {
	defs, err := defsFromRows(rows[TablePicoTable], rows[TablePicoIndex])
	if err != nil {
		return nil, err
	}
	s := &Store{}
	s.reset()
	for _, def := range defs {
		if _, dup := s.byName[def.Name]; dup {
			return nil, fmt.Errorf("two tables are named %q", def.Name)
		}
		s.addTable(def)
	}
	ids := make([]uint32, 0, len(rows))
	for id := range rows {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	// The system tables first (they define what the engine holds), then
	// the global user tables, in the engine.
	for _, engine := range []bool{false, true} {
		if engine {
			if e := s.fillEngine(); e != nil {
				return nil, e
			}
		}
		for _, id := range ids {
			t, ok := s.tables[id]
			if !ok {
				return nil, fmt.Errorf("tuples of table %d, which _pico_table does not define", id)
			}
			if t.inEngine() != engine {
				continue
			}
			if engine {
				if err := s.restoreEngineRows(t, rows[id]); err != nil {
					return nil, fmt.Errorf("table %s: %w", t.def.Name, err)
				}
				continue
			}
			for _, raw := range rows[id] {
				if err := s.restoreRow(t, raw); err != nil {
					return nil, fmt.Errorf("table %s: %w", t.def.Name, err)
				}
			}
		}
	}
	return s, nil
}

// restoreEngineRows checks and places the rows of a table in the engine,
// in bulk (storage's Load: a million one-by-one inserts were most of a
// restart's time), with the error inserting them in order would give.
func (s *Store) restoreEngineRows(t *table, raws []msgpack.RawMessage) error {
	tups := make([]tuple.Tuple, 0, len(raws))
	var bad *tuple.Error
	for _, raw := range raws {
		tup, e := newRow(&t.def, raw)
		if e != nil {
			bad = e
			break
		}
		tups = append(tups, tup)
	}
	if _, e := s.eng.Load(t.def.ID, tups); e != nil {
		return e
	}
	if bad != nil {
		return bad
	}
	return nil
}

// restoreRow checks and places one row of a system table.
func (s *Store) restoreRow(t *table, raw []byte) error {
	tup, e := newRow(&t.def, raw)
	if e != nil {
		return e
	}
	key, _ := t.def.RowKey(tup.Values())
	if _, dup := t.rows[string(key)]; dup {
		return fmt.Errorf("duplicate key in tuple %s", tup)
	}
	t.rows[string(key)] = tup
	return nil
}

// fillEngine creates, in a rebuilt store's engine, the global user tables
// and their secondary indexes as the committed DDL has them: all but the
// table or the index whose create is pending.
func (s *Store) fillEngine() *tuple.Error {
	ddl, _, pending := s.PendingSchemaChange()
	for _, id := range s.ids() {
		t := s.tables[id]
		switch {
		case !t.inEngine():
		case pending && ddl.Kind == DdlCreateTable && ddl.TableOf() == id:
		case pending && ddl.Kind == DdlCreateIndex && ddl.Index != nil && ddl.Index.TableID == id:
			if e := s.createInEngine(t, ddl.Index.ID); e != nil {
				return e
			}
		default:
			if e := s.createInEngine(t, 0); e != nil {
				return e
			}
		}
	}
	return nil
}

// defsFromRows parses _pico_table rows and completes them with the primary
// keys of their _pico_index rows.
func defsFromRows(tableRows, indexRows []msgpack.RawMessage) ([]schema.TableDef, error) {
	if len(tableRows) == 0 {
		return nil, fmt.Errorf("the snapshot has no _pico_table rows")
	}
	pks := map[uint32]schema.IndexDef{}
	for _, raw := range indexRows {
		tup, err := tuple.New(raw)
		if err != nil {
			return nil, fmt.Errorf("_pico_index: %w", err)
		}
		x, err := IndexDefFrom(tup.Values())
		if err != nil {
			return nil, err
		}
		if x.ID == 0 {
			pks[x.TableID] = x
		}
	}
	defs := make([]schema.TableDef, 0, len(tableRows))
	for _, raw := range tableRows {
		tup, err := tuple.New(raw)
		if err != nil {
			return nil, fmt.Errorf("_pico_table: %w", err)
		}
		def, err := TableDefFrom(tup.Values())
		if err != nil {
			return nil, err
		}
		x, ok := pks[def.ID]
		if !ok {
			return nil, fmt.Errorf("table %s has no primary index in _pico_index", def.Name)
		}
		if def.PrimaryKey, err = x.PrimaryKeyOf(&def); err != nil {
			return nil, err
		}
		if e := validateKept(&def); e != nil {
			return nil, e
		}
		defs = append(defs, def)
	}
	for _, id := range []uint32{TablePicoTable, TablePicoIndex, TablePicoProperty} {
		if !slices.ContainsFunc(defs, func(d schema.TableDef) bool { return d.ID == id }) {
			return nil, fmt.Errorf("the snapshot does not define system table %d", id)
		}
	}
	return defs, nil
}

// unmarshalStrict decodes exactly one msgpack value into v, refusing
// unknown fields and trailing bytes.
func unmarshalStrict(b []byte, v any) error {
	r := bytes.NewReader(b)
	d := msgpack.NewDecoder(r)
	d.DisallowUnknownFields(true)
	if err := d.Decode(v); err != nil {
		return err
	}
	if r.Len() != 0 {
		return fmt.Errorf("%d trailing bytes", r.Len())
	}
	return nil
}

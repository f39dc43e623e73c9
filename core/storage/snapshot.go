package storage

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tuple"
)

// Snapshot format.
//
// A snapshot is one msgpack array:
//
//	["picogo storage snapshot", 1, [table...]]
//	table = [def, [index...], [row...]]
//	def   = [id, name, distribution, [[field, type, is_nullable]...], [pk field positions],
//	         schema_version, operable, engine, owner, description]
//	index = [table_id, id, name, type, {opts}, [[field, type, is_nullable]...], operable,
//	         schema_version]
//
// Tables come in id order, a table's indexes in id order (the primary
// first), its rows in primary key order, each row its raw msgpack
// verbatim. Definitions are encoded by tuple.Marshal (map keys sorted), so
// the same engine state always gives the same bytes.
const (
	snapshotMagic   = "picogo storage snapshot"
	snapshotVersion = 1
)

// Snapshot encodes every table: its definition, its indexes' definitions
// and its rows in primary key order. Engines with the same tables, indexes
// and rows give the same bytes, whatever calls built them. Restore reads
// it back.
func (e *Engine) Snapshot() []byte {
	ids := e.Tables()
	size := 64
	for _, id := range ids {
		size += int(e.spaces[id].bytes) + 256
	}
	var buf bytes.Buffer
	buf.Grow(size)
	enc := msgpack.NewEncoder(&buf)
	enc.UseCompactInts(true)
	// A bytes.Buffer does not fail; the definitions were validated when
	// they were created, so they encode.
	_ = enc.EncodeArrayLen(3)
	_ = enc.EncodeString(snapshotMagic)
	_ = enc.EncodeUint(snapshotVersion)
	_ = enc.EncodeArrayLen(len(ids))
	for _, id := range ids {
		s := e.spaces[id]
		_ = enc.EncodeArrayLen(3)
		buf.Write(encodeTableDef(s.def))
		_ = enc.EncodeArrayLen(len(s.indexes))
		for _, x := range s.indexes {
			buf.Write(encodeIndexDef(x.def))
		}
		_ = enc.EncodeArrayLen(s.pk().tree.Len())
		s.pk().tree.Scan(func(en entry) bool {
			buf.Write(en.tup.Raw())
			return true
		})
	}
	return buf.Bytes()
}

func encodeParts(parts []schema.IndexPart) []any {
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = []any{p.Field, string(p.Type), p.Nullable}
	}
	return out
}

func encodeTableDef(d schema.TableDef) []byte {
	format := make([]any, len(d.Format))
	for i, f := range d.Format {
		format[i] = []any{f.Name, string(f.Type), f.Nullable}
	}
	pk := make([]any, len(d.PrimaryKey))
	for i, p := range d.PrimaryKey {
		pk[i] = p
	}
	return tuple.MustMarshal([]any{d.ID, d.Name, d.Distribution, format, pk,
		d.SchemaVersion, d.Operable, d.Engine, d.Owner, d.Description})
}

func encodeIndexDef(x schema.IndexDef) []byte {
	opts := x.Opts
	if opts == nil {
		opts = map[string]any{}
	}
	return tuple.MustMarshal([]any{x.TableID, x.ID, x.Name, x.Type, opts, encodeParts(x.Parts),
		x.Operable, x.SchemaVersion})
}

// Restore rebuilds an engine from a snapshot. Every row is checked as an
// insert checks it (the format, unique keys) and the order of tables,
// indexes and rows must be the snapshot's, so that Snapshot of the result
// gives the same bytes. Anything else (truncated, corrupt or trailing
// bytes) is an error.
func Restore(b []byte) (*Engine, error) {
	r := bytes.NewReader(b)
	d := msgpack.NewDecoder(r)
	bad := func(format string, args ...any) error {
		return fmt.Errorf("storage snapshot: "+format, args...)
	}
	if n, err := d.DecodeArrayLen(); err != nil || n != 3 {
		return nil, bad("not a snapshot (an array of 3 elements): %v", orCount(err, n))
	}
	if magic, err := d.DecodeString(); err != nil || magic != snapshotMagic {
		return nil, bad("not a snapshot (no magic string): %v", orValue(err, magic))
	}
	if v, err := d.DecodeUint64(); err != nil || v != snapshotVersion {
		return nil, bad("unknown version: %v", orValue(err, v))
	}
	tables, err := d.DecodeArrayLen()
	if err != nil || tables < 0 {
		return nil, bad("tables: not an array: %v", orValue(err, "nil"))
	}
	e := New()
	var last uint32
	for i := range tables {
		if n, err := d.DecodeArrayLen(); err != nil || n != 3 {
			return nil, bad("table #%d: want [def, indexes, rows]: %v", i+1, orCount(err, n))
		}
		def, err := decodeTableDef(d)
		if err != nil {
			return nil, bad("table #%d: %v", i+1, err)
		}
		if i > 0 && def.ID <= last {
			return nil, bad("table %d comes after table %d", def.ID, last)
		}
		last = def.ID
		if err := e.CreateTable(def); err != nil {
			return nil, bad("table %d: %v", def.ID, err)
		}
		s := e.spaces[def.ID]
		if err := restoreIndexes(d, e, s); err != nil {
			return nil, bad("table %d: %v", def.ID, err)
		}
		if err := restoreRows(d, r, b, s); err != nil {
			return nil, bad("table %d: %v", def.ID, err)
		}
	}
	if r.Len() != 0 {
		return nil, bad("%d trailing bytes", r.Len())
	}
	return e, nil
}

func orCount(err error, n int) any {
	if err != nil {
		return err
	}
	return fmt.Sprintf("%d elements", n)
}

func orValue(err error, v any) any {
	if err != nil {
		return err
	}
	return v
}

// restoreIndexes reads a table's index definitions: the primary one, which
// must be the one CreateTable made, then the secondary ones in id order,
// created over the (still empty) table.
func restoreIndexes(d *msgpack.Decoder, e *Engine, s *space) error {
	n, err := d.DecodeArrayLen()
	if err != nil {
		return fmt.Errorf("indexes: %w", err)
	}
	if n < 1 {
		return fmt.Errorf("indexes: %d, want the primary one at least", n)
	}
	for i := range n {
		raw, err := d.DecodeRaw()
		if err != nil {
			return fmt.Errorf("index #%d: %w", i+1, err)
		}
		if i == 0 {
			if !bytes.Equal(raw, encodeIndexDef(s.pk().def)) {
				return fmt.Errorf("index #1 is not the primary index of the table")
			}
			continue
		}
		def, err := decodeIndexDef(raw)
		if err != nil {
			return fmt.Errorf("index #%d: %w", i+1, err)
		}
		if prev := s.indexes[len(s.indexes)-1].def.ID; def.ID <= prev {
			return fmt.Errorf("index %d comes after index %d", def.ID, prev)
		}
		if def.TableID != s.def.ID {
			return fmt.Errorf("index %d belongs to table %d", def.ID, def.TableID)
		}
		if err := e.CreateIndex(def); err != nil {
			return fmt.Errorf("index %d: %w", def.ID, err)
		}
	}
	return nil
}

// restoreRows reads a table's rows, which must be in strictly ascending
// primary key order, and builds the indexes over them in bulk: the primary
// tree by appending (tidwall/btree's Load), each secondary one from its
// entries sorted once. Inserting a million rows one by one was most of a
// restart (a search and a shift per row and index, docs/BENCHMARKS.md).
// The result and the error are what inserting the rows in order would
// give: the first row, in snapshot order, that fails its format, is out of
// order or duplicates a unique key.
//
// A tuple's raw bytes are a slice of b, not a copy: the snapshot is
// read-only, and one block is cheaper to keep than a million small ones.
func restoreRows(d *msgpack.Decoder, r *bytes.Reader, b []byte, s *space) error {
	n, err := d.DecodeArrayLen()
	if err != nil || n < 0 {
		return fmt.Errorf("rows: not an array: %v", orValue(err, "nil"))
	}
	pk := s.pk()
	rows := make([]entry, 0, min(n, r.Len())) // the primary entries
	var bad error                             // the first row that fails alone
	for i := range n {
		at := len(b) - r.Len()
		if err := d.Skip(); err != nil {
			bad = fmt.Errorf("row #%d: %w", i+1, err)
			break
		}
		raw := b[at : len(b)-r.Len() : len(b)-r.Len()]
		t, err := tuple.New(raw)
		if err != nil {
			bad = fmt.Errorf("row #%d: %w", i+1, err)
			break
		}
		if err := s.validate(t.Values()); err != nil {
			bad = fmt.Errorf("row #%d %s: %w", i+1, t, err)
			break
		}
		e := pk.entryOf(t, nil)
		if i > 0 && tuple.CompareValues(rows[i-1].key, e.key) >= 0 {
			bad = fmt.Errorf("row #%d %s is not after %s in primary key order", i+1, t, rows[i-1].tup)
			break
		}
		rows = append(rows, e)
	}
	// Inserting in order, the rows before the first bad one would have
	// been stored unless one of them duplicates a unique secondary key.
	orders, dupRow, dupErr := s.secondaryOrders(rows)
	if dupErr != nil {
		return fmt.Errorf("row #%d: %w", dupRow+1, dupErr)
	}
	if bad != nil {
		return bad
	}
	s.build(rows, orders)
	return nil
}

// secondaryOrders sorts rows (primary entries in strictly ascending key
// order) for each secondary index of s (see sortedBy) and checks them as
// inserting them in order would: if one duplicates a unique key, it
// returns the first row whose insert would fail, and the error.
func (s *space) secondaryOrders(rows []entry) ([][]int32, int, *tuple.Error) {
	orders := make([][]int32, len(s.indexes))
	dupRow, dupIndex := len(rows), 0
	for xi, x := range s.indexes[1:] {
		order := sortedBy(x, rows)
		orders[xi+1] = order
		if !x.unique {
			continue
		}
		// In a run of equal keys, the second row (in primary key order)
		// is the first whose insert fails, against the first.
		for j := 1; j < len(order); j++ {
			a, c := order[j-1], order[j]
			k := x.keyOf(rows[c].tup.Values())
			if int(c) < dupRow && !(x.nullable && hasNull(k)) &&
				tuple.CompareValues(x.keyOf(rows[a].tup.Values()), k) == 0 {
				dupRow, dupIndex = int(c), xi+1
			}
		}
	}
	if dupRow == len(rows) {
		return orders, 0, nil
	}
	x, t := s.indexes[dupIndex], rows[dupRow].tup
	dup, _ := firstWithKey(x, rows, orders[dupIndex], x.keyOf(t.Values()))
	return nil, dupRow, duplicate(s, x, dup, t)
}

// build fills the empty indexes of s with rows, in the orders
// secondaryOrders gave.
func (s *space) build(rows []entry, orders [][]int32) {
	pk := s.pk()
	for _, e := range rows {
		pk.tree.Load(e)
		s.bytes += int64(len(e.tup.Raw()))
	}
	for xi, x := range s.indexes[1:] {
		for _, i := range orders[xi+1] {
			x.tree.Load(x.entryOf(rows[i].tup, pk))
		}
	}
}

// Load fills an empty table with tuples as inserting them one by one, in
// order, would — the same rows, or the same first failure: its position
// and Insert's error — but on error it stores nothing. Tuples in strictly
// ascending primary key order (a snapshot's) are loaded in bulk (see
// restoreRows); others are inserted one by one.
func (e *Engine) Load(table uint32, tuples []tuple.Tuple) (int, *tuple.Error) {
	s, err := e.space(table)
	if err != nil {
		return 0, err
	}
	pk := s.pk()
	rows := make([]entry, 0, len(tuples))
	bad, badErr := len(tuples), (*tuple.Error)(nil)
	sorted := pk.tree.Len() == 0
	for i, t := range tuples {
		if err := s.validate(t.Values()); err != nil {
			bad, badErr = i, err
			break
		}
		en := pk.entryOf(t, nil)
		if i > 0 && tuple.CompareValues(rows[i-1].key, en.key) >= 0 {
			sorted = false
			break
		}
		rows = append(rows, en)
	}
	if !sorted {
		for i, t := range tuples {
			if _, err := e.Insert(table, t); err != nil {
				for _, t := range tuples[:i] {
					_, _ = e.Delete(table, 0, pk.keyOf(t.Values()))
				}
				return i, err
			}
		}
		return 0, nil
	}
	orders, dupRow, dupErr := s.secondaryOrders(rows)
	if dupErr != nil {
		return dupRow, dupErr
	}
	if badErr != nil {
		return bad, badErr
	}
	s.build(rows, orders)
	return 0, nil
}

// sortedBy is the rows' positions in the order of secondary index x: by
// x's own key, then by primary key — which, the rows being in primary key
// order, is their position.
func sortedBy(x *index, rows []entry) []int32 {
	order := make([]int32, len(rows))
	if u, ok := unsignedKeys(x, rows); ok {
		// One unsigned part (a bucket_id): the keys as numbers, sorted
		// without an interface in sight (Compare through the []any keys
		// took seconds for a million rows).
		type pair struct {
			k uint64
			i int32
		}
		ps := make([]pair, len(rows))
		for i, k := range u {
			ps[i] = pair{k, int32(i)}
		}
		slices.SortFunc(ps, func(a, b pair) int {
			if a.k != b.k {
				return cmp.Compare(a.k, b.k)
			}
			return cmp.Compare(a.i, b.i)
		})
		for i, p := range ps {
			order[i] = p.i
		}
		return order
	}
	keys := make([][]any, len(rows))
	for i := range rows {
		keys[i] = x.keyOf(rows[i].tup.Values())
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		if c := tuple.CompareValues(keys[a], keys[b]); c != 0 {
			return c
		}
		return int(a) - int(b)
	})
	return order
}

// unsignedKeys is the rows' keys in x when x has one part and every row
// has a non-negative integer there (which Compare orders as numbers).
func unsignedKeys(x *index, rows []entry) ([]uint64, bool) {
	if len(x.parts) != 1 {
		return nil, false
	}
	f := x.parts[0].field
	u := make([]uint64, len(rows))
	for i := range rows {
		var ok bool
		if u[i], ok = tuple.AsUint64(rows[i].tup.Field(f)); !ok {
			return nil, false
		}
	}
	return u, true
}

// firstWithKey is the first row, in x's order, whose key in x is key.
func firstWithKey(x *index, rows []entry, order []int32, key []any) (tuple.Tuple, bool) {
	for _, i := range order {
		if tuple.CompareValues(x.keyOf(rows[i].tup.Values()), key) == 0 {
			return rows[i].tup, true
		}
	}
	return tuple.Tuple{}, false
}

// decodeTableDef reads a table definition (see the snapshot format).
func decodeTableDef(d *msgpack.Decoder) (schema.TableDef, error) {
	raw, err := d.DecodeRaw()
	if err != nil {
		return schema.TableDef{}, err
	}
	v, terr := tuple.DecodeArray(raw)
	if terr != nil {
		return schema.TableDef{}, terr
	}
	f := fieldReader{what: "table definition", vals: v}
	if len(v) != 10 {
		return schema.TableDef{}, fmt.Errorf("table definition of %d fields, want 10", len(v))
	}
	def := schema.TableDef{
		ID:           f.uint32(0),
		Name:         f.string(1),
		Distribution: f.string(2),
	}
	for i, fv := range f.array(3) {
		p := fieldReader{what: fmt.Sprintf("field #%d", i+1), vals: asArray(fv)}
		if p.err = p.count(3); p.err == nil {
			def.Format = append(def.Format, schema.Field{Name: p.string(0), Type: tuple.FieldType(p.string(1)), Nullable: p.bool(2)})
		}
		if p.err != nil {
			return schema.TableDef{}, p.err
		}
	}
	for i, pv := range f.array(4) {
		u, ok := tuple.AsUint64(pv)
		if !ok || u > 1<<32-1 {
			return schema.TableDef{}, fmt.Errorf("primary key part #%d: not a field position", i+1)
		}
		def.PrimaryKey = append(def.PrimaryKey, uint32(u))
	}
	def.SchemaVersion = f.uint64(5)
	def.Operable = f.bool(6)
	def.Engine = f.string(7)
	def.Owner = f.uint32(8)
	def.Description = f.string(9)
	return def, f.err
}

// decodeIndexDef reads an index definition (see the snapshot format).
func decodeIndexDef(raw []byte) (schema.IndexDef, error) {
	v, terr := tuple.DecodeArray(raw)
	if terr != nil {
		return schema.IndexDef{}, terr
	}
	if len(v) != 8 {
		return schema.IndexDef{}, fmt.Errorf("index definition of %d fields, want 8", len(v))
	}
	f := fieldReader{what: "index definition", vals: v}
	def := schema.IndexDef{TableID: f.uint32(0), ID: f.uint32(1), Name: f.string(2), Type: f.string(3)}
	opts, ok := v[4].(map[string]any)
	if !ok {
		return schema.IndexDef{}, fmt.Errorf("index definition: opts are %s, not a map", tuple.TypeName(v[4]))
	}
	def.Opts = opts
	for i, pv := range f.array(5) {
		p := fieldReader{what: fmt.Sprintf("part #%d", i+1), vals: asArray(pv)}
		if p.err = p.count(3); p.err == nil {
			def.Parts = append(def.Parts, schema.IndexPart{Field: p.string(0), Type: tuple.FieldType(p.string(1)), Nullable: p.bool(2)})
		}
		if p.err != nil {
			return schema.IndexDef{}, p.err
		}
	}
	def.Operable = f.bool(6)
	def.SchemaVersion = f.uint64(7)
	return def, f.err
}

func asArray(v any) []any {
	a, _ := v.([]any)
	return a
}

// fieldReader reads typed fields of a decoded array, keeping the first
// error.
type fieldReader struct {
	what string
	vals []any
	err  error
}

func (f *fieldReader) count(n int) error {
	if len(f.vals) != n {
		return fmt.Errorf("%s: %d fields, want %d", f.what, len(f.vals), n)
	}
	return nil
}

func (f *fieldReader) fail(i int, want string) {
	if f.err == nil {
		f.err = fmt.Errorf("%s: field %d is %s, want %s", f.what, i, tuple.TypeName(f.vals[i]), want)
	}
}

func (f *fieldReader) uint64(i int) uint64 {
	u, ok := tuple.AsUint64(f.vals[i])
	if !ok {
		f.fail(i, "unsigned")
	}
	return u
}

func (f *fieldReader) uint32(i int) uint32 {
	u := f.uint64(i)
	if u > 1<<32-1 {
		f.fail(i, "a 32-bit unsigned")
	}
	return uint32(u)
}

func (f *fieldReader) string(i int) string {
	s, ok := f.vals[i].(string)
	if !ok {
		f.fail(i, "string")
	}
	return s
}

func (f *fieldReader) bool(i int) bool {
	b, ok := f.vals[i].(bool)
	if !ok {
		f.fail(i, "boolean")
	}
	return b
}

func (f *fieldReader) array(i int) []any {
	a, ok := f.vals[i].([]any)
	if !ok {
		f.fail(i, "array")
	}
	return a
}

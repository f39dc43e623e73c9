package storage

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tuple"
)

// The typed table "every" (id 7): a field of every type, the nullable ones
// also absent or nil, with indexes over several of them.
const everyID = 7

func everyTable() schema.TableDef {
	return schema.TableDef{
		ID: everyID, Name: "every", Distribution: schema.DistributionGlobal, Engine: schema.EngineMemtx,
		SchemaVersion: 3, Operable: true, Owner: 32, Description: "all the types",
		Format: []schema.Field{
			{Name: "id", Type: tuple.TypeUnsigned},
			{Name: "i", Type: tuple.TypeInteger},
			{Name: "s", Type: tuple.TypeString},
			{Name: "d", Type: tuple.TypeDouble, Nullable: true},
			{Name: "n", Type: tuple.TypeNumber, Nullable: true},
			{Name: "dec", Type: tuple.TypeDecimal, Nullable: true},
			{Name: "b", Type: tuple.TypeBoolean, Nullable: true},
			{Name: "bin", Type: tuple.TypeVarbinary, Nullable: true},
			{Name: "u", Type: tuple.TypeUUID, Nullable: true},
			{Name: "dt", Type: tuple.TypeDatetime, Nullable: true},
			{Name: "sc", Type: tuple.TypeScalar, Nullable: true},
			{Name: "m", Type: tuple.TypeMap, Nullable: true},
			{Name: "a", Type: tuple.TypeArray, Nullable: true},
			{Name: "any", Type: tuple.TypeAny, Nullable: true},
		},
		PrimaryKey: []uint32{0},
	}
}

func everyIndexes() []schema.IndexDef {
	return []schema.IndexDef{
		{TableID: everyID, ID: 1, Name: "i_s", Type: "tree", Operable: true, SchemaVersion: 3,
			Parts: []schema.IndexPart{{Field: "i"}, {Field: "s"}}},
		{TableID: everyID, ID: 2, Name: "dec_u", Opts: map[string]any{"unique": false, "hint": true},
			Parts: []schema.IndexPart{{Field: "dec", Nullable: true}, {Field: "u", Nullable: true}}},
		{TableID: everyID, ID: 4, Name: "dt", Opts: map[string]any{"unique": true},
			Parts: []schema.IndexPart{{Field: "dt", Nullable: true}}},
		{TableID: everyID, ID: 5, Name: "bin_sc", Opts: map[string]any{"unique": false},
			Parts: []schema.IndexPart{{Field: "bin", Nullable: true}, {Field: "sc", Type: tuple.TypeScalar, Nullable: true}, {Field: "b", Nullable: true}}},
		{TableID: everyID, ID: 6, Name: "n_int", Opts: map[string]any{"unique": false},
			Parts: []schema.IndexPart{{Field: "n", Type: tuple.TypeNumber, Nullable: true}}},
	}
}

func everyRows() [][]any {
	u1 := uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
	u2 := uuid.MustParse("00000000-0000-0000-0000-000000000002")
	return [][]any{
		{3, -7, "c", 1.5, tuple.MustDecimal("2.75"), tuple.MustDecimal("-0.001"), true, []byte{0, 0xff}, u1,
			tuple.Datetime{Epoch: 1700000000, Nsec: 123456789, TzOffset: 180}, "scalar",
			map[string]any{"z": 1, "a": []any{nil}}, []any{1, "x"}, map[string]any{}},
		{1, 1 << 40, "a"},
		{2, -1, "b", nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil},
		{10, 0, "z", 0.0, uint64(1<<64 - 1), tuple.MustDecimal("12345678901234567890.123456789"), false, []byte{},
			u2, tuple.Datetime{Epoch: -5}, u2, map[string]any{"k": "v"}, []any{}, tuple.MustDecimal("1")},
		{5, -7, "d", -0.5, -3, tuple.MustDecimal("-0.001"), nil, []byte{0, 0xff}, u1, nil, 2.5, nil, nil, "extra", "beyond the format"},
	}
}

// snapshotEngine builds several tables: "t" (testEngine's), "every", an
// empty one and one with a multi-part primary key.
func snapshotEngine(t *testing.T) *Engine {
	t.Helper()
	e := testEngine(t)
	for _, r := range [][]any{{1, "a", "x", 10}, {2, "b", nil, 1.5}, {3, "c", "x", nil}, {4, "d"}} {
		_, err := e.Insert(tID, tuple.FromValues(r))
		require.Nil(t, err)
	}
	require.Nil(t, e.CreateTable(everyTable()))
	for _, x := range everyIndexes() {
		require.Nil(t, e.CreateIndex(x))
	}
	for _, r := range everyRows() {
		_, err := e.Insert(everyID, tuple.FromValues(r))
		require.Nil(t, err, "%v", r)
	}
	require.Nil(t, e.CreateTable(schema.TableDef{ID: 3, Name: "empty", Distribution: schema.DistributionSharded,
		Format: []schema.Field{{Name: "k", Type: tuple.TypeString}}, PrimaryKey: []uint32{0}}))
	require.Nil(t, e.CreateTable(schema.TableDef{ID: 1000, Name: "multi", Distribution: schema.DistributionSharded,
		Format:     []schema.Field{{Name: "a", Type: tuple.TypeString}, {Name: "b", Type: tuple.TypeInteger}, {Name: "c", Type: tuple.TypeAny, Nullable: true}},
		PrimaryKey: []uint32{1, 0}}))
	for _, r := range [][]any{{"x", 2, 1}, {"y", 1, nil}, {"x", 1, []any{}}, {"a", 2, "q"}} {
		_, err := e.Insert(1000, tuple.FromValues(r))
		require.Nil(t, err)
	}
	return e
}

// sameEngines checks that two engines have the same tables, indexes, rows
// in every index order, and memory.
func sameEngines(t *testing.T, want, got *Engine) {
	t.Helper()
	require.Equal(t, want.Tables(), got.Tables())
	for _, id := range want.Tables() {
		wd, _ := want.Table(id)
		gd, _ := got.Table(id)
		require.Equal(t, wd, gd)
		wx, err := want.Indexes(id)
		require.Nil(t, err)
		gx, err := got.Indexes(id)
		require.Nil(t, err)
		require.Equal(t, len(wx), len(gx))
		for i := range wx {
			require.Equal(t, encodeIndexDef(wx[i]), encodeIndexDef(gx[i]))
			require.Equal(t, wx[i].IsUnique(), gx[i].IsUnique())
			for _, it := range []Iterator{IterALL, IterREQ} {
				w, err := want.Select(id, wx[i].ID, nil, it, 0, NoLimit)
				require.Nil(t, err)
				g, err := got.Select(id, wx[i].ID, nil, it, 0, NoLimit)
				require.Nil(t, err)
				require.Equal(t, rows(w), rows(g), "table %d index %d %s", id, wx[i].ID, it)
				for j := range w {
					require.Equal(t, w[j].Raw(), g[j].Raw())
				}
			}
		}
		wm, _ := want.Memory(id)
		gm, _ := got.Memory(id)
		require.Equal(t, wm, gm)
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	e := snapshotEngine(t)
	snap := e.Snapshot()
	require.Equal(t, snap, e.Snapshot(), "deterministic")
	r, err := Restore(snap)
	require.NoError(t, err)
	require.Equal(t, snap, r.Snapshot())
	sameEngines(t, e, r)

	// Rows come in primary key order.
	got, terr := r.Select(1000, 0, nil, IterALL, 0, NoLimit)
	require.Nil(t, terr)
	require.Equal(t, []string{`["x", 1, []]`, `["y", 1, null]`, `["a", 2, "q"]`, `["x", 2, 1]`}, rows(got))
	n, terr := r.Len(everyID)
	require.Nil(t, terr)
	require.Equal(t, len(everyRows()), n)

	// The restored indexes are live: unique ones refuse duplicates,
	// secondary lookups work, and writes go on as on the original.
	_, terr = r.Insert(tID, tup(9, "a"))
	code(t, tuple.CodeTupleFound, terr)
	_, terr = r.Insert(everyID, tuple.FromValues([]any{11, -7, "c"}))
	code(t, tuple.CodeTupleFound, terr)
	_, terr = r.Insert(everyID, tuple.FromValues([]any{11, 0, "q", nil, nil, nil, nil, nil, nil, tuple.Datetime{Epoch: -5}}))
	code(t, tuple.CodeTupleFound, terr)
	got, terr = r.Select(everyID, 2, []any{tuple.MustDecimal("-0.001")}, IterEQ, 0, NoLimit)
	require.Nil(t, terr)
	require.Len(t, got, 2)
	for _, x := range []*Engine{e, r} {
		_, _, terr = x.Exec(Op{Kind: OpUpdate, Table: everyID, Index: 1, Key: []any{-1, "b"}, Ops: [][]any{{"=", "s", "bb"}}})
		require.Nil(t, terr)
		_, _, terr = x.Exec(Op{Kind: OpDelete, Table: 1000, Key: []any{1, "y"}})
		require.Nil(t, terr)
	}
	require.Equal(t, e.Snapshot(), r.Snapshot())
	require.NotEqual(t, snap, r.Snapshot())

	// An empty engine.
	empty := New().Snapshot()
	r, err = Restore(empty)
	require.NoError(t, err)
	require.Empty(t, r.Tables())
	require.Equal(t, empty, r.Snapshot())
}

// The same state reached by other calls, in another order, gives the same
// bytes; any difference in state gives other bytes.
func TestSnapshotDeterministic(t *testing.T) {
	want := snapshotEngine(t).Snapshot()

	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 5 {
		e := New()
		// Tables in another order; "every" gets its rows before its
		// indexes, in a shuffled order, with detours through other rows.
		require.Nil(t, e.CreateTable(schema.TableDef{ID: 1000, Name: "multi", Distribution: schema.DistributionSharded,
			Format:     []schema.Field{{Name: "a", Type: tuple.TypeString}, {Name: "b", Type: tuple.TypeInteger}, {Name: "c", Type: tuple.TypeAny, Nullable: true}},
			PrimaryKey: []uint32{1, 0}}))
		require.Nil(t, e.CreateTable(everyTable()))
		rs := everyRows()
		rng.Shuffle(len(rs), func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
		for _, r := range rs {
			_, err := e.Replace(everyID, tuple.FromValues(append([]any{r[0]}, r[1:3]...)))
			require.Nil(t, err)
			_, err = e.Replace(everyID, tuple.FromValues(r))
			require.Nil(t, err)
		}
		_, err := e.Insert(everyID, tuple.FromValues([]any{99, 1, "gone"}))
		require.Nil(t, err)
		_, err = e.Delete(everyID, 0, []any{99})
		require.Nil(t, err)
		xs := everyIndexes()
		rng.Shuffle(len(xs), func(i, j int) { xs[i], xs[j] = xs[j], xs[i] })
		for _, x := range xs {
			require.Nil(t, e.CreateIndex(x))
		}
		require.Nil(t, e.CreateTable(schema.TableDef{ID: 3, Name: "empty", Distribution: schema.DistributionSharded,
			Format: []schema.Field{{Name: "k", Type: tuple.TypeString}}, PrimaryKey: []uint32{0}}))
		_, err = e.Insert(3, tup("temporary"))
		require.Nil(t, err)
		_, err = e.Delete(3, 0, []any{"temporary"})
		require.Nil(t, err)
		mrows := [][]any{{"x", 2, 1}, {"y", 1, nil}, {"x", 1, []any{}}, {"a", 2, "q"}}
		rng.Shuffle(len(mrows), func(i, j int) { mrows[i], mrows[j] = mrows[j], mrows[i] })
		for _, r := range mrows {
			_, err := e.Insert(1000, tuple.FromValues(r))
			require.Nil(t, err)
		}
		// testEngine's table last, its indexes made by hand.
		tmp := testEngine(t)
		def, _ := tmp.Table(tID)
		require.Nil(t, e.CreateTable(def))
		for _, r := range [][]any{{4, "d"}, {2, "b", nil, 1.5}, {3, "c", "x", nil}, {1, "a", "x", 10}} {
			_, err := e.Insert(tID, tuple.FromValues(r))
			require.Nil(t, err)
		}
		xdefs, _ := tmp.Indexes(tID)
		for _, x := range xdefs[1:] {
			require.Nil(t, e.CreateIndex(x))
		}
		require.Equal(t, want, e.Snapshot(), "round %d", round)
	}

	// Any change of state changes the bytes.
	for name, change := range map[string]func(e *Engine){
		"a row":          func(e *Engine) { _, _ = e.Replace(tID, tup(4, "d", "y")) },
		"a deleted row":  func(e *Engine) { _, _ = e.Delete(tID, 0, []any{4}) },
		"an index":       func(e *Engine) { _ = e.DropIndex(everyID, 6) },
		"an empty table": func(e *Engine) { _ = e.DropTable(3) },
		"index options": func(e *Engine) {
			_ = e.DropIndex(everyID, 6)
			x := everyIndexes()[4]
			x.Opts["hint"] = false
			require.Nil(t, e.CreateIndex(x))
		},
	} {
		e := snapshotEngine(t)
		change(e)
		require.NotEqual(t, want, e.Snapshot(), name)
	}
}

// snapshotBytes assembles a snapshot by hand from raw parts.
func snapshotBytes(t *testing.T, magic string, version int, tables ...[]any) []byte {
	t.Helper()
	b, err := msgpack.Marshal([]any{magic, version, tables})
	require.NoError(t, err)
	return b
}

func raw(b []byte) msgpack.RawMessage { return msgpack.RawMessage(b) }

func rawRows(rs ...[]any) []any {
	out := make([]any, len(rs))
	for i, r := range rs {
		out[i] = raw(tuple.MustMarshal(r))
	}
	return out
}

func TestRestoreRejects(t *testing.T) {
	def := schema.TableDef{ID: 4, Name: "k", Distribution: schema.DistributionSharded,
		Format:     []schema.Field{{Name: "id", Type: tuple.TypeUnsigned}, {Name: "v", Type: tuple.TypeString, Nullable: true}},
		PrimaryKey: []uint32{0}}
	pk := raw(encodeIndexDef(def.PkIndex()))
	vIdx := raw(encodeIndexDef(schema.IndexDef{TableID: 4, ID: 1, Name: "v", Opts: map[string]any{},
		Parts: []schema.IndexPart{{Field: "v", Nullable: true}}}))
	table := func(d schema.TableDef, indexes []any, rows []any) []any {
		return []any{raw(encodeTableDef(d)), indexes, rows}
	}
	def5 := def
	def5.ID, def5.Name = 5, "k5"
	// The hand-made snapshot is the engine's own.
	good := snapshotBytes(t, snapshotMagic, snapshotVersion, table(def, []any{pk, vIdx}, rawRows([]any{1, "a"}, []any{2}, []any{3, nil})))
	e, err := Restore(good)
	require.NoError(t, err)
	require.Equal(t, good, e.Snapshot())

	badDef := def
	badDef.Format = append(badDef.Format, schema.Field{Name: "x", Type: "nonsense"})
	otherPk := def
	otherPk.Name = "renamed"
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"trailing bytes", append(append([]byte{}, good...), 0xc0), "1 trailing bytes"},
		{"wrong magic", snapshotBytes(t, "another snapshot", snapshotVersion), "no magic string"},
		{"wrong version", snapshotBytes(t, snapshotMagic, 2), "unknown version: 2"},
		{"rows out of order", snapshotBytes(t, snapshotMagic, 1, table(def, []any{pk}, rawRows([]any{2}, []any{1}))), "row #2 [1] is not after [2]"},
		{"duplicate pk", snapshotBytes(t, snapshotMagic, 1, table(def, []any{pk}, rawRows([]any{1}, []any{1, "a"}))), "row #2 [1, \"a\"] is not after [1]"},
		{"duplicate unique key", snapshotBytes(t, snapshotMagic, 1, table(def, []any{pk, vIdx}, rawRows([]any{1, "a"}, []any{2, "a"}))), "box error 3: Duplicate key exists in unique index \"v\""},
		{"row not of format", snapshotBytes(t, snapshotMagic, 1, table(def, []any{pk}, rawRows([]any{"1"}))), "box error 23"},
		{"row missing a field", snapshotBytes(t, snapshotMagic, 1, table(def, []any{pk}, rawRows([]any{}))), "box error 39"},
		{"row not an array", snapshotBytes(t, snapshotMagic, 1, table(def, []any{pk}, []any{1})), "box error 22"},
		{"tables out of order", snapshotBytes(t, snapshotMagic, 1, table(def5, []any{raw(encodeIndexDef(def5.PkIndex()))}, []any{}), table(def, []any{pk}, []any{})), "table 4 comes after table 5"},
		{"duplicate table", snapshotBytes(t, snapshotMagic, 1, table(def, []any{pk}, []any{}), table(def, []any{pk}, []any{})), "table 4 comes after table 4"},
		{"invalid table def", snapshotBytes(t, snapshotMagic, 1, table(badDef, []any{pk}, nil)), "box error 9"},
		{"no primary index", snapshotBytes(t, snapshotMagic, 1, table(def, []any{}, nil)), "want the primary one"},
		{"another primary", snapshotBytes(t, snapshotMagic, 1, table(def, []any{raw(encodeIndexDef(otherPk.PkIndex()))}, nil)), "index #1 is not the primary index"},
		{"secondary twice", snapshotBytes(t, snapshotMagic, 1, table(def, []any{pk, vIdx, vIdx}, nil)), "index 1 comes after index 1"},
		{"secondary of another", snapshotBytes(t, snapshotMagic, 1, table(def, []any{pk, raw(encodeIndexDef(schema.IndexDef{TableID: 5, ID: 1, Name: "v", Parts: []schema.IndexPart{{Field: "v", Nullable: true}}}))}, nil)), "index 1 belongs to table 5"},
		{"invalid secondary", snapshotBytes(t, snapshotMagic, 1, table(def, []any{pk, raw(encodeIndexDef(schema.IndexDef{TableID: 4, ID: 1, Name: "v", Parts: []schema.IndexPart{{Field: "nope"}}}))}, nil)), "box error 14"},
		{"table of 2", snapshotBytes(t, snapshotMagic, 1, []any{raw(encodeTableDef(def)), []any{pk}}), "want [def, indexes, rows]: 2 elements"},
		{"def not an array", snapshotBytes(t, snapshotMagic, 1, []any{"def", []any{pk}, nil}), "box error 22"},
		{"def too short", snapshotBytes(t, snapshotMagic, 1, []any{[]any{4, "k"}, []any{pk}, nil}), "table definition of 2 fields"},
		{"nil tables", func() []byte { b, _ := msgpack.Marshal([]any{snapshotMagic, 1, nil}); return b }(), "tables: not an array"},
		{"nil rows", snapshotBytes(t, snapshotMagic, 1, []any{raw(encodeTableDef(def)), []any{pk}, nil}), "rows: not an array"},
		{"not a snapshot", []byte{0x01}, "not a snapshot"},
		{"empty", []byte{}, "EOF"},
	} {
		_, err := Restore(tc.b)
		require.ErrorContains(t, err, tc.want, tc.name)
	}
	// The well-formed tables above restore.
	_, err = Restore(snapshotBytes(t, snapshotMagic, 1, table(def, []any{pk}, []any{}), table(def5, []any{raw(encodeIndexDef(def5.PkIndex()))}, []any{})))
	require.NoError(t, err)
}

// Every truncation of a snapshot, and many corruptions, are errors, never
// panics; a corruption that still decodes is a snapshot of what it
// restores.
func TestRestoreCorrupt(t *testing.T) {
	snap := snapshotEngine(t).Snapshot()
	for n := range len(snap) {
		_, err := Restore(snap[:n])
		require.Error(t, err, "truncated to %d of %d bytes", n, len(snap))
	}
	rng := rand.New(rand.NewPCG(7, 7))
	restored := 0
	for i := range 3000 {
		b := append([]byte{}, snap...)
		for range 1 + rng.IntN(3) {
			pos := rng.IntN(len(b))
			switch rng.IntN(3) {
			case 0:
				b[pos] = byte(rng.IntN(256))
			case 1:
				b[pos] = []byte{0x00, 0xc0, 0x90, 0xdc, 0xdd, 0xdb, 0xc6, 0xff, 0x7f, 0xc7, 0xd8}[rng.IntN(11)]
			default:
				b = append(b[:pos], b[pos+1:]...)
			}
		}
		e, err := func() (e *Engine, err error) {
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("panic: %v", p)
					require.FailNow(t, "Restore panicked", "corruption %d: %v", i, p)
				}
			}()
			return Restore(b)
		}()
		if err != nil {
			continue
		}
		restored++
		again, err := Restore(e.Snapshot())
		require.NoError(t, err, "corruption %d", i)
		require.Equal(t, e.Snapshot(), again.Snapshot())
	}
	t.Logf("%d of 3000 corruptions restored", restored)
}

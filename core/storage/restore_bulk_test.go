package storage

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tuple"
)

// TestRestoreIsInsertingInOrder: Restore builds the indexes in bulk, and
// must give what inserting the rows one by one, in snapshot order, gives:
// the same contents in every index, or the same first failing row and
// error (a row out of primary key order, a duplicate unique key, a row not
// of the format). Load likewise, in any order, or stores nothing.
func TestRestoreIsInsertingInOrder(t *testing.T) {
	def := schema.TableDef{ID: 4, Name: "k", Distribution: schema.DistributionSharded,
		Format: []schema.Field{{Name: "id", Type: tuple.TypeUnsigned}, {Name: "a", Type: tuple.TypeUnsigned},
			{Name: "b", Type: tuple.TypeString, Nullable: true}},
		PrimaryKey: []uint32{0}}
	indexes := []schema.IndexDef{
		{TableID: 4, ID: 1, Name: "a", Opts: map[string]any{"unique": false}, Parts: []schema.IndexPart{{Field: "a"}}},
		{TableID: 4, ID: 2, Name: "ub", Opts: map[string]any{}, Parts: []schema.IndexPart{{Field: "b", Nullable: true}}},
		{TableID: 4, ID: 3, Name: "ua", Opts: map[string]any{}, Parts: []schema.IndexPart{{Field: "a"}, {Field: "id"}}},
	}
	rng := rand.New(rand.NewPCG(3, 4))
	failed := 0
	for c := range 400 {
		n := rng.IntN(60)
		rows := []any{}
		var tuples [][]any
		id := uint64(0)
		for range n {
			id += 1 + uint64(rng.IntN(3))
			r := []any{id, uint64(rng.IntN(5))}
			switch rng.IntN(4) {
			case 0:
			case 1:
				r = append(r, nil)
			default:
				r = append(r, fmt.Sprint("s", rng.IntN(4*n+1)))
			}
			if rng.IntN(200) == 0 { // out of order, or not of the format
				r[0] = []any{id - 2, "x"}[rng.IntN(2)]
			}
			tuples = append(tuples, r)
		}
		for _, r := range tuples {
			rows = append(rows, raw(tuple.MustMarshal(r)))
		}
		idx := []any{raw(encodeIndexDef(def.PkIndex()))}
		for _, x := range indexes {
			idx = append(idx, raw(encodeIndexDef(x)))
		}
		got, gotErr := Restore(snapshotBytes(t, snapshotMagic, snapshotVersion, []any{raw(encodeTableDef(def)), idx, rows}))

		want := New()
		require.Nil(t, want.CreateTable(def))
		for _, x := range indexes {
			require.Nil(t, want.CreateIndex(x))
		}
		var wantErr error
		for i, r := range tuples {
			tup := tuple.FromValues(r)
			if i > 0 && tuple.CompareValues(tuples[i-1][:1], r[:1]) >= 0 {
				wantErr = fmt.Errorf("row #%d %s is not after %s in primary key order", i+1, tup, tuple.FromValues(tuples[i-1]))
				break
			}
			if _, err := want.Insert(4, tup); err != nil {
				wantErr = fmt.Errorf("row #%d: %w", i+1, err)
				if err.Code != tuple.CodeTupleFound {
					wantErr = fmt.Errorf("row #%d %s: %w", i+1, tup, err)
				}
				break
			}
		}
		// Load: the same as inserting one by one (any order), or nothing.
		ins, load := New(), New()
		for _, e := range []*Engine{ins, load} {
			require.Nil(t, e.CreateTable(def))
			for _, x := range indexes {
				require.Nil(t, e.CreateIndex(x))
			}
		}
		var tups []tuple.Tuple
		for _, r := range tuples {
			tups = append(tups, tuple.FromValues(r))
		}
		if rng.IntN(4) == 0 && len(tups) > 1 {
			i := rng.IntN(len(tups) - 1)
			tups[i], tups[i+1] = tups[i+1], tups[i]
		}
		insAt, insErr := -1, (*tuple.Error)(nil)
		for i, tup := range tups {
			if _, err := ins.Insert(4, tup); err != nil {
				insAt, insErr = i, err
				break
			}
		}
		at, err := load.Load(4, tups)
		if insErr != nil {
			require.Equal(t, insErr, err, "case %d", c)
			require.Equal(t, insAt, at, "case %d", c)
			rows, _ := load.Select(4, 0, nil, IterALL, 0, 1<<30)
			require.Empty(t, rows, "case %d: a failed Load stores nothing", c)
		} else {
			require.Nil(t, err, "case %d", c)
			for x := uint32(0); x <= 3; x++ {
				w, _ := ins.Select(4, x, nil, IterALL, 0, 1<<30)
				g, _ := load.Select(4, x, nil, IterALL, 0, 1<<30)
				require.Equal(t, w, g, "case %d, index %d", c, x)
			}
		}

		if wantErr != nil {
			failed++
			require.EqualError(t, gotErr, "storage snapshot: table 4: "+wantErr.Error(), "case %d", c)
			continue
		}
		require.NoError(t, gotErr, "case %d", c)
		for x := uint32(0); x <= 3; x++ {
			w, err := want.Select(4, x, nil, IterALL, 0, 1<<30)
			require.Nil(t, err)
			g, err := got.Select(4, x, nil, IterALL, 0, 1<<30)
			require.Nil(t, err)
			require.Equal(t, w, g, "case %d, index %d", c, x)
		}
		require.Equal(t, want.MemoryAll(), got.MemoryAll())
	}
	require.Greater(t, failed, 20)
	require.Less(t, failed, 380)
}

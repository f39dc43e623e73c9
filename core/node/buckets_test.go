package node

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/governor"
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/sharding"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
)

// bucketSolo is a solo instance, writable master of its replicaset, with a
// sharded table of its tier; it returns the table, the tier and the
// replicaset.
func bucketSolo(t *testing.T) (*solo, schema.TableDef, string, string) {
	s := newSolo(t)
	top, err := s.n.Tables().ReadTopology()
	require.NoError(t, err)
	self, ok := top.Instance(s.n.identity.InstanceID)
	require.True(t, ok)
	def := schema.TableDef{Name: "moved", Distribution: schema.DistributionSharded, Engine: schema.EngineMemtx,
		Format:      []schema.Field{{Name: "id", Type: tuple.TypeUnsigned}, {Name: "value", Type: tuple.TypeString}},
		PrimaryKey:  []uint32{0},
		ShardingKey: []string{"id"}, Tier: self.Tier}
	_, ok = s.expect(t, "prepare", api.Cas{ClusterID: "c1", Predicate: s.pred(), Op: tables.PrepareCreateTableOp(def, 0), AsUser: 1}, 0)
	require.True(t, ok)
	_, ok = s.expect(t, "commit", api.Cas{ClusterID: "c1", Predicate: s.pred(), Op: tables.DdlCommitOp(0), AsUser: 1}, 0)
	require.True(t, ok)
	d, ok := s.n.Tables().TableByName("moved")
	require.True(t, ok)
	_, ok = s.expect(t, "replication", api.Replication{IsMaster: true}, 0)
	require.True(t, ok)
	return s, *d, self.Tier, self.ReplicasetID
}

// setBuckets makes ranges the tier's _pico_bucket rows.
func setBuckets(t *testing.T, s *solo, ranges ...tables.BucketRange) {
	t.Helper()
	top, err := s.n.Tables().ReadTopology()
	require.NoError(t, err)
	var ops []tables.Dml
	for _, b := range top.Buckets {
		ops = append(ops, tables.Delete(tables.TablePicoBucket, b.Key()...))
	}
	for _, b := range ranges {
		ops = append(ops, tables.Replace(tables.TablePicoBucket, b.Tuple()...))
	}
	_, ok := s.expect(t, "buckets", api.Cas{ClusterID: "c1", Predicate: s.pred(), Op: tables.BatchOp(ops...), AsUser: 1}, 0)
	require.True(t, ok)
}

// row is a row of the table in bucket b.
func row(def schema.TableDef, id, b uint64) []any {
	vals := []any{id, strings.Repeat("v", 1000)}
	pos := def.BucketIDPosition()
	return append(vals[:pos:pos], append([]any{b}, vals[pos:]...)...)
}

func TestBucketMoveProcedures(t *testing.T) {
	s, def, tier, rs := bucketSolo(t)
	at := func() (uint64, uint64) {
		st := s.n.Status()
		term, _ := s.n.Term(st.Applied)
		return term, st.Applied
	}
	export := func(first, last, after uint64) Reply {
		term, index := at()
		return s.do(api.BucketExport{Tier: tier, First: first, Last: last, After: after, Term: term, Index: index, Timeout: time.Second})
	}
	count := func() int {
		n, err := s.n.Member().Engine().Count(def.ID, 0, nil, 2 /* ALL */)
		require.Nil(t, err)
		return n
	}
	range_ := func(first, last uint64, owner, state, dest, garbage string) tables.BucketRange {
		return tables.BucketRange{Tier: tier, First: first, Last: last, ReplicasetID: owner, State: state,
			Destination: dest, Garbage: garbage}
	}
	rest := range_(11, 3000, "elsewhere", tables.BucketActive, "", "")

	// Buckets 1-10 are coming here: rows are imported, though not owned.
	setBuckets(t, s, range_(1, 10, "elsewhere", tables.BucketSending, rs, ""), rest)
	requireCode(t, export(1, 10, 0), api.CodeProcLua) // not sent from here
	var rows []api.BucketRow
	for id := uint64(1); id <= 300; id++ {
		rows = append(rows, api.BucketRow{Table: def.ID, Tuple: row(def, id, 1+id%10)})
	}
	term, index := at()
	imp := api.BucketImport{Tier: tier, First: 1, Last: 10, Rows: rows, Term: term, Index: index, Timeout: time.Second}
	_, ok := s.expect(t, "import", imp, 0)
	require.True(t, ok)
	require.Equal(t, 300, count())
	_, ok = s.expect(t, "import again", imp, 0)
	require.True(t, ok)
	require.Equal(t, 300, count(), "an import replaces")
	bad := imp
	bad.Rows = []api.BucketRow{{Table: def.ID, Tuple: row(def, 99, 11)}}
	s.expect(t, "a row outside the range", bad, api.CodeIllegalParams)
	requireCode(t, s.do(api.BucketImport{Tier: tier, First: 1, Last: 9, Rows: rows, Term: term, Index: index, Timeout: time.Second}),
		api.CodeProcLua) // not one range

	// Buckets 1-10 leave from here: pages of about 64 KiB of whole
	// buckets (30 rows of 1 KB each), bucket by bucket.
	setBuckets(t, s, range_(1, 10, rs, tables.BucketSending, "elsewhere", ""), rest)
	pos := def.BucketIDPosition()
	var nexts []uint64
	got, prev, after := 0, uint64(0), uint64(0)
	for {
		r := export(1, 10, after)
		require.Nil(t, r.Err)
		page, err := api.BucketPageFrom(r.Values)
		require.NoError(t, err)
		for _, x := range page.Rows {
			require.Equal(t, def.ID, x.Table)
			b, _ := tuple.AsUint64(x.Tuple[pos])
			require.GreaterOrEqual(t, b, prev, "by bucket")
			require.Greater(t, b, after)
			prev = b
		}
		got += len(page.Rows)
		nexts = append(nexts, page.Next)
		if page.Next == 0 {
			break
		}
		after = page.Next
	}
	require.Equal(t, 300, got)
	require.Equal(t, []uint64{3, 6, 9, 0}, nexts, "three buckets pass 64 KiB")

	var r Reply
	// The wrong history is refused.
	term, index = at()
	requireCode(t, s.do(api.BucketExport{Tier: tier, First: 1, Last: 10, Term: term + 1, Index: index, Timeout: time.Second}),
		api.CodeEntryTermMis)

	// Moved away: the rows here are garbage, and are deleted.
	del := func() Reply {
		term, index := at()
		return s.do(api.BucketDelete{Tier: tier, First: 1, Last: 10, Term: term, Index: index, Timeout: time.Second})
	}
	requireCode(t, del(), api.CodeProcLua) // still owned here
	setBuckets(t, s, range_(1, 10, "elsewhere", tables.BucketActive, "", rs), rest)
	requireCode(t, export(1, 10, 0), api.CodeProcLua)
	r = del()
	require.Nil(t, r.Err)
	require.Zero(t, count(), "every row of buckets 1-10 deleted")
}

// The governor's executor copies a sending range page by page, then flips
// it: here the source is this instance and the destination a replicaset
// elsewhere that takes every import.
func TestMoveBucketsCopiesThenFlips(t *testing.T) {
	s, def, tier, rs := bucketSolo(t)
	setBuckets(t, s, tables.BucketRange{Tier: tier, First: 1, Last: 3000, ReplicasetID: rs, State: tables.BucketActive})
	// 30 rows in each of buckets 1-10: ids whose key hashes there (the
	// storage checks a row's bucket_id is its key's).
	perBucket := map[uint64]int{}
	for id, n := uint64(1), 0; n < 300; id++ {
		b, err := sharding.BucketID([]any{id}, tables.DefaultBucketCount)
		require.NoError(t, err)
		if b > 10 || perBucket[b] == 30 {
			continue
		}
		n++
		perBucket[b]++
		_, ok := s.expect(t, "replace", api.Replace{Table: def.ID, Tuple: row(def, id, b)}, 0)
		require.True(t, ok)
	}
	sending := tables.BucketRange{Tier: tier, First: 1, Last: 10, ReplicasetID: rs, State: tables.BucketSending, Destination: "r2"}
	setBuckets(t, s, sending, tables.BucketRange{Tier: tier, First: 11, Last: 3000, ReplicasetID: rs, State: tables.BucketActive})

	var imports []int
	s.elsewhere = func(c OutCall) bool {
		imp, ok := c.Request.(api.BucketImport)
		if !ok || c.To != "i2" {
			return false
		}
		require.Equal(t, sending.First, imp.First)
		require.NotZero(t, imp.Index, "the import waits for the plan's index")
		imports = append(imports, len(imp.Rows))
		s.n.CallDone(c.ID, nil, nil)
		return true
	}
	st := s.n.ra.Status()
	s.n.governor.gov = governorState{leading: true, term: st.Term, busy: true, unreachable: map[string]int{},
		lastHeard: map[uint64]int{}, offlining: map[string]bool{}}
	flipped := tables.BucketRange{Tier: tier, First: 1, Last: 10, ReplicasetID: "r2", State: tables.BucketActive, Garbage: rs}
	a := governor.MoveBuckets{Tier: tier, Range: sending,
		Export: governor.RPC{InstanceID: s.n.identity.InstanceID, RaftID: st.ID, Address: "i1",
			Call: api.BucketExport{Tier: tier, First: 1, Last: 10}},
		Import: governor.RPC{InstanceID: "elsewhere", RaftID: 99, Address: "i2",
			Call: api.BucketImport{Tier: tier, First: 1, Last: 10}},
		Flip: governor.CaS{Ops: []tables.Dml{tables.Replace(tables.TablePicoBucket, flipped.Tuple()...)}}}
	finished := false
	s.n.governor.moveBuckets(a, st, func(err *api.Error) {
		require.Nil(t, err)
		finished = true
	})
	s.n.collect() // as the node's entry points do after an event
	s.settle()
	require.True(t, finished, "imports %v", imports)
	require.Equal(t, []int{90, 90, 90, 30}, imports, "pages of whole buckets, about 64 KiB each")
	top, err := s.n.Tables().ReadTopology()
	require.NoError(t, err)
	require.Equal(t, flipped, top.Buckets[0], "flipped once copied")
}

// A new master deletes the rows of buckets its replicaset neither owns nor
// receives — garbage whose collect a failover lost — and keeps the others.
func TestSweepStrayOnANewMaster(t *testing.T) {
	s, def, tier, rs := bucketSolo(t)
	setBuckets(t, s, tables.BucketRange{Tier: tier, First: 1, Last: 3000, ReplicasetID: rs, State: tables.BucketActive})
	ids := map[uint64]uint64{} // id -> bucket
	for id := uint64(1); len(ids) < 40; id++ {
		b, err := sharding.BucketID([]any{id}, tables.DefaultBucketCount)
		require.NoError(t, err)
		ids[id] = b
		_, ok := s.expect(t, "replace", api.Replace{Table: def.ID, Tuple: row(def, id, b)}, 0)
		require.True(t, ok)
	}
	// Buckets 1-1000 are another's now (a move whose collect was lost),
	// 1001-2000 are being received here, 2001-3000 owned here.
	setBuckets(t, s,
		tables.BucketRange{Tier: tier, First: 1, Last: 1000, ReplicasetID: "r9", State: tables.BucketActive},
		tables.BucketRange{Tier: tier, First: 1001, Last: 2000, ReplicasetID: "r9", State: tables.BucketSending, Destination: rs},
		tables.BucketRange{Tier: tier, First: 2001, Last: 3000, ReplicasetID: rs, State: tables.BucketActive})
	s.n.buckets.sweepStray()
	s.n.collect()
	s.settle()
	for id, b := range ids {
		_, found, err := s.n.Member().Engine().Get(def.ID, 0, []any{id})
		require.Nil(t, err)
		require.Equal(t, b > 1000, found, "row %d of bucket %d", id, b)
	}
}

// A tuple too short to hold bucket_id is the engine's to refuse (a format
// error), not a reason for the node to fall over.
func TestAShortTupleIsRefused(t *testing.T) {
	s, def, tier, rs := bucketSolo(t)
	setBuckets(t, s, tables.BucketRange{Tier: tier, First: 1, Last: 3000, ReplicasetID: rs, State: tables.BucketActive})
	s.expect(t, "a tuple of one field", api.Insert{Table: def.ID, Tuple: []any{uint64(1)}}, tuple.CodeFieldMissing)
}

// A select shows only the rows of buckets this replicaset serves; its
// offset and limit count those only, across the engine's pages.
func TestSelectCountsOnlyVisibleRows(t *testing.T) {
	s, def, tier, rs := bucketSolo(t)
	setBuckets(t, s, tables.BucketRange{Tier: tier, First: 1, Last: 3000, ReplicasetID: rs, State: tables.BucketActive})
	var visible []uint64
	for id := uint64(1); id <= 2500; id++ {
		b, err := sharding.BucketID([]any{id}, tables.DefaultBucketCount)
		require.NoError(t, err)
		_, ok := s.expect(t, "replace", api.Replace{Table: def.ID, Tuple: []any{id, b, "v"}}, 0)
		require.True(t, ok)
		if b > 1500 {
			visible = append(visible, id)
		}
	}
	setBuckets(t, s,
		tables.BucketRange{Tier: tier, First: 1, Last: 1500, ReplicasetID: "r9", State: tables.BucketActive},
		tables.BucketRange{Tier: tier, First: 1501, Last: 3000, ReplicasetID: rs, State: tables.BucketActive})
	for _, tc := range []struct{ offset, limit uint32 }{{0, 0}, {100, 600}, {0, 1}, {uint32(len(visible)) - 3, 10}} {
		r, ok := s.expect(t, "select", api.Select{Table: def.ID, Iterator: api.IterALL, Offset: tc.offset, Limit: tc.limit}, 0)
		require.True(t, ok)
		want := visible[tc.offset:]
		if tc.limit > 0 && int(tc.limit) < len(want) {
			want = want[:tc.limit]
		}
		var got []uint64
		for _, row := range r.Values {
			id, _ := tuple.AsUint64(row.([]any)[0])
			got = append(got, id)
		}
		require.Equal(t, want, got, "offset %d limit %d", tc.offset, tc.limit)
	}
}

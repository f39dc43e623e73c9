package tables

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tuple"
)

// addTier inserts a _pico_tier row.
func addTier(t *testing.T, s *Store, name string, buckets uint64) {
	t.Helper()
	tier := Tier{Name: name, ReplicationFactor: 1, CanVote: true, BucketCount: buckets}
	mustApply(t, s, DmlOp(Insert(TablePicoTier, tier.Tuple()...)))
}

// shardedDef: kv (id unsigned pk, name, score, tags) sharded by name.
func shardedDef(name string) schema.TableDef {
	def := kvDef()
	def.Name = name
	def.Distribution = schema.DistributionSharded
	def.ShardingKey = []string{"name"}
	def.Tier = "storage"
	return def
}

// indexRows are a table's _pico_index rows as value slices.
func indexRows(t *testing.T, s *Store, table uint32) [][]any {
	t.Helper()
	var out [][]any
	for _, row := range scanValues(t, s, TablePicoIndex) {
		if id, _ := tuple.AsUint64(row[0]); id == uint64(table) {
			out = append(out, row)
		}
	}
	return out
}

func requireErr(t *testing.T, r Result, code uint32, msg string) {
	t.Helper()
	require.NotNil(t, r.Err)
	require.Equal(t, code, r.Err.Code, r.Err.Message)
	require.Contains(t, r.Err.Message, msg)
}

func TestShardedCreateTable(t *testing.T) {
	s := newTestStore(t) // kv 1024, multi 1025; global_schema_version 2
	addTier(t, s, "storage", 3000)
	addTier(t, s, "arbiter", 3000)
	mustApply(t, s, PrepareCreateTableOp(shardedDef("s"), 0))

	ddl, ver, ok := s.PendingSchemaChange()
	require.True(t, ok)
	require.Equal(t, uint64(3), ver)
	def := ddl.Def
	require.Equal(t, uint32(1026), def.ID)
	require.Equal(t, []string{"id", "bucket_id", "name", "score", "tags"}, def.FieldNames(),
		"bucket_id right after the last primary key field, as Picodata puts it")
	require.Equal(t, schema.Field{Name: "bucket_id", Type: tuple.TypeUnsigned}, def.Format[1])
	require.Equal(t, []uint32{0}, def.PrimaryKey)
	require.Equal(t, schema.ShardingFnMurmur3, def.ShardingFn, "Picodata's default")
	require.Equal(t, []string{"storage"}, s.TiersConcerned(ddl))

	got, ok := s.TableByName("s")
	require.True(t, ok)
	require.Equal(t, *def, *got)
	rows := scanValues(t, s, TablePicoTable)
	row := rows[len(rows)-1]
	require.Equal(t, map[string]any{"ShardedImplicitly": []any{[]any{"name"}, "murmur3", "storage"}}, row[2],
		"Picodata's encoding of Distribution::ShardedImplicitly")
	require.Equal(t, false, row[5])
	require.Equal(t, []schema.IndexDef{
		{TableID: 1026, ID: 0, Name: "s_pkey", Type: "tree", Opts: map[string]any{},
			Parts: []schema.IndexPart{{Field: "id", Type: tuple.TypeUnsigned}}, SchemaVersion: 3},
		{TableID: 1026, ID: 1, Name: "bucket_id", Type: "tree", Opts: map[string]any{"unique": false},
			Parts: []schema.IndexPart{{Field: "bucket_id", Type: tuple.TypeUnsigned}}, SchemaVersion: 3},
	}, s.Indexes(1026), "Picodata's bucket_id index: id 1, non-unique, tree; none operable before the commit")
	require.Len(t, indexRows(t, s, 1026), 2)

	mustApply(t, s, DdlCommitOp(3))
	got, _ = s.TableByName("s")
	require.True(t, got.Operable)
	for _, x := range s.Indexes(1026) {
		require.True(t, x.Operable, x.Name)
	}
	require.Len(t, s.Indexes(1026), 2)
	// Its rows are not the global tables'.
	r := s.ApplyOp(DmlOp(Insert(1026, uint64(1), uint64(7), "a", 1, nil)))
	requireErr(t, r, tuple.CodeUnsupported, "is sharded")

	// It survives a snapshot.
	s2 := New()
	require.NoError(t, s2.Restore(readChunks(t, s.Snapshot())))
	require.Equal(t, s.StateHash(), s2.StateHash())
	got2, ok := s2.TableByName("s")
	require.True(t, ok)
	require.Equal(t, *got, *got2)

	// A drop concerns its tier and removes its index rows.
	mustApply(t, s, PrepareDropTableOp(1026, 0))
	ddl, _, _ = s.PendingSchemaChange()
	require.Equal(t, []string{"storage"}, s.TiersConcerned(ddl))
	for _, x := range s.Indexes(1026) {
		require.False(t, x.Operable, x.Name)
	}
	mustApply(t, s, DdlCommitOp(0))
	_, ok = s.Table(1026)
	require.False(t, ok)
	require.Empty(t, indexRows(t, s, 1026))
}

func TestShardedCreateAbortUndoes(t *testing.T) {
	s := newTestStore(t)
	addTier(t, s, "storage", 3000)
	tablesBefore, indexesBefore := scanValues(t, s, TablePicoTable), scanValues(t, s, TablePicoIndex)
	mustApply(t, s, PrepareCreateTableOp(shardedDef("s"), 0))
	require.Len(t, indexRows(t, s, 1026), 2)
	mustApply(t, s, DdlAbortOp(0))
	require.Equal(t, tablesBefore, scanValues(t, s, TablePicoTable))
	require.Equal(t, indexesBefore, scanValues(t, s, TablePicoIndex))
	_, ok := s.TableByName("s")
	require.False(t, ok)
}

func TestShardedDefaults(t *testing.T) {
	s := newTestStore(t)
	addTier(t, s, "storage", 3000)
	def := multiDef() // pk (a, b)
	def.Name, def.Distribution = "m", schema.DistributionSharded
	mustApply(t, s, PrepareCreateTableOp(def, 0))
	ddl, _, _ := s.PendingSchemaChange()
	require.Equal(t, []string{"a", "b"}, ddl.Def.ShardingKey, "the primary key, as Picodata's SQL infers it")
	require.Equal(t, "storage", ddl.Def.Tier, "the only tier")
	require.Equal(t, []string{"a", "b", "bucket_id", "c"}, ddl.Def.FieldNames())
}

func TestShardedCreateRefused(t *testing.T) {
	s := newTestStore(t)
	addTier(t, s, "storage", 3000)
	addTier(t, s, "arbiter", 0)
	cases := map[string]struct {
		change func(*schema.TableDef)
		code   uint32
		want   string
	}{
		"unknown tier":         {func(d *schema.TableDef) { d.Tier = "nope" }, tuple.CodeCreateSpace, `tier "nope" does not exist`},
		"tier without buckets": {func(d *schema.TableDef) { d.Tier = "arbiter" }, tuple.CodeCreateSpace, `tier "arbiter" has no buckets`},
		"no tier of several":   {func(d *schema.TableDef) { d.Tier = "" }, tuple.CodeCreateSpace, "the cluster has 2 (arbiter, storage)"},
		"bucket_id given": {func(d *schema.TableDef) {
			d.Format = append(d.Format, schema.Field{Name: "bucket_id", Type: tuple.TypeUnsigned})
		}, tuple.CodeCreateSpace, "leave it out of the format"},
		"unknown key field": {func(d *schema.TableDef) { d.ShardingKey = []string{"nope"} }, tuple.CodeCreateSpace, `"nope" is not in the format`},
		"other fn":          {func(d *schema.TableDef) { d.ShardingFn = "md5" }, tuple.CodeCreateSpace, `sharding function "md5"`},
		"duplicate name":    {func(d *schema.TableDef) { d.Name = "kv" }, tuple.CodeSpaceExists, "Space 'kv' already exists"},
		"duplicate id":      {func(d *schema.TableDef) { d.ID = multiID }, tuple.CodeSpaceExists, "already exists with id 1025"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			before := s.StateHash()
			def := shardedDef("s")
			c.change(&def)
			requireErr(t, s.ApplyOp(PrepareCreateTableOp(def, 0)), c.code, c.want)
			require.Equal(t, before, s.StateHash(), "a refused prepare changes nothing")
		})
	}
}

// An id a create took is never handed out again: not after a drop, not
// after an abort. An explicit free id is still accepted.
func TestTableIDsNeverReused(t *testing.T) {
	s := newTestStore(t) // 1024, 1025
	def := kvDef()
	def.Name = "a"
	createTable(t, s, def, 0)
	a, _ := s.TableByName("a")
	require.Equal(t, uint32(1026), a.ID)
	dropTable(t, s, 1026)

	def.Name = "b"
	createTable(t, s, def, 0)
	b, _ := s.TableByName("b")
	require.Equal(t, uint32(1027), b.ID, "1026, the largest id when it was dropped, is not reused")

	def.Name = "c"
	mustApply(t, s, PrepareCreateTableOp(def, 0))
	mustApply(t, s, DdlAbortOp(0))
	dropTable(t, s, 1027) // now 1025 is the largest id left
	def.Name = "d"
	createTable(t, s, def, 0)
	d, _ := s.TableByName("d")
	require.Equal(t, uint32(1029), d.ID, "neither the aborted 1028 nor the dropped 1027")
	next, _ := propUint(s, PropNextTableID)
	require.Equal(t, uint64(1030), next)

	// A snapshot keeps the counter.
	s2 := New()
	require.NoError(t, s2.Restore(readChunks(t, s.Snapshot())))
	dropTable(t, s2, 1029)
	def.Name = "e"
	createTable(t, s2, def, 0)
	e, _ := s2.TableByName("e")
	require.Equal(t, uint32(1030), e.ID)

	// An explicit id moves the counter past it.
	def.Name, def.ID = "f", 5000
	createTable(t, s2, def, 0)
	def.Name, def.ID = "g", 0
	createTable(t, s2, def, 0)
	g, _ := s2.TableByName("g")
	require.Equal(t, uint32(5001), g.ID)
}

func TestCreateIndex(t *testing.T) {
	s := newTestStore(t)
	kvBefore, _ := s.Table(kvID)
	x := schema.IndexDef{TableID: kvID, Name: "by_name", Type: "TREE", Opts: map[string]any{"unique": false},
		Parts: []schema.IndexPart{{Field: "name"}, {Field: "score"}}}
	indexesBefore := scanValues(t, s, TablePicoIndex)

	// Abort undoes the prepare exactly.
	mustApply(t, s, PrepareCreateIndexOp(x, 0))
	mustApply(t, s, DdlAbortOp(0))
	require.Equal(t, indexesBefore, scanValues(t, s, TablePicoIndex))

	mustApply(t, s, PrepareCreateIndexOp(x, 0))
	ddl, ver, _ := s.PendingSchemaChange()
	require.Equal(t, uint64(4), ver, "the aborted version 3 is not reused")
	require.Equal(t, uint32(1), ddl.Index.ID, "the table's next free index id")
	require.Equal(t, []string{}, append([]string{}, s.TiersConcerned(ddl)...), "a global table: every tier (none here)")
	require.Equal(t, schema.IndexDef{TableID: kvID, ID: 1, Name: "by_name", Type: "tree", Opts: map[string]any{"unique": false},
		Parts: []schema.IndexPart{{Field: "name", Type: tuple.TypeString}, {Field: "score", Type: tuple.TypeNumber}}, SchemaVersion: 4},
		s.Indexes(kvID)[1], "parts typed from the format; not operable until committed")
	kv, _ := s.Table(kvID)
	require.Equal(t, *kvBefore, *kv, "the table itself stays as it was (and writable)")
	mustApply(t, s, DmlOp(Insert(kvID, uint64(1), "a", 1, nil)))

	mustApply(t, s, DdlCommitOp(4))
	got := s.Indexes(kvID)
	require.Len(t, got, 2)
	require.True(t, got[1].Operable)
	require.Equal(t, uint64(4), s.SchemaVersion())

	// The next gets id 2; an explicit id is kept.
	x.Name = "by_score"
	x.Parts = []schema.IndexPart{{Field: "score"}}
	mustApply(t, s, PrepareCreateIndexOp(x, 0))
	mustApply(t, s, DdlCommitOp(0))
	x.Name, x.ID = "by_score2", 7
	mustApply(t, s, PrepareCreateIndexOp(x, 0))
	mustApply(t, s, DdlCommitOp(0))
	var ids []uint32
	for _, x := range s.Indexes(kvID) {
		ids = append(ids, x.ID)
	}
	require.Equal(t, []uint32{0, 1, 2, 7}, ids)

	// Dropping the table drops every index row.
	dropTable(t, s, kvID)
	require.Empty(t, indexRows(t, s, kvID))
}

func TestCreateIndexRefused(t *testing.T) {
	s := newTestStore(t)
	addTier(t, s, "storage", 3000)
	createTable(t, s, shardedDef("s"), 0) // 1026, with index bucket_id
	mustApply(t, s, PrepareCreateIndexOp(schema.IndexDef{TableID: multiID, Name: "by_b", Opts: map[string]any{"unique": false},
		Parts: []schema.IndexPart{{Field: "b"}}}, 0))
	mustApply(t, s, DdlCommitOp(0))
	ok := schema.IndexDef{TableID: kvID, Name: "i", Parts: []schema.IndexPart{{Field: "name"}}}
	cases := map[string]struct {
		change func(*schema.IndexDef)
		code   uint32
		want   string
	}{
		"unknown table":        {func(x *schema.IndexDef) { x.TableID = 4000 }, tuple.CodeNoSuchSpace, "Space '4000' does not exist"},
		"system table":         {func(x *schema.IndexDef) { x.TableID = TablePicoTier }, tuple.CodeModifyIndex, "system space"},
		"name of this table's": {func(x *schema.IndexDef) { x.Name = "kv_pkey" }, tuple.CodeIndexExists, "Index 'kv_pkey' already exists"},
		"name of another's":    {func(x *schema.IndexDef) { x.Name = "by_b" }, tuple.CodeIndexExists, "Index 'by_b' already exists"},
		"reserved name":        {func(x *schema.IndexDef) { x.Name = "bucket_id" }, tuple.CodeModifyIndex, "reserved"},
		"id taken":             {func(x *schema.IndexDef) { x.TableID, x.ID = multiID, 1 }, tuple.CodeIndexExists, "Index id 1 already exists in space 'multi'"},
		"unknown field":        {func(x *schema.IndexDef) { x.Parts = []schema.IndexPart{{Field: "nope"}} }, tuple.CodeModifyIndex, `"nope" is not in the format`},
		"hash":                 {func(x *schema.IndexDef) { x.Type = "hash" }, tuple.CodeModifyIndex, `index type "hash"`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			before := s.StateHash()
			x := ok.Clone()
			c.change(&x)
			requireErr(t, s.ApplyOp(PrepareCreateIndexOp(x, 0)), c.code, c.want)
			require.Equal(t, before, s.StateHash())
		})
	}
	// An index on a sharded table concerns its tier only.
	mustApply(t, s, PrepareCreateIndexOp(schema.IndexDef{TableID: 1026, Name: "s_by_name", Parts: []schema.IndexPart{{Field: "name"}}}, 0))
	ddl, _, _ := s.PendingSchemaChange()
	require.Equal(t, uint32(2), ddl.Index.ID, "after bucket_id's 1")
	require.Equal(t, []string{"storage"}, s.TiersConcerned(ddl))
	require.Nil(t, s.ApplicableHere(ddl), "a sharded table's storage enforces its unique indexes")
}

func TestDropIndex(t *testing.T) {
	s := newTestStore(t)
	addTier(t, s, "storage", 3000)
	addTier(t, s, "arbiter", 3000)
	mustApply(t, s, PrepareCreateIndexOp(schema.IndexDef{TableID: multiID, Name: "by_b", Opts: map[string]any{"unique": false},
		Parts: []schema.IndexPart{{Field: "b"}}}, 0))
	mustApply(t, s, DdlCommitOp(0))
	before := scanValues(t, s, TablePicoIndex)

	// Abort: the row as it was.
	mustApply(t, s, PrepareDropIndexOp(multiID, 1, 0))
	ddl, _, _ := s.PendingSchemaChange()
	require.Equal(t, []string{"arbiter", "storage"}, s.TiersConcerned(ddl), "a global table's index: every tier, sorted")
	top, err := s.ReadTopology()
	require.NoError(t, err)
	require.Equal(t, []string{"arbiter", "storage"}, top.PendingSchemaTiers)
	require.False(t, s.Indexes(multiID)[1].Operable)
	mustApply(t, s, DdlAbortOp(0))
	require.Equal(t, before, scanValues(t, s, TablePicoIndex))

	mustApply(t, s, PrepareDropIndexOp(multiID, 1, 0))
	mustApply(t, s, DdlCommitOp(0))
	require.Len(t, s.Indexes(multiID), 1)
	top, err = s.ReadTopology()
	require.NoError(t, err)
	require.Empty(t, top.PendingSchemaTiers)

	createTable(t, s, shardedDef("s"), 0) // 1026
	for name, c := range map[string]struct {
		table, index uint32
		code         uint32
		want         string
	}{
		"primary":       {kvID, 0, tuple.CodeDropPrimaryKey, "Can't drop primary key in space 'kv'"},
		"unknown table": {4000, 1, tuple.CodeNoSuchSpace, "Space '4000' does not exist"},
		"unknown index": {kvID, 3, tuple.CodeNoSuchIndexID, "No index #3 is defined in space 'kv'"},
		"system table":  {TablePicoIndex, 0, tuple.CodeDropSpace, "system space"},
		"bucket_id":     {1026, 1, tuple.CodeModifyIndex, "bucket_id index goes with the table"},
	} {
		t.Run(name, func(t *testing.T) {
			hash := s.StateHash()
			requireErr(t, s.ApplyOp(PrepareDropIndexOp(c.table, c.index, 0)), c.code, c.want)
			require.Equal(t, hash, s.StateHash())
		})
	}
}

func TestIndexOpsRoundTrip(t *testing.T) {
	for _, op := range []Op{
		PrepareCreateIndexOp(schema.IndexDef{TableID: kvID, Name: "i", Type: "tree", Opts: map[string]any{"unique": false},
			Parts: []schema.IndexPart{{Field: "name"}, {Field: "tags", Type: tuple.TypeArray, Nullable: true}}}, 3),
		PrepareDropIndexOp(kvID, 2, 0),
		PrepareCreateTableOp(shardedDef("s"), 0),
	} {
		got, err := DecodeOp(op.Encode())
		require.NoError(t, err)
		require.Equal(t, op, got)
	}
	_, err := DecodeOp(Op{Kind: OpDdlPrepare, Ddl: &Ddl{Kind: DdlCreateIndex}}.Encode())
	require.ErrorContains(t, err, "without index")
	_, err = DecodeOp(Op{Kind: OpDdlPrepare, Ddl: &Ddl{Kind: DdlDropIndex, IndexID: 1}}.Encode())
	require.ErrorContains(t, err, "without table_id")
}

func TestTiersConcerned(t *testing.T) {
	s := newTestStore(t)
	addTier(t, s, "storage", 3000)
	addTier(t, s, "arbiter", 3000)
	addTier(t, s, "compute", 3000)
	all := []string{"arbiter", "compute", "storage"}
	def := kvDef()
	def.Name = "g"
	require.Equal(t, all, s.TiersConcerned(Ddl{Kind: DdlCreateTable, Def: &def}))
	sd := shardedDef("s")
	sd.Tier = "compute"
	require.Equal(t, []string{"compute"}, s.TiersConcerned(Ddl{Kind: DdlCreateTable, Def: &sd}))
	createTable(t, s, sd, 0) // 1026
	require.Equal(t, []string{"compute"}, s.TiersConcerned(Ddl{Kind: DdlDropTable, TableID: 1026}))
	require.Equal(t, []string{"compute"}, s.TiersConcerned(Ddl{Kind: DdlCreateIndex, Index: &schema.IndexDef{TableID: 1026}}))
	require.Equal(t, []string{"compute"}, s.TiersConcerned(Ddl{Kind: DdlDropIndex, TableID: 1026, IndexID: 2}))
	require.Equal(t, all, s.TiersConcerned(Ddl{Kind: DdlDropTable, TableID: kvID}))
	require.Equal(t, all, s.TiersConcerned(Ddl{Kind: DdlDropIndex, TableID: multiID, IndexID: 1}))
	require.Equal(t, all, s.TiersConcerned(Ddl{Kind: DdlDropTable, TableID: 4000}), "unknown: every tier")
}

func TestDistributionColumn(t *testing.T) {
	g := kvDef()
	g.Distribution = schema.DistributionGlobal
	require.Equal(t, map[string]any{"Global": nil}, DistributionValue(&g))
	for _, def := range []schema.TableDef{g, shardedDef("s")} {
		def.ID, def.Engine = 1026, schema.EngineMemtx
		def.PrimaryKey = nil // kept in _pico_index
		back, err := TableDefFrom(TableRow(&def))
		require.NoError(t, err)
		require.Equal(t, def, back)
	}
	row := TableRow(&g)
	row[2] = "global" // what picogo wrote before
	back, err := TableDefFrom(row)
	require.NoError(t, err)
	require.Equal(t, schema.DistributionGlobal, back.Distribution)
	for _, bad := range []any{"sharded", map[string]any{"Global": 1}, map[string]any{"ShardedByField": []any{"f", "t"}},
		map[string]any{"ShardedImplicitly": []any{[]any{1}, "murmur3", "t"}}, map[string]any{"Global": nil, "X": nil}} {
		row[2] = bad
		_, err := TableDefFrom(row)
		require.Error(t, err, "%v", bad)
	}
}

func TestTierIsSync(t *testing.T) {
	s := New()
	for _, sync := range []bool{true, false} {
		tier := Tier{Name: "t", ReplicationFactor: 2, CanVote: true, BucketCount: 3000, IsSync: sync}
		mustApply(t, s, DmlOp(Replace(TablePicoTier, tier.Tuple()...)))
		top, err := s.ReadTopology()
		require.NoError(t, err)
		got, ok := top.Tier("t")
		require.True(t, ok)
		require.Equal(t, tier, got)
	}
	old, err := TierFrom([]any{"t", uint64(1), true, uint64(0), uint64(0), false, uint64(3000)})
	require.NoError(t, err)
	require.False(t, old.IsSync, "a row written before is_sync")
	def, _ := s.Table(TablePicoTier)
	require.Equal(t, []string{"name", "replication_factor", "can_vote", "current_vshard_config_version",
		"target_vshard_config_version", "vshard_bootstrapped", "bucket_count", "is_sync"}, def.FieldNames())
}

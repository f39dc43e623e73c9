package sim

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/replication"
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/sharding"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/vclock"
)

// User data in replicasets, scripted: a sharded table created through
// two-phase DDL, rows written on a master and read on its replica, a
// replica's refusal, a failover, and an old master's return.

// rowsTable is the sharded table these tests create.
var rowsTable = schema.TableDef{Name: "rows", Distribution: schema.DistributionSharded,
	Format:      []schema.Field{{Name: "id", Type: "unsigned"}, {Name: "value", Type: "string"}},
	PrimaryKey:  []uint32{0},
	ShardingKey: []string{"id"}, Tier: "storage", Engine: schema.EngineMemtx, Operable: true}

// dataCluster is four instances in replicasets of two, with rowsTable
// created and operable everywhere; it returns the members and the table's
// committed definition.
func dataCluster(t *testing.T, tier tables.Tier) (*Cluster, []*Member, schema.TableDef) {
	t.Helper()
	c := newTestCluster(t, tier)
	ms := startN(t, c, 4, nil)
	require.Nil(t, prepare(t, c, tables.PrepareCreateTableOp(rowsTable, 0)))
	var def schema.TableDef
	require.NoError(t, c.Until("the sharded table in every engine", settle, func() bool {
		for _, m := range ms {
			d, ok := m.Node().Tables().TableByName(rowsTable.Name)
			if !ok || !d.Operable {
				return false
			}
			if _, ok := m.Node().Member().Engine().Table(d.ID); !ok {
				return false
			}
			def = *d
		}
		return settledDDL(ms) && bucketsBalanced(c.Topology(), tier.Name)
	}))
	return c, ms, def
}

// bucketsBalanced reports a tier whose buckets are spread over all its
// ready replicasets, none moving and no garbage left.
func bucketsBalanced(top tables.Topology, tier string) bool {
	owners := map[string]bool{}
	for _, b := range top.Buckets {
		if b.Tier != tier {
			continue
		}
		if b.State != tables.BucketActive || b.Garbage != "" {
			return false
		}
		owners[b.ReplicasetID] = true
	}
	for _, rs := range top.Replicasets {
		if rs.Tier == tier && rs.State == tables.ReplicasetReady && rs.Weight > 0 && !owners[rs.ReplicasetID] {
			return false
		}
	}
	return len(owners) > 0
}

// ownedIDs are n row ids, from 1 up, whose buckets m's replicaset owns.
func ownedIDs(t *testing.T, c *Cluster, m *Member, n int) []uint64 {
	t.Helper()
	top := c.Topology()
	self, ok := top.Instance(instanceName(t, m))
	require.True(t, ok)
	bm := sharding.NewMap(top.Buckets)
	var out []uint64
	for id := uint64(1); len(out) < n && id < 1_000_000; id++ {
		if r, ok := bm.Find(self.Tier, bucketOf(id, tables.DefaultBucketCount)); ok && r.ReplicasetID == self.ReplicasetID {
			out = append(out, id)
		}
	}
	require.Len(t, out, n, "replicaset %s owns too few buckets", self.ReplicasetID)
	return out
}

// replicasetOf is the current master and the other members of m's
// replicaset.
func replicasetOf(t *testing.T, c *Cluster, ms []*Member, m *Member) (master *Member, replicas []*Member) {
	t.Helper()
	top := c.Topology()
	self, ok := top.Instance(instanceName(t, m))
	require.True(t, ok)
	rs, ok := top.Replicaset(self.ReplicasetID)
	require.True(t, ok)
	for _, x := range ms {
		row, ok := top.Instance(instanceName(t, x))
		if !ok || row.ReplicasetID != rs.ReplicasetID {
			continue
		}
		if row.InstanceID == rs.CurrentMasterID {
			master = x
		} else {
			replicas = append(replicas, x)
		}
	}
	require.NotNil(t, master, "replicaset %s has no current master", rs.ReplicasetID)
	return master, replicas
}

func instanceName(t *testing.T, m *Member) string {
	row, ok := m.Row()
	require.True(t, ok, "%s has no row", m.Addr())
	return row.InstanceID
}

// rowOf is a tuple of rowsTable with its bucket id where the definition has
// the column.
func rowOf(def schema.TableDef, id uint64, value string) []any {
	return shardedRow(def, id, value, tables.DefaultBucketCount)
}

func insertRows(t *testing.T, c *Cluster, m *Member, def schema.TableDef, ids []uint64) {
	t.Helper()
	for _, id := range ids {
		_, err := c.Call(m, api.Insert{Table: def.ID, Tuple: rowOf(def, id, fmt.Sprintf("v%d", id))})
		require.Nil(t, err, "insert %d on %s", id, m.Addr())
	}
}

func selectAll(t *testing.T, c *Cluster, m *Member, def schema.TableDef) []any {
	t.Helper()
	res, err := c.Call(m, api.Select{Table: def.ID, Iterator: uint8(2), Limit: ^uint32(0)})
	require.Nil(t, err, "select on %s", m.Addr())
	rows, _ := res.([]any)
	return rows
}

func vclockOf(m *Member) vclock.VClock { return m.Node().Member().VClock() }

func TestDataReplicatesFromMasterToReplica(t *testing.T) {
	c, ms, def := dataCluster(t, storageTier(2))
	master, replicas := replicasetOf(t, c, ms, ms[0])
	require.Len(t, replicas, 1)
	replica := replicas[0]

	ids := ownedIDs(t, c, master, 23)
	insertRows(t, c, master, def, ids[:20])
	target := vclockOf(master)
	require.Equal(t, uint64(20), target.Sum())

	res, err := c.Call(replica, api.WaitVClock{Target: target, Timeout: 5 * time.Second})
	require.Nil(t, err)
	require.True(t, target.LessEq(res.(vclock.VClock)))
	require.Equal(t, selectAll(t, c, master, def), selectAll(t, c, replica, def))
	require.Len(t, selectAll(t, c, replica, def), 20)

	// A replica refuses a write and names its master.
	_, err = c.Call(replica, api.Insert{Table: def.ID, Tuple: rowOf(def, ids[20], "no")})
	require.NotNil(t, err)
	require.Equal(t, replication.CodeReadonly, err.Code)
	require.Contains(t, err.Message, master.Addr())

	// A row of a bucket another replicaset owns is refused, naming the
	// index the decision was made at; so is a bucket_id that is not the
	// bucket of the row's key.
	other, _ := replicasetOf(t, c, ms, otherReplicaset(t, c, ms, master))
	_, err = c.Call(master, api.Insert{Table: def.ID, Tuple: rowOf(def, ownedIDs(t, c, other, 1)[0], "elsewhere")})
	require.NotNil(t, err)
	require.Equal(t, api.CodeWrongBucket, err.Code, err.Message)
	require.NotZero(t, err.Index)
	wrong := rowOf(def, ids[22], "x")
	if pos, ok := def.FieldIndex(schema.BucketIDField); ok {
		wrong[pos] = bucketOf(ids[22], tables.DefaultBucketCount)%tables.DefaultBucketCount + 1
		_, err = c.Call(master, api.Insert{Table: def.ID, Tuple: wrong})
		require.NotNil(t, err)
		require.Equal(t, api.CodeIllegalParams, err.Code)
		require.Contains(t, err.Message, "is not the bucket of the row's sharding key")
	}

	// A tuple with a bucket id outside the tier's is refused.
	bad := rowOf(def, ids[21], "x")
	if pos, ok := def.FieldIndex(schema.BucketIDField); ok {
		bad[pos] = uint64(tables.DefaultBucketCount + 1)
		_, err = c.Call(master, api.Insert{Table: def.ID, Tuple: bad})
		require.NotNil(t, err)
		require.Contains(t, err.Message, "bucket_id")
	}
	require.NoError(t, c.Settle(settle))
}

// The master dies: the governor promotes its replica, which takes writes;
// the old master comes back as a replica and catches up.
func TestDataFailoverPromotesTheReplica(t *testing.T) {
	c, ms, def := dataCluster(t, storageTier(2))
	master, replicas := replicasetOf(t, c, ms, ms[0])
	replica := replicas[0]
	ids := ownedIDs(t, c, master, 12)
	insertRows(t, c, master, def, ids[:10])
	_, err := c.Call(replica, api.WaitVClock{Target: vclockOf(master), Timeout: 5 * time.Second})
	require.Nil(t, err)

	master.Kill()
	require.NoError(t, c.Until("the replica is the master", 60*time.Second, func() bool {
		m, _ := replicasetOfQuiet(c, ms, replica)
		return m == replica && replica.Node().Member() != nil
	}))
	require.NoError(t, c.Until("the new master takes a write", 30*time.Second, func() bool {
		_, err := c.Call(replica, api.Insert{Table: def.ID, Tuple: rowOf(def, ids[10], "v11")})
		return err == nil
	}))
	require.Len(t, selectAll(t, c, replica, def), 11)

	master.Restart()
	require.NoError(t, c.Until("the old master caught up as a replica", 60*time.Second, func() bool {
		return master.Up() && master.Node().Member() != nil && vclockOf(master).Equal(vclockOf(replica))
	}))
	require.Equal(t, selectAll(t, c, replica, def), selectAll(t, c, master, def))
	_, err = c.Call(master, api.Insert{Table: def.ID, Tuple: rowOf(def, ids[11], "v12")})
	require.NotNil(t, err, "the old master must not take writes")
	require.NoError(t, c.Settle(settle))
}

// An isolated master keeps taking writes (asynchronous replication); the
// governor promotes its replica meanwhile. Back, the old master must not
// serve what the new master never saw: it gets a full copy.
func TestDataAReturningOldMasterRejoinsFromTheNewOne(t *testing.T) {
	c, ms, def := dataCluster(t, storageTier(2))
	master, replicas := replicasetOf(t, c, ms, ms[0])
	if master.RaftID() == c.Leader().RaftID() {
		// Isolating the Raft leader too would only slow the story down.
		master, replicas = replicasetOf(t, c, ms, otherReplicaset(t, c, ms, master))
	}
	replica := replicas[0]
	ids := ownedIDs(t, c, master, 9)
	insertRows(t, c, master, def, ids[:5])
	_, err := c.Call(replica, api.WaitVClock{Target: vclockOf(master), Timeout: 5 * time.Second})
	require.Nil(t, err)

	c.Isolate(master)
	// The isolated master still believes it is one: these are lost.
	for _, id := range ids[6:9] {
		_, _ = c.Call(master, api.Insert{Table: def.ID, Tuple: rowOf(def, id, "lost")})
	}
	require.NoError(t, c.Until("the replica is the master", 60*time.Second, func() bool {
		m, _ := replicasetOfQuiet(c, ms, replica)
		return m == replica
	}))
	require.NoError(t, c.Until("the new master takes a write", 30*time.Second, func() bool {
		_, err := c.Call(replica, api.Insert{Table: def.ID, Tuple: rowOf(def, ids[5], "v6")})
		return err == nil
	}))
	c.Heal()
	require.NoError(t, c.Until("the old master rejoined", 60*time.Second, func() bool {
		return !master.Node().Member().Stale() && vclockOf(master).Equal(vclockOf(replica))
	}))
	rows := selectAll(t, c, master, def)
	require.Equal(t, selectAll(t, c, replica, def), rows)
	for _, r := range rows {
		require.NotEqual(t, "lost", r.([]any)[len(r.([]any))-1], "the old master serves a write the new one never saw")
	}
	require.NoError(t, c.Settle(settle))
}

// In a synchronous tier a write is acknowledged only once a majority of
// its replicaset has it: with the replica cut off, a master of two cannot
// acknowledge.
func TestDataSynchronousWriteWaitsForItsMajority(t *testing.T) {
	tier := storageTier(2)
	tier.IsSync = true
	c, ms, def := dataCluster(t, tier)
	master, replicas := replicasetOf(t, c, ms, ms[0])
	ids := ownedIDs(t, c, master, 4)
	insertRows(t, c, master, def, ids[:3])
	require.True(t, vclockOf(master).LessEq(vclockOf(replicas[0])), "acknowledged before the replica had it")

	c.FailDials(master, replicas[0])
	_, err := c.Call(master, api.Insert{Table: def.ID, Tuple: rowOf(def, ids[3], "v4")})
	require.NotNil(t, err, "acknowledged without a majority")
	c.Heal()
	require.NoError(t, c.Settle(settle))
}

// replicasetOfQuiet is replicasetOf for polling: no test failure.
func replicasetOfQuiet(c *Cluster, ms []*Member, m *Member) (master *Member, ok bool) {
	top := c.Topology()
	row, found := m.Row()
	if !found {
		return nil, false
	}
	self, ok := top.Instance(row.InstanceID)
	if !ok {
		return nil, false
	}
	rs, ok := top.Replicaset(self.ReplicasetID)
	if !ok {
		return nil, false
	}
	for _, x := range ms {
		if r, ok := x.Row(); ok && r.InstanceID == rs.CurrentMasterID {
			return x, true
		}
	}
	return nil, false
}

// otherReplicaset is a member of another replicaset than m's.
func otherReplicaset(t *testing.T, c *Cluster, ms []*Member, m *Member) *Member {
	t.Helper()
	mine, _ := m.Row()
	for _, x := range ms {
		if r, ok := x.Row(); ok && r.ReplicasetID != mine.ReplicasetID {
			return x
		}
	}
	t.Fatal("one replicaset only")
	return nil
}

// A unique index over rows with equal keys on one master aborts the
// change everywhere; the same index non-unique commits and every engine
// of the tier builds it.
func TestDataUniqueIndexOverDuplicatesAborts(t *testing.T) {
	c, ms, def := dataCluster(t, storageTier(2))
	master, _ := replicasetOf(t, c, ms, ms[0])
	for _, id := range ownedIDs(t, c, master, 2) {
		_, err := c.Call(master, api.Insert{Table: def.ID, Tuple: rowOf(def, id, "same")})
		require.Nil(t, err)
	}
	byValue := schema.IndexDef{TableID: def.ID, Name: "by_value", Opts: map[string]any{"unique": true},
		Parts: []schema.IndexPart{{Field: "value"}}}
	version := c.Leader().Node().Tables().SchemaVersion()
	require.Nil(t, prepare(t, c, tables.PrepareCreateIndexOp(byValue, 0)))
	require.NoError(t, c.Until("the change settled", settle, func() bool { return settledDDL(ms) }))
	for _, m := range ms {
		require.Equal(t, version, m.Node().Tables().SchemaVersion(), "%s moved its schema version", m.Addr())
		idx, err := m.Node().Member().Engine().Indexes(def.ID)
		require.Nil(t, err)
		require.Len(t, idx, 2, "%s: the primary and bucket_id indexes only", m.Addr())
	}

	byValue.Opts = map[string]any{"unique": false}
	require.Nil(t, prepare(t, c, tables.PrepareCreateIndexOp(byValue, 0)))
	require.NoError(t, c.Until("the index in every engine", settle, func() bool {
		for _, m := range ms {
			idx, err := m.Node().Member().Engine().Indexes(def.ID)
			if err != nil || len(idx) != 3 {
				return false
			}
		}
		return settledDDL(ms)
	}))
	res, err := c.Call(master, api.Select{Table: def.ID, Index: 2, Key: []any{"same"}})
	require.Nil(t, err)
	require.Len(t, res, 2)
	require.NoError(t, c.Settle(settle))
}

// While a change on a table is pending (the governor cannot reach one of
// the masters), the table takes no writes on the others: TableNotOperable,
// retryable. Once the held master answers, the drop commits and every
// engine lets the table go.
func TestDataPendingChangeRefusesWrites(t *testing.T) {
	c, ms, def := dataCluster(t, storageTier(2))
	l := c.Leader()
	var held *Member
	for _, m := range ms {
		if master, _ := replicasetOf(t, c, ms, m); master != l && master.RaftID() != l.RaftID() {
			held = master
			break
		}
	}
	require.NotNil(t, held, "every master is the leader")
	other, _ := replicasetOf(t, c, ms, otherReplicaset(t, c, ms, held))
	c.FailDials(l, held)
	require.Nil(t, prepare(t, c, tables.PrepareDropTableOp(def.ID, 0)))
	require.NoError(t, c.Until("the prepare applied on the other master", settle, func() bool {
		d, ok := other.Node().Tables().Table(def.ID)
		return ok && !d.Operable
	}))
	c.Run(time.Second)
	_, _, pending := l.Node().Tables().PendingSchemaChange()
	require.True(t, pending, "committed without asking %s", held.Addr())
	_, err := c.Call(other, api.Insert{Table: def.ID, Tuple: rowOf(def, ownedIDs(t, c, other, 1)[0], "v1")})
	require.NotNil(t, err)
	require.Equal(t, api.CodeTableNotOper, err.Code)

	c.Heal()
	require.NoError(t, c.Until("the table gone from every engine", 30*time.Second, func() bool {
		for _, m := range ms {
			if _, ok := m.Node().Member().Engine().Table(def.ID); ok {
				return false
			}
		}
		return settledDDL(ms)
	}))
	require.NoError(t, c.Settle(settle))
}

// An UPDATE fragment that reaches a replica (a router whose map names an
// old master) must be refused as a write is, so that the router sends it
// to the master: a replica answering row_count 0 from its own rows, which
// may lag, tells the client that an acknowledged row does not exist.
//
// Found building the simulator's SQL clients, on a storage that wrote a
// statement's rows one by one (none: an answer at once, from a replica
// too); a statement's rows are one batch now, and the member refuses even
// an empty one when it is not the writable master.
func TestSQLUpdateOnAReplicaIsRefused(t *testing.T) {
	c, ms, def := dataCluster(t, storageTier(2))
	master, replicas := replicasetOf(t, c, ms, ms[0])
	require.Len(t, replicas, 1)
	ids := ownedIDs(t, c, master, 2)
	insertRows(t, c, master, def, ids[:1])
	_, err := c.Call(replicas[0], api.WaitVClock{Target: vclockOf(master), Timeout: 5 * time.Second})
	require.Nil(t, err)
	for _, id := range ids { // a row the replica has, and one it has not
		req := api.SQLLocal{Query: "UPDATE rows SET value = $2 WHERE id = $1", Params: []any{id, "new"},
			Tier: def.Tier, Bucket: bucketOf(id, tables.DefaultBucketCount), RowMax: 5000}
		res, err := c.Call(replicas[0], req)
		require.NotNil(t, err, "UPDATE of id %d on a replica answered %+v", id, res)
		require.Equal(t, replication.CodeReadonly, err.Code)
	}
}

package sim

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/sharding"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
)

// Buckets move with the topology, and rows with them: written through the
// router on any instance, they are all read back once after a third
// replicaset joins (the tier rebalances to 1000 buckets each) and after
// one is drained — each row on the replicaset owning its bucket and
// nowhere else — and the drained replicaset's instance can then be
// expelled.
func TestDataRebalanceMovesRowsWithTheirBuckets(t *testing.T) {
	c := newTestCluster(t, storageTier(1))
	ms := startN(t, c, 2, nil)
	require.Nil(t, prepare(t, c, tables.PrepareCreateTableOp(rowsTable, 0)))
	require.NoError(t, c.Until("the table operable, buckets split in two", settle, func() bool {
		d, ok := c.Leader().Node().Tables().TableByName(rowsTable.Name)
		return ok && d.Operable && settledDDL(ms) && bucketsBalanced(c.Topology(), "storage") && len(owners(c)) == 2
	}))

	const rows = 200
	for id := 1; id <= rows; id++ {
		via := ms[id%len(ms)]
		_, err := c.Call(via, api.RouterInsert{Table: rowsTable.Name, Tuple: []any{uint64(id), fmt.Sprintf("v%d", id)}})
		require.Nil(t, err, "insert %d through %s", id, via.Addr())
	}
	requireRowsOnce(t, c, ms, rows)

	third := c.Start(Spec{})
	ms = append(ms, third)
	require.NoError(t, c.Until("three replicasets of 1000 buckets", 4*settle, func() bool {
		o := owners(c)
		return bucketsBalanced(c.Topology(), "storage") && len(o) == 3 && o[row(t, third).ReplicasetID] == 1000
	}))
	requireRowsOnce(t, c, ms, rows)

	// Written while nothing moves, read through any instance.
	res, err := c.Call(third, api.RouterGet{Table: rowsTable.Name, Key: []any{uint64(7)}})
	require.Nil(t, err)
	got := res.([]any)[0].([]any) // one value: the row
	require.Equal(t, "v7", got[len(got)-1])

	drain(t, c, ms[1])
	requireRowsOnce(t, c, ms, rows)
	_, err = c.Call(c.Leader(), api.Expel{ClusterID: clusterID, InstanceID: row(t, ms[1]).InstanceID})
	require.Nil(t, err, "a drained replicaset's last instance may go")
	require.NoError(t, c.Settle(settle))
	requireRowsOnce(t, c, ms, rows)
}

// owners is how many buckets each replicaset owns.
func owners(c *Cluster) map[string]uint64 {
	out := map[string]uint64{}
	for _, b := range c.Topology().Buckets {
		out[b.ReplicasetID] += b.Count()
	}
	return out
}

// requireRowsOnce: a routed scan reads rows 1..n once each, and every
// running instance's engine holds exactly the rows of its replicaset's
// buckets.
func requireRowsOnce(t *testing.T, c *Cluster, ms []*Member, n int) {
	t.Helper()
	res, err := c.Call(c.Leader(), api.RouterScan{Table: rowsTable.Name})
	require.Nil(t, err)
	one, _ := res.([]any) // one value: the rows
	require.Len(t, one, 1)
	got, _ := one[0].([]any)
	require.Len(t, got, n, "a routed scan")
	for k, r := range got {
		id, ok := tuple.AsUint64(r.([]any)[0])
		require.True(t, ok)
		require.Equal(t, uint64(k+1), id, "row %d", k)
	}
	top := c.Topology()
	def, ok := c.Leader().Node().Tables().TableByName(rowsTable.Name)
	require.True(t, ok)
	total := 0
	for _, m := range ms {
		if !m.Up() || m.Node().Member() == nil {
			continue
		}
		r, ok := m.Row()
		if !ok || r.Current.Variant == tables.GradeExpelled {
			continue
		}
		if why := strayRow(m.Node().Member().Engine(), m.Node().Tables(), sharding.NewMap(top.Buckets), r.ReplicasetID); why != "" {
			t.Fatalf("%s: %s", m.Addr(), why)
		}
		k, e := m.Node().Member().Engine().Len(def.ID)
		require.Nil(t, e)
		total += k
	}
	require.Equal(t, n, total, "every row on one instance (RF 1)")
}

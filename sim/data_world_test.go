package sim

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/tables"
)

// TestDataWorldsDrawTheDataPlane: the seeds' worlds cover what the user
// data needs — synchronous and asynchronous first tiers, replicasets with
// replicas, small replication limits, a DDL client (with late instances
// too) — and the params line
// names it.
func TestDataWorldsDrawTheDataPlane(t *testing.T) {
	var sync, rf3, limits, ddl, ddlLate int
	for seed := uint64(1); seed <= 300; seed++ {
		p := drawParams(rand.New(rand.NewPCG(seed, 1)))
		tier := p.Tiers[0]
		if tier.IsSync {
			sync++
			require.False(t, p.Retire, "seed %d: no retirement in a synchronous tier", seed)
		}
		if tier.ReplicationFactor == 3 {
			rf3++
		}
		if p.Limits.Replication.WindowBytes > 0 {
			limits++
		}
		if p.DdlEvery > 0 {
			ddl++
			if p.LateInstances > 0 {
				ddlLate++
			}
		}
		require.Greater(t, p.DataShare, 0.0)
		require.Contains(t, p.String(), " sync=")
	}
	require.InDelta(t, 150, sync, 40)
	require.Greater(t, rf3, 50)
	require.Greater(t, limits, 60)
	require.Greater(t, ddl, 30)
	require.Greater(t, ddlLate, 5, "the DDL client also meets late instances")
}

// TestDataWorldsRunTheDataPlane: a seed's world writes rows, reads them at
// rest on the masters, and checks the history.
func TestDataWorldsRunTheDataPlane(t *testing.T) {
	var trace strings.Builder
	r := Run(Options{Seed: 5, Trace: &trace})
	require.NoError(t, r.Err)
	out := trace.String()
	require.Contains(t, out, "setup: sharded table rows exists")
	require.Contains(t, out, " replace k")
	require.Contains(t, out, "final read of storage_")
}

// TestDataSecondShardedTable pins a bug the data worlds found (fixed): the
// first sharded table's bucket_id index was applied at the next schema
// version, and the change of that version — here a second sharded table —
// never reached the engines.
func TestDataSecondShardedTable(t *testing.T) {
	c, ms, _ := dataCluster(t, storageTier(2))
	second := rowsTable
	second.Name = "rows2"
	require.Nil(t, prepare(t, c, tables.PrepareCreateTableOp(second, 0)))
	require.NoError(t, c.Until("the second table in every engine", settle, func() bool {
		d, ok := ms[0].Node().Tables().TableByName(second.Name)
		if !ok || !d.Operable {
			return false
		}
		for _, m := range ms {
			if _, ok := m.Node().Member().Engine().Table(d.ID); !ok {
				return false
			}
		}
		return true
	}))
}

package replication

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/storage"
	"github.com/picogo/picogo/core/wal"
)

// Checkpoints of a growing table come further and further apart: each
// waits until the records since the last outweigh half of it, so their
// total cost per write stays constant (every 10 records regardless of
// size, 3000 writes would encode the table 300 times: a quadratic cost).
func TestCheckpointsOfAGrowingTableAreAmortized(t *testing.T) {
	m, err := Recover(Config{ID: 1, CheckpointEvery: 10}, &wal.Recovered{})
	require.NoError(t, err)
	m.Configure(Role{Master: 1, Writable: true})
	def := testTable.Clone()
	require.Nil(t, m.ApplySchema(1, SchemaChange{CreateTable: &def}))
	checkpoints := 0
	drain := func() {
		for {
			effects := m.TakeEffects()
			if len(effects) == 0 {
				return
			}
			for _, e := range effects {
				if p, ok := e.(Persist); ok {
					if p.Write.Checkpoint != 0 {
						checkpoints++
					}
					require.NoError(t, m.PersistDone(p.Write.Seq))
				}
			}
		}
	}
	const writes = 3000
	for i := range uint64(writes) {
		m.Write(ReqID(i+1), 1, storage.Op{Kind: storage.OpInsert, Table: def.ID, Tuple: []any{i, fmt.Sprintf("value-%06d", i)}})
		drain()
	}
	require.Greater(t, checkpoints, 3, "checkpoints are still taken")
	require.Less(t, checkpoints, 40, "a checkpoint per 10 records would be %d", writes/10)
	rows, _ := m.Engine().Len(def.ID)
	require.Equal(t, writes, rows)
}

package replication

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/storage"
	"github.com/picogo/picogo/core/tuple"
)

// Batches: one write of several row changes, one entry, all or nothing.

func ins(table uint32, k uint64, v string) storage.Op {
	return storage.Op{Kind: storage.OpInsert, Table: table, Tuple: []any{k, v}}
}

func rep(table uint32, k uint64, v string) storage.Op {
	return storage.Op{Kind: storage.OpReplace, Table: table, Tuple: []any{k, v}}
}

func del(table uint32, k uint64) storage.Op {
	return storage.Op{Kind: storage.OpDelete, Table: table, Key: []any{k}}
}

// batch writes ops as one batch on member id and runs the cluster.
func (c *cluster) batch(id uint64, ops ...storage.Op) ReqID {
	r := c.req()
	c.m(id).Write(r, 0, storage.Op{Kind: storage.OpBatch, Batch: ops})
	c.run()
	return r
}

func TestBatchReachesReplicasWhole(t *testing.T) {
	for _, sync := range []bool{false, true} {
		t.Run(fmt.Sprint("sync=", sync), func(t *testing.T) {
			c := start(t, Config{}, 3, sync)
			c.writeOK(1, 1, "a")
			c.writeOK(1, 2, "b")
			win := len(c.m(1).win)
			r := c.batch(1,
				ins(testTable.ID, 10, "x"), ins(testTable.ID, 11, "y"),
				rep(testTable.ID, 1, "a2"), del(testTable.ID, 2),
				del(testTable.ID, 99), // a missing key: no row change
			)
			d, ok := c.done(r)
			require.True(t, ok)
			require.Nil(t, d.Err)
			require.Equal(t, 4, d.Rows)
			require.Nil(t, d.Result.Raw(), "a batch returns no tuple")
			require.Equal(t, "{1: 3}", d.VClock.String(), "one LSN for the whole batch")
			require.Equal(t, win+1, len(c.m(1).win), "one entry in the window")
			c.converged()
			for _, id := range c.ids {
				require.Equal(t, "{1: 3}", c.m(id).VClock().String())
				require.Equal(t, []string{`[1, "a2"]`, `[10, "x"]`, `[11, "y"]`}, c.rows(id, testTable.ID), "member %d", id)
			}

			// Single ops count their row; an empty batch changes nothing and
			// logs nothing.
			r = c.write(1, testTable.ID, 12, "z")
			d, _ = c.done(r)
			require.Equal(t, 1, d.Rows)
			require.Equal(t, `[12, "z"]`, d.Result.String(), "a single op keeps its result")
			last := c.m(1).log.Last()
			for _, ops := range [][]storage.Op{nil, {del(testTable.ID, 99)}} {
				r = c.batch(1, ops...)
				d, ok = c.done(r)
				require.True(t, ok)
				require.Nil(t, d.Err)
				require.Equal(t, 0, d.Rows)
			}
			require.Equal(t, last, c.m(1).log.Last())
			require.Equal(t, "{1: 4}", c.m(1).VClock().String())
			c.converged()
		})
	}
}

func TestBatchWithAFailingRowChangesNothing(t *testing.T) {
	c := start(t, Config{}, 3, false)
	c.writeOK(1, 1, "a")
	before := c.m(1).Engine().Snapshot()
	last := c.m(1).log.Last()
	for _, tc := range []struct {
		name string
		ops  []storage.Op
		code uint32
		msg  string
	}{
		{"duplicate", []storage.Op{ins(testTable.ID, 20, "new"), rep(testTable.ID, 1, "changed"), ins(testTable.ID, 20, "again")},
			tuple.CodeTupleFound, `row 3: Duplicate key exists in unique index "t_pkey" in space "t"`},
		{"no such table", []storage.Op{ins(testTable.ID, 20, "new"), ins(999, 1, "x")}, tuple.CodeNoSuchSpace, "row 2: Space '999' does not exist"},
		{"a batch inside", []storage.Op{ins(testTable.ID, 20, "new"), {Kind: storage.OpBatch}}, tuple.CodeIllegalParams, "row 2: a batch inside a batch"},
		{"too many ops", make([]storage.Op, storage.MaxBatchOps+1), tuple.CodeIllegalParams, "A batch of 10001 ops"},
	} {
		r := c.batch(1, tc.ops...)
		d, ok := c.done(r)
		require.True(t, ok, tc.name)
		require.Equal(t, tc.code, errCode(d), "%s: %v", tc.name, d.Err)
		require.True(t, strings.HasPrefix(d.Err.Message, tc.msg), "%s: %s", tc.name, d.Err.Message)
		require.Equal(t, 0, d.Rows)
		require.Equal(t, "{1: 1}", d.VClock.String())
	}
	require.Equal(t, last, c.m(1).log.Last(), "nothing logged")
	c.converged()
	for _, id := range c.ids {
		require.Equal(t, before, c.m(id).Engine().Snapshot(), "member %d", id)
		require.Equal(t, "{1: 1}", c.m(id).VClock().String())
	}
}

func TestBatchTooBigIsRefused(t *testing.T) {
	c := start(t, Config{}, 2, false)
	c.writeOK(1, 1, "a")
	before := c.m(1).Engine().Snapshot()
	big := strings.Repeat("x", 1<<20-100) // 8 of them fit, with their framing
	var ops []storage.Op
	for k := range uint64(MaxBatchChangeBytes>>20 + 1) {
		ops = append(ops, rep(testTable.ID, k, big))
	}
	r := c.batch(1, ops...)
	d, _ := c.done(r)
	require.Equal(t, tuple.CodeIllegalParams, errCode(d))
	require.Contains(t, d.Err.Message, "is more than the 8388608 bytes one write may change")
	require.Equal(t, before, c.m(1).Engine().Snapshot(), "undone")
	require.Equal(t, "{1: 1}", c.m(1).VClock().String())

	// One row fewer fits, and ships whole (alone: more than
	// MaxBytesInFlight).
	r = c.batch(1, ops[1:]...)
	d, _ = c.done(r)
	require.Nil(t, d.Err)
	require.Equal(t, len(ops)-1, d.Rows)
	c.converged()
	require.Greater(t, c.maxFl, DefaultMaxBytesInFlight)
}

func TestBatchShipsAloneAndThroughAFullCopy(t *testing.T) {
	// A batch bigger than a shipment's bound ships alone; one bigger than
	// the window reaches a replica as a full copy.
	cfg := Config{MaxBytesInFlight: 100, WindowBytes: 3000, CopyChunkBytes: 500}
	c := start(t, cfg, 3, false)
	c.writeOK(1, 1, "a")
	var ops []storage.Op
	for k := range uint64(40) {
		ops = append(ops, ins(testTable.ID, 100+k, "0123456789"))
	}
	c.maxFl = 0
	r := c.batch(1, ops...)
	d, _ := c.done(r)
	require.Nil(t, d.Err)
	c.converged()
	require.Greater(t, c.maxFl, 100, "the entry went alone")
	require.False(t, c.noted("full copy"))

	c.crash(3)
	var huge []storage.Op
	for k := range uint64(200) {
		huge = append(huge, ins(testTable.ID, 1000+k, "0123456789"))
	}
	r = c.batch(1, huge...)
	d, _ = c.done(r)
	require.Nil(t, d.Err)
	require.Empty(t, c.m(1).win, "the entry outweighs the window")
	c.converged(1, 2)
	c.restart(3)
	c.tick(c.m(1).cfg.RetryTicks + 1)
	c.converged()
	require.True(t, c.noted("full copy installed"))
	require.Len(t, c.rows(3, testTable.ID), 241)
}

func TestBatchRecoveryReplaysItWhole(t *testing.T) {
	c := start(t, Config{}, 2, false)
	c.writeOK(1, 1, "a")
	c.writeOK(1, 2, "b")
	r := c.batch(1, ins(testTable.ID, 3, "c"), rep(testTable.ID, 1, "a2"), del(testTable.ID, 2))
	d, _ := c.done(r)
	require.Nil(t, d.Err)
	c.converged()
	want := c.m(1).Engine().Snapshot()
	for _, id := range c.ids {
		c.crash(id)
		rec := c.restart(id)
		require.Len(t, rec.Records, 4, "member %d: the table, two writes, one batch record", id)
		require.Equal(t, "{1: 3}", c.m(id).VClock().String())
		require.Equal(t, want, c.m(id).Engine().Snapshot(), "member %d", id)
	}
	c.setMaster(1, false)
	c.writeOK(1, 4, "d")
	c.converged()
}

func TestTornBatchEntryIsDroppedWhole(t *testing.T) {
	c := start(t, Config{}, 1, false)
	c.writeOK(1, 1, "a")
	c.writeOK(1, 2, "b")
	before := c.m(1).Engine().Snapshot()
	r := c.batch(1, ins(testTable.ID, 3, "c"), rep(testTable.ID, 1, "a2"), del(testTable.ID, 2))
	d, _ := c.done(r)
	require.Nil(t, d.Err)
	c.crash(1)
	c.ms[1].store.tearLastRecord(t)
	rec := c.restart(1)
	require.Equal(t, 1, rec.Report.Dropped)
	require.Equal(t, "{1: 2}", c.m(1).VClock().String())
	require.Equal(t, before, c.m(1).Engine().Snapshot(), "none of the batch")
	require.Equal(t, []string{`[1, "a"]`, `[2, "b"]`}, c.rows(1, testTable.ID))
	c.writeOK(1, 5, "again")
	require.Equal(t, "{1: 3}", c.m(1).VClock().String())
}

func TestBatchThatDoesNotApplyOnAReplica(t *testing.T) {
	c := start(t, Config{}, 2, false)
	c.writeOK(1, 1, "a")
	// The replica diverged (a row of its own): the batch's second row does
	// not apply there; its first is undone, and a full copy mends it.
	_, err := c.m(2).Engine().Insert(testTable.ID, tuple.FromValues([]any{uint64(6), "own"}))
	require.Nil(t, err)
	r := c.batch(1, ins(testTable.ID, 5, "x"), ins(testTable.ID, 6, "y"))
	d, _ := c.done(r)
	require.Nil(t, d.Err)
	require.True(t, c.stale[2])
	found := false
	for _, n := range c.notes {
		found = found || strings.Contains(n, "the entry at 2 does not apply: box error 3: row 2: Duplicate key")
	}
	require.True(t, found, "notes: %v", c.notes)
	c.tick(c.m(1).cfg.RetryTicks + 1)
	c.converged()
	require.Equal(t, []string{`[1, "a"]`, `[5, "x"]`, `[6, "y"]`}, c.rows(2, testTable.ID))
}

func TestBatchOfADroppedTable(t *testing.T) {
	c := start(t, Config{}, 3, false)
	t2 := tableDef(600, "t2")
	c.ddl(2, SchemaChange{CreateTable: &t2})
	c.writeOK(1, 1, "a")
	// 3 is cut off while a batch writes both tables; t2 is then dropped.
	c.ms[3].cut = true
	r := c.batch(1, ins(600, 1, "gone"), ins(testTable.ID, 2, "b"), ins(600, 2, "gone"))
	d, _ := c.done(r)
	require.Nil(t, d.Err)
	require.Equal(t, 3, d.Rows)
	c.ddl(3, SchemaChange{DropTable: 600})
	c.ms[3].cut = false
	c.tick(c.m(1).cfg.RetryTicks + 1)
	c.converged()
	require.False(t, c.stale[3], "the dropped table's rows are skipped, the others applied")
	require.Equal(t, []string{`[1, "a"]`, `[2, "b"]`}, c.rows(3, testTable.ID))
	c.crash(3)
	c.restart(3)
	c.converged()
}

func TestBatchRowsCountTowardCheckpoints(t *testing.T) {
	c := start(t, Config{CheckpointEvery: 10}, 2, false)
	c.writeOK(1, 1, "a")
	for _, id := range c.ids {
		require.Zero(t, c.m(id).log.CheckpointLSN(), "two records: no checkpoint yet")
	}
	var ops []storage.Op
	for k := range uint64(12) {
		ops = append(ops, ins(testTable.ID, 10+k, "x"))
	}
	c.batch(1, ops...)
	c.converged()
	for _, id := range c.ids {
		require.Equal(t, uint64(3), c.m(id).log.CheckpointLSN(), "member %d: a batch of 12 rows counts 12", id)
	}
	// Recovery counts the rows of what it replays too.
	c.crash(2)
	c.restart(2)
	require.Zero(t, c.m(2).sinceCkpt)
	c.batch(1, del(testTable.ID, 10), del(testTable.ID, 11), del(testTable.ID, 12))
	c.crash(2)
	c.restart(2)
	require.Equal(t, 3, c.m(2).sinceCkpt, "one record of three rows")
}

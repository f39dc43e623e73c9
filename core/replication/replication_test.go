package replication

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/storage"
	"github.com/picogo/picogo/core/tuple"
	"github.com/picogo/picogo/core/wal"
)

func TestCodes(t *testing.T) {
	require.Equal(t, api.CodeTimeout, CodeTimeout)
}

// start: n members, member 1 the master, testTable created at version 1.
func start(t *testing.T, cfg Config, n int, sync bool) *cluster {
	c := newCluster(t, cfg, n)
	c.setMaster(1, sync)
	def := testTable.Clone()
	c.ddl(1, SchemaChange{CreateTable: &def})
	return c
}

func TestReplicatesInOrder(t *testing.T) {
	c := start(t, Config{}, 3, false)
	for i := range uint64(50) {
		c.writeOK(1, i%20, fmt.Sprint("v", i))
	}
	c.run()
	c.converged()
	require.Equal(t, "{1: 50}", c.m(2).VClock().String())
	require.Len(t, c.rows(3, testTable.ID), 20)
	require.Equal(t, `[19, "v39"]`, c.rows(3, testTable.ID)[19], "the last write of a key wins: applied in order")
	require.False(t, c.noted("full copy"))
}

func TestReplicaRefusesWrites(t *testing.T) {
	c := start(t, Config{}, 3, false)
	r := c.write(2, testTable.ID, 1, "x")
	d, ok := c.done(r)
	require.True(t, ok)
	require.Equal(t, CodeReadonly, errCode(d))
	require.Equal(t, "Can't modify data on a read-only instance", d.Err.Message)
	require.Equal(t, "{}", c.m(2).VClock().String())

	// An engine error is the write's, with nothing logged.
	r = c.write(1, 999, 1, "x")
	d, _ = c.done(r)
	require.Equal(t, tuple.CodeNoSuchSpace, errCode(d))
	require.Equal(t, "{}", c.m(1).VClock().String())
}

func TestReplicaRejectsShipmentsFromANonMaster(t *testing.T) {
	c := start(t, Config{}, 3, false)
	c.writeOK(1, 1, "a")
	// Member 2 thinks 3 is the master: 1's shipments are refused.
	c.configure(2, Role{Master: 3, Peers: []uint64{1, 3}})
	c.writeOK(1, 2, "b")
	c.tick(3)
	require.Equal(t, "{1: 1}", c.m(2).VClock().String())
	require.Equal(t, "{1: 2}", c.m(3).VClock().String())
	c.configure(2, Role{Master: 1, Peers: []uint64{1, 3}})
	c.tick(c.m(1).cfg.RetryTicks + 1)
	c.converged()
}

func TestCatchUpAfterRestart(t *testing.T) {
	c := start(t, Config{}, 3, false)
	for i := range uint64(10) {
		c.writeOK(1, i, "a")
	}
	c.crash(3)
	for i := range uint64(20) {
		c.writeOK(1, 100+i, "b")
	}
	rec := c.restart(3)
	require.Equal(t, 11, len(rec.Records), "the table and ten rows were durable")
	c.tick(c.cfg.withDefaults().RetryTicks + 1)
	c.converged()
	require.Equal(t, "{1: 30}", c.m(3).VClock().String())
	require.False(t, c.noted("full copy"), "the window holds what 3 missed")
}

func TestFullCopyWhenBehindTheWindow(t *testing.T) {
	cfg := Config{WindowBytes: 600, CopyChunkBytes: 100}
	c := start(t, cfg, 3, false)
	for i := range uint64(5) {
		c.writeOK(1, i, "a")
	}
	c.crash(3)
	for i := range uint64(100) {
		c.writeOK(1, 100+i, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
	}
	require.Greater(t, c.m(1).winBase, uint64(5), "the window moved past 3")
	c.restart(3)
	c.tick(cfg.withDefaults().RetryTicks + 1)
	require.True(t, c.noted("full copy"), "notes: %v", c.notes)
	require.True(t, c.noted("full copy installed"))
	require.False(t, c.stale[3], "behind is not diverged")
	c.converged()
	require.Equal(t, "{1: 105}", c.m(3).VClock().String())
	require.LessOrEqual(t, c.maxFl, cfg.CopyChunkBytes, "one chunk in flight")

	// It goes on streaming after the copy, and survives a restart.
	c.writeOK(1, 7, "after")
	c.converged()
	c.crash(3)
	c.restart(3)
	c.converged()
}

func TestBytesInFlightBounded(t *testing.T) {
	for _, bound := range []int{1, 100, 300, 5000} {
		t.Run(fmt.Sprint(bound), func(t *testing.T) {
			cfg := Config{MaxBytesInFlight: bound}
			c := start(t, cfg, 3, false)
			// Writes pile up while the replicas are cut off.
			c.ms[2].cut, c.ms[3].cut = true, true
			for i := range uint64(100) {
				c.writeOK(1, i, "0123456789012345678901234567890123456789")
			}
			c.ms[2].cut, c.ms[3].cut = false, false
			c.maxFl, c.ships = 0, 0
			c.tick(cfg.withDefaults().RetryTicks + 1)
			c.converged()
			entry := 60 // an entry is about this many bytes: one of them is always allowed
			require.LessOrEqual(t, c.maxFl, max(bound, entry), "bytes in flight to one replica")
			if bound < 5000 {
				// 2 replicas × 100 entries, max(bound, entry)/entry entries a shipment.
				require.GreaterOrEqual(t, c.ships, 2*100*entry/max(bound, entry), "many small shipments")
			} else {
				require.Greater(t, c.maxFl, 2000, "big shipments when allowed")
			}
		})
	}
}

func TestDemotePromote(t *testing.T) {
	c := start(t, Config{}, 3, false)
	c.writeOK(1, 1, "a")
	c.ms[2].cut = true
	for i := range uint64(5) {
		c.writeOK(1, 10+i, "b")
	}
	target := c.m(1).Demote()
	require.Equal(t, "{1: 6}", target.String())
	r := c.write(1, testTable.ID, 99, "late")
	d, _ := c.done(r)
	require.Equal(t, CodeReadonly, errCode(d), "a demoted master refuses writes at once")

	p := c.req()
	c.m(2).Promote(p, target, 100)
	c.tick(3)
	_, ok := c.done(p)
	require.False(t, ok, "2 is behind: the promote waits")
	require.False(t, c.m(2).Role().Writable)

	c.ms[2].cut = false
	c.tick(c.m(1).cfg.RetryTicks + 1)
	d, ok = c.done(p)
	require.True(t, ok)
	require.Nil(t, d.Err)
	require.Equal(t, "{1: 6}", d.VClock.String())
	require.True(t, c.m(2).Role().Writable)

	// The governor records the new master; writes go on there.
	for _, id := range c.ids {
		r := c.ms[id].m.Role()
		c.configure(id, Role{Master: 2, Peers: c.others(id), Writable: r.Writable})
	}
	c.writeOK(2, 50, "new")
	c.run()
	c.converged()
	require.Equal(t, "{1: 6, 2: 1}", c.m(1).VClock().String())
}

func TestPromoteTimesOut(t *testing.T) {
	c := start(t, Config{}, 3, false)
	c.writeOK(1, 1, "a")
	c.ms[2].cut = true
	c.writeOK(1, 2, "b")
	target := c.m(1).Demote()
	p := c.req()
	c.m(2).Promote(p, target, 5)
	c.tick(4)
	_, ok := c.done(p)
	require.False(t, ok)
	c.tick(1)
	d, ok := c.done(p)
	require.True(t, ok)
	require.Equal(t, CodeTimeout, errCode(d))
	require.False(t, c.m(2).Role().Writable)
	r := c.write(2, testTable.ID, 3, "x")
	d, _ = c.done(r)
	require.Equal(t, CodeReadonly, errCode(d), "still read-only")
}

func TestWaitVClock(t *testing.T) {
	c := start(t, Config{}, 2, false)
	w := c.req()
	c.m(2).WaitVClock(w, vc(1, 2), 10)
	c.writeOK(1, 1, "a")
	_, ok := c.done(w)
	require.False(t, ok)
	c.writeOK(1, 2, "b")
	d, ok := c.done(w)
	require.True(t, ok)
	require.Nil(t, d.Err)
	require.Equal(t, "{1: 2}", d.VClock.String())

	w = c.req()
	c.m(2).WaitVClock(w, vc(1, 3), 2)
	c.tick(2)
	d, _ = c.done(w)
	require.Equal(t, CodeTimeout, errCode(d))
}

func TestDivergedOldMasterGetsAFullCopy(t *testing.T) {
	c := start(t, Config{CopyChunkBytes: 50}, 3, false)
	for i := range uint64(10) {
		c.writeOK(1, i, "a")
	}
	c.converged()
	// 1 is cut off and goes on writing (async: done when durable locally).
	c.ms[1].cut = true
	for i := range uint64(5) {
		c.writeOK(1, 100+i, "lost")
	}
	// The governor cannot reach 1: it promotes the most advanced replica.
	p := c.req()
	c.m(2).Promote(p, c.m(2).VClock(), 10)
	d, _ := c.done(p)
	require.Nil(t, d.Err)
	c.configure(2, Role{Master: 2, Peers: []uint64{1, 3}, Writable: true})
	c.configure(3, Role{Master: 2, Peers: []uint64{1, 2}})
	for i := range uint64(3) {
		c.writeOK(2, 200+i, "new")
	}
	// 1 comes back and learns the new master.
	c.ms[1].cut = false
	c.configure(1, Role{Master: 2, Peers: []uint64{2, 3}})
	c.tick(c.m(1).cfg.RetryTicks + 1)
	require.True(t, c.stale[1], "the old master learned it diverged")
	require.True(t, c.noted("full copy installed"))
	c.converged()
	require.Equal(t, "{1: 10, 2: 3}", c.m(1).VClock().String())
	require.NotContains(t, fmt.Sprint(c.rows(1, testTable.ID)), "lost")

	// Even strictly ahead (the new master wrote nothing), it is diverged.
	c.ms[2].cut = true
	c.writeOK(2, 300, "lost too")
	c.configure(3, Role{Master: 3, Peers: []uint64{1, 2}, Writable: true})
	c.configure(1, Role{Master: 3, Peers: []uint64{2, 3}})
	c.ms[2].cut = false
	c.configure(2, Role{Master: 3, Peers: []uint64{1, 3}})
	c.stale = map[uint64]bool{}
	c.tick(c.m(1).cfg.RetryTicks + 1)
	require.True(t, c.stale[2], "%v", c.notes)
	c.converged()
	require.Equal(t, "{1: 10, 2: 3}", c.m(2).VClock().String())
}

func TestSyncQuorum(t *testing.T) {
	c := start(t, Config{}, 3, true)
	// One replica cut: the other makes the majority.
	c.ms[3].cut = true
	c.writeOK(1, 1, "a")

	// The write waits for the replica's disk, not only the master's.
	c.ms[2].hold = true
	r := c.write(1, testTable.ID, 2, "b")
	c.tick(2)
	_, ok := c.done(r)
	require.False(t, ok, "durable on the master alone is not a majority")
	require.Equal(t, "{1: 2}", c.m(2).VClock().String(), "2 applied it, not yet durably")
	c.ms[2].hold = false
	c.run()
	d, ok := c.done(r)
	require.True(t, ok)
	require.Nil(t, d.Err)

	// Both cut: no majority, no Done.
	c.ms[2].cut = true
	r = c.write(1, testTable.ID, 3, "c")
	c.tick(30)
	_, ok = c.done(r)
	require.False(t, ok)
	c.ms[3].cut = false
	c.tick(c.m(1).cfg.RetryTicks + 1)
	_, ok = c.done(r)
	require.True(t, ok, "3 came back: a majority")
	c.ms[2].cut = false
	c.tick(c.m(1).cfg.RetryTicks + 1)
	c.converged()

	// A master that loses its role answers its unconfirmed writes.
	c.ms[2].cut, c.ms[3].cut = true, true
	r = c.write(1, testTable.ID, 4, "d")
	c.configure(1, Role{Master: 2, Peers: []uint64{2, 3}, Sync: true})
	c.run()
	d, _ = c.done(r)
	require.Equal(t, CodeTimeout, errCode(d))
}

func TestRecoveryWithATornTail(t *testing.T) {
	c := start(t, Config{}, 1, false)
	for i := range uint64(20) {
		c.writeOK(1, i, "a")
	}
	// Five more writes whose persist the crash loses.
	c.ms[1].hold = true
	for i := range uint64(5) {
		r := c.write(1, testTable.ID, 100+i, "gone")
		_, ok := c.done(r)
		require.False(t, ok)
	}
	c.crash(1)
	c.ms[1].store.tearLastRecord(t)
	rec := c.restart(1)
	require.Equal(t, 1, rec.Report.Dropped)
	require.Equal(t, "{1: 19}", c.m(1).VClock().String())
	rows := c.rows(1, testTable.ID)
	require.Len(t, rows, 19)
	require.NotContains(t, fmt.Sprint(rows), "gone")
	// It writes on from there.
	c.writeOK(1, 19, "again")
	require.Equal(t, "{1: 20}", c.m(1).VClock().String())
}

func TestSchemaWaitAndDroppedTable(t *testing.T) {
	c := start(t, Config{}, 3, false)
	c.writeOK(1, 1, "a")
	// The master has applied version 2 (a new table), the replicas not yet.
	t2 := tableDef(600, "t2")
	c.ddl(2, SchemaChange{CreateTable: &t2}, 1)
	r := c.write(1, 600, 1, "x")
	d, _ := c.done(r)
	require.Nil(t, d.Err)
	c.writeOK(1, 2, "b")
	c.tick(c.m(1).cfg.RetryTicks * 2)
	require.Equal(t, "{1: 1}", c.m(2).VClock().String(), "the entry of version 2 waits")
	c.ddl(2, SchemaChange{CreateTable: &t2}, 2, 3)
	c.tick(c.m(1).cfg.RetryTicks + 1)
	c.converged()
	require.Equal(t, "{1: 3}", c.m(3).VClock().String())

	// 3 is cut off while rows go into t2, which is then dropped.
	c.ms[3].cut = true
	for i := range uint64(3) {
		c.write(1, 600, 10+i, "y")
	}
	c.ddl(3, SchemaChange{DropTable: 600})
	c.writeOK(1, 3, "c")
	c.ms[3].cut = false
	c.tick(c.m(1).cfg.RetryTicks + 1)
	c.converged()
	require.Equal(t, "{1: 7}", c.m(3).VClock().String(), "the entries of the dropped table advanced the vclock")
	require.False(t, c.stale[3], "skipped, not diverged")
	require.False(t, c.noted("full copy"), "skipped, not copied")
	_, exists := c.m(3).Engine().Table(600)
	require.False(t, exists)

	// A replica restarted replays the DDL and the skipped entries alike.
	c.crash(3)
	c.restart(3)
	c.converged()
}

func TestCheckpointAndReplay(t *testing.T) {
	cfg := Config{CheckpointEvery: 7}
	c := start(t, cfg, 2, false)
	for i := range uint64(30) {
		c.writeOK(1, i%12, fmt.Sprint("v", i))
		if i == 15 {
			idx := schema.IndexDef{TableID: testTable.ID, ID: 1, Name: "by_v", Type: "tree",
				Opts: map[string]any{"unique": false}, Parts: []schema.IndexPart{{Field: "v", Type: "string"}}}
			c.ddl(2, SchemaChange{CreateIndex: &idx})
		}
	}
	c.converged()
	for _, id := range c.ids {
		before := c.m(id).Engine().Snapshot()
		v := c.m(id).VClock().String()
		c.crash(id)
		rec := c.restart(id)
		require.Positive(t, rec.CheckpointLSN, "a checkpoint was taken")
		require.NotEmpty(t, rec.Records, "records after it are replayed")
		require.Equal(t, before, c.m(id).Engine().Snapshot(), "member %d", id)
		require.Equal(t, v, c.m(id).VClock().String())
		require.Equal(t, uint64(2), c.m(id).SchemaVersion())
	}
	c.setMaster(1, false)
	c.writeOK(1, 100, "more")
	c.converged()
}

func TestCheckSchema(t *testing.T) {
	c := start(t, Config{}, 1, false)
	c.writeOK(1, 1, "same")
	c.writeOK(1, 2, "same")
	before := c.m(1).Engine().Snapshot()
	unique := schema.IndexDef{TableID: testTable.ID, ID: 1, Name: "by_v", Type: "tree",
		Parts: []schema.IndexPart{{Field: "v", Type: "string"}}}
	require.Equal(t, tuple.CodeTupleFound, c.m(1).CheckSchema(SchemaChange{CreateIndex: &unique}).Code)
	require.Equal(t, before, c.m(1).Engine().Snapshot(), "nothing changed")
	nonUnique := unique
	nonUnique.Opts = map[string]any{"unique": false}
	require.Nil(t, c.m(1).CheckSchema(SchemaChange{CreateIndex: &nonUnique}))
	require.Equal(t, before, c.m(1).Engine().Snapshot(), "nothing changed")
	def := testTable.Clone()
	require.Equal(t, tuple.CodeSpaceExists, c.m(1).CheckSchema(SchemaChange{CreateTable: &def}).Code)
	require.Equal(t, tuple.CodeNoSuchSpace, c.m(1).CheckSchema(SchemaChange{DropTable: 7}).Code)
	require.Equal(t, tuple.CodeIllegalParams, c.m(1).CheckSchema(SchemaChange{}).Code)
	// ApplySchema is idempotent per version.
	require.Nil(t, c.m(1).ApplySchema(1, SchemaChange{CreateTable: &def}))
}

// A full copy's crash cases: the replica crashes with its marker durable
// and the checkpoint at it not, or with neither; recovery gives the copy
// or the old state, never old records on top of the copy.
func TestFullCopyCrashCases(t *testing.T) {
	for _, tc := range []struct {
		name      string
		commit    int    // wal writes of the replica completed after the copy arrived
		wantVC    string // what the replica recovers
		wantMarks bool   // the marker was replayed (not a checkpoint)
	}{
		{"marker not durable", 0, "{1: 5}", false},
		{"marker durable, checkpoint not", 1, "{1: 105}", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{WindowBytes: 600, WAL: wal.Options{MaxBatchBytes: 1024, ChunkBytes: 256}}
			c := start(t, cfg, 2, false)
			for i := range uint64(5) {
				c.writeOK(1, i, "a")
			}
			c.crash(2)
			for i := range uint64(100) {
				c.writeOK(1, 100+i, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
			}
			master := c.m(1).Engine().Snapshot()
			c.restart(2)
			c.ms[2].hold = true
			c.tick(cfg.withDefaults().RetryTicks + 1)
			require.True(t, c.noted("full copy installed"))
			require.Equal(t, "{1: 105}", c.m(2).VClock().String(), "installed, applied")
			require.Equal(t, "{1: 5}", c.m(2).DurableVClock().String(), "not durable yet")
			require.True(t, c.m(2).log.Checkpointing())
			c.ms[2].commit = tc.commit
			c.run()
			require.True(t, c.m(2).log.Checkpointing(), "the checkpoint is not complete")
			c.crash(2)
			rec := c.restart(2)
			require.Zero(t, rec.CheckpointLSN)
			require.Equal(t, tc.wantVC, c.m(2).VClock().String())
			if tc.wantMarks {
				require.Equal(t, recCopy, rec.Records[len(rec.Records)-1].Payload[0])
				require.Equal(t, master, c.m(2).Engine().Snapshot(), "the copy, nothing else")
			}
			c.tick(cfg.withDefaults().RetryTicks + 1)
			c.converged()
			// Once the checkpoint is complete, recovery starts from it.
			c.crash(2)
			rec = c.restart(2)
			require.Positive(t, rec.CheckpointLSN)
			c.converged()
		})
	}
}

// Duplicates are skipped, a delayed shipment does not make a replica
// stale, and shipments from anyone but the master are refused.
func TestDuplicateAndDelayedShipments(t *testing.T) {
	c := start(t, Config{}, 2, false)
	insert := func(k uint64) {
		r := c.req()
		c.m(1).Write(r, 0, storage.Op{Kind: storage.OpInsert, Table: testTable.ID, Tuple: []any{k, "x"}})
	}
	// Capture the shipments instead of delivering them.
	c.collect()
	insert(1)
	insert(2)
	var ships [][]byte
	for range 10 {
		c.collect()
		for _, mb := range []*member{c.ms[1]} {
			for len(mb.queue) > 0 {
				w := mb.queue[0]
				mb.queue = mb.queue[1:]
				mb.store.commit(w.Batch)
				require.NoError(t, mb.m.PersistDone(w.Seq))
			}
		}
		c.collect()
		for _, msg := range c.net {
			if !msg.reply && msg.to == 2 {
				ships = append(ships, msg.payload)
			}
		}
	}
	require.NotEmpty(t, ships)
	c.run()
	c.converged()
	before := c.m(2).VClock().String()
	for i, p := range ships {
		c.m(2).Receive(ReqID(1000+i), 1, p)
	}
	c.run()
	require.False(t, c.m(2).Stale(), "an old shipment is no divergence")
	require.Equal(t, before, c.m(2).VClock().String(), "duplicates skipped")
	c.converged()

	// From someone who is not the master: refused, whatever it says.
	c.m(2).Receive(2000, 7, ships[0])
	effs := c.m(2).TakeEffects()
	require.Len(t, effs, 1)
	a, err := decodeAnswer(effs[0].(Answer).Payload)
	require.NoError(t, err)
	require.Equal(t, statusNotMaster, a.status)
}

// A master ships only what is durable on its own disk: a replica never
// has what a crash of the master may lose.
func TestShipsOnlyDurableEntries(t *testing.T) {
	c := start(t, Config{}, 2, false)
	c.ms[1].hold = true
	c.write(1, testTable.ID, 1, "a")
	c.tick(3)
	require.Equal(t, "{1: 1}", c.m(1).VClock().String())
	require.Equal(t, "{}", c.m(2).VClock().String())
	c.crash(1)
	c.restart(1)
	c.tick(c.m(1).cfg.RetryTicks + 1)
	c.converged()
	require.Equal(t, "{}", c.m(2).VClock().String())
	require.False(t, c.stale[2])
}

// A batch that overlaps what the replica has applies from where it is; a
// probe whose vclock is concurrent with the replica's makes it Stale at
// once, before any copy.
func TestOverlapAndConcurrentProbe(t *testing.T) {
	c := start(t, Config{}, 2, false)
	c.writeOK(1, 1, "a")
	c.ms[2].cut = true
	c.writeOK(1, 2, "b")
	c.writeOK(1, 3, "c")
	w := c.m(1).win
	require.Len(t, w, 3)
	msg := message{kind: msgEntries, seq: 77, vc: c.m(1).VClock(), first: 1, entries: [][]byte{w[0].data, w[1].data, w[2].data}}
	c.m(2).Receive(5000, 1, encodeMessage(msg))
	require.Equal(t, "{1: 3}", c.m(2).VClock().String(), "the first entry skipped, the others applied")
	require.False(t, c.m(2).Stale())

	probe := message{kind: msgProbe, seq: 78, vc: vc(1, 2, 9, 1)}
	c.m(2).Receive(5001, 1, encodeMessage(probe))
	require.True(t, c.m(2).Stale(), "{1: 3} and {1: 2, 9: 1} are concurrent")
	c.collect()
	require.True(t, c.noted("diverged"), "%v", c.notes)
	// It knows it across a restart.
	c.run()
	c.crash(2)
	c.restart(2)
	require.True(t, c.m(2).Stale(), "Stale is logged")
	r := c.write(2, testTable.ID, 9, "x")
	d, _ := c.done(r)
	require.Equal(t, CodeReadonly, errCode(d))
	c.ms[2].cut = false
	c.run()
	c.tick(c.m(1).cfg.RetryTicks + 1)
	require.True(t, c.noted("full copy installed"), "%v", c.notes)
	c.converged()
}

// A full copy too carries only what is durable on the master.
func TestCopyWaitsForTheMastersDisk(t *testing.T) {
	cfg := Config{WindowBytes: 300}
	c := start(t, cfg, 2, false)
	c.crash(2)
	for i := range uint64(30) {
		c.writeOK(1, i, "aaaaaaaaaaaaaaaaaaaa")
	}
	c.ms[1].hold = true
	c.write(1, testTable.ID, 99, "not durable")
	c.restart(2)
	c.tick(cfg.withDefaults().RetryTicks + 1)
	require.Equal(t, "{}", c.m(2).VClock().String(), "no copy while the master's log is not durable")
	c.crash(1)
	c.restart(1)
	c.tick(cfg.withDefaults().RetryTicks + 1)
	c.converged()
	require.Equal(t, "{1: 30}", c.m(2).VClock().String())
	require.False(t, c.stale[2])
}

// An answer to a shipment the master gave up on is ignored: it does not
// release a second shipment while one is outstanding.
func TestStaleAnswerIgnored(t *testing.T) {
	c := start(t, Config{}, 2, false)
	c.writeOK(1, 1, "a")
	c.ms[2].cut = true
	c.writeOK(1, 2, "b") // the shipment fails: a probe after RetryTicks
	c.ms[2].cut = false
	// Keep the probe outstanding: take it out of the network.
	for range c.m(1).cfg.RetryTicks {
		for _, id := range c.ids {
			c.m(id).Tick()
		}
	}
	c.collect()
	require.Len(t, c.net, 1, "the probe")
	c.net = nil
	p := c.m(1).peer(2)
	require.True(t, p.outstanding)
	old := encodeAnswer(answer{seq: p.seq - 1, status: statusOK, vc: vc(1, 1)})
	c.m(1).Response(2, old, nil)
	require.True(t, p.outstanding, "still waiting for the probe's answer")
	require.Empty(t, c.m(1).TakeEffects())
	// The probe is lost; after RetryTicks the master probes again.
	c.tick(c.m(1).cfg.RetryTicks + 1)
	c.converged()
}

// A replica that lags when a unique index is created over rows the master
// had made unique just before: the index does not fit the replica's rows
// yet, so it defers it and applies it where the master did — even across
// a restart.
func TestDeferredUniqueIndex(t *testing.T) {
	for _, tc := range []struct{ restart, entryAfter bool }{{false, false}, {false, true}, {true, false}, {true, true}} {
		restart := tc.restart
		t.Run(fmt.Sprintf("restart=%v,entryAfter=%v", tc.restart, tc.entryAfter), func(t *testing.T) {
			c := start(t, Config{}, 3, false)
			c.writeOK(1, 1, "x")
			c.writeOK(1, 2, "x")
			c.ms[3].cut = true
			c.writeOK(1, 2, "y") // no duplicate on the master any more
			idx := schema.IndexDef{TableID: testTable.ID, ID: 1, Name: "by_v", Type: "tree",
				Parts: []schema.IndexPart{{Field: "v", Type: "string"}}}
			require.Nil(t, c.m(1).CheckSchema(SchemaChange{CreateIndex: &idx}))
			c.ddl(2, SchemaChange{CreateIndex: &idx}) // 3 still has two "x"
			require.True(t, c.noted("schema change deferred"))
			require.Equal(t, uint64(1), c.m(3).SchemaVersion())
			require.Equal(t, uint64(2), c.m(2).SchemaVersion())
			if tc.entryAfter {
				c.writeOK(1, 5, "w") // applied on 3 right after the DDL
				// A table created behind the deferred DDL: its rows must
				// not be taken for rows of a dropped table.
				t3 := tableDef(700, "t3")
				c.ddl(3, SchemaChange{CreateTable: &t3})
				_, ok := c.m(3).Engine().Table(700)
				require.False(t, ok, "waits behind version 2")
				r := c.write(1, 700, 1, "t3")
				d, _ := c.done(r)
				require.Nil(t, d.Err)
			}
			if restart {
				c.crash(3)
				c.restart(3)
				require.Equal(t, uint64(1), c.m(3).SchemaVersion())
			}
			c.ms[3].cut = false
			c.tick(c.m(1).cfg.RetryTicks + 1)
			require.Equal(t, c.m(1).SchemaVersion(), c.m(3).SchemaVersion())
			c.converged()
			c.writeOK(1, 3, "z") // an entry of version 2
			c.converged()
			r := c.write(1, testTable.ID, 4, "z")
			d, _ := c.done(r)
			require.Equal(t, tuple.CodeTupleFound, errCode(d), "the index is unique")
			c.crash(3)
			c.restart(3)
			c.converged()
		})
	}
}

// With WAL.NoSync, "durable" is "written": replication still flows.
func TestNoSync(t *testing.T) {
	c := start(t, Config{WAL: wal.Options{NoSync: true}}, 3, true)
	for i := range uint64(10) {
		c.writeOK(1, i, "a")
	}
	c.converged()
}

// A delayed, complete full copy older than what the replica has is
// refused: its vclock never moves back.
func TestOldCopyRefused(t *testing.T) {
	c := start(t, Config{}, 2, false)
	c.writeOK(1, 1, "a")
	old := c.m(1).stateBlob()
	c.writeOK(1, 2, "b")
	c.converged()
	msg := message{kind: msgCopy, seq: 99, vc: c.m(1).VClock(), copyID: 12345, total: uint64(len(old)), chunk: old}
	c.m(2).Receive(7000, 1, encodeMessage(msg))
	c.run()
	require.True(t, c.noted("old full copy refused"))
	require.Equal(t, "{1: 2}", c.m(2).VClock().String())
	c.converged()
}

// A diverged old master whose new master is gone for good (expelled) gets no
// full copy: a failover's promote with its own vclock adopts its data as it
// is; a promote asking for more still waits for the copy.
func TestFailoverAdoptsAStaleMember(t *testing.T) {
	c := start(t, Config{CopyChunkBytes: 20}, 2, false)
	c.writeOK(1, 1, "a")
	c.converged()
	c.ms[1].cut = true
	c.writeOK(1, 2, "lost")
	p := c.req()
	c.m(2).Promote(p, c.m(2).VClock(), 10)
	d, _ := c.done(p)
	require.Nil(t, d.Err)
	c.configure(2, Role{Master: 2, Peers: []uint64{1}, Writable: true})
	c.writeOK(2, 3, "new")
	c.ms[1].cut, c.ms[1].slow = false, true // messages to 1 wait for the test
	c.configure(1, Role{Master: 2, Peers: []uint64{2}})
	// 2's first shipment reaches 1, and 2 is gone for good: its full copy
	// never comes.
	for i := 0; ; i++ {
		require.Less(t, i, 1000, "2 never ships to 1")
		c.collect()
		k := slices.IndexFunc(c.net, func(m netMsg) bool { return !m.reply && m.from == 2 && m.to == 1 })
		if k >= 0 {
			msg := c.net[k]
			c.net = slices.Delete(c.net, k, k+1)
			c.deliver(msg)
			break
		}
		c.tick(1)
	}
	c.crash(2)
	c.ms[1].slow = false
	c.run()
	require.True(t, c.m(1).Stale(), "%v", c.notes)
	require.False(t, c.noted("full copy installed"))

	p = c.req()
	c.m(1).Promote(p, c.m(2).VClock(), 10)
	c.collect()
	d, _ = c.done(p)
	require.Equal(t, CodeReadonly, errCode(d), "asked for what it lacks: it waits for a full copy")
	require.True(t, c.m(1).Stale())

	own := c.m(1).VClock()
	p = c.req()
	c.m(1).Promote(p, own, 10)
	c.tick(1)
	d, ok := c.done(p)
	require.True(t, ok)
	require.Nil(t, d.Err)
	require.False(t, c.m(1).Stale())
	require.True(t, c.m(1).Role().Writable)
	require.True(t, c.noted("adopted"))

	c.restart(1)
	require.False(t, c.m(1).Stale(), "the adoption is logged")
	require.Contains(t, fmt.Sprint(c.rows(1, testTable.ID)), "lost")
}

// A member promoted over its master takes no shipment from that one while
// the tables still name it (they catch up after the promotion): the old
// master, back and believing it is one, must not make the replicaset's new
// reference Stale. Told it is a replica (Demote), it follows again.
// promotedOverOne is two members: master 1 wrote {1: 2}; member 2, cut
// off (still), has {1: 1} and was promoted as it is (a failover).
func promotedOverOne(t *testing.T) *cluster {
	c := start(t, Config{}, 2, false)
	c.writeOK(1, 1, "a")
	c.converged()
	c.ms[2].cut = true
	c.writeOK(1, 2, "only on 1")
	p := c.req()
	c.m(2).Promote(p, c.m(2).VClock(), 10)
	c.collect()
	d, _ := c.done(p)
	require.Nil(t, d.Err)
	return c
}

func TestPromotedMemberRefusesItsOldMaster(t *testing.T) {
	c := promotedOverOne(t)
	c.configure(2, Role{Master: 1, Peers: []uint64{1}}) // the tables lag
	c.ms[2].cut = false
	c.tick(c.m(1).cfg.RetryTicks + 1)
	require.False(t, c.stale[2], "the old master made its successor Stale: %v", c.notes)
	require.Equal(t, "{1: 1}", c.m(2).VClock().String())

	c.m(2).Demote()
	c.tick(c.m(1).cfg.RetryTicks + 1)
	require.Equal(t, "{1: 2}", c.m(2).VClock().String(), "a replica again, it follows")
}

// A failover promoted member 2 over master 1, but its change of the tables
// never committed; master 1 comes back and the governor switches over from
// it: 1 is demoted at {1: 2}, and 2 is asked to catch up with that. It
// follows 1 again and becomes writable once it has it (seed 1062: it kept
// refusing 1's shipments, and every switchover timed out for good).
func TestPromotedMemberFollowsItsDemotedOldMaster(t *testing.T) {
	c := promotedOverOne(t)
	c.ms[2].cut = false
	at := c.m(1).Demote()
	require.Equal(t, "{1: 2}", at.String())
	p := c.req()
	c.m(2).Promote(p, at, 10*(c.m(1).cfg.RetryTicks+1))
	require.False(t, c.m(2).Role().Writable, "read-only until it has what 1 had")
	c.tick(2 * (c.m(1).cfg.RetryTicks + 1))
	d, ok := c.done(p)
	require.True(t, ok, "the switchover's promote ended: %v", c.notes)
	require.Nil(t, d.Err)
	require.Equal(t, "{1: 2}", c.m(2).VClock().String())
	require.True(t, c.m(2).Role().Writable)
	require.False(t, c.stale[2])
}

// A read barrier ends once what the member applied cannot be taken back:
// on the master of a synchronous tier, once a quorum confirmed it; on an
// idle member at once.
func TestReadBarrier(t *testing.T) {
	c := start(t, Config{}, 3, true)
	c.writeOK(1, 1, "a")
	b := c.req()
	c.m(1).ReadBarrier(b)
	c.collect()
	_, ok := c.done(b)
	require.True(t, ok, "nothing unconfirmed: at once")

	c.ms[2].cut, c.ms[3].cut = true, true
	w := c.write(1, testTable.ID, 2, "unconfirmed")
	b = c.req()
	c.m(1).ReadBarrier(b)
	c.tick(5)
	_, ok = c.done(b)
	require.False(t, ok, "a read must not show a write no quorum has")
	c.ms[2].cut = false
	c.tick(c.m(1).cfg.RetryTicks + 1)
	_, ok = c.done(w)
	require.True(t, ok)
	d, ok := c.done(b)
	require.True(t, ok, "confirmed: the read goes on")
	require.Nil(t, d.Err)

	// A replica waits for its own disk only.
	r := c.req()
	c.m(2).ReadBarrier(r)
	c.run()
	_, ok = c.done(r)
	require.True(t, ok)
}

// A replica that told a failover its vclock (Fence) confirms no later
// write of the old master's: in a synchronous replicaset of three, the
// master cut off from the member the failover will promote cannot get a
// write acknowledged through the other one, which would then be lost
// (seed 150: a write acknowledged by the old master after the survey,
// gone with the new master). Told the tables anew (Unfence), or another
// master (Configure), it follows as it is told.
func TestFencedReplicaConfirmsNoMoreOfItsMaster(t *testing.T) {
	c := start(t, Config{}, 3, true)
	c.writeOK(1, 1, "a")
	c.converged()
	c.ms[2].cut = true // the failover's choice, out of the old master's reach
	c.m(3).Fence()     // the survey asked member 3
	w := c.write(1, testTable.ID, 2, "after the survey")
	c.tick(3 * (c.m(1).cfg.RetryTicks + 1))
	_, ok := c.done(w)
	require.False(t, ok, "acknowledged with the fenced member's confirmation: %v", c.notes)
	require.Equal(t, "{1: 1}", c.m(3).VClock().String(), "member 3 took nothing of 1's since")

	c.m(3).Unfence() // the governor kept 1 as the master after all
	c.tick(3 * (c.m(1).cfg.RetryTicks + 1))
	d, ok := c.done(w)
	require.True(t, ok, "confirmed once unfenced: %v", c.notes)
	require.Nil(t, d.Err)
	require.Equal(t, "{1: 2}", c.m(3).VClock().String())
}

// A graceful stop checkpoints everything appended (CheckpointNow): the
// next start replays no records, and recovers the same state. With
// nothing new since the last checkpoint there is nothing to write.
func TestCheckpointNowLeavesNothingToReplay(t *testing.T) {
	c := start(t, Config{CheckpointEvery: 1000}, 2, false)
	for i := range uint64(20) {
		c.writeOK(1, i%7, fmt.Sprint("v", i))
	}
	c.converged()
	for _, id := range c.ids {
		m := c.m(id)
		before, v := m.Engine().Snapshot(), m.VClock().String()
		m.CheckpointNow()
		require.True(t, m.Checkpointing(), "member %d: a checkpoint is being written", id)
		c.run()
		require.False(t, m.Checkpointing(), "member %d: the checkpoint is durable", id)
		m.CheckpointNow()
		require.False(t, m.Checkpointing(), "member %d: nothing new to checkpoint", id)
		c.crash(id)
		rec := c.restart(id)
		require.Positive(t, rec.CheckpointLSN)
		require.Empty(t, rec.Records, "member %d: nothing to replay", id)
		require.Equal(t, before, c.m(id).Engine().Snapshot(), "member %d", id)
		require.Equal(t, v, c.m(id).VClock().String())
	}
}

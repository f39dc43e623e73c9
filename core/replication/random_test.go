package replication

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/storage"
	"github.com/picogo/picogo/core/vclock"
	"github.com/picogo/picogo/core/wal"
)

// TestRandomized drives a 3-member replicaset through seeded random
// writes, partitions, stalled disks, crashes, switchovers and failovers,
// then heals everything and requires every member identical to the
// master; in sync mode, every acknowledged write survives.
func TestRandomized(t *testing.T) {
	seeds := *randomSeeds
	if testing.Short() {
		seeds = 30
	}
	var copies, stales, deferred, ran int
	for seed := range uint64(seeds) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			ran++
			c := randomRun(t, seed)
			for _, n := range c.notes {
				switch {
				case contains(n, "full copy installed"):
					copies++
				case contains(n, ": diverged:"):
					stales++
				case contains(n, "schema change deferred"):
					deferred++
				}
			}
		})
	}
	t.Logf("%d seeds: %d full copies, %d divergences, %d deferred, %d DDL failed on a restarted master; batches: %d kept whole, %d failed", seeds, copies, stales, deferred, masterDDLFailures, batchesKept, batchesFailed)
	if ran >= 100 && !t.Failed() {
		require.Positive(t, copies, "no full copy happened")
		require.Positive(t, batchesKept, "no batch was kept")
		require.Positive(t, batchesFailed, "no batch failed")
		require.Positive(t, stales, "no member diverged")
	}
}

func contains(s, sub string) bool { return len(s) >= len(sub) && indexOf(s, sub) >= 0 }

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

var (
	masterDDLFailures int
	// batches refused (a failing row), and acknowledged ones all there
	batchesFailed, batchesKept int
	randomSeeds                = flag.Int("seeds", 300, "seeds of TestRandomized")
)

func randomRun(t *testing.T, seed uint64) *cluster {
	r := rand.New(rand.NewPCG(seed, 7))
	pick := func(xs ...int) int { return xs[r.IntN(len(xs))] }
	cfg := Config{
		MaxBytesInFlight: pick(1, 200, 1<<20),
		WindowBytes:      pick(500, 5000, 1<<20),
		CheckpointEvery:  pick(5, 20, 1000),
		CopyChunkBytes:   pick(64, 1000, 1<<20),
		RetryTicks:       pick(2, 5),
		WAL:              wal.Options{MaxBatchBytes: pick(512, 1<<20), ChunkBytes: pick(128, 4096)},
	}
	sync := r.IntN(2) == 0
	c := start(t, cfg, 3, sync)
	master := uint64(1)
	history := []uint64{1} // masters, oldest first
	type ack struct {
		id   ReqID
		to   uint64
		sync bool
	}
	var writes []ack
	var batches []batchWrite
	reachable := func(id uint64) bool { return !c.ms[id].down && !c.ms[id].cut }
	// The committed DDL (the Raft log): every member applies all of it, a
	// member that is down when it restarts.
	type ddl struct {
		version uint64
		ch      SchemaChange
	}
	def := testTable.Clone()
	ddls := []ddl{{1, SchemaChange{CreateTable: &def}}}
	feed := func(id uint64) {
		for _, d := range ddls {
			err := c.m(id).ApplySchema(d.version, d.ch)
			if err != nil && c.m(id).Role().Master == id {
				// A master that lost the DDL's record in a crash, and the
				// rows that made it fit: see docs/replication.md.
				c.logf("master %d: version %d: %v", id, d.version, err)
				masterDDLFailures++
				continue
			}
			require.Nil(t, err, "member %d, version %d", id, d.version)
			c.m(id).SetSchemaVersion(d.version)
		}
	}
	tables := []uint32{testTable.ID}
	for range 250 {
		x := r.IntN(100)
		switch {
		case x < 50:
			to := master
			if r.IntN(10) == 0 {
				to = uint64(1 + r.IntN(3)) // perhaps an old master, cut off
			}
			if c.ms[to].down {
				break
			}
			id := c.req()
			table := testTable.ID
			if len(tables) > 1 && r.IntN(3) == 0 {
				table = tables[1]
			}
			val := fmt.Sprint("s", seed, "w", id)
			if r.IntN(8) == 0 {
				val = "dup" // a unique index over v may or may not fit
			}
			op := storage.Op{Kind: storage.OpReplace, Table: table, Tuple: []any{uint64(r.IntN(30)), val}}
			if r.IntN(4) == 0 {
				// A batch: the write above, then fresh keys of its own,
				// perhaps a row of the other table (which may be dropped
				// later), perhaps a last row that fails (then none of it
				// may be anywhere).
				b := batchWrite{id: id, base: 1000 + 10*uint64(id), rows: 2 + r.IntN(3), sync: c.m(to).Role().Sync}
				ops := []storage.Op{op}
				for j := range b.rows {
					ops = append(ops, storage.Op{Kind: storage.OpInsert, Table: testTable.ID,
						Tuple: []any{b.base + uint64(j), fmt.Sprint(val, "-", j)}})
				}
				if len(tables) > 1 && r.IntN(2) == 0 {
					ops = append(ops, storage.Op{Kind: storage.OpReplace, Table: tables[1], Tuple: []any{b.base, val}})
				}
				if r.IntN(5) == 0 {
					b.fails = true
					ops = append(ops, storage.Op{Kind: storage.OpInsert, Table: testTable.ID, Tuple: []any{b.base, "again"}})
				}
				batches = append(batches, b)
				op = storage.Op{Kind: storage.OpBatch, Batch: ops}
			}
			c.m(to).Write(id, 0, op)
			writes = append(writes, ack{id: id, to: to, sync: c.m(to).Role().Sync})
			c.run()
			d, ok := c.done(id)
			c.logf("write %d on %d: done %v %v at %s", id, to, ok, d.Err, c.m(to).VClock())
		case x < 53:
			// A DDL, checked on the master, then applied everywhere.
			if c.ms[master].down {
				break
			}
			var ch SchemaChange
			idx := schema.IndexDef{TableID: testTable.ID, ID: 1, Name: "by_v", Type: "tree",
				Parts: []schema.IndexPart{{Field: "v", Type: "string"}}}
			if r.IntN(2) == 0 {
				idx.Opts = map[string]any{"unique": false}
			}
			xs, _ := c.m(master).Engine().Indexes(testTable.ID)
			switch {
			case len(tables) == 1 && r.IntN(2) == 0:
				d := tableDef(600+uint32(len(ddls)), fmt.Sprint("t", len(ddls)))
				ch.CreateTable = &d
			case len(tables) > 1 && r.IntN(2) == 0:
				ch.DropTable = tables[1]
			case len(xs) == 1:
				ch.CreateIndex = &idx
			default:
				ch.DropIndex = &struct{ Table, Index uint32 }{testTable.ID, 1}
			}
			if c.ms[master].hold {
				break // the master's answer waits for its DDL to be durable: see below
			}
			if err := c.m(master).CheckSchema(ch); err != nil {
				c.logf("ddl refused: %v", err)
				break
			}
			v := ddls[len(ddls)-1].version + 1
			ddls = append(ddls, ddl{v, ch})
			switch {
			case ch.CreateTable != nil:
				tables = append(tables, ch.CreateTable.ID)
			case ch.DropTable != 0:
				tables = tables[:1]
			}
			// The master first; the governor commits once it is durable there.
			feed(master)
			c.run()
			require.Equal(t, v, c.m(master).DurableSchemaVersion())
			for _, id := range c.ids {
				if !c.ms[id].down {
					feed(id)
				}
			}
			c.logf("ddl %d: %+v", v, ch)
			c.run()
		case x < 65:
			c.tick(1)
		case x < 70:
			if r.IntN(2) == 0 {
				c.drop = 1 + r.IntN(3)
				c.logf("drop %d", c.drop)
			} else {
				id := uint64(1 + r.IntN(3))
				c.ms[id].slow = !c.ms[id].slow
				c.logf("slow %d: %v", id, c.ms[id].slow)
				c.run()
			}
		case x < 72:
			id := uint64(1 + r.IntN(3))
			c.ms[id].cut = !c.ms[id].cut
			c.logf("cut %d: %v", id, c.ms[id].cut)
			if !c.ms[id].cut && id != master {
				c.configure(id, Role{Master: master, Peers: c.others(id), Sync: sync})
				c.run()
			}
		case x < 78:
			id := uint64(1 + r.IntN(3))
			c.ms[id].hold = !c.ms[id].hold
			c.logf("hold %d: %v", id, c.ms[id].hold)
			c.run()
		case x < 83:
			id := uint64(1 + r.IntN(3))
			c.logf("crash/restart %d (down %v)", id, c.ms[id].down)
			if !c.ms[id].down {
				c.crash(id)
			} else {
				if id != master {
					c.ms[id].role = Role{Master: master, Peers: c.others(id), Sync: sync}
				}
				c.restart(id)
				feed(id)
				c.run()
			}
		case x < 88:
			// Switchover: demote, promote a reachable replica with that vclock.
			if !reachable(master) {
				break
			}
			to := uint64(1 + r.IntN(3))
			if to == master || !reachable(to) {
				break
			}
			target := c.m(master).Demote()
			p := c.req()
			c.m(to).Promote(p, target, 20)
			for i := 0; i < 25; i++ {
				if _, ok := c.done(p); ok {
					break
				}
				c.tick(1)
			}
			d, ok := c.done(p)
			if !ok || d.Err != nil {
				// Undo the demote: the old master stays.
				old := c.ms[master].role
				old.Writable = true
				c.configure(master, old)
				break
			}
			master = to
			history = append(history, master)
			c.logf("switchover to %d at %s", to, target)
			for _, id := range c.ids {
				if reachable(id) {
					c.configure(id, Role{Master: master, Peers: c.others(id), Writable: id == master, Sync: sync})
				}
			}
			c.run()
		case x < 92:
			// Failover: the master is unreachable; promote the most advanced
			// reachable member, if a majority is reachable.
			if reachable(master) {
				break
			}
			var cands []uint64
			for _, id := range c.ids {
				if id != master && reachable(id) {
					cands = append(cands, id)
				}
			}
			if len(cands) < 2 {
				break // no majority without the master
			}
			// The most advanced in the log of the latest master first (what
			// a quorum confirmed is there; an old master's own entries that
			// nobody confirmed count less), then of the one before, and so
			// on: what a governor with terms would do.
			ahead := func(a, b vclock.VClock) bool {
				for i := len(history) - 1; i >= 0; i-- {
					if m := history[i]; a[m] != b[m] {
						return a[m] > b[m]
					}
				}
				return vclock.Compare(a, b) > 0
			}
			best := cands[0]
			for _, id := range cands[1:] {
				if ahead(c.m(id).VClock(), c.m(best).VClock()) {
					best = id
				}
			}
			if c.m(best).Stale() {
				break
			}
			p := c.req()
			c.m(best).Promote(p, c.m(best).VClock(), 1)
			c.run()
			if _, ok := c.done(p); !ok {
				// Its disk is stalled: the promote ends (times out, or
				// completes) with the next tick. Left pending, it could
				// complete later unseen — a member promoted that nobody
				// names the master, refusing the real one's shipments.
				c.tick(1)
			}
			if d, ok := c.done(p); !ok || d.Err != nil {
				break
			}
			master = best
			history = append(history, master)
			c.logf("failover to %d at %s", best, c.m(best).VClock())
			for _, id := range cands {
				c.configure(id, Role{Master: master, Peers: c.others(id), Writable: id == master, Sync: sync})
			}
			c.run()
		}
	}
	// Heal: every member up, connected, with a disk, told the master.
	for _, id := range c.ids {
		c.ms[id].cut, c.ms[id].hold, c.ms[id].slow = false, false, false
		if c.ms[id].down {
			c.ms[id].role = Role{Master: master, Peers: c.others(id), Writable: id == master, Sync: sync}
			c.restart(id)
			feed(id)
		}
	}
	for _, id := range c.ids {
		c.configure(id, Role{Master: master, Peers: c.others(id), Writable: id == master, Sync: sync})
	}
	for i := 0; i < 200; i++ {
		c.tick(1)
	}
	c.converged()
	final := c.m(master).VClock()
	for _, w := range writes {
		d, ok := c.done(w.id)
		if !ok || d.Err != nil || !w.sync {
			continue
		}
		// An acknowledged synchronous write is never lost: the final log
		// holds its entry (its writer's component reaches it).
		require.GreaterOrEqual(t, final[w.to], d.VClock[w.to], "acknowledged write %d on %d at %s lost: final %s", w.id, w.to, d.VClock, final)
	}
	// A batch is all or nothing: its own keys are all there or none (on
	// every member: they converged); a failed one left nothing.
	have := map[uint64]bool{}
	for _, row := range c.rows(master, testTable.ID) {
		var k uint64
		if _, err := fmt.Sscanf(row, "[%d,", &k); err == nil {
			have[k] = true
		}
	}
	for _, b := range batches {
		n := 0
		for j := range b.rows {
			if have[b.base+uint64(j)] {
				n++
			}
		}
		d, ok := c.done(b.id)
		switch {
		case b.fails:
			batchesFailed++
			require.Zero(t, n, "batch %d failed (done %v: %v) but left rows", b.id, ok, d.Err)
		case n != 0 && n != b.rows:
			require.Failf(t, "half a batch", "batch %d: %d of its %d rows", b.id, n, b.rows)
		case ok && d.Err == nil:
			require.GreaterOrEqual(t, d.Rows, b.rows, "batch %d", b.id)
			if n == b.rows {
				batchesKept++
			}
			if b.sync {
				require.Equal(t, b.rows, n, "acknowledged synchronous batch %d lost", b.id)
			}
		}
	}
	return c
}

// batchWrite is a batch of TestRandomized: rows inserts of keys base...
type batchWrite struct {
	id    ReqID
	base  uint64
	rows  int
	fails bool
	sync  bool
}

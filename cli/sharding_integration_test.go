//go:build linux

package cli

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picogo/picogo/core/tables"
	"github.com/tarantool/go-tarantool/v2"
)

// createOrders creates the sharded table orders(id unsigned, item string),
// sharded by id in tier storage, through `.proc_cas` ddl_prepare on the
// leader (retrying while the predicate cannot be valid yet).
func createOrders(t *testing.T, leader *instance) {
	t.Helper()
	conn := serviceConn(t, leader)
	def := map[string]any{"id": 0, "name": "orders", "engine": "memtx", "owner": 1, "schema_version": 0,
		"operable": false, "description": "", "primary_key": []any{0},
		"format": []any{
			map[string]any{"name": "id", "type": "unsigned", "is_nullable": false},
			map[string]any{"name": "item", "type": "string", "is_nullable": false}},
		"distribution": "sharded", "sharding_key": []any{"id"}, "sharding_fn": "murmur3", "tier": "storage"}
	op := map[string]any{"kind": "ddl_prepare", "schema_version": 0, "ddl": map[string]any{"kind": "create_table", "def": def}}
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := raftInfoOf(conn)
		must(t, err)
		_, err = call(conn, ".proc_cas", itClusterID, casPredicate(info), op, 1)
		if te, ok := serverError(err); ok && (te.Code == 10008 || te.Code == 10003) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if err != nil {
			t.Fatalf(".proc_cas create orders: %v", err)
		}
		return
	}
}

// withConn runs fn on a fresh pico_service connection to in (1 s to
// connect).
func withConn(in *instance, fn func(conn *tarantool.Connection) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn, err := connect(ctx, in.addr, "pico_service", itServicePassword)
	if err != nil {
		return err
	}
	defer conn.Close()
	return fn(conn)
}

// bucketCounts reads _pico_bucket on in: the buckets each replicaset owns,
// or an error if the table is not at rest (a range sending, or garbage).
func bucketCounts(in *instance) (map[string]uint64, error) {
	counts := map[string]uint64{}
	err := withConn(in, func(conn *tarantool.Connection) error {
		rows, err := selectRows(conn, tables.TablePicoBucket)
		if err != nil {
			return err
		}
		var total uint64
		for _, r := range rows {
			row, _ := r.([]any)
			b, err := tables.BucketRangeFrom(row)
			if err != nil {
				return err
			}
			if b.State != "active" || b.Garbage != "" {
				return fmt.Errorf("not at rest: %+v", b)
			}
			counts[b.ReplicasetID] += b.Count()
			total += b.Count()
		}
		if total != 3000 {
			return fmt.Errorf("%d buckets in _pico_bucket", total)
		}
		return nil
	})
	return counts, err
}

// waitBuckets waits until every instance of ins sees _pico_bucket at rest
// with the replicasets owning want buckets each (as many replicasets as
// want has), and returns the counts.
func waitBuckets(t *testing.T, ins []*instance, timeout time.Duration, want ...uint64) map[string]uint64 {
	t.Helper()
	var counts map[string]uint64
	eventually(t, timeout, fmt.Sprintf("_pico_bucket at rest with %v", want), ins, func() error {
		for _, in := range ins {
			c, err := bucketCounts(in)
			if err != nil {
				return fmt.Errorf("%s: %v", in.name, err)
			}
			var got []uint64
			for _, n := range c {
				got = append(got, n)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				return fmt.Errorf("%s: %v", in.name, c)
			}
			counts = c
		}
		return nil
	})
	return counts
}

// routerInsert inserts (id, item-id) through conn's instance.
func routerInsert(conn tarantool.Connector, id uint64) error {
	_, err := call(conn, ".proc_router_insert", "orders", []any{id, fmt.Sprintf("item-%d", id)})
	return err
}

// loadInsert inserts id through a random one of conns for the bulk load.
// A TIMEOUT (78) leaves the insert undecided (the router passes on a
// storage call that timed out: on a loaded machine, with --tick 20ms, a
// call times out after 200 ms): it is inserted again, and a duplicate
// (TUPLE_FOUND, 3) then means the first one was done.
func loadInsert(conns []*tarantool.Connection, id uint64, ambiguous *atomic.Int64) error {
	undecided := false
	for attempt := 0; ; attempt++ {
		err := routerInsert(conns[rand.IntN(len(conns))], id)
		te, ok := serverError(err)
		switch {
		case err == nil:
			return nil
		case ok && te.Code == 3 && undecided:
			return nil
		case ok && te.Code == 78 && attempt < 5:
			undecided = true
			ambiguous.Add(1)
		default:
			return err
		}
	}
}

// scanIDs reads every row of orders with `.proc_router_scan` and counts
// each id.
func scanIDs(t *testing.T, in *instance) map[uint64]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	data, err := serviceConn(t, in).Do(tarantool.NewCallRequest(".proc_router_scan").Args([]any{"orders"}).Context(ctx)).Get()
	if err != nil {
		t.Fatalf("%s: .proc_router_scan: %v", in.name, err)
	}
	rows, ok := single(t, ".proc_router_scan", data).([]any)
	if !ok {
		t.Fatalf(".proc_router_scan answered %T", data[0])
	}
	seen := map[uint64]int{}
	for _, r := range rows {
		row, _ := r.([]any)
		if len(row) != 3 {
			t.Fatalf("scanned row %#v", r)
		}
		id := mustUint(t, "id", row[0])
		if row[2] != fmt.Sprintf("item-%d", id) {
			t.Fatalf("scanned row %#v", row)
		}
		seen[id]++
	}
	return seen
}

// requireEach fails unless seen has every id of want exactly once, and
// nothing else.
func requireEach(t *testing.T, what string, seen map[uint64]int, want map[uint64]bool) {
	t.Helper()
	var bad []string
	for id, n := range seen {
		if n != 1 || !want[id] {
			bad = append(bad, fmt.Sprintf("%d×%d", id, n))
		}
	}
	for id := range want {
		if seen[id] == 0 {
			bad = append(bad, fmt.Sprintf("%d missing", id))
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		t.Fatalf("%s: %d rows scanned, %d wanted; %d wrong (id×times): %v", what, len(seen), len(want), len(bad), bad[:min(len(bad), 20)])
	}
}

// TestIntegrationShardingRebalance is issue 14's acceptance story with real
// processes: two replicasets of two own 1500/1500 buckets; 10,000 rows are
// routed in through any instance; a third replicaset joins while a writer
// keeps inserting, without a single error, until the buckets rest at
// 1000/1000/1000; every row is read back exactly once; a replicaset is
// drained with `picogo drain` (its last instance could not be expelled
// before) and expelled with `picogo expel`, and every row is still there.
func TestIntegrationShardingRebalance(t *testing.T) {
	skipIfShort(t)
	began := time.Now()
	defer func() { t.Logf("took %v", time.Since(began).Round(time.Millisecond)) }()
	ins := startCluster(t, 4, "--init-replication-factor", "2")
	leader := waitSettled(t, ins...)

	createOrders(t, leader)
	eventually(t, 30*time.Second, "orders operable on every instance", ins, func() error {
		for _, in := range ins {
			err := withConn(in, func(conn *tarantool.Connection) error {
				rows, err := selectRows(conn, tables.TablePicoTable)
				if err != nil {
					return err
				}
				for _, r := range rows {
					// id, name, distribution, format, schema_version,
					// operable, ...
					row, _ := r.([]any)
					if len(row) > 5 && row[1] == "orders" {
						if row[5] != true {
							return fmt.Errorf("orders not operable yet")
						}
						return nil
					}
				}
				return fmt.Errorf("no orders yet")
			})
			if err != nil {
				return fmt.Errorf("%s: %v", in.name, err)
			}
			s, err := storageInfo(in)
			if err != nil {
				return err
			}
			if s.rowsOf("orders") < 0 {
				return fmt.Errorf("%s holds no orders table yet", in.name)
			}
		}
		return nil
	})
	waitBuckets(t, ins, 60*time.Second, 1500, 1500)
	t.Logf("%v: orders created, buckets 1500/1500", time.Since(began).Round(time.Millisecond))

	// 10,000 rows by 8 writers, each through its own connections to every
	// instance, picking one at random per row.
	const rows, writers = 10000, 8
	written := map[uint64]bool{}
	var ambiguous atomic.Int64
	{
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			conns := make([]*tarantool.Connection, len(ins))
			for i, in := range ins {
				conns[i] = serviceConn(t, in)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				deadline := time.Now().Add(60 * time.Second)
				for id := uint64(w + 1); id <= rows; id += writers {
					if time.Now().After(deadline) {
						errs <- fmt.Errorf("writer %d: not done within 60 s (at id %d)", w, id)
						return
					}
					if err := loadInsert(conns, id, &ambiguous); err != nil {
						errs <- fmt.Errorf("insert %d: %w", id, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if t.Failed() {
			t.FailNow()
		}
		for id := uint64(1); id <= rows; id++ {
			written[id] = true
		}
	}
	t.Logf("%v: %d rows routed in (%d timed out and were inserted again)", time.Since(began).Round(time.Millisecond), rows, ambiguous.Load())

	// A writer keeps inserting new rows while a third replicaset joins.
	var (
		stop     = make(chan struct{})
		done     = make(chan struct{})
		wmu      sync.Mutex
		wrote    []uint64
		failures []string
		nfail    atomic.Int64
	)
	{
		conns := make([]*tarantool.Connection, len(ins))
		for i, in := range ins {
			conns[i] = serviceConn(t, in)
		}
		go func() {
			defer close(done)
			for id := uint64(rows + 1); ; id++ {
				select {
				case <-stop:
					return
				default:
				}
				if id > rows+200000 {
					return // bounded whatever happens
				}
				err := routerInsert(conns[rand.IntN(len(conns))], id)
				wmu.Lock()
				if err == nil {
					wrote = append(wrote, id)
				} else {
					nfail.Add(1)
					if len(failures) < 10 {
						failures = append(failures, fmt.Sprintf("insert %d at %v: %v", id, time.Since(began).Round(time.Millisecond), err))
					}
				}
				wmu.Unlock()
				time.Sleep(time.Millisecond)
			}
		}()
	}
	stopWriter := func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("the writer did not stop within 10 s")
		}
	}
	defer stopWriter()

	peers := addrsOf(ins)
	more := freeAddrs(t, 2)
	for i, addr := range more {
		in := newInstance(t, fmt.Sprintf("i%d", 5+i), addr, peers, "--init-replication-factor", "2")
		in.start()
		ins = append(ins, in)
	}
	eventually(t, 30*time.Second, "six instances Online", ins, func() error { return allOnline(ins) })
	t.Logf("%v: six instances Online", time.Since(began).Round(time.Millisecond))
	waitBuckets(t, ins, 90*time.Second, 1000, 1000, 1000)
	t.Logf("%v: buckets 1000/1000/1000", time.Since(began).Round(time.Millisecond))
	stopWriter()
	wmu.Lock()
	for _, id := range wrote {
		written[id] = true
	}
	t.Logf("the writer inserted %d rows during the rebalancing, %d failed", len(wrote), nfail.Load())
	if nfail.Load() > 0 {
		t.Errorf("the writer saw %d errors, e.g.:\n%s", nfail.Load(), strings.Join(failures, "\n"))
	}
	wmu.Unlock()
	if len(wrote) == 0 {
		t.Error("the writer inserted nothing while the third replicaset joined")
	}
	if t.Failed() {
		t.FailNow()
	}

	// Every row exactly once; 100 of them by key.
	requireEach(t, "after the join", scanIDs(t, ins[rand.IntN(len(ins))]), written)
	ids := make([]uint64, 0, len(written))
	for id := range written {
		ids = append(ids, id)
	}
	for range 100 {
		id := ids[rand.IntN(len(ids))]
		in := ins[rand.IntN(len(ins))]
		data, err := call(serviceConn(t, in), ".proc_router_get", "orders", []any{id})
		if err != nil {
			t.Fatalf("%s: .proc_router_get %d: %v", in.name, id, err)
		}
		row, _ := single(t, ".proc_router_get", data).([]any)
		if len(row) != 3 || mustUint(t, "id", row[0]) != id || row[2] != fmt.Sprintf("item-%d", id) {
			t.Fatalf("%s: .proc_router_get %d = %#v", in.name, id, data)
		}
	}
	t.Logf("%v: %d rows read back", time.Since(began).Round(time.Millisecond), len(written))

	// Drain a replicaset without the Raft leader: its first instance may
	// be expelled, its last not while it owns buckets; after the drain,
	// it may.
	leader, _ = waitLeader(t, ins...)
	leaderRS := instanceInfo(t, leader).ReplicasetID
	byRS := map[string][]*instance{}
	infos := map[*instance]selfInfo{}
	for _, in := range ins {
		infos[in] = instanceInfo(t, in)
		byRS[infos[in].ReplicasetID] = append(byRS[infos[in].ReplicasetID], in)
	}
	var victimRS string
	for rs, members := range byRS {
		if rs != leaderRS && len(members) == 2 && (victimRS == "" || rs > victimRS) {
			victimRS = rs
		}
	}
	if victimRS == "" {
		t.Fatalf("no replicaset of two without the leader: %v", byRS)
	}
	first, second := byRS[victimRS][0], byRS[victimRS][1]
	if s, err := storageInfo(first); err == nil && s.Writable {
		first, second = second, first // expel the replica first
	}
	svc := []string{"PICOGO_SERVICE_PASSWORD=" + itServicePassword}
	out, errOut, code := runCLI(t, 30*time.Second, svc, "expel", "--peer", leader.addr, infos[first].InstanceID)
	if code != 0 {
		t.Fatalf("picogo expel %s (not the last of %s): exit %d\n%s%s", infos[first].InstanceID, victimRS, code, out, errOut)
	}
	first.waitExit(30 * time.Second)
	live := others(ins, first)
	out, errOut, code = runCLI(t, 30*time.Second, svc, "expel", "--peer", leader.addr, infos[second].InstanceID)
	if code != 1 || !strings.Contains(errOut, "drain it first") {
		t.Fatalf("picogo expel %s (the last of %s, owning buckets): exit %d; want 1 and a refusal\n%s%s",
			infos[second].InstanceID, victimRS, code, out, errOut)
	}
	t.Logf("refused as it should be: %s", strings.TrimSpace(errOut))

	drainStart := time.Now()
	out, errOut, code = runCLI(t, 90*time.Second, nil, "drain", "--peer", leader.addr,
		"--service-password", itServicePassword, "--timeout", "80s", victimRS)
	if code != 0 || !strings.Contains(out, "holds no buckets") {
		t.Fatalf("picogo drain %s: exit %d\n%s%s", victimRS, code, out, errOut)
	}
	t.Logf("picogo drain %s took %v:\n%s", victimRS, time.Since(drainStart).Round(time.Millisecond), out)
	waitBuckets(t, live, 30*time.Second, 1500, 1500)
	out, errOut, code = runCLI(t, 30*time.Second, svc, "expel", "--peer", leader.addr, infos[second].InstanceID)
	if code != 0 {
		t.Fatalf("picogo expel %s after the drain: exit %d\n%s%s", infos[second].InstanceID, code, out, errOut)
	}
	second.waitExit(30 * time.Second)
	live = others(live, second)
	requireEach(t, "after the drain and expel", scanIDs(t, live[rand.IntN(len(live))]), written)
}

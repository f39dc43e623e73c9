package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/picogo/picogo/core/sharding"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/internal/procs"
	"github.com/tarantool/go-tarantool/v2"
)

// The sharding phase (picogo alone): routed writes through any instance
// at 1, 2 and 3 replicasets, and a rebalance under load.

const (
	shardingWriters   = 16  // clients of the writer during the rebalance
	shardingLoaders   = 256 // clients loading the rows before it
	shardingBuckets   = 3000
	shardingMoveLimit = 15 * time.Minute // bounds the wait for the rebalance
)

// RoutedLevel is one routed-writes measurement.
type RoutedLevel struct {
	Replicasets int
	Round       Round
}

// ShardingResult is the sharding phase's figures.
type ShardingResult struct {
	Routed []RoutedLevel
	// The rebalance under load.
	Rows          uint64        // rows loaded before the third replicaset joins
	Load          time.Duration // their load time
	LoadErrors    uint64
	LoadErr       error         // the load's first failed insert (after its retries)
	Before        Round         // the writer before the join
	During        Round         // the writer from the join until at rest
	Move          time.Duration // from the start of the joiners to 1000/1000/1000 at rest
	MovedRows     uint64        // rows written before the join whose buckets the new replicaset owns at rest
	NewRows       int64         // rows on the new replicaset's master at rest
	Distribution  string        // buckets per replicaset at rest
	RebalanceDone bool
	Note          string
}

// bucketBalance sums a tier's _pico_bucket ranges per replicaset; settled
// is false while any range is sending or has garbage.
func bucketBalance(ranges []tables.BucketRange, tier string) (per map[string]uint64, settled bool) {
	per = map[string]uint64{}
	settled = true
	for _, b := range ranges {
		if b.Tier != tier {
			continue
		}
		per[b.ReplicasetID] += b.Count()
		if b.State != tables.BucketActive || b.Garbage != "" {
			settled = false
		}
	}
	return per, settled
}

// balanced reports whether per has exactly n replicasets with equal shares
// of total buckets.
func balanced(per map[string]uint64, n int, total uint64) bool {
	if len(per) != n {
		return false
	}
	for _, c := range per {
		if c != total/uint64(n) {
			return false
		}
	}
	return true
}

// fmtBalance is "r1 1000, r2 1000, r3 1000" (by replicaset name).
func fmtBalance(per map[string]uint64) string {
	var ks []string
	for k := range per {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var parts []string
	for _, k := range ks {
		parts = append(parts, fmt.Sprintf("%s %d", k, per[k]))
	}
	return strings.Join(parts, ", ")
}

// Markdown renders the phase's section.
func (r *ShardingResult) Markdown() string {
	var b strings.Builder
	b.WriteString("\n## Sharding\n\n")
	b.WriteString("Routed writes: `picogo run` instances with `--init-replication-factor 2` (so n instances make n/2 replicasets of the tier storage, 3000 buckets), " +
		"the sharded table `bench` {id, bucket_id, value} (murmur3 of id); each write one `.proc_router_insert('bench', {id, value})` of a unique id and a 100-byte value " +
		"sent to a random instance (one admin connection per instance, shared by the clients), which routes it to the master owning the bucket and answers once written there.\n\n")
	if len(r.Routed) > 0 {
		b.WriteString("| replicasets (instances) | clients | rows/s | p50 | p99 | errors |\n|--:|--:|--:|--:|--:|--:|\n")
		for _, l := range r.Routed {
			fmt.Fprintf(&b, "| %d (%d) | %d | %s | %s | %s | %d |\n", l.Replicasets, 2*l.Replicasets, l.Round.Clients, fmtRate(l.Round.Rate()),
				fmtDur(l.Round.Hist.Percentile(50)), fmtDur(l.Round.Hist.Percentile(99)), l.Round.Errors)
		}
	}
	if r.Rows > 0 {
		fmt.Fprintf(&b, "\nRebalance under load: 2 replicasets × 2 instances; %d rows loaded by %d concurrent `.proc_router_insert` (%s, %s rows/s, %d errors); "+
			"then 2 more instances start (a third replicaset) while %d clients keep routing inserts of new ids; the time is from their start "+
			"until `_pico_bucket` shows 1000/1000/1000 with no range sending and no garbage (polled every 100 ms).\n\n",
			r.Rows, shardingLoaders, fmtDur(r.Load), fmtRate(float64(r.Rows)/r.Load.Seconds()), r.LoadErrors, shardingWriters)
		b.WriteString("| measure | value |\n|---|--:|\n")
		if r.RebalanceDone {
			fmt.Fprintf(&b, "| join to 1000/1000/1000 at rest | %s |\n", fmtDur(r.Move))
			fmt.Fprintf(&b, "| rows moved (written before the join, in buckets the new replicaset owns at rest) | %d |\n", r.MovedRows)
			fmt.Fprintf(&b, "| rows moved per second (over the whole time above) | %s |\n", fmtRate(float64(r.MovedRows)/r.Move.Seconds()))
			fmt.Fprintf(&b, "| rows on the new replicaset's master at rest (with the writer's during the move) | %d |\n", r.NewRows)
		} else {
			fmt.Fprintf(&b, "| join to 1000/1000/1000 at rest | not reached within %s (last: %s) |\n", fmtDur(r.Move), r.Distribution)
		}
		fmt.Fprintf(&b, "| writer before: rows/s, p50, p99 | %s, %s, %s (%d errors) |\n", fmtRate(r.Before.Rate()),
			fmtDur(r.Before.Hist.Percentile(50)), fmtDur(r.Before.Hist.Percentile(99)), r.Before.Errors)
		fmt.Fprintf(&b, "| writer during the move: rows/s, p50, p99 | %s, %s, %s (%d errors) |\n", fmtRate(r.During.Rate()),
			fmtDur(r.During.Hist.Percentile(50)), fmtDur(r.During.Hist.Percentile(99)), r.During.Errors)
		if r.LoadErr != nil {
			fmt.Fprintf(&b, "\nFirst failed insert of the load (after 5 tries): %s\n", oneLine(r.LoadErr.Error()))
		}
		if r.During.FirstErr != nil {
			fmt.Fprintf(&b, "\nFirst error during the move: %s\n", oneLine(r.During.FirstErr.Error()))
		}
		b.WriteString("\nRows moved is computed by the bench: the ids written before the join (the load and the writer's round before it), hashed as the router does (murmur3 of the id, 3000 buckets), whose bucket the new replicaset owns at rest.\n")
	}
	if r.Note != "" {
		b.WriteString("\n" + r.Note + "\n")
	}
	return b.String()
}

// routedWriter sends `.proc_router_insert` of unique ids to random
// instances.
type routedWriter struct {
	conns []*tarantool.Connection
	next  *atomic.Uint64
	value string
}

func newRoutedWriter(ctx context.Context, ins []*picogoInstance, next *atomic.Uint64, value string) (*routedWriter, error) {
	w := &routedWriter{next: next, value: value}
	for _, in := range ins {
		if err := w.add(ctx, in); err != nil {
			w.close()
			return nil, err
		}
	}
	return w, nil
}

func (w *routedWriter) add(ctx context.Context, in *picogoInstance) error {
	c, err := connectTarantool(ctx, in.addr, "admin", picogoAdminPassword)
	if err != nil {
		return fmt.Errorf("%s: %w", in.name, err)
	}
	w.conns = append(w.conns, c)
	return nil
}

func (w *routedWriter) close() {
	for _, c := range w.conns {
		c.Close()
	}
}

func (w *routedWriter) write(_ context.Context, _ int) error {
	conn := w.conns[rand.IntN(len(w.conns))]
	id := w.next.Add(1)
	_, err := conn.Do(tarantool.NewCallRequest(".proc_router_insert").Args([]any{insertTableName, []any{id, w.value}})).Get()
	return err
}

// runUntil runs clients goroutines calling op until stop is closed (or
// ctx ends); every operation is measured.
func runUntil(ctx context.Context, clients int, op opFunc, stop <-chan struct{}) Round {
	hists := make([]Histogram, clients)
	var ops, errs atomic.Uint64
	var firstErr atomic.Value
	start := time.Now()
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				select {
				case <-stop:
					return
				default:
				}
				t0 := time.Now()
				if err := op(ctx, i); err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err)
					time.Sleep(errorPause)
					continue
				}
				hists[i].Record(time.Since(t0))
				ops.Add(1)
			}
		}()
	}
	wg.Wait()
	r := Round{Clients: clients, Ops: ops.Load(), Errors: errs.Load(), Elapsed: time.Since(start), Hist: &Histogram{}}
	if e, ok := firstErr.Load().(error); ok {
		r.FirstErr = e
	}
	for i := range hists {
		r.Hist.Merge(&hists[i])
	}
	return r
}

// loadRoutedRows (errors, the first error, ctx's error) inserts ids 1..n through w with clients goroutines.
func loadRoutedRows(ctx context.Context, w *routedWriter, n uint64, clients int) (uint64, error, error) {
	var errs atomic.Uint64
	var first atomic.Value
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if w.next.Load() >= n {
					return
				}
				id := w.next.Add(1)
				if id > n {
					return
				}
				conn := w.conns[rand.IntN(len(w.conns))]
				for attempt := 0; ; attempt++ {
					_, err := conn.Do(tarantool.NewCallRequest(".proc_router_insert").Args([]any{insertTableName, []any{id, w.value}})).Get()
					if err == nil || attempt >= 5 || ctx.Err() != nil {
						if err != nil {
							errs.Add(1)
							first.CompareAndSwap(nil, err)
						}
						break
					}
					time.Sleep(errorPause)
				}
			}
		}()
	}
	wg.Wait()
	firstErr, _ := first.Load().(error)
	return errs.Load(), firstErr, ctx.Err()
}

// readBuckets reads _pico_bucket on in.
func readBuckets(c *tarantool.Connection) ([]tables.BucketRange, error) {
	rows, err := c.Do(tarantool.NewSelectRequest(tables.TablePicoBucket).Iterator(tarantool.IterAll).Limit(100000)).Get()
	if err != nil {
		return nil, err
	}
	var out []tables.BucketRange
	for _, r := range rows {
		v, _ := r.([]any)
		b, err := tables.BucketRangeFrom(v)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// waitBalanced waits until _pico_bucket (read on in) has n replicasets of
// equal shares at rest; it returns the last distribution seen.
func waitBalanced(ctx context.Context, in *picogoInstance, n int, timeout time.Duration, watch []*procs.Process) (string, error) {
	c, err := connectTarantool(ctx, in.addr, "pico_service", picogoServicePassword)
	if err != nil {
		return "", err
	}
	defer c.Close()
	last := ""
	deadline := time.Now().Add(timeout)
	for {
		ranges, err := readBuckets(c)
		if err == nil {
			per, settled := bucketBalance(ranges, insertTableDef.Tier)
			last = fmtBalance(per)
			if !settled {
				last += " (moving)"
			}
			if settled && balanced(per, n, shardingBuckets) {
				return last, nil
			}
		}
		for _, p := range watch {
			if how, gone := exited(p); gone {
				return last, fmt.Errorf("rebalance: %s", how)
			}
		}
		if time.Now().After(deadline) {
			return last, fmt.Errorf("rebalance: not at rest within %v (last: %s, %v)", timeout, last, err)
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// startShardedCluster starts n instances (n/2 replicasets), the table
// `bench` created, the buckets balanced.
func startShardedCluster(ctx context.Context, cfg Config, ps *procs.Registry, dir string, n int) ([]*picogoInstance, *picogoInstance, error) {
	ins, leader, err := startPicogo(ctx, ps, cfg.Picogo, dir, n, false, "--init-replication-factor", "2")
	if err != nil {
		return nil, nil, err
	}
	if err := createInsertTable(ctx, ins, leader); err != nil {
		return nil, nil, err
	}
	var watch []*procs.Process
	for _, in := range ins {
		watch = append(watch, in.proc)
	}
	if _, err := waitBalanced(ctx, leader, n/2, readyTimeout, watch); err != nil {
		return nil, nil, err
	}
	return ins, leader, nil
}

// joinPicogo starts n more instances joining the cluster of peers.
func joinPicogo(ps *procs.Registry, bin, dir string, peers []*picogoInstance, first, n int) ([]*picogoInstance, error) {
	addrs, err := procs.FreeAddrs(n)
	if err != nil {
		return nil, err
	}
	var peerAddrs []string
	for _, p := range peers {
		peerAddrs = append(peerAddrs, p.addr)
	}
	var out []*picogoInstance
	for i, addr := range addrs {
		name := fmt.Sprintf("picogo-i%d", first+i)
		idir := filepath.Join(dir, name)
		if err := os.MkdirAll(idir, 0o755); err != nil {
			return out, err
		}
		in := &picogoInstance{name: name, addr: addr, ps: ps, dir: idir, logPath: filepath.Join(idir, "picogo.log")}
		in.argv = []string{bin, "run", "--data-dir", filepath.Join(idir, "data"), "--listen", addr, "--advertise", addr,
			"--peer", strings.Join(peerAddrs, ","), "--service-password", picogoServicePassword, "--init-replication-factor", "2"}
		if err := in.restart(); err != nil {
			return out, err
		}
		out = append(out, in)
	}
	return out, nil
}

// runSharding runs the sharding phase.
func runSharding(ctx context.Context, cfg Config, ps *procs.Registry, dir string, res *ShardingResult, progress func(string)) error {
	value := benchValue(cfg.ValueSize)
	for _, rs := range cfg.ShardingReplicasets {
		progress(fmt.Sprintf("sharding: starting %d instances (%d replicasets)", 2*rs, rs))
		ins, _, err := startShardedCluster(ctx, cfg, ps, filepath.Join(dir, fmt.Sprintf("routed-%d", rs)), 2*rs)
		if err != nil {
			return err
		}
		w, err := newRoutedWriter(ctx, ins, new(atomic.Uint64), value)
		if err != nil {
			return err
		}
		for _, n := range cfg.Clients {
			r := runLoad(ctx, n, cfg.Warmup, cfg.Duration, w.write, nil)
			if ctx.Err() != nil {
				w.close()
				return ctx.Err()
			}
			res.Routed = append(res.Routed, RoutedLevel{Replicasets: rs, Round: r})
			line := fmt.Sprintf("sharding: %d replicasets, %s: %s rows/s  p50 %s  p99 %s  %d errors", rs, plural(n, "client"),
				fmtRate(r.Rate()), fmtDur(r.Hist.Percentile(50)), fmtDur(r.Hist.Percentile(99)), r.Errors)
			if r.FirstErr != nil {
				line += " (first: " + oneLine(r.FirstErr.Error()) + ")"
			}
			progress(line)
			if err := alive(ps)(); err != nil {
				w.close()
				return err
			}
		}
		w.close()
		if err := ps.KillAll(); err != nil {
			return err
		}
	}
	if cfg.ShardingRows <= 0 {
		return nil
	}
	return runRebalance(ctx, cfg, ps, filepath.Join(dir, "rebalance"), res, value, progress)
}

func runRebalance(ctx context.Context, cfg Config, ps *procs.Registry, dir string, res *ShardingResult, value string, progress func(string)) error {
	progress("sharding: rebalance: starting 4 instances (2 replicasets)")
	ins, leader, err := startShardedCluster(ctx, cfg, ps, dir, 4)
	if err != nil {
		return err
	}
	next := new(atomic.Uint64)
	w, err := newRoutedWriter(ctx, ins, next, value)
	if err != nil {
		return err
	}
	defer w.close()
	res.Rows = uint64(cfg.ShardingRows)
	progress(fmt.Sprintf("sharding: rebalance: loading %d rows", res.Rows))
	t0 := time.Now()
	res.LoadErrors, res.LoadErr, err = loadRoutedRows(ctx, w, res.Rows, shardingLoaders)
	res.Load = time.Since(t0)
	if err != nil {
		return err
	}
	progress(fmt.Sprintf("sharding: rebalance: loaded in %s (%d errors)", fmtDur(res.Load), res.LoadErrors))
	next.Store(max(next.Load(), res.Rows))
	res.Before = runLoad(ctx, shardingWriters, cfg.Warmup, cfg.Duration, w.write, nil)
	progress(fmt.Sprintf("sharding: rebalance: writer before: %s rows/s p99 %s", fmtRate(res.Before.Rate()), fmtDur(res.Before.Hist.Percentile(99))))
	stop := make(chan struct{})
	during := make(chan Round, 1)
	go func() { during <- runUntil(ctx, shardingWriters, w.write, stop) }()
	before, err := bucketsOn(ctx, leader)
	if err != nil {
		return err
	}
	idAtJoin := next.Load()
	t1 := time.Now()
	joined, err := joinPicogo(ps, cfg.Picogo, dir, ins, len(ins)+1, 2)
	var watch []*procs.Process
	for _, in := range append(append([]*picogoInstance{}, ins...), joined...) {
		watch = append(watch, in.proc)
	}
	if err == nil {
		res.Distribution, err = waitBalanced(ctx, leader, 3, shardingMoveLimit, watch)
	}
	res.Move = time.Since(t1)
	close(stop)
	res.During = <-during
	if err != nil {
		res.Note = "The rebalance failed: " + oneLine(err.Error())
		return err
	}
	res.RebalanceDone = true
	progress(fmt.Sprintf("sharding: rebalance: at rest after %s: %s; writer during: %s rows/s p99 %s", fmtDur(res.Move), res.Distribution,
		fmtRate(res.During.Rate()), fmtDur(res.During.Hist.Percentile(99))))
	after, err := bucketsOn(ctx, leader)
	if err != nil {
		return err
	}
	if res.MovedRows, err = movedRows(before, after, insertTableDef.Tier, idAtJoin); err != nil {
		return err
	}
	// The new replicaset's rows, on its master.
	for _, in := range joined {
		s, err := storageOf(ctx, in)
		if err != nil {
			return err
		}
		if s.Writable {
			res.NewRows = s.rowsOf(insertTableName)
		}
	}
	return nil
}

// bucketsOn reads _pico_bucket on in.
func bucketsOn(ctx context.Context, in *picogoInstance) (ranges []tables.BucketRange, err error) {
	err = withService(ctx, in, func(c *tarantool.Connection) error {
		ranges, err = readBuckets(c)
		return err
	})
	return ranges, err
}

// movedRows counts the ids 1..ids whose bucket (murmur3 of the id, as the
// router computes it) belongs in after to a replicaset that owned no
// bucket of tier in before.
func movedRows(before, after []tables.BucketRange, tier string, ids uint64) (uint64, error) {
	old, _ := bucketBalance(before, tier)
	m := sharding.NewMap(after)
	var n uint64
	for id := uint64(1); id <= ids; id++ {
		b, err := sharding.BucketID([]any{id}, shardingBuckets)
		if err != nil {
			return 0, err
		}
		r, ok := m.Find(tier, b)
		if !ok {
			return 0, fmt.Errorf("bucket %d of id %d has no owner", b, id)
		}
		if _, had := old[r.ReplicasetID]; !had {
			n++
		}
	}
	return n, nil
}

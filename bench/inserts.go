package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/picogo/picogo/core/sharding"
	"github.com/picogo/picogo/core/vclock"
	"github.com/picogo/picogo/internal/procs"
	"github.com/tarantool/go-tarantool/v2"
)

// The durable-insert comparison (issue 13): inserts into one replicaset of
// a master and one replica, each acknowledged once the master has written
// it with fsync, at every client count; after every round, how long the
// replica took to have the last acknowledged insert, and a check that it
// has every acknowledged one.

// insertSpace is the id of the table `bench` the inserts go into. The
// inserts name it by number: Tarantool 2.6 takes no space names over
// iproto, and go-tarantool loads no schema.
const insertSpace uint32 = 1025

// insertBuckets is the number of buckets bucket_id is taken from
// (Picodata's default bucket_count).
const insertBuckets = 3000

// Bounds of the replica-lag measurement after a round.
const (
	lagPoll    = time.Millisecond // the replica's vclock is read this often
	lagTimeout = 30 * time.Second // a replica further behind fails the run
)

// picogoInsertsMissing is what the report says in place of picogo's
// figures while picogoInserts is nil.
const picogoInsertsMissing = "not yet measurable (issue 13)"

// insertTuple is a row of `bench`: {id unsigned, bucket_id unsigned, value
// string}, the same bytes for every system.
type insertTuple struct {
	//lint:ignore U1000 msgpack reads this field's tag: encode as an array
	_msgpack struct{} `msgpack:",as_array"`

	ID       uint64
	BucketID uint64
	Value    string
}

// newInsertTuple is the row with id: its bucket is Picodata's bucket of
// id (the sharding key) among insertBuckets, which picogo's storage checks.
func newInsertTuple(id uint64, value string) insertTuple {
	b, err := sharding.BucketID([]any{id}, insertBuckets)
	if err != nil {
		panic(err) // an unsigned key and a positive count always hash
	}
	return insertTuple{ID: id, BucketID: b, Value: value}
}

// insertTarget is one system's replicaset — a master and one replica,
// running until close — as the durable-insert comparison drives it. The
// methods other than insert are called only between rounds, when no insert
// is in flight.
type insertTarget interface {
	// insert inserts t into the table `bench` on the master, for load
	// goroutine worker (0..clients-1); it returns nil only once the master
	// has written the row durably (fsync): the acknowledgement. It must
	// bound itself (requestTimeout).
	insert(ctx context.Context, worker int, t insertTuple) error
	// vclock is the master's (replica false) or the replica's (true)
	// vector clock: {instance id: LSN of the last row change of that
	// instance it has}. The master's, read after an acknowledgement,
	// covers the acknowledged row; the replica has every row the master
	// acknowledged once its clock reaches the master's in every
	// component.
	vclock(ctx context.Context, replica bool) (vclock.VClock, error)
	// count is the number of rows in `bench` on the master or the
	// replica.
	count(ctx context.Context, replica bool) (uint64, error)
	// cpu is the CPU time both instances' processes have used so far.
	cpu() time.Duration
	// close closes the target's connections (the processes are killed
	// through the registry they were started with).
	close()
}

// startInsertTarget is one system's side of the comparison: a function that
// starts a 2-instance replicaset — a master and a replica, the master
// writing with fsync — whose master has an empty table `bench` {id
// unsigned, bucket_id unsigned, value string} (primary key id, replicated),
// waits until the replica follows the master, and returns a target. Its
// processes are started through ps (the caller kills them), with their data
// and logs under dir; cfg gives the binaries and cfg.Conns, the number of
// connections the load goroutines share.
type startInsertTarget func(ctx context.Context, cfg Config, ps *procs.Registry, dir string) (insertTarget, error)

// picogoInserts is picogo's side: a function that starts a 2-instance
// replicaset and returns a target (see startInsertTarget and
// bench/picogo_inserts.go). Were it nil, the comparison would run Tarantool
// alone and the report say picogo is "not yet measurable (issue 13)".
var picogoInserts startInsertTarget = startPicogoReplicaset

// tarantoolInserts is Tarantool's side.
var tarantoolInserts startInsertTarget = startTarantoolReplicaset

// ---- a replicaset over iproto ----

// iprotoReplicaset is an insertTarget spoken to with go-tarantool: INSERT
// requests on the master's connections (shared round-robin by the load
// goroutines), and CALLs of a vclock function and a count function (no
// arguments; a map {id: lsn} and an unsigned) on the master and the
// replica.
type iprotoReplicaset struct {
	master            []*tarantool.Connection
	replica           *tarantool.Connection
	space             uint32
	vclockFn, countFn string
	cpuFn             func() time.Duration
}

// newIprotoReplicaset connects to the master (conns connections) and to the
// replica (one) as user (empty: guest); cpu is the servers' CPU time.
func newIprotoReplicaset(ctx context.Context, masterAddr, replicaAddr, user, password string, conns int,
	space uint32, vclockFn, countFn string, cpu func() time.Duration) (*iprotoReplicaset, error) {
	ms, err := openAll(conns, func() (*tarantool.Connection, error) { return connectTarantool(ctx, masterAddr, user, password) })
	if err != nil {
		return nil, fmt.Errorf("master %s: %w", masterAddr, err)
	}
	rc, err := connectTarantool(ctx, replicaAddr, user, password)
	if err != nil {
		for _, c := range ms {
			c.Close()
		}
		return nil, fmt.Errorf("replica %s: %w", replicaAddr, err)
	}
	return &iprotoReplicaset{master: ms, replica: rc, space: space, vclockFn: vclockFn, countFn: countFn, cpuFn: cpu}, nil
}

func (r *iprotoReplicaset) insert(_ context.Context, worker int, t insertTuple) error {
	var res []insertTuple
	err := r.master[worker%len(r.master)].Do(tarantool.NewInsertRequest(r.space).Tuple(t)).GetTyped(&res)
	if err == nil && (len(res) != 1 || res[0].ID != t.ID) {
		err = fmt.Errorf("insert of id %d answered %v", t.ID, res)
	}
	return err
}

func (r *iprotoReplicaset) conn(replica bool) *tarantool.Connection {
	if replica {
		return r.replica
	}
	return r.master[0]
}

func (r *iprotoReplicaset) vclock(_ context.Context, replica bool) (vclock.VClock, error) {
	return callOne[vclock.VClock](r.conn(replica), r.vclockFn)
}

func (r *iprotoReplicaset) count(_ context.Context, replica bool) (uint64, error) {
	return callOne[uint64](r.conn(replica), r.countFn)
}

func (r *iprotoReplicaset) cpu() time.Duration {
	if r.cpuFn == nil {
		return 0
	}
	return r.cpuFn()
}

func (r *iprotoReplicaset) close() {
	for _, c := range r.master {
		c.Close()
	}
	r.replica.Close()
}

// ---- the load and the checks after each round ----

// insertSide is one system in the comparison: its target and what its
// inserts did over the whole run (warm-ups included).
type insertSide struct {
	name    string
	target  insertTarget
	ids     atomic.Uint64 // the last id handed out: every insert has a new one
	acked   atomic.Uint64 // inserts acknowledged
	failed  atomic.Uint64 // inserts that returned an error
	lastAck atomic.Int64  // when the latest acknowledgement came (Unix ns)
}

// op is the load's operation: insert the next id with value.
func (s *insertSide) op(value string) opFunc {
	return func(ctx context.Context, worker int) error {
		if err := s.target.insert(ctx, worker, newInsertTuple(s.ids.Add(1), value)); err != nil {
			s.failed.Add(1)
			return err
		}
		s.acked.Add(1)
		now := time.Now().UnixNano()
		for {
			old := s.lastAck.Load()
			if now <= old || s.lastAck.CompareAndSwap(old, now) {
				return nil
			}
		}
	}
}

// covers reports whether a has reached b in every component but 0 (an
// instance's local changes, which are not replicated).
func covers(a, b vclock.VClock) bool {
	for id, lsn := range b {
		if id != 0 && a[id] < lsn {
			return false
		}
	}
	return true
}

// replicaLag reads the master's vclock, which covers every acknowledged
// insert (none is in flight), then reads the replica's every lagPoll until
// it covers the master's, and returns the time from lastAck, the latest
// acknowledgement, to the read that showed it; the figure is high by at
// most one poll and one round trip. Beyond lagTimeout it fails.
func replicaLag(ctx context.Context, t insertTarget, lastAck time.Time) (time.Duration, error) {
	want, err := t.vclock(ctx, false)
	if err != nil {
		return 0, fmt.Errorf("the master's vclock: %w", err)
	}
	deadline := time.Now().Add(lagTimeout)
	for {
		got, err := t.vclock(ctx, true)
		seen := time.Now()
		if err != nil {
			return 0, fmt.Errorf("the replica's vclock: %w", err)
		}
		if covers(got, want) {
			return seen.Sub(lastAck), nil
		}
		if seen.After(deadline) {
			return 0, fmt.Errorf("the replica's vclock %v has not reached the master's %v within %v", got, want, lagTimeout)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(lagPoll):
		}
	}
}

// verifyReplica checks, once the replica has caught up, that it has every
// acknowledged row: as many rows as the master, at least as many as were
// acknowledged, and exactly as many when no insert failed (a failed insert
// may still have been written). It returns the replica's count.
func verifyReplica(ctx context.Context, s *insertSide) (uint64, error) {
	rc, err := s.target.count(ctx, true)
	if err != nil {
		return 0, fmt.Errorf("the replica's count: %w", err)
	}
	mc, err := s.target.count(ctx, false)
	if err != nil {
		return 0, fmt.Errorf("the master's count: %w", err)
	}
	acked, failed := s.acked.Load(), s.failed.Load()
	switch {
	case rc != mc:
		return rc, fmt.Errorf("the replica has %d rows, the master %d", rc, mc)
	case rc < acked:
		return rc, fmt.Errorf("the replica has %d rows, %d inserts were acknowledged", rc, acked)
	case failed == 0 && rc != acked:
		return rc, fmt.Errorf("the replica has %d rows, %d inserts were acknowledged and none failed", rc, acked)
	}
	return rc, nil
}

// lagSample is the replica lag after one round.
type lagSample struct {
	system  string
	clients int
	round   int
	lag     time.Duration
}

// lagNotes renders the lags as lines under the comparison's details, one
// per client count, and the check of the replica's rows per system.
func lagNotes(systems []string, lags []lagSample, rows map[string]uint64) []string {
	var counts []int
	for _, l := range lags {
		if !slices.Contains(counts, l.clients) {
			counts = append(counts, l.clients)
		}
	}
	var out []string
	for _, n := range counts {
		var parts []string
		for _, sys := range systems {
			var ds []string
			for _, l := range lags {
				if l.system == sys && l.clients == n {
					ds = append(ds, fmtDur(l.lag))
				}
			}
			if len(ds) > 0 {
				parts = append(parts, sys+" "+strings.Join(ds, ", "))
			}
		}
		out = append(out, fmt.Sprintf("- replica lag, %s: %s per round", plural(n, "client"), strings.Join(parts, "; ")))
	}
	for _, sys := range systems {
		if n, ok := rows[sys]; ok {
			out = append(out, fmt.Sprintf("- %s's replica had every acknowledged insert after every round (%d rows at the end, as many as the master)", sys, n))
		}
	}
	return out
}

// insertsComparison is the comparison's frame, before any round.
func insertsComparison(cfg Config) *Comparison {
	return &Comparison{Title: "Durable inserts into a replicaset (master + replica)", Unit: "inserts/s", A: "picogo", B: "tarantool",
		How: fmt.Sprintf("A replicaset of a master and one replica on 127.0.0.1; each insert one iproto INSERT of a row "+
			"{id unsigned, bucket_id unsigned, value string} with a unique id and a %d-byte value into the table `bench` "+
			"(memtx, primary key id) on the master, through go-tarantool v2, answered once the master has written it with fsync. "+
			"picogo: two `picogo run` with --init-replication-factor 2, the table sharded by id (picogo adds bucket_id after the primary key, "+
			"so the rows are the same bytes), the master answering once its replicaset log is fsynced. "+
			"Tarantool: `box.cfg{wal_mode = 'fsync'}` on both, `replication` naming both, the replica `read_only`. "+
			"Replica lag: after each round, the time from the last acknowledged insert until the replica's vclock "+
			"reached the master's (polled every %v); then the replica's row count is checked against the master's and the acknowledged inserts.",
			cfg.ValueSize, lagPoll)}
}

// runInserts measures durable inserts into a replicaset: picogo's (when
// picogoInserts is set) and Tarantool's, both running throughout, loaded
// in turn, recording into c.
func runInserts(ctx context.Context, cfg Config, ps *procs.Registry, dir string, c *Comparison, progress func(string)) error {
	value := benchValue(cfg.ValueSize)
	var sides []*insertSide
	for _, sys := range []struct {
		name  string
		start startInsertTarget
	}{{c.A, picogoInserts}, {c.B, tarantoolInserts}} {
		if sys.start == nil {
			if c.Missing == nil {
				c.Missing = map[string]string{}
			}
			c.Missing[sys.name] = picogoInsertsMissing
			progress(fmt.Sprintf("inserts: %s: %s", sys.name, picogoInsertsMissing))
			continue
		}
		progress(fmt.Sprintf("inserts: starting a %s replicaset (master + replica)", sys.name))
		t, err := sys.start(ctx, cfg, ps, filepath.Join(dir, sys.name))
		if err != nil {
			return fmt.Errorf("%s: %w", sys.name, err)
		}
		defer t.close()
		sides = append(sides, &insertSide{name: sys.name, target: t})
	}
	if len(sides) == 0 {
		return errors.New("no system to measure")
	}
	var systems []string
	for _, s := range sides {
		systems = append(systems, s.name)
	}
	var lags []lagSample
	rows := map[string]uint64{}
	isAlive := alive(ps)
	for _, n := range cfg.Clients {
		for round := 1; round <= cfg.Rounds; round++ {
			for _, s := range sides {
				r := runLoad(ctx, n, cfg.Warmup, cfg.Duration, s.op(value), s.target.cpu)
				if ctx.Err() != nil {
					return ctx.Err()
				}
				r.System, r.Round = s.name, round
				c.Rounds = append(c.Rounds, r)
				where := fmt.Sprintf("%s, %s, round %d", s.name, plural(n, "client"), round)
				lag, err := replicaLag(ctx, s.target, time.Unix(0, s.lastAck.Load()))
				if err != nil {
					return fmt.Errorf("%s: replica lag: %w", where, err)
				}
				lags = append(lags, lagSample{system: s.name, clients: n, round: round, lag: lag})
				c.Notes = lagNotes(systems, lags, rows)
				count, err := verifyReplica(ctx, s)
				if err != nil {
					return fmt.Errorf("%s: %w", where, err)
				}
				rows[s.name] = count
				c.Notes = lagNotes(systems, lags, rows)
				progress(roundLine(c, cfg, r) + "  replica lag " + fmtDur(lag))
				if err := isAlive(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// roundLine is a round's progress line, as alternate prints it.
func roundLine(c *Comparison, cfg Config, r Round) string {
	line := fmt.Sprintf("%s: %s, round %d/%d: %-9s %8s %s  p50 %s  p99 %s  server CPU %s/op  %d errors",
		strings.ToLower(c.Title), plural(r.Clients, "client"), r.Round, cfg.Rounds, r.System, fmtRate(r.Rate()), c.Unit,
		fmtDur(r.Hist.Percentile(50)), fmtDur(r.Hist.Percentile(99)), fmtDur(r.CPUPerOp()), r.Errors)
	if r.FirstErr != nil {
		line += " (first: " + oneLine(r.FirstErr.Error()) + ")"
	}
	return line
}

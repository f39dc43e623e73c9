package bench

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/picogo/picogo/core/sharding"
	"github.com/picogo/picogo/core/vclock"
	"github.com/picogo/picogo/internal/procs"
	"github.com/picogo/picogo/internal/testbin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReplicasetScriptRenders(t *testing.T) {
	s := replicasetScript{Master: "127.0.0.1:3301", Replica: "127.0.0.1:3302", WorkDir: "/tmp/m", Version: [2]int{2, 6}}
	master := s.render()
	repl := `replication = {"replicator:bench-replicator-secret@127.0.0.1:3301", "replicator:bench-replicator-secret@127.0.0.1:3302"},`
	for _, want := range []string{
		`listen = "127.0.0.1:3301",`,
		`work_dir = "/tmp/m",`,
		repl,
		"replication_connect_quorum = 2,",
		"read_only = false,",
		"wal_mode = 'fsync',",
		"box.schema.user.grant(\"replicator\", 'replication', nil, nil, {if_not_exists = true})",
		"box.schema.space.create('bench', {id = 1025, engine = 'memtx'",
		"{name = 'id', type = 'unsigned'},\n    {name = 'bucket_id', type = 'unsigned'},\n    {name = 'value', type = 'string'},",
		"box.space.bench:create_index('primary', {type = 'tree', parts = {'id'}, if_not_exists = true})",
		"box.schema.user.grant('guest', 'read,write', 'space', 'bench', {if_not_exists = true})",
		"function bench_vclock()", "function bench_count()", "function bench_info()",
	} {
		assert.Contains(t, master, want)
	}
	assert.NotContains(t, master, "bootstrap_strategy", "2.6 has none")

	s.IsReplica, s.WorkDir = true, "/tmp/r"
	replica := s.render()
	for _, want := range []string{`listen = "127.0.0.1:3302",`, repl, "read_only = true,", "wal_mode = 'fsync',", "function bench_vclock()"} {
		assert.Contains(t, replica, want)
	}
	assert.NotContains(t, replica, "box.schema", "the replica gets the schema from the master")

	s.Version = [2]int{2, 11}
	assert.Contains(t, s.render(), "bootstrap_strategy = 'legacy', replication_connect_quorum = 2,")
	s.Version = [2]int{3, 2}
	assert.Contains(t, s.render(), "bootstrap_strategy = 'legacy'")

	assert.Equal(t, [2]int{2, 6}, tarantoolVersion("Tarantool 2.6.0-0-g47aa4e01e"))
	assert.Equal(t, [2]int{3, 10}, tarantoolVersion("Tarantool 3.10.1"))
	assert.Equal(t, [2]int{}, tarantoolVersion("unknown (tarantool --version: not found)"))
}

func TestReplicasetReadiness(t *testing.T) {
	ok := replicasetInfo{RO: true, WalMode: "fsync", Bench: true, Upstream: "follow"}
	assert.NoError(t, ok.ready(true))
	assert.ErrorContains(t, replicasetInfo{RO: false, WalMode: "fsync", Bench: true}.ready(true), "read-only is false")
	assert.ErrorContains(t, replicasetInfo{RO: true, WalMode: "fsync", Bench: true, Upstream: "sync"}.ready(true), `"sync"`)
	assert.ErrorContains(t, replicasetInfo{RO: true, WalMode: "write", Bench: true}.ready(false), "wal_mode")
	assert.ErrorContains(t, replicasetInfo{RO: false, WalMode: "fsync"}.ready(false), "no table")
	assert.NoError(t, replicasetInfo{RO: false, WalMode: "fsync", Bench: true}.ready(false), "the master follows no one")
}

func TestParseOnlyInserts(t *testing.T) {
	only, err := ParseOnly("inserts")
	require.NoError(t, err)
	assert.Equal(t, []string{PhaseInserts}, only)
	cfg := DefaultConfig()
	cfg.Only = only
	assert.True(t, cfg.runs(PhaseInserts))
	assert.False(t, cfg.runs(PhaseCalls))
	assert.True(t, DefaultConfig().runs(PhaseInserts), "in the default set")
	_, err = ParseOnly("insert")
	assert.ErrorContains(t, err, "writes, calls, inserts, sql, sql-scan, pg, restart, sharding, sim")
}

// fakeReplicaset is an insertTarget in memory whose replica applies the
// master's rows lag after they are acknowledged.
type fakeReplicaset struct {
	mu      sync.Mutex
	lag     time.Duration
	rows    []time.Time // when each row was acknowledged
	dropped int         // rows the replica never gets
}

func (f *fakeReplicaset) insert(_ context.Context, _ int, t insertTuple) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if want, _ := sharding.BucketID([]any{t.ID}, insertBuckets); t.Value == "" || t.BucketID != want {
		return errors.New("bad tuple")
	}
	f.rows = append(f.rows, time.Now())
	return nil
}

// applied is how many rows the replica has.
func (f *fakeReplicaset) applied() uint64 {
	n := 0
	for _, at := range f.rows {
		if time.Since(at) >= f.lag {
			n++
		}
	}
	return uint64(max(0, n-f.dropped))
}

func (f *fakeReplicaset) vclock(_ context.Context, replica bool) (vclock.VClock, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if replica {
		return vclock.VClock{1: f.applied() + 7, 0: 1}, nil
	}
	return vclock.VClock{1: uint64(len(f.rows)) + 7, 0: 99}, nil
}

func (f *fakeReplicaset) count(_ context.Context, replica bool) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if replica {
		return uint64(len(f.rows) - f.dropped), nil
	}
	return uint64(len(f.rows)), nil
}

func (f *fakeReplicaset) cpu() time.Duration { return 0 }
func (f *fakeReplicaset) close()             {}

func TestReplicaLagAndCheck(t *testing.T) {
	ctx := context.Background()
	f := &fakeReplicaset{lag: 30 * time.Millisecond}
	s := &insertSide{name: "fake", target: f}
	op := s.op(benchValue(100))
	for range 5 {
		require.NoError(t, op(ctx, 0))
	}
	assert.EqualValues(t, 5, s.acked.Load())
	lag, err := replicaLag(ctx, f, time.Unix(0, s.lastAck.Load()))
	require.NoError(t, err)
	assert.GreaterOrEqual(t, lag, 30*time.Millisecond, "not before the replica has the rows")
	assert.Less(t, lag, 500*time.Millisecond, "polled often")
	n, err := verifyReplica(ctx, s)
	require.NoError(t, err)
	assert.EqualValues(t, 5, n)

	// A replica missing a row fails the check.
	f.dropped = 1
	_, err = verifyReplica(ctx, s)
	assert.ErrorContains(t, err, "the replica has 4 rows, the master 5")

	assert.True(t, covers(vclock.VClock{1: 5, 2: 3}, vclock.VClock{1: 5, 0: 100}), "component 0 is local")
	assert.False(t, covers(vclock.VClock{1: 4}, vclock.VClock{1: 5}))
}

func TestInsertsReportWithoutPicogo(t *testing.T) {
	c := insertsComparison(DefaultConfig())
	c.Missing = map[string]string{"picogo": picogoInsertsMissing}
	c.Rounds = []Round{round("tarantool", 16, 3000, time.Second, time.Millisecond, 0)}
	c.Notes = lagNotes([]string{"tarantool"}, []lagSample{{"tarantool", 16, 1, 1500 * time.Microsecond}}, map[string]uint64{"tarantool": 3000})
	md := (&Report{Comparisons: []*Comparison{c}}).Markdown()
	assert.Contains(t, md, "## Durable inserts into a replicaset (master + replica)")
	assert.Contains(t, md, "picogo: not yet measurable (issue 13)\n")
	assert.Contains(t, md, "| 16 | – | 3000 | – |", "no figure for picogo")
	assert.Contains(t, md, "- 16 clients: picogo not yet measurable (issue 13); tarantool 3000 inserts/s per round")
	assert.Contains(t, md, "- replica lag, 16 clients: tarantool 1.50 ms per round")
	assert.Contains(t, md, "tarantool's replica had every acknowledged insert after every round (3000 rows")
	assert.Contains(t, md, "## Where picogo is behind\n\n- Durable inserts into a replicaset (master + replica): picogo not yet measurable (issue 13)")
	assert.NotContains(t, md, "Nowhere in this run")
}

// TestTarantoolReplicasetInserts starts Tarantool's replicaset, inserts
// from 2 clients for a second and checks the replica has every
// acknowledged row.
func TestTarantoolReplicasetInserts(t *testing.T) {
	bin := testbin.Tarantool(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ps := &procs.Registry{}
	t.Cleanup(func() { _ = ps.KillAll() })
	cfg := DefaultConfig()
	cfg.Tarantool = bin
	target, err := startTarantoolReplicaset(ctx, cfg, ps, t.TempDir())
	require.NoError(t, err)
	defer target.close()
	s := &insertSide{name: "tarantool", target: target}
	r := runLoad(ctx, 2, 0, time.Second, s.op(benchValue(cfg.ValueSize)), target.cpu)
	require.NoError(t, r.FirstErr)
	require.Positive(t, r.Ops)
	assert.Positive(t, r.CPU, "the servers' CPU is read")
	lag, err := replicaLag(ctx, target, time.Unix(0, s.lastAck.Load()))
	require.NoError(t, err)
	assert.Less(t, lag, lagTimeout)
	rc, err := target.count(ctx, true)
	require.NoError(t, err)
	assert.Equal(t, s.acked.Load(), rc, "the replica has every acknowledged insert")
	_, err = verifyReplica(ctx, s)
	require.NoError(t, err)
	t.Logf("%d inserts in %v from 2 clients (p50 %v), replica lag %v", r.Ops, r.Elapsed, r.Hist.Percentile(50), lag)

	// Inserting an id twice is an error, not an acknowledgement.
	assert.Error(t, target.insert(ctx, 0, newInsertTuple(1, "x")))
	assert.NoError(t, alive(ps)())
}

func TestRestartReport(t *testing.T) {
	r := &RestartResult{Rows: 1000, Clients: 256, Load: 2 * time.Second, Stop: 300 * time.Millisecond, DataBytes: 3 << 20,
		Listening: 30 * time.Millisecond, Online: 2500 * time.Millisecond, AllRows: 2500 * time.Millisecond,
		Log: "a checkpoint at LSN 900 (a 0.1 MiB snapshot), then 100 records"}
	md := (&Report{Restart: r}).Markdown()
	assert.Contains(t, md, "## Restart to Online with a loaded table")
	assert.Contains(t, md, "| load: 1000 rows | 2000 ms (500 inserts/s, 0 errors) |")
	assert.Contains(t, md, "| data dir after the stop | 3.0 MiB |")
	assert.Contains(t, md, "**2500 ms** (within the goal of 5s)")
	assert.Contains(t, md, "a checkpoint at LSN 900")
	r.AllRows = 6 * time.Second
	assert.Contains(t, (&Report{Restart: r}).Markdown(), "(over the goal of 5s)")
	assert.NotContains(t, (&Report{Restart: &RestartResult{}}).Markdown(), "Restart to Online", "nothing measured, nothing said")

	assert.Equal(t, "", checkpointNote("a\nb\n"))
	assert.Contains(t, checkpointNote("x\nwal: Checkpoint at 10\ny\n"), "1 log lines mention checkpoints")

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a"), make([]byte, 100), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "d"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "d", "b"), make([]byte, 23), 0o644))
	assert.Equal(t, int64(123), dirSize(dir))
}

func TestPicogoInsertTable(t *testing.T) {
	d := insertTableDef.Clone()
	d.AddBucketID()
	var names []string
	for _, f := range d.Format {
		names = append(names, f.Name)
	}
	assert.Equal(t, []string{"id", "bucket_id", "value"}, names, "picogo's stored format is Tarantool's")
	assert.Equal(t, insertSpace, d.ID)
	assert.NotNil(t, picogoInserts, "picogo's side exists")
}

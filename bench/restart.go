package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/picogo/picogo/core/wal"
	"github.com/picogo/picogo/disk/pebble"
	"github.com/picogo/picogo/internal/procs"
	"github.com/tarantool/go-tarantool/v2"
	"github.com/vmihailenco/msgpack/v5"
)

// The restart measurement: a single-instance picogo cluster (replication
// factor 1) gets the sharded table `bench` with cfg.RestartRows rows,
// loaded by restartClients concurrent INSERTs; the process is stopped with
// SIGTERM and started again, and the time from its start until it is
// Online with every row in its engine is measured (goal: under
// restartGoal with a million rows).

const (
	restartClients = 256             // concurrent INSERTs while loading
	restartConns   = 8               // connections they share
	restartGoal    = 5 * time.Second // start to Online with every row
	restartPoll    = 10 * time.Millisecond
	stopTimeout    = 60 * time.Second // SIGTERM to exit
	restartTimeout = 5 * time.Minute  // start to Online with every row
)

// RestartResult is what the restart phase measured.
type RestartResult struct {
	Rows       uint64
	Clients    int
	Load       time.Duration // the inserts of every row
	LoadErrors uint64
	Stop       time.Duration // SIGTERM until the process exited
	DataBytes  int64         // the data dir after the stop
	Listening  time.Duration // start until the first iproto answer
	Online     time.Duration // start until current and target grade Online
	AllRows    time.Duration // start until Online with every row in the engine
	Checkpoint string        // what the instance's log says about checkpoints
	// Log is what the replicaset log on disk held after the stop (read
	// with wal.Recover, as picogo run does at start).
	Log string
	// Entries is the restart with a long Raft log (nil: not measured).
	Entries *EntriesRestart
}

// EntriesRestart is the restart with a Raft log of Entries .proc_cas
// writes into a GLOBAL table.
type EntriesRestart struct {
	Entries    uint64
	Clients    int
	Load       time.Duration
	LoadErrors uint64
	LastIndex  uint64 // the Raft index of the last write
	Stop       time.Duration
	DataBytes  int64
	Listening  time.Duration
	Online     time.Duration
	AllApplied time.Duration // start until Online with LastIndex applied
	// Log is what the Raft log on disk held after the stop (the snapshot's meta
	// and the entries' keys): snapshots compact it.
	Log string
}

// Markdown is the report's section.
func (r *RestartResult) Markdown() string {
	var b strings.Builder
	if r.AllRows > 0 {
		r.rowsMarkdown(&b)
	}
	if e := r.Entries; e != nil && e.AllApplied > 0 {
		e.markdown(&b)
	}
	return b.String()
}

func (e *EntriesRestart) markdown(b *strings.Builder) {
	b.WriteString("\n## Restart to Online with a long Raft log\n\n")
	fmt.Fprintf(b, "A single `picogo run` (replication factor 1) with the GLOBAL table `%s` {key, value}: %d `.proc_cas` inserts of a %d-byte key and a %d-byte value, "+
		"each one Raft entry (%d concurrent clients on %d connections); then SIGTERM, wait for the exit, and `picogo run` again with the same flags. "+
		"Restart time: from the start of the process until `.proc_instance_info` says Online (current and target) and `.proc_raft_info` has applied "+
		"the last write's index (polled every %v). Goal: under %v.\n\n", benchTableDef.Name, e.Entries, entriesKeySize, entriesValueSize,
		e.Clients, entriesConns, restartPoll, restartGoal)
	b.WriteString("| measure | value |\n|---|--:|\n")
	fmt.Fprintf(b, "| load: %d writes | %s (%s writes/s, %d errors) |\n", e.Entries, fmtDur(e.Load), fmtRate(float64(e.Entries)/e.Load.Seconds()), e.LoadErrors)
	fmt.Fprintf(b, "| SIGTERM to exit | %s |\n", fmtDur(e.Stop))
	fmt.Fprintf(b, "| data dir after the stop | %.1f MiB |\n", float64(e.DataBytes)/(1<<20))
	fmt.Fprintf(b, "| start to the first iproto answer | %s |\n", fmtDur(e.Listening))
	fmt.Fprintf(b, "| start to Online | %s |\n", fmtDur(e.Online))
	fmt.Fprintf(b, "| **start to Online with index %d applied** | **%s** (%s of %v) |\n", e.LastIndex, fmtDur(e.AllApplied), verdict(e.AllApplied), restartGoal)
	if e.Log != "" {
		fmt.Fprintf(b, "\nThe Raft log on disk after the stop (read by the bench before the restart): %s\n", e.Log)
	}
}

func verdict(d time.Duration) string {
	if d >= restartGoal {
		return "over the goal"
	}
	return "within the goal"
}

func (r *RestartResult) rowsMarkdown(b *strings.Builder) {
	b.WriteString("\n## Restart to Online with a loaded table\n\n")
	fmt.Fprintf(b, "A single `picogo run` (replication factor 1) with the sharded table `bench` {id, bucket_id, value}: %d rows loaded by %d concurrent iproto INSERTs "+
		"(%d connections, each answered once durable); then SIGTERM, wait for the exit, and `picogo run` again with the same flags. "+
		"Restart time: from the start of the process until `.proc_instance_info` says Online (current and target) and `.proc_runtime_info`'s "+
		"storage counts every row (polled every %v). Goal: under %v.\n\n", r.Rows, r.Clients, restartConns, restartPoll, restartGoal)
	b.WriteString("| measure | value |\n|---|--:|\n")
	fmt.Fprintf(b, "| load: %d rows | %s (%s inserts/s, %d errors) |\n", r.Rows, fmtDur(r.Load), fmtRate(float64(r.Rows)/r.Load.Seconds()), r.LoadErrors)
	fmt.Fprintf(b, "| SIGTERM to exit | %s |\n", fmtDur(r.Stop))
	fmt.Fprintf(b, "| data dir after the stop | %.1f MiB |\n", float64(r.DataBytes)/(1<<20))
	fmt.Fprintf(b, "| start to the first iproto answer | %s |\n", fmtDur(r.Listening))
	fmt.Fprintf(b, "| start to Online | %s |\n", fmtDur(r.Online))
	fmt.Fprintf(b, "| **start to Online with every row** | **%s** (%s of %v) |\n", fmtDur(r.AllRows), verdict(r.AllRows), restartGoal)
	if r.Log != "" {
		fmt.Fprintf(b, "\nThe replicaset log on disk after the stop (read by the bench with wal.Recover before the restart): %s\n", r.Log)
	}
	if r.Checkpoint != "" {
		fmt.Fprintf(b, "\nThe instance's log on checkpoints: %s\n", r.Checkpoint)
	}
}

// runRestart measures a restart with cfg.RestartRows rows (in dir), then
// one with a Raft log of cfg.RestartEntries entries (in dir/entries).
func runRestart(ctx context.Context, cfg Config, ps *procs.Registry, dir string, res *RestartResult, progress func(string)) error {
	if cfg.RestartRows > 0 {
		if err := runRestartRows(ctx, cfg, ps, dir, res, progress); err != nil {
			return err
		}
		if err := ps.KillAll(); err != nil {
			return err
		}
	}
	if cfg.RestartEntries > 0 {
		res.Entries = &EntriesRestart{}
		return runRestartEntries(ctx, cfg, ps, filepath.Join(dir, "entries"), res.Entries, progress)
	}
	return nil
}

// runRestartRows measures a restart with cfg.RestartRows rows.
func runRestartRows(ctx context.Context, cfg Config, ps *procs.Registry, dir string, res *RestartResult, progress func(string)) error {
	res.Rows, res.Clients = uint64(cfg.RestartRows), restartClients
	progress("restart: starting 1 picogo instance")
	ins, leader, err := startPicogo(ctx, ps, cfg.Picogo, dir, 1, false)
	if err != nil {
		return err
	}
	in := ins[0]
	if err := createInsertTable(ctx, ins, leader); err != nil {
		return err
	}
	err = poll(ctx, readyTimeout, "picogo: writable", []*procs.Process{in.proc}, func() error {
		s, err := storageOf(ctx, in)
		if err == nil && !s.Writable {
			err = errors.New("not writable yet")
		}
		return err
	})
	if err != nil {
		return err
	}
	progress(fmt.Sprintf("restart: loading %d rows with %d clients", res.Rows, restartClients))
	start := time.Now()
	if res.LoadErrors, err = loadRows(ctx, in.addr, res.Rows, value(cfg), progress); err != nil {
		return err
	}
	res.Load = time.Since(start)
	s, err := storageOf(ctx, in)
	if err != nil {
		return err
	}
	if got := s.rowsOf(insertTableName); got != int64(res.Rows) {
		return fmt.Errorf("after the load the instance holds %d rows; want %d", got, res.Rows)
	}
	progress(fmt.Sprintf("restart: %d rows in %s (%s inserts/s); stopping with SIGTERM", res.Rows, fmtDur(res.Load), fmtRate(float64(res.Rows)/res.Load.Seconds())))

	logBefore := procs.LogSize(in.logPath)
	if res.Stop, err = stopInstance(in); err != nil {
		return err
	}
	res.DataBytes = dirSize(filepath.Join(in.dir, "data"))
	res.Checkpoint = checkpointNote(sinceLog(in.logPath, 0, logBefore))
	if rec, err := replicasetLog(filepath.Join(in.dir, "data", "db")); err != nil {
		res.Log = "unread: " + err.Error()
	} else {
		res.Log = rec
	}

	progress(fmt.Sprintf("restart: stopped in %s, data dir %.1f MiB; starting again", fmtDur(res.Stop), float64(res.DataBytes)/(1<<20)))
	err = awaitRestart(ctx, in, func(c *tarantool.Connection, elapsed time.Duration) (bool, error) {
		if online, err := onlineAfter(c, elapsed, &res.Listening, &res.Online); !online {
			return false, err
		}
		s, err := storageInfo(c)
		if err != nil {
			return false, err
		}
		if got := s.rowsOf(insertTableName); got != int64(res.Rows) {
			return false, fmt.Errorf("online with %d rows of %d", got, res.Rows)
		}
		res.AllRows = elapsed
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("not Online with %d rows: %w", res.Rows, err)
	}
	if note := checkpointNote(procs.LogSince(in.logPath, logBefore)); note != "" {
		res.Checkpoint = strings.TrimSpace(res.Checkpoint + " After the restart: " + note)
	}
	progress(fmt.Sprintf("restart: answering after %s, Online after %s, every row after %s",
		fmtDur(res.Listening), fmtDur(res.Online), fmtDur(res.AllRows)))
	return nil
}

// The Raft log's load: small writes, many at once, so that a million
// entries take a minute or two rather than ten.
const (
	entriesClients     = 128
	entriesConns       = 8
	entriesKeySize     = 16
	entriesValueSize   = 16
	entriesLoadTimeout = 20 * time.Minute
)

// runRestartEntries measures a restart with a Raft log of
// cfg.RestartEntries .proc_cas inserts into the GLOBAL table bench_kv.
func runRestartEntries(ctx context.Context, cfg Config, ps *procs.Registry, dir string, res *EntriesRestart, progress func(string)) error {
	res.Entries, res.Clients = uint64(cfg.RestartEntries), entriesClients
	progress("restart: starting 1 picogo instance for the Raft log")
	ins, leader, err := startPicogo(ctx, ps, cfg.Picogo, dir, 1, false)
	if err != nil {
		return err
	}
	in := ins[0]
	w, err := newCasWriter(ctx, leader, entriesConns, newKeySource("e", entriesKeySize), benchValue(entriesValueSize))
	if err != nil {
		return err
	}
	defer w.close()
	if err := w.createTable(); err != nil {
		return err
	}
	progress(fmt.Sprintf("restart: writing %d Raft entries with %d clients", res.Entries, entriesClients))
	lctx, cancel := context.WithTimeout(ctx, entriesLoadTimeout)
	defer cancel()
	start := time.Now()
	if res.LoadErrors, err = loadEntries(lctx, w, res.Entries, progress); err != nil {
		return err
	}
	res.Load = time.Since(start)
	res.LastIndex = w.predicate().Index
	w.close()
	progress(fmt.Sprintf("restart: %d writes in %s (%s writes/s), the last at index %d; stopping with SIGTERM",
		res.Entries, fmtDur(res.Load), fmtRate(float64(res.Entries)/res.Load.Seconds()), res.LastIndex))

	if res.Stop, err = stopInstance(in); err != nil {
		return err
	}
	res.DataBytes = dirSize(filepath.Join(in.dir, "data"))
	if l, err := raftLog(filepath.Join(in.dir, "data", "db")); err != nil {
		res.Log = "unread: " + err.Error()
	} else {
		res.Log = l
	}
	progress(fmt.Sprintf("restart: stopped in %s, data dir %.1f MiB; starting again", fmtDur(res.Stop), float64(res.DataBytes)/(1<<20)))
	return awaitRestart(ctx, in, func(c *tarantool.Connection, elapsed time.Duration) (bool, error) {
		online, err := onlineAfter(c, elapsed, &res.Listening, &res.Online)
		if !online {
			return false, err
		}
		info, err := callOne[raftInfo](c, ".proc_raft_info")
		if err != nil {
			return false, err
		}
		if info.Applied < res.LastIndex {
			return false, fmt.Errorf("online with index %d applied of %d", info.Applied, res.LastIndex)
		}
		res.AllApplied = elapsed
		progress(fmt.Sprintf("restart: answering after %s, Online after %s, index %d applied after %s",
			fmtDur(res.Listening), fmtDur(res.Online), res.LastIndex, fmtDur(res.AllApplied)))
		return true, nil
	})
}

// loadEntries makes n unique inserts through w with entriesClients
// goroutines; a write that fails is retried (10 times at most).
func loadEntries(ctx context.Context, w *casWriter, n uint64, progress func(string)) (uint64, error) {
	var next, failed, done atomic.Uint64
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	stopReports := reportEvery(10*time.Second, func() { progress(fmt.Sprintf("restart: %d writes of %d done", done.Load(), n)) })
	for worker := range entriesClients {
		wg.Go(func() {
			for ctx.Err() == nil && next.Add(1) <= n {
				for attempt := 0; ; attempt++ {
					err := w.write(ctx, worker)
					if err == nil {
						break
					}
					failed.Add(1)
					if attempt >= 10 {
						once.Do(func() { firstErr = err })
						return
					}
					time.Sleep(errorPause)
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	stopReports()
	if firstErr != nil {
		return failed.Load(), fmt.Errorf("writing entries: a write failed 10 times: %w", firstErr)
	}
	if done.Load() < n {
		return failed.Load(), fmt.Errorf("writing entries: %d of %d within %v: %w", done.Load(), n, entriesLoadTimeout, ctx.Err())
	}
	return failed.Load(), nil
}

// stopInstance stops in with SIGTERM and returns how long it took to exit.
func stopInstance(in *picogoInstance) (time.Duration, error) {
	start := time.Now()
	if err := in.proc.Signal(syscall.SIGTERM); err != nil {
		return 0, err
	}
	if _, err := in.proc.Wait(stopTimeout); err != nil {
		return 0, err
	}
	d := time.Since(start)
	_ = in.proc.Kill() // exited: only marks it as stopped on purpose
	return d, nil
}

// awaitRestart starts in again and polls it (a fresh pico_service
// connection every restartPoll) until ready says it is, restartTimeout at
// most.
func awaitRestart(ctx context.Context, in *picogoInstance, ready func(c *tarantool.Connection, elapsed time.Duration) (bool, error)) error {
	start := time.Now()
	if err := in.restart(); err != nil {
		return err
	}
	deadline := start.Add(restartTimeout)
	var last error
	for {
		elapsed := time.Since(start)
		ok, err := func() (bool, error) {
			cctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			c, err := tarantool.Connect(cctx, tarantool.NetDialer{Address: in.addr, User: "pico_service", Password: picogoServicePassword},
				tarantool.Opts{Timeout: requestTimeout})
			if err != nil {
				return false, err
			}
			defer c.Close()
			return ready(c, elapsed)
		}()
		if ok {
			return nil
		}
		last = err
		if how, gone := exited(in.proc); gone {
			return errors.New(how)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready within %v: %w", restartTimeout, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(restartPoll):
		}
	}
}

// onlineAfter records the first answer and the first Online (current and
// target grade) at elapsed; it reports whether the instance is Online.
func onlineAfter(c *tarantool.Connection, elapsed time.Duration, listening, online *time.Duration) (bool, error) {
	type grade struct {
		Variant string `msgpack:"variant"`
	}
	type instanceInfo struct {
		Current grade `msgpack:"current_grade"`
		Target  grade `msgpack:"target_grade"`
	}
	info, err := callOne[instanceInfo](c, ".proc_instance_info")
	if err != nil {
		return false, err
	}
	if *listening == 0 {
		*listening = elapsed
	}
	if info.Current.Variant != "Online" || info.Target.Variant != "Online" {
		return false, fmt.Errorf("%s, target %s", info.Current.Variant, info.Target.Variant)
	}
	if *online == 0 {
		*online = elapsed
	}
	return true, nil
}

// raftLog opens the stopped instance's store and says what its Raft log
// holds: the snapshot and the entries after it. It reads the keys
// core/node/storage.go lays out (a client does not import core/node):
// raft/snap (a CRC-32C, then the msgpack meta), raft/snapchunk/<n>,
// raft/log/<index:8 BE>.
func raftLog(path string) (string, error) {
	store, err := pebble.Open(path, pebble.Options{})
	if err != nil {
		return "", err
	}
	defer store.Close()
	snap := "no snapshot"
	if v, ok, err := store.Get([]byte("raft/snap")); err != nil {
		return "", err
	} else if ok && len(v) > 4 {
		var meta struct {
			Index uint64 `msgpack:"index"`
		}
		if err := msgpack.Unmarshal(v[4:], &meta); err != nil {
			return "", fmt.Errorf("raft/snap: %w", err)
		}
		var chunks, bytes int
		if err := store.Scan([]byte("raft/snapchunk/"), []byte("raft/snapchunk0"), func(_, v []byte) bool {
			chunks, bytes = chunks+1, bytes+len(v)
			return true
		}); err != nil {
			return "", err
		}
		snap = fmt.Sprintf("a snapshot at index %d (%.1f MiB in %d chunks)", meta.Index, float64(bytes)/(1<<20), chunks)
	}
	prefix := []byte("raft/log/")
	var n, bytes int
	var first, last uint64
	if err := store.Scan(prefix, []byte("raft/log0"), func(k, v []byte) bool {
		if len(k) == len(prefix)+8 {
			last = binary.BigEndian.Uint64(k[len(prefix):])
			if n == 0 {
				first = last
			}
		}
		n, bytes = n+1, bytes+len(v)
		return true
	}); err != nil {
		return "", err
	}
	if n == 0 {
		return snap + ", then no entries", nil
	}
	return fmt.Sprintf("%s, then %d entries (index %d to %d, %.1f MiB)", snap, n, first, last, float64(bytes)/(1<<20)), nil
}

func value(cfg Config) string { return benchValue(cfg.ValueSize) }

// loadRows inserts ids 1..rows into `bench` on addr with restartClients
// goroutines sharing restartConns connections; a failed insert is retried
// (an id already there counts as done). It returns the failures.
func loadRows(ctx context.Context, addr string, rows uint64, value string, progress func(string)) (uint64, error) {
	conns, err := openAll(restartConns, func() (*tarantool.Connection, error) {
		return connectTarantool(ctx, addr, "admin", picogoAdminPassword)
	})
	if err != nil {
		return 0, err
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	var next, failed, done atomic.Uint64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	var gaveUp atomic.Bool // a worker's insert failed 10 times
	stopReports := reportEvery(10*time.Second, func() { progress(fmt.Sprintf("restart: %d rows of %d loaded", done.Load(), rows)) })
	for w := range restartClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn := conns[w%len(conns)]
			for ctx.Err() == nil {
				id := next.Add(1)
				if id > rows {
					return
				}
				for attempt := 0; ; attempt++ {
					var res []insertTuple
					err := conn.Do(tarantool.NewInsertRequest(insertSpace).Tuple(newInsertTuple(id, value))).GetTyped(&res)
					var te tarantool.Error
					if err == nil || attempt > 0 && errors.As(err, &te) && te.Code == tarantoolTupleFound {
						break
					}
					failed.Add(1)
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					if attempt >= 10 {
						gaveUp.Store(true)
						return
					}
					time.Sleep(errorPause)
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	stopReports()
	if gaveUp.Load() {
		return failed.Load(), fmt.Errorf("loading rows: an insert failed 10 times: %w", firstErr)
	}
	if err := ctx.Err(); err != nil {
		return failed.Load(), err
	}
	return failed.Load(), nil
}

// tarantoolTupleFound is box's ER_TUPLE_FOUND (a duplicate key).
const tarantoolTupleFound = 3

// dirSize is the bytes of the regular files under dir.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// sinceLog is the instance's log from offset from to offset to.
func sinceLog(path string, from, to int64) string {
	s := procs.LogSince(path, from)
	if int64(len(s)) > to-from && to >= from {
		s = s[:to-from]
	}
	return s
}

// checkpointNote summarizes what a picogo log says about the replicaset
// log's checkpoints ("" if nothing).
func checkpointNote(log string) string {
	var n int
	var lastLine string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(strings.ToLower(l), "checkpoint") {
			n++
			lastLine = strings.TrimSpace(l)
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d log lines mention checkpoints; the last: `%s`.", n, lastLine)
}

// replicasetLog opens the stopped instance's store and says what its
// replicaset log holds: the checkpoint's LSN and size, and the records
// after it.
func replicasetLog(path string) (string, error) {
	store, err := pebble.Open(path, pebble.Options{})
	if err != nil {
		return "", err
	}
	defer store.Close()
	rec, err := wal.Recover(store)
	if err != nil {
		return "", err
	}
	var bytes int
	for _, r := range rec.Records {
		bytes += len(r.Payload)
	}
	ckpt := "no checkpoint"
	if rec.Checkpoint != nil {
		ckpt = fmt.Sprintf("a checkpoint at LSN %d (a %.1f MiB snapshot)", rec.CheckpointLSN, float64(len(rec.Checkpoint))/(1<<20))
	}
	if len(rec.Records) == 0 {
		return ckpt + ", then no records (a graceful stop checkpoints)", nil
	}
	return fmt.Sprintf("%s, then %d records (LSN %d to %d, %.1f MiB of payload)", ckpt, len(rec.Records),
		rec.CheckpointLSN+1, rec.Last(), float64(bytes)/(1<<20)), nil
}

// reportEvery calls report every interval, on a goroutine of its own, until
// the stop it returns is called.
func reportEvery(interval time.Duration, report func()) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				report()
			}
		}
	}()
	return func() { close(done) }
}

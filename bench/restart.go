package bench

import (
	"context"
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
}

// Markdown is the report's section.
func (r *RestartResult) Markdown() string {
	var b strings.Builder
	b.WriteString("\n## Restart to Online with a loaded table\n\n")
	fmt.Fprintf(&b, "A single `picogo run` (replication factor 1) with the sharded table `bench` {id, bucket_id, value}: %d rows loaded by %d concurrent iproto INSERTs "+
		"(%d connections, each answered once durable); then SIGTERM, wait for the exit, and `picogo run` again with the same flags. "+
		"Restart time: from the start of the process until `.proc_instance_info` says Online (current and target) and `.proc_runtime_info`'s "+
		"storage counts every row (polled every %v). Goal: under %v.\n\n", r.Rows, r.Clients, restartConns, restartPoll, restartGoal)
	b.WriteString("| measure | value |\n|---|--:|\n")
	fmt.Fprintf(&b, "| load: %d rows | %s (%s inserts/s, %d errors) |\n", r.Rows, fmtDur(r.Load), fmtRate(float64(r.Rows)/r.Load.Seconds()), r.LoadErrors)
	fmt.Fprintf(&b, "| SIGTERM to exit | %s |\n", fmtDur(r.Stop))
	fmt.Fprintf(&b, "| data dir after the stop | %.1f MiB |\n", float64(r.DataBytes)/(1<<20))
	fmt.Fprintf(&b, "| start to the first iproto answer | %s |\n", fmtDur(r.Listening))
	fmt.Fprintf(&b, "| start to Online | %s |\n", fmtDur(r.Online))
	verdict := "within the goal"
	if r.AllRows >= restartGoal {
		verdict = "over the goal"
	}
	fmt.Fprintf(&b, "| **start to Online with every row** | **%s** (%s of %v) |\n", fmtDur(r.AllRows), verdict, restartGoal)
	if r.Log != "" {
		fmt.Fprintf(&b, "\nThe replicaset log on disk after the stop (read by the bench with wal.Recover before the restart): %s\n", r.Log)
	}
	if r.Checkpoint != "" {
		fmt.Fprintf(&b, "\nThe instance's log on checkpoints: %s\n", r.Checkpoint)
	}
	return b.String()
}

// runRestart measures a restart with rows rows.
func runRestart(ctx context.Context, cfg Config, ps *procs.Registry, dir string, res *RestartResult, progress func(string)) error {
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
	start = time.Now()
	if err := in.proc.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	if _, err := in.proc.Wait(stopTimeout); err != nil {
		return err
	}
	res.Stop = time.Since(start)
	_ = in.proc.Kill() // exited: only marks it as stopped on purpose
	res.DataBytes = dirSize(filepath.Join(in.dir, "data"))
	res.Checkpoint = checkpointNote(sinceLog(in.logPath, 0, logBefore))
	if rec, err := replicasetLog(filepath.Join(in.dir, "data", "db")); err != nil {
		res.Log = "unread: " + err.Error()
	} else {
		res.Log = rec
	}

	progress(fmt.Sprintf("restart: stopped in %s, data dir %.1f MiB; starting again", fmtDur(res.Stop), float64(res.DataBytes)/(1<<20)))
	start = time.Now()
	if err := in.restart(); err != nil {
		return err
	}
	deadline := start.Add(restartTimeout)
	var last error
	for {
		elapsed := time.Since(start)
		if ok, err := restartState(ctx, in, res, elapsed); ok {
			break
		} else {
			last = err
		}
		if how, gone := exited(in.proc); gone {
			return errors.New(how)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not Online with %d rows within %v: %w", res.Rows, restartTimeout, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(restartPoll):
		}
	}
	if note := checkpointNote(procs.LogSince(in.logPath, logBefore)); note != "" {
		res.Checkpoint = strings.TrimSpace(res.Checkpoint + " After the restart: " + note)
	}
	progress(fmt.Sprintf("restart: answering after %s, Online after %s, every row after %s",
		fmtDur(res.Listening), fmtDur(res.Online), fmtDur(res.AllRows)))
	return nil
}

// restartState records in res the first time the restarted instance
// answers, is Online, and has every row; it reports whether it has all
// three.
func restartState(ctx context.Context, in *picogoInstance, res *RestartResult, elapsed time.Duration) (bool, error) {
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	c, err := tarantool.Connect(cctx, tarantool.NetDialer{Address: in.addr, User: "pico_service", Password: picogoServicePassword},
		tarantool.Opts{Timeout: requestTimeout})
	if err != nil {
		return false, err
	}
	defer c.Close()
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
	if res.Listening == 0 {
		res.Listening = elapsed
	}
	if info.Current.Variant != "Online" || info.Target.Variant != "Online" {
		return false, fmt.Errorf("%s, target %s", info.Current.Variant, info.Target.Variant)
	}
	if res.Online == 0 {
		res.Online = elapsed
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
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				progress(fmt.Sprintf("restart: %d rows of %d loaded", done.Load(), rows))
			}
		}
	}()
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
						close(stop)
						return
					}
					time.Sleep(errorPause)
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	select {
	case <-stop:
		return failed.Load(), fmt.Errorf("loading rows: an insert failed 10 times: %w", firstErr)
	default:
		close(stop)
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
	return fmt.Sprintf("%s, then %d records (LSN %d to %d, %.1f MiB of payload)", ckpt, len(rec.Records),
		rec.CheckpointLSN+1, rec.Last(), float64(bytes)/(1<<20)), nil
}

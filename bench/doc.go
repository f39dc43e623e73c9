// Package bench is picogo's load generator (`picogo bench`, `make bench`):
// it measures the same work on picogo and on what a user would pick
// instead, in the same run, and prints one markdown table per comparison
// with the ratios (SPEC N1, issue 6).
//
//   - writes: durable replicated writes. A 3-instance picogo cluster doing
//     `.proc_cas` inserts of unique keys into a GLOBAL table, against a
//     3-member etcd cluster doing puts of keys and values of the same sizes
//     (16 and 100 bytes by default), both on loopback with fsync on, both
//     clients sending to the Raft leader.
//   - calls: trivial iproto calls. picogo's `.proc_version_info` on a
//     single instance, against a Tarantool instance serving a Lua function
//     that returns the same map, through the same client (go-tarantool v2).
//   - inserts: durable inserts into a replicaset of a master and one
//     replica (issue 13): iproto INSERTs of {id, bucket_id, value} rows
//     acknowledged once the master has written them with fsync, and after
//     each round the replica's lag behind the last acknowledgement and a
//     check that it has every acknowledged row. Tarantool's side is a
//     master and a replica with wal_mode = 'fsync'; picogo's side
//     (picogoInserts, bench/picogo_inserts.go) is two `picogo run` with
//     --init-replication-factor 2: one replicaset of the tier storage, the
//     table `bench` created sharded through `.proc_cas` ddl_prepare (picogo
//     adds its bucket_id column, so the rows are the same bytes), INSERTs
//     on the writable master, `.proc_get_vclock` for the lag and
//     `.proc_runtime_info`'s storage rows for the check.
//   - sql: point statements through SQL (bench/sql.go): `INSERT INTO t
//     VALUES (?, ?)` and `SELECT v FROM t WHERE id = ?` through
//     IPROTO_EXECUTE (go-tarantool's ExecuteRequest, the same code for
//     both) at every client count, on a one-instance picogo cluster (the
//     table DISTRIBUTED BY (id)) against one Tarantool's own SQL
//     (box.execute, wal_mode = 'fsync', a user with read and write on T).
//   - sql-scan: `SELECT k % 100, COUNT(*), SUM(v) FROM t GROUP BY 1` over
//     --sql-rows rows (bench/sql_scan.go), loaded by multi-row INSERTs of
//     1000 rows, on picogo at --sql-replicasets replicasets of one
//     instance each (buckets balanced first), on Tarantool's SQL and on
//     SQLite in-process (modernc.org/sqlite, in memory): the median of
//     --sql-queries runs, every answer checked.
//   - restart: picogo alone (bench/restart.go). A single instance
//     (replication factor 1) gets the sharded table `bench` with
//     --restart-rows rows (a million by default), loaded by 256 concurrent
//     INSERTs (the load time is reported); it is stopped with SIGTERM,
//     its data dir measured, its replicaset log read with wal.Recover (is
//     there a checkpoint, how many records after it), and started again
//     with the same flags: the report gives the time from the start to the
//     first iproto answer, to Online, and to Online with every row in the
//     engine (goal: under 5 s). Then the same with a Raft log of
//     --restart-entries .proc_cas writes (a million by default) into a
//     GLOBAL table: the report says what the log on disk holds (snapshots
//     compact it) and the time to Online with the last write applied.
//   - sharding: picogo alone (bench/sharding.go). Routed writes
//     (`.proc_router_insert` of unique ids through random instances) at
//     --sharding-replicasets replicasets of 2 instances each, at every
//     client count; then --sharding-rows rows loaded into 2 replicasets, a
//     third replicaset joining under a 16-client writer, and the time until
//     _pico_bucket is 1000/1000/1000 at rest, the rows moved, the writer's
//     throughput and p99 during the move against before it.
//   - sim: the simulator's speed (virtual seconds per wall second, seeds
//     per minute) and porcupine's check time per 10k operations.
//
// Every comparison runs at each client count (1, 16, 64 by default) for a
// number of rounds of a fixed duration, alternating the systems A/B/A/B
// within the same run, after a short warm-up that is not measured. A
// client is a goroutine doing one operation at a time; by default all the
// goroutines of a system share one connection (go-tarantool's and etcd's
// clients are both pipelined and safe for concurrent use, and one shared
// connection is what a Go application does with them). Latencies go into
// a log-linear histogram (under 1% error, bounded memory).
//
// Every process the bench starts (picogo, etcd, tarantool) runs in its own
// process group on 127.0.0.1 ports with its data in a temporary directory;
// they are all killed with SIGKILL when the bench ends, on error and on
// SIGINT/SIGTERM too, and the kernel kills them if the bench itself dies
// (Pdeathsig).
package bench

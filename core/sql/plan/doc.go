// Package plan decides where each part of an SQL statement runs in the
// cluster: which replicasets run what, what moves to the router, and what
// the router computes from it.
//
// It owns distribution, not meaning: the fragments it names are ordinary
// statements (parse trees, printed as SQL text to the storages) that
// core/sql/exec runs, on a storage over its own rows and the global tables,
// and at the router over the rows gathered into a virtual table (a motion).
//
// The shapes, tried in order for a query:
//   - Local: no sharded table: the router runs it alone (global tables are
//     on every instance).
//   - Single: one sharded table whose sharding key WHERE fixes to
//     constants: the whole query goes to the replicaset owning that bucket.
//   - Scatter: one sharded table, joined only with global tables (not on
//     the nullable side of a LEFT JOIN), no subquery reading a sharded
//     table: every replicaset of its tier runs a fragment — the filter and
//     projection, a local top-k for ORDER BY ... LIMIT, partial aggregates
//     (AVG as a sum and a count) — and the router merges what they send.
//   - Gather: anything else: each sharded table is read (filtered where a
//     WHERE fixes it alone) into a motion, and the router runs the query
//     over the motions. Motions are bounded by MotionRowMax.
//
// An UPDATE or DELETE of a sharded table runs where its rows are (one
// replicaset when WHERE fixes the sharding key, else all of its tier), as
// the same statement; an UPDATE that sets a sharding-key column moves rows
// and is planned by the router as a read and per-row deletes and inserts.
package plan

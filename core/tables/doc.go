// Package tables owns the global tables that Raft replicates: the system
// tables (_pico_table, _pico_index, _pico_peer_address, _pico_instance,
// _pico_property, _pico_replicaset, _pico_user, _pico_privilege, _pico_tier)
// and user tables created GLOBAL (and the definitions, not the rows, of
// SHARDED ones). It is the Raft state machine over
// core/schema (what a table is) and core/tuple (rows, keys, updates).
//
// A Store holds every table and is the Raft state machine (ra.StateMachine):
// committed commands are Ops (DML, atomic batches, two-phase DDL, ACL, nop)
// that it applies deterministically, returning a Result each. Constraint
// violations are Results with a Tarantool-like error code (a tuple.Error)
// and leave the store unchanged, so every instance reaches the same state
// and the same replies.
//
// The package also owns the system tables' ids, definitions and typed rows
// (table and index definitions as _pico_table and _pico_index rows,
// instances, replicasets, tiers, users and privileges), what the leader's
// CaS check needs (the keys an Op writes, ranges and whether a range
// contains a key, which tables accept plain DML), snapshots served in
// chunks by position as .proc_raft_snapshot_next_chunk does, and a state
// hash to compare instances.
//
// Like everything in core/, the package is single-threaded and
// deterministic: wherever an order is observable (scans, snapshots, hashes)
// rows come in primary key order — a system table's sorted by their
// order-preserving primary key encoding (see tuple.EncodeKey), never taken
// in map order; a global user table's from the B-tree of the
// core/storage engine that holds them, which orders keys the same way.
package tables

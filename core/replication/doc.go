// Package replication owns a replicaset member's user data: its storage
// engine (*storage.Engine), its local durability log (*wal.Log), its
// vclock and role, and the shipping of row changes from the replicaset's
// master to its replicas. docs/replication.md tells the whole story.
//
// It is a deterministic state machine: the node calls the event methods
// (Write, WaitVClock, Demote, Promote, ApplySchema, Receive, Response,
// PersistDone, Tick, Configure, SetSchemaVersion) and carries out the
// effects TakeEffects returns (Persist, Ship, Answer, Done, Note). It
// starts no goroutine, reads no clock, does no IO and never lets map order
// reach its output; time is Tick.
//
// The design, in short:
//
//   - Every row change a master makes is an entry {origin = its raft id,
//     lsn = vclock[origin]+1, schema version, storage.Change}. The master
//     applies it, logs it as a local wal record (data, schema and full-copy
//     marker records are told apart by their first byte) and keeps it in
//     an in-memory window. Local wal LSNs are local; the vclock is the
//     replication position, and its Sum a position in the log (each entry
//     advances one component by one): an entry's sig is the Sum after it.
//   - The master pushes: to each replica a probe first (after any failure
//     or restart too), then the durable entries with sig > the replica's
//     Sum, one shipment outstanding at a time, each at most
//     MaxBytesInFlight bytes (one entry at least). Answers carry the
//     replica's durable vclock, sent once what it applied is durable. A
//     replica takes shipments only from Role.Master (not once a failover's
//     survey fenced it from that master: Fence) and only entries that
//     continue its applied position; duplicates are skipped.
//   - A replica behind the window, or diverged (its vclock not <= the
//     master's), gets a full copy in chunks; on the last chunk it installs
//     it, logs a marker record holding the whole copy and checkpoints at
//     it, so that recovery never combines old records with the copy. A
//     member that learns it diverged is Stale until the copy installs.
//   - Checkpoints every CheckpointEvery records hold the engine snapshot,
//     vclock, schema version and stale flag; Recover restores the newest
//     and replays the records after it.
//   - A batch write (storage.OpBatch) is atomic on the replicaset: the
//     master's engine runs it all or nothing (a failing op changes
//     nothing anywhere; its error names the op, "row N: ..."), and its row
//     changes are ONE entry — one LSN, one wal record, one window entry,
//     shipped whole in one shipment (alone if bigger than
//     MaxBytesInFlight) — that a replica applies whole (a replica where it
//     does not apply undoes what it applied, turns Stale and gets a full
//     copy), that recovery replays whole, and that a torn wal tail drops
//     whole. Rows of a table dropped since are skipped, the others apply.
//     Done.Rows counts its changed rows. Its change may encode to at most
//     MaxBatchChangeBytes (so that it fits one message between members)
//     and hold at most storage.MaxBatchOps ops; its rows count one each
//     toward CheckpointEvery.
//   - With Role.Sync a write is Done once a majority of {self}+Peers have
//     it durable.
//   - Demote turns read-only at once and returns the applied vclock;
//     Promote waits until the durable vclock reaches it, then turns
//     writable (or times out: CodeTimeout).
//   - DDL comes from the Raft log (ApplySchema, SetSchemaVersion); entries
//     of a newer schema version wait, entries for a dropped table are
//     skipped; a replica whose data does not fit a DDL yet defers it to
//     the master's point in the log.
package replication

// Package storage is the in-memory storage engine of user data, like
// Tarantool's memtx: tables (schema.TableDef) of tuples, each with a unique
// primary index and secondary indexes (unique or not, several parts,
// nullable parts), every index an ordered tree (github.com/tidwall/btree)
// in tuple.Compare's order, which is Tarantool's.
//
// Writes are Tarantool's DML with its semantics and box error codes:
// Insert, Replace, Delete, Update (the operations = + - & | ^ # !), Upsert.
// Each returns a Change (table, old tuple, new tuple): the unit a
// write-ahead log records and a replica applies with Apply (Undo reverses
// one). Reads are Get, Select by any index with an iterator (EQ, REQ, ALL,
// LT, LE, GE, GT), offset and limit, Count and Len. CreateTable, DropTable,
// CreateIndex (built over the existing rows, failing on duplicates of a
// unique index) and DropIndex change the schema. Memory reports each
// table's bytes.
//
// A batch (Op{Kind: OpBatch, Batch: ops}, run by Exec) is one write of
// several ops, all or nothing: they run in order, each seeing the rows the
// ones before it changed; if one fails, the changes before it are undone,
// the engine is exactly as it was, and the error keeps the failing op's
// code and names its position ("row 3: Duplicate key exists ..."). A
// successful batch returns one Change holding every row change in order
// (Change.Batch; Change.Rows counts them), which EncodeChange encodes as
// one record and Apply and Undo take whole or not at all — so a log that
// records it as one record replays it whole or, torn, not at all. A batch
// holds at most MaxBatchOps ops and no batch; an empty one changes
// nothing. A single op's Change encodes as it always did.
//
// Tuples are validated as Tarantool validates them: the format's types and
// nullability, trailing nullable fields may be absent, fields beyond the
// format are allowed.
//
// The engine is deterministic and single-threaded, like everything in
// core/: the same calls in the same order leave the same tables, return
// the same results and report the same memory. Durability (a write-ahead
// log, checkpoints) and replication are built on Change by the layers
// above; nothing here does IO. docs/storage.md describes the engine and
// its differences from Tarantool.
package storage

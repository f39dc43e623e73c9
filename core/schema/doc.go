// Package schema owns what a table is, independent of how it is
// replicated: its definition (TableDef: name, distribution, engine, the
// format of typed, nullable fields, the primary key; for a sharded table
// its sharding key, function and tier, and the bucket_id field the cluster
// adds), its index definitions (IndexDef, IndexPart; Resolve checks one
// against a table), the checks of a definition (Validate,
// ValidateDistribution) and of a tuple against its format (CheckTuple),
// and the encoding of its keys, checked against the primary key's parts
// (EncodeKey, RowKey).
//
// Values, tuples and the key encoding itself are core/tuple's. Where a
// definition is kept (the _pico_table and _pico_index rows) and how it
// changes (DDL through Raft) are core/tables'.
package schema

// Package tuple owns values and rows, whoever stores them: the global
// tables replicated by Raft and the storage engine of user data alike.
//
//   - Tuple: a row as its raw msgpack array and the values decoded from it
//     (New), and the deterministic msgpack encoder (Marshal: map keys
//     sorted, integers compact);
//   - FieldType: the field types of a Tarantool format, which values fit
//     them (Matches) and which may be index parts (Indexable);
//   - numbers of every msgpack kind, compared and added exactly (AsUint64,
//     AsInt64, AsFloat64 read them);
//   - EncodeKey: the order-preserving key encoding, whose byte order is the
//     order in which Tarantool compares values;
//   - Update: Tarantool's update operations, parsed against a format's
//     field names and applied to a tuple;
//   - Error: a failure with one of Tarantool's box error codes, the codes
//     every layer above reports.
//
// The package knows nothing of tables, indexes or replication: what a
// table is lives in core/schema, the global tables in core/tables.
//
// Like everything in core/, it is deterministic: whatever it renders or
// encodes from a map is sorted first.
package tuple

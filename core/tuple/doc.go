// Package tuple owns values and rows, whoever stores them: the global
// tables replicated by Raft and the storage engine of user data alike.
//
//   - Tuple: a row as its raw msgpack array and the values decoded from it
//     (New), and the deterministic msgpack encoder (Marshal: map keys
//     sorted, integers compact);
//   - FieldType: the field types of a Tarantool format (unsigned, integer,
//     double, number, decimal, string, boolean, varbinary, uuid, datetime,
//     scalar, map, array, any), which values fit them (Matches) and which
//     may be index parts (Indexable);
//   - Tarantool's msgpack extensions decimal, uuid and datetime, decoded as
//     *apd.Decimal, uuid.UUID and Datetime and encoded back by Marshal;
//   - numbers of every msgpack kind and decimals, compared and added
//     exactly (AsUint64, AsInt64, AsFloat64 read them);
//   - Compare: Tarantool's order of values (nil < boolean < number <
//     string < varbinary < uuid < datetime), the order of the storage
//     engine's indexes;
//   - EncodeKey: the order-preserving byte encoding of the values the
//     global tables key their rows by (everything but the extension
//     types), whose byte order is Compare's;
//   - Update: Tarantool's update operations (= + - & | ^ # !), parsed
//     against a format's field names and applied to a tuple;
//   - Error: a failure with one of Tarantool's box error codes, the codes
//     every layer above reports.
//
// The package knows nothing of tables, indexes or replication: what a
// table is lives in core/schema, the global tables in core/tables.
//
// Like everything in core/, it is deterministic: whatever it renders or
// encodes from a map is sorted first.
package tuple

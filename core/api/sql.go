package api

import (
	"fmt"

	"github.com/picogo/picogo/core/tuple"

	"github.com/vmihailenco/msgpack/v5"
)

// The SQL procedures.
type (
	// SQL: `.proc_sql(query, params?, options?)` — one SQL statement, with
	// its parameters ($1 is params[1], or each ? in order). Options:
	// "timeout" (seconds: how long the statement may take, DDL included)
	// and "sql_motion_row_max" (how many rows one motion may move). It
	// answers a SQLResult.
	SQL struct {
		Query   string         `arg:"query"`
		Params  []any          `arg:"params,optional"`
		Options map[string]any `arg:"options,optional"`
	}
	// SQLLocal: `.proc_sql_local(query, params, tier, bucket, row_max)` —
	// a fragment a router sends: Query (a query, an UPDATE or a DELETE)
	// runs on this instance's rows of Tier's sharded tables and the global
	// tables. With Bucket not 0, this replicaset must own it (as a point
	// request's storage checks); a query answers at most RowMax rows
	// (more is an error naming the limit).
	SQLLocal struct {
		Query  string `arg:"query"`
		Params []any  `arg:"params"`
		Tier   string `arg:"tier"`
		Bucket uint64 `arg:"bucket"`
		RowMax int64  `arg:"row_max"`
	}
	// SQLInsert: `.proc_sql_insert(table, rows, on_conflict)` — rows (with
	// their bucket_id) of one bucket of a sharded table, written by its
	// master as one atomic batch. OnConflict: "" or "FAIL" (a duplicate
	// key fails the batch), "NOTHING" (rows whose key exists are skipped),
	// "REPLACE".
	SQLInsert struct {
		Table      uint32  `arg:"table"`
		Rows       [][]any `arg:"rows"`
		OnConflict string  `arg:"on_conflict"`
	}
)

func (SQL) Proc() string       { return ".proc_sql" }
func (SQLLocal) Proc() string  { return ".proc_sql_local" }
func (SQLInsert) Proc() string { return ".proc_sql_insert" }

// SQLColumn is a result column: its name and type (a Tarantool field type
// name: integer, string, double...).
type SQLColumn struct {
	Name string `msgpack:"name"`
	Type string `msgpack:"type"`
}

// SQLResult is what an SQL statement answers: a query's columns and rows
// ({metadata, rows} on the wire), or the number of rows a statement changed
// ({row_count}).
type SQLResult struct {
	Query    bool
	Metadata []SQLColumn
	Rows     [][]any
	RowCount uint64
}

// EncodeMsgpack writes {metadata, rows} or {row_count}.
func (r SQLResult) EncodeMsgpack(enc *msgpack.Encoder) error {
	if !r.Query {
		if err := enc.EncodeMapLen(1); err != nil {
			return err
		}
		if err := enc.EncodeString("row_count"); err != nil {
			return err
		}
		return enc.EncodeUint(r.RowCount)
	}
	if err := enc.EncodeMapLen(2); err != nil {
		return err
	}
	if err := enc.EncodeString("metadata"); err != nil {
		return err
	}
	meta := r.Metadata
	if meta == nil {
		meta = []SQLColumn{}
	}
	if err := enc.Encode(meta); err != nil {
		return err
	}
	if err := enc.EncodeString("rows"); err != nil {
		return err
	}
	// Through core/tuple, which writes decimals, uuids and datetimes as
	// Tarantool's extensions (the msgpack package knows none of them).
	rows := make([]any, len(r.Rows))
	for i, row := range r.Rows {
		rows[i] = row
	}
	raw, err := tuple.Marshal(rows)
	if err != nil {
		return err
	}
	return enc.Encode(msgpack.RawMessage(raw))
}

// DecodeMsgpack reads either form.
func (r *SQLResult) DecodeMsgpack(dec *msgpack.Decoder) error {
	var m map[string]msgpack.RawMessage
	if err := dec.Decode(&m); err != nil {
		return err
	}
	*r = SQLResult{}
	if raw, ok := m["row_count"]; ok {
		return msgpack.Unmarshal(raw, &r.RowCount)
	}
	meta, ok1 := m["metadata"]
	rows, ok2 := m["rows"]
	if !ok1 || !ok2 {
		return fmt.Errorf("an SQL result is {metadata, rows} or {row_count}")
	}
	r.Query = true
	if err := msgpack.Unmarshal(meta, &r.Metadata); err != nil {
		return fmt.Errorf("metadata: %v", err)
	}
	vals, terr := tuple.DecodeArray(rows)
	if terr != nil {
		return fmt.Errorf("rows: %s", terr.Message)
	}
	r.Rows = make([][]any, len(vals))
	for i, v := range vals {
		row, ok := v.([]any)
		if !ok {
			return fmt.Errorf("rows: row %d is %T, not an array", i+1, v)
		}
		r.Rows[i] = row
	}
	return nil
}

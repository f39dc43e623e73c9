package node

import (
	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/replication"
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/sql/exec"
	"github.com/picogo/picogo/core/sql/parse"
	"github.com/picogo/picogo/core/storage"
	"github.com/picogo/picogo/core/tuple"
)

// The storage side of SQL: what a router sends a replicaset.

// local serves `.proc_sql_local`: a fragment on this replicaset's rows. A
// query is answered once what it read can no longer be taken back (as a
// Tarantool SELECT); an UPDATE or DELETE writes every row it changes as
// one atomic batch, on the master.
func (m *sqlModule) local(_ string, r api.SQLLocal, respond responder) {
	d := m.data
	if d.member == nil || d.member.Stale() {
		respond(nil, api.Errorf(api.CodeNotReady, "sql: this instance's data is not ready (it is getting a full copy from its master)"))
		return
	}
	stmt, err := parse.ParseOne(r.Query)
	if err != nil {
		respond(nil, api.Errorf(tuple.CodeSQLSyntax, "sql fragment: %v", err))
		return
	}
	_, write := stmt.(*parse.Query)
	write = !write
	if r.Bucket != 0 {
		if e := d.fence(r.Tier, r.Bucket, write); e != nil {
			respond(nil, e)
			return
		}
	}
	env := exec.Env{Params: r.Params, Now: m.now()}
	cat := m.catalog()
	switch x := stmt.(type) {
	case *parse.Query:
		res, err := exec.Query(cat, x, env)
		if err != nil {
			respond(nil, sqlError(err))
			return
		}
		if r.RowMax > 0 && int64(len(res.Rows)) > r.RowMax {
			respond(nil, api.Errorf(tuple.CodeSQLMotionLimit,
				"sql: a replicaset has more than %d rows for the query (the motion row limit): raise it with OPTION (SQL_MOTION_ROW_MAX = n) or narrow the query", r.RowMax))
			return
		}
		out := api.SQLResult{Query: true, Rows: res.Rows}
		for _, c := range res.Columns {
			out.Metadata = append(out.Metadata, api.SQLColumn{Name: c.Name, Type: string(c.Type)})
		}
		id := d.request(func(done replication.Done) {
			if done.Err != nil {
				respond(nil, boxError(done.Err))
				return
			}
			respond([]any{out}, nil)
		})
		d.member.ReadBarrier(id)
	case *parse.Update:
		tab, old, updated, err := exec.Update(cat, x, env)
		if err != nil {
			respond(nil, sqlError(err))
			return
		}
		def, e := d.writableTable(tableID(m, tab.Name))
		if e != nil {
			respond(nil, e)
			return
		}
		var ops []storage.Op
		for i := range old {
			ops = append(ops, replaceOps(&def, old[i], updated[i],
				func(key []any) storage.Op { return storage.Op{Kind: storage.OpDelete, Table: def.ID, Key: key} },
				func(row []any) storage.Op { return storage.Op{Kind: storage.OpInsert, Table: def.ID, Tuple: row} },
				func(row []any) storage.Op { return storage.Op{Kind: storage.OpReplace, Table: def.ID, Tuple: row} })...)
		}
		d.writeBatch(def, ops, len(old), respond)
	case *parse.Delete:
		tab, rows, err := exec.Matching(cat, x.Table, x.Where, env)
		if err != nil {
			respond(nil, sqlError(err))
			return
		}
		def, e := d.writableTable(tableID(m, tab.Name))
		if e != nil {
			respond(nil, e)
			return
		}
		ops := make([]storage.Op, len(rows))
		for i, row := range rows {
			ops[i] = storage.Op{Kind: storage.OpDelete, Table: def.ID, Key: def.KeyValues(row)}
		}
		d.writeBatch(def, ops, len(rows), respond)
	default:
		respond(nil, api.Errorf(tuple.CodeUnsupported, "sql fragment: %s does not run on a storage", statementKind(stmt)))
	}
}

func tableID(m *sqlModule, name string) uint32 {
	if def, ok := m.tables.TableByName(name); ok {
		return def.ID
	}
	return 0
}

// insertRows serves `.proc_sql_insert`: rows of one bucket, on its master,
// as one batch.
func (m *sqlModule) insertRows(_ string, r api.SQLInsert, respond responder) {
	d := m.data
	def, e := d.writableTable(r.Table)
	if e != nil {
		respond(nil, e)
		return
	}
	// The batch was routed by its first row's bucket, which the fence
	// of writeBatch checks as a single write's (a router retries its
	// refusals); a later row of a bucket this replicaset does not serve
	// for writes splits the batch: the router sends it bucket by bucket.
	for i, row := range r.Rows {
		if i == 0 {
			continue
		}
		if e := d.checkWrite(def, storage.Op{Kind: storage.OpInsert, Table: def.ID, Tuple: row}); e != nil &&
			(e.Code == api.CodeWrongBucket || e.Code == api.CodeBucketMoving) {
			respond(nil, api.Errorf(api.CodeBucketsSplit, "sql: table %s: row %d: %s", def.Name, i+1, e.Message))
			return
		}
	}
	kind := storage.OpInsert
	if r.OnConflict == "REPLACE" {
		kind = storage.OpReplace
	}
	var ops []storage.Op
	seen := map[string]bool{}
	for _, row := range r.Rows {
		if r.OnConflict == "NOTHING" {
			key, err := def.RowKey(row)
			if err != nil {
				respond(nil, api.Errorf(api.CodeIllegalParams, "sql: table %s: %v", def.Name, err))
				return
			}
			if _, found, _ := d.member.Engine().Get(def.ID, 0, def.KeyValues(row)); found || seen[string(key)] {
				continue
			}
			seen[string(key)] = true
		}
		ops = append(ops, storage.Op{Kind: kind, Table: def.ID, Tuple: row})
	}
	d.writeBatch(def, ops, len(ops), respond)
}

// writeBatch writes ops of sharded table def as one atomic batch on this
// master, after the checks a single write has (each row's bucket is its
// sharding key's, and this replicaset serves it for writes), and answers
// {row_count: rows} once durable.
func (m *data) writeBatch(def schema.TableDef, ops []storage.Op, rows int, respond responder) {
	for _, op := range ops {
		if e := m.checkWrite(def, op); e != nil {
			respond(nil, e)
			return
		}
	}
	m.writeOp(storage.Op{Kind: storage.OpBatch, Batch: ops}, respond, func(replication.Done) ([]any, *api.Error) {
		return []any{api.SQLResult{RowCount: uint64(rows)}}, nil
	})
}

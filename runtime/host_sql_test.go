package runtime

import (
	"fmt"
	"testing"

	"github.com/cockroachdb/apd/v3"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/tuple"
	"github.com/picogo/picogo/net/iproto"
	"github.com/picogo/picogo/proc"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

// sqlHost is a solo instance whose clock runs: the governor makes its
// replicaset ready and bootstraps its tier's buckets, and commits schema
// changes.
func sqlHost(t *testing.T) *soloHost {
	s := newSoloHost(t)
	for range 100 {
		s.h.Tick()
		s.settle()
	}
	return s
}

// sql runs one statement through `.proc_sql` as admin, ticking the clock
// until it is answered (a schema change waits for the governor).
func (s *soloHost) sql(t *testing.T, query string, params ...any) (api.SQLResult, *iproto.Error) {
	t.Helper()
	return s.sqlAs(t, proc.Admin, query, params...)
}

// sqlAs runs one statement through `.proc_sql` as user.
func (s *soloHost) sqlAs(t *testing.T, user, query string, params ...any) (api.SQLResult, *iproto.Error) {
	t.Helper()
	if params == nil {
		params = []any{}
	}
	var got []byte
	s.h.Handle(user, iproto.EncodeCall(100, ".proc_sql", args(t, query, params))[5:], func(b []byte) { got = b })
	for i := 0; got == nil && i < 1000; i++ {
		s.settle()
		if got == nil {
			s.h.Tick()
		}
	}
	require.NotNil(t, got, "%s: no answer", query)
	resp, err := iproto.DecodeResponse(got[5:])
	require.NoError(t, err)
	if resp.Err != nil {
		return api.SQLResult{}, resp.Err
	}
	var vals []api.SQLResult
	require.NoError(t, msgpack.Unmarshal(resp.Data, &vals))
	require.Len(t, vals, 1)
	return vals[0], nil
}

// ints makes every integer of rows an int64 (msgpack decodes a small
// integer as the narrowest kind).
func ints(rows [][]any) [][]any {
	for _, r := range rows {
		for i, v := range r {
			if n, ok := tuple.AsInt64(v); ok {
				if _, isFloat := v.(float64); !isFloat {
					r[i] = n
				}
			}
		}
	}
	return rows
}

func (s *soloHost) mustSQL(t *testing.T, query string, params ...any) api.SQLResult {
	t.Helper()
	res, err := s.sql(t, query, params...)
	require.Nil(t, err, "%s: %v", query, err)
	return res
}

func TestHostSQL(t *testing.T) {
	s := sqlHost(t)
	require.Equal(t, uint64(1), s.mustSQL(t, `CREATE TABLE kinds (id INTEGER PRIMARY KEY, name TEXT NOT NULL) DISTRIBUTED GLOBALLY`).RowCount)
	require.Equal(t, uint64(1), s.mustSQL(t, `CREATE TABLE orders (id INTEGER PRIMARY KEY, kind INTEGER, amount DOUBLE) DISTRIBUTED BY (id)`).RowCount)
	require.Equal(t, uint64(2), s.mustSQL(t, `INSERT INTO kinds VALUES (1, 'book'), (2, 'pen')`).RowCount)
	require.Equal(t, uint64(3), s.mustSQL(t, `INSERT INTO orders VALUES (1, 1, 9.5), (2, 2, 1.25), (3, 1, $1)`, 20.0).RowCount)

	res := s.mustSQL(t, `SELECT k.name, COUNT(*) AS n, SUM(o.amount) AS total FROM orders o JOIN kinds k ON o.kind = k.id GROUP BY k.name ORDER BY 1`)
	require.True(t, res.Query)
	require.Equal(t, []api.SQLColumn{{Name: "name", Type: "string"}, {Name: "n", Type: "integer"}, {Name: "total", Type: "double"}}, res.Metadata)
	require.Equal(t, [][]any{{"book", int64(2), 29.5}, {"pen", int64(1), 1.25}}, ints(res.Rows))

	// The sharding key moves: the row goes to its new bucket.
	require.Equal(t, uint64(1), s.mustSQL(t, `UPDATE orders SET id = 10 WHERE id = 1`).RowCount)
	require.Equal(t, uint64(2), s.mustSQL(t, `UPDATE orders SET amount = amount * 2 WHERE kind = 1`).RowCount)
	res = s.mustSQL(t, `SELECT id, amount FROM orders ORDER BY id`)
	require.Equal(t, [][]any{{int64(2), 1.25}, {int64(3), 40.0}, {int64(10), 19.0}}, ints(res.Rows))
	require.Equal(t, uint64(1), s.mustSQL(t, `DELETE FROM orders WHERE id = 2`).RowCount)
	require.Equal(t, uint64(1), s.mustSQL(t, `DELETE FROM kinds WHERE name = 'pen'`).RowCount)

	// Errors: a duplicate key, a syntax error with its position, an
	// unknown column.
	_, err := s.sql(t, `INSERT INTO orders VALUES (3, 1, 1.0)`)
	require.NotNil(t, err)
	require.Equal(t, tuple.CodeTupleFound, err.Code)
	_, err = s.sql(t, "SELECT *\nFROM orders WHERE")
	require.NotNil(t, err)
	require.Contains(t, err.Message, "line 2")
	_, err = s.sql(t, `SELECT nope FROM orders`)
	require.Equal(t, tuple.CodeSQLUnknownColumn, err.Code)

	res = s.mustSQL(t, `EXPLAIN SELECT amount FROM orders WHERE id = 3`)
	require.Equal(t, "explain", res.Metadata[0].Name)
	require.Contains(t, res.Rows[0][0], "bucket")

	// EXECUTE runs the same SQL: METADATA and DATA for a query, SQL_INFO
	// for DML.
	resp := s.call(t, proc.Admin, iproto.EncodeExecute(200, "SELECT id FROM orders WHERE amount > ? ORDER BY id", args(t, 19.5)))
	require.Nil(t, resp.Err)
	var rows [][]any
	require.NoError(t, msgpack.Unmarshal(resp.Data, &rows))
	require.Equal(t, [][]any{{int64(3)}}, ints(rows))
	resp = s.call(t, proc.Admin, iproto.EncodeExecute(201, "DELETE FROM orders", args(t)))
	require.Nil(t, resp.Err)
	n, err2 := resp.RowCount()
	require.NoError(t, err2)
	require.Equal(t, uint64(2), n)

	// Indexes: a unique index over rows with equal keys is aborted by the
	// governor (a master cannot build it); a plain one is built and
	// dropped; IF [NOT] EXISTS are no-ops.
	s.mustSQL(t, `INSERT INTO orders VALUES (20, 1, 5.0), (21, 1, 6.0)`)
	_, err = s.sql(t, `CREATE UNIQUE INDEX orders_kind ON orders (kind)`)
	require.NotNil(t, err)
	require.Equal(t, api.CodeDdlAborted, err.Code)
	require.Equal(t, uint64(1), s.mustSQL(t, `CREATE INDEX orders_kind ON orders (kind)`).RowCount)
	require.Equal(t, uint64(0), s.mustSQL(t, `CREATE INDEX IF NOT EXISTS orders_kind ON orders (kind)`).RowCount)
	_, err = s.sql(t, `CREATE INDEX orders_kind ON orders (kind)`)
	require.Equal(t, tuple.CodeIndexExists, err.Code)
	require.Equal(t, uint64(1), s.mustSQL(t, `DROP INDEX orders_kind`).RowCount)
	require.Equal(t, uint64(0), s.mustSQL(t, `DROP INDEX IF EXISTS orders_kind`).RowCount)
	require.Equal(t, uint64(0), s.mustSQL(t, `CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY)`).RowCount)
	_, err = s.sql(t, `CREATE TABLE nokey (id INTEGER)`)
	require.Equal(t, tuple.CodeCreateSpace, err.Code)

	require.Equal(t, uint64(1), s.mustSQL(t, `DROP TABLE orders`).RowCount)
	_, err = s.sql(t, `SELECT * FROM orders`)
	require.Equal(t, tuple.CodeSQLUnknownTable, err.Code)
}

// PREPARE names a statement; EXECUTE of its id runs it with the binds;
// PREPARE of the id alone forgets it.
func TestHostPrepare(t *testing.T) {
	s := sqlHost(t)
	s.mustSQL(t, `CREATE TABLE p (id INTEGER PRIMARY KEY, v TEXT) DISTRIBUTED BY (id)`)
	s.mustSQL(t, `INSERT INTO p VALUES (1, 'one'), (2, 'two')`)
	resp := s.call(t, proc.Admin, iproto.EncodePrepare(300, "SELECT v FROM p WHERE id = ?"))
	require.Nil(t, resp.Err)
	var id, count uint64
	rawID, _ := resp.Body.Get(iproto.KeyStmtID)
	rawCount, _ := resp.Body.Get(iproto.KeyBindCount)
	require.NoError(t, msgpack.Unmarshal(rawID, &id))
	require.NoError(t, msgpack.Unmarshal(rawCount, &count))
	require.NotZero(t, id)
	require.Less(t, id, uint64(1)<<32, "a Lua client holds the id in a double")
	require.Equal(t, uint64(1), count)

	resp = s.call(t, proc.Admin, iproto.EncodeExecuteID(301, id, args(t, 2)))
	require.Nil(t, resp.Err)
	var rows [][]any
	require.NoError(t, msgpack.Unmarshal(resp.Data, &rows))
	require.Equal(t, [][]any{{"two"}}, rows)

	resp = s.call(t, proc.Admin, iproto.EncodePrepareID(302, id))
	require.Nil(t, resp.Err)
	resp = s.call(t, proc.Admin, iproto.EncodeExecuteID(303, id, args(t, 2)))
	require.NotNil(t, resp.Err)
	require.Contains(t, resp.Err.Message, "does not exist")

	resp = s.call(t, proc.Admin, iproto.EncodePrepare(304, "SELEC 1"))
	require.NotNil(t, resp.Err)
	require.Equal(t, tuple.CodeSQLSyntax, resp.Err.Code)
}

// Decimals, uuids and datetimes travel as Tarantool's extensions, through
// `.proc_sql` and EXECUTE alike (the msgpack package alone would write a
// decimal as its text in bytes).
func TestHostSQLExtensionValues(t *testing.T) {
	s := sqlHost(t)
	s.mustSQL(t, `CREATE TABLE x (id INTEGER PRIMARY KEY, d DECIMAL, u UUID, t DATETIME) DISTRIBUTED GLOBALLY`)
	s.mustSQL(t, `INSERT INTO x VALUES (1, 1.20, '6f1c7f3e-6d2a-4c3b-9b8e-1f2a3b4c5d6e', '2026-12-06T07:00:00Z')`)
	res := s.mustSQL(t, `SELECT d, u, t FROM x`)
	require.Len(t, res.Rows, 1)
	d, ok := res.Rows[0][0].(*apd.Decimal)
	require.True(t, ok, "a decimal decodes as one, not %T", res.Rows[0][0])
	require.Equal(t, "1.20", d.String())
	require.Equal(t, "6f1c7f3e-6d2a-4c3b-9b8e-1f2a3b4c5d6e", fmt.Sprint(res.Rows[0][1]))
	require.IsType(t, tuple.Datetime{}, res.Rows[0][2])

	resp := s.call(t, proc.Admin, iproto.EncodeExecute(400, "SELECT d FROM x", args(t)))
	require.Nil(t, resp.Err)
	vals, e := tuple.DecodeArray(resp.Data)
	require.Nil(t, e)
	row := vals[0].([]any)
	require.IsType(t, &apd.Decimal{}, row[0])
}

// TestHostSQLInProcess: a statement run for a session that is not
// iproto's (PostgreSQL's protocol) gets `.proc_sql`'s result as values,
// decimals as decimals; DescribeSQL answers parameter and column types
// before anything runs, and refuses what running would.
func TestHostSQLInProcess(t *testing.T) {
	s := sqlHost(t)
	_, e := s.sql(t, "CREATE TABLE prices (id INT PRIMARY KEY, item TEXT, price DECIMAL) DISTRIBUTED BY (id)")
	require.Nil(t, e)

	run := func(query string, params ...any) (api.SQLResult, *api.Error) {
		var res api.SQLResult
		var err *api.Error
		answered := false
		s.h.SQL(proc.Admin, api.SQL{Query: query, Params: params}, func(r api.SQLResult, e *api.Error) {
			res, err, answered = r, e, true
		})
		for i := 0; !answered && i < 1000; i++ {
			s.settle()
			if !answered {
				s.h.Tick()
			}
		}
		require.True(t, answered, "%s: no answer", query)
		return res, err
	}
	res, err := run("INSERT INTO prices VALUES ($1, $2, $3)", int64(1), "tea", tuple.MustDecimal("2.50"))
	require.Nil(t, err)
	require.Equal(t, uint64(1), res.RowCount)
	res, err = run("SELECT item, price FROM prices WHERE id = $1", int64(1))
	require.Nil(t, err)
	require.True(t, res.Query)
	require.Equal(t, []api.SQLColumn{{Name: "item", Type: "string"}, {Name: "price", Type: "decimal"}}, res.Metadata)
	require.Len(t, res.Rows, 1)
	require.Equal(t, "tea", res.Rows[0][0])
	require.Equal(t, "2.50", res.Rows[0][1].(*apd.Decimal).Text('f'))
	_, err = run("SELECT nope FROM prices")
	require.NotNil(t, err)
	require.Equal(t, tuple.CodeSQLUnknownColumn, err.Code)

	d, err := s.h.DescribeSQL(proc.Admin, "SELECT item, price * 2 AS double_price FROM prices WHERE id = $1 AND price > $2")
	require.Nil(t, err)
	require.Equal(t, []tuple.FieldType{"integer", "decimal"}, d.Params)
	require.True(t, d.Query)
	require.Len(t, d.Columns, 2)
	require.Equal(t, "double_price", d.Columns[1].Name)
	require.Equal(t, tuple.TypeDecimal, d.Columns[1].Type)
	d, err = s.h.DescribeSQL(proc.Admin, "EXPLAIN SELECT * FROM prices WHERE id = $1")
	require.Nil(t, err)
	require.Equal(t, []tuple.FieldType{"integer"}, d.Params)
	require.True(t, d.Query, "EXPLAIN returns rows")
	_, err = s.h.DescribeSQL(proc.Admin, "SELEC 1")
	require.NotNil(t, err)
	require.Equal(t, tuple.CodeSQLSyntax, err.Code)
	_, err = s.h.DescribeSQL(proc.Guest, "SELECT * FROM prices")
	require.NotNil(t, err, "guest may not read prices: refused before it runs")
	require.Equal(t, tuple.CodeAccessDenied, err.Code)
}

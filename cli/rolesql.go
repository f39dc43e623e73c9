package cli

import (
	"context"
	"errors"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/sql/value"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
	"github.com/picogo/picogo/role"
	"github.com/picogo/picogo/runtime"
)

// roleUser is the user roles run SQL as: admin. A role is code the
// operator put into the instance's binary (or its --app-dir), trusted as
// the instance itself is; its once-per-cluster DDL runs as admin too
// (docs/roles.md), so its statements can read and write the tables it
// made. There is no per-role user yet.
const roleUser = tables.AdminName

// roleSQL is role.SQL on the daemon: a statement runs as `.proc_sql` on
// this instance would (runtime.Host.SQL on the event loop, as pgBackend.Run
// does), as roleUser. Role code calls it from its own goroutines.
type roleSQL struct{ d *daemon }

// errRoleSQLStopping is the answer when the instance stops before the
// statement's does.
var errRoleSQLStopping = errors.New("sql: the instance is stopping")

// SQL implements role.SQL. It returns ctx.Err() when ctx ends before the
// answer; the statement is then no longer waited for, but a write already
// proposed may still apply (picogo has no transactions to roll it back).
// An error of the node's is an *api.Error, carrying its code and message.
func (s roleSQL) SQL(ctx context.Context, query string, params ...any) (*role.SQLResult, error) {
	values := make([]any, len(params))
	for i, p := range params {
		values[i] = roleParam(p)
	}
	type answer struct {
		res api.SQLResult
		err *api.Error
	}
	a, err := ask(s.d, ctx, func(h *runtime.Host, done func(answer)) {
		h.SQL(roleUser, api.SQL{Query: query, Params: values}, func(res api.SQLResult, e *api.Error) { done(answer{res, e}) })
	})
	switch {
	case errors.Is(err, errInstanceStopping):
		return nil, errRoleSQLStopping
	case err != nil:
		return nil, err
	case a.err != nil:
		return nil, a.err
	}
	return roleResult(a.res), nil
}

// roleParam is a role's parameter as picogo's SQL takes it: a time.Time is
// a datetime; the SQL normalizes Go's integer kinds itself.
func roleParam(v any) any {
	if t, ok := v.(time.Time); ok {
		return tuple.DatetimeOf(t)
	}
	return v
}

// roleResult is a result as role.SQLResult gives it: integers as int64
// (uint64 above its range), doubles as float64, datetimes as time.Time;
// decimals stay *apd.Decimal and uuids uuid.UUID. A query's RowCount is its
// number of rows.
func roleResult(r api.SQLResult) *role.SQLResult {
	out := &role.SQLResult{RowCount: r.RowCount}
	for _, c := range r.Metadata {
		out.Columns = append(out.Columns, c.Name)
	}
	if !r.Query {
		return out
	}
	out.Rows = make([][]any, len(r.Rows))
	for i, row := range r.Rows {
		vals := make([]any, len(row))
		for j, v := range row {
			v = value.Normalize(v)
			if dt, ok := v.(tuple.Datetime); ok {
				v = dt.Time()
			}
			vals[j] = v
		}
		out.Rows[i] = vals
	}
	out.RowCount = uint64(len(out.Rows))
	return out
}

var _ role.SQL = roleSQL{}

package node

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/sql/exec"
	"github.com/picogo/picogo/core/sql/parse"
	"github.com/picogo/picogo/core/sql/plan"
	"github.com/picogo/picogo/core/tuple"
)

// sqlModule is the module of SQL: `.proc_sql` (and Tarantool's EXECUTE,
// which the driver turns into it) on the router side — parse, plan
// (core/sql/plan), send the fragments through the router module, merge
// with core/sql/exec —, and on the storage side `.proc_sql_local` (a
// fragment on this replicaset's rows) and `.proc_sql_insert` (one
// bucket's rows, written as one batch).
type sqlModule struct {
	*Node
	// ddl are the statements waiting for their schema change to finish.
	ddl []*ddlWait
}

func newSQL(n *Node) *sqlModule { return &sqlModule{Node: n} }

func (m *sqlModule) register(r *registry) {
	serve(r, running, m.sql)
	serve(r, running, m.local)
	serve(r, running, m.insertRows)
	r.tick(tickSQL, running, m.checkDDL)
}

// statement is one `.proc_sql` call being served.
type statement struct {
	m             *sqlModule
	user          string
	env           exec.Env
	timeout       time.Duration
	rowMax        int64
	preferReplica bool
	// respond answers the caller; answered: it has been (a statement
	// whose fragments fail answers the first failure only).
	respond  responder
	answered bool
}

// reply answers the statement's caller, once.
func (s *statement) reply(values []any, err *api.Error) {
	if s.answered {
		return
	}
	s.answered = true
	s.respond(values, err)
}

// The options a statement takes (OPTION (...) in its text, or the
// .proc_sql options map).
const (
	optionTimeout      = "timeout"
	optionMotionRowMax = "sql_motion_row_max"
	// optionPreferReplica: a query's fragments read from a replica of
	// each replicaset (which may lag its master) rather than the master.
	optionPreferReplica = "prefer_replica"
)

// defaultDDLTimeout bounds a schema change that names no TIMEOUT.
const defaultDDLTimeout = 10 * time.Second

func sqlError(e *tuple.Error) *api.Error { return &api.Error{Code: e.Code, Message: e.Message} }

// sql serves `.proc_sql(query, params, options)`.
func (m *sqlModule) sql(user string, r api.SQL, respond responder) {
	stmt, err := parse.ParseOne(r.Query)
	if err != nil {
		respond(nil, api.Errorf(tuple.CodeSQLSyntax, "sql: %v", err))
		return
	}
	plan.NumberParams(stmt)
	s := &statement{m: m, user: user, respond: respond, rowMax: plan.DefaultMotionRowMax,
		env: exec.Env{Params: r.Params, Now: m.now()}}
	if e := s.options(r.Options, stmtOptions(stmt)); e != nil {
		respond(nil, e)
		return
	}
	if e := m.authorize(user, stmt); e != nil {
		respond(nil, e)
		return
	}
	s.run(stmt)
}

// now is what NOW() reads: the injected clock, or the instance's ticks.
func (m *sqlModule) now() tuple.Datetime {
	if m.cfg.Clock != nil {
		return tuple.DatetimeOf(m.cfg.Clock())
	}
	return tuple.DatetimeOf(time.Unix(0, 0).Add(time.Duration(m.ticks) * m.cfg.Tick))
}

// stmtOptions are a statement's OPTION (...) clause.
func stmtOptions(stmt parse.Stmt) []*parse.Option {
	switch x := stmt.(type) {
	case *parse.Query:
		return x.Options
	case *parse.Insert:
		return x.Options
	case *parse.Update:
		return x.Options
	case *parse.Delete:
		return x.Options
	case *parse.CreateTable:
		return x.Options
	case *parse.DropTable:
		return x.Options
	case *parse.CreateIndex:
		return x.Options
	case *parse.DropIndex:
		return x.Options
	case *parse.Explain:
		return stmtOptions(x.Stmt)
	}
	return nil
}

// options reads the call's options, then the statement's (which win).
func (s *statement) options(call map[string]any, opts []*parse.Option) *api.Error {
	s.timeout = s.m.cfg.RequestTimeout
	set := func(name string, v any) *api.Error {
		switch strings.ToLower(name) {
		case optionTimeout:
			f, ok := tuple.AsFloat64(v)
			if !ok || f <= 0 {
				return api.Errorf(tuple.CodeSQLInvalidArgument, "sql: option %s must be a positive number of seconds, not %v", name, v)
			}
			s.timeout = time.Duration(f * float64(time.Second))
		case optionMotionRowMax:
			n, ok := tuple.AsInt64(v)
			if !ok || n <= 0 {
				return api.Errorf(tuple.CodeSQLInvalidArgument, "sql: option %s must be a positive integer, not %v", name, v)
			}
			s.rowMax = n
		case optionPreferReplica:
			b, ok := v.(bool)
			if !ok {
				return api.Errorf(tuple.CodeSQLInvalidArgument, "sql: option %s must be true or false, not %v", name, v)
			}
			s.preferReplica = b
		default:
			return api.Errorf(tuple.CodeSQLInvalidArgument, "sql: unknown option %s (known: %s, %s, %s)", name, optionTimeout, optionMotionRowMax, optionPreferReplica)
		}
		return nil
	}
	for _, k := range slices.Sorted(maps.Keys(call)) {
		if e := set(k, call[k]); e != nil {
			return e
		}
	}
	for _, o := range opts {
		v, ok := exec.Constant(o.Value, s.env)
		if !ok {
			return api.Errorf(tuple.CodeSQLInvalidArgument, "sql: option %s must be a constant", o.Name)
		}
		if e := set(o.Name, v); e != nil {
			return e
		}
	}
	return nil
}

func (s *statement) fail(e *tuple.Error) { s.reply(nil, sqlError(e)) }

func (s *statement) rows(res *exec.Result) {
	out := api.SQLResult{Query: true, Rows: res.Rows}
	for _, c := range res.Columns {
		out.Metadata = append(out.Metadata, api.SQLColumn{Name: c.Name, Type: string(c.Type)})
	}
	s.reply([]any{out}, nil)
}

func (s *statement) count(n uint64) { s.reply([]any{api.SQLResult{RowCount: n}}, nil) }

// run dispatches a statement by kind.
func (s *statement) run(stmt parse.Stmt) {
	switch x := stmt.(type) {
	case *parse.Query:
		s.query(x, s.rows)
	case *parse.Insert:
		s.insert(x)
	case *parse.Update:
		s.update(x)
	case *parse.Delete:
		s.delete(x)
	case *parse.CreateTable:
		s.createTable(x)
	case *parse.DropTable:
		s.dropTable(x)
	case *parse.CreateIndex:
		s.createIndex(x)
	case *parse.DropIndex:
		s.dropIndex(x)
	case *parse.Explain:
		s.explain(x)
	case *parse.CreateUser, *parse.AlterUser, *parse.DropUser, *parse.CreateRole, *parse.DropRole, *parse.Grant:
		s.acl(x)
	default:
		s.reply(nil, api.Errorf(tuple.CodeUnsupported, "sql: %s is not supported yet", statementKind(stmt)))
	}
}

func statementKind(stmt parse.Stmt) string {
	k := fmt.Sprintf("%T", stmt)
	return strings.TrimPrefix(k, "*parse.")
}

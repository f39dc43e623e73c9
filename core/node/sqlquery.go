package node

import (
	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/sharding"
	"github.com/picogo/picogo/core/sql/exec"
	"github.com/picogo/picogo/core/sql/parse"
	"github.com/picogo/picogo/core/sql/plan"
	"github.com/picogo/picogo/core/tuple"
)

func (s *statement) planEnv() plan.Env {
	return plan.Env{Exec: s.env, Bucket: s.m.bucketOf}
}

// query runs a query wherever its plan says, and hands the result to done
// (errors answer the statement).
func (s *statement) query(q *parse.Query, done func(*exec.Result)) {
	p, err := plan.PlanQuery(planCatalog{s.m.Node}, q, s.planEnv())
	if err != nil {
		s.fail(err)
		return
	}
	s.runPlan(p, done)
}

func (s *statement) runPlan(p *plan.Query, done func(*exec.Result)) {
	cat := s.m.catalog()
	switch p.Kind {
	case plan.Local:
		res, err := exec.Query(cat, p.Router, s.env)
		if err != nil {
			s.fail(err)
			return
		}
		done(res)
	case plan.Single, plan.Scatter:
		s.fragment(p.Tier, p.Bucket, p.Fragment, func(res *exec.Result) {
			if p.Kind == plan.Single {
				done(res)
				return
			}
			cols, err := exec.Columns(cat, p.Fragment, s.env)
			if err != nil {
				s.fail(err)
				return
			}
			over := exec.Tables{plan.MotionName: exec.RowsTable(plan.MotionName, cols, res.Rows)}
			merged, err := exec.Query(exec.Overlay{Over: over, Under: cat}, p.Merge, s.env)
			if err != nil {
				s.fail(err)
				return
			}
			done(merged)
		})
	case plan.Gather:
		over := exec.Tables{}
		left := len(p.Motions)
		for _, mo := range p.Motions {
			t, _ := planCatalog{s.m.Node}.Table(mo.Table)
			s.fragment(mo.Tier, mo.Bucket, mo.Fragment, func(res *exec.Result) {
				over[mo.Table] = exec.RowsTable(mo.Table, t.Columns, plan.SortMotion(t, res.Rows))
				if left--; left > 0 {
					return
				}
				res, err := exec.Query(exec.Overlay{Over: over, Under: cat}, p.Router, s.env)
				if err != nil {
					s.fail(err)
					return
				}
				done(res)
			})
		}
	}
}

// fragment runs a query fragment on the replicaset owning bucket of tier
// (every replicaset of the tier for bucket 0) and hands done the union of
// their rows, at most the statement's motion row limit of them. A failure
// answers the statement (once, however many fragments fail).
func (s *statement) fragment(tier string, bucket uint64, q *parse.Query, done func(*exec.Result)) {
	call := api.SQLLocal{Query: q.String(), Params: s.env.Params, Tier: tier, Bucket: bucket, RowMax: s.rowMax}
	req := sharding.Request{Tier: tier, Bucket: bucket, Scan: bucket == 0, Call: call, PreferReplica: s.preferReplica}
	s.m.router.routeWithin(req, s.m.cfg.ticks(s.timeout), s.once(), func(results []any) ([]any, *api.Error) {
		out := &exec.Result{}
		for _, r := range results {
			res, e := sqlResultOf(r)
			if e != nil {
				return nil, e
			}
			if out.Columns == nil {
				for _, c := range res.Metadata {
					out.Columns = append(out.Columns, exec.Column{Name: c.Name, Type: tuple.FieldType(c.Type), Nullable: true})
				}
			}
			out.Rows = append(out.Rows, res.Rows...)
			if int64(len(out.Rows)) > s.rowMax {
				return nil, api.Errorf(tuple.CodeSQLMotionLimit,
					"sql: the query moves more than %d rows between instances (the motion row limit): "+
						"raise it with OPTION (SQL_MOTION_ROW_MAX = n) or the %s option, or narrow the query", s.rowMax, optionMotionRowMax)
			}
		}
		done(out)
		return nil, nil
	})
}

// once is the statement's responder for the routes it starts: errors
// answer the statement the first time only; successes are the routes'
// finish functions' business (they answer when the statement is done).
func (s *statement) once() responder {
	return func(_ []any, err *api.Error) {
		if err != nil {
			s.reply(nil, err)
		}
	}
}

// sqlResultOf reads what a storage's SQL procedure answered: the
// SQLResult itself (a call served here, or decoded by proc), or the values
// a local call answered with.
func sqlResultOf(v any) (api.SQLResult, *api.Error) {
	switch x := v.(type) {
	case api.SQLResult:
		return x, nil
	case []any:
		if len(x) == 1 {
			return sqlResultOf(x[0])
		}
	}
	return api.SQLResult{}, api.Errorf(api.CodeProcLua, "sql: a storage answered %T, not an SQL result", v)
}

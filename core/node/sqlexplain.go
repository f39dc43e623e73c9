package node

import (
	"fmt"

	"github.com/picogo/picogo/core/sql/exec"
	"github.com/picogo/picogo/core/sql/parse"
	"github.com/picogo/picogo/core/sql/plan"
	"github.com/picogo/picogo/core/tuple"
)

// explain answers EXPLAIN: the statement's distributed plan, one line a
// row — where each fragment runs, what moves to the router (a motion) and
// what the router runs, as SQL.
func (s *statement) explain(x *parse.Explain) {
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }
	where := runsOn
	describe := func(p *plan.Query) {
		switch p.Kind {
		case plan.Local:
			add("local (global tables only): %s", p.Router)
		case plan.Single:
			add("on %s: %s", where(p.Tier, p.Bucket), p.Fragment)
		case plan.Scatter:
			add("on %s: %s", where(p.Tier, 0), p.Fragment)
			add("motion to the router as %s", plan.MotionName)
			add("on the router: %s", p.Merge)
		case plan.Gather:
			for _, mo := range p.Motions {
				add("on %s: %s", where(mo.Tier, mo.Bucket), mo.Fragment)
				add("motion to the router as %s (at most %d rows)", mo.Table, s.rowMax)
			}
			add("on the router: %s", p.Router)
		}
	}
	cat := planCatalog{s.m.Node}
	switch st := x.Stmt.(type) {
	case *parse.Query:
		p, err := plan.PlanQuery(cat, st, s.planEnv())
		if err != nil {
			s.fail(err)
			return
		}
		describe(p)
	case *parse.Insert:
		p, err := plan.PlanQuery(cat, st.Source, s.planEnv())
		if err != nil {
			s.fail(err)
			return
		}
		describe(p)
		if t, ok := cat.Table(st.Table); ok && t.Sharded {
			add("insert into %s: each bucket's rows to its master in tier %s, one batch a bucket", st.Table, t.Tier)
		} else {
			add("insert into %s: one CaS through the Raft log", st.Table)
		}
	case *parse.Update, *parse.Delete:
		var name string
		var where parse.Expr
		var set []*parse.Assignment
		if u, ok := st.(*parse.Update); ok {
			name, where, set = u.Table, u.Where, u.Set
		} else {
			d := st.(*parse.Delete)
			name, where = d.Table, d.Where
		}
		t, ok := cat.Table(name)
		switch {
		case !ok:
			s.fail(tuple.Errorf(tuple.CodeSQLUnknownTable, "table %q does not exist", name))
			return
		case !t.Sharded:
			add("on the router: read %s, then one CaS through the Raft log", name)
		default:
			w, err := plan.PlanWrite(cat, st, t, where, set, s.planEnv())
			if err != nil {
				s.fail(err)
				return
			}
			if w.MovesRows {
				describe(w.Read)
				add("on the router: compute the new rows; delete each from its bucket and insert it into its new one")
			} else {
				add("on %s (the master, one batch): %s", runsOn(t.Tier, w.Bucket), st)
			}
		}
	default:
		add("%s: a schema change through the Raft log (two-phase DDL)", statementKind(x.Stmt))
	}
	rows := make([][]any, len(lines))
	for i, l := range lines {
		rows[i] = []any{l}
	}
	s.rows(&exec.Result{Columns: explainColumns, Rows: rows})
}

// runsOn says which replicasets a fragment runs on.
func runsOn(tier string, bucket uint64) string {
	if bucket != 0 {
		return fmt.Sprintf("the replicaset owning bucket %d of tier %s", bucket, tier)
	}
	return "every replicaset of tier " + tier
}

// explainColumns are what EXPLAIN returns: one line of the plan per row.
var explainColumns = []exec.Column{{Name: "explain", Type: tuple.TypeString}}

package node

import (
	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/sql/exec"
	"github.com/picogo/picogo/core/sql/parse"
	"github.com/picogo/picogo/core/sql/plan"
	"github.com/picogo/picogo/core/tuple"
)

// DescribeSQL answers what query takes and returns without running it —
// its parameters' types and a query's columns — as user would run it
// (PostgreSQL's Describe, before a client binds parameters). It reads this
// instance's schema only, so it answers at once; a statement user may not
// run is refused here as running it would be.
func (n *Node) DescribeSQL(user, query string) (*exec.Description, *api.Error) {
	stmt, err := parse.ParseOne(query)
	if err != nil {
		return nil, api.Errorf(tuple.CodeSQLSyntax, "sql: %v", err)
	}
	plan.NumberParams(stmt)
	if e := n.sql.authorize(user, stmt); e != nil {
		return nil, e
	}
	if x, ok := stmt.(*parse.Explain); ok {
		// Its statement is planned, not run: what it reads must bind.
		d, e := exec.Describe(n.sql.catalog(), x.Stmt, plan.ParamCount(stmt))
		if e != nil {
			return nil, sqlError(e)
		}
		d.Query, d.Columns = true, explainColumns
		return d, nil
	}
	d, e := exec.Describe(n.sql.catalog(), stmt, plan.ParamCount(stmt))
	if e != nil {
		return nil, sqlError(e)
	}
	return d, nil
}

package plan

import (
	"github.com/picogo/picogo/core/sql/parse"
	"github.com/picogo/picogo/core/tuple"
)

// Write is the plan of an UPDATE or DELETE of a sharded table.
type Write struct {
	Table Table
	// Stmt runs on the replicasets that hold the rows: Bucket's owner
	// when WHERE fixes the sharding key (Bucket != 0), else every
	// replicaset of the table's tier. Each runs it on its own rows as one
	// atomic batch.
	Stmt   parse.Stmt
	Bucket uint64
	// MovesRows: an UPDATE setting a sharding-key column. Its rows may
	// belong in other buckets: the router reads them (Read, a gathering
	// of the rows WHERE selects), computes the new rows, and deletes and
	// inserts each where it belongs.
	MovesRows bool
	Read      *Query
}

// PlanWrite plans an UPDATE or DELETE of sharded table t whose WHERE is
// where and whose SET (nil for DELETE) is set.
func PlanWrite(cat Catalog, stmt parse.Stmt, t Table, where parse.Expr, set []*parse.Assignment, env Env) (*Write, *tuple.Error) {
	if s, err := shardedTables(cat, where); err != nil {
		return nil, err
	} else if len(s) > 0 {
		return nil, errorf(tuple.CodeUnsupported, "a subquery reading a sharded table is not supported in the WHERE of an UPDATE or DELETE of sharded table %s", t.Name)
	}
	for _, a := range set {
		if s, err := shardedTables(cat, a.Value); err != nil {
			return nil, err
		} else if len(s) > 0 {
			return nil, errorf(tuple.CodeUnsupported, "a subquery reading a sharded table is not supported in the SET of an UPDATE of sharded table %s", t.Name)
		}
	}
	w := &Write{Table: t, Stmt: stmt}
	for _, a := range set {
		if indexOf(t.ShardingKey, a.Column) >= 0 {
			w.MovesRows = true
		}
	}
	if w.MovesRows {
		sel := &parse.Select{From: &parse.TableRef{Name: t.Name}, Where: where}
		for _, c := range t.Columns {
			sel.Items = append(sel.Items, &parse.SelectItem{Expr: col(c.Name), Alias: c.Name})
		}
		read, err := PlanQuery(cat, &parse.Query{Body: sel}, env)
		if err != nil {
			return nil, err
		}
		w.Read = read
		return w, nil
	}
	if b, ok := fixedBucket(t, t.Name, where, env); ok {
		w.Bucket = b
	}
	return w, nil
}

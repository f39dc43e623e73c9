package plan

import (
	"fmt"
	"slices"

	"github.com/picogo/picogo/core/sql/exec"
	"github.com/picogo/picogo/core/sql/parse"
	"github.com/picogo/picogo/core/tuple"
)

// MotionName is the virtual table a Scatter's fragments' rows are gathered
// into, which its Merge reads.
const MotionName = "__motion"

// DefaultMotionRowMax bounds the rows one motion may move (Picodata's
// sql_motion_row_max default); OPTION (SQL_MOTION_ROW_MAX = n) or the
// .proc_sql option raises it.
const DefaultMotionRowMax = 5000

// Table is what the planner knows of a table.
type Table struct {
	Name        string
	Columns     []exec.Column
	PrimaryKey  []int // positions in Columns
	Sharded     bool
	Tier        string
	ShardingKey []string
}

// Catalog resolves table names for the planner.
type Catalog interface {
	Table(name string) (Table, bool)
}

// Env is what planning a statement needs beyond the catalog: constant
// folding (exec evaluates constants and parameters) and the bucket of a
// sharding key in a tier.
type Env struct {
	Exec   exec.Env
	Bucket func(tier string, key []any) (uint64, error)
}

// Kind is a query plan's shape (see the package comment).
type Kind int

const (
	Local Kind = iota
	Single
	Scatter
	Gather
)

func (k Kind) String() string {
	return [...]string{"local", "single", "scatter", "gather"}[k]
}

// Query is the plan of a query.
type Query struct {
	Kind Kind
	// Tier and Bucket: where Single's Fragment runs (Bucket's owner), or
	// Scatter's (every replicaset of Tier).
	Tier   string
	Bucket uint64
	// Fragment is what the storages run (Single, Scatter).
	Fragment *parse.Query
	// Merge is what the router runs over MotionName, the rows of every
	// fragment (Scatter).
	Merge *parse.Query
	// Router is what the router runs over the motions (Gather) or alone
	// (Local).
	Router  *parse.Query
	Motions []Motion
}

// SortMotion puts a motion's rows of table t in primary key order, the
// order a scan of the whole table gives: what the router computes over
// them is then the same however the rows are spread (GROUP_CONCAT's order,
// the first row of a group).
func SortMotion(t Table, rows [][]any) [][]any {
	slices.SortStableFunc(rows, func(a, b []any) int {
		for _, p := range t.PrimaryKey {
			if c := tuple.Compare(a[p], b[p]); c != 0 {
				return c
			}
		}
		return 0
	})
	return rows
}

// Motion: the rows Fragment gives on the replicasets of Tier (all of them,
// or Bucket's owner) become the virtual table Table, with the stored
// table's columns, for the router's query.
type Motion struct {
	Table    string
	Tier     string
	Bucket   uint64
	Fragment *parse.Query
}

// Error codes of planning are exec's (unknown table...), plus this one's.
func errorf(code uint32, format string, args ...any) *tuple.Error {
	return tuple.Errorf(code, format, args...)
}

// PlanQuery plans q (its parameters already numbered: NumberParams).
func PlanQuery(cat Catalog, q *parse.Query, env Env) (*Query, *tuple.Error) {
	sharded, err := shardedTables(cat, q)
	if err != nil {
		return nil, err
	}
	if len(sharded) == 0 {
		return &Query{Kind: Local, Router: q}, nil
	}
	if p := singleOrScatter(cat, q, env, sharded); p != nil {
		return p, nil
	}
	return gather(cat, q, env, sharded), nil
}

// shardedTables are the sharded tables q reads (a name WITH defines is not
// a table), each once, in order of appearance.
func shardedTables(cat Catalog, q parse.Node) ([]Table, *tuple.Error) {
	ctes := map[string]bool{}
	visit(q, func(n parse.Node) bool {
		if x, ok := n.(*parse.Query); ok {
			for _, w := range x.With {
				ctes[w.Name] = true
			}
		}
		return true
	})
	var out []Table
	seen := map[string]bool{}
	var bad *tuple.Error
	visit(q, func(n parse.Node) bool {
		ref, ok := n.(*parse.TableRef)
		if !ok || ctes[ref.Name] || seen[ref.Name] {
			return true
		}
		seen[ref.Name] = true
		t, ok := cat.Table(ref.Name)
		if !ok {
			if bad == nil {
				p := ref.Position()
				bad = errorf(tuple.CodeSQLUnknownTable, "table %q does not exist (line %d, column %d)", ref.Name, p.Line, p.Col)
			}
			return true
		}
		if t.Sharded {
			out = append(out, t)
		}
		return true
	})
	return out, bad
}

// singleOrScatter plans a query over one sharded table, read once, in the
// top-level FROM (joined with global tables only where a replicaset holds
// what it needs), or returns nil.
func singleOrScatter(cat Catalog, q *parse.Query, env Env, sharded []Table) *Query {
	sel, ok := q.Body.(*parse.Select)
	if !ok || len(sharded) != 1 || len(q.With) > 0 {
		return nil
	}
	t := sharded[0]
	if !localFrom(cat, sel.From, t.Name, false) || countRefs(q, t.Name) != 1 {
		return nil
	}
	// Subqueries may read global tables only.
	for _, n := range subqueries(q) {
		if s, _ := shardedTables(cat, n); len(s) > 0 {
			return nil
		}
	}
	if bucket, ok := fixedBucket(t, fromAlias(sel.From, t.Name), sel.Where, env); ok {
		return &Query{Kind: Single, Tier: t.Tier, Bucket: bucket, Fragment: q}
	}
	return scatter(cat, q, sel, t)
}

// localFrom reports whether a FROM item can run on each replicaset: the
// sharded table, global tables, and inner or LEFT joins of them where the
// sharded table is not on the side a LEFT JOIN pads with NULLs (each
// replicaset would pad rows the others match).
func localFrom(cat Catalog, t parse.TableExpr, sharded string, nullable bool) bool {
	switch x := t.(type) {
	case *parse.TableRef:
		if x.Name == sharded {
			return !nullable
		}
		tab, ok := cat.Table(x.Name)
		return ok && !tab.Sharded
	case *parse.Join:
		if hasSubquery(x.On) {
			return false
		}
		return localFrom(cat, x.Left, sharded, nullable) && localFrom(cat, x.Right, sharded, nullable || x.Outer)
	}
	return false
}

// countRefs counts the references to table name in n.
func countRefs(n parse.Node, name string) int {
	count := 0
	visit(n, func(x parse.Node) bool {
		if ref, ok := x.(*parse.TableRef); ok && ref.Name == name {
			count++
		}
		return true
	})
	return count
}

// subqueries are the queries nested in q's body (not q itself).
func subqueries(q *parse.Query) []*parse.Query {
	var out []*parse.Query
	visit(q, func(n parse.Node) bool {
		if x, ok := n.(*parse.Query); ok && x != q {
			out = append(out, x)
			return false
		}
		return true
	})
	return out
}

// fromAlias is the name table is known by in a FROM item.
func fromAlias(t parse.TableExpr, table string) string {
	switch x := t.(type) {
	case *parse.TableRef:
		if x.Name == table {
			if x.Alias != "" {
				return x.Alias
			}
			return x.Name
		}
	case *parse.Join:
		if a := fromAlias(x.Left, table); a != "" {
			return a
		}
		return fromAlias(x.Right, table)
	}
	return ""
}

// fixedBucket: WHERE's top-level conjuncts `col = constant` fix every
// sharding-key column of t (known by alias): the bucket they hash to.
func fixedBucket(t Table, alias string, where parse.Expr, env Env) (uint64, bool) {
	if where == nil || env.Bucket == nil {
		return 0, false
	}
	key := make([]any, len(t.ShardingKey))
	found := make([]bool, len(t.ShardingKey))
	for _, cj := range exec.Conjuncts(where) {
		b, ok := cj.(*parse.Binary)
		if !ok || b.Op != "=" {
			continue
		}
		for _, pair := range [][2]parse.Expr{{b.L, b.R}, {b.R, b.L}} {
			col, ok := pair[0].(*parse.ColumnRef)
			if !ok || (col.Table != "" && col.Table != alias) {
				continue
			}
			i := indexOf(t.ShardingKey, col.Column)
			if i < 0 || found[i] {
				continue
			}
			v, ok := exec.Constant(pair[1], env.Exec)
			if !ok {
				continue
			}
			c := t.column(col.Column)
			if v, err := exec.Assign(c, v); err == nil && v != nil {
				key[i], found[i] = v, true
			}
		}
	}
	for _, f := range found {
		if !f {
			return 0, false
		}
	}
	b, err := env.Bucket(t.Tier, key)
	return b, err == nil
}

func (t Table) column(name string) exec.Column {
	for _, c := range t.Columns {
		if c.Name == name {
			return c
		}
	}
	return exec.Column{Name: name, Type: tuple.TypeAny, Nullable: true}
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func and(list []parse.Expr) parse.Expr {
	if len(list) == 0 {
		return nil
	}
	e := list[0]
	for _, x := range list[1:] {
		e = &parse.Binary{Op: "AND", L: e, R: x}
	}
	return e
}

func col(name string) *parse.ColumnRef { return &parse.ColumnRef{Column: name} }

// mcol is a column of the motion a merge reads, qualified: no output alias
// of the query can capture it.
func mcol(name string) *parse.ColumnRef { return &parse.ColumnRef{Table: MotionName, Column: name} }

func colName(prefix string, i int) string { return fmt.Sprintf("%s%d", prefix, i+1) }

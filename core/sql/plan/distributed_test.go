package plan

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/picogo/picogo/core/sql/exec"
	"github.com/picogo/picogo/core/sql/parse"
	"github.com/picogo/picogo/core/sql/value"
	"github.com/picogo/picogo/core/tuple"
	"github.com/stretchr/testify/require"
)

// A cluster in miniature: a sharded table t whose rows are spread over
// some replicasets by bucket, a global table g on every one. Running a
// plan the way the node does (fragments on the replicasets, the merge on
// the router) must give what running the query on all the rows at once
// gives.

const testBuckets = 30

var (
	tCols = []exec.Column{{Name: "id", Type: tuple.TypeInteger}, {Name: "k", Type: tuple.TypeInteger, Nullable: true},
		{Name: "v", Type: tuple.TypeString, Nullable: true}, {Name: "d", Type: tuple.TypeDouble, Nullable: true},
		{Name: "bucket_id", Type: tuple.TypeUnsigned, Hidden: true}}
	gCols = []exec.Column{{Name: "k", Type: tuple.TypeInteger}, {Name: "name", Type: tuple.TypeString, Nullable: true}}
)

type miniCluster struct {
	spread
	all exec.Tables // every row: the oracle's view
}

// spread is a catalog's rows spread over replicasets by bucket (own says
// which replicaset a bucket's rows are on): what running a plan as the
// node does needs.
type spread struct {
	cat  Catalog
	reps []exec.Tables // each replicaset's view
	own  func(bucket uint64) int
}

func (c *miniCluster) Table(name string) (Table, bool) {
	switch name {
	case "t":
		return Table{Name: "t", Columns: tCols, PrimaryKey: []int{0}, Sharded: true, Tier: "default", ShardingKey: []string{"id"}}, true
	case "g":
		return Table{Name: "g", Columns: gCols, PrimaryKey: []int{0}}, true
	}
	return Table{}, false
}

func bucketOf(key []any) uint64 {
	id, _ := tuple.AsInt64(key[0])
	return uint64((id%testBuckets+testBuckets)%testBuckets) + 1
}

func newMiniCluster(r *rand.Rand, replicasets int) *miniCluster {
	var trows [][]any
	for id := range 40 + r.IntN(40) {
		row := []any{int64(id - 10), nil, nil, nil, nil}
		if r.IntN(5) > 0 {
			row[1] = int64(r.IntN(6))
		}
		if r.IntN(5) > 0 {
			row[2] = []string{"a", "b", "c", "ab", "B"}[r.IntN(5)]
		}
		if r.IntN(5) > 0 {
			row[3] = float64(r.IntN(100)) / 4
		}
		row[4] = bucketOf([]any{row[0]})
		trows = append(trows, row)
	}
	var grows [][]any
	for k := range 5 {
		grows = append(grows, []any{int64(k), []string{"zero", "one", "two", "three", "four"}[k]})
	}
	c := &miniCluster{all: exec.Tables{"t": exec.RowsTable("t", tCols, trows), "g": exec.RowsTable("g", gCols, grows)}}
	c.spread = spread{cat: c, own: func(b uint64) int { return int(b) % replicasets }}
	for i := range replicasets {
		var mine [][]any
		for _, row := range trows {
			if c.own(row[4].(uint64)) == i {
				mine = append(mine, row)
			}
		}
		c.reps = append(c.reps, exec.Tables{"t": exec.RowsTable("t", tCols, mine), "g": exec.RowsTable("g", gCols, grows)})
	}
	return c
}

// fragment runs q on one bucket's owner (bucket 0: on every replicaset)
// as a storage would: from SQL text, as the router sends it.
func (c *spread) fragment(q *parse.Query, bucket uint64, env exec.Env) (*exec.Result, *tuple.Error) {
	stmt, err := parse.ParseOne(q.String())
	if err != nil {
		panic(fmt.Sprintf("a fragment does not parse back: %v\n%s", err, q))
	}
	out := &exec.Result{}
	for i, rep := range c.reps {
		if bucket != 0 && c.own(bucket) != i {
			continue
		}
		res, err := exec.Query(rep, stmt.(*parse.Query), env)
		if err != nil {
			return nil, err
		}
		out.Columns = res.Columns
		out.Rows = append(out.Rows, res.Rows...)
	}
	return out, nil
}

// run executes a plan as the node does.
func (c *spread) run(p *Query, env exec.Env) (*exec.Result, *tuple.Error) {
	switch p.Kind {
	case Local:
		return exec.Query(c.reps[0], p.Router, env)
	case Single:
		return c.fragment(p.Fragment, p.Bucket, env)
	case Scatter:
		res, err := c.fragment(p.Fragment, 0, env)
		if err != nil {
			return nil, err
		}
		cols, err := exec.Columns(typeCatalog{c.cat}, p.Fragment, env)
		if err != nil {
			return nil, err
		}
		over := exec.Tables{MotionName: exec.RowsTable(MotionName, cols, res.Rows)}
		return exec.Query(exec.Overlay{Over: over, Under: c.reps[0]}, p.Merge, env)
	}
	over := exec.Tables{}
	for _, m := range p.Motions {
		res, err := c.fragment(m.Fragment, m.Bucket, env)
		if err != nil {
			return nil, err
		}
		t, _ := c.cat.Table(m.Table)
		over[m.Table] = exec.RowsTable(m.Table, t.Columns, SortMotion(t, res.Rows))
	}
	return exec.Query(exec.Overlay{Over: over, Under: c.reps[0]}, p.Router, env)
}

// planAndRun parses, plans and runs a query on the mini cluster.
func (c *miniCluster) planAndRun(t *testing.T, sql string, params ...any) (*Query, *exec.Result, *tuple.Error) {
	t.Helper()
	stmt, err := parse.ParseOne(sql)
	require.NoError(t, err, sql)
	NumberParams(stmt)
	env := Env{Exec: exec.Env{Params: params}, Bucket: func(_ string, key []any) (uint64, error) { return bucketOf(key), nil }}
	p, perr := PlanQuery(c, stmt.(*parse.Query), env)
	if perr != nil {
		return nil, nil, perr
	}
	res, rerr := c.run(p, env.Exec)
	return p, res, rerr
}

func (c *miniCluster) oracle(t *testing.T, sql string, params ...any) (*exec.Result, *tuple.Error) {
	stmt, err := parse.ParseOne(sql)
	require.NoError(t, err, sql)
	return exec.Query(c.all, stmt.(*parse.Query), exec.Env{Params: params})
}

// canon is a result's rows as sorted text when order does not matter.
func canon(rows [][]any, ordered bool) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		parts := make([]string, len(r))
		for j, v := range r {
			parts[j] = value.Describe(v)
			if f, ok := v.(float64); ok {
				parts[j] = fmt.Sprintf("%.6g", f)
			}
			if d, ok := numberText(v); ok {
				parts[j] = d
			}
		}
		out[i] = strings.Join(parts, " | ")
	}
	if !ordered {
		slices.Sort(out)
	}
	return out
}

// numberText prints a number by value, so that 2.5 as a decimal and 2.5
// as a double read the same (a merged AVG may differ in kind only).
func numberText(v any) (string, bool) {
	switch v.(type) {
	case int64, uint64, float64:
	default:
		if _, err := value.Cast(v, tuple.TypeDouble); err != nil || v == nil {
			return "", false
		}
	}
	f, err := value.Cast(v, tuple.TypeDouble)
	if err != nil {
		return "", false
	}
	return fmt.Sprintf("%.6g", f), true
}

func TestDistributedMatchesLocal(t *testing.T) {
	queries := []string{
		"SELECT * FROM t",
		"SELECT id, v FROM t WHERE id = 7",
		"SELECT id, v FROM t WHERE id = $1",
		"SELECT id, k FROM t WHERE k > 2 ORDER BY id LIMIT 5",
		"SELECT id, k FROM t WHERE k > 2 ORDER BY k DESC, id LIMIT 5 OFFSET 2",
		"SELECT DISTINCT v FROM t",
		"SELECT DISTINCT k, v FROM t ORDER BY k, v LIMIT 4",
		"SELECT COUNT(*) FROM t",
		"SELECT COUNT(*), SUM(k), MIN(v), MAX(d), AVG(d), TOTAL(k), AVG(k) FROM t WHERE id > 100",
		"SELECT k, COUNT(*), SUM(d), AVG(k) FROM t GROUP BY k",
		"SELECT k % 3 AS m, COUNT(*) FROM t GROUP BY 1 ORDER BY 1",
		"SELECT v, COUNT(k) c FROM t GROUP BY v HAVING COUNT(*) > 3 ORDER BY c DESC, v",
		"SELECT k, SUM(d) + 1 FROM t GROUP BY k HAVING MAX(id) > 5",
		"SELECT COUNT(DISTINCT v), COUNT(DISTINCT k) FROM t",
		"SELECT v, GROUP_CONCAT(CAST(id AS TEXT)) FROM t WHERE id < 3 GROUP BY v",
		"SELECT t.id, g.name FROM t JOIN g ON t.k = g.k WHERE t.id < 20",
		"SELECT t.id, g.name FROM t LEFT JOIN g ON t.k = g.k",
		"SELECT g.name, COUNT(*) FROM t JOIN g ON t.k = g.k GROUP BY g.name",
		"SELECT g.name, t.id FROM g LEFT JOIN t ON t.k = g.k",
		"SELECT a.id, b.id FROM t a JOIN t b ON a.k = b.id WHERE a.id < 10",
		"SELECT id FROM t WHERE k IN (SELECT k FROM g WHERE name LIKE 't%')",
		"SELECT id FROM t WHERE k IN (SELECT id FROM t WHERE id < 3)",
		"SELECT id, (SELECT name FROM g WHERE g.k = t.k) FROM t",
		"SELECT id FROM t UNION SELECT k FROM g",
		"SELECT k FROM t EXCEPT SELECT k FROM g",
		"WITH x AS (SELECT k, COUNT(*) c FROM t GROUP BY k) SELECT * FROM x WHERE c > 1",
		"SELECT * FROM (SELECT id, k * 2 AS kk FROM t) s WHERE kk > 4",
		"SELECT bucket_id, id FROM t WHERE id = 3",
		"SELECT id FROM t WHERE v IS NULL OR d IS NULL",
		"SELECT COUNT(*) FROM t WHERE id = 1000",
		"SELECT k, COUNT(*) FROM t WHERE id = 5 GROUP BY k",
		"SELECT MAX(id) - MIN(id), COUNT(*) * 2 FROM t",
		"SELECT 1 + 1",
		"SELECT name FROM g ORDER BY k",
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, reps := range []int{1, 2, 3, 5} {
		c := newMiniCluster(r, reps)
		for _, q := range queries {
			_, got, gerr := c.planAndRun(t, q, int64(7))
			want, werr := c.oracle(t, q, int64(7))
			require.Equal(t, werr == nil, gerr == nil, "%s on %d replicasets: distributed error %v, local error %v", q, reps, gerr, werr)
			if werr != nil {
				continue
			}
			ordered := strings.Contains(q, "ORDER BY")
			require.Equal(t, canon(want.Rows, ordered), canon(got.Rows, ordered), "%s on %d replicasets", q, reps)
			names := func(cs []exec.Column) (out []string) {
				for _, c := range cs {
					out = append(out, c.Name)
				}
				return
			}
			require.Equal(t, names(want.Columns), names(got.Columns), "%s: column names", q)
		}
	}
}

func TestPlanShapes(t *testing.T) {
	c := newMiniCluster(rand.New(rand.NewPCG(3, 4)), 3)
	for _, tc := range []struct {
		sql  string
		kind Kind
	}{
		{"SELECT name FROM g", Local},
		{"SELECT * FROM t WHERE id = 5", Single},
		{"SELECT * FROM t WHERE id = 5 AND k = 1", Single},
		{"SELECT * FROM t WHERE id = 5 OR k = 1", Scatter},
		{"SELECT k, COUNT(*) FROM t GROUP BY k", Scatter},
		{"SELECT t.id FROM t JOIN g ON t.k = g.k", Scatter},
		{"SELECT g.k FROM g LEFT JOIN t ON t.k = g.k", Gather},
		{"SELECT COUNT(DISTINCT v) FROM t", Gather},
		{"SELECT a.id FROM t a JOIN t b ON a.id = b.k", Gather},
		{"SELECT id FROM t WHERE k IN (SELECT id FROM t)", Gather},
	} {
		p, _, err := c.planAndRun(t, tc.sql)
		require.Nil(t, err, tc.sql)
		require.Equal(t, tc.kind, p.Kind, tc.sql)
	}
}

func TestMotionPushesFilterAndPrunes(t *testing.T) {
	c := newMiniCluster(rand.New(rand.NewPCG(5, 6)), 3)
	p, _, err := c.planAndRun(t, "SELECT COUNT(DISTINCT v) FROM t WHERE id = 4 AND k > 1")
	require.Nil(t, err)
	require.Equal(t, Single, p.Kind, "a fixed sharding key sends the whole query to one replicaset")
	require.Equal(t, bucketOf([]any{int64(4)}), p.Bucket)
	p, _, err = c.planAndRun(t, "SELECT COUNT(DISTINCT v) FROM t WHERE k > 1 AND k IN (SELECT k FROM g)")
	require.Nil(t, err)
	require.Equal(t, Gather, p.Kind)
	require.Len(t, p.Motions, 1)
	require.Equal(t, uint64(0), p.Motions[0].Bucket)
	require.Equal(t, "SELECT t.id AS id, t.k AS k, t.v AS v, t.d AS d, t.bucket_id AS bucket_id FROM t WHERE (k > 1)",
		p.Motions[0].Fragment.String(), "the conjunct without a subquery goes down with the read")
}

package plan

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/picogo/picogo/core/sql/exec"
	"github.com/picogo/picogo/core/sql/internal/sqlgen"
	"github.com/picogo/picogo/core/sql/parse"
	"github.com/picogo/picogo/core/sql/value"
	"github.com/picogo/picogo/core/tuple"
)

// The distributed property over generated schemas and queries
// (core/sql/internal/sqlgen): each generated table is sharded by its id
// (with the hidden bucket_id) or global; a query planned and run over 1 to
// 4 replicasets gives the multiset of rows (in order, when its ORDER BY is
// a total order) that exec gives over all the rows at once, or both fail.
//
// genCluster runs a plan the way miniCluster does (distributed_test.go),
// over a catalog of any tables instead of the fixed t and g.

type genCluster struct {
	spread
	tables map[string]Table
	all    exec.Tables
}

func (c *genCluster) Table(name string) (Table, bool) { t, ok := c.tables[name]; return t, ok }

func newGenCluster(r *rand.Rand, s *sqlgen.Schema, replicasets int) *genCluster {
	c := &genCluster{tables: map[string]Table{}, all: exec.Tables{}}
	c.spread = spread{cat: c, own: func(b uint64) int { return int(b) % replicasets }}
	for range replicasets {
		c.reps = append(c.reps, exec.Tables{})
	}
	for i, t := range s.Tables {
		cols := t.Columns()
		cols[0].Nullable = false
		sharded := i == 0 || r.IntN(3) > 0
		pt := Table{Name: t.Name, Columns: cols, PrimaryKey: []int{0}}
		rows := t.Rows
		if sharded {
			pt.Columns = append(slices.Clone(cols), exec.Column{Name: "bucket_id", Type: tuple.TypeUnsigned, Hidden: true})
			pt.Sharded, pt.Tier, pt.ShardingKey = true, "default", []string{"id"}
			rows = nil
			for _, row := range t.Rows {
				rows = append(rows, append(slices.Clone(row), bucketOf(row)))
			}
		}
		c.tables[t.Name] = pt
		c.all[t.Name] = storedTable(pt, rows)
		for rep := range c.reps {
			mine := rows
			if sharded {
				mine = nil
				for _, row := range rows {
					if c.own(row[len(row)-1].(uint64)) == rep {
						mine = append(mine, row)
					}
				}
			}
			c.reps[rep][t.Name] = storedTable(pt, mine)
		}
	}
	return c
}

// storedTable is rows as a stored table with point reads by primary key.
func storedTable(t Table, rows [][]any) *exec.Table {
	tab := exec.RowsTable(t.Name, t.Columns, rows)
	tab.PrimaryKey = t.PrimaryKey
	tab.Get = func(key []any) ([]any, bool, *tuple.Error) {
		for _, row := range rows {
			if eq, null, err := value.Equal(row[t.PrimaryKey[0]], key[0]); err == nil && !null && eq {
				return row, true, nil
			}
		}
		return nil, false, nil
	}
	return tab
}

func envInt(t *testing.T, name string, def int) int {
	if s := os.Getenv(name); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("%s=%q: %v", name, s, err)
		}
		return n
	}
	return def
}

// TestDistributedRandom: SQL_ORACLE_ITERATIONS cases (default 400), from
// SQL_ORACLE_SEED (default 1).
func TestDistributedRandom(t *testing.T) {
	n, sd := envInt(t, "SQL_ORACLE_ITERATIONS", 400), uint64(envInt(t, "SQL_ORACLE_SEED", 1))
	if testing.Short() && os.Getenv("SQL_ORACLE_ITERATIONS") == "" {
		n /= 4
	}
	checked, failures := 0, 0
	kinds := map[Kind]int{}
	for i := range n {
		r := rand.New(rand.NewPCG(sd, uint64(i)))
		s := sqlgen.NewSchema(r, sqlgen.Options{})
		g := sqlgen.New(r, s, sqlgen.Options{})
		q := g.Query()
		stmt, perr := parse.ParseOne(q.SQL)
		if perr != nil {
			t.Fatalf("a generated query does not parse: %v\n%s", perr, q.SQL)
		}
		want, werr := exec.Query(s.Catalog(), stmt.(*parse.Query), exec.Env{})
		reps := 1 + r.IntN(4)
		c := newGenCluster(r, s, reps)
		stmt, _ = parse.ParseOne(q.SQL)
		env := Env{Bucket: func(_ string, key []any) (uint64, error) { return bucketOf(key), nil }}
		p, gerr := PlanQuery(c, stmt.(*parse.Query), env)
		var got *exec.Result
		if gerr == nil {
			kinds[p.Kind]++
			got, gerr = c.run(p, env.Exec)
		}
		fail := func(format string, args ...any) {
			failures++
			var sharded []string
			for _, tb := range s.Tables {
				if c.tables[tb.Name].Sharded {
					sharded = append(sharded, tb.Name)
				}
			}
			t.Errorf("case %d (SQL_ORACLE_SEED=%d), %d replicasets, sharded %v: %s\n%s\nschema:\n%s", i, sd, reps, sharded,
				fmt.Sprintf(format, args...), q.SQL, sqlgenSchema(s))
			if failures >= 3 {
				t.FailNow()
			}
		}
		switch {
		case werr != nil && gerr != nil:
			continue
		case werr != nil || gerr != nil:
			fail("local error %v, distributed error %v", werr, gerr)
			continue
		}
		checked++
		a, b := sqlgen.Canon(want.Rows, q.Ordered, false), sqlgen.Canon(got.Rows, q.Ordered, false)
		if !slices.Equal(a, b) {
			fail("local rows ≠ distributed rows (plan %v)\nlocal:       %v\ndistributed: %v", p.Kind, a, b)
			continue
		}
		names := func(cs []exec.Column) (out []string) {
			for _, c := range cs {
				out = append(out, c.Name)
			}
			return
		}
		if a, b := names(want.Columns), names(got.Columns); !slices.Equal(a, b) {
			fail("column names differ (plan %v): local %q, distributed %q", p.Kind, a, b)
		}
	}
	t.Logf("%d cases, %d checked, plans %v", n, checked, kinds)
	if n >= 20 && checked*2 < n {
		t.Errorf("only %d of %d cases ran", checked, n)
	}
}

func sqlgenSchema(s *sqlgen.Schema) string {
	out := ""
	for _, st := range s.SQLiteDDL() {
		out += st + ";\n"
	}
	return out
}

// TestMergeOrderByAlias: a scatter's merge orders by the planner's names
// for the fragment's columns (c1, c2, ..., o1 for an ORDER BY expression
// not selected); a user's output column of the same name once captured
// them (found by TestDistributedRandom). The merge qualifies them now.
func TestMergeOrderByAlias(t *testing.T) {
	c := newMiniCluster(rand.New(rand.NewPCG(1, 2)), 2)
	for _, q := range []string{
		"SELECT DISTINCT k AS c0, id AS c1 FROM t ORDER BY 1 DESC, 2 DESC LIMIT 4",
		"SELECT k AS o1 FROM t ORDER BY id DESC",
	} {
		_, got, gerr := c.planAndRun(t, q)
		want, werr := c.oracle(t, q)
		if gerr != nil || werr != nil {
			t.Fatalf("%s: %v / %v", q, werr, gerr)
		}
		if a, b := canon(want.Rows, true), canon(got.Rows, true); !slices.Equal(a, b) {
			t.Errorf("%s\nlocal:       %v\ndistributed: %v", q, a, b)
		}
	}
}

package plan

import (
	"math/rand/v2"
	"testing"

	"github.com/picogo/picogo/core/sql/exec"
	"github.com/picogo/picogo/core/sql/parse"
)

// FuzzPlan: any text that parses as a query is planned and run on a
// miniature cluster of three replicasets without a panic, and when it
// runs it gives what the same query gives on all the rows at once.
func FuzzPlan(f *testing.F) {
	for _, q := range []string{
		"SELECT * FROM t", "SELECT k, COUNT(*) FROM t GROUP BY k", "SELECT id FROM t WHERE id = 3",
		"SELECT t.id, g.name FROM t LEFT JOIN g ON t.k = g.k ORDER BY 1 LIMIT 3",
		"SELECT AVG(d), SUM(k) FROM t WHERE v LIKE 'a%'", "SELECT id FROM t WHERE k IN (SELECT k FROM g)",
		"WITH x AS (SELECT k FROM t) SELECT COUNT(DISTINCT k) FROM x", "SELECT id FROM t UNION SELECT k FROM g",
	} {
		f.Add(q)
	}
	c := newMiniCluster(rand.New(rand.NewPCG(9, 9)), 3)
	f.Fuzz(func(t *testing.T, sql string) {
		stmt, err := parse.ParseOne(sql)
		if err != nil {
			return
		}
		q, ok := stmt.(*parse.Query)
		if !ok {
			return
		}
		NumberParams(stmt)
		env := Env{Exec: exec.Env{Params: []any{int64(1), "a"}}, Bucket: func(_ string, key []any) (uint64, error) { return bucketOf(key), nil }}
		p, perr := PlanQuery(c, q, env)
		if perr != nil {
			return
		}
		got, gerr := c.run(p, env.Exec)
		want, werr := exec.Query(c.all, q, env.Exec)
		if gerr != nil || werr != nil {
			return // errors may differ in which row trips them first
		}
		if len(got.Rows) != len(want.Rows) {
			t.Fatalf("%s: %d rows distributed (%s plan), %d on one node", sql, len(got.Rows), p.Kind, len(want.Rows))
		}
	})
}

package plan

import (
	"github.com/picogo/picogo/core/sql/exec"
	"github.com/picogo/picogo/core/sql/parse"
)

// gather reads each sharded table into a motion and runs q at the router.
// A query whose FROM is just one sharded table sends its WHERE's
// conjuncts that read no other table down with the read (and reads one
// bucket's owner when they fix the sharding key).
func gather(cat Catalog, q *parse.Query, env Env, sharded []Table) *Query {
	p := &Query{Kind: Gather, Router: q}
	for _, t := range sharded {
		sel := &parse.Select{From: &parse.TableRef{Name: t.Name}}
		alias := t.Name
		if body, ok := q.Body.(*parse.Select); ok && len(q.With) == 0 && countRefs(q, t.Name) == 1 {
			if ref, ok := body.From.(*parse.TableRef); ok && ref.Name == t.Name {
				sel.From = ref
				if ref.Alias != "" {
					alias = ref.Alias
				}
				var pushed []parse.Expr
				for _, cj := range exec.Conjuncts(body.Where) {
					if !hasSubquery(cj) {
						pushed = append(pushed, cj)
					}
				}
				sel.Where = and(pushed)
			}
		}
		for _, c := range t.Columns {
			sel.Items = append(sel.Items, &parse.SelectItem{Expr: &parse.ColumnRef{Table: alias, Column: c.Name}, Alias: c.Name})
		}
		m := Motion{Table: t.Name, Tier: t.Tier, Fragment: &parse.Query{Body: sel}}
		if b, ok := fixedBucket(t, alias, sel.Where, env); ok {
			m.Bucket = b
		}
		p.Motions = append(p.Motions, m)
	}
	return p
}

package sqlgen

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Ref is a column a query's FROM exposes: how to name it, and its type.
type Ref struct {
	Name string
	Type Type
}

// Gen makes expressions and queries over a schema.
type Gen struct {
	R *rand.Rand
	S *Schema
	O Options
	// NoSubqueries leaves out subqueries in expressions (EXISTS, IN
	// (SELECT), scalar subqueries).
	NoSubqueries bool
	aliases      int
}

// New is a generator over s.
func New(r *rand.Rand, s *Schema, o Options) *Gen { return &Gen{R: r, S: s, O: o} }

func (g *Gen) alias() string {
	g.aliases++
	return fmt.Sprintf("a%d", g.aliases)
}

func (g *Gen) table() *Table { return g.S.Tables[g.R.IntN(len(g.S.Tables))] }

func (g *Gen) chance(n int) bool { return g.R.IntN(n) == 0 }

// of is the columns of sc with type t.
func of(sc []Ref, t Type) []Ref {
	var out []Ref
	for _, r := range sc {
		if r.Type == t {
			out = append(out, r)
		}
	}
	return out
}

// Literal of type t, never NULL.
func (g *Gen) lit(t Type) string {
	for {
		if v := RandomValue(g.R, t, g.O); v != nil {
			return Literal(v)
		}
	}
}

// Expr is an expression of type t over the columns of sc.
func (g *Gen) Expr(sc []Ref, t Type, depth int) string {
	if t == Bool && (depth > 0 || g.chance(2)) {
		return g.Pred(sc, depth)
	}
	if depth <= 0 || g.chance(3) {
		cols := of(sc, t)
		switch {
		case len(cols) > 0 && !g.chance(4):
			return cols[g.R.IntN(len(cols))].Name
		case g.chance(12):
			return "NULL"
		}
		return g.lit(t)
	}
	d := depth - 1
	switch g.R.IntN(10) {
	case 0:
		return fmt.Sprintf("CASE WHEN %s THEN %s ELSE %s END", g.Pred(sc, d), g.Expr(sc, t, d), g.Expr(sc, t, d))
	case 1:
		return fmt.Sprintf("COALESCE(%s, %s)", g.Expr(sc, t, d), g.Expr(sc, t, d))
	case 2:
		if !g.NoSubqueries && depth >= 2 && t != Bool {
			return g.scalarSubquery(sc, t, d)
		}
	case 3:
		if t != Bool {
			return fmt.Sprintf("NULLIF(%s, %s)", g.Expr(sc, t, d), g.Expr(sc, t, 0))
		}
	case 5:
		// picogo only (SQLite has no GREATEST, LEAST or ILIKE).
		if !g.O.SQLite && (t == Int || t == Text) {
			fn := []string{"GREATEST", "LEAST"}[g.R.IntN(2)]
			return fmt.Sprintf("%s(%s, %s, %s)", fn, g.Expr(sc, t, d), g.Expr(sc, t, 0), g.Expr(sc, t, 0))
		}
	case 4:
		// CAST of an integer: to TEXT and DOUBLE both dialects print
		// the same.
		switch t {
		case Text:
			return fmt.Sprintf("CAST(%s AS TEXT)", g.Expr(sc, Int, d))
		case Double:
			return fmt.Sprintf("CAST(%s AS DOUBLE)", g.Expr(sc, Int, d))
		}
	}
	switch t {
	case Int:
		switch g.R.IntN(8) {
		case 0, 1:
			return fmt.Sprintf("(%s + %s)", g.Expr(sc, Int, d), g.Expr(sc, Int, d))
		case 2:
			return fmt.Sprintf("(%s - %s)", g.Expr(sc, Int, d), g.Expr(sc, Int, d))
		case 3:
			return fmt.Sprintf("(%s * %s)", g.Expr(sc, Int, d), g.Expr(sc, Int, 0))
		case 4:
			// Division and modulo only by a non-zero constant: a
			// division by zero is an error in picogo, NULL in SQLite.
			op := []string{"/", "%"}[g.R.IntN(2)]
			return fmt.Sprintf("(%s %s %d)", g.Expr(sc, Int, d), op, []int{1, 2, 3, -2, 5}[g.R.IntN(5)])
		case 5:
			return fmt.Sprintf("ABS(%s)", g.Expr(sc, Int, d))
		case 6:
			return fmt.Sprintf("LENGTH(%s)", g.Expr(sc, Text, d))
		}
		return fmt.Sprintf("(- %s)", g.Expr(sc, Int, d))
	case Double:
		switch g.R.IntN(5) {
		case 0:
			return fmt.Sprintf("(%s + %s)", g.Expr(sc, Double, d), g.Expr(sc, Int, d))
		case 1:
			return fmt.Sprintf("(%s - %s)", g.Expr(sc, Double, d), g.Expr(sc, Double, d))
		case 2:
			return fmt.Sprintf("(%s * %s)", g.Expr(sc, Double, d), g.Expr(sc, Int, 0))
		case 3:
			return fmt.Sprintf("ABS(%s)", g.Expr(sc, Double, d))
		}
		return fmt.Sprintf("(- %s)", g.Expr(sc, Double, d))
	case Text:
		switch g.R.IntN(4) {
		case 0:
			// || of two strings only: SQLite turns numbers into text.
			return fmt.Sprintf("(%s || %s)", g.Expr(sc, Text, d), g.Expr(sc, Text, d))
		case 1:
			return fmt.Sprintf("SUBSTR(%s, %d, %d)", g.Expr(sc, Text, d), 1+g.R.IntN(3), 1+g.R.IntN(2))
		case 2:
			if !g.O.SQLite {
				switch g.R.IntN(3) {
				case 0:
					return fmt.Sprintf("TRIM(%s)", g.Expr(sc, Text, d))
				case 1:
					return fmt.Sprintf("REPLACE(%s, 'a', 'B')", g.Expr(sc, Text, d))
				}
				return fmt.Sprintf("UPPER(%s)", g.Expr(sc, Text, d))
			}
		}
		return fmt.Sprintf("LOWER(%s)", g.Expr(sc, Text, d))
	}
	return g.Pred(sc, d)
}

func (g *Gen) numType() Type {
	if g.chance(3) {
		return Double
	}
	return Int
}

// comparable types: numbers with numbers, text with text, booleans with
// booleans.
func (g *Gen) comparand() (Type, Type) {
	switch g.R.IntN(6) {
	case 0, 1:
		return Text, Text
	case 2:
		return Bool, Bool
	}
	return g.numType(), g.numType()
}

// Pred is a boolean expression over the columns of sc.
func (g *Gen) Pred(sc []Ref, depth int) string {
	if depth > 0 {
		d := depth - 1
		switch g.R.IntN(9) {
		case 0, 1:
			return fmt.Sprintf("(%s AND %s)", g.Pred(sc, d), g.Pred(sc, d))
		case 2, 3:
			return fmt.Sprintf("(%s OR %s)", g.Pred(sc, d), g.Pred(sc, d))
		case 4:
			return fmt.Sprintf("(NOT %s)", g.Pred(sc, d))
		case 5:
			if !g.NoSubqueries {
				return g.subqueryPred(sc, d)
			}
		}
	}
	return g.atom(sc, depth)
}

func (g *Gen) atom(sc []Ref, depth int) string {
	d := max(depth-1, 0)
	switch g.R.IntN(12) {
	case 0, 1, 2:
		l, r := g.comparand()
		ops := []string{"=", "<>", "<", "<=", ">", ">="}
		if l == Bool {
			ops = ops[:2]
		}
		return fmt.Sprintf("(%s %s %s)", g.Expr(sc, l, d), ops[g.R.IntN(len(ops))], g.Expr(sc, r, d))
	case 3:
		t := Type(g.R.IntN(4))
		not := []string{"", " NOT"}[g.R.IntN(2)]
		return fmt.Sprintf("(%s IS%s NULL)", g.Expr(sc, t, d), not)
	case 4:
		t, _ := g.comparand()
		if t == Bool {
			t = Int
		}
		not := []string{"", " NOT"}[g.R.IntN(2)]
		return fmt.Sprintf("(%s%s BETWEEN %s AND %s)", g.Expr(sc, t, d), not, g.Expr(sc, t, 0), g.Expr(sc, t, 0))
	case 5:
		t, _ := g.comparand()
		var items []string
		for range 1 + g.R.IntN(4) {
			if g.chance(6) {
				items = append(items, "NULL")
			} else {
				items = append(items, g.Expr(sc, t, 0))
			}
		}
		not := []string{"", " NOT"}[g.R.IntN(2)]
		return fmt.Sprintf("(%s%s IN (%s))", g.Expr(sc, t, d), not, strings.Join(items, ", "))
	case 6:
		pats := []string{"a%", "%b", "%a%", "_", "a_", "%", "", "ab", "%_%", "b%a", "x%"}
		if !g.O.SQLite {
			pats = append(pats, "A%", "%B%", "Z")
		}
		not := []string{"", " NOT"}[g.R.IntN(2)]
		op := "LIKE"
		if !g.O.SQLite {
			switch g.R.IntN(4) {
			case 0:
				op = "ILIKE"
			case 1:
				// An escaped wildcard matches itself.
				return fmt.Sprintf("(%s%s LIKE '%s' ESCAPE '\\')", g.Expr(sc, Text, d), not,
					[]string{"x\\%", "a\\_b", "%\\%", "\\_%"}[g.R.IntN(4)])
			}
		}
		return fmt.Sprintf("(%s%s %s '%s')", g.Expr(sc, Text, d), not, op, pats[g.R.IntN(len(pats))])
	case 7:
		if cols := of(sc, Bool); len(cols) > 0 {
			return cols[g.R.IntN(len(cols))].Name
		}
	case 8:
		// The primary key fixed: exec's point read.
		var ids []Ref
		for _, r := range sc {
			if strings.HasSuffix(r.Name, ".id") {
				ids = append(ids, r)
			}
		}
		if len(ids) > 0 {
			return fmt.Sprintf("(%s = %s)", ids[g.R.IntN(len(ids))].Name, g.Expr(sc, Int, 0))
		}
	case 9:
		return []string{"TRUE", "FALSE", "NULL"}[g.R.IntN(3)]
	}
	t, _ := g.comparand()
	return fmt.Sprintf("(%s = %s)", g.Expr(sc, t, d), g.Expr(sc, t, d))
}

// tableScope is the columns of t under alias a.
func tableScope(t *Table, a string) []Ref {
	var sc []Ref
	for _, c := range t.Cols {
		sc = append(sc, Ref{a + "." + c.Name, c.Type})
	}
	return sc
}

// scalarSubquery is an aggregate over a table, filtered by a predicate
// that may read the outer columns: always one row.
func (g *Gen) scalarSubquery(outer []Ref, t Type, depth int) string {
	tab, a := g.table(), g.alias()
	sc := tableScope(tab, a)
	inner := append(append([]Ref{}, sc...), outer...)
	cols := of(sc, t)
	agg := "COUNT(*)"
	if len(cols) > 0 {
		agg = fmt.Sprintf("%s(%s)", []string{"MIN", "MAX"}[g.R.IntN(2)], cols[g.R.IntN(len(cols))].Name)
	} else if t != Int {
		return g.lit(t)
	}
	return fmt.Sprintf("(SELECT %s FROM %s %s WHERE %s)", agg, tab.Name, a, g.Pred(inner, depth))
}

// subqueryPred is EXISTS or IN over a subquery that may read the outer
// columns.
func (g *Gen) subqueryPred(outer []Ref, depth int) string {
	tab, a := g.table(), g.alias()
	sc := tableScope(tab, a)
	inner := append(append([]Ref{}, sc...), outer...)
	where := g.Pred(inner, depth)
	if g.chance(2) {
		not := []string{"", "NOT "}[g.R.IntN(2)]
		return fmt.Sprintf("(%sEXISTS (SELECT 1 FROM %s %s WHERE %s))", not, tab.Name, a, where)
	}
	c := sc[g.R.IntN(len(sc))]
	t := c.Type
	if t == Double {
		t = Int
	}
	not := []string{"", " NOT"}[g.R.IntN(2)]
	return fmt.Sprintf("(%s%s IN (SELECT %s FROM %s %s WHERE %s))", g.Expr(outer, t, 0), not, c.Name, tab.Name, a, where)
}

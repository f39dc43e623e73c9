package sqlgen

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

var (
	columnRef  = regexp.MustCompile(`\ba[0-9]+\.[a-z]`)
	bareColumn = regexp.MustCompile(`^a[0-9]+\.[a-z0-9_]+$`)
)

// hasColumn reports whether e reads a column (a bare integer would be a
// position in GROUP BY or ORDER BY).
func hasColumn(e string) bool { return columnRef.MatchString(e) }

// isColumn reports whether e is a column and nothing else.
func isColumn(e string) bool { return bareColumn.MatchString(e) }

// From is a FROM clause: one table, a subquery, or an inner or LEFT join
// of two of them.
type From struct {
	SQL   string
	Scope []Ref
	// Keys name a key of each source (its id): ordering by all of them
	// is a total order of the FROM's rows.
	Keys []string
	// Left, Right and On: the two sides of a join (Left is "" for one
	// source).
	Left, Right, On string
	Outer           bool
}

// source is a table or a subquery in FROM, under a fresh alias.
func (g *Gen) source(depth int) (sql string, sc []Ref, key string) {
	tab, a := g.table(), g.alias()
	if depth > 0 && g.chance(4) {
		// A subquery in FROM: some of the table's columns (id always),
		// filtered, under new names.
		ia := g.alias()
		isc := tableScope(tab, ia)
		items := []string{ia + ".id AS id"}
		sc = []Ref{{a + ".id", Int}}
		for i, c := range isc[1:] {
			if g.chance(3) {
				continue
			}
			e := c.Name
			if g.chance(3) {
				e = g.Expr(isc, c.Type, 1)
			}
			name := fmt.Sprintf("s%d", i)
			items = append(items, e+" AS "+name)
			sc = append(sc, Ref{a + "." + name, c.Type})
		}
		where := ""
		if g.chance(2) {
			where = " WHERE " + g.Pred(isc, 1)
		}
		return fmt.Sprintf("(SELECT %s FROM %s %s%s) %s", strings.Join(items, ", "), tab.Name, ia, where, a), sc, a + ".id"
	}
	return tab.Name + " " + a, tableScope(tab, a), a + ".id"
}

// From makes a FROM clause; with join false, of one source.
func (g *Gen) From(join bool) *From {
	sql, sc, key := g.source(1)
	f := &From{SQL: sql, Scope: sc, Keys: []string{key}}
	if !join {
		return f
	}
	rsql, rsc, rkey := g.source(1)
	all := append(append([]Ref{}, sc...), rsc...)
	// An equality of the two sides (a hash join) most of the time, and
	// sometimes more conditions, or none.
	var on []string
	if !g.chance(5) {
		t := Int
		if g.chance(4) {
			t = Text
		}
		l, r := of(sc, t), of(rsc, t)
		if len(l) > 0 && len(r) > 0 {
			on = append(on, fmt.Sprintf("%s = %s", l[g.R.IntN(len(l))].Name, r[g.R.IntN(len(r))].Name))
		}
	}
	if len(on) == 0 || g.chance(3) {
		on = append(on, g.Pred(all, 1))
	}
	f.Left, f.Right, f.On = sql, rsql, strings.Join(on, " AND ")
	f.Outer = g.chance(2)
	kw := "JOIN"
	if f.Outer {
		kw = "LEFT JOIN"
	}
	f.SQL = fmt.Sprintf("%s %s %s ON %s", sql, kw, rsql, f.On)
	f.Scope, f.Keys = all, []string{key, rkey}
	return f
}

// Select is one generated SELECT.
type Select struct {
	Distinct bool
	Items    []string // expressions, each AS x<i>
	Types    []Type
	From     *From
	Where    string
	GroupBy  []string
	Having   string
	OrderBy  []string
	Limit    int // -1: none
	Offset   int // -1: none
	// Ordered: ORDER BY is a total order of the output rows (compare
	// them in order).
	Ordered bool
	// Bare: the output columns have no AS: their names are the
	// executor's and the planner's to agree on.
	Bare bool
}

// SQL is the statement's text.
func (s *Select) SQL() string { return s.SQLWhere("") }

// SQLWhere is the statement with extra AND-ed to its WHERE.
func (s *Select) SQLWhere(extra string) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	if s.Distinct {
		b.WriteString("DISTINCT ")
	}
	items := make([]string, len(s.Items))
	for i, it := range s.Items {
		// c<n>: the names the planner gives a fragment's columns, which
		// must not capture the merge's references (they are qualified).
		items[i] = fmt.Sprintf("%s AS c%d", it, i)
		if s.Bare {
			items[i] = it
		}
	}
	b.WriteString(strings.Join(items, ", "))
	b.WriteString(" FROM " + s.From.SQL)
	switch w := s.Where; {
	case w != "" && extra != "":
		fmt.Fprintf(&b, " WHERE (%s) AND (%s)", w, extra)
	case w != "":
		b.WriteString(" WHERE " + w)
	case extra != "":
		b.WriteString(" WHERE " + extra)
	}
	if len(s.GroupBy) > 0 {
		b.WriteString(" GROUP BY " + strings.Join(s.GroupBy, ", "))
	}
	if s.Having != "" {
		b.WriteString(" HAVING " + s.Having)
	}
	b.WriteString(s.tail())
	return b.String()
}

func (s *Select) tail() string {
	var b strings.Builder
	if len(s.OrderBy) > 0 {
		b.WriteString(" ORDER BY " + strings.Join(s.OrderBy, ", "))
	}
	if s.Limit >= 0 {
		fmt.Fprintf(&b, " LIMIT %d", s.Limit)
		if s.Offset >= 0 {
			fmt.Fprintf(&b, " OFFSET %d", s.Offset)
		}
	}
	return b.String()
}

// SelectKind says which clauses a Select may have.
type SelectKind struct {
	Join      bool // may join two sources
	Distinct  bool // may be DISTINCT
	Group     bool // may group and aggregate
	OrderBy   bool // may have ORDER BY with LIMIT and OFFSET
	Where     bool // may have a WHERE
	Aggregate bool // must aggregate without GROUP BY (one row)
}

// AllKinds allows every clause.
var AllKinds = SelectKind{Join: true, Distinct: true, Group: true, OrderBy: true, Where: true}

// Select makes a SELECT of the kind asked.
func (g *Gen) Select(k SelectKind) *Select {
	return g.selectTyped(k, nil)
}

// selectTyped makes a SELECT whose output columns have types types (nil:
// any).
func (g *Gen) selectTyped(k SelectKind, types []Type) *Select {
	f := g.From(k.Join && g.chance(2))
	s := &Select{From: f, Limit: -1, Offset: -1, Bare: g.chance(5)}
	if k.Where && g.chance(2) {
		s.Where = g.Pred(f.Scope, 2)
		if g.chance(4) {
			// A key fixed: a point read in exec, one bucket in plan.
			s.Where = fmt.Sprintf("%s = %s AND %s", f.Keys[0], g.lit(Int), s.Where)
		}
	}
	n := len(types)
	if n == 0 {
		n = 1 + g.R.IntN(3)
	}
	typ := func(i int) Type {
		if types != nil {
			return types[i]
		}
		return Type(g.R.IntN(4))
	}
	switch {
	case k.Aggregate || (k.Group && g.chance(3)):
		keys := 0
		if !k.Aggregate {
			keys = 1 + g.R.IntN(min(2, n))
			if n == 1 && types == nil {
				n = 2
			}
		}
		for i := range n {
			t := typ(i)
			if i < keys {
				e := g.Expr(f.Scope, t, 1)
				// SQLite takes a GROUP BY term that folds to an integer
				// constant (x AND FALSE) for a position: columns only.
				if cols := of(f.Scope, t); len(cols) > 0 && (g.chance(2) || g.O.SQLite || !hasColumn(e)) {
					e = cols[g.R.IntN(len(cols))].Name
				}
				if !hasColumn(e) || (g.O.SQLite && !isColumn(e)) {
					// Not a bare integer, which would be a position.
					c := f.Scope[g.R.IntN(len(f.Scope))]
					e, t = c.Name, c.Type
				}
				s.GroupBy = append(s.GroupBy, e)
				s.Items = append(s.Items, e)
			} else {
				e, at := g.aggregate(f.Scope, t)
				s.Items = append(s.Items, e)
				t = at
			}
			s.Types = append(s.Types, t)
		}
		if !k.Aggregate && g.chance(2) {
			s.Having = g.HavingPred(f.Scope)
		}
		// Every output column in order: groups are unique on their keys.
		if k.OrderBy && g.chance(2) {
			s.orderByPositions(g)
		}
	default:
		for i := range n {
			t := typ(i)
			s.Items = append(s.Items, g.Expr(f.Scope, t, 1))
			s.Types = append(s.Types, t)
		}
		s.Distinct = k.Distinct && g.chance(3)
		if k.OrderBy && g.chance(2) {
			if s.Distinct {
				s.orderByPositions(g)
			} else {
				// A few expressions, then every source's key: a total
				// order of the FROM's rows, so LIMIT picks the same rows.
				for range g.R.IntN(2) {
					// Not a bare integer, which would be a position.
					e := g.Expr(f.Scope, Type(g.R.IntN(4)), 1)
					if g.O.SQLite {
						c := f.Scope[g.R.IntN(len(f.Scope))]
						e = c.Name
					}
					if hasColumn(e) {
						s.OrderBy = append(s.OrderBy, e+g.desc())
					}
				}
				for _, key := range f.Keys {
					s.OrderBy = append(s.OrderBy, key+g.desc())
				}
				s.Ordered = true
			}
		}
	}
	if s.Ordered && g.chance(2) {
		s.Limit = g.R.IntN(8)
		if g.chance(2) {
			s.Offset = g.R.IntN(5)
		}
	}
	return s
}

func (s *Select) orderByPositions(g *Gen) {
	for i := range s.Items {
		s.OrderBy = append(s.OrderBy, fmt.Sprint(i+1)+g.desc())
	}
	s.Ordered = true
}

func (g *Gen) desc() string {
	if g.chance(2) {
		return " DESC"
	}
	return ""
}

// aggregate is an aggregate call over sc, of type t if it can be, and the
// type it has.
func (g *Gen) aggregate(sc []Ref, t Type) (string, Type) {
	switch t {
	case Int:
		switch g.R.IntN(5) {
		case 0:
			return "COUNT(*)", Int
		case 1:
			return fmt.Sprintf("COUNT(%s)", g.Expr(sc, Type(g.R.IntN(4)), 1)), Int
		case 2:
			return fmt.Sprintf("COUNT(DISTINCT %s)", g.Expr(sc, Type(g.R.IntN(3)), 0)), Int
		case 3:
			return fmt.Sprintf("SUM(%s)", g.Expr(sc, Int, 1)), Int
		}
		return fmt.Sprintf("%s(%s)", []string{"MIN", "MAX"}[g.R.IntN(2)], g.Expr(sc, Int, 1)), Int
	case Double:
		nt := g.numType()
		switch g.R.IntN(4) {
		case 0:
			return fmt.Sprintf("AVG(%s)", g.Expr(sc, nt, 1)), Double
		case 1:
			return fmt.Sprintf("TOTAL(%s)", g.Expr(sc, nt, 1)), Double
		case 2:
			return fmt.Sprintf("SUM(%s)", g.Expr(sc, Double, 1)), Double
		}
		return fmt.Sprintf("%s(%s)", []string{"MIN", "MAX"}[g.R.IntN(2)], g.Expr(sc, Double, 1)), Double
	case Text:
		return fmt.Sprintf("%s(%s)", []string{"MIN", "MAX"}[g.R.IntN(2)], g.Expr(sc, Text, 1)), Text
	}
	// MIN/MAX of a boolean: picogo orders booleans, SQLite stores 0 and 1.
	return fmt.Sprintf("%s(%s)", []string{"MIN", "MAX"}[g.R.IntN(2)], g.Expr(sc, Bool, 0)), Bool
}

// HavingPred is a condition over aggregates of sc.
func (g *Gen) HavingPred(sc []Ref) string {
	switch g.R.IntN(4) {
	case 0:
		return fmt.Sprintf("(COUNT(*) > %d)", g.R.IntN(3))
	case 1:
		e, _ := g.aggregate(sc, Int)
		return fmt.Sprintf("(%s %s %s)", e, []string{"<", ">=", "=", "<>"}[g.R.IntN(4)], g.lit(Int))
	case 2:
		e, _ := g.aggregate(sc, Text)
		return fmt.Sprintf("(%s IS NULL)", e)
	}
	e, _ := g.aggregate(sc, Int)
	return fmt.Sprintf("((%s > %s) OR (COUNT(*) = 1))", e, g.lit(Int))
}

// Query is a generated query, a SELECT or a set operation of two.
type Query struct {
	SQL     string
	Ordered bool // ORDER BY is a total order of the output
}

// Query makes a random query of any shape.
func (g *Gen) Query() Query {
	s := g.Select(AllKinds)
	if !g.chance(4) {
		return Query{SQL: s.SQL(), Ordered: s.Ordered}
	}
	// A set operation: both sides with the same column types, neither
	// ordered nor limited.
	k := AllKinds
	k.OrderBy = false
	s = g.selectTyped(k, nil)
	r := g.selectTyped(k, s.Types)
	// A grouped side may end with other types than asked (a group key
	// that had to be a column): SQLite compares TRUE and 1 as equal,
	// picogo does not, so both sides have the same types or there is no
	// set operation.
	for try := 0; !slices.Equal(r.Types, s.Types); try++ {
		if try == 10 {
			return Query{SQL: s.SQL()}
		}
		r = g.selectTyped(k, s.Types)
	}
	op := []string{"UNION", "UNION ALL", "EXCEPT"}[g.R.IntN(3)]
	sql := fmt.Sprintf("%s %s %s", s.SQL(), op, r.SQL())
	ordered := false
	if g.chance(2) && op != "UNION ALL" {
		// Set semantics: the rows are distinct, so every column in
		// order is total.
		var ob []string
		for i := range s.Items {
			ob = append(ob, fmt.Sprint(i+1)+g.desc())
		}
		sql += " ORDER BY " + strings.Join(ob, ", ")
		ordered = true
		if g.chance(2) {
			sql += fmt.Sprintf(" LIMIT %d", g.R.IntN(6))
		}
	}
	return Query{SQL: sql, Ordered: ordered}
}

package oracles

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/picogo/picogo/core/sql/internal/sqlgen"
	"github.com/picogo/picogo/core/sql/value"
	"github.com/picogo/picogo/core/tuple"
)

// Ternary logic partitioning (SQLancer's TLP): every row of a query Q
// makes a predicate p true, false or NULL, so Q's rows are exactly those
// of Q WHERE p, Q WHERE NOT p and Q WHERE p IS NULL together.

// partitions are p's three cases.
func partitions(p string) []string {
	return []string{p, fmt.Sprintf("NOT (%s)", p), fmt.Sprintf("(%s) IS NULL", p)}
}

// runParts runs the three partitions of a query: sql(x) is the query
// with x as the extra condition. It skips a predicate that fails in every
// partition alike (it does not bind); a partition failing alone is the
// oracle's failure.
func runParts(c *oracleCase, p string, sql func(extra string) string) ([][][]any, error) {
	var out [][][]any
	var errs []error
	for _, part := range partitions(p) {
		res, err := sqlgen.Run(c.s.Catalog(), sql(part))
		errs = append(errs, err)
		if res != nil {
			out = append(out, res.Rows)
		}
	}
	switch {
	case errs[0] == nil && errs[1] == nil && errs[2] == nil:
		return out, nil
	case errs[0] != nil && errs[1] != nil && errs[2] != nil:
		return nil, errSkip
	}
	return nil, fmt.Errorf("some partitions fail and others do not: %v / %v / %v\n%s", errs[0], errs[1], errs[2], sql(p))
}

func TestTLPWhere(t *testing.T) {
	n := iterations(t, 600)
	checked := forCases(t, 600, sqlgen.Options{Edges: true}, func(c *oracleCase) error {
		sel := c.g.Select(sqlgen.SelectKind{Join: true, Where: true})
		whole, err := sqlgen.Run(c.s.Catalog(), sel.SQL())
		if err != nil {
			return errSkip
		}
		p := c.g.Pred(sel.From.Scope, 2)
		parts, err := runParts(c, p, sel.SQLWhere)
		if err != nil {
			return err
		}
		var union [][]any
		for _, rows := range parts {
			union = append(union, rows...)
		}
		want, got := sqlgen.CanonExact(whole.Rows, false), sqlgen.CanonExact(union, false)
		if !slices.Equal(want, got) {
			return fmt.Errorf("Q ≠ Q WHERE p ⊎ Q WHERE NOT p ⊎ Q WHERE p IS NULL\nQ: %s\np: %s\n%s", sel.SQL(), p, diff(want, got))
		}
		return nil
	})
	requireChecked(t, checked, n)
}

func TestTLPDistinct(t *testing.T) {
	n := iterations(t, 300)
	checked := forCases(t, 300, sqlgen.Options{Edges: true}, func(c *oracleCase) error {
		sel := c.g.Select(sqlgen.SelectKind{Join: true, Where: true})
		sel.Distinct = true
		whole, err := sqlgen.Run(c.s.Catalog(), sel.SQL())
		if err != nil {
			return errSkip
		}
		p := c.g.Pred(sel.From.Scope, 2)
		parts, err := runParts(c, p, sel.SQLWhere)
		if err != nil {
			return err
		}
		var union []string
		for _, rows := range parts {
			union = append(union, sqlgen.CanonExact(rows, false)...)
		}
		slices.Sort(union)
		union = slices.Compact(union)
		want := sqlgen.CanonExact(whole.Rows, false)
		if !slices.Equal(want, union) {
			return fmt.Errorf("DISTINCT Q ≠ DISTINCT of the partitions\nQ: %s\np: %s\n%s", sel.SQL(), p, diff(want, union))
		}
		return nil
	})
	requireChecked(t, checked, n)
}

// TestTLPHaving partitions the groups of a grouped query on a condition
// over aggregates.
func TestTLPHaving(t *testing.T) {
	n := iterations(t, 300)
	checked := forCases(t, 300, sqlgen.Options{Edges: true}, func(c *oracleCase) error {
		var sel *sqlgen.Select
		for sel == nil || len(sel.GroupBy) == 0 {
			sel = c.g.Select(sqlgen.SelectKind{Join: true, Where: true, Group: true})
		}
		whole, err := sqlgen.Run(c.s.Catalog(), sel.SQL())
		if err != nil {
			return errSkip
		}
		p := c.g.HavingPred(sel.From.Scope)
		having := sel.Having
		parts, err := runParts(c, p, func(extra string) string {
			s := *sel
			s.Having = extra
			if having != "" {
				s.Having = fmt.Sprintf("(%s) AND (%s)", having, extra)
			}
			return s.SQL()
		})
		if err != nil {
			return err
		}
		var union [][]any
		for _, rows := range parts {
			union = append(union, rows...)
		}
		want, got := sqlgen.CanonExact(whole.Rows, false), sqlgen.CanonExact(union, false)
		if !slices.Equal(want, got) {
			return fmt.Errorf("grouped Q ≠ its HAVING partitions\nQ: %s\np: %s\n%s", sel.SQL(), p, diff(want, got))
		}
		return nil
	})
	requireChecked(t, checked, n)
}

// TestTLPAggregate: SUM, COUNT, MIN, MAX and TOTAL over Q combine from
// their values over the three partitions (SQLancer's aggregate TLP).
func TestTLPAggregate(t *testing.T) {
	n := iterations(t, 600)
	checked := forCases(t, 600, sqlgen.Options{Edges: true}, func(c *oracleCase) error {
		f := c.g.From(c.r.IntN(2) == 0)
		typ := sqlgen.Type(c.r.IntN(3))
		e := c.g.Expr(f.Scope, typ, 2)
		fn := []string{"COUNT", "SUM", "MIN", "MAX", "TOTAL"}[c.r.IntN(5)]
		if typ == sqlgen.Text && (fn == "SUM" || fn == "TOTAL") {
			fn = "MAX"
		}
		agg := fmt.Sprintf("%s(%s)", fn, e)
		if fn == "COUNT" && c.r.IntN(3) == 0 {
			agg = "COUNT(*)"
		}
		where := ""
		if c.r.IntN(2) == 0 {
			where = c.g.Pred(f.Scope, 1)
		}
		sql := func(extra string) string {
			s := fmt.Sprintf("SELECT %s FROM %s", agg, f.SQL)
			switch {
			case where != "" && extra != "":
				s += fmt.Sprintf(" WHERE (%s) AND (%s)", where, extra)
			case where != "":
				s += " WHERE " + where
			case extra != "":
				s += " WHERE " + extra
			}
			return s
		}
		whole, err := sqlgen.Run(c.s.Catalog(), sql(""))
		if err != nil {
			return errSkip
		}
		p := c.g.Pred(f.Scope, 2)
		parts, err := runParts(c, p, sql)
		if err != nil {
			// A SUM over part of the rows may overflow where the whole
			// does not (the rest cancels it out): not a disagreement.
			return errSkip
		}
		var vals []any
		for _, rows := range parts {
			vals = append(vals, rows[0][0])
		}
		got, cerr := combine(fn, vals)
		if cerr != nil {
			return errSkip // as above: the partial sums overflow when added
		}
		want := whole.Rows[0][0]
		if (fn == "SUM" || fn == "TOTAL") && typ == sqlgen.Double && hugeValues(c.s) {
			// Sums of doubles in another order round otherwise: 2^63 +
			// 0.25 - 2^63 is 0, 2^63 - 2^63 + 0.25 is 0.25.
			return errSkip
		}
		if sqlgen.Cell(want, false) != sqlgen.Cell(got, false) {
			return fmt.Errorf("%s over Q is %s, over the partitions %v combine to %s\nQ: %s\np: %s",
				fn, sqlgen.Cell(want, false), cells(vals), sqlgen.Cell(got, false), sql(""), p)
		}
		return nil
	})
	requireChecked(t, checked, n)
}

// hugeValues reports a number of 2^50 or more in the tables, where adding
// doubles in another order may round otherwise.
func hugeValues(s *sqlgen.Schema) bool {
	for _, t := range s.Tables {
		for _, row := range t.Rows {
			for _, v := range row {
				switch x := v.(type) {
				case float64:
					if math.Abs(x) >= 1<<50 {
						return true
					}
				case int64:
					if x >= 1<<50 || x <= -1<<50 {
						return true
					}
				}
			}
		}
	}
	return false
}

func cells(vals []any) string {
	var out []string
	for _, v := range vals {
		out = append(out, sqlgen.Cell(v, false))
	}
	return strings.Join(out, ", ")
}

// combine merges an aggregate's values over the partitions: counts and
// sums add (a SUM of nothing is NULL), MIN and MAX take the extreme.
func combine(fn string, vals []any) (any, *tuple.Error) {
	var acc any
	for _, v := range vals {
		if v == nil {
			continue
		}
		if acc == nil {
			acc = v
			continue
		}
		switch fn {
		case "COUNT", "SUM", "TOTAL":
			var err *tuple.Error
			if acc, err = value.Arith("+", acc, v); err != nil {
				return nil, err
			}
		case "MIN", "MAX":
			cmp, _, err := value.Compare(v, acc)
			if err != nil {
				return nil, err
			}
			if (fn == "MIN" && cmp < 0) || (fn == "MAX" && cmp > 0) {
				acc = v
			}
		}
	}
	return acc, nil
}

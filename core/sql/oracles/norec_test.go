package oracles

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/picogo/picogo/core/sql/internal/sqlgen"
)

// NoREC (SQLancer's non-optimizing reference engine construction): the
// rows a filter keeps, counted by the optimized path — the primary key's
// point read when the filter fixes it, a hash join on an ON equality —
// must be the rows the same condition selects when it is only evaluated:
//
//	SELECT COUNT(*) FROM f WHERE p
//	SELECT SUM(CASE WHEN p THEN 1 ELSE 0 END) FROM f'
//
// where f' is f over tables without point reads and with its ON condition
// hidden from the hash join (NOT (NOT (on)), the same truth value). The
// rows themselves (their keys) are compared too.
func TestNoREC(t *testing.T) {
	n := iterations(t, 1000)
	checked := forCases(t, 1000, sqlgen.Options{Edges: true}, func(c *oracleCase) error {
		f := c.g.From(c.r.IntN(3) == 0)
		p := c.g.Pred(f.Scope, 1+c.r.IntN(3))
		if c.r.IntN(2) == 0 {
			// Fix a primary key: exec's point read.
			id := f.Keys[c.r.IntN(len(f.Keys))]
			p = fmt.Sprintf("%s = %s AND %s", id, c.g.Expr(f.Scope, sqlgen.Int, c.r.IntN(2)), p)
		}
		plain := f.SQL
		if f.Left != "" {
			kw := "JOIN"
			if f.Outer {
				kw = "LEFT JOIN"
			}
			plain = fmt.Sprintf("%s %s %s ON NOT (NOT (%s))", f.Left, kw, f.Right, f.On)
		}
		keys := strings.Join(f.Keys, ", ")
		optCount := fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE %s", f.SQL, p)
		refCount := fmt.Sprintf("SELECT SUM(CASE WHEN %s THEN 1 ELSE 0 END) FROM %s", p, plain)
		optRows := fmt.Sprintf("SELECT %s FROM %s WHERE %s", keys, f.SQL, p)
		refRows := fmt.Sprintf("SELECT %s FROM %s WHERE CASE WHEN %s THEN TRUE ELSE FALSE END", keys, plain, p)
		opt, oerr := sqlgen.Run(c.s.Catalog(), optCount)
		ref, rerr := sqlgen.Run(c.s.ScanCatalog(), refCount)
		switch {
		case oerr != nil && rerr != nil:
			return errSkip
		case rerr != nil:
			// The point read evaluates p on one row, the reference on
			// every row: only the reference meets a row where p fails
			// (an overflow).
			return errSkip
		case oerr != nil && empty(c, f):
			// The point read evaluates its key even when the table is
			// empty (a constant that overflows fails, as PostgreSQL's
			// constant folding does); the scan meets no row to fail on.
			return errSkip
		case oerr != nil:
			return fmt.Errorf("one fails, the other does not:\n%s\n  → %v\n%s\n  → %v", optCount, oerr, refCount, rerr)
		}
		want := ref.Rows[0][0]
		if want == nil {
			want = int64(0) // SUM over no rows
		}
		if sqlgen.Cell(opt.Rows[0][0], false) != sqlgen.Cell(want, false) {
			return fmt.Errorf("COUNT(*) WHERE p is %v, SUM(CASE WHEN p ...) is %v\n%s\n%s", opt.Rows[0][0], want, optCount, refCount)
		}
		optR, oerr := sqlgen.Run(c.s.Catalog(), optRows)
		refR, rerr := sqlgen.Run(c.s.ScanCatalog(), refRows)
		if oerr != nil || rerr != nil {
			if oerr == nil || empty(c, f) {
				return errSkip // as above
			}
			return fmt.Errorf("the rows' queries fail: %v / %v\n%s\n%s", oerr, rerr, optRows, refRows)
		}
		if a, b := sqlgen.CanonExact(refR.Rows, false), sqlgen.CanonExact(optR.Rows, false); !slices.Equal(a, b) {
			return fmt.Errorf("the rows differ\n%s\n%s\n%s", optRows, refRows, diff(a, b))
		}
		return nil
	})
	requireChecked(t, checked, n)
}

// empty reports whether f has no rows.
func empty(c *oracleCase, f *sqlgen.From) bool {
	res, err := sqlgen.Run(c.s.ScanCatalog(), "SELECT COUNT(*) FROM "+f.SQL)
	return err == nil && sqlgen.Cell(res.Rows[0][0], false) == "0"
}

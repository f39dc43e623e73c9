package oracles

import (
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/picogo/picogo/core/sql/internal/sqlgen"
	_ "modernc.org/sqlite"
)

// The differential test against SQLite (modernc.org/sqlite, pure Go,
// test-only): generated schemas, rows and queries in the subset where the
// two dialects mean the same (sqlgen.Options.SQLite: integers that never
// overflow, division and modulo only by a non-zero constant — both
// truncate toward zero —, || of strings only, comparisons within numbers,
// strings or booleans, LIKE patterns and texts in lower case with
// PRAGMA case_sensitive_like, no SUBSTR of negative positions). Rows are
// compared as multisets, or in order when ORDER BY is a total order;
// numbers by value (AVG is a double in SQLite, a decimal in picogo),
// booleans as 0 and 1 (SQLite has none).
//
// A query picogo refuses (it is stricter about types) is counted, not
// compared; one SQLite refuses and picogo runs is a failure.

func openSQLite(t *testing.T, s *sqlgen.Schema) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1) // one connection: one in-memory database
	stmts := append([]string{"PRAGMA case_sensitive_like = ON"}, s.SQLiteDDL()...)
	for _, st := range stmts {
		if _, err := db.Exec(st); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	return db
}

func querySQLite(db *sql.DB, q string) ([][]any, error) {
	rows, err := db.Query(q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]any
	for rows.Next() {
		row := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

func TestSQLiteDifferential(t *testing.T) {
	n := iterations(t, 500)
	o := sqlgen.Options{SQLite: true}
	refused := 0
	checked := forCases(t, 500, o, func(c *oracleCase) error {
		db := openSQLite(t, c.s)
		defer db.Close()
		for range 4 {
			q := c.g.Query()
			res, perr := sqlgen.Run(c.s.Catalog(), q.SQL)
			if perr != nil {
				refused++
				continue
			}
			rows, serr := querySQLite(db, q.SQL)
			if serr != nil && strings.Contains(serr.Error(), "integer overflow") {
				// SUM past 64 bits: SQLite fails, picogo may still give
				// the sum (it adds exactly and fails only on the result).
				refused++
				continue
			}
			if serr != nil {
				return fmt.Errorf("SQLite fails, picogo does not: %v\n%s", serr, q.SQL)
			}
			want, got := sqlgen.Canon(rows, q.Ordered, true), sqlgen.Canon(res.Rows, q.Ordered, true)
			if !slices.Equal(want, got) {
				return fmt.Errorf("SQLite (want) and picogo (got) differ\n%s\n%s", q.SQL, diff(want, got))
			}
		}
		return nil
	})
	t.Logf("%d queries picogo refused", refused)
	requireChecked(t, checked, n)
}

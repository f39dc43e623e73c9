package sqlgen

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/picogo/picogo/core/sql/exec"
	"github.com/picogo/picogo/core/sql/parse"
	"github.com/picogo/picogo/core/sql/value"
	"github.com/picogo/picogo/core/tuple"
)

// Run parses sql and runs it with exec over cat.
func Run(cat exec.Catalog, sql string) (*exec.Result, error) {
	stmt, err := parse.ParseOne(sql)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	q, ok := stmt.(*parse.Query)
	if !ok {
		return nil, fmt.Errorf("not a query: %s", sql)
	}
	res, xerr := exec.Query(cat, q, exec.Env{})
	if xerr != nil {
		return nil, xerr
	}
	return res, nil
}

// Canon is rows as text, one line a row, sorted unless ordered: numbers
// by value (an integer, a double and a decimal that are equal print the
// same; doubles to 9 significant digits, so that sums in another order
// agree), booleans as 0 and 1 when boolInts (SQLite has no booleans).
func Canon(rows [][]any, ordered, boolInts bool) []string {
	return canon(rows, ordered, boolInts, false)
}

// CanonExact is Canon with doubles to the last digit: for rows of one
// engine that the same operations made in the same order (two doubles
// that differ past the 9th digit are not one row of a DISTINCT).
func CanonExact(rows [][]any, ordered bool) []string {
	return canon(rows, ordered, false, true)
}

func canon(rows [][]any, ordered, boolInts, exact bool) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		parts := make([]string, len(r))
		for j, v := range r {
			parts[j] = cell(v, boolInts, exact)
		}
		out[i] = strings.Join(parts, " | ")
	}
	if !ordered {
		slices.Sort(out)
	}
	return out
}

// Cell is one value as Canon prints it.
func Cell(v any, boolInts bool) string { return cell(v, boolInts, false) }

func cell(v any, boolInts, exact bool) string {
	if exact {
		switch x := v.(type) {
		case float64:
			if x == 0 {
				x = 0 // -0 = 0: DISTINCT keeps whichever it met first
			}
			return "d" + strconv.FormatFloat(x, 'g', -1, 64)
		case nil, bool, string, []byte, int64, uint64, int:
		default:
			return value.Describe(v)
		}
	}
	switch x := v.(type) {
	case nil:
		return "NULL"
	case bool:
		if boolInts {
			if x {
				return "1"
			}
			return "0"
		}
		return fmt.Sprint(x)
	case string:
		return fmt.Sprintf("%q", x)
	case []byte:
		return fmt.Sprintf("%q", string(x))
	case int64:
		return fmt.Sprint(x)
	case uint64:
		return fmt.Sprint(x)
	case int:
		return fmt.Sprint(x)
	case float64:
		return Float(x)
	}
	if f, err := value.Cast(v, tuple.TypeDouble); err == nil {
		if d, ok := f.(float64); ok {
			return Float(d)
		}
	}
	return value.Describe(v)
}

// Float prints a double to 9 significant digits; an integral one as an
// integer (SQLite's AVG and picogo's may differ in kind).
func Float(f float64) string {
	if f == 0 {
		f = 0 // no negative zero
	}
	if f == float64(int64(f)) && f < 1e15 && f > -1e15 {
		return fmt.Sprint(int64(f))
	}
	return fmt.Sprintf("%.9g", f)
}

package exec

import (
	"fmt"
	"strings"

	"github.com/picogo/picogo/core/sql/parse"
	"github.com/picogo/picogo/core/tuple"
)

// scopeCol is a column a name can resolve to: the qualifier is the table's
// alias (or name) in FROM, "" for a derived column without one.
type scopeCol struct {
	qual   string
	name   string
	typ    tuple.FieldType
	hidden bool
}

// scope is what names mean where an expression is compiled: the columns of
// the row being evaluated (at positions offset+i of the frame's row), the
// enclosing query's scope for correlated references, and the CTEs in
// sight. agg is set while compiling what is evaluated after grouping.
type scope struct {
	cols []scopeCol
	up   *scope
	agg  *aggCtx
	// level counts the query levels from the statement's (0): a subquery
	// whose names all resolve at its own level or deeper is not
	// correlated, and runs once.
	level int
}

// cte is a WITH query in sight.
type cte struct {
	name string
	rel  *relation
}

// columnRef is a resolved column: depth scopes up, position idx of that
// frame's row.
type columnRef struct {
	depth int
	idx   int
	col   scopeCol
	level int // of the scope it was found in
}

// resolve finds a column by optional qualifier and name, innermost scope
// first. Two matches in one scope are ambiguous.
func (s *scope) resolve(ref *parse.ColumnRef) (columnRef, *tuple.Error) {
	depth := 0
	for sc := s; sc != nil; sc = sc.up {
		found := -1
		for i, c := range sc.cols {
			if c.name != ref.Column || (ref.Table != "" && c.qual != ref.Table) {
				continue
			}
			if found >= 0 {
				return columnRef{}, errAt(ref, tuple.CodeSQLAmbiguousColumn, "column reference %q is ambiguous", refName(ref))
			}
			found = i
		}
		if found >= 0 {
			return columnRef{depth: depth, idx: found, col: sc.cols[found], level: sc.level}, nil
		}
		depth++
	}
	if ref.Table != "" && !s.hasQualifier(ref.Table) {
		return columnRef{}, errAt(ref, tuple.CodeSQLUnknownColumn, "missing FROM-clause entry for table %q", ref.Table)
	}
	return columnRef{}, errAt(ref, tuple.CodeSQLUnknownColumn, "column %q does not exist", refName(ref))
}

func (s *scope) hasQualifier(q string) bool {
	for sc := s; sc != nil; sc = sc.up {
		for _, c := range sc.cols {
			if c.qual == q {
				return true
			}
		}
	}
	return false
}

func refName(ref *parse.ColumnRef) string {
	if ref.Table != "" {
		return ref.Table + "." + ref.Column
	}
	return ref.Column
}

// errAt is an error about node n, naming where it is.
func errAt(n parse.Node, code uint32, format string, args ...any) *tuple.Error {
	p := n.Position()
	msg := fmt.Sprintf(format, args...)
	if p.Line > 0 {
		msg = fmt.Sprintf("%s (line %d, column %d)", msg, p.Line, p.Col)
	}
	return tuple.Errorf(code, "%s", msg)
}

// frame is a row being evaluated and the frames of the enclosing queries'
// rows (correlated subqueries read them).
type frame struct {
	row []any
	up  *frame
	run *runner
}

func (f *frame) at(depth, idx int) any {
	for range depth {
		f = f.up
	}
	return f.row[idx]
}

// nameOf is the name of a projection without an alias: a column's name,
// a function's name, else col_N (Picodata's naming).
func nameOf(e parse.Expr, pos int) string {
	switch x := e.(type) {
	case *parse.ColumnRef:
		return x.Column
	case *parse.FuncCall:
		return strings.ToLower(x.Name)
	case *parse.Cast:
		return nameOf(x.X, pos)
	}
	return fmt.Sprintf("col_%d", pos+1)
}

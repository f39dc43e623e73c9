package exec

import (
	"github.com/picogo/picogo/core/sql/parse"
	"github.com/picogo/picogo/core/tuple"
)

// Description is what a statement takes and returns, found without running
// it: what a client asks before it binds parameters (PostgreSQL's
// Describe).
type Description struct {
	// Params are the types of $1, $2, ...: the type of what each is
	// compared with, assigned to or inserted into; TypeAny where nothing
	// in the statement says.
	Params []tuple.FieldType
	// Query: the statement returns rows, of Columns.
	Query   bool
	Columns []Column
}

// Describe describes stmt, whose parameters are numbered 1..params
// (plan.NumberParams), against cat. It binds what running it would bind,
// so a name that does not resolve is the same error here.
func Describe(cat Catalog, stmt parse.Stmt, params int) (*Description, *tuple.Error) {
	c := newCompiler(cat, Env{})
	c.inferred = make([]tuple.FieldType, params)
	for i := range c.inferred {
		c.inferred[i] = tuple.TypeAny
	}
	d := &Description{}
	switch x := stmt.(type) {
	case *parse.Query:
		rel, err := c.query(&scope{}, x)
		if err != nil {
			return nil, err
		}
		d.Query, d.Columns = true, columnsOf(rel.cols)
	case *parse.Insert:
		if err := c.describeInsert(x); err != nil {
			return nil, err
		}
	case *parse.Update:
		items := make([]*parse.SelectItem, 0, len(x.Set))
		for _, a := range x.Set {
			items = append(items, &parse.SelectItem{Pos: a.Pos, Expr: a.Value})
		}
		t, err := c.describeOver(x.Table, items, x.Where, x)
		if err != nil {
			return nil, err
		}
		for _, a := range x.Set {
			if p, ok := a.Value.(*parse.Param); ok {
				if col, ok := columnNamed(t, a.Column); ok {
					c.infer(p, col.Type)
				}
			}
		}
	case *parse.Delete:
		if _, err := c.describeOver(x.Table, nil, x.Where, x); err != nil {
			return nil, err
		}
	}
	d.Params = c.inferred
	return d, nil
}

// describeInsert binds an INSERT's source; a parameter given as a value
// of a column takes the column's type.
func (c *compiler) describeInsert(x *parse.Insert) *tuple.Error {
	t, ok := c.cat.Table(x.Table)
	if !ok {
		return errAt(x, tuple.CodeSQLUnknownTable, "table %s does not exist", x.Table)
	}
	target := x.Columns
	if len(target) == 0 {
		for _, col := range t.Columns {
			if !col.Hidden {
				target = append(target, col.Name)
			}
		}
	}
	if v, ok := x.Source.Body.(*parse.Values); ok {
		for _, row := range v.Rows {
			for j, e := range row {
				if p, ok := e.(*parse.Param); ok && j < len(target) {
					if col, ok := columnNamed(t, target[j]); ok {
						c.infer(p, col.Type)
					}
				}
			}
		}
	}
	_, err := c.query(&scope{}, x.Source)
	return err
}

// describeOver binds items (none: a constant) and where over table name,
// as an UPDATE or a DELETE evaluates them.
func (c *compiler) describeOver(name string, items []*parse.SelectItem, where parse.Expr, at parse.Node) (*Table, *tuple.Error) {
	t, ok := c.cat.Table(name)
	if !ok {
		return nil, errAt(at, tuple.CodeSQLUnknownTable, "table %s does not exist", name)
	}
	if len(items) == 0 {
		items = []*parse.SelectItem{{Expr: &parse.Bool{Value: true}}}
	}
	sel := &parse.Select{Items: items, From: &parse.TableRef{Name: name}, Where: where}
	_, err := c.query(&scope{}, &parse.Query{Body: sel})
	return t, err
}

func columnNamed(t *Table, name string) (Column, bool) {
	for _, col := range t.Columns {
		if col.Name == name {
			return col, true
		}
	}
	return Column{}, false
}

// infer records that parameter p is used as a value of type typ, when
// describing (the first such use decides).
func (c *compiler) infer(p *parse.Param, typ tuple.FieldType) {
	if c.inferred == nil || p.Index < 1 || p.Index > len(c.inferred) || typ == tuple.TypeAny {
		return
	}
	if c.inferred[p.Index-1] == tuple.TypeAny {
		c.inferred[p.Index-1] = typ
	}
}

// inferPair: a parameter compared with, or combined with, a typed
// expression takes its type.
func (c *compiler) inferPair(l, r parse.Expr, lt, rt tuple.FieldType) {
	if p, ok := l.(*parse.Param); ok {
		c.infer(p, rt)
	}
	if p, ok := r.(*parse.Param); ok {
		c.infer(p, lt)
	}
}

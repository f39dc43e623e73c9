package parse

import (
	"strconv"
	"strings"
)

// Pos is where a node begins in the source text. Offset counts bytes from
// 0; Line and Col count from 1, Col in bytes. A binary or postfix operator
// node sits at its operator, since that is what an error about it names.
type Pos struct {
	Offset, Line, Col int
}

// Node is any piece of the tree.
type Node interface {
	Position() Pos
	String() string
}

// Stmt is a whole statement.
type Stmt interface {
	Node
	stmt()
}

// Expr is a scalar expression.
type Expr interface {
	Node
	expr()
}

// SetExpr is the body of a query: a SELECT, VALUES, a set operation, or a
// parenthesized query.
type SetExpr interface {
	Node
	setExpr()
}

// TableExpr is what FROM reads: a table, a subquery or a join.
type TableExpr interface {
	Node
	tableExpr()
}

func (p Pos) Position() Pos { return p }

// ---- Queries ----

// Query is a query with what applies to its whole result: the WITH list
// before it and ORDER BY, LIMIT, OFFSET after it.
type Query struct {
	Pos
	With    []*CTE
	Body    SetExpr
	OrderBy []*OrderItem
	Limit   Expr // nil if absent
	Offset  Expr // nil if absent
	// Options are the statement's OPTION (...): only a query that is a
	// whole statement has them.
	Options []*Option
}

// CTE is one `name [(cols)] AS (query)` of a WITH.
type CTE struct {
	Pos
	Name    string
	Columns []string
	Query   *Query
}

// OrderItem is one ORDER BY key; ASC is the default, so it is not kept.
type OrderItem struct {
	Pos
	Expr Expr
	Desc bool
}

// Select is one SELECT without ORDER BY and LIMIT (those are the Query's).
type Select struct {
	Pos
	Distinct bool
	Items    []*SelectItem
	From     TableExpr // nil if absent
	Where    Expr
	GroupBy  []Expr
	Having   Expr
}

// SelectItem is one projection: an expression with an optional alias, or a
// Star.
type SelectItem struct {
	Pos
	Expr  Expr
	Alias string // "" if none
}

// SetOp is `Left UNION [ALL] Right` or `Left EXCEPT Right`; chains lean
// left.
type SetOp struct {
	Pos
	Op    string // "UNION" or "EXCEPT"
	All   bool
	Left  SetExpr
	Right SetExpr
}

// Values is `VALUES (...), (...)`.
type Values struct {
	Pos
	Rows [][]Expr
}

// ParenQuery is a query in parentheses used where a SELECT could stand.
type ParenQuery struct {
	Pos
	Query *Query
}

// TableRef names a table in FROM.
type TableRef struct {
	Pos
	Name  string
	Alias string
}

// SubqueryRef is `(query) [AS alias]` in FROM.
type SubqueryRef struct {
	Pos
	Query *Query
	Alias string
}

// Join is `Left [INNER|LEFT] JOIN Right ON On`; chains lean left.
type Join struct {
	Pos
	Left  TableExpr
	Right TableExpr
	Outer bool // LEFT [OUTER] JOIN
	On    Expr
}

// ---- Expressions ----

// ColumnRef is `col` or `table.col`.
type ColumnRef struct {
	Pos
	Table  string // "" if unqualified
	Column string
}

// Star is `*` or `table.*` in a projection.
type Star struct {
	Pos
	Table string
}

// NumberKind tells integers from decimals and floats as written.
type NumberKind int

const (
	Integer NumberKind = iota // digits only; fits in uint64
	Decimal                   // has a point, no exponent
	Float                     // has an exponent
)

// Number is a numeric literal as written; a sign is a Unary around it.
type Number struct {
	Pos
	Raw  string
	Kind NumberKind
}

// StringLit is a string literal; Value is its content with ” undone.
type StringLit struct {
	Pos
	Value string
}

// Bool is TRUE or FALSE.
type Bool struct {
	Pos
	Value bool
}

// Null is NULL.
type Null struct {
	Pos
}

// Param is `$n`, or `?` numbered by its order of appearance in the
// statement (Question keeps how it was written).
type Param struct {
	Pos
	Index    int
	Question bool
}

// Unary is `-x`, `+x` or `NOT x`.
type Unary struct {
	Pos
	Op string
	X  Expr
}

// Binary is a binary operator: OR, AND, a comparison, ||, + - * / %.
type Binary struct {
	Pos
	Op   string
	L, R Expr
}

// IsNull is `x IS [NOT] NULL`.
type IsNull struct {
	Pos
	X   Expr
	Not bool
}

// Between is `x [NOT] BETWEEN lo AND hi`.
type Between struct {
	Pos
	X, Lo, Hi Expr
	Not       bool
}

// In is `x [NOT] IN (list)` or `x [NOT] IN (query)`; exactly one of List
// and Query is set.
type In struct {
	Pos
	X     Expr
	Not   bool
	List  []Expr
	Query *Query
}

// Like is `x [NOT] LIKE|ILIKE pattern [ESCAPE e]`.
type Like struct {
	Pos
	X, Pattern Expr
	Escape     Expr // nil if absent
	Not, ILike bool
}

// FuncCall is `name(args)`, `name(*)` or `name(DISTINCT x)`.
type FuncCall struct {
	Pos
	Name     string
	Distinct bool
	Star     bool
	Args     []Expr
}

// Cast is `CAST(x AS type)`; `x::type` parses to the same node.
type Cast struct {
	Pos
	X    Expr
	Type *Type
}

// Case is `CASE [operand] WHEN ... THEN ... [ELSE ...] END`.
type Case struct {
	Pos
	Operand Expr // nil for a searched CASE
	Whens   []*When
	Else    Expr
}

// When is one `WHEN cond THEN result`.
type When struct {
	Pos
	Cond, Result Expr
}

// Exists is `EXISTS (query)`.
type Exists struct {
	Pos
	Query *Query
}

// Trim is `TRIM([LEADING|TRAILING|BOTH] [chars] FROM x)` or `TRIM(x)`.
type Trim struct {
	Pos
	Kind  string // "", "LEADING", "TRAILING" or "BOTH"
	Chars Expr   // nil if absent
	X     Expr
}

// Substring is `SUBSTRING(x FROM start [FOR length])`; the comma form
// substring(x, a, b) is an ordinary FuncCall.
type Substring struct {
	Pos
	X, From Expr
	For     Expr // nil if absent
}

// Row is a parenthesized list of two or more expressions, `(a, b)`, as in
// `(a, b) IN (SELECT x, y FROM t)`.
type Row struct {
	Pos
	Items []Expr
}

// Subquery is a scalar `(query)`.
type Subquery struct {
	Pos
	Query *Query
}

// Type is a column or cast type: the name in upper case as written (INT
// stays INT, it is not made INTEGER — the binder decides what names mean)
// and the numbers in parentheses, if any.
type Type struct {
	Pos
	Name string
	Args []int
}

// ---- Statements ----

// Insert is `INSERT INTO t [(cols)] query [ON CONFLICT DO ...]`.
type Insert struct {
	Pos
	Table      string
	Columns    []string
	Source     *Query
	OnConflict string // "", "NOTHING", "REPLACE" or "FAIL"
	Options    []*Option
}

// Update is `UPDATE t SET col = expr, ... [WHERE ...]`.
type Update struct {
	Pos
	Table   string
	Set     []*Assignment
	Where   Expr
	Options []*Option
}

// Assignment is one `col = expr` of an UPDATE.
type Assignment struct {
	Pos
	Column string
	Value  Expr
}

// Delete is `DELETE FROM t [WHERE ...]`.
type Delete struct {
	Pos
	Table   string
	Where   Expr
	Options []*Option
}

// Nullability is what a column definition says about NULL.
type Nullability int

const (
	NullUnsaid Nullability = iota
	NotNull
	Nullable
)

// ColumnDef is one column of CREATE TABLE.
type ColumnDef struct {
	Pos
	Name       string
	Type       *Type
	Null       Nullability
	PrimaryKey bool
}

// Option is one `NAME = value` of an OPTION (...) clause; Name is upper
// case.
type Option struct {
	Pos
	Name  string
	Value Expr
}

// Distribution says how a table's rows are spread.
type Distribution int

const (
	DistUnsaid Distribution = iota
	DistSharded
	DistGlobal
)

// CreateTable is CREATE TABLE.
type CreateTable struct {
	Pos
	IfNotExists  bool
	Name         string
	Columns      []*ColumnDef
	PrimaryKey   []string // the table-level PRIMARY KEY (...), if any
	Engine       string   // "", "memtx" or "vinyl"
	Distribution Distribution
	ShardingKey  []string // for DistSharded
	Tier         string   // IN TIER name, for DistSharded
	Options      []*Option
}

// DropTable is DROP TABLE.
type DropTable struct {
	Pos
	IfExists bool
	Name     string
	Options  []*Option
}

// CreateIndex is CREATE [UNIQUE] INDEX.
type CreateIndex struct {
	Pos
	Unique      bool
	IfNotExists bool
	Name        string
	Table       string
	Using       string // "", "tree", "hash", "rtree" or "bitset"
	Columns     []string
	Options     []*Option
}

// DropIndex is DROP INDEX.
type DropIndex struct {
	Pos
	IfExists bool
	Name     string
	Options  []*Option
}

// CreateUser is `CREATE USER [IF NOT EXISTS] name [WITH] PASSWORD 'x'
// [USING method]`; Method is "", "chap-sha1", "md5" or "ldap".
type CreateUser struct {
	Pos
	IfNotExists bool
	Name        string
	Password    string
	Method      string
}

// AlterUser is ALTER USER: a new password, LOGIN, NOLOGIN or a new name.
type AlterUser struct {
	Pos
	Name     string
	Action   string // "PASSWORD", "LOGIN", "NOLOGIN" or "RENAME"
	Password string // for PASSWORD
	Method   string // for PASSWORD, as in CreateUser
	NewName  string // for RENAME
}

// DropUser is DROP USER.
type DropUser struct {
	Pos
	IfExists bool
	Name     string
}

// CreateRole is CREATE ROLE.
type CreateRole struct {
	Pos
	IfNotExists bool
	Name        string
}

// DropRole is DROP ROLE.
type DropRole struct {
	Pos
	IfExists bool
	Name     string
}

// Grant is GRANT or REVOKE of a privilege on an object, or of a role.
// For a privilege, Privilege is upper case and Object one of "TABLE",
// "ALL TABLES", "USER", "ALL USERS", "ROLE", "ALL ROLES", with ObjectName
// for the single ones. For a role, Privilege is "" and Role names it.
type Grant struct {
	Pos
	Revoke     bool
	Privilege  string
	Object     string
	ObjectName string
	Role       string
	Grantee    string
}

// Explain is EXPLAIN of a statement.
type Explain struct {
	Pos
	Stmt Stmt
}

func (*Query) stmt()       {}
func (*Insert) stmt()      {}
func (*Update) stmt()      {}
func (*Delete) stmt()      {}
func (*CreateTable) stmt() {}
func (*DropTable) stmt()   {}
func (*CreateIndex) stmt() {}
func (*DropIndex) stmt()   {}
func (*CreateUser) stmt()  {}
func (*AlterUser) stmt()   {}
func (*DropUser) stmt()    {}
func (*CreateRole) stmt()  {}
func (*DropRole) stmt()    {}
func (*Grant) stmt()       {}
func (*Explain) stmt()     {}

func (*Select) setExpr()     {}
func (*SetOp) setExpr()      {}
func (*Values) setExpr()     {}
func (*ParenQuery) setExpr() {}

func (*TableRef) tableExpr()    {}
func (*SubqueryRef) tableExpr() {}
func (*Join) tableExpr()        {}

func (*ColumnRef) expr() {}
func (*Star) expr()      {}
func (*Number) expr()    {}
func (*StringLit) expr() {}
func (*Bool) expr()      {}
func (*Null) expr()      {}
func (*Param) expr()     {}
func (*Unary) expr()     {}
func (*Binary) expr()    {}
func (*IsNull) expr()    {}
func (*Between) expr()   {}
func (*In) expr()        {}
func (*Like) expr()      {}
func (*FuncCall) expr()  {}
func (*Cast) expr()      {}
func (*Case) expr()      {}
func (*Exists) expr()    {}
func (*Subquery) expr()  {}
func (*Trim) expr()      {}
func (*Substring) expr() {}
func (*Row) expr()       {}

// ---- Printing ----
//
// Every compound expression prints in parentheses, so the printed text
// parses back to the same tree whatever the context, and shows its shape.

// Ident prints a name so that it lexes back to itself: bare when it is a
// plain lower-case word that is not reserved, quoted otherwise.
func Ident(name string) string {
	if plainIdent(name) && !reserved[upperASCII(name)] {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

func plainIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || 'a' <= c && c <= 'z' || i > 0 && '0' <= c && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// quoteString prints a string literal.
func quoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func idents(names []string) string {
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(Ident(n))
	}
	return b.String()
}

func exprs(list []Expr) string {
	var b strings.Builder
	for i, e := range list {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e.String())
	}
	return b.String()
}

func options(opts []*Option) string {
	if len(opts) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(" OPTION (")
	for i, o := range opts {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(o.String())
	}
	b.WriteString(")")
	return b.String()
}

func (q *Query) String() string {
	var b strings.Builder
	if len(q.With) > 0 {
		b.WriteString("WITH ")
		for i, c := range q.With {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c.String())
		}
		b.WriteString(" ")
	}
	b.WriteString(q.Body.String())
	if len(q.OrderBy) > 0 {
		b.WriteString(" ORDER BY ")
		for i, o := range q.OrderBy {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(o.String())
		}
	}
	if q.Limit != nil {
		b.WriteString(" LIMIT " + q.Limit.String())
	}
	if q.Offset != nil {
		b.WriteString(" OFFSET " + q.Offset.String())
	}
	b.WriteString(options(q.Options))
	return b.String()
}

func (c *CTE) String() string {
	s := Ident(c.Name)
	if len(c.Columns) > 0 {
		s += " (" + idents(c.Columns) + ")"
	}
	return s + " AS (" + c.Query.String() + ")"
}

func (o *OrderItem) String() string {
	if o.Desc {
		return o.Expr.String() + " DESC"
	}
	return o.Expr.String()
}

func (s *Select) String() string {
	var b strings.Builder
	b.WriteString("SELECT ")
	if s.Distinct {
		b.WriteString("DISTINCT ")
	}
	for i, it := range s.Items {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(it.String())
	}
	if s.From != nil {
		b.WriteString(" FROM " + s.From.String())
	}
	if s.Where != nil {
		b.WriteString(" WHERE " + s.Where.String())
	}
	if len(s.GroupBy) > 0 {
		b.WriteString(" GROUP BY " + exprs(s.GroupBy))
	}
	if s.Having != nil {
		b.WriteString(" HAVING " + s.Having.String())
	}
	return b.String()
}

func (it *SelectItem) String() string {
	if it.Alias != "" {
		return it.Expr.String() + " AS " + Ident(it.Alias)
	}
	return it.Expr.String()
}

func (s *SetOp) String() string {
	op := s.Op
	if s.All {
		op += " ALL"
	}
	return s.Left.String() + " " + op + " " + s.Right.String()
}

func (v *Values) String() string {
	var b strings.Builder
	b.WriteString("VALUES ")
	for i, r := range v.Rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(" + exprs(r) + ")")
	}
	return b.String()
}

func (p *ParenQuery) String() string { return "(" + p.Query.String() + ")" }

func alias(a string) string {
	if a == "" {
		return ""
	}
	return " AS " + Ident(a)
}

func (t *TableRef) String() string    { return Ident(t.Name) + alias(t.Alias) }
func (t *SubqueryRef) String() string { return "(" + t.Query.String() + ")" + alias(t.Alias) }

func (j *Join) String() string {
	kind := " JOIN "
	if j.Outer {
		kind = " LEFT JOIN "
	}
	return j.Left.String() + kind + j.Right.String() + " ON " + j.On.String()
}

func (c *ColumnRef) String() string {
	if c.Table != "" {
		return Ident(c.Table) + "." + Ident(c.Column)
	}
	return Ident(c.Column)
}

func (s *Star) String() string {
	if s.Table != "" {
		return Ident(s.Table) + ".*"
	}
	return "*"
}

func (n *Number) String() string    { return n.Raw }
func (s *StringLit) String() string { return quoteString(s.Value) }
func (b *Bool) String() string {
	if b.Value {
		return "TRUE"
	}
	return "FALSE"
}
func (*Null) String() string { return "NULL" }
func (p *Param) String() string {
	if p.Question {
		return "?"
	}
	return "$" + strconv.Itoa(p.Index)
}

func (u *Unary) String() string {
	if u.Op == "NOT" {
		return "(NOT " + u.X.String() + ")"
	}
	return "(" + u.Op + u.X.String() + ")"
}

func (b *Binary) String() string {
	return "(" + b.L.String() + " " + b.Op + " " + b.R.String() + ")"
}

func not(n bool) string {
	if n {
		return "NOT "
	}
	return ""
}

func (e *IsNull) String() string { return "(" + e.X.String() + " IS " + not(e.Not) + "NULL)" }

func (e *Between) String() string {
	return "(" + e.X.String() + " " + not(e.Not) + "BETWEEN " + e.Lo.String() + " AND " + e.Hi.String() + ")"
}

func (e *In) String() string {
	inner := exprs(e.List)
	if e.Query != nil {
		inner = e.Query.String()
	}
	return "(" + e.X.String() + " " + not(e.Not) + "IN (" + inner + "))"
}

func (e *Like) String() string {
	op := "LIKE "
	if e.ILike {
		op = "ILIKE "
	}
	s := "(" + e.X.String() + " " + not(e.Not) + op + e.Pattern.String()
	if e.Escape != nil {
		s += " ESCAPE " + e.Escape.String()
	}
	return s + ")"
}

func (f *FuncCall) String() string {
	name := Ident(f.Name)
	if f.Name == "trim" || f.Name == "substring" {
		// Bare, these would read back as the special forms.
		name = `"` + f.Name + `"`
	}
	switch {
	case f.Star:
		return name + "(*)"
	case f.Distinct:
		return name + "(DISTINCT " + exprs(f.Args) + ")"
	}
	return name + "(" + exprs(f.Args) + ")"
}

func (c *Cast) String() string { return "CAST(" + c.X.String() + " AS " + c.Type.String() + ")" }

func (c *Case) String() string {
	var b strings.Builder
	b.WriteString("CASE")
	if c.Operand != nil {
		b.WriteString(" " + c.Operand.String())
	}
	for _, w := range c.Whens {
		b.WriteString(" " + w.String())
	}
	if c.Else != nil {
		b.WriteString(" ELSE " + c.Else.String())
	}
	b.WriteString(" END")
	return b.String()
}

func (w *When) String() string { return "WHEN " + w.Cond.String() + " THEN " + w.Result.String() }

func (e *Exists) String() string   { return "EXISTS (" + e.Query.String() + ")" }
func (e *Subquery) String() string { return "(" + e.Query.String() + ")" }
func (e *Row) String() string      { return "(" + exprs(e.Items) + ")" }

func (e *Trim) String() string {
	var b strings.Builder
	b.WriteString("TRIM(")
	if e.Kind != "" {
		b.WriteString(e.Kind + " ")
	}
	if e.Chars != nil {
		b.WriteString(e.Chars.String() + " ")
	}
	if e.Kind != "" || e.Chars != nil {
		b.WriteString("FROM ")
	}
	b.WriteString(e.X.String() + ")")
	return b.String()
}

func (e *Substring) String() string {
	s := "SUBSTRING(" + e.X.String() + " FROM " + e.From.String()
	if e.For != nil {
		s += " FOR " + e.For.String()
	}
	return s + ")"
}

func (t *Type) String() string {
	if len(t.Args) == 0 {
		return t.Name
	}
	var b strings.Builder
	b.WriteString(t.Name + "(")
	for i, a := range t.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(a))
	}
	b.WriteString(")")
	return b.String()
}

func (s *Insert) String() string {
	out := "INSERT INTO " + Ident(s.Table)
	if len(s.Columns) > 0 {
		out += " (" + idents(s.Columns) + ")"
	}
	out += " " + s.Source.String()
	if s.OnConflict != "" {
		out += " ON CONFLICT DO " + s.OnConflict
	}
	return out + options(s.Options)
}

func (s *Update) String() string {
	var b strings.Builder
	b.WriteString("UPDATE " + Ident(s.Table) + " SET ")
	for i, a := range s.Set {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(a.String())
	}
	if s.Where != nil {
		b.WriteString(" WHERE " + s.Where.String())
	}
	b.WriteString(options(s.Options))
	return b.String()
}

func (a *Assignment) String() string { return Ident(a.Column) + " = " + a.Value.String() }

func (s *Delete) String() string {
	out := "DELETE FROM " + Ident(s.Table)
	if s.Where != nil {
		out += " WHERE " + s.Where.String()
	}
	return out + options(s.Options)
}

func (c *ColumnDef) String() string {
	s := Ident(c.Name) + " " + c.Type.String()
	switch c.Null {
	case NotNull:
		s += " NOT NULL"
	case Nullable:
		s += " NULL"
	}
	if c.PrimaryKey {
		s += " PRIMARY KEY"
	}
	return s
}

func (o *Option) String() string { return o.Name + " = " + o.Value.String() }

func ifNotExists(b bool) string {
	if b {
		return "IF NOT EXISTS "
	}
	return ""
}

func ifExists(b bool) string {
	if b {
		return "IF EXISTS "
	}
	return ""
}

func (s *CreateTable) String() string {
	var b strings.Builder
	b.WriteString("CREATE TABLE " + ifNotExists(s.IfNotExists) + Ident(s.Name) + " (")
	for i, c := range s.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.String())
	}
	if len(s.PrimaryKey) > 0 {
		if len(s.Columns) > 0 {
			b.WriteString(", ")
		}
		b.WriteString("PRIMARY KEY (" + idents(s.PrimaryKey) + ")")
	}
	b.WriteString(")")
	if s.Engine != "" {
		b.WriteString(" USING " + s.Engine)
	}
	switch s.Distribution {
	case DistSharded:
		b.WriteString(" DISTRIBUTED BY (" + idents(s.ShardingKey) + ")")
		if s.Tier != "" {
			b.WriteString(" IN TIER " + Ident(s.Tier))
		}
	case DistGlobal:
		b.WriteString(" DISTRIBUTED GLOBALLY")
	}
	b.WriteString(options(s.Options))
	return b.String()
}

func (s *DropTable) String() string {
	return "DROP TABLE " + ifExists(s.IfExists) + Ident(s.Name) + options(s.Options)
}

func (s *CreateIndex) String() string {
	u := ""
	if s.Unique {
		u = "UNIQUE "
	}
	return "CREATE " + u + "INDEX " + ifNotExists(s.IfNotExists) + Ident(s.Name) +
		" ON " + Ident(s.Table) + method(s.Using) + " (" + idents(s.Columns) + ")" + options(s.Options)
}

func (s *DropIndex) String() string {
	return "DROP INDEX " + ifExists(s.IfExists) + Ident(s.Name) + options(s.Options)
}

func method(m string) string {
	if m == "" {
		return ""
	}
	return " USING " + m
}

func (s *CreateUser) String() string {
	return "CREATE USER " + ifNotExists(s.IfNotExists) + Ident(s.Name) + " WITH PASSWORD " +
		quoteString(s.Password) + method(s.Method)
}

func (s *AlterUser) String() string {
	if s.Action == "RENAME" {
		return "ALTER USER " + Ident(s.Name) + " RENAME TO " + Ident(s.NewName)
	}
	if s.Action == "PASSWORD" {
		return "ALTER USER " + Ident(s.Name) + " WITH PASSWORD " + quoteString(s.Password) + method(s.Method)
	}
	return "ALTER USER " + Ident(s.Name) + " WITH " + s.Action
}

func (s *DropUser) String() string { return "DROP USER " + ifExists(s.IfExists) + Ident(s.Name) }
func (s *CreateRole) String() string {
	return "CREATE ROLE " + ifNotExists(s.IfNotExists) + Ident(s.Name)
}
func (s *DropRole) String() string { return "DROP ROLE " + ifExists(s.IfExists) + Ident(s.Name) }

func (s *Grant) String() string {
	verb, prep := "GRANT ", " TO "
	if s.Revoke {
		verb, prep = "REVOKE ", " FROM "
	}
	if s.Privilege == "" {
		return verb + Ident(s.Role) + prep + Ident(s.Grantee)
	}
	obj := s.Object
	if s.ObjectName != "" {
		obj += " " + Ident(s.ObjectName)
	}
	return verb + s.Privilege + " ON " + obj + prep + Ident(s.Grantee)
}

func (s *Explain) String() string { return "EXPLAIN " + s.Stmt.String() }

package parse

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// reserved words cannot be bare names: they would make the grammar
// ambiguous (an alias without AS, a column named FROM). Quoted, they can.
var reserved = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`ALL AND AS ASC BETWEEN BOTH BY CASE CAST CREATE
		DELETE DESC DISTINCT DISTRIBUTED DROP ELSE END ESCAPE EXCEPT EXISTS
		EXPLAIN FALSE FROM FULL GRANT GROUP HAVING ILIKE IN INNER INSERT INTO IS
		JOIN LEADING LEFT LIKE LIMIT NOT NULL OFFSET ON OPTION OR ORDER OUTER REVOKE
		RIGHT SELECT SET TABLE THEN TO TRAILING TRUE UNION UPDATE USING VALUES WHEN
		WHERE WITH`) {
		reserved[w] = true
	}
}

// maxDepth bounds the parser's recursion, so that hostile input gets an
// error rather than exhausting the stack. maxTreeDepth bounds the depth of
// the tree a statement parses to: the printer parenthesizes, so a tree's
// printed form can nest more than the text it came from (NOT NOT x prints
// as (NOT (NOT x))), and it must stay within maxDepth to parse back. Each
// level of a tree costs at most two levels of recursion to parse from its
// printed form.
const (
	maxDepth     = 10000
	maxTreeDepth = 4000
)

// Parse parses statements separated by semicolons; empty statements (a
// trailing semicolon, say) are skipped.
func Parse(src string) ([]Stmt, error) {
	toks, lerr := lex(src)
	if lerr != nil {
		return nil, lerr
	}
	p := &parser{toks: toks}
	var stmts []Stmt
	err := p.guard(func() {
		for {
			for p.isPunct(";") {
				p.pos++
			}
			if p.peek().kind == tEOF {
				return
			}
			p.qmarks = 0
			at := p.peek().pos
			s := p.statement()
			if treeDepth(reflect.ValueOf(s), 0) > maxTreeDepth {
				p.errorAt(at, "statement nests too deep")
			}
			stmts = append(stmts, s)
			if p.peek().kind != tEOF && !p.isPunct(";") {
				p.fail(`";" or end of input`)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return stmts, nil
}

// ParseOne parses exactly one statement (a trailing semicolon allowed).
func ParseOne(src string) (Stmt, error) {
	stmts, err := Parse(src)
	if err != nil {
		return nil, err
	}
	if len(stmts) != 1 {
		return nil, &Error{Pos{Line: 1, Col: 1}, fmt.Sprintf("expected one statement, found %d", len(stmts))}
	}
	return stmts[0], nil
}

// ParseExpr parses a lone expression.
func ParseExpr(src string) (Expr, error) {
	toks, lerr := lex(src)
	if lerr != nil {
		return nil, lerr
	}
	p := &parser{toks: toks}
	var e Expr
	err := p.guard(func() {
		e = p.expr()
		if p.peek().kind != tEOF {
			p.fail("end of input")
		}
		if treeDepth(reflect.ValueOf(e), 0) > maxTreeDepth {
			p.errorAt(e.Position(), "expression nests too deep")
		}
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// treeDepth measures how deep nodes nest below v, counting each pointer
// to a node; it stops counting past maxTreeDepth.
func treeDepth(v reflect.Value, d int) int {
	if d > maxTreeDepth {
		return d
	}
	switch v.Kind() {
	case reflect.Interface:
		if !v.IsNil() {
			return treeDepth(v.Elem(), d)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			return treeDepth(v.Elem(), d+1)
		}
	case reflect.Slice:
		max := d
		for i := 0; i < v.Len(); i++ {
			max = maxInt(max, treeDepth(v.Index(i), d))
		}
		return max
	case reflect.Struct:
		max := d
		for i := 0; i < v.NumField(); i++ {
			max = maxInt(max, treeDepth(v.Field(i), d))
		}
		return max
	}
	return d
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

type parser struct {
	toks   []token
	pos    int
	depth  int
	qmarks int // ? seen so far in this statement
}

// bail carries a syntax error up the recursive descent; guard turns it
// back into an error value. Any other panic is a bug and goes on.
type bail struct{ err *Error }

func (p *parser) guard(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bail)
			if !ok {
				panic(r)
			}
			err = b.err
		}
	}()
	f()
	return nil
}

func (p *parser) errorAt(pos Pos, msg string) {
	panic(bail{&Error{pos, msg}})
}

// fail reports that want was expected where the current token is.
func (p *parser) fail(want string) {
	t := p.peek()
	p.errorAt(t.pos, "expected "+want+", found "+describe(t))
}

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of input"
	case tString:
		return strconv.Quote(clip(quoteString(t.text)))
	case tQIdent:
		return strconv.Quote(clip(Ident(t.text)))
	case tParam:
		return strconv.Quote("$" + t.text)
	}
	return strconv.Quote(clip(t.text))
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func (p *parser) enter() {
	p.depth++
	if p.depth > maxDepth {
		p.errorAt(p.peek().pos, "nesting too deep")
	}
}

func (p *parser) leave() { p.depth-- }

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) peekAt(k int) token {
	if p.pos+k < len(p.toks) {
		return p.toks[p.pos+k]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) advance() token {
	t := p.toks[p.pos]
	if t.kind != tEOF {
		p.pos++
	}
	return t
}

// isKw reports whether t is the keyword kw (given in upper case). Only
// ASCII letters fold: no Unicode look-alike spells a keyword.
func isKw(t token, kw string) bool { return t.kind == tIdent && upperASCII(t.text) == kw }

func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func (p *parser) isKw(kw string) bool { return isKw(p.peek(), kw) }

func (p *parser) isPunct(op string) bool {
	t := p.peek()
	return t.kind == tPunct && t.text == op
}

// acceptKw consumes kw if it is next.
func (p *parser) acceptKw(kw string) bool {
	if p.isKw(kw) {
		p.pos++
		return true
	}
	return false
}

func (p *parser) acceptPunct(op string) bool {
	if p.isPunct(op) {
		p.pos++
		return true
	}
	return false
}

func (p *parser) expectKw(kws ...string) token {
	for _, kw := range kws {
		if !p.isKw(kw) {
			p.fail(kw)
		}
		p.pos++
	}
	return p.toks[p.pos-1]
}

func (p *parser) expectPunct(op string) token {
	if !p.isPunct(op) {
		p.fail(strconv.Quote(op))
	}
	return p.advance()
}

// isName reports whether t can be a name: quoted, or a word not reserved.
func isName(t token) bool {
	return t.kind == tQIdent || t.kind == tIdent && !reserved[upperASCII(t.text)]
}

// name reads an identifier, folding an unquoted one to lower case.
func (p *parser) name(what string) string {
	t := p.peek()
	if !isName(t) {
		p.fail(what)
	}
	p.pos++
	if t.kind == tQIdent {
		return t.text
	}
	return strings.ToLower(t.text)
}

func (p *parser) nameList(what string) []string {
	p.expectPunct("(")
	var names []string
	for {
		names = append(names, p.name(what))
		if !p.acceptPunct(",") {
			break
		}
	}
	p.expectPunct(")")
	return names
}

// ---- Statements ----

func (p *parser) statement() Stmt {
	t := p.peek()
	switch {
	case isKw(t, "SELECT"), isKw(t, "VALUES"), isKw(t, "WITH"), t.kind == tPunct && t.text == "(":
		q := p.query()
		q.Options = p.options()
		return q
	case isKw(t, "INSERT"):
		return p.insert()
	case isKw(t, "UPDATE"):
		return p.update()
	case isKw(t, "DELETE"):
		return p.delete()
	case isKw(t, "CREATE"):
		return p.create()
	case isKw(t, "DROP"):
		return p.drop()
	case isKw(t, "ALTER"):
		return p.alterUser()
	case isKw(t, "GRANT"), isKw(t, "REVOKE"):
		return p.grant()
	case isKw(t, "EXPLAIN"):
		p.pos++
		p.enter()
		defer p.leave()
		return &Explain{Pos: t.pos, Stmt: p.statement()}
	}
	p.fail("statement")
	return nil
}

func (p *parser) insert() Stmt {
	s := &Insert{Pos: p.expectKw("INSERT").pos}
	p.expectKw("INTO")
	s.Table = p.name("table name")
	if p.isPunct("(") && !p.startsQuery(p.peekAt(1)) {
		s.Columns = p.nameList("column name")
	}
	s.Source = p.query()
	if p.acceptKw("ON") {
		p.expectKw("CONFLICT", "DO")
		switch {
		case p.acceptKw("NOTHING"):
			s.OnConflict = "NOTHING"
		case p.acceptKw("REPLACE"):
			s.OnConflict = "REPLACE"
		case p.acceptKw("FAIL"):
			s.OnConflict = "FAIL"
		default:
			p.fail("NOTHING, REPLACE or FAIL")
		}
	}
	s.Options = p.options()
	return s
}

// startsQuery reports whether t begins a query rather than a list or an
// expression.
func (p *parser) startsQuery(t token) bool {
	return isKw(t, "SELECT") || isKw(t, "VALUES") || isKw(t, "WITH")
}

func (p *parser) update() Stmt {
	s := &Update{Pos: p.expectKw("UPDATE").pos}
	s.Table = p.name("table name")
	p.expectKw("SET")
	for {
		a := &Assignment{Pos: p.peek().pos}
		a.Column = p.name("column name")
		p.expectPunct("=")
		a.Value = p.expr()
		s.Set = append(s.Set, a)
		if !p.acceptPunct(",") {
			break
		}
	}
	if p.acceptKw("WHERE") {
		s.Where = p.expr()
	}
	s.Options = p.options()
	return s
}

func (p *parser) delete() Stmt {
	s := &Delete{Pos: p.expectKw("DELETE").pos}
	p.expectKw("FROM")
	s.Table = p.name("table name")
	if p.acceptKw("WHERE") {
		s.Where = p.expr()
	}
	s.Options = p.options()
	return s
}

func (p *parser) ifNotExists() bool {
	if p.acceptKw("IF") {
		p.expectKw("NOT", "EXISTS")
		return true
	}
	return false
}

func (p *parser) ifExists() bool {
	if p.acceptKw("IF") {
		p.expectKw("EXISTS")
		return true
	}
	return false
}

func (p *parser) create() Stmt {
	at := p.expectKw("CREATE").pos
	switch {
	case p.acceptKw("TABLE"):
		return p.createTable(at)
	case p.acceptKw("UNIQUE"):
		p.expectKw("INDEX")
		return p.createIndex(at, true)
	case p.acceptKw("INDEX"):
		return p.createIndex(at, false)
	case p.acceptKw("USER"):
		s := &CreateUser{Pos: at, IfNotExists: p.ifNotExists(), Name: p.name("user name")}
		p.acceptKw("WITH")
		s.Password, s.Method = p.password()
		return s
	case p.acceptKw("ROLE"):
		return &CreateRole{Pos: at, IfNotExists: p.ifNotExists(), Name: p.name("role name")}
	}
	p.fail("TABLE, INDEX, USER or ROLE")
	return nil
}

// password reads `PASSWORD 'x' [USING method]`.
func (p *parser) password() (pw, method string) {
	p.expectKw("PASSWORD")
	t := p.peek()
	if t.kind != tString {
		p.fail("password string")
	}
	p.pos++
	if p.acceptKw("USING") {
		switch {
		case p.acceptKw("CHAP"):
			p.expectPunct("-")
			p.expectKw("SHA1")
			method = "chap-sha1"
		case p.acceptKw("MD5"):
			method = "md5"
		case p.acceptKw("LDAP"):
			method = "ldap"
		default:
			p.fail("chap-sha1, md5 or ldap")
		}
	}
	return t.text, method
}

func (p *parser) createTable(at Pos) Stmt {
	s := &CreateTable{Pos: at, IfNotExists: p.ifNotExists()}
	s.Name = p.name("table name")
	p.expectPunct("(")
	for {
		if p.isKw("PRIMARY") && isKw(p.peekAt(1), "KEY") {
			if s.PrimaryKey != nil {
				p.errorAt(p.peek().pos, "more than one table-level PRIMARY KEY")
			}
			p.pos += 2
			s.PrimaryKey = p.nameList("column name")
		} else {
			s.Columns = append(s.Columns, p.columnDef())
		}
		if !p.acceptPunct(",") {
			break
		}
	}
	p.expectPunct(")")
	if p.acceptKw("USING") {
		switch {
		case p.acceptKw("MEMTX"):
			s.Engine = "memtx"
		case p.acceptKw("VINYL"):
			s.Engine = "vinyl"
		default:
			p.fail("memtx or vinyl")
		}
	}
	if p.acceptKw("DISTRIBUTED") {
		switch {
		case p.acceptKw("GLOBALLY"):
			s.Distribution = DistGlobal
		case p.acceptKw("BY"):
			s.Distribution = DistSharded
			s.ShardingKey = p.nameList("column name")
			if p.acceptKw("IN") {
				p.expectKw("TIER")
				s.Tier = p.name("tier name")
			}
		default:
			p.fail("BY or GLOBALLY")
		}
	}
	s.Options = p.options()
	return s
}

func (p *parser) columnDef() *ColumnDef {
	c := &ColumnDef{Pos: p.peek().pos}
	c.Name = p.name("column name or PRIMARY KEY")
	c.Type = p.typeName()
	switch {
	case p.isKw("NOT"):
		p.expectKw("NOT", "NULL")
		c.Null = NotNull
	case p.acceptKw("NULL"):
		c.Null = Nullable
	}
	if p.acceptKw("PRIMARY") {
		p.expectKw("KEY")
		c.PrimaryKey = true
	}
	return c
}

// options reads an optional `OPTION (NAME = value, ...)`.
func (p *parser) options() []*Option {
	if !p.acceptKw("OPTION") {
		return nil
	}
	p.expectPunct("(")
	var opts []*Option
	for {
		t := p.peek()
		if t.kind != tIdent || !plainIdent(strings.ToLower(t.text)) {
			p.fail("option name")
		}
		p.pos++
		p.expectPunct("=")
		v := p.peek()
		var val Expr
		switch v.kind {
		case tNumber, tParam, tQMark:
			val = p.primary()
		default:
			p.fail("number or parameter")
		}
		opts = append(opts, &Option{Pos: t.pos, Name: upperASCII(t.text), Value: val})
		if !p.acceptPunct(",") {
			break
		}
	}
	p.expectPunct(")")
	return opts
}

func (p *parser) createIndex(at Pos, unique bool) Stmt {
	s := &CreateIndex{Pos: at, Unique: unique, IfNotExists: p.ifNotExists()}
	s.Name = p.name("index name")
	p.expectKw("ON")
	s.Table = p.name("table name")
	if p.acceptKw("USING") {
		for _, m := range []string{"TREE", "HASH", "RTREE", "BITSET"} {
			if p.acceptKw(m) {
				s.Using = strings.ToLower(m)
				break
			}
		}
		if s.Using == "" {
			p.fail("tree, hash, rtree or bitset")
		}
	}
	s.Columns = p.nameList("column name")
	s.Options = p.options()
	return s
}

func (p *parser) drop() Stmt {
	at := p.expectKw("DROP").pos
	switch {
	case p.acceptKw("TABLE"):
		s := &DropTable{Pos: at, IfExists: p.ifExists(), Name: p.name("table name")}
		s.Options = p.options()
		return s
	case p.acceptKw("INDEX"):
		s := &DropIndex{Pos: at, IfExists: p.ifExists(), Name: p.name("index name")}
		s.Options = p.options()
		return s
	case p.acceptKw("USER"):
		return &DropUser{Pos: at, IfExists: p.ifExists(), Name: p.name("user name")}
	case p.acceptKw("ROLE"):
		return &DropRole{Pos: at, IfExists: p.ifExists(), Name: p.name("role name")}
	}
	p.fail("TABLE, INDEX, USER or ROLE")
	return nil
}

func (p *parser) alterUser() Stmt {
	at := p.expectKw("ALTER").pos
	p.expectKw("USER")
	s := &AlterUser{Pos: at, Name: p.name("user name")}
	p.acceptKw("WITH")
	switch {
	case p.acceptKw("LOGIN"):
		s.Action = "LOGIN"
	case p.acceptKw("NOLOGIN"):
		s.Action = "NOLOGIN"
	case p.acceptKw("RENAME"):
		p.expectKw("TO")
		s.Action, s.NewName = "RENAME", p.name("user name")
	case p.isKw("PASSWORD"):
		s.Action = "PASSWORD"
		s.Password, s.Method = p.password()
	default:
		p.fail("PASSWORD, LOGIN, NOLOGIN or RENAME")
	}
	return s
}

// privileges are Picodata's; the SQL-standard table verbs are not among
// them (Picodata reads and writes tables with READ and WRITE).
var privileges = []string{"READ", "WRITE", "CREATE", "ALTER", "DROP", "SESSION", "USAGE", "EXECUTE"}

func (p *parser) grant() Stmt {
	t := p.advance()
	s := &Grant{Pos: t.pos, Revoke: isKw(t, "REVOKE")}
	// A privilege is followed by ON; anything else is a role's name.
	if isKw(p.peekAt(1), "ON") && p.peek().kind == tIdent {
		for _, pr := range privileges {
			if p.isKw(pr) {
				s.Privilege = pr
			}
		}
		if s.Privilege == "" {
			p.fail("privilege")
		}
		p.pos++
		p.expectKw("ON")
		switch {
		case p.acceptKw("ALL"):
			switch {
			case p.acceptKw("TABLES"):
				s.Object = "ALL TABLES"
			case p.acceptKw("USERS"):
				s.Object = "ALL USERS"
			case p.acceptKw("ROLES"):
				s.Object = "ALL ROLES"
			default:
				p.fail("TABLES, USERS or ROLES")
			}
		case p.acceptKw("TABLE"):
			s.Object, s.ObjectName = "TABLE", p.name("table name")
		case p.acceptKw("USER"):
			s.Object, s.ObjectName = "USER", p.name("user name")
		case p.acceptKw("ROLE"):
			s.Object, s.ObjectName = "ROLE", p.name("role name")
		default:
			p.fail("TABLE, USER, ROLE or ALL")
		}
	} else {
		s.Role = p.name("privilege or role name")
	}
	if s.Revoke {
		p.expectKw("FROM")
	} else {
		p.expectKw("TO")
	}
	s.Grantee = p.name("user or role name")
	return s
}

// ---- Queries ----

func (p *parser) query() *Query {
	p.enter()
	defer p.leave()
	q := &Query{Pos: p.peek().pos}
	if p.acceptKw("WITH") {
		for {
			c := &CTE{Pos: p.peek().pos}
			c.Name = p.name("name of a WITH query")
			if p.isPunct("(") {
				c.Columns = p.nameList("column name")
			}
			p.expectKw("AS")
			p.expectPunct("(")
			c.Query = p.query()
			p.expectPunct(")")
			q.With = append(q.With, c)
			if !p.acceptPunct(",") {
				break
			}
		}
	}
	q.Body = p.setOperand()
	for {
		t := p.peek()
		var op string
		switch {
		case isKw(t, "UNION"):
			op = "UNION"
		case isKw(t, "EXCEPT"):
			op = "EXCEPT"
		default:
		}
		if op == "" {
			break
		}
		p.pos++
		s := &SetOp{Pos: t.pos, Op: op, Left: q.Body}
		if op == "UNION" {
			s.All = p.acceptKw("ALL")
		} else {
			p.acceptKw("DISTINCT")
		}
		s.Right = p.setOperand()
		q.Body = s
	}
	if p.acceptKw("ORDER") {
		p.expectKw("BY")
		for {
			o := &OrderItem{Pos: p.peek().pos, Expr: p.expr()}
			if p.acceptKw("DESC") {
				o.Desc = true
			} else {
				p.acceptKw("ASC")
			}
			q.OrderBy = append(q.OrderBy, o)
			if !p.acceptPunct(",") {
				break
			}
		}
	}
	if p.acceptKw("LIMIT") {
		q.Limit = p.expr()
	}
	if p.acceptKw("OFFSET") {
		q.Offset = p.expr()
	}
	return q
}

func (p *parser) setOperand() SetExpr {
	t := p.peek()
	switch {
	case isKw(t, "SELECT"):
		return p.selectCore()
	case isKw(t, "VALUES"):
		p.pos++
		v := &Values{Pos: t.pos}
		for {
			v.Rows = append(v.Rows, p.exprList())
			if !p.acceptPunct(",") {
				break
			}
		}
		return v
	case t.kind == tPunct && t.text == "(":
		p.pos++
		pq := &ParenQuery{Pos: t.pos, Query: p.query()}
		p.expectPunct(")")
		return pq
	}
	p.fail("SELECT, VALUES or \"(\"")
	return nil
}

// exprList reads `(e, ...)`.
func (p *parser) exprList() []Expr {
	p.expectPunct("(")
	var list []Expr
	for {
		list = append(list, p.expr())
		if !p.acceptPunct(",") {
			break
		}
	}
	p.expectPunct(")")
	return list
}

func (p *parser) selectCore() *Select {
	s := &Select{Pos: p.expectKw("SELECT").pos}
	if p.acceptKw("DISTINCT") {
		s.Distinct = true
	} else {
		p.acceptKw("ALL")
	}
	for {
		s.Items = append(s.Items, p.selectItem())
		if !p.acceptPunct(",") {
			break
		}
	}
	if p.acceptKw("FROM") {
		s.From = p.from()
	}
	if p.acceptKw("WHERE") {
		s.Where = p.expr()
	}
	if p.acceptKw("GROUP") {
		p.expectKw("BY")
		for {
			s.GroupBy = append(s.GroupBy, p.expr())
			if !p.acceptPunct(",") {
				break
			}
		}
	}
	if p.acceptKw("HAVING") {
		s.Having = p.expr()
	}
	return s
}

func (p *parser) selectItem() *SelectItem {
	t := p.peek()
	it := &SelectItem{Pos: t.pos}
	if t.kind == tPunct && t.text == "*" {
		p.pos++
		it.Expr = &Star{Pos: t.pos}
		return it
	}
	if isName(t) && p.peekAt(1).kind == tPunct && p.peekAt(1).text == "." &&
		p.peekAt(2).kind == tPunct && p.peekAt(2).text == "*" {
		it.Expr = &Star{Pos: t.pos, Table: p.name("table name")}
		p.pos += 2
		return it
	}
	it.Expr = p.expr()
	it.Alias = p.alias()
	return it
}

// alias reads `[AS] name`, or nothing.
func (p *parser) alias() string {
	if p.acceptKw("AS") {
		return p.name("alias")
	}
	if isName(p.peek()) {
		return p.name("alias")
	}
	return ""
}

func (p *parser) from() TableExpr {
	left := p.tablePrimary()
	for {
		t := p.peek()
		outer := false
		switch {
		case p.acceptKw("JOIN"):
		case p.acceptKw("INNER"):
			p.expectKw("JOIN")
		case p.acceptKw("LEFT"):
			p.acceptKw("OUTER")
			p.expectKw("JOIN")
			outer = true
		default:
			return left
		}
		j := &Join{Pos: t.pos, Left: left, Outer: outer}
		j.Right = p.tablePrimary()
		p.expectKw("ON")
		j.On = p.expr()
		left = j
	}
}

func (p *parser) tablePrimary() TableExpr {
	t := p.peek()
	if t.kind == tPunct && t.text == "(" {
		p.pos++
		r := &SubqueryRef{Pos: t.pos, Query: p.query()}
		p.expectPunct(")")
		r.Alias = p.alias()
		return r
	}
	r := &TableRef{Pos: t.pos, Name: p.name("table name or \"(\"")}
	r.Alias = p.alias()
	return r
}

// ---- Expressions, lowest precedence first ----

func (p *parser) expr() Expr {
	p.enter()
	defer p.leave()
	return p.or()
}

func (p *parser) or() Expr {
	l := p.and()
	for p.isKw("OR") {
		t := p.advance()
		l = &Binary{Pos: t.pos, Op: "OR", L: l, R: p.and()}
	}
	return l
}

func (p *parser) and() Expr {
	l := p.not()
	for p.isKw("AND") {
		t := p.advance()
		l = &Binary{Pos: t.pos, Op: "AND", L: l, R: p.not()}
	}
	return l
}

func (p *parser) not() Expr {
	if p.isKw("NOT") {
		t := p.advance()
		p.enter()
		defer p.leave()
		return &Unary{Pos: t.pos, Op: "NOT", X: p.not()}
	}
	return p.comparison()
}

var comparisons = []string{"=", "<>", "!=", "<", "<=", ">", ">="}

// comparison reads the comparison level: operators and the IS, BETWEEN,
// IN and LIKE forms, chained to the left.
func (p *parser) comparison() Expr {
	l := p.concat()
	for {
		t := p.peek()
		switch {
		case t.kind == tPunct && contains(comparisons, t.text):
			p.pos++
			l = &Binary{Pos: t.pos, Op: t.text, L: l, R: p.concat()}
			continue
		case isKw(t, "IS"):
			p.pos++
			e := &IsNull{Pos: t.pos, X: l, Not: p.acceptKw("NOT")}
			p.expectKw("NULL")
			l = e
			continue
		}
		not := false
		if isKw(t, "NOT") {
			next := p.peekAt(1)
			if !isKw(next, "BETWEEN") && !isKw(next, "IN") && !isKw(next, "LIKE") && !isKw(next, "ILIKE") {
				return l
			}
			p.pos++
			not = true
		}
		op := p.peek()
		switch {
		case isKw(op, "BETWEEN"):
			p.pos++
			e := &Between{Pos: t.pos, X: l, Not: not, Lo: p.concat()}
			p.expectKw("AND")
			e.Hi = p.concat()
			l = e
		case isKw(op, "IN"):
			p.pos++
			e := &In{Pos: t.pos, X: l, Not: not}
			if p.isPunct("(") && p.startsQuery(p.peekAt(1)) {
				p.pos++
				e.Query = p.query()
				p.expectPunct(")")
			} else {
				e.List = p.exprList()
			}
			l = e
		case isKw(op, "LIKE"), isKw(op, "ILIKE"):
			p.pos++
			e := &Like{Pos: t.pos, X: l, Not: not, ILike: isKw(op, "ILIKE"), Pattern: p.concat()}
			if p.acceptKw("ESCAPE") {
				e.Escape = p.concat()
			}
			l = e
		default:
			return l
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (p *parser) concat() Expr {
	l := p.additive()
	for p.isPunct("||") {
		t := p.advance()
		l = &Binary{Pos: t.pos, Op: "||", L: l, R: p.additive()}
	}
	return l
}

func (p *parser) additive() Expr {
	l := p.multiplicative()
	for p.isPunct("+") || p.isPunct("-") {
		t := p.advance()
		l = &Binary{Pos: t.pos, Op: t.text, L: l, R: p.multiplicative()}
	}
	return l
}

func (p *parser) multiplicative() Expr {
	l := p.unary()
	for p.isPunct("*") || p.isPunct("/") || p.isPunct("%") {
		t := p.advance()
		l = &Binary{Pos: t.pos, Op: t.text, L: l, R: p.unary()}
	}
	return l
}

func (p *parser) unary() Expr {
	if p.isPunct("-") || p.isPunct("+") {
		t := p.advance()
		p.enter()
		defer p.leave()
		return &Unary{Pos: t.pos, Op: t.text, X: p.unary()}
	}
	x := p.primary()
	for p.isPunct("::") {
		t := p.advance()
		x = &Cast{Pos: t.pos, X: x, Type: p.typeName()}
	}
	return x
}

func (p *parser) primary() Expr {
	t := p.peek()
	switch t.kind {
	case tNumber:
		p.pos++
		kind := Integer
		if strings.ContainsAny(t.text, "eE") {
			kind = Float
		} else if strings.Contains(t.text, ".") {
			kind = Decimal
		}
		return &Number{Pos: t.pos, Raw: t.text, Kind: kind}
	case tString:
		p.pos++
		return &StringLit{Pos: t.pos, Value: t.text}
	case tParam:
		p.pos++
		n, _ := strconv.Atoi(t.text) // the lexer checked the range
		return &Param{Pos: t.pos, Index: n}
	case tQMark:
		p.pos++
		p.qmarks++
		return &Param{Pos: t.pos, Index: p.qmarks, Question: true}
	case tPunct:
		if t.text != "(" {
			break
		}
		p.pos++
		if p.startsQuery(p.peek()) {
			s := &Subquery{Pos: t.pos, Query: p.query()}
			p.expectPunct(")")
			return s
		}
		e := p.expr()
		if p.isPunct(",") {
			r := &Row{Pos: t.pos, Items: []Expr{e}}
			for p.acceptPunct(",") {
				r.Items = append(r.Items, p.expr())
			}
			e = r
		}
		p.expectPunct(")")
		return e
	case tIdent:
		switch upperASCII(t.text) {
		case "TRUE", "FALSE":
			p.pos++
			return &Bool{Pos: t.pos, Value: isKw(t, "TRUE")}
		case "NULL":
			p.pos++
			return &Null{Pos: t.pos}
		case "CAST":
			p.pos++
			p.expectPunct("(")
			c := &Cast{Pos: t.pos, X: p.expr()}
			p.expectKw("AS")
			c.Type = p.typeName()
			p.expectPunct(")")
			return c
		case "CASE":
			return p.caseExpr()
		case "EXISTS":
			p.pos++
			p.expectPunct("(")
			e := &Exists{Pos: t.pos, Query: p.query()}
			p.expectPunct(")")
			return e
		}
	}
	if !isName(t) {
		p.fail("expression")
	}
	first := p.name("expression")
	switch {
	case first == "trim" && t.kind == tIdent && p.isPunct("("):
		return p.trim(t.pos)
	case first == "substring" && t.kind == tIdent && p.isPunct("("):
		return p.substring(t.pos)
	case p.isPunct("("):
		return p.call(t.pos, first)
	case p.isPunct("."):
		p.pos++
		return &ColumnRef{Pos: t.pos, Table: first, Column: p.name("column name")}
	}
	return &ColumnRef{Pos: t.pos, Column: first}
}

// trim reads what follows TRIM: ([LEADING|TRAILING|BOTH] [chars] FROM x)
// or (x).
func (p *parser) trim(at Pos) Expr {
	p.expectPunct("(")
	e := &Trim{Pos: at}
	for _, k := range []string{"LEADING", "TRAILING", "BOTH"} {
		if p.acceptKw(k) {
			e.Kind = k
			break
		}
	}
	if !p.acceptKw("FROM") {
		x := p.expr()
		if p.acceptKw("FROM") {
			e.Chars = x
		} else if e.Kind != "" {
			p.fail("FROM")
		} else {
			e.X = x
		}
	}
	if e.X == nil {
		e.X = p.expr()
	}
	p.expectPunct(")")
	return e
}

// substring reads SUBSTRING(x FROM a [FOR b]), or the plain call
// substring(x, ...).
func (p *parser) substring(at Pos) Expr {
	p.expectPunct("(")
	if p.acceptPunct(")") {
		return &FuncCall{Pos: at, Name: "substring"}
	}
	x := p.expr()
	if p.acceptKw("FROM") {
		e := &Substring{Pos: at, X: x, From: p.expr()}
		if p.acceptKw("FOR") {
			e.For = p.expr()
		}
		p.expectPunct(")")
		return e
	}
	f := &FuncCall{Pos: at, Name: "substring", Args: []Expr{x}}
	for p.acceptPunct(",") {
		f.Args = append(f.Args, p.expr())
	}
	p.expectPunct(")")
	return f
}

func (p *parser) call(at Pos, name string) Expr {
	p.expectPunct("(")
	f := &FuncCall{Pos: at, Name: name}
	switch {
	case p.acceptPunct(")"):
		return f
	case p.isPunct("*") && p.peekAt(1).kind == tPunct && p.peekAt(1).text == ")":
		p.pos += 2
		f.Star = true
		return f
	case p.acceptKw("DISTINCT"):
		f.Distinct = true
	}
	for {
		f.Args = append(f.Args, p.expr())
		if !p.acceptPunct(",") {
			break
		}
	}
	p.expectPunct(")")
	return f
}

func (p *parser) caseExpr() Expr {
	c := &Case{Pos: p.expectKw("CASE").pos}
	if !p.isKw("WHEN") {
		c.Operand = p.expr()
	}
	for p.isKw("WHEN") {
		w := &When{Pos: p.advance().pos, Cond: p.expr()}
		p.expectKw("THEN")
		w.Result = p.expr()
		c.Whens = append(c.Whens, w)
	}
	if len(c.Whens) == 0 {
		p.fail("WHEN")
	}
	if p.acceptKw("ELSE") {
		c.Else = p.expr()
	}
	p.expectKw("END")
	return c
}

// typeNames maps each accepted type word to how many numbers may follow
// it in parentheses: min and max.
var typeNames = map[string][2]int{
	"INTEGER": {0, 0}, "INT": {0, 0}, "BIGINT": {0, 0}, "SMALLINT": {0, 0}, "TINYINT": {0, 0},
	"INT2": {0, 0}, "INT4": {0, 0}, "INT8": {0, 0}, "UNSIGNED": {0, 0},
	"DOUBLE": {0, 0}, "REAL": {0, 0}, "FLOAT": {0, 0}, "FLOAT4": {0, 0}, "FLOAT8": {0, 0},
	"DECIMAL": {0, 2}, "NUMERIC": {0, 2},
	"TEXT": {0, 0}, "STRING": {0, 0}, "VARCHAR": {1, 1}, "CHAR": {0, 1}, "CHARACTER": {0, 1},
	"BOOLEAN": {0, 0}, "BOOL": {0, 0}, "UUID": {0, 0},
	"DATETIME": {0, 0}, "TIMESTAMP": {0, 0}, "VARBINARY": {0, 0},
	"ANY": {0, 0}, "SCALAR": {0, 0}, "NUMBER": {0, 0}, "MAP": {0, 0}, "ARRAY": {0, 0},
}

func (p *parser) typeName() *Type {
	t := p.peek()
	name := upperASCII(t.text)
	arity, ok := typeNames[name]
	if t.kind != tIdent || !ok {
		p.fail("type")
	}
	p.pos++
	ty := &Type{Pos: t.pos, Name: name}
	if arity[1] > 0 && (arity[0] > 0 || p.isPunct("(")) {
		p.expectPunct("(")
		for {
			n := p.peek()
			if n.kind != tNumber {
				p.fail("a length")
			}
			v, err := strconv.ParseInt(n.text, 10, 32)
			if err != nil {
				p.errorAt(n.pos, fmt.Sprintf("type length %s is not a 32-bit integer", n.text))
			}
			p.pos++
			ty.Args = append(ty.Args, int(v))
			if len(ty.Args) == arity[1] || !p.acceptPunct(",") {
				break
			}
		}
		p.expectPunct(")")
	}
	return ty
}

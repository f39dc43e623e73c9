package core_test

import (
	"bytes"
	"cmp"
	"fmt"
	"go/ast"
	"go/printer"
	"go/token"
	"slices"
	"strconv"
	"strings"
)

// violation is one construct in core/ that the guard rejects.
type violation struct {
	Pos    token.Position
	Rule   string
	Detail string
}

func (v violation) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", v.Pos.Filename, v.Pos.Line, v.Rule, v.Detail)
}

// Rule names as they appear in reports.
const (
	ruleGoStmt          = "go-statement"
	ruleSelect          = "select"
	ruleChannel         = "channel"
	ruleWallClock       = "wall-clock"
	ruleGlobalRand      = "global-rand"
	ruleForbiddenImport = "forbidden-import"
	ruleDotImport       = "dot-import"
	ruleMapOrder        = "map-order"
)

var allRules = []string{
	ruleGoStmt, ruleSelect, ruleChannel, ruleWallClock,
	ruleGlobalRand, ruleForbiddenImport, ruleDotImport, ruleMapOrder,
}

// forbiddenImports maps an import path, which also covers every path beneath
// it, to the reason core/ may not use it. Only the standard library's "net" is
// meant: github.com/picogo/picogo/net is how core/ is supposed to talk.
var forbiddenImports = map[string]string{
	"os":          "file, environment and process IO",
	"net":         "network IO; use github.com/picogo/picogo/net",
	"syscall":     "raw system calls",
	"io/ioutil":   "file IO",
	"crypto/rand": "randomness no seed can reproduce",
	"runtime":     "depends on the scheduler and the host",
	// The arrow points one way: drivers assemble core/, core/ never reaches
	// for a driver (DESIGN.md). The interfaces at the roots of net/, disk/
	// and clock/, and net/iproto's pure codec, are what core/ may use.
	"github.com/picogo/picogo/net/tcp":         "a driver (sockets)",
	"github.com/picogo/picogo/disk/pebble":     "a driver (files)",
	"github.com/picogo/picogo/disk/simdisk":    "the simulator's driver",
	"github.com/picogo/picogo/proc":            "the Proc API's wire side, which drivers use",
	"github.com/picogo/picogo/runtime":         "what drivers share",
	"github.com/picogo/picogo/sim":             "the simulator",
	"github.com/picogo/picogo/cmd":             "the binary",
	"github.com/picogo/picogo/chaos":           "a driver of real processes",
	"github.com/picogo/picogo/bench":           "a driver of real processes",
	"github.com/picogo/picogo/internal":        "process plumbing for drivers and tests",
	"github.com/picogo/picogo/workload":        "a client of the cluster",
	"github.com/picogo/picogo/linearizability": "a checker of client histories",
}

// wallClockFuncs are the members of package time that read or wait on the
// real clock. Everything else in time (Duration, Time arithmetic) is pure.
var wallClockFuncs = map[string]bool{
	"Now": true, "Since": true, "Until": true, "Sleep": true,
	"After": true, "AfterFunc": true, "Tick": true,
	"NewTimer": true, "NewTicker": true,
}

// explicitSourceRand are the members of math/rand and math/rand/v2 that do not
// touch the global source: constructors that take a source, and types.
var explicitSourceRand = map[string]bool{
	"New": true, "NewSource": true, "NewPCG": true, "NewChaCha8": true, "NewZipf": true,
	"Rand": true, "Source": true, "Source64": true, "PCG": true, "ChaCha8": true, "Zipf": true,
}

// sortPkgSorts are the functions of package sort that reorder their argument
// without "Sort" in their name.
var sortPkgSorts = map[string]bool{
	"Slice": true, "SliceStable": true, "Sort": true, "Stable": true,
	"Strings": true, "Ints": true, "Float64s": true,
}

// check reports every violation in f. It works on syntax alone, so where it
// cannot tell what a name refers to it stays quiet rather than guess.
func check(fset *token.FileSet, f *ast.File) []violation {
	c := &checker{
		fset:       fset,
		imports:    map[string]string{},
		mapTypes:   map[string]bool{},
		sliceTypes: map[string]bool{},
		mapFields:  scope{},
		pkgScope:   scope{},
		funcScopes: map[ast.Node]scope{},
	}
	c.checkImports(f)
	c.collectFileDecls(f)

	var stack []ast.Node // ancestors of the node being visited
	ast.Inspect(f, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		c.visit(n, stack)
		stack = append(stack, n)
		return true
	})

	slices.SortStableFunc(c.out, func(a, b violation) int {
		return cmp.Compare(a.Pos.Offset, b.Pos.Offset)
	})
	return c.out
}

// scope records the names a function (or the file) declares, and whether the
// declaration visibly makes the name a map. A name declared more than once
// counts as a map only if every declaration says so, so an ambiguous name is
// never flagged.
type scope map[string]bool

func (s scope) declare(name string, isMap bool) {
	if name == "_" {
		return
	}
	prev, seen := s[name]
	s[name] = isMap && (prev || !seen)
}

type checker struct {
	fset       *token.FileSet
	imports    map[string]string // local name -> import path
	mapTypes   map[string]bool   // named types declared in the file as maps
	sliceTypes map[string]bool   // named types declared in the file as slices
	mapFields  scope             // struct field names declared in the file
	pkgScope   scope             // package-level vars and consts of the file
	funcScopes map[ast.Node]scope
	out        []violation
}

func (c *checker) report(n ast.Node, rule, format string, args ...any) {
	c.out = append(c.out, violation{
		Pos:    c.fset.Position(n.Pos()),
		Rule:   rule,
		Detail: fmt.Sprintf(format, args...),
	})
}

func (c *checker) checkImports(f *ast.File) {
	for _, spec := range f.Imports {
		path, err := strconv.Unquote(spec.Path.Value)
		if err != nil {
			continue // the parser has already rejected it
		}
		if reason, bad := forbiddenImport(path); bad {
			c.report(spec, ruleForbiddenImport, "import %q: %s", path, reason)
		}
		name := defaultImportName(path)
		if spec.Name != nil {
			name = spec.Name.Name
		}
		switch name {
		case "_":
		case ".":
			// Unqualified Now() or Intn() cannot be told apart from local
			// functions, so the packages the guard inspects must stay qualified.
			if path == "time" || path == "math/rand" || path == "math/rand/v2" {
				c.report(spec, ruleDotImport, "dot-import of %q hides its calls from the guard", path)
			}
		default:
			c.imports[name] = path
		}
	}
}

func forbiddenImport(path string) (reason string, bad bool) {
	for prefix, reason := range forbiddenImports {
		if path == prefix || strings.HasPrefix(path, prefix+"/") {
			return reason, true
		}
	}
	return "", false
}

// defaultImportName is the name an unrenamed import binds, which for the
// standard library is the last path element, skipping a major-version suffix
// such as the v2 of math/rand/v2.
func defaultImportName(path string) string {
	elems := strings.Split(path, "/")
	last := elems[len(elems)-1]
	if len(elems) > 1 && isMajorVersion(last) {
		return elems[len(elems)-2]
	}
	return last
}

func isMajorVersion(s string) bool {
	digits, ok := strings.CutPrefix(s, "v")
	if !ok || digits == "" {
		return false
	}
	_, err := strconv.Atoi(digits)
	return err == nil
}

func (c *checker) collectFileDecls(f *ast.File) {
	// Named types first: fields and vars may use a map type declared below them.
	ast.Inspect(f, func(n ast.Node) bool {
		if ts, ok := n.(*ast.TypeSpec); ok {
			switch t := ts.Type.(type) {
			case *ast.MapType:
				c.mapTypes[ts.Name.Name] = true
			case *ast.ArrayType:
				c.sliceTypes[ts.Name.Name] = t.Len == nil
			}
		}
		return true
	})
	ast.Inspect(f, func(n ast.Node) bool {
		if st, ok := n.(*ast.StructType); ok {
			c.declareFields(c.mapFields, st.Fields)
		}
		return true
	})
	for _, decl := range f.Decls {
		if gen, ok := decl.(*ast.GenDecl); ok {
			for _, spec := range gen.Specs {
				if vs, ok := spec.(*ast.ValueSpec); ok {
					c.declareValueSpec(c.pkgScope, vs)
				}
			}
		}
	}
}

func (c *checker) visit(n ast.Node, stack []ast.Node) {
	switch n := n.(type) {
	case *ast.GoStmt:
		c.report(n, ruleGoStmt, "starts a goroutine, whose scheduling no seed controls")
	case *ast.SelectStmt:
		c.report(n, ruleSelect, "select picks among ready cases at random")
	case *ast.SendStmt:
		c.report(n, ruleChannel, "channel send")
	case *ast.UnaryExpr:
		if n.Op == token.ARROW {
			c.report(n, ruleChannel, "channel receive")
		}
	case *ast.ChanType:
		c.report(n, ruleChannel, "channel type")
	case *ast.SelectorExpr:
		c.checkSelector(n, enclosingFuncs(stack))
	case *ast.RangeStmt:
		c.checkRange(n, enclosingFuncs(stack))
	}
}

func (c *checker) checkSelector(sel *ast.SelectorExpr, funcs []ast.Node) {
	pkg, ok := sel.X.(*ast.Ident)
	if !ok {
		return
	}
	path, ok := c.imports[pkg.Name]
	if !ok || c.declaredLocally(pkg.Name, funcs) {
		return
	}
	name := pkg.Name + "." + sel.Sel.Name
	switch path {
	case "time":
		if wallClockFuncs[sel.Sel.Name] {
			c.report(sel, ruleWallClock, "%s reads or waits on the wall clock; core/ is driven by Tick events", name)
		}
	case "math/rand", "math/rand/v2":
		if !explicitSourceRand[sel.Sel.Name] {
			c.report(sel, ruleGlobalRand, "%s uses the global random source; draw from a seeded *rand.Rand", name)
		}
	}
}

func (c *checker) checkRange(r *ast.RangeStmt, funcs []ast.Node) {
	if len(funcs) == 0 || !c.isMapExpr(r.X, funcs) {
		return
	}
	if !containsAppend(r.Body) && !c.returnsSlice(funcs[0]) {
		return
	}
	// A closure that collects keys is often sorted by the function around it.
	for _, fn := range funcs {
		if c.callsSort(fn) {
			return
		}
	}
	c.report(r, ruleMapOrder, "range over map %s in a function that builds a slice without sorting it", exprString(r.X))
}

// enclosingFuncs returns the functions around a node, innermost first.
func enclosingFuncs(stack []ast.Node) []ast.Node {
	var funcs []ast.Node
	for i := len(stack) - 1; i >= 0; i-- {
		switch stack[i].(type) {
		case *ast.FuncDecl, *ast.FuncLit:
			funcs = append(funcs, stack[i])
		}
	}
	return funcs
}

func (c *checker) declaredLocally(name string, funcs []ast.Node) bool {
	for _, fn := range funcs {
		if _, ok := c.scopeOf(fn)[name]; ok {
			return true
		}
	}
	return false
}

// isMapExpr reports whether x is visibly a map: a name whose nearest
// declaration is a map, a field that every struct in the file declares as a
// map, or a map literal or make(map...) written in place.
func (c *checker) isMapExpr(x ast.Expr, funcs []ast.Node) bool {
	switch x := ast.Unparen(x).(type) {
	case *ast.Ident:
		for _, fn := range funcs {
			if isMap, ok := c.scopeOf(fn)[x.Name]; ok {
				return isMap
			}
		}
		return c.pkgScope[x.Name]
	case *ast.SelectorExpr:
		return c.mapFields[x.Sel.Name]
	default:
		return c.isMapValue(x)
	}
}

// scopeOf collects the names fn declares in its signature and body. Nested
// function literals get their own scope. Block structure is ignored, which
// only matters when one function reuses a name for different things, and then
// scope.declare treats the name as not a map.
func (c *checker) scopeOf(fn ast.Node) scope {
	if s, ok := c.funcScopes[fn]; ok {
		return s
	}
	s := scope{}
	var typ *ast.FuncType
	var body *ast.BlockStmt
	switch fn := fn.(type) {
	case *ast.FuncDecl:
		typ, body = fn.Type, fn.Body
		c.declareFields(s, fn.Recv)
	case *ast.FuncLit:
		typ, body = fn.Type, fn.Body
	}
	c.declareFields(s, typ.Params)
	c.declareFields(s, typ.Results)
	if body != nil {
		ast.Inspect(body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncLit:
				return false
			case *ast.ValueSpec:
				c.declareValueSpec(s, n)
			case *ast.AssignStmt:
				if n.Tok == token.DEFINE {
					for i, lhs := range n.Lhs {
						if id, ok := lhs.(*ast.Ident); ok {
							s.declare(id.Name, len(n.Lhs) == len(n.Rhs) && c.isMapValue(n.Rhs[i]))
						}
					}
				}
			case *ast.RangeStmt:
				if n.Tok == token.DEFINE {
					for _, e := range []ast.Expr{n.Key, n.Value} {
						if id, ok := e.(*ast.Ident); ok {
							s.declare(id.Name, false)
						}
					}
				}
			}
			return true
		})
	}
	c.funcScopes[fn] = s
	return s
}

func (c *checker) declareFields(s scope, fields *ast.FieldList) {
	if fields == nil {
		return
	}
	for _, field := range fields.List {
		for _, name := range field.Names {
			s.declare(name.Name, c.isMapType(field.Type))
		}
	}
}

func (c *checker) declareValueSpec(s scope, vs *ast.ValueSpec) {
	for i, name := range vs.Names {
		switch {
		case vs.Type != nil:
			s.declare(name.Name, c.isMapType(vs.Type))
		case len(vs.Values) == len(vs.Names):
			s.declare(name.Name, c.isMapValue(vs.Values[i]))
		default:
			s.declare(name.Name, false)
		}
	}
}

func (c *checker) isMapType(t ast.Expr) bool {
	switch t := ast.Unparen(t).(type) {
	case *ast.MapType:
		return true
	case *ast.Ident:
		return c.mapTypes[t.Name]
	case *ast.IndexExpr: // an instantiated generic map type, Set[K]
		return c.isMapType(t.X)
	case *ast.IndexListExpr:
		return c.isMapType(t.X)
	}
	return false
}

func (c *checker) isSliceType(t ast.Expr) bool {
	switch t := ast.Unparen(t).(type) {
	case *ast.ArrayType:
		return t.Len == nil
	case *ast.Ident:
		return c.sliceTypes[t.Name]
	case *ast.IndexExpr:
		return c.isSliceType(t.X)
	case *ast.IndexListExpr:
		return c.isSliceType(t.X)
	}
	return false
}

// isMapValue reports whether v is a map literal or make(map...).
func (c *checker) isMapValue(v ast.Expr) bool {
	switch v := ast.Unparen(v).(type) {
	case *ast.CompositeLit:
		return v.Type != nil && c.isMapType(v.Type)
	case *ast.CallExpr:
		fn, ok := v.Fun.(*ast.Ident)
		return ok && fn.Name == "make" && len(v.Args) > 0 && c.isMapType(v.Args[0])
	}
	return false
}

func (c *checker) returnsSlice(fn ast.Node) bool {
	var typ *ast.FuncType
	switch fn := fn.(type) {
	case *ast.FuncDecl:
		typ = fn.Type
	case *ast.FuncLit:
		typ = fn.Type
	}
	if typ.Results == nil {
		return false
	}
	for _, field := range typ.Results.List {
		if c.isSliceType(field.Type) {
			return true
		}
	}
	return false
}

func containsAppend(n ast.Node) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "append" {
				found = true
			}
		}
		return !found
	})
	return found
}

// callsSort reports whether fn calls anything that looks like sorting: a
// sorting function of package sort, or any function or method whose name
// begins with sort or Sort (slices.Sort, slices.SortFunc, a local sortIDs).
func (c *checker) callsSort(fn ast.Node) bool {
	found := false
	ast.Inspect(fn, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return !found
		}
		var name string
		switch fun := ast.Unparen(call.Fun).(type) {
		case *ast.Ident:
			name = fun.Name
		case *ast.SelectorExpr:
			name = fun.Sel.Name
			if pkg, ok := fun.X.(*ast.Ident); ok && c.imports[pkg.Name] == "sort" && sortPkgSorts[name] {
				found = true
			}
		}
		if strings.HasPrefix(name, "sort") || strings.HasPrefix(name, "Sort") {
			found = true
		}
		return !found
	})
	return found
}

func exprString(x ast.Expr) string {
	var buf bytes.Buffer
	if err := printer.Fprint(&buf, token.NewFileSet(), x); err != nil {
		return "(expression)"
	}
	return buf.String()
}

// The layering guard: who among picogo's own packages may import whom.
//
// The Proc API's requests, results and error codes live in core/api, a leaf,
// so that clients — proc's wire codec, bench, chaos, workload, the
// linearizability checker, the simulator's clients — talk to an instance
// without importing the instance. Only what runs an instance imports
// core/node: core/ itself, runtime (the host both drivers share), sim and
// cli (the picogo command, which cmd/picogo and picogo.Main run). And core/api stays a leaf: of picogo's packages it imports only
// those whose values travel in requests (core/tables, core/tuple,
// core/raft, core/discovery, core/vclock), and net/iproto, whose msgpack
// readers it uses (core/tables imports it already).
//
// The SQL parser, core/sql/parse, is a leaf too: it imports no picogo
// package, so that anything may read SQL without pulling in the database.
// core/sql/value, the semantics of SQL values, sits just above core/tuple:
// it imports no other picogo package (not the parser: the executor, the
// planner and tests alike call it with plain values).
//
// The guard reads the imports of every Go file in the module, tests included.
package core_test

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// nodeImporters are the folders (with their subfolders) that may import
// core/node.
var nodeImporters = []string{"core", "runtime", "sim", "cli"}

// apiImports are the only picogo packages core/api may import: those whose
// values travel in requests, and net/iproto for its msgpack readers (the
// hand decoding of `.proc_cas`'s arguments; core/tables, which carries the
// ops, imports it already).
var apiImports = []string{"core/tables", "core/tuple", "core/raft", "core/discovery", "core/vclock", "net/iproto"}

// shardingImports are the only picogo packages core/sharding may import: it
// decides from the tables' rows and speaks the API, below core/governor and
// core/node, which use it.
var shardingImports = []string{"core/tuple", "core/schema", "core/tables", "core/api", "core/script", "internal/testscript"}

// layering says why a file in dir (a folder relative to the module root)
// may not import path, or "" if it may.
func layering(dir, path string) string {
	rel, ours := strings.CutPrefix(path, module+"/")
	if !ours {
		return ""
	}
	switch {
	case under(dir, "core/api") && !slices.Contains(apiImports, rel):
		return fmt.Sprintf("core/api is a leaf: of picogo's packages it imports only %s",
			strings.Join(apiImports, ", "))
	case under(dir, "core/sharding") && !slices.Contains(shardingImports, rel):
		return fmt.Sprintf("core/sharding sits below the governor and the node: of picogo's packages it imports only %s",
			strings.Join(shardingImports, ", "))
	case under(dir, "core/sql/parse"):
		return "core/sql/parse is a leaf: it imports no picogo package"
	case under(dir, "core/sql/value") && rel != "core/tuple":
		return "core/sql/value sits just above core/tuple: of picogo's packages it imports only core/tuple"
	case rel == "core/node" && !slices.ContainsFunc(nodeImporters, func(p string) bool { return under(dir, p) }):
		return fmt.Sprintf("only %s run an instance and import core/node; a client uses core/api",
			strings.Join(nodeImporters, ", "))
	}
	return ""
}

// under reports whether dir is folder p or inside it.
func under(dir, p string) bool { return dir == p || strings.HasPrefix(dir, p+"/") }

func TestLayering(t *testing.T) {
	requireCoreDir(t)

	fset := token.NewFileSet()
	var files int
	var problems []string
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != ".." && (name == "testdata" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		rel, err := filepath.Rel("..", path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, rel, src, parser.ImportsOnly)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%v (unparsable, so unchecked)", err))
			return nil
		}
		files++
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				continue
			}
			if why := layering(filepath.ToSlash(filepath.Dir(rel)), p); why != "" {
				problems = append(problems, fmt.Sprintf("%s: imports %s: %s", fset.Position(imp.Pos()), p, why))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking the module: %v", err)
	}
	t.Logf("checked the imports of %d Go files", files)
	if files == 0 || !hasGoFiles(t, "api") {
		t.Fatal("no Go files found, or no core/api — is the guard looking in the right place?")
	}
	if len(problems) > 0 {
		t.Errorf("%d import(s) break the layering:\n%s", len(problems), strings.Join(problems, "\n"))
	}
}

func TestLayeringRules(t *testing.T) {
	for _, c := range []struct {
		dir, path string
		bad       bool
	}{
		{"proc", module + "/core/node", true},
		{"bench", module + "/core/node", true},
		{"chaos", module + "/core/node", true},
		{"workload", module + "/core/node", true},
		{"linearizability", module + "/core/node", true},
		{"cmd/other", module + "/core/node", true},
		{"simulator", module + "/core/node", true},
		{"proc", module + "/core/api", false},
		{"runtime", module + "/core/node", false},
		{"sim", module + "/core/node", false},
		{"cli", module + "/core/node", false},
		{"cmd/picogo", module + "/core/node", true},
		{"core/governor", module + "/core/node", false},
		{"core/api", module + "/core/node", true},
		{"core/api", module + "/core/ra", true},
		{"core/api", module + "/core/governor", true},
		{"core/api", module + "/disk", true},
		{"core/api", module + "/proc", true},
		{"core/api", module + "/core/tables", false},
		{"core/api", module + "/core/raft", false},
		{"core/api", module + "/core/discovery", false},
		{"core/api", "time", false},
		{"core/api", "github.com/vmihailenco/msgpack/v5", false},
		{"core/sharding", module + "/core/tuple", false},
		{"core/sharding", module + "/core/node", true},
		{"core/sharding", module + "/core/tables", false},
		{"core/sharding", module + "/core/governor", true},
		{"core/sharding", "github.com/spaolacci/murmur3", false},
		{"core/sql/parse", module + "/core/tuple", true},
		{"core/sql/parse", module + "/core/api", true},
		{"core/sql/parse", "strings", false},
		{"core/sql/value", module + "/core/tuple", false},
		{"core/sql/value", module + "/core/sql/parse", true},
		{"core/sql/value", module + "/core/schema", true},
		{"core/sql/value", "github.com/cockroachdb/apd/v3", false},
	} {
		if got := layering(c.dir, c.path) != ""; got != c.bad {
			t.Errorf("%s importing %s: flagged %v, want %v", c.dir, c.path, got, c.bad)
		}
	}
}

// The determinism guard for core/.
//
// core/ is the code that both the seeded simulator and production run. A seed
// reproduces a simulated run only if core/ does exactly the same thing every
// time it is fed the same inputs, so core/ may not start goroutines, use
// channels or select, read the wall clock, draw from the global random source,
// do IO, or let Go's randomized map iteration order leak into what it builds.
// Time, randomness and IO reach core/ only through what its drivers inject
// (Tick events, a seeded *rand.Rand, the clock, net and disk interfaces).
//
// The guard parses every non-test Go file under core/ and rejects those
// constructs by syntax alone; see check in guard_rules_test.go.
package core_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/picogo/picogo"

func TestCoreIsDeterministic(t *testing.T) {
	requireCoreDir(t)

	fset := token.NewFileSet()
	var found, checked int
	var problems []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		found++
		name := "core/" + filepath.ToSlash(path)
		f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
		if err != nil {
			// A file the guard cannot parse is a file it cannot vouch for.
			problems = append(problems, fmt.Sprintf("%v (unparsable, so unchecked)", err))
			return nil
		}
		checked++
		for _, v := range check(fset, f) {
			problems = append(problems, v.String())
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking core/: %v", err)
	}
	t.Logf("checked %d of %d non-test Go files under core/", checked, found)

	if found == 0 {
		// requireCoreDir pins where we are; this catches a walk that skips
		// everything, which would otherwise pass while checking nothing.
		if hasGoFiles(t, "raft") {
			t.Fatal("no Go files found under core/ — is the guard looking in the right place?")
		}
		t.Skip("core/ has no non-test Go files yet; nothing to check")
	}
	if len(problems) > 0 {
		t.Errorf("core/ must stay deterministic and IO-free; %d problem(s):\n%s",
			len(problems), strings.Join(problems, "\n"))
	}
}

// requireCoreDir fails unless the test runs in the core/ directory of this
// module, so that walking "." cannot quietly walk somewhere else.
func requireCoreDir(t *testing.T) {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join("..", "go.mod"))
	if err != nil {
		t.Fatalf("guard must run in %s/core, but %s has no ../go.mod: %v", module, wd, err)
	}
	declared := slices.ContainsFunc(strings.Split(string(gomod), "\n"), func(line string) bool {
		return strings.TrimSpace(line) == "module "+module
	})
	if filepath.Base(wd) != "core" || !declared {
		t.Fatalf("guard must run in %s/core, not %s", module, wd)
	}
}

func hasGoFiles(t *testing.T, dir string) bool {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(matches, func(m string) bool { return !strings.HasSuffix(m, "_test.go") })
}

// Each snippet marks the lines the guard must flag with a trailing
// "// want rule..." comment; any unmarked violation is a false positive, so a
// snippet with no marks must come out clean.
var guardCases = []struct {
	name string
	src  string
}{
	{"go statement", `package p

func f() {
	go func() {}() // want go-statement
}
`},
	{"select", `package p

func f(a, b chan int) { // want channel
	select { // want select
	case v := <-a: // want channel
		_ = v
	case b <- 1: // want channel
	default:
	}
}
`},
	{"channels", `package p

type pipe struct {
	c <-chan []byte // want channel
}

func f() int {
	ch := make(chan int, 1) // want channel
	ch <- 1 // want channel
	return <-ch // want channel
}
`},
	{"wall clock", `package p

import "time"

func f() time.Duration {
	start := time.Now() // want wall-clock
	time.Sleep(time.Millisecond) // want wall-clock
	<-time.After(time.Second) // want channel wall-clock
	return time.Since(start) // want wall-clock
}
`},
	{"wall clock, renamed import", `package p

import wall "time"

var now = wall.Now // want wall-clock

func f() {
	t := wall.NewTimer(wall.Second) // want wall-clock
	_ = t
	wall.AfterFunc(0, func() {}) // want wall-clock
}
`},
	{"dot-import of time", `package p

import . "time" // want dot-import

func f() Time { return Now() }
`},
	{"clean: pure time and a shadowing parameter", `package p

import "time"

type Clock interface{ Now() time.Time }

func deadline(c Clock, d time.Duration) time.Time {
	return c.Now().Add(d * time.Millisecond)
}

func shadow(time Clock) { _ = time.Now() }
`},
	{"global math/rand", `package p

import "math/rand"

func f(r *rand.Rand) int {
	rand.Seed(1) // want global-rand
	rand.Shuffle(3, func(i, j int) {}) // want global-rand
	_ = rand.Int() // want global-rand
	return rand.Intn(5) + r.Intn(5) // want global-rand
}
`},
	{"global math/rand/v2", `package p

import "math/rand/v2"

func f() uint64 {
	_ = rand.N(10) // want global-rand
	_ = rand.IntN(3) // want global-rand
	_ = rand.Float64() // want global-rand
	return rand.Uint64() // want global-rand
}
`},
	{"global math/rand, renamed import", `package p

import mrand "math/rand"

var order = mrand.Perm(3) // want global-rand
`},
	{"dot-import of math/rand", `package p

import . "math/rand" // want dot-import

var x = Intn(3)
`},
	{"clean: explicit random sources", `package p

import "math/rand/v2"

var _ rand.Source = rand.NewChaCha8([32]byte{})

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed)) }

func pick(rng *rand.Rand, n int) int { return rng.IntN(n) }

func zipf(rng *rand.Rand) *rand.Zipf { return rand.NewZipf(rng, 2, 1, 10) }

func shadow(rand *rand.Rand) int { return rand.IntN(3) }
`},
	{"forbidden imports", `package p

import (
	"crypto/rand" // want forbidden-import
	"io/ioutil" // want forbidden-import
	"net" // want forbidden-import
	"net/http" // want forbidden-import
	"os" // want forbidden-import
	"os/exec" // want forbidden-import
	"os/signal" // want forbidden-import
	"runtime" // want forbidden-import
	"syscall" // want forbidden-import
	_ "net/http/pprof" // want forbidden-import
)
`},
	{"drivers are forbidden", `package p

import (
	"github.com/picogo/picogo/net/tcp" // want forbidden-import
	"github.com/picogo/picogo/disk/pebble" // want forbidden-import
	"github.com/picogo/picogo/disk/simdisk" // want forbidden-import
	"github.com/picogo/picogo/proc" // want forbidden-import
	"github.com/picogo/picogo/runtime" // want forbidden-import
	"github.com/picogo/picogo/sim" // want forbidden-import
	"github.com/picogo/picogo/cmd/picogo" // want forbidden-import
	"github.com/picogo/picogo/internal/procs" // want forbidden-import
	"github.com/picogo/picogo/workload" // want forbidden-import
)
`},
	{"clean: allowed imports", `package p

import (
	"errors"
	"path/filepath"
	"sort"
	"time"
	"unsafe"

	"github.com/picogo/picogo/net"
	"github.com/picogo/picogo/net/iproto"
	"github.com/picogo/picogo/disk"
	"github.com/picogo/picogo/clock"
	"github.com/picogo/picogo/core/raft"
)
`},
	{"map order leaks into a slice", `package p

type node struct {
	peers map[uint64]string
}

func (n *node) peerIDs() []uint64 {
	var ids []uint64
	for id := range n.peers { // want map-order
		ids = append(ids, id)
	}
	return ids
}

func keys(m map[string]int) (out []string) {
	for k := range m { // want map-order
		out = append(out, k)
	}
	return out
}

func locals() {
	votes := make(map[int]bool)
	var acks = map[int]bool{}
	var seen map[string]bool
	var out []int
	for v := range votes { // want map-order
		out = append(out, v)
	}
	for v := range acks { // want map-order
		out = append(out, v)
	}
	for s := range seen { // want map-order
		out = append(out, len(s))
	}
	_ = out
}

var registry = set{}

type set map[string]struct{}

func names() []string {
	var out []string
	for name := range registry { // want map-order
		out = append(out, name)
	}
	return out
}

func first(m map[int][]byte) []byte {
	for _, v := range m { // want map-order
		return v
	}
	return nil
}

func inClosure(m map[int]int) func() []int {
	return func() []int {
		var out []int
		for _, v := range m { // want map-order
			out = append(out, v)
		}
		return out
	}
}
`},
	{"clean: map ranges that are sorted or do not build slices", `package p

import (
	"slices"
	srt "sort"
)

type node struct {
	peers    map[uint64]string
	peerList []uint64
}

func (n *node) peerIDs() []uint64 {
	var ids []uint64
	for id := range n.peers {
		ids = append(ids, id)
	}
	srt.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

func (n *node) strings() []string {
	var out []string
	for _, s := range n.peers {
		out = append(out, s)
	}
	srt.Strings(out)
	return out
}

func total(m map[string]int) int {
	sum := 0
	for _, v := range m {
		sum += v
	}
	return sum
}

func viaHelper(m map[int]bool) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	sortInts(out)
	return out
}

func sortInts(s []int) { slices.Sort(s) }

func outerSorts(m map[int]bool) []int {
	var out []int
	collect := func() {
		for k := range m {
			out = append(out, k)
		}
	}
	collect()
	slices.Sort(out)
	return out
}

func (n *node) list() []uint64 {
	var out []uint64
	for _, id := range n.peerList {
		out = append(out, id)
	}
	return out
}

// m is a map in total, but not here.
func reused(m []int) []int {
	var out []int
	for _, x := range m {
		out = append(out, x)
	}
	return out
}
`},
}

func TestGuardCatchesEachRule(t *testing.T) {
	covered := map[string]bool{}
	for _, tc := range guardCases {
		t.Run(tc.name, func(t *testing.T) {
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, "snippet.go", tc.src, parser.ParseComments|parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			want := wantMarks(fset, f)
			for _, w := range want {
				_, rule, _ := strings.Cut(w, " ")
				covered[rule] = true
			}

			var got []string
			var report strings.Builder
			for _, v := range check(fset, f) {
				got = append(got, fmt.Sprintf("%d: %s", v.Pos.Line, v.Rule))
				fmt.Fprintf(&report, "\n\t%v", v)
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("violations (line: rule)\n got  %q\n want %q\nfull report:%s", got, want, report.String())
			}
		})
	}
	for _, rule := range allRules {
		if !covered[rule] {
			t.Errorf("rule %q has no planted snippet proving it is caught", rule)
		}
	}
}

// wantMarks returns "line: rule" for every rule named by a "// want" comment.
func wantMarks(fset *token.FileSet, f *ast.File) []string {
	var want []string
	for _, group := range f.Comments {
		for _, c := range group.List {
			rules, ok := strings.CutPrefix(c.Text, "// want ")
			if !ok {
				continue
			}
			line := fset.Position(c.Pos()).Line
			for _, rule := range strings.Fields(rules) {
				want = append(want, fmt.Sprintf("%d: %s", line, rule))
			}
		}
	}
	return want
}

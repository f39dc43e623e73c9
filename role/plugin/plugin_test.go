package plugin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picogo/picogo/role"
	"github.com/picogo/picogo/role/runner"
	"github.com/stretchr/testify/require"
)

// The plugins the tests build live in one folder for the whole test
// binary: the runtime never unloads a plugin and refuses a second one
// built from the same package, so every test that needs hello loads the
// same file.
var built struct {
	sync.Mutex
	dir   string
	files map[string]string // name -> the .so file
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "picogo-role-plugins-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	built.dir, built.files = dir, make(map[string]string)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// requireToolchain skips a test that cannot build plugins that load into
// this test binary: a short run (a first build compiles every dependency
// in plugin mode, over a minute), no go command, or a go command of
// another version than the one that built this binary.
func requireToolchain(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: building plugins takes seconds, the first time over a minute")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build plugins with")
	}
	out, err := exec.Command(goCmd, "env", "GOVERSION").Output()
	require.NoError(t, err)
	if v := strings.TrimSpace(string(out)); v != runtime.Version() {
		t.Skipf("the go command is %s but this test binary was built by %s: its plugins would not load", v, runtime.Version())
	}
}

// build builds pkg (a path relative to this package) into a plugin file
// called name.so in a folder of its own, once per test binary, with the
// extra go build flags, and returns the file. Plugins are linked without
// symbol tables and DWARF (-s -w), which changes no package and saves a
// third of the link time; an -ldflags in extra must say -s -w again.
func build(t *testing.T, name, pkg string, extra ...string) string {
	t.Helper()
	requireToolchain(t)
	built.Lock()
	defer built.Unlock()
	if f, ok := built.files[name]; ok {
		return f
	}
	out := filepath.Join(built.dir, name, name+".so")
	require.NoError(t, os.MkdirAll(filepath.Dir(out), 0o755))
	args, env, err := BuildArgs(pkg, out)
	require.NoError(t, err)
	if !slices.ContainsFunc(extra, func(f string) bool { return strings.HasPrefix(f, "-ldflags") }) {
		extra = append(extra, "-ldflags=-s -w")
	}
	args = append(append(args[:len(args)-1:len(args)-1], extra...), pkg)
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), env...)
	began := time.Now()
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "go %s:\n%s", strings.Join(args, " "), b)
	t.Logf("built %s in %v: go %s", name, time.Since(began).Round(time.Millisecond), strings.Join(args, " "))
	built.files[name] = out
	return out
}

// load is Load, skipped with the reason when coverage instrumentation of
// this test binary is what keeps the plugin out.
func load(t *testing.T, dir string) ([]role.Role, error) {
	t.Helper()
	roles, err := Load(dir)
	if err != nil && testing.CoverMode() != "" && strings.Contains(err.Error(), "plugin was built with a different version of package") {
		t.Skipf("-coverpkg instrumented a package in this test binary that its plugins share uninstrumented: %v", err)
	}
	return roles, err
}

// A role from a plugin runs like a compiled-in one.
func TestLoad(t *testing.T) {
	hello := build(t, "hello", "./testdata/hello")
	roles, err := load(t, filepath.Dir(hello))
	require.NoError(t, err)
	require.Len(t, roles, 1)
	h := roles[0]
	require.Equal(t, "hello", h.Name())
	require.Equal(t, "1.0.0", h.Version())
	require.Len(t, h.OnceDDL(), 1)

	done := make(chan func(), 1)
	r, err := runner.New(runner.Config{Roles: roles, Post: func(f func()) { done <- f }})
	require.NoError(t, err)
	var got error
	r.Start("hello", map[string]any{}, func(err error) { got = err })
	(<-done)()
	require.EqualError(t, got, "role hello: Init: config: greeting (a string) is missing")
	r.Start("hello", map[string]any{"greeting": "hi"}, func(err error) { got = err })
	(<-done)()
	require.NoError(t, got)

	var res any
	r.Call("hello", "greet", []any{"alice"}, time.Second, func(v any, err error) { res, got = v, err })
	(<-done)()
	require.NoError(t, got)
	require.Equal(t, "hi, alice (from hello 1.0.0)", res)

	families, err := r.Gatherer().Gather()
	require.NoError(t, err)
	require.Len(t, families, 1)
	require.Equal(t, "hello_greeted_total", families[0].GetName())
	require.Equal(t, 1.0, families[0].Metric[0].GetCounter().GetValue())

	r.Stop("hello", func(err error) { got = err })
	(<-done)()
	require.NoError(t, got)
}

func TestLoadErrors(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing"))
	require.ErrorContains(t, err, "role plugins: open ")

	// Only *.so files directly in the folder count.
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "README"), []byte("roles"), 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "old.so"), 0o755))
	roles, err := Load(dir)
	require.NoError(t, err)
	require.Empty(t, roles)

	junk := filepath.Join(dir, "junk.so")
	require.NoError(t, os.WriteFile(junk, []byte("not a shared library"), 0o644))
	_, err = Load(dir)
	require.ErrorContains(t, err, "role plugin "+junk+`: plugin.Open("`+junk+`"): `)
	require.ErrorContains(t, err, "file too short", "dlopen's reason")

	for _, c := range []struct{ pkg, want string }{
		{"variable", "its Roles is a *func() []role.Role, not a func() []role.Role"},
		{"norole", "it exports no Roles (a func() []role.Role)"},
	} {
		so := build(t, c.pkg, "./testdata/"+c.pkg)
		_, err := load(t, filepath.Dir(so))
		require.EqualError(t, err, "role plugin "+so+": "+c.want)
	}

	// Two plugins defining one role: the second file is named, and
	// nothing loads.
	hello := build(t, "hello", "./testdata/hello")
	dup := build(t, "dup", "./testdata/dup")
	both := t.TempDir()
	require.NoError(t, os.Symlink(hello, filepath.Join(both, "a.so")))
	require.NoError(t, os.Symlink(dup, filepath.Join(both, "b.so")))
	roles, err = load(t, both)
	require.EqualError(t, err, "role plugin "+filepath.Join(both, "b.so")+`: role "hello" is also defined by `+filepath.Join(both, "a.so"))
	require.Nil(t, roles)
}

// A plugin's packages must be the very ones the binary has: a plugin built
// against another version of package role does not load.
func TestBuiltAgainstAnotherVersion(t *testing.T) {
	// The same plugin built against this binary's role loads (or the test
	// binary's coverage instrumentation is in the way, and it skips).
	hello := build(t, "hello", "./testdata/hello")
	_, err := load(t, filepath.Dir(hello))
	require.NoError(t, err)

	src, err := filepath.Abs("../version.go")
	require.NoError(t, err)
	text, err := os.ReadFile(src)
	require.NoError(t, err)
	tmp := t.TempDir()
	changed := filepath.Join(tmp, "version.go")
	require.NoError(t, os.WriteFile(changed, append(text, "\n// Newer is in a later version of role.\nfunc Newer() {}\n"...), 0o644))
	overlay := filepath.Join(tmp, "overlay.json")
	require.NoError(t, os.WriteFile(overlay, fmt.Appendf(nil, `{"Replace": {%q: %q}}`, src, changed), 0o644))

	// Built from its file rather than its package, hello gets a plugin
	// path of its own, so that the runtime checks its packages rather than
	// refusing it as hello loaded again.
	so := build(t, "stale", "./testdata/hello/main.go", "-overlay="+overlay)
	_, err = Load(filepath.Dir(so))
	require.ErrorContains(t, err, "plugin was built with a different version of package github.com/picogo/picogo/role")
	require.ErrorContains(t, err, "role plugin "+so+": ")

	// The runtime remembers the failure: that path fails the same way
	// until the process restarts, even once a good plugin is there.
	_, err = Load(filepath.Dir(so))
	require.ErrorContains(t, err, "different version of package github.com/picogo/picogo/role (previous failure)")
}

// A loaded plugin stays: a new version of it cannot load next to it, and
// even replacing the file leaves the old one in use. Upgrading a plugin
// takes a restart.
func TestNewVersionNeedsRestart(t *testing.T) {
	hello := build(t, "hello", "./testdata/hello")
	roles, err := load(t, filepath.Dir(hello))
	require.NoError(t, err)
	require.Equal(t, "1.0.0", roles[0].Version())

	next := build(t, "hello_1_1_0", "./testdata/hello", "-ldflags=-s -w -X=main.version=1.1.0")
	_, err = load(t, filepath.Dir(next))
	require.EqualError(t, err, "role plugin "+next+`: plugin.Open("`+strings.TrimSuffix(next, ".so")+`"): plugin already loaded`)

	// Replaced as deployment tools should (a rename, never writing into
	// a mapped file), hello.so is 1.1.0 on disk and 1.0.0 in the process.
	tmp := hello + ".new"
	b, err := os.ReadFile(next)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(tmp, b, 0o755))
	require.NoError(t, os.Rename(tmp, hello))
	roles, err = load(t, filepath.Dir(hello))
	require.NoError(t, err)
	require.Equal(t, "1.0.0", roles[0].Version(), "plugin.Open of a path it has opened returns what it loaded then")
}

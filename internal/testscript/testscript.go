// Package testscript runs an interaction script file (core/script) as a
// test, and rewrites it with the actual outputs when asked.
package testscript

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/picogo/picogo/core/script"
)

// RunFile runs the script in file through handle as a test: each
// directive whose output differs from the script's is an error naming its
// line. With rewrite, the file is written back with the actual outputs
// instead (review the diff). It returns the actual script, for checks of
// the whole output.
func RunFile(t testing.TB, file string, rewrite bool, handle func(script.Directive) string) string {
	t.Helper()
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	out, bad, err := script.RunScript(string(text), handle)
	if err != nil {
		t.Fatal(err)
	}
	if rewrite {
		if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, m := range bad {
		t.Errorf("%s:%d: %s\n--- expected:\n%s\n--- got:\n%s", file, m.Directive.Line, m.Directive.Cmd,
			m.Directive.Expected, m.Got)
	}
	return out
}

// RunDir runs each script file matching glob (there must be one) as a
// subtest named after the file: run gets the subtest and the file.
func RunDir(t *testing.T, glob string, run func(t *testing.T, file string)) {
	t.Helper()
	files, err := filepath.Glob(glob)
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts match %s (%v)", glob, err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), filepath.Ext(file)), func(t *testing.T) { run(t, file) })
	}
}

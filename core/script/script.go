// Package script reads and runs interaction scripts, the tests written as
// a sequence of commands each followed by the output it must produce
// (core/raft/testdata, core/sharding/testdata); a test supplies the
// handler that carries a command out. Running a script file as a test is
// internal/testscript's.
package script

import (
	"fmt"
	"strconv"
	"strings"
)

// A script is a sequence of directives, each a command line followed by
// "----" and the output it must produce, ended by a blank line:
//
//	# a comment
//	propose 1 foo
//	----
//	ok
//
// Arguments are words: positional (`1`, `foo`) or keyed (`to=3`,
// `voters=(1,2,3)`).

// Directive is one command of a script.
type Directive struct {
	Line     int // 1-based line of the command in the script
	Cmd      string
	Args     []Arg
	Expected string
}

// Arg is one argument: a positional word (Key), or Key=Vals.
type Arg struct {
	Key   string
	Vals  []string
	Keyed bool
}

// ParseScript splits a script into directives.
func ParseScript(text string) ([]Directive, error) {
	lines := strings.Split(text, "\n")
	var out []Directive
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		d := Directive{Line: i + 1}
		fields := splitArgs(line)
		d.Cmd = fields[0]
		for _, f := range fields[1:] {
			d.Args = append(d.Args, parseArg(f))
		}
		i++
		if i >= len(lines) || strings.TrimSpace(lines[i]) != "----" {
			return nil, fmt.Errorf("line %d: %q must be followed by ----", d.Line, line)
		}
		var exp []string
		for i++; i < len(lines) && lines[i] != ""; i++ {
			exp = append(exp, lines[i])
		}
		d.Expected = strings.Join(exp, "\n")
		out = append(out, d)
	}
	return out, nil
}

// splitArgs splits on spaces outside parentheses.
func splitArgs(line string) []string {
	var out []string
	depth, start := 0, -1
	for i, r := range line {
		switch {
		case r == '(':
			depth++
		case r == ')':
			depth--
		case r == ' ' && depth == 0:
			if start >= 0 {
				out = append(out, line[start:i])
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, line[start:])
	}
	return out
}

func parseArg(f string) Arg {
	k, v, ok := strings.Cut(f, "=")
	if !ok {
		return Arg{Key: f}
	}
	v = strings.TrimSuffix(strings.TrimPrefix(v, "("), ")")
	var vals []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			vals = append(vals, s)
		}
	}
	return Arg{Key: k, Vals: vals, Keyed: true}
}

// Positional returns the positional words.
func (d Directive) Positional() []string {
	var out []string
	for _, a := range d.Args {
		if !a.Keyed {
			out = append(out, a.Key)
		}
	}
	return out
}

// Keyed returns the values of key and whether it was given.
func (d Directive) Keyed(key string) ([]string, bool) {
	for _, a := range d.Args {
		if a.Keyed && a.Key == key {
			return a.Vals, true
		}
	}
	return nil, false
}

// IDs parses positional words as node ids.
func (d Directive) IDs() ([]uint64, error) {
	var ids []uint64
	for _, w := range d.Positional() {
		id, err := strconv.ParseUint(w, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a node id", w)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// Mismatch is a directive whose output differed from what the script expects.
type Mismatch struct {
	Directive Directive
	Got       string
}

// RunScript runs every directive through handle and returns the script with
// each directive's actual output in place (for rewriting) and the mismatches.
func RunScript(text string, handle func(Directive) string) (string, []Mismatch, error) {
	ds, err := ParseScript(text)
	if err != nil {
		return "", nil, err
	}
	lines := strings.Split(text, "\n")
	var b strings.Builder
	var bad []Mismatch
	next := 0 // next line of text to copy
	for _, d := range ds {
		got := strings.TrimRight(handle(d), "\n")
		if got != d.Expected {
			bad = append(bad, Mismatch{Directive: d, Got: got})
		}
		// Copy up to and including the "----" line, then the new output.
		for ; next <= d.Line; next++ {
			b.WriteString(lines[next])
			b.WriteString("\n")
		}
		if got != "" {
			b.WriteString(got)
			b.WriteString("\n")
		}
		// Skip the old output.
		for next < len(lines) && lines[next] != "" {
			next++
		}
	}
	for ; next < len(lines); next++ {
		b.WriteString(lines[next])
		if next < len(lines)-1 {
			b.WriteString("\n")
		}
	}
	return b.String(), bad, nil
}

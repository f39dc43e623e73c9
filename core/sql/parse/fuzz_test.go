package parse

import (
	"testing"
)

// FuzzParse checks that no input makes the parser panic, that every error
// is an *Error, and that whatever parses round-trips through the printer.
func FuzzParse(f *testing.F) {
	for _, c := range canonical {
		f.Add(c.in)
	}
	for _, c := range syntaxErrors {
		f.Add(c.in)
	}
	for _, s := range fuzzFindings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		stmts, err := Parse(src)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("%q: error is %T, not *Error", src, err)
			}
			return
		}
		roundTrip(t, src, stmts)
	})
}

// fuzzFindings are inputs the fuzzer once tripped on; TestFuzzFindings
// keeps them fixed.
var fuzzFindings = []string{
	"CREATE TABLE A(PRIMARY KEY(A))", // no columns: the printer wrote "(, PRIMARY KEY"
}

func TestFuzzFindings(t *testing.T) {
	for _, src := range fuzzFindings {
		stmts, err := Parse(src)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("%q: error is %T, not *Error", src, err)
			}
			continue
		}
		roundTrip(t, src, stmts)
	}
}

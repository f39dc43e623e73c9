//go:build mutants

package mutant

// Enabled reports whether this build can switch mutants on.
const Enabled = true

// Set is the mutants switched on in one node (not a global: the simulator
// runs worlds in parallel, each with its own).
type Set struct{ bugs Bug }

// Of is the set of bugs.
func Of(bugs ...Bug) Set {
	var s Set
	for _, b := range bugs {
		s.bugs |= b
	}
	return s
}

// Has reports whether b is switched on.
func (s Set) Has(b Bug) bool { return s.bugs&b != 0 }

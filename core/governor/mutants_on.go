//go:build mutants

package governor

import "github.com/picogo/picogo/core/mutant"

// SetMutants switches on deliberate bugs, for the simulator to prove they
// are caught.
func (in *Input) SetMutants(s mutant.Set) { in.mutants = s }

//go:build mutants

package topology

import "github.com/picogo/picogo/core/mutant"

// SetMutants switches on deliberate bugs, for the simulator to prove they
// are caught.
func (r *JoinRequest) SetMutants(s mutant.Set) { r.mutants = s }

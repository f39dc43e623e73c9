//go:build mutants

package raft

import "github.com/picogo/picogo/core/mutant"

// SetMutants switches on deliberate bugs, for the simulator and the
// interaction scripts to prove they are caught.
func (c *Config) SetMutants(s mutant.Set) { c.mutants = s }

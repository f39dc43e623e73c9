//go:build mutants

package runtime

import (
	"github.com/picogo/picogo/core/mutant"
	"github.com/picogo/picogo/core/node"
)

// setMutants switches the instance's mutants on in its configuration.
func setMutants(c *node.Config, s mutant.Set) { c.SetMutants(s) }

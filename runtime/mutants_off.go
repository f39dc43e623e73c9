//go:build !mutants

package runtime

import (
	"github.com/picogo/picogo/core/mutant"
	"github.com/picogo/picogo/core/node"
)

// setMutants does nothing: without -tags mutants there are none.
func setMutants(*node.Config, mutant.Set) {}

//go:build !mutants

package sim

import "github.com/picogo/picogo/core/node"

// switchMutantsOn does nothing: without -tags mutants there are none.
func (*World) switchMutantsOn(*node.Config) {}

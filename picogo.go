// Package picogo is the entry point of an application's own picogo binary:
// the picogo command (run, status, connect, ...) with the application's
// roles compiled in (docs/roles.md):
//
//	func main() { picogo.Main(storage.Role{}, api.Role{}, metrics.Role{}) }
package picogo

import (
	"github.com/picogo/picogo/cli"
	"github.com/picogo/picogo/role"
)

// Main runs the picogo command with roles compiled in; it exits the
// process.
func Main(roles ...role.Role) { cli.Main(roles...) }

// Command norole is a broken role plugin for role/plugin's tests: it
// exports Role, not Roles.
package main

import "github.com/picogo/picogo/role"

// Role is misnamed: role/plugin looks for Roles.
func Role() []role.Role { return nil }

// Command variable is a broken role plugin for role/plugin's tests: its
// Roles is a variable holding a function, not a function, so the plugin's
// symbol is a pointer.
package main

import "github.com/picogo/picogo/role"

// Roles is a func-typed variable: the mistake this plugin exists for.
var Roles = func() []role.Role { return nil }

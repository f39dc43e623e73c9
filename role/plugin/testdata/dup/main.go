// Command dup is a role plugin for role/plugin's tests that defines a role
// named like hello's.
package main

import (
	"context"

	"github.com/picogo/picogo/role"
)

// Roles is what role/plugin.Load looks up.
func Roles() []role.Role { return []role.Role{impostor{}} }

type impostor struct{}

func (impostor) Name() string                              { return "hello" }
func (impostor) Version() string                           { return "9.9.9" }
func (impostor) Dependencies() []string                    { return nil }
func (impostor) OnceDDL() []string                         { return nil }
func (impostor) Init(context.Context, *role.Context) error { return nil }
func (impostor) Stop(context.Context, *role.Context) error { return nil }
func (impostor) Handlers() map[string]role.Handler         { return nil }

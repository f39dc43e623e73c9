// Command roleapp is picogo with two test roles compiled in, for
// TestIntegrationRoles: hello (its once-per-cluster DDL creates a table;
// Init and Stop leave a file in $ROLEAPP_DIR; a handler greets) and broken
// (its Init always fails).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/picogo/picogo"
	"github.com/picogo/picogo/role"
)

type hello struct{}

func (hello) Name() string           { return "hello" }
func (hello) Version() string        { return "1.2.3" }
func (hello) Dependencies() []string { return nil }
func (hello) OnceDDL() []string {
	return []string{"CREATE TABLE hello_log (id INT PRIMARY KEY, note TEXT) DISTRIBUTED GLOBALLY"}
}
func (hello) Init(_ context.Context, c *role.Context) error { return mark("hello-started") }
func (hello) Stop(_ context.Context, c *role.Context) error { return mark("hello-stopped") }
func (hello) Handlers() map[string]role.Handler {
	return map[string]role.Handler{"greet": func(_ context.Context, _ *role.Context, args []any) (any, error) {
		return fmt.Sprintf("hello, %v", args), nil
	}}
}

type broken struct{}

func (broken) Name() string           { return "broken" }
func (broken) Version() string        { return "0.0.1" }
func (broken) Dependencies() []string { return []string{"hello"} }
func (broken) OnceDDL() []string      { return nil }
func (broken) Init(context.Context, *role.Context) error {
	return errors.New("broken: no configuration")
}
func (broken) Stop(context.Context, *role.Context) error { return nil }
func (broken) Handlers() map[string]role.Handler         { return nil }

// mark leaves an empty file named name in $ROLEAPP_DIR.
func mark(name string) error {
	return os.WriteFile(filepath.Join(os.Getenv("ROLEAPP_DIR"), name), nil, 0o644)
}

func main() { picogo.Main(hello{}, broken{}) }

// Command hello is a role plugin for role/plugin's tests: built with
// go build -buildmode=plugin, it exports Roles.
package main

import (
	"context"
	"fmt"

	"github.com/picogo/picogo/role"
	"github.com/prometheus/client_golang/prometheus"
)

// version is set with -ldflags "-X main.version=..." to build a second
// version of the same plugin.
var version = "1.0.0"

// Roles is what role/plugin.Load looks up.
func Roles() []role.Role { return []role.Role{&hello{}} }

type hello struct {
	greeting string
	greeted  prometheus.Counter
}

func (h *hello) Name() string           { return "hello" }
func (h *hello) Version() string        { return version }
func (h *hello) Dependencies() []string { return nil }
func (h *hello) OnceDDL() []string {
	return []string{"CREATE TABLE greetings (name TEXT PRIMARY KEY, n INT) DISTRIBUTED BY (name)"}
}

func (h *hello) Init(_ context.Context, c *role.Context) error {
	g, ok := c.Config["greeting"].(string)
	if !ok {
		return fmt.Errorf("config: greeting (a string) is missing")
	}
	h.greeting = g
	h.greeted = prometheus.NewCounter(prometheus.CounterOpts{Name: "hello_greeted_total", Help: "Greetings served."})
	c.Log.Info("hello started", "greeting", g)
	return c.Metrics.Register(h.greeted)
}

func (h *hello) Stop(context.Context, *role.Context) error { return nil }

func (h *hello) Handlers() map[string]role.Handler {
	return map[string]role.Handler{
		"greet": func(_ context.Context, _ *role.Context, args []any) (any, error) {
			if len(args) != 1 {
				return nil, fmt.Errorf("greet takes a name")
			}
			h.greeted.Inc()
			return fmt.Sprintf("%s, %v (from hello %s)", h.greeting, args[0], version), nil
		},
	}
}

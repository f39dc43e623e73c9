// Command roleplugin is a role plugin (go build -buildmode=plugin) for
// TestIntegrationRoleAppDir: role plugged, whose once-per-cluster DDL
// creates a table, and whose Init registers a metric and records the
// instance it runs on in that table through its Context's SQL.
package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/picogo/picogo/role"
	"github.com/prometheus/client_golang/prometheus"
)

// Roles is what role/plugin.Load looks up.
func Roles() []role.Role { return []role.Role{plugged{}} }

type plugged struct{}

func (plugged) Name() string           { return "plugged" }
func (plugged) Version() string        { return "0.1.0" }
func (plugged) Dependencies() []string { return nil }
func (plugged) OnceDDL() []string {
	return []string{"CREATE TABLE plugged_log (instance TEXT PRIMARY KEY, tier TEXT) DISTRIBUTED GLOBALLY"}
}

func (plugged) Init(ctx context.Context, c *role.Context) error {
	inits := prometheus.NewCounter(prometheus.CounterOpts{Name: "plugged_inits_total", Help: "Starts of plugged."})
	inits.Inc()
	if err := c.Metrics.Register(inits); err != nil {
		return err
	}
	if c.SQL == nil {
		return errors.New("the context has no SQL")
	}
	if _, err := c.SQL.SQL(ctx, "DELETE FROM plugged_log WHERE instance = $1", c.Instance.Name); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	if _, err := c.SQL.SQL(ctx, "INSERT INTO plugged_log VALUES ($1, $2)", c.Instance.Name, c.Instance.Tier); err != nil {
		return fmt.Errorf("insert: %w", err)
	}
	return nil
}

func (plugged) Stop(context.Context, *role.Context) error { return nil }

func (plugged) Handlers() map[string]role.Handler { return nil }

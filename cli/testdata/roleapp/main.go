// Command roleapp is picogo with two test roles compiled in, for
// TestIntegrationRoles and TestIntegrationRoleContext: hello (its
// once-per-cluster DDL creates a table; Init and Stop leave a file in
// $ROLEAPP_DIR; Init also registers a metric, runs SQL through its
// Context and writes what it saw to hello-context-<instance> there; a
// handler greets) and broken (its Init always fails).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/picogo/picogo"
	"github.com/picogo/picogo/role"
	"github.com/prometheus/client_golang/prometheus"
)

type hello struct{}

func (hello) Name() string           { return "hello" }
func (hello) Version() string        { return "1.2.3" }
func (hello) Dependencies() []string { return nil }
func (hello) OnceDDL() []string {
	return []string{"CREATE TABLE hello_log (id INT PRIMARY KEY, note TEXT) DISTRIBUTED GLOBALLY"}
}
func (hello) Init(ctx context.Context, c *role.Context) error {
	inits := prometheus.NewCounter(prometheus.CounterOpts{Name: "roleapp_hello_inits_total", Help: "Starts of hello."})
	inits.Inc()
	if err := c.Metrics.Register(inits); err != nil {
		return err
	}
	if err := seen(ctx, c); err != nil {
		return err
	}
	return mark("hello-started")
}

// seen writes what hello's Context gives into hello-context-<instance> as
// JSON: the instance, and the answers of its SQL.
func seen(ctx context.Context, c *role.Context) error {
	if c.SQL == nil {
		return errors.New("the context has no SQL")
	}
	id := time.Now().UnixNano()
	note := c.Instance.Name + " " + c.Instance.Replicaset + " " + c.Instance.Tier
	ins, err := c.SQL.SQL(ctx, "INSERT INTO hello_log VALUES ($1, $2)", id, note)
	if err != nil {
		return fmt.Errorf("insert: %w", err)
	}
	sel, err := c.SQL.SQL(ctx, "SELECT id, note FROM hello_log WHERE id = $1", id)
	if err != nil {
		return fmt.Errorf("select: %w", err)
	}
	dt, err := c.SQL.SQL(ctx, "SELECT $1 AS at", time.Date(2026, 12, 6, 11, 0, 0, 0, time.UTC))
	if err != nil {
		return fmt.Errorf("select a datetime: %w", err)
	}
	_, badErr := c.SQL.SQL(ctx, "SELECT * FROM no_such_table")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, cancelErr := c.SQL.SQL(cancelled, "SELECT 1")
	got := map[string]any{
		"instance": c.Instance, "insert_count": ins.RowCount,
		"columns": sel.Columns, "rows": sel.Rows, "row_count": sel.RowCount,
		"bad_sql": fmt.Sprint(badErr), "cancelled": errors.Is(cancelErr, context.Canceled),
	}
	if len(dt.Rows) == 1 && len(dt.Rows[0]) == 1 {
		got["datetime"] = fmt.Sprintf("%T %v", dt.Rows[0][0], dt.Rows[0][0])
	}
	if len(sel.Rows) == 1 && len(sel.Rows[0]) == 2 {
		got["id_type"] = fmt.Sprintf("%T", sel.Rows[0][0])
		got["id_matches"] = sel.Rows[0][0] == any(id)
	}
	b, err := json.Marshal(got)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(os.Getenv("ROLEAPP_DIR"), "hello-context-"+c.Instance.Name), b, 0o644)
}
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

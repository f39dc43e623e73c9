package role_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/picogo/picogo/role"
	"github.com/picogo/picogo/role/runner"
	"github.com/prometheus/client_golang/prometheus"
)

// shouter is a whole role: it keeps a counter in the role's registry and
// exports one handler.
type shouter struct {
	shouts prometheus.Counter
}

func (s *shouter) Name() string           { return "shouter" }
func (s *shouter) Version() string        { return "1.0.0" }
func (s *shouter) Dependencies() []string { return nil }
func (s *shouter) OnceDDL() []string {
	return []string{"CREATE TABLE shouts (id INT PRIMARY KEY, text TEXT) DISTRIBUTED BY (id)"}
}

func (s *shouter) Init(_ context.Context, c *role.Context) error {
	s.shouts = prometheus.NewCounter(prometheus.CounterOpts{Name: "shouts_total", Help: "Shouts served."})
	c.Log.Info("shouter starts", "tier", c.Instance.Tier)
	return c.Metrics.Register(s.shouts)
}

func (s *shouter) Stop(context.Context, *role.Context) error { return nil }

func (s *shouter) Handlers() map[string]role.Handler {
	return map[string]role.Handler{
		"shout": func(_ context.Context, c *role.Context, args []any) (any, error) {
			text, ok := args[0].(string)
			if !ok {
				return nil, fmt.Errorf("shout: want a string, got %T", args[0])
			}
			s.shouts.Inc()
			return strings.ToUpper(text) + c.Config["suffix"].(string), nil
		},
	}
}

// An application's role, run the way the daemon runs it.
func Example() {
	results := make(chan func(), 1)
	r, err := runner.New(runner.Config{
		Roles:    []role.Role{&shouter{}},
		Instance: role.Instance{Name: "i1", Tier: "default"},
		Post:     func(f func()) { results <- f }, // the daemon posts to its event loop
	})
	if err != nil {
		panic(err)
	}
	r.Start("shouter", map[string]any{"suffix": "!"}, func(err error) { fmt.Println("started:", err) })
	(<-results)()
	r.Call("shouter", "shout", []any{"hello"}, time.Second, func(v any, err error) { fmt.Println(v, err) })
	(<-results)()
	r.Call("shouter", "shout", []any{42}, time.Second, func(v any, err error) { fmt.Println(v, err) })
	(<-results)()
	r.Stop("shouter", func(err error) { fmt.Println("stopped:", err) })
	(<-results)()
	// Output:
	// started: <nil>
	// HELLO! <nil>
	// <nil> shout: want a string, got int
	// stopped: <nil>
}

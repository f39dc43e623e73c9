package roles

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/picogo/picogo/role"
)

// Metrics is the metrics role: a sidecar that storage and api depend on,
// so it starts before them and stops after them on an instance. It owns
// the application's metrics and registers them in its role registry
// (c.Metrics) when it starts; the other roles report through it.
//
//	kv_requests_total{op, result}   storage's handlers and api's HTTP
//	                                requests served, op "put", "get",
//	                                "http_put", "http_get"; result "ok",
//	                                "not_found" or "error"
//	kv_http_in_flight               api's HTTP requests being served
type Metrics struct {
	requests *prometheus.CounterVec
	inFlight prometheus.Gauge
}

// NewMetrics makes the metrics; they live as long as the process, across
// restarts of the role (a restart registers them in its fresh registry).
func NewMetrics() *Metrics {
	return &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kv_requests_total", Help: "kv requests served, by operation and result.",
		}, []string{"op", "result"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kv_http_in_flight", Help: "kv HTTP requests being served.",
		}),
	}
}

func (*Metrics) Name() string           { return "metrics" }
func (*Metrics) Version() string        { return "1.0.0" }
func (*Metrics) Dependencies() []string { return nil }
func (*Metrics) OnceDDL() []string      { return nil }

func (m *Metrics) Init(_ context.Context, c *role.Context) error {
	for _, col := range []prometheus.Collector{m.requests, m.inFlight} {
		if err := c.Metrics.Register(col); err != nil {
			return err
		}
	}
	return nil
}

func (*Metrics) Stop(context.Context, *role.Context) error { return nil }

// Handlers: one, requests, answers kv_requests_total on this instance as a
// map "op/result" -> count (for a look without Prometheus).
func (m *Metrics) Handlers() map[string]role.Handler {
	return map[string]role.Handler{"requests": func(context.Context, *role.Context, []any) (any, error) {
		return m.Counts(), nil
	}}
}

// Count counts one request of op with its result.
func (m *Metrics) Count(op, result string) { m.requests.WithLabelValues(op, result).Inc() }

// Counts is kv_requests_total as "op/result" -> count.
func (m *Metrics) Counts() map[string]any {
	out := map[string]any{}
	ch := make(chan prometheus.Metric)
	go func() { m.requests.Collect(ch); close(ch) }()
	for metric := range ch {
		var op, result string
		var pb dto.Metric
		if metric.Write(&pb) != nil {
			continue
		}
		for _, l := range pb.GetLabel() {
			switch l.GetName() {
			case "op":
				op = l.GetValue()
			case "result":
				result = l.GetValue()
			}
		}
		out[op+"/"+result] = uint64(pb.GetCounter().GetValue())
	}
	return out
}

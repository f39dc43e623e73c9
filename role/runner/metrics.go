package runner

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Names of the Runner's own metrics (Collector).
const (
	MetricStatus      = "picogo_role_status"
	MetricCallsActive = "picogo_role_calls_in_flight"
	MetricCallbacks   = "picogo_role_callbacks_total"
)

var (
	statusDesc = prometheus.NewDesc(MetricStatus,
		"Where each role is in its lifecycle on this instance: 1 for its status, 0 for the others.",
		[]string{RoleLabel, "status"}, nil)
	callsDesc = prometheus.NewDesc(MetricCallsActive,
		"Handler calls of each role that have not returned, abandoned ones included.",
		[]string{RoleLabel}, nil)
)

func newOutcomes() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: MetricCallbacks,
		Help: "Role callbacks by role, callback (Init, Stop, OnConfigChange, OnLeaderChange, handler <name>) and outcome (ok, error, panic, timeout).",
	}, []string{RoleLabel, "callback", "outcome"})
}

// count records the outcome of a callback, once, when its caller learns
// it.
func (r *Runner) count(e *entry, what string, err error) {
	outcome := "ok"
	var panicked *PanicError
	var deadline *DeadlineError
	switch {
	case errors.As(err, &panicked):
		outcome = "panic"
	case errors.As(err, &deadline):
		outcome = "timeout"
	case err != nil:
		outcome = "error"
	}
	r.outcomes.WithLabelValues(e.name, what, outcome).Inc()
}

// Collector returns the Runner's own metrics, for the daemon to register:
// each role's status (MetricStatus), its handler calls in flight
// (MetricCallsActive), and its callbacks by outcome (MetricCallbacks),
// which is where a role that panics or times out shows.
func (r *Runner) Collector() prometheus.Collector { return collector{r} }

type collector struct{ r *Runner }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- statusDesc
	ch <- callsDesc
	c.r.outcomes.Describe(ch)
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.r.StateList() {
		for st := Stopped; st <= Failed; st++ {
			v := 0.0
			if s.Status == st {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(statusDesc, prometheus.GaugeValue, v, s.Name, st.String())
		}
		ch <- prometheus.MustNewConstMetric(callsDesc, prometheus.GaugeValue, float64(s.Calls), s.Name)
	}
	c.r.outcomes.Collect(ch)
}

// RoleLabel is the label Gatherer adds to every metric of a role.
const RoleLabel = "role"

// Gatherer returns the metrics of the roles that are not stopped or failed,
// each labelled role="<name>", for the daemon to serve on /metrics
// (prometheus.Gatherers{prometheus.DefaultGatherer, r.Gatherer()}). Roles
// may export metrics of the same name if they agree on the help and type;
// a metric a role already labels "role" is left out, with an error.
func (r *Runner) Gatherer() prometheus.Gatherer { return gatherer{r} }

type gatherer struct{ r *Runner }

func (g gatherer) Gather() ([]*dto.MetricFamily, error) {
	g.r.mu.Lock()
	var gs prometheus.Gatherers
	for _, name := range sortedNames(g.r.roles) {
		if e := g.r.roles[name]; e.c != nil {
			gs = append(gs, labelled{role: name, reg: e.c.Metrics})
		}
	}
	g.r.mu.Unlock()
	return gs.Gather()
}

// labelled gathers a role's registry and labels its metrics with the
// role's name.
type labelled struct {
	role string
	reg  prometheus.Gatherer
}

func (l labelled) Gather() ([]*dto.MetricFamily, error) {
	families, err := l.reg.Gather()
	if err != nil {
		err = fmt.Errorf("role %s: %w", l.role, err)
	}
	kept := families[:0]
	for _, f := range families {
		clash := false
		for _, m := range f.Metric {
			if slices.ContainsFunc(m.Label, func(p *dto.LabelPair) bool { return p.GetName() == RoleLabel }) {
				clash = true
				break
			}
		}
		if clash {
			err = joinErr(err, fmt.Errorf("role %s: metric %s has its own %q label; left out", l.role, f.GetName(), RoleLabel))
			continue
		}
		for _, m := range f.Metric {
			m.Label = append(m.Label, &dto.LabelPair{Name: ptr(RoleLabel), Value: ptr(l.role)})
			slices.SortFunc(m.Label, func(a, b *dto.LabelPair) int { return strings.Compare(a.GetName(), b.GetName()) })
		}
		kept = append(kept, f)
	}
	return kept, err
}

func joinErr(a, b error) error {
	if a == nil {
		return b
	}
	return fmt.Errorf("%w; %w", a, b)
}

func ptr[T any](v T) *T { return &v }

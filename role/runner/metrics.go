package runner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

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

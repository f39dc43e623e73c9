package runner

import (
	"errors"
	"slices"

	"github.com/picogo/picogo/role"
)

// HostRoles is a Runner as the daemon's host (runtime.Host) asks for role
// code: Start and Stop by name, done with the role's version and the
// error. The configuration a role starts with comes from a function, as
// the host's requests carry none.
type HostRoles struct {
	r      *Runner
	config func(name string) map[string]any
}

// ForHost returns r as the host's role runner; config gives a role's
// configuration when it starts (nil: none).
func (r *Runner) ForHost(config func(name string) map[string]any) *HostRoles {
	return &HostRoles{r: r, config: config}
}

// Start is Runner.Start with the role's configuration from config, done
// also getting the role's version ("" for no such role).
func (h *HostRoles) Start(name string, done func(version string, err error)) {
	var cfg map[string]any
	if h.config != nil {
		cfg = h.config(name)
	}
	version := h.r.version(name)
	h.r.Start(name, cfg, func(err error) { done(version, err) })
}

// Stop is Runner.Stop, done also getting the role's version.
func (h *HostRoles) Stop(name string, done func(version string, err error)) {
	version := h.r.version(name)
	h.r.Stop(name, func(err error) { done(version, err) })
}

func (r *Runner) version(name string) string {
	if e, ok := r.roles[name]; ok {
		return e.version // fixed at New
	}
	return ""
}

// StopAll stops every role that is not stopped, dependents before their
// dependencies (the reverse of role.Order), one at a time, for an instance
// that shuts down gracefully; a role that fails to stop does not keep the
// others from stopping. done gets every error, joined.
func (r *Runner) StopAll(done func(error)) {
	r.mu.Lock()
	var names []string
	for _, name := range sortedNames(r.roles) {
		if r.roles[name].status != Stopped {
			names = append(names, name)
		}
	}
	r.mu.Unlock()
	// The roles passed New's validation: Order cannot fail on them.
	order, err := role.Order(r.cfg.Roles, names)
	if err != nil {
		r.fail(done, err)
		return
	}
	if len(order) == 0 {
		r.answer(func() { done(nil) })
		return
	}
	slices.Reverse(order)
	var errs []error
	var next func(i int)
	next = func(i int) {
		if i == len(order) {
			done(errors.Join(errs...))
			return
		}
		r.Stop(order[i], func(err error) {
			if err != nil {
				errs = append(errs, err)
			}
			next(i + 1)
		})
	}
	next(0)
}

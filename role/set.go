package role

import (
	"errors"
	"fmt"
	"github.com/picogo/picogo/core/tables"
	"slices"
	"strings"
)

// ValidName reports whether name is a well-formed role name, [a-z0-9_]+.
func ValidName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Validate checks that roles can run together: none is nil, names are
// well-formed and unique, versions are semantic versions, no OnceDDL
// statement is blank, handlers have names and are not nil, every
// dependency is among roles, and no role depends on itself, directly or
// through others. It reports every problem
// it finds, in the order of roles.
func Validate(roles []Role) error {
	var errs []error
	byName := make(map[string]Role, len(roles))
	// first is the roles kept in byName, by index: roles are compared by
	// index, as their dynamic types need not be comparable.
	first := make(map[int]bool, len(roles))
	for i, r := range roles {
		if r == nil {
			errs = append(errs, fmt.Errorf("role #%d is nil", i))
			continue
		}
		name := r.Name()
		if !ValidName(name) {
			errs = append(errs, fmt.Errorf("role %q: a name is [a-z0-9_]+", name))
		}
		if _, dup := byName[name]; dup {
			errs = append(errs, fmt.Errorf("role %q: defined twice", name))
			continue
		}
		byName[name] = r
		first[i] = true
		if _, err := ParseVersion(r.Version()); err != nil {
			errs = append(errs, fmt.Errorf("role %q: %w", name, err))
		}
		for i, stmt := range r.OnceDDL() {
			if strings.TrimSpace(stmt) == "" {
				errs = append(errs, fmt.Errorf("role %q: OnceDDL statement #%d is blank", name, i))
			}
		}
		handlers := r.Handlers()
		for _, h := range sortedKeys(handlers) {
			if h == "" {
				errs = append(errs, fmt.Errorf("role %q: a handler without a name", name))
			} else if handlers[h] == nil {
				errs = append(errs, fmt.Errorf("role %q: handler %q is nil", name, h))
			}
		}
	}
	for i, r := range roles {
		if !first[i] {
			continue
		}
		for _, d := range r.Dependencies() {
			if _, ok := byName[d]; !ok {
				errs = append(errs, fmt.Errorf("role %q depends on %q, which is not a role", r.Name(), d))
			}
		}
	}
	if len(errs) == 0 {
		if cycle := findCycle(byName); cycle != nil {
			errs = append(errs, fmt.Errorf("roles depend on each other in a cycle: %s", strings.Join(cycle, " -> ")))
		}
	}
	return errors.Join(errs...)
}

// AppendedDDL returns the OnceDDL statements that a role's version with
// statements next adds to the statements applied, those of a version the
// cluster has applied: next must begin with applied, unchanged, as a
// statement applied once cannot be taken back or changed.
func AppendedDDL(applied, next []string) ([]string, error) { return tables.AppendedDDL(applied, next) }

// findCycle returns a dependency cycle among roles (first and last name the
// same), or nil. Roles are visited by name so that the cycle reported is
// always the same one.
func findCycle(byName map[string]Role) []string {
	const (
		unvisited = iota
		onPath
		done
	)
	mark := make(map[string]int, len(byName))
	var path []string
	var visit func(name string) []string
	visit = func(name string) []string {
		switch mark[name] {
		case onPath:
			i := slices.Index(path, name)
			return append(slices.Clone(path[i:]), name)
		case done:
			return nil
		}
		mark[name] = onPath
		path = append(path, name)
		deps := slices.Clone(byName[name].Dependencies())
		slices.Sort(deps)
		for _, d := range deps {
			if _, ok := byName[d]; !ok {
				continue
			}
			if c := visit(d); c != nil {
				return c
			}
		}
		path = path[:len(path)-1]
		mark[name] = done
		return nil
	}
	for _, name := range sortedKeys(byName) {
		if c := visit(name); c != nil {
			return c
		}
	}
	return nil
}

// Order returns names and every role they depend on, directly or not, in
// the order to start them: each role after all its dependencies, and among
// roles free to go next, the one whose name sorts first. The order to stop
// them is the reverse. The result depends only on roles' names and
// dependencies, never on the order of roles or names; duplicates in names
// count once. A name that is no role, or a cycle, is an error.
func Order(roles []Role, names []string) ([]string, error) {
	byName := make(map[string]Role, len(roles))
	for _, r := range roles {
		if r != nil {
			byName[r.Name()] = r
		}
	}
	// The closure of names under Dependencies.
	need := make(map[string]bool)
	todo := slices.Clone(names)
	for len(todo) > 0 {
		name := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if need[name] {
			continue
		}
		r, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("no role %q", name)
		}
		need[name] = true
		todo = append(todo, r.Dependencies()...)
	}
	// Kahn's algorithm, taking the smallest ready name each time.
	waiting := make(map[string]int, len(need)) // unstarted dependencies
	dependents := make(map[string][]string)
	for name := range need {
		deps := slices.Clone(byName[name].Dependencies())
		slices.Sort(deps)
		deps = slices.Compact(deps)
		waiting[name] = len(deps)
		for _, d := range deps {
			dependents[d] = append(dependents[d], name)
		}
	}
	var ready, order []string
	for name, n := range waiting {
		if n == 0 {
			ready = append(ready, name)
		}
	}
	for len(ready) > 0 {
		slices.Sort(ready)
		name := ready[0]
		ready = ready[1:]
		order = append(order, name)
		for _, d := range dependents[name] {
			if waiting[d]--; waiting[d] == 0 {
				ready = append(ready, d)
			}
		}
	}
	if len(order) < len(need) {
		if cycle := findCycle(restrict(byName, need)); cycle != nil {
			return nil, fmt.Errorf("roles depend on each other in a cycle: %s", strings.Join(cycle, " -> "))
		}
		return nil, fmt.Errorf("roles depend on each other in a cycle")
	}
	return order, nil
}

func restrict(byName map[string]Role, keep map[string]bool) map[string]Role {
	m := make(map[string]Role, len(keep))
	for name := range keep {
		m[name] = byName[name]
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

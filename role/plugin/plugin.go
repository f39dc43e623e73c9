package plugin

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"plugin"
	"strings"

	"github.com/picogo/picogo/role"
)

// Symbol is what a role plugin exports: a function with this name and the
// type func() []role.Role.
const Symbol = "Roles"

// Load opens every *.so file directly in dir, in name order, and returns
// the roles their Roles functions return. Every problem is an error naming
// its file, and any problem fails the whole load (an instance runs with
// the roles the cluster expects, or not at all): a file that does not open
// as a plugin (plugin.Open's reason is kept: another Go version, another
// version of a package, not a Go plugin, no plugin support), no Roles, a
// Roles of the wrong type, a Roles that panics or returns a nil role, and
// a role name two files define. Dependencies are not checked here: a
// plugin's role may depend on a compiled-in one, so the whole set is
// checked where it is assembled (runner.New validates it).
func Load(dir string) ([]role.Role, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("role plugins: %w", err)
	}
	var roles []role.Role
	var errs []error
	from := make(map[string]string) // role name -> the file defining it
	for _, d := range entries {
		if d.IsDir() || !strings.HasSuffix(d.Name(), ".so") {
			continue
		}
		path := filepath.Join(dir, d.Name())
		got, err := open(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("role plugin %s: %w", path, err))
			continue
		}
		for _, r := range got {
			if other, dup := from[r.Name()]; dup {
				errs = append(errs, fmt.Errorf("role plugin %s: role %q is also defined by %s", path, r.Name(), other))
				continue
			}
			from[r.Name()] = path
			roles = append(roles, r)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return roles, nil
}

// open loads the plugin at path and calls its Roles.
func open(path string) (roles []role.Role, err error) {
	p, err := plugin.Open(path)
	if err != nil {
		return nil, err
	}
	sym, err := p.Lookup(Symbol)
	if err != nil {
		return nil, fmt.Errorf("it exports no %s (a func() []role.Role)", Symbol)
	}
	fn, ok := sym.(func() []role.Role)
	if !ok {
		return nil, fmt.Errorf("its %s is a %T, not a func() []role.Role", Symbol, sym)
	}
	defer func() {
		if v := recover(); v != nil {
			roles, err = nil, fmt.Errorf("its %s panicked: %v", Symbol, v)
		}
	}()
	roles = fn()
	for i, r := range roles {
		if r == nil {
			return nil, fmt.Errorf("its %s returned a nil role (#%d)", Symbol, i)
		}
	}
	return roles, nil
}

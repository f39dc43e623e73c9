package cli

import (
	"fmt"
	"log/slog"
	"slices"

	"github.com/picogo/picogo/role"
	roleplugin "github.com/picogo/picogo/role/plugin"
)

// appRoles are the roles an instance runs: the binary's own (compiled),
// then those of every *.so in --app-dir (role/plugin.Load; none without
// it). A plugin that does not load fails the start, and so does a role
// name defined both by the binary and by a plugin (two plugins defining
// one name fail in Load).
func appRoles(compiled []role.Role, appDir string, log *slog.Logger) ([]role.Role, error) {
	if appDir == "" {
		return compiled, nil
	}
	loaded, err := roleplugin.Load(appDir)
	if err != nil {
		return nil, fmt.Errorf("--app-dir: %w", err)
	}
	var names []string
	for _, r := range loaded {
		if slices.ContainsFunc(compiled, func(c role.Role) bool { return c != nil && c.Name() == r.Name() }) {
			return nil, fmt.Errorf("--app-dir %s: role %q is compiled into the binary too", appDir, r.Name())
		}
		names = append(names, r.Name()+" "+r.Version())
	}
	log.Info("roles loaded from --app-dir", "app_dir", appDir, "roles", names)
	return append(slices.Clone(compiled), loaded...), nil
}

package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/picogo/picogo/internal/procs"
)

// start starts argv (argv[0] a path or a name on PATH) through ps, with
// env added to the bench's own environment minus PICOGO_* (a developer's
// settings must not leak in); stdout and stderr go to logPath.
func start(ps *procs.Registry, name, logPath string, env []string, dir string, argv ...string) (*procs.Process, error) {
	return ps.Start(procs.Command{Name: name, Argv: argv, Env: procs.Env(env...), Dir: dir, LogPath: logPath,
		Banner: fmt.Sprintf("=== bench: starting %s: %s", name, strings.Join(argv, " "))})
}

// exited reports how the process ended, if it has.
func exited(p *procs.Process) (string, bool) {
	state, gone := p.Exited()
	if !gone {
		return "", false
	}
	return fmt.Sprintf("%s exited by itself (%v); its log: %s", p.Name(), state, p.LogPath()), true
}

// cpuOf is a function summing the CPU time of ps.
func cpuOf(ps ...*procs.Process) func() time.Duration {
	return func() time.Duration {
		var t time.Duration
		for _, p := range ps {
			t += p.CPUTime()
		}
		return t
	}
}

// alive is a function that fails if a process started and not killed has
// exited.
func alive(ps *procs.Registry) func() error {
	return func() error {
		for _, p := range ps.Exited() {
			how, _ := exited(p)
			return errors.New(how)
		}
		return nil
	}
}

// poll calls check every 50 ms until it returns nil, ctx ends or timeout
// passes, and fails at once if one of the watched processes exits.
func poll(ctx context.Context, timeout time.Duration, what string, watch []*procs.Process, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return nil
		}
		for _, p := range watch {
			if how, gone := exited(p); gone {
				return fmt.Errorf("%s: %s", what, how)
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not within %v: %w", what, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

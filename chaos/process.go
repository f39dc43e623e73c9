package chaos

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/picogo/picogo/internal/procs"
)

// instance is one `picogo run` process, restartable with the same flags and
// data directory. It runs in its own process group, which is what kill,
// pause and resume signal.
type instance struct {
	name    string // i1, i2, ...: the run's name for it
	addr    string // --listen and --advertise
	dataDir string
	logPath string
	args    []string
	env     []string
	// raftID is learnt once the cluster has formed; a restarted instance
	// keeps it.
	raftID uint64
	// exitedByItself is called when the process ends without being
	// killed by the run.
	exitedByItself func(in *instance, how string)

	mu     sync.Mutex
	proc   *procs.Process // nil while not running
	paused bool
	starts int
}

// running reports whether the process is up (possibly paused).
func (in *instance) running() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.proc != nil
}

func (in *instance) isPaused() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.paused
}

// note appends a line to the instance's log.
func (in *instance) note(format string, a ...any) {
	_ = procs.AppendLog(in.logPath, fmt.Sprintf("=== chaos %s: %s", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, a...)))
}

// start starts the process with the instance's flags; its output goes to
// the instance's log.
func (in *instance) start() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.proc != nil {
		return fmt.Errorf("%s: start while running", in.name)
	}
	p, err := procs.Start(procs.Command{Name: in.name, Argv: in.args, Env: in.env, LogPath: in.logPath,
		Banner: fmt.Sprintf("=== chaos %s: starting %s: %s", time.Now().Format("15:04:05.000"), in.name, strings.Join(in.args[1:], " "))})
	if err != nil {
		return err
	}
	in.proc, in.paused = p, false
	in.starts++
	go func() {
		<-p.Done()
		state, _ := p.Exited()
		in.mu.Lock()
		byItself := in.proc == p // kill clears proc before signalling
		if byItself {
			in.proc, in.paused = nil, false
		}
		in.mu.Unlock()
		if byItself {
			in.note("%s exited by itself: %v", in.name, state)
			if in.exitedByItself != nil {
				in.exitedByItself(in, state.String())
			}
		}
	}()
	return nil
}

// kill sends SIGKILL to the process group and waits until the process is
// reaped (at most 10 s). Killing an instance that is not running does
// nothing.
func (in *instance) kill() error {
	in.mu.Lock()
	p := in.proc
	in.proc, in.paused = nil, false
	in.mu.Unlock()
	if p == nil {
		return nil
	}
	if err := p.Kill(); err != nil {
		return err
	}
	in.note("killed %s (SIGKILL)", in.name)
	return nil
}

// pause stops the process group with SIGSTOP.
func (in *instance) pause() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.proc == nil {
		return fmt.Errorf("%s: pause while not running", in.name)
	}
	if err := in.proc.Pause(); err != nil {
		return err
	}
	in.paused = true
	return nil
}

// resume continues a paused process group with SIGCONT.
func (in *instance) resume() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.proc == nil || !in.paused {
		return nil
	}
	if err := in.proc.Resume(); err != nil {
		return err
	}
	in.paused = false
	return nil
}

// logTail is the last n bytes of the instance's log.
func (in *instance) logTail(n int) string {
	tail, err := procs.LogTail(in.logPath, n)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	return tail
}

// newInstances prepares n instances under dir that form one cluster when
// started: the same --peer list, each with its own data directory and
// log; and extra more, i(n+1)..., that join that cluster when started
// (their --peer is the first n). more is added to every instance's flags.
// Nothing is started.
func newInstances(dir, binary string, n, extra int, tick time.Duration, servicePassword, adminPassword string, more ...string) (ins, extras []*instance, err error) {
	addrs, err := procs.FreeAddrs(n + extra)
	if err != nil {
		return nil, nil, err
	}
	// Sorted, so that i1 has the smallest address: it boots the cluster.
	slices.Sort(addrs)
	peers := strings.Join(addrs[:n], ",")
	env := procs.Env("PICOGO_ADMIN_PASSWORD=" + adminPassword)
	for i, addr := range addrs {
		name := fmt.Sprintf("i%d", i+1)
		in := &instance{name: name, addr: addr,
			dataDir: filepath.Join(dir, name), logPath: filepath.Join(dir, name+".log"), env: env}
		in.args = []string{binary, "run",
			"--data-dir", in.dataDir, "--listen", addr, "--advertise", addr, "--peer", peers,
			"--tick", tick.String(), "--service-password", servicePassword, "--log-level", "info"}
		in.args = append(in.args, more...)
		if i < n {
			ins = append(ins, in)
		} else {
			extras = append(extras, in)
		}
	}
	return ins, extras, nil
}

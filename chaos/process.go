package chaos

import (
	"errors"
	"fmt"
	stdnet "net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
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
	proc   *os.Process
	exited chan struct{} // closed when proc has been reaped
	paused bool
	starts int
}

// freeAddrs returns n distinct free loopback addresses, sorted. The
// listeners are held until all n are chosen, so the n differ.
func freeAddrs(n int) ([]string, error) {
	var lns []stdnet.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	addrs := make([]string, n)
	for i := range addrs {
		ln, err := stdnet.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		lns = append(lns, ln)
		addrs[i] = ln.Addr().String()
	}
	slices.Sort(addrs)
	return addrs, nil
}

// processEnv is this process's environment without PICOGO_* (an
// operator's settings must not leak in), plus admin's password.
func processEnv(adminPassword string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PICOGO_") {
			env = append(env, kv)
		}
	}
	return append(env, "PICOGO_ADMIN_PASSWORD="+adminPassword)
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
	if f, err := os.OpenFile(in.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
		fmt.Fprintf(f, "=== chaos %s: %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, a...))
		f.Close()
	}
}

// start starts the process with the instance's flags; its output goes to
// the instance's log.
func (in *instance) start() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.proc != nil {
		return fmt.Errorf("%s: start while running", in.name)
	}
	logFile, err := os.OpenFile(in.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close() // the child holds its own descriptor
	fmt.Fprintf(logFile, "=== chaos %s: starting %s: %s\n", time.Now().Format("15:04:05.000"), in.name, strings.Join(in.args[1:], " "))
	proc, err := os.StartProcess(in.args[0], in.args, &os.ProcAttr{
		Env:   in.env,
		Files: []*os.File{nil, logFile, logFile},
		Sys: &syscall.SysProcAttr{
			// Its own process group: kill, pause and resume signal the
			// group, so nothing it might start survives it.
			Setpgid: true,
			// The kernel kills it if this process dies without
			// cleaning up.
			Pdeathsig: syscall.SIGKILL,
		},
	})
	if err != nil {
		return fmt.Errorf("%s: starting %s: %w", in.name, in.args[0], err)
	}
	exited := make(chan struct{})
	in.proc, in.exited, in.paused = proc, exited, false
	in.starts++
	go func() {
		state, _ := proc.Wait()
		in.mu.Lock()
		byItself := in.proc == proc // kill clears proc before signalling
		if byItself {
			in.proc, in.paused = nil, false
		}
		in.mu.Unlock()
		close(exited)
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
	proc, exited := in.proc, in.exited
	in.proc, in.paused = nil, false
	in.mu.Unlock()
	if proc == nil {
		return nil
	}
	_ = syscall.Kill(-proc.Pid, syscall.SIGKILL)
	_ = proc.Kill() // in case the group is gone but the process is not
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s: pid %d not reaped 10 s after SIGKILL", in.name, proc.Pid)
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
	if err := syscall.Kill(-in.proc.Pid, syscall.SIGSTOP); err != nil {
		return fmt.Errorf("%s: SIGSTOP: %w", in.name, err)
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
	if err := syscall.Kill(-in.proc.Pid, syscall.SIGCONT); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("%s: SIGCONT: %w", in.name, err)
	}
	in.paused = false
	return nil
}

// logTail is the last n bytes of the instance's log.
func (in *instance) logTail(n int) string {
	b, err := os.ReadFile(in.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	if len(b) > n {
		b = append([]byte("...\n"), b[len(b)-n:]...)
	}
	return string(b)
}

// newInstances prepares n instances under dir that form one cluster when
// started: the same --peer list, each with its own data directory and
// log. Nothing is started.
func newInstances(dir, binary string, n int, tick time.Duration, servicePassword, adminPassword string) ([]*instance, error) {
	addrs, err := freeAddrs(n)
	if err != nil {
		return nil, err
	}
	env := processEnv(adminPassword)
	var out []*instance
	for i, addr := range addrs {
		name := fmt.Sprintf("i%d", i+1)
		in := &instance{name: name, addr: addr,
			dataDir: filepath.Join(dir, name), logPath: filepath.Join(dir, name+".log"), env: env}
		in.args = []string{binary, "run",
			"--data-dir", in.dataDir, "--listen", addr, "--advertise", addr, "--peer", strings.Join(addrs, ","),
			"--tick", tick.String(), "--service-password", servicePassword, "--log-level", "info"}
		out = append(out, in)
	}
	return out, nil
}

// Package procs runs the child processes that the bench, the chaos runner
// and cmd/picogo's integration tests start: `picogo run` instances, etcd,
// tarantool. It owns what they all need of such a child and nothing of
// what each does with it:
//
//   - starting it in a process group of its own, with its stdout and stderr
//     appended to a log file, a given environment and working directory,
//     and Pdeathsig=SIGKILL so that it dies with the process that started
//     it even when that process cannot clean up (a panic, a test timeout);
//   - killing its whole group with SIGKILL and reaping it, pausing and
//     resuming the group (SIGSTOP, SIGCONT), signalling the process;
//   - telling whether and how it exited without blocking, and waiting for
//     its exit with a timeout;
//   - its CPU time;
//   - a Registry that kills every process it started, for TestMain, signal
//     handlers and the end of a bench run;
//   - its log: notes appended between runs, its size, what came after an
//     offset, its tail;
//   - free loopback addresses for the children to listen on.
//
// It is Linux-only, as the process groups, Pdeathsig and /proc it relies on
// are.
package procs

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// reapTimeout bounds how long Kill waits for the process to be reaped after
// SIGKILL: a process the kernel cannot kill within it (stuck in
// uninterruptible I/O) is an error to report, not a reason to hang.
const reapTimeout = 10 * time.Second

// Command is what Start runs.
type Command struct {
	// Name is the caller's name for the process (i1, etcd-m2, ...); the
	// errors of its Process begin with it.
	Name string
	// Argv is the program and its arguments; Argv[0] is a path or a name
	// looked up on PATH.
	Argv []string
	// Env is the child's whole environment (see Env); nil is this
	// process's.
	Env []string
	// Dir is the working directory; empty is this process's.
	Dir string
	// LogPath is the file that the child's stdout and stderr are appended
	// to, created if need be. A restarted child appends to the same log.
	LogPath string
	// Banner, if not empty, is written to the log as a line of its own
	// before the child starts, so that a log holding several runs shows
	// where each begins.
	Banner string
}

// Process is one started child.
type Process struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{} // closed once the process has been reaped

	mu     sync.Mutex
	state  *os.ProcessState // set before done is closed
	killed bool             // Kill was called
}

// Start starts c. The child has its own descriptor of the log, so the
// file is closed here once it has started.
func Start(c Command) (*Process, error) {
	if len(c.Argv) == 0 {
		return nil, fmt.Errorf("%s: starting: no program", c.Name)
	}
	logFile, err := os.OpenFile(c.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Name, err)
	}
	defer logFile.Close()
	if c.Banner != "" {
		fmt.Fprintln(logFile, c.Banner)
	}
	cmd := exec.Command(c.Argv[0], c.Argv[1:]...)
	cmd.Env, cmd.Dir = c.Env, c.Dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Its own process group, so that Kill, Pause and Resume reach
		// whatever it forks, and a terminal's Ctrl-C reaches only the
		// parent, which then kills it.
		Setpgid: true,
		// The kernel kills it if its parent dies without cleaning up.
		Pdeathsig: syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: starting %s: %w", c.Name, c.Argv[0], err)
	}
	p := &Process{name: c.Name, logPath: c.LogPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		// The log is an *os.File, so Wait copies nothing: it returns as
		// soon as the process is reaped.
		_ = cmd.Wait()
		p.mu.Lock()
		p.state = cmd.ProcessState
		p.mu.Unlock()
		close(p.done)
	}()
	return p, nil
}

// Name is the name the process was started with.
func (p *Process) Name() string { return p.name }

// LogPath is the log its output goes to.
func (p *Process) LogPath() string { return p.logPath }

// Pid is its process id, which is also its process group's.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed once the process has exited and been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports how the process ended, if it has, without waiting.
func (p *Process) Exited() (*os.ProcessState, bool) {
	select {
	case <-p.done:
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.state, true
	default:
		return nil, false
	}
}

// Wait waits at most timeout for the process to exit and returns how it
// ended.
func (p *Process) Wait(timeout time.Duration) (*os.ProcessState, error) {
	select {
	case <-p.done:
		state, _ := p.Exited()
		return state, nil
	case <-time.After(timeout):
		return nil, fmt.Errorf("%s: still running %v later", p.name, timeout)
	}
}

// Kill sends SIGKILL to the process's group and waits until the process is
// reaped. Killing a process that has already exited does nothing: once it
// is reaped its pid, and so its group id, may belong to someone else.
func (p *Process) Kill() error {
	p.mu.Lock()
	p.killed = true
	p.mu.Unlock()
	if _, gone := p.Exited(); gone {
		return nil
	}
	_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
	// In case it left its group (setpgid, setsid) and the group is gone
	// but the process is not.
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
		return nil
	case <-time.After(reapTimeout):
		return fmt.Errorf("%s: pid %d not reaped %d s after SIGKILL", p.name, p.Pid(), reapTimeout/time.Second)
	}
}

// Pause stops the process's group with SIGSTOP. Pausing a process that
// has exited is an error, and signals nothing: its pid, and so its group
// id, may belong to someone else by now.
func (p *Process) Pause() error {
	if _, gone := p.Exited(); gone {
		return fmt.Errorf("%s: SIGSTOP: %w", p.name, os.ErrProcessDone)
	}
	if err := syscall.Kill(-p.Pid(), syscall.SIGSTOP); err != nil {
		return fmt.Errorf("%s: SIGSTOP: %w", p.name, err)
	}
	return nil
}

// Resume continues the process's group with SIGCONT. A process that has
// exited (it was killed, or died, while stopped) has nothing left to
// resume, which is no error.
func (p *Process) Resume() error {
	if _, gone := p.Exited(); gone {
		return nil
	}
	if err := syscall.Kill(-p.Pid(), syscall.SIGCONT); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("%s: SIGCONT: %w", p.name, err)
	}
	return nil
}

// Signal sends sig to the process alone, not its group: a SIGTERM asks the
// process to shut down, and it decides what becomes of its children.
func (p *Process) Signal(sig os.Signal) error {
	if err := p.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("%s: signal %v: %w", p.name, sig, err)
	}
	return nil
}

// CPUTime is the CPU time (user and system) the process has used: so far
// while it runs, all of it once it has been reaped; 0 if it cannot be read.
func (p *Process) CPUTime() time.Duration {
	if state, gone := p.Exited(); gone {
		return state.UserTime() + state.SystemTime()
	}
	return cpuTimeOf(p.Pid())
}

// clockTicks is the kernel's USER_HZ, the unit of /proc/PID/stat's CPU
// times: 100 on every Linux architecture Go supports.
const clockTicks = 100

// cpuTimeOf is the CPU time (user and system) process pid has used so far
// by /proc/PID/stat, 0 if it cannot be read.
func cpuTimeOf(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name, field 2, is in parentheses and may hold spaces:
	// count fields after its closing one. utime and stime are fields 14
	// and 15.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// Registry is every process started through it since its last KillAll, so
// that one call ends them all whatever happened. The zero Registry is
// ready to use.
type Registry struct {
	mu   sync.Mutex
	list []*Process
}

// Start starts c (see the function Start) and registers the process.
func (r *Registry) Start(c Command) (*Process, error) {
	p, err := Start(c)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.list = append(r.list, p)
	r.mu.Unlock()
	return p, nil
}

// Exited is the registered processes that have exited without being
// killed, in the order they were started.
func (r *Registry) Exited() []*Process {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*Process
	for _, p := range r.list {
		p.mu.Lock()
		killed := p.killed
		p.mu.Unlock()
		if _, gone := p.Exited(); gone && !killed {
			out = append(out, p)
		}
	}
	return out
}

// KillAll kills every registered process, the last started first (a
// server's clients before the server), and forgets them.
func (r *Registry) KillAll() error {
	r.mu.Lock()
	list := r.list
	r.list = nil
	r.mu.Unlock()
	var errs []error
	for i := len(list) - 1; i >= 0; i-- {
		errs = append(errs, list[i].Kill())
	}
	return errors.Join(errs...)
}

// Env is this process's environment without its PICOGO_* variables, plus
// extra (NAME=value): an operator's or developer's picogo settings must
// not leak into a child.
func Env(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PICOGO_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// FreeAddrs returns n distinct free 127.0.0.1:port addresses. The
// listeners are held until all n are chosen, so the n differ; another
// process may still take one before the child binds it, which is unlikely.
func FreeAddrs(n int) ([]string, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	addrs := make([]string, n)
	for i := range addrs {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		lns = append(lns, ln)
		addrs[i] = ln.Addr().String()
	}
	return addrs, nil
}

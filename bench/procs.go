package bench

import (
	"context"
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

// procs is every process the bench started and has not reaped: killAll
// ends them all, whatever happened.
type procs struct {
	mu   sync.Mutex
	list []*proc
}

// proc is one child process, in a process group of its own, its output
// going to a log file.
type proc struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{} // closed once reaped
	state   *os.ProcessState
}

// start starts argv (argv[0] a path or a name on PATH) with env added to
// the bench's own environment minus PICOGO_* (a developer's settings must
// not leak in); stdout and stderr go to logPath.
func (ps *procs) start(name, logPath string, env []string, dir string, argv ...string) (*proc, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	fmt.Fprintf(logFile, "=== bench: starting %s: %s\n", name, strings.Join(argv, " "))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PICOGO_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	// Its own process group, so killing it kills whatever it forks; and
	// the kernel kills it if the bench dies without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, logPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		p.state = cmd.ProcessState
		close(p.done)
	}()
	ps.mu.Lock()
	ps.list = append(ps.list, p)
	ps.mu.Unlock()
	return p, nil
}

// kill sends SIGKILL to the process's group and waits until it is reaped.
func (p *proc) kill() error {
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s (pid %d) not reaped 10 s after SIGKILL", p.name, p.cmd.Process.Pid)
	}
}

// exited reports how the process ended, if it has.
func (p *proc) exited() (string, bool) {
	select {
	case <-p.done:
		return fmt.Sprintf("%s exited by itself (%v); its log: %s", p.name, p.state, p.logPath), true
	default:
		return "", false
	}
}

// clockTicks is the kernel's USER_HZ, the unit of /proc/PID/stat's CPU
// times: 100 on every Linux architecture Go supports.
const clockTicks = 100

// cpuTime is the CPU time (user and system) the process has used so far,
// 0 if it cannot be read.
func (p *proc) cpuTime() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
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

// cpuOf is a function summing the CPU time of ps.
func cpuOf(ps ...*proc) func() time.Duration {
	return func() time.Duration {
		var t time.Duration
		for _, p := range ps {
			t += p.cpuTime()
		}
		return t
	}
}

// alive fails if a process started and not killed has exited.
func (ps *procs) alive() error {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for _, p := range ps.list {
		if how, gone := p.exited(); gone {
			return errors.New(how)
		}
	}
	return nil
}

// killAll kills every process started, in reverse order.
func (ps *procs) killAll() error {
	ps.mu.Lock()
	list := ps.list
	ps.list = nil
	ps.mu.Unlock()
	var errs []error
	for i := len(list) - 1; i >= 0; i-- {
		errs = append(errs, list[i].kill())
	}
	return errors.Join(errs...)
}

// freeAddrs returns n distinct free 127.0.0.1 addresses. The listeners are
// held until all n are chosen, so the n differ; another process may still
// take one before the server binds it, which is unlikely.
func freeAddrs(n int) ([]string, error) {
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

// poll calls check every 50 ms until it returns nil, ctx ends or timeout
// passes, and fails at once if one of the watched processes exits.
func poll(ctx context.Context, timeout time.Duration, what string, watch []*proc, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return nil
		}
		for _, p := range watch {
			if how, gone := p.exited(); gone {
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

package procs

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startSh starts `sh -c script` through a registry whose processes the
// test's cleanup kills, so that a failing test leaves nothing behind.
func startSh(t *testing.T, script string) (*Registry, *Process) {
	t.Helper()
	r := &Registry{}
	t.Cleanup(func() { _ = r.KillAll() })
	p, err := r.Start(Command{Name: "sh", Argv: []string{"sh", "-c", script},
		LogPath: filepath.Join(t.TempDir(), "sh.log"), Banner: "=== test: starting sh"})
	require.NoError(t, err)
	return r, p
}

// waitLog waits, at most 3 s, until the process's log holds want, and
// returns the log.
func waitLog(t *testing.T, p *Process, want string) string {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		log := LogSince(p.LogPath(), 0)
		if strings.Contains(log, want) {
			return log
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log does not hold %q within 3 s:\n%s", want, log)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// procState is the state letter of /proc/PID/stat (R, S, T, Z, ...), ""
// once the process is gone.
func procState(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return f[0]
}

// waitState waits, at most 3 s, until pid's state is one of states.
func waitState(t *testing.T, pid int, what string, states ...string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		s := procState(pid)
		for _, want := range states {
			if s == want {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d is in state %q, not %s (%v) within 3 s", pid, s, what, states)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// dead is a gone process's state: reaped, or a zombie left to whoever
// inherited it.
var dead = []string{"", "Z", "X"}

// grandchild starts sh that starts a `sleep` in the background and waits
// for it; it returns the sh and the sleep's pid.
func grandchild(t *testing.T) (*Registry, *Process, int) {
	t.Helper()
	r, p := startSh(t, `sleep 30 & echo "grandchild $!"; wait`)
	log := waitLog(t, p, "grandchild ") // one write, the whole line
	var pid int
	for _, line := range strings.Split(log, "\n") {
		if s, ok := strings.CutPrefix(line, "grandchild "); ok {
			var err error
			pid, err = strconv.Atoi(s)
			require.NoError(t, err)
		}
	}
	require.NotZero(t, pid, "the log names the grandchild:\n%s", log)
	return r, p, pid
}

func TestStartLogsOutputAndReportsTheExit(t *testing.T) {
	r, p := startSh(t, `echo "to stdout"; echo "to stderr" >&2; exit 3`)
	state, err := p.Wait(3 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, 3, state.ExitCode())
	got, gone := p.Exited()
	assert.True(t, gone)
	assert.Same(t, state, got)
	assert.Equal(t, "=== test: starting sh\nto stdout\nto stderr\n", LogSince(p.LogPath(), 0))
	assert.Equal(t, []*Process{p}, r.Exited(), "it exited without being killed")
	assert.NoError(t, p.Kill(), "killing an exited process does nothing")
}

func TestStartAppendsToTheLogAndSetsEnvAndDir(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "x.log")
	require.NoError(t, AppendLog(logPath, "before"))
	p, err := Start(Command{Name: "pwd", Argv: []string{"sh", "-c", `pwd; echo "X=$X"`},
		Env: []string{"X=42", "PATH=" + os.Getenv("PATH")}, Dir: dir, LogPath: logPath})
	require.NoError(t, err)
	_, err = p.Wait(3 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, "before\n"+dir+"\nX=42\n", LogSince(logPath, 0))
}

func TestStartFailsNamingTheProcess(t *testing.T) {
	_, err := Start(Command{Name: "nothing", Argv: []string{filepath.Join(t.TempDir(), "missing")},
		LogPath: filepath.Join(t.TempDir(), "log")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nothing: starting ")
	_, err = Start(Command{Name: "nologdir", Argv: []string{"true"}, LogPath: filepath.Join(t.TempDir(), "no", "log")})
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestKillEndsTheWholeGroup(t *testing.T) {
	r, p, pid := grandchild(t)
	require.NoError(t, p.Kill())
	state, gone := p.Exited()
	require.True(t, gone, "Kill returns once the process is reaped")
	assert.Equal(t, syscall.SIGKILL, state.Sys().(syscall.WaitStatus).Signal())
	waitState(t, pid, "dead", dead...)
	assert.Empty(t, r.Exited(), "a killed process did not exit by itself")
}

func TestPauseAndResumeTheWholeGroup(t *testing.T) {
	_, p, pid := grandchild(t)
	require.NoError(t, p.Pause())
	waitState(t, p.Pid(), "stopped", "T")
	waitState(t, pid, "stopped", "T")
	require.NoError(t, p.Resume())
	waitState(t, p.Pid(), "running again", "S", "R")
	waitState(t, pid, "running again", "S", "R")
	require.NoError(t, p.Kill())
	assert.NoError(t, p.Resume(), "resuming a process that has exited is no error")
	assert.ErrorIs(t, p.Pause(), os.ErrProcessDone, "pausing one is")
}

func TestSignalReachesTheProcess(t *testing.T) {
	_, p := startSh(t, `trap "exit 7" TERM; echo ready; while :; do sleep 0.01; done`)
	waitLog(t, p, "ready")
	require.NoError(t, p.Signal(syscall.SIGTERM))
	state, err := p.Wait(3 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, 7, state.ExitCode(), "its trap ran")
	assert.Error(t, p.Signal(syscall.SIGTERM), "signalling a process that has exited")
}

func TestWaitTimesOutWhileItRuns(t *testing.T) {
	_, p := startSh(t, `sleep 30`)
	start := time.Now()
	_, err := p.Wait(50 * time.Millisecond)
	assert.EqualError(t, err, "sh: still running 50ms later")
	assert.Less(t, time.Since(start), time.Second)
	_, gone := p.Exited()
	assert.False(t, gone)
	select {
	case <-p.Done():
		t.Fatal("Done is closed while it runs")
	default:
	}
}

func TestKillAllKillsEveryProcessStarted(t *testing.T) {
	r := &Registry{}
	t.Cleanup(func() { _ = r.KillAll() })
	var ps []*Process
	for range 3 {
		p, err := r.Start(Command{Name: "sleep", Argv: []string{"sleep", "30"}, LogPath: filepath.Join(t.TempDir(), "log")})
		require.NoError(t, err)
		ps = append(ps, p)
	}
	require.NoError(t, ps[1].Kill(), "one killed already")
	require.NoError(t, r.KillAll())
	for _, p := range ps {
		_, gone := p.Exited()
		assert.True(t, gone)
	}
	assert.Empty(t, r.Exited())
}

// burnUntil keeps a CPU busy until cpu() has grown by at least d, and
// fails the test if it has not within 3 s.
func burnUntil(t *testing.T, what string, cpu func() time.Duration, d time.Duration) time.Duration {
	t.Helper()
	before := cpu()
	deadline := time.Now().Add(3 * time.Second)
	for {
		now := cpu()
		if now-before >= d {
			return now
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: CPU time %v, %v more than before, not %v more within 3 s", what, now, now-before, d)
		}
		for end := time.Now().Add(5 * time.Millisecond); time.Now().Before(end); {
		}
	}
}

func TestCPUTime(t *testing.T) {
	self := os.Getpid()
	burnUntil(t, "this process", func() time.Duration { return cpuTimeOf(self) }, 50*time.Millisecond)
	assert.Equal(t, time.Duration(0), cpuTimeOf(-1), "no such process")

	// A child's, read from /proc while it runs, then the kernel's final
	// account of it once it is reaped.
	_, p := startSh(t, `while :; do :; done`)
	running := burnUntil(t, "a busy child", p.CPUTime, 30*time.Millisecond)
	require.NoError(t, p.Kill())
	assert.GreaterOrEqual(t, p.CPUTime(), running)
}

func TestEnvDropsPicogoSettings(t *testing.T) {
	t.Setenv("PICOGO_ADMIN_PASSWORD", "developer's")
	t.Setenv("PROCS_TEST_KEPT", "1")
	env := Env("PICOGO_ADMIN_PASSWORD=child's")
	assert.Contains(t, env, "PROCS_TEST_KEPT=1")
	assert.NotContains(t, env, "PICOGO_ADMIN_PASSWORD=developer's")
	assert.Equal(t, "PICOGO_ADMIN_PASSWORD=child's", env[len(env)-1])
}

func TestFreeAddrsCanAllBeListenedOn(t *testing.T) {
	addrs, err := FreeAddrs(5)
	require.NoError(t, err)
	require.Len(t, addrs, 5)
	seen := map[string]bool{}
	for _, a := range addrs {
		assert.False(t, seen[a], "%s twice in %v", a, addrs)
		seen[a] = true
		assert.True(t, strings.HasPrefix(a, "127.0.0.1:"), a)
		ln, err := net.Listen("tcp", a)
		require.NoError(t, err, "listening on %s", a)
		defer ln.Close()
	}
}

func TestLogSizeSinceAndTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	assert.Equal(t, int64(0), LogSize(path))
	assert.Equal(t, "", LogSince(path, 0))
	_, err := LogTail(path, 10)
	assert.ErrorIs(t, err, os.ErrNotExist)

	require.NoError(t, AppendLog(path, "first"))
	mark := LogSize(path)
	assert.Equal(t, int64(len("first\n")), mark)
	require.NoError(t, AppendLog(path, "second"))
	assert.Equal(t, "second\n", LogSince(path, mark))
	assert.Equal(t, "", LogSince(path, 100), "past the end")

	tail, err := LogTail(path, 7)
	require.NoError(t, err)
	assert.Equal(t, "...\nsecond\n", tail)
	tail, err = LogTail(path, 100)
	require.NoError(t, err)
	assert.Equal(t, "first\nsecond\n", tail, "all of it, without the ...")
}

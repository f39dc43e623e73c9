//go:build linux

// Integration tests: real `picogo run` processes on loopback ports, driven
// by real Tarantool clients (go-tarantool v2 here, net.box in
// netbox_integration_test.go). This file is the harness: it builds the
// binary once per test run, starts and kills instances, and wraps the
// client calls the tests share. The tests are named *Integration* and
// *NetBox* so that `go test -run 'Integration|NetBox'` selects them.
//
// Every instance is killed with SIGKILL when its test ends (t.Cleanup), when
// the run ends (TestMain), and — through Pdeathsig — when the test binary
// dies for any other reason (a panic, `go test -timeout`), so no process
// outlives a run. Each instance writes its output to a log file that is
// printed when its test fails.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/internal/procs"
	"github.com/tarantool/go-iproto"
	"github.com/tarantool/go-tarantool/v2"
)

const (
	// itTick keeps elections fast: 10–20 ticks, 0.2–0.4 s.
	itTick = "20ms"
	// itAdminPassword is admin's password (PICOGO_ADMIN_PASSWORD).
	itAdminPassword = "integration-admin-secret"
	// itServicePassword is pico_service's (--service-password). The
	// harness's own probes log in as pico_service, which does not depend on
	// the admin password having been applied yet.
	itServicePassword = "integration-service-secret"
	// itClusterID is the default --cluster-id, which .proc_cas checks.
	itClusterID = "demo"
	// itLogTail bounds how much of an instance's log a failure prints.
	itLogTail = 64 << 10
)

// picogoBinary is built once per run, on first use, into a directory
// TestMain owns (a run of unit tests alone does not pay for the build).
var picogoBinary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// running is every process started: TestMain kills whatever a test left
// behind.
var running procs.Registry

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "picogo-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration harness:", err)
		return 1
	}
	picogoBinary.dir = dir
	defer os.RemoveAll(dir)
	defer func() {
		if err := running.KillAll(); err != nil {
			fmt.Fprintln(os.Stderr, "integration harness:", err)
		}
	}()
	return m.Run()
}

// binary returns the path of the picogo binary, building it on first use.
func binary(t *testing.T) string {
	t.Helper()
	picogoBinary.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		path := filepath.Join(picogoBinary.dir, "picogo")
		cmd := exec.CommandContext(ctx, "go", "build", "-o", path, "github.com/picogo/picogo/cmd/picogo")
		if out, err := cmd.CombinedOutput(); err != nil {
			picogoBinary.err = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		picogoBinary.path = path
	})
	if picogoBinary.err != nil {
		t.Fatal(picogoBinary.err)
	}
	return picogoBinary.path
}

// skipIfShort skips the integration tests under -short.
func skipIfShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: starts picogo processes (skipped with -short)")
	}
}

// freeAddrs returns n distinct free loopback addresses.
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	addrs, err := procs.FreeAddrs(n)
	if err != nil {
		t.Fatal(err)
	}
	return addrs
}

// instance is one `picogo run` process, restartable with the same flags and
// data directory.
type instance struct {
	t       *testing.T
	name    string // i1, i2, ...: the harness's name, not the instance_id
	addr    string // --listen and --advertise
	dataDir string
	logPath string
	args    []string
	// adminPassword is PICOGO_ADMIN_PASSWORD at the next start.
	adminPassword string

	mu   sync.Mutex
	proc *procs.Process // nil when killed, waited for, or never started
}

// newCluster prepares n instances that form one cluster when started: the
// same --peer list (and the extra flags), each with its own data directory
// and log. The addresses are sorted, so i1 has the smallest: it boots the
// cluster (raft id 1); the others join in whatever order they come.
// Nothing is started; see startCluster.
func newCluster(t *testing.T, n int, extra ...string) []*instance {
	t.Helper()
	skipIfShort(t)
	addrs := freeAddrs(t, n)
	slices.Sort(addrs)
	var out []*instance
	for i, addr := range addrs {
		out = append(out, newInstance(t, fmt.Sprintf("i%d", i+1), addr, addrs, extra...))
	}
	return out
}

// newInstance prepares one instance at addr that finds its cluster
// through peers; nothing is started.
func newInstance(t *testing.T, name, addr string, peers []string, extra ...string) *instance {
	t.Helper()
	skipIfShort(t)
	bin := binary(t)
	dir := t.TempDir() // removed after the cleanups below run
	in := &instance{
		t: t, name: name, addr: addr,
		dataDir: filepath.Join(dir, "data"), logPath: filepath.Join(dir, "picogo.log"),
		adminPassword: itAdminPassword,
	}
	in.args = append([]string{bin, "run",
		"--data-dir", in.dataDir, "--listen", addr, "--advertise", addr, "--peer", strings.Join(peers, ","),
		"--tick", itTick, "--service-password", itServicePassword, "--log-level", "info"}, extra...)
	t.Cleanup(in.printLogIfFailed) // runs after the kill below
	t.Cleanup(in.kill)
	return in
}

// startCluster starts n instances of one cluster. It does not wait for
// them; see waitRunning and waitLeader.
func startCluster(t *testing.T, n int, extra ...string) []*instance {
	t.Helper()
	ins := newCluster(t, n, extra...)
	for _, in := range ins {
		in.start()
	}
	return ins
}

// startOne starts a single-instance cluster and waits until it has elected
// itself and applied the admin password.
func startOne(t *testing.T) *instance {
	t.Helper()
	in := startCluster(t, 1)[0]
	waitLeader(t, in)
	waitAdminPassword(t, in)
	return in
}

// start starts the process (again, after kill) with the same flags; its
// output is appended to the instance's log.
func (in *instance) start() {
	in.t.Helper()
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.proc != nil {
		in.t.Fatalf("%s: start while running", in.name)
	}
	p, err := running.Start(procs.Command{Name: in.name, Argv: in.args, LogPath: in.logPath,
		// This process's environment without PICOGO_* (a developer's
		// settings must not leak in), plus the admin password.
		Env:    procs.Env("PICOGO_ADMIN_PASSWORD=" + in.adminPassword),
		Banner: fmt.Sprintf("=== harness: starting %s: %s", in.name, strings.Join(in.args[1:], " "))})
	if err != nil {
		in.t.Fatal(err)
	}
	in.proc = p
}

// note appends a line to the instance's log.
func (in *instance) note(format string, a ...any) {
	_ = procs.AppendLog(in.logPath, "=== harness: "+fmt.Sprintf(format, a...))
}

// kill sends SIGKILL to the process group and waits until the process is
// reaped. Killing a stopped instance does nothing.
func (in *instance) kill() {
	in.mu.Lock()
	p := in.proc
	in.mu.Unlock()
	if p == nil {
		return
	}
	if err := p.Kill(); err != nil {
		in.t.Error(err)
	}
	in.mu.Lock()
	in.proc = nil
	in.mu.Unlock()
	in.note("killed %s (SIGKILL)", in.name)
}

// signal sends sig to the running process.
func (in *instance) signal(sig os.Signal) {
	in.t.Helper()
	in.mu.Lock()
	p := in.proc
	in.mu.Unlock()
	if p == nil {
		in.t.Fatalf("%s: signal %v while not running", in.name, sig)
	}
	if err := p.Signal(sig); err != nil {
		in.t.Fatal(err)
	}
	in.note("sent %v to %s", sig, in.name)
}

// waitExit waits, at most timeout, until the process exits by itself, and
// returns how it ended; the instance is then stopped (start runs it
// again).
func (in *instance) waitExit(timeout time.Duration) *os.ProcessState {
	in.t.Helper()
	in.mu.Lock()
	p := in.proc
	in.mu.Unlock()
	if p == nil {
		in.t.Fatalf("%s: waiting for the exit of a process not started", in.name)
	}
	state, err := p.Wait(timeout)
	if err != nil {
		in.t.Fatal(err)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.proc = nil
	return state
}

// logSize is the length of the instance's log so far: logSince(size)
// reads what came after.
func (in *instance) logSize() int64 { return procs.LogSize(in.logPath) }

func (in *instance) logSince(offset int64) string { return procs.LogSince(in.logPath, offset) }

// restart starts a killed instance again: same flags, same data directory.
func (in *instance) restart() {
	in.t.Helper()
	in.kill()
	in.start()
}

// exitedEarly reports how the process ended, if it ended without being
// killed by the harness.
func (in *instance) exitedEarly() (string, bool) {
	in.mu.Lock()
	p := in.proc
	in.mu.Unlock()
	if p == nil {
		return "", false // killed on purpose, waited for, or never started
	}
	if state, gone := p.Exited(); gone {
		return fmt.Sprintf("exited by itself: %v", state), true
	}
	return "", false
}

func (in *instance) printLogIfFailed() {
	if !in.t.Failed() {
		return
	}
	tail, err := procs.LogTail(in.logPath, itLogTail)
	if errors.Is(err, os.ErrNotExist) {
		in.t.Logf("%s (%s): never started", in.name, in.addr)
		return
	}
	if err != nil {
		in.t.Logf("%s (%s): no log: %v", in.name, in.addr, err)
		return
	}
	in.t.Logf("---- log of %s (%s, %s) ----\n%s---- end of %s's log ----", in.name, in.addr, in.logPath, tail, in.name)
}

// ---- clients ----

// connect opens a go-tarantool connection as user (no user: a guest
// session without AUTH), bounded by ctx. The connection loads the schema
// (_vspace, _vindex) as go-tarantool does by default.
func connect(ctx context.Context, addr, user, password string) (*tarantool.Connection, error) {
	return tarantool.Connect(ctx, tarantool.NetDialer{Address: addr, User: user, Password: password},
		tarantool.Opts{Timeout: 5 * time.Second})
}

// mustConnect connects within 5 s and closes the connection when the test
// ends.
func mustConnect(t *testing.T, in *instance, user, password string) *tarantool.Connection {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := connect(ctx, in.addr, user, password)
	if err != nil {
		t.Fatalf("%s: connecting as %q: %v", in.name, user, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func adminConn(t *testing.T, in *instance) *tarantool.Connection {
	return mustConnect(t, in, "admin", itAdminPassword)
}

func serviceConn(t *testing.T, in *instance) *tarantool.Connection {
	return mustConnect(t, in, "pico_service", itServicePassword)
}

// call calls fn with args (a CALL request, as net.box's conn:call) and
// returns its DATA array, within 5 s.
func call(conn tarantool.Connector, fn string, args ...any) ([]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if args == nil {
		args = []any{}
	}
	return conn.Do(tarantool.NewCallRequest(fn).Args(args).Context(ctx)).Get()
}

// callTyped decodes the DATA array into res (a pointer to a slice).
func callTyped(conn tarantool.Connector, res any, fn string, args ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if args == nil {
		args = []any{}
	}
	return conn.Do(tarantool.NewCallRequest(fn).Args(args).Context(ctx)).GetTyped(res)
}

// selectRows is a SELECT on space (an id, or a name the schema knows) with
// an EQ key, or every row without one.
func selectRows(conn tarantool.Connector, space any, key ...any) ([]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req := tarantool.NewSelectRequest(space).Context(ctx)
	if len(key) > 0 {
		req = req.Iterator(tarantool.IterEq).Key(key)
	}
	return conn.Do(req).Get()
}

// serverError extracts the error a server answered with.
func serverError(err error) (tarantool.Error, bool) {
	var te tarantool.Error
	ok := errors.As(err, &te)
	return te, ok
}

// requireCode asserts err is a server error with the code, and that its
// message contains every fragment.
func requireCode(t *testing.T, err error, code iproto.Error, fragments ...string) tarantool.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("succeeded; want error %v (%d)", code, uint32(code))
	}
	te, ok := serverError(err)
	if !ok {
		t.Fatalf("error %v (%T) is not a server error; want %v (%d)", err, err, code, uint32(code))
	}
	if te.Code != code {
		t.Fatalf("error code %d (%q); want %v (%d)", uint32(te.Code), te.Msg, code, uint32(code))
	}
	for _, f := range fragments {
		if !strings.Contains(te.Msg, f) {
			t.Errorf("error message %q does not contain %q", te.Msg, f)
		}
	}
	return te
}

// ---- values ----

// asUint reads a msgpack integer of any width as uint64.
func asUint(v any) (uint64, bool) {
	switch x := v.(type) {
	case uint64:
		return x, true
	case uint32:
		return uint64(x), true
	case uint16:
		return uint64(x), true
	case uint8:
		return uint64(x), true
	case uint:
		return uint64(x), true
	case int64:
		return uint64(x), x >= 0
	case int32:
		return uint64(x), x >= 0
	case int16:
		return uint64(x), x >= 0
	case int8:
		return uint64(x), x >= 0
	case int:
		return uint64(x), x >= 0
	}
	return 0, false
}

func mustUint(t *testing.T, what string, v any) uint64 {
	t.Helper()
	u, ok := asUint(v)
	if !ok {
		t.Fatalf("%s = %#v (%T); want an unsigned integer", what, v, v)
	}
	return u
}

// single asserts a DATA array holds exactly one value and returns it.
func single(t *testing.T, what string, data []any) any {
	t.Helper()
	if len(data) != 1 {
		t.Fatalf("%s returned %d values %#v; want 1", what, len(data), data)
	}
	return data[0]
}

// ---- cluster state ----

// raftInfo is .proc_raft_info's result.
type raftInfo = api.RaftInfoResult

// probe asks an instance for its raft info as pico_service on a fresh
// connection, within 1 s.
func probe(in *instance) (raftInfo, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn, err := connect(ctx, in.addr, "pico_service", itServicePassword)
	if err != nil {
		return raftInfo{}, err
	}
	defer conn.Close()
	return raftInfoOf(conn)
}

func raftInfoOf(conn tarantool.Connector) (raftInfo, error) {
	var res []raftInfo
	if err := callTyped(conn, &res, ".proc_raft_info"); err != nil {
		return raftInfo{}, err
	}
	if len(res) != 1 {
		return raftInfo{}, fmt.Errorf(".proc_raft_info returned %d values", len(res))
	}
	return res[0], nil
}

// eventually polls check every 20 ms until it returns nil or timeout
// passes; it fails the test with the last error, and stops at once if an
// instance exits by itself.
func eventually(t *testing.T, timeout time.Duration, what string, watch []*instance, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		for _, in := range watch {
			if how, gone := in.exitedEarly(); gone {
				t.Fatalf("%s: %s is %s", what, in.name, how)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitReady waits until the instance answers .proc_raft_info.
// waitRunning waits until a running instance answers `.proc_raft_info`.
func waitRunning(t *testing.T, in *instance) raftInfo {
	t.Helper()
	var info raftInfo
	eventually(t, 10*time.Second, in.name+" answers .proc_raft_info", []*instance{in}, func() (err error) {
		info, err = probe(in)
		return err
	})
	return info
}

// waitAnswering waits until the process answers a guest's
// `.proc_version_info`: it listens, whatever phase it is in (discovering,
// joining, running).
func waitAnswering(t *testing.T, in *instance) {
	t.Helper()
	eventually(t, 10*time.Second, in.name+" answers .proc_version_info", []*instance{in}, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn, err := connect(ctx, in.addr, "guest", "")
		if err != nil {
			return err
		}
		defer conn.Close()
		_, err = call(conn, ".proc_version_info")
		return err
	})
}

// instanceGrades reads an instance's own current and target grade
// variants (`.proc_instance_info`).
func instanceGrades(in *instance) (current, target string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn, err := connect(ctx, in.addr, "pico_service", itServicePassword)
	if err != nil {
		return "", "", err
	}
	defer conn.Close()
	var res []struct {
		Current struct {
			Variant string `msgpack:"variant"`
		} `msgpack:"current_grade"`
		Target struct {
			Variant string `msgpack:"variant"`
		} `msgpack:"target_grade"`
	}
	if err := callTyped(conn, &res, ".proc_instance_info"); err != nil {
		return "", "", err
	}
	if len(res) != 1 {
		return "", "", fmt.Errorf(".proc_instance_info returned %d values", len(res))
	}
	return res[0].Current.Variant, res[0].Target.Variant, nil
}

// governorStatus is the leader's `.proc_runtime_info` governor_loop_status.
func governorStatus(in *instance) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn, err := connect(ctx, in.addr, "pico_service", itServicePassword)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	var res []struct {
		Internal struct {
			Governor string `msgpack:"governor_loop_status"`
		} `msgpack:"internal"`
	}
	if err := callTyped(conn, &res, ".proc_runtime_info"); err != nil {
		return "", err
	}
	if len(res) != 1 {
		return "", fmt.Errorf(".proc_runtime_info returned %d values", len(res))
	}
	return res[0].Internal.Governor, nil
}

// allOnline is nil once every instance is current and target Online.
func allOnline(ins []*instance) error {
	for _, in := range ins {
		cur, target, err := instanceGrades(in)
		if err != nil {
			return fmt.Errorf("%s: %v", in.name, err)
		}
		if cur != "Online" || target != "Online" {
			return fmt.Errorf("%s is %s, target %s", in.name, cur, target)
		}
	}
	return nil
}

// waitSettled waits until every instance is current and target Online and
// the leader's governor is idle (so the voters are chosen too).
func waitSettled(t *testing.T, ins ...*instance) *instance {
	t.Helper()
	leader, _ := waitLeader(t, ins...)
	eventually(t, 20*time.Second, "every instance Online, the governor idle", ins, func() error {
		if err := allOnline(ins); err != nil {
			return err
		}
		status, err := governorStatus(leader)
		if err != nil {
			return err
		}
		if status != "idle" {
			return fmt.Errorf("the governor on %s is %q", leader.name, status)
		}
		return nil
	})
	return leader
}

// waitLeader waits until exactly one of the instances is Leader and every
// one of them reports it as leader in the same term; it returns the leader
// and everyone's view.
func waitLeader(t *testing.T, ins ...*instance) (*instance, map[*instance]raftInfo) {
	t.Helper()
	var leader *instance
	var infos map[*instance]raftInfo
	eventually(t, 15*time.Second, "one leader agreed on by all", ins, func() error {
		leader, infos = nil, map[*instance]raftInfo{}
		for _, in := range ins {
			info, err := probe(in)
			if err != nil {
				return fmt.Errorf("%s: %v", in.name, err)
			}
			infos[in] = info
			if info.State == "Leader" {
				if leader != nil {
					return fmt.Errorf("two leaders: %s and %s", leader.name, in.name)
				}
				leader = in
			}
		}
		if leader == nil {
			return fmt.Errorf("no leader yet: %v", describe(infos))
		}
		want := infos[leader]
		for in, info := range infos {
			if info.LeaderID != want.ID || info.Term != want.Term {
				return fmt.Errorf("%s sees leader %d in term %d, %s leads term %d: %v",
					in.name, info.LeaderID, info.Term, leader.name, want.Term, describe(infos))
			}
		}
		return nil
	})
	return leader, infos
}

func describe(infos map[*instance]raftInfo) string {
	var b bytes.Buffer
	for in, info := range infos {
		fmt.Fprintf(&b, "[%s id=%d %s term=%d leader=%d applied=%d] ", in.name, info.ID, info.State, info.Term, info.LeaderID, info.Applied)
	}
	return b.String()
}

// adminHasPassword reports whether _pico_user, as the instance has applied
// it, gives admin (id 1) a chap-sha1 password.
func adminHasPassword(conn tarantool.Connector) (bool, error) {
	rows, err := selectRows(conn, uint32(520), uint64(1))
	if err != nil {
		return false, err
	}
	if len(rows) != 1 {
		return false, fmt.Errorf("_pico_user has %d rows for id 1", len(rows))
	}
	row, _ := rows[0].([]any)
	if len(row) < 4 {
		return false, fmt.Errorf("_pico_user row %#v", rows[0])
	}
	auth, _ := row[3].([]any)
	return len(auth) >= 2 && auth[0] == "chap-sha1", nil
}

// waitAdminPassword waits until the instance has applied the admin
// password the leader proposes after the cluster starts (until then admin
// logins are checked against no password). It watches as pico_service
// rather than retrying admin logins: four failed logins in a row lock a
// user.
func waitAdminPassword(t *testing.T, in *instance) {
	t.Helper()
	eventually(t, 10*time.Second, in.name+" applied the admin password", []*instance{in}, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn, err := connect(ctx, in.addr, "pico_service", itServicePassword)
		if err != nil {
			return err
		}
		defer conn.Close()
		ok, err := adminHasPassword(conn)
		if err == nil && !ok {
			err = errors.New("admin has no password yet")
		}
		return err
	})
}

// ---- CaS ----

// casPredicate is .proc_cas's predicate: the caller read the state as of
// index (an entry of term) and relies on nothing in ranges.
func casPredicate(info raftInfo) map[string]any {
	return map[string]any{"index": info.Applied, "term": info.Term, "ranges": []any{}}
}

// insertOp is a CaS op inserting tuple into table.
func insertOp(table uint32, tuple ...any) map[string]any {
	return map[string]any{"kind": "dml", "dml": map[string]any{"kind": "insert", "table": table, "tuple": tuple}}
}

// casInsert inserts tuple into table through conn (the leader's) with a
// predicate read just before from the same instance, and returns the
// [index, term] answered. It retries while the predicate cannot be valid
// yet: a new leader's applied index is still an entry of an older term
// (EntryTermMismatch, 10008) or the term moved on (TermMismatch, 10003).
func casInsert(t *testing.T, conn tarantool.Connector, table uint32, tuple ...any) (index, term uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		info, err := raftInfoOf(conn)
		if err != nil {
			t.Fatalf(".proc_raft_info: %v", err)
		}
		data, err := call(conn, ".proc_cas", itClusterID, casPredicate(info), insertOp(table, tuple...), 1)
		if te, ok := serverError(err); ok && (te.Code == 10008 || te.Code == 10003) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if err != nil {
			t.Fatalf(".proc_cas insert %v into %d: %v", tuple, table, err)
		}
		if len(data) != 2 {
			t.Fatalf(".proc_cas returned %#v; want [index, term]", data)
		}
		index, term = mustUint(t, "cas index", data[0]), mustUint(t, "cas term", data[1])
		if index <= info.Applied || term != info.Term {
			t.Fatalf(".proc_cas returned index %d term %d for a predicate at index %d term %d", index, term, info.Applied, info.Term)
		}
		return index, term
	}
}

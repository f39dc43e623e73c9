package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
	"github.com/picogo/picogo/internal/procs"
	"github.com/tarantool/go-tarantool/v2"
	"github.com/vmihailenco/msgpack/v5"
)

const (
	// picogoAdminPassword is admin's password (PICOGO_ADMIN_PASSWORD); the
	// writes log in as admin.
	picogoAdminPassword = "bench-admin-secret"
	// picogoServicePassword is pico_service's: the readiness probes log in
	// as pico_service, which works before the admin password is applied.
	picogoServicePassword = "bench-service-secret"
	picogoClusterID       = "demo" // picogo run's default --cluster-id
	// benchTable is the GLOBAL table the writes go into: (key, value).
	benchTable uint32 = 1024
	// requestTimeout bounds every request of the bench's clients.
	requestTimeout = 10 * time.Second
	// readyTimeout bounds how long a cluster may take to form.
	readyTimeout = 60 * time.Second
)

// Picodata's CaS errors that mean the predicate is stale: the term moved
// on (TermMismatch), the index is not of this term (EntryTermMismatch), or
// it was compacted away (Compacted), or is not there (NoSuchIndex).
const (
	codeTermMismatch      = 10003
	codeNoSuchIndex       = 10004
	codeCompacted         = 10005
	codeEntryTermMismatch = 10008
)

// benchTableDef is the table the writes go into, created through CaS as an
// application's DDL would (the simulator's kv table).
var benchTableDef = schema.TableDef{ID: benchTable, Name: "bench_kv", Distribution: "global", Operable: true, Engine: "memtx",
	Format:     []schema.Field{{Name: "key", Type: "string"}, {Name: "value", Type: "string"}},
	PrimaryKey: []uint32{0}}

// picogoInstance is one `picogo run` process.
type picogoInstance struct {
	name string
	addr string
	http string // its --http-listen address, when profiled
	proc *procs.Process
	// How it was started, to start it again (restart).
	ps      *procs.Registry
	argv    []string
	dir     string
	logPath string
}

// restart starts the instance again with the same command line, after its
// process has exited.
func (in *picogoInstance) restart() error {
	p, err := start(in.ps, in.name, in.logPath, []string{"PICOGO_ADMIN_PASSWORD=" + picogoAdminPassword}, in.dir, in.argv...)
	if err != nil {
		return err
	}
	in.proc = p
	return nil
}

// startPicogo starts n instances of one cluster on free loopback ports
// (data and logs under dir) and waits until it has a leader all agree on,
// every instance is Online, the governor is idle and the admin password
// is applied. It returns the instances and the leader. extra is added to
// every instance's `picogo run` arguments.
func startPicogo(ctx context.Context, ps *procs.Registry, bin, dir string, n int, profiled bool, extra ...string) ([]*picogoInstance, *picogoInstance, error) {
	addrs, err := procs.FreeAddrs(n)
	if err != nil {
		return nil, nil, err
	}
	var httpAddrs []string
	if profiled {
		if httpAddrs, err = procs.FreeAddrs(n); err != nil {
			return nil, nil, err
		}
	}
	var ins []*picogoInstance
	var watch []*procs.Process
	for i, addr := range addrs {
		name := fmt.Sprintf("picogo-i%d", i+1)
		idir := filepath.Join(dir, name)
		if err := os.MkdirAll(idir, 0o755); err != nil {
			return nil, nil, err
		}
		args := []string{"run", "--data-dir", filepath.Join(idir, "data"), "--listen", addr, "--advertise", addr,
			"--peer", strings.Join(addrs, ","), "--service-password", picogoServicePassword}
		args = append(args, extra...)
		in := &picogoInstance{name: name, addr: addr, ps: ps, dir: idir, logPath: filepath.Join(idir, "picogo.log")}
		if profiled {
			in.http = httpAddrs[i]
			args = append(args, "--http-listen", in.http)
		}
		in.argv = append([]string{bin}, args...)
		if err := in.restart(); err != nil {
			return nil, nil, err
		}
		ins = append(ins, in)
		watch = append(watch, in.proc)
	}
	var leader *picogoInstance
	err = poll(ctx, readyTimeout, fmt.Sprintf("picogo: %d instances elect a leader all agree on", n), watch, func() (err error) {
		leader, err = picogoLeader(ctx, ins)
		return err
	})
	if err != nil {
		return ins, nil, err
	}
	err = poll(ctx, readyTimeout, "picogo: every instance Online, the governor idle, the admin password applied", watch, func() error {
		return picogoSettled(ctx, ins, leader)
	})
	return ins, leader, err
}

// connectTarantool opens a go-tarantool connection to addr as user (empty:
// guest, no AUTH). Requests time out after requestTimeout.
func connectTarantool(ctx context.Context, addr, user, password string) (*tarantool.Connection, error) {
	return connectTarantoolTimeout(ctx, addr, user, password, requestTimeout)
}

// connectTarantoolTimeout is connectTarantool with requests timing out
// after timeout.
func connectTarantoolTimeout(ctx context.Context, addr, user, password string, timeout time.Duration) (*tarantool.Connection, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return tarantool.Connect(ctx, tarantool.NetDialer{Address: addr, User: user, Password: password},
		tarantool.Opts{Timeout: timeout})
}

// raftInfo is .proc_raft_info's result.
type raftInfo = api.RaftInfoResult

func callOne[T any](conn tarantool.Connector, fn string, args ...any) (T, error) {
	var res []T
	if args == nil {
		args = []any{}
	}
	if err := conn.Do(tarantool.NewCallRequest(fn).Args(args)).GetTyped(&res); err != nil {
		var zero T
		return zero, err
	}
	if len(res) != 1 {
		var zero T
		return zero, fmt.Errorf("%s returned %d values; want 1", fn, len(res))
	}
	return res[0], nil
}

// withService runs f on a fresh pico_service connection to in.
func withService(ctx context.Context, in *picogoInstance, f func(*tarantool.Connection) error) error {
	conn, err := connectTarantool(ctx, in.addr, "pico_service", picogoServicePassword)
	if err != nil {
		return fmt.Errorf("%s: %w", in.name, err)
	}
	defer conn.Close()
	if err := f(conn); err != nil {
		return fmt.Errorf("%s: %w", in.name, err)
	}
	return nil
}

// picogoLeader returns the one instance that is Leader, once every
// instance names it as leader in the same term.
func picogoLeader(ctx context.Context, ins []*picogoInstance) (*picogoInstance, error) {
	infos := make([]raftInfo, len(ins))
	var leader *picogoInstance
	var li raftInfo
	for i, in := range ins {
		err := withService(ctx, in, func(c *tarantool.Connection) (err error) {
			infos[i], err = callOne[raftInfo](c, ".proc_raft_info")
			return err
		})
		if err != nil {
			return nil, err
		}
		if infos[i].State == "Leader" {
			if leader != nil {
				return nil, fmt.Errorf("two leaders: %s and %s", leader.name, in.name)
			}
			leader, li = in, infos[i]
		}
	}
	if leader == nil {
		return nil, errors.New("no leader yet")
	}
	for i, info := range infos {
		if info.LeaderID != li.ID || info.Term != li.Term {
			return nil, fmt.Errorf("%s sees leader %d in term %d; %s leads term %d", ins[i].name, info.LeaderID, info.Term, leader.name, li.Term)
		}
	}
	return leader, nil
}

// picogoSettled checks that every instance is current and target Online,
// the leader's governor idle, and admin's password applied on the leader.
func picogoSettled(ctx context.Context, ins []*picogoInstance, leader *picogoInstance) error {
	type grade struct {
		Variant string `msgpack:"variant"`
	}
	type instanceInfo struct {
		Current grade `msgpack:"current_grade"`
		Target  grade `msgpack:"target_grade"`
	}
	for _, in := range ins {
		err := withService(ctx, in, func(c *tarantool.Connection) error {
			info, err := callOne[instanceInfo](c, ".proc_instance_info")
			if err != nil {
				return err
			}
			if info.Current.Variant != "Online" || info.Target.Variant != "Online" {
				return fmt.Errorf("%s, target %s", info.Current.Variant, info.Target.Variant)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return withService(ctx, leader, func(c *tarantool.Connection) error {
		type runtimeInfo struct {
			Internal struct {
				Governor string `msgpack:"governor_loop_status"`
			} `msgpack:"internal"`
		}
		rt, err := callOne[runtimeInfo](c, ".proc_runtime_info")
		if err != nil {
			return err
		}
		if rt.Internal.Governor != "idle" {
			return fmt.Errorf("the governor is %q", rt.Internal.Governor)
		}
		// _pico_user (520), admin (id 1): its auth field is set once the
		// password the cluster started with is applied.
		rows, err := c.Do(tarantool.NewSelectRequest(uint32(520)).Iterator(tarantool.IterEq).Key([]any{uint64(1)})).Get()
		if err != nil {
			return err
		}
		if len(rows) != 1 {
			return fmt.Errorf("_pico_user has %d rows for admin", len(rows))
		}
		row, _ := rows[0].([]any)
		if len(row) < 4 {
			return fmt.Errorf("_pico_user row %v", rows[0])
		}
		if auth, _ := row[3].([]any); len(auth) < 2 || auth[0] != "chap-sha1" {
			return errors.New("admin has no password yet")
		}
		return nil
	})
}

// ---- CaS writes ----

// casPredicate is .proc_cas's predicate.
type casPredicate struct {
	Index  uint64 `msgpack:"index"`
	Term   uint64 `msgpack:"term"`
	Ranges []any  `msgpack:"ranges"`
}

type casDml struct {
	Kind  string   `msgpack:"kind"`
	Table uint32   `msgpack:"table"`
	Tuple []string `msgpack:"tuple"`
}

type casOp struct {
	Kind string `msgpack:"kind"`
	Dml  casDml `msgpack:"dml"`
}

// casWriter does the picogo side of the writes: each write is one
// `.proc_cas` on the leader inserting a unique key. Its predicate is the
// newest [index, term] the writer knows, that is the one the latest CaS
// answered (the entry it wrote is applied on the leader by then): a blind
// insert relies on no range, so any recent index of the current term will
// do, and a recent one keeps the leader's conflict scan short. Only a
// stale predicate (after an election or a compaction) costs a
// `.proc_raft_info` round trip and a retry.
type casWriter struct {
	conns []*tarantool.Connection
	keys  keySource
	value string

	mu   sync.Mutex
	pred casPredicate
}

func newCasWriter(ctx context.Context, leader *picogoInstance, conns int, keys keySource, value string) (*casWriter, error) {
	cs, err := openAll(conns, func() (*tarantool.Connection, error) {
		return connectTarantool(ctx, leader.addr, "admin", picogoAdminPassword)
	})
	if err != nil {
		return nil, fmt.Errorf("picogo: connecting to the leader %s as admin: %w", leader.name, err)
	}
	w := &casWriter{conns: cs, keys: keys, value: value}
	if err := w.refresh(w.conns[0]); err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

func (w *casWriter) close() {
	for _, c := range w.conns {
		c.Close()
	}
}

// refresh reads the leader's term and applied index.
func (w *casWriter) refresh(conn *tarantool.Connection) error {
	info, err := callOne[raftInfo](conn, ".proc_raft_info")
	if err != nil {
		return fmt.Errorf("picogo: .proc_raft_info: %w", err)
	}
	w.advance(info.Applied, info.Term)
	return nil
}

// advance makes (index, term) the predicate if it is newer.
func (w *casWriter) advance(index, term uint64) {
	w.mu.Lock()
	if term > w.pred.Term || (term == w.pred.Term && index > w.pred.Index) {
		w.pred = casPredicate{Index: index, Term: term, Ranges: []any{}}
	}
	w.mu.Unlock()
}

func (w *casWriter) predicate() casPredicate {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pred
}

// createTable creates the bench's table through two-phase DDL (or finds
// it there): ddl_prepare through CaS, then wait until the governor has
// committed it (its _pico_table row says operable).
func (w *casWriter) createTable() error { return w.createTableDef(benchTableDef) }

// createTableDef creates def (its ID set) as createTable does.
func (w *casWriter) createTableDef(def schema.TableDef) error {
	conn := w.conns[0]
	for attempt := 0; ; attempt++ {
		p := w.predicate()
		var res []uint64
		err := conn.Do(tarantool.NewCallRequest(".proc_cas").Args([]any{picogoClusterID, p,
			rawOp(tables.PrepareCreateTableOp(def, 0)), uint32(tables.AdminID)})).GetTyped(&res)
		if err == nil {
			if len(res) == 2 {
				w.advance(res[0], res[1])
			}
			return w.awaitOperable(conn, def)
		}
		var te tarantool.Error
		if errors.As(err, &te) && (uint32(te.Code) == tuple.CodeSpaceExists || uint32(te.Code) == tuple.CodeIllegalParams) {
			return w.awaitOperable(conn, def) // created, or a change is pending
		}
		if attempt < 10 && staleCas(err) {
			if err := w.refresh(conn); err != nil {
				return err
			}
			time.Sleep(20 * time.Millisecond)
			continue
		}
		return fmt.Errorf("picogo: creating table %s: %w", def.Name, err)
	}
}

// awaitOperable waits (10 s at most) until def's _pico_table row says
// operable: the two-phase DDL committed.
func (w *casWriter) awaitOperable(conn *tarantool.Connection, def schema.TableDef) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		rows, err := conn.Do(tarantool.NewSelectRequest(tables.TablePicoTable).Iterator(tarantool.IterEq).
			Key([]any{uint64(def.ID)})).Get()
		if err == nil && len(rows) == 1 {
			if row, ok := rows[0].([]any); ok && len(row) > 5 && row[5] == true {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("picogo: table %s not committed within 10s (last error: %v)", def.Name, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// staleCas reports whether err says the CaS predicate is stale.
func staleCas(err error) bool {
	var te tarantool.Error
	if !errors.As(err, &te) {
		return false
	}
	switch te.Code {
	case codeTermMismatch, codeNoSuchIndex, codeCompacted, codeEntryTermMismatch:
		return true
	}
	return false
}

// write inserts one unique key; worker picks the connection.
func (w *casWriter) write(_ context.Context, worker int) error {
	conn := w.conns[worker%len(w.conns)]
	op := casOp{Kind: "dml", Dml: casDml{Kind: "insert", Table: benchTable, Tuple: []string{w.keys.next(), w.value}}}
	for attempt := 0; ; attempt++ {
		var res []uint64
		err := conn.Do(tarantool.NewCallRequest(".proc_cas").Args([]any{picogoClusterID, w.predicate(), op, uint32(tables.AdminID)})).GetTyped(&res)
		if err == nil {
			if len(res) != 2 {
				return fmt.Errorf(".proc_cas returned %v; want [index, term]", res)
			}
			w.advance(res[0], res[1])
			return nil
		}
		if attempt < 3 && staleCas(err) {
			if err := w.refresh(conn); err != nil {
				return err
			}
			continue
		}
		return err
	}
}

// ---- trivial calls ----

// caller calls one function with no arguments, through connections shared
// by the load goroutines; the same for picogo and Tarantool.
type caller struct {
	conns []*tarantool.Connection
	fn    string
}

func newCaller(ctx context.Context, addr string, conns int, fn string) (*caller, error) {
	cs, err := openAll(conns, func() (*tarantool.Connection, error) { return connectTarantool(ctx, addr, "", "") })
	if err != nil {
		return nil, err
	}
	return &caller{conns: cs, fn: fn}, nil
}

func (c *caller) close() {
	for _, conn := range c.conns {
		conn.Close()
	}
}

func (c *caller) call(_ context.Context, worker int) error {
	var res []map[string]any
	err := c.conns[worker%len(c.conns)].Do(tarantool.NewCallRequest(c.fn).Args([]any{})).GetTyped(&res)
	if err == nil && len(res) != 1 {
		err = fmt.Errorf("%s returned %d values; want 1", c.fn, len(res))
	}
	return err
}

// startPicogoOne starts a single-instance cluster for the calls and waits
// until it is settled.
func startPicogoOne(ctx context.Context, ps *procs.Registry, bin, dir string, profiled bool) (*picogoInstance, error) {
	_, leader, err := startPicogo(ctx, ps, bin, dir, 1, profiled)
	return leader, err
}

// rawOp is an op as .proc_cas's op argument, in picogo's own encoding.
func rawOp(op tables.Op) msgpack.RawMessage { return msgpack.RawMessage(op.Encode()) }

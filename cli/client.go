package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
	"github.com/picogo/picogo/net/iproto"
	"github.com/picogo/picogo/net/tcp"
	"github.com/picogo/picogo/proc"
	"github.com/vmihailenco/msgpack/v5"
)

// client is a CLI's connection to an instance.
type client struct {
	pool *tcp.Pool
	sync atomic.Uint64 // calls may run in parallel
}

func newClient(user, password string) *client {
	return &client{pool: tcp.NewPool(tcp.PoolConfig{User: user, Password: password, DialTimeout: 2 * time.Second})}
}

func (c *client) close() { c.pool.Close() }

// call sends a raw CALL of fn with msgpack args and returns the DATA array.
func (c *client) call(addr, fn string, args []byte, timeout time.Duration) (msgpack.RawMessage, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	packet, err := tcp.Call(ctx, c.pool, addr, iproto.EncodeCall(c.sync.Add(1), fn, args))
	if err != nil {
		return nil, err
	}
	resp, err := iproto.DecodeResponse(packet)
	if err != nil {
		return nil, err
	}
	if resp.Err != nil {
		return nil, &remoteError{Code: resp.Err.Code, Message: resp.Err.Message}
	}
	return resp.Data, nil
}

// remoteError is an error an instance answered with.
type remoteError struct {
	Code    uint32
	Message string
}

func (e *remoteError) Error() string { return fmt.Sprintf("%s (code %d)", e.Message, e.Code) }

// callInto calls fn with args (encoded as a msgpack array) and decodes its
// single return value into res.
func (c *client) callInto(addr, fn string, res any, timeout time.Duration, args ...any) error {
	if args == nil {
		args = []any{}
	}
	b, err := msgpack.Marshal(args)
	if err != nil {
		return err
	}
	data, err := c.call(addr, fn, b, timeout)
	if err != nil {
		return err
	}
	var values []msgpack.RawMessage
	if err := msgpack.Unmarshal(data, &values); err != nil {
		return fmt.Errorf("unexpected reply to %s: %v", fn, err)
	}
	if res == nil {
		return nil
	}
	if len(values) == 0 {
		return fmt.Errorf("%s returned nothing", fn)
	}
	if err := msgpack.Unmarshal(values[0], res); err != nil {
		return fmt.Errorf("unexpected reply to %s: %v", fn, err)
	}
	return nil
}

func (c *client) raftInfo(addr string) (api.RaftInfoResult, error) {
	data, err := c.call(addr, ".proc_raft_info", []byte{0x90}, 2*time.Second)
	if err != nil {
		return api.RaftInfoResult{}, err
	}
	var v []api.RaftInfoResult
	if err := msgpack.Unmarshal(data, &v); err != nil || len(v) != 1 {
		return api.RaftInfoResult{}, fmt.Errorf("unexpected reply to .proc_raft_info")
	}
	return v[0], nil
}

func (c *client) rows(addr string, table uint32) ([][]any, error) {
	frame, err := proc.EncodeSelect(c.sync.Add(1), table, nil)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	packet, err := tcp.Call(ctx, c.pool, addr, frame)
	if err != nil {
		return nil, err
	}
	rows, e := proc.DecodeRows(packet)
	if e != nil {
		return nil, e
	}
	return rows, nil
}

// peerAddresses is _pico_peer_address as the instance at addr has applied
// it: raft id -> address.
func peerAddresses(c *client, addr string) (map[uint64]string, error) {
	rows, err := c.rows(addr, tables.TablePicoPeerAddress)
	if err != nil {
		return nil, err
	}
	out := map[uint64]string{}
	for _, r := range rows {
		var id uint64
		a, ok := "", len(r) == 2
		if ok {
			id, ok = tuple.AsUint64(r[0])
		}
		if ok {
			a, ok = r[1].(string)
		}
		if !ok {
			return nil, fmt.Errorf("%s row %v is not [raft_id, address]", tables.TablePicoPeerAddressName, r)
		}
		out[id] = a
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s is empty (the instance has no cluster yet)", tables.TablePicoPeerAddressName)
	}
	return out, nil
}

// dialArg opens a client for a command's optional [user@]host:port
// argument (default admin@127.0.0.1:3301) and returns it with the address.
// A user other than guest needs a password from the environment: without
// one the command stops before it logs in, rather than spend a failed login
// (four in a row lock the user).
func dialArg(fs *flag.FlagSet, env func(string) string) (*client, string, error) {
	target := "127.0.0.1:3301"
	if fs.NArg() > 0 {
		target = fs.Arg(0)
	}
	user, password, addr := credentials(target, proc.Admin, env)
	if password == "" && user != proc.Guest {
		return nil, addr, missingPassword(user)
	}
	return newClient(user, password), addr, nil
}

// parseAndDial parses a command's flags and its one optional
// [user@]host:port argument, and opens a client for it. Without a client it
// returns the command's exit code: 0 after --help, 2 for bad arguments or a
// missing password (said on stderr).
func parseAndDial(fs *flag.FlagSet, args []string, env func(string) string, stderr io.Writer) (*client, string, int) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, "", 0
		}
		return nil, "", 2
	}
	if fs.NArg() > 1 {
		fmt.Fprintf(stderr, "picogo %s: unexpected argument %q\n", fs.Name(), fs.Arg(1))
		return nil, "", 2
	}
	c, addr, err := dialArg(fs, env)
	if err != nil {
		fmt.Fprintf(stderr, "picogo %s: %v\n", fs.Name(), err)
		return nil, "", 2
	}
	return c, addr, 0
}

// missingPassword says which variable holds user's password.
func missingPassword(user string) error {
	if user == proc.Admin {
		return errors.New("no password for admin: set PICOGO_ADMIN_PASSWORD (or PICOGO_PASSWORD) to admin's password, " +
			"e.g. PICOGO_ADMIN_PASSWORD=secret picogo ...; nothing was sent")
	}
	return fmt.Errorf("no password for %s: set PICOGO_PASSWORD to its password; nothing was sent", user)
}

// credentials: user@host:port, the password from PICOGO_PASSWORD (admin:
// PICOGO_ADMIN_PASSWORD too).
func credentials(target, defaultUser string, env func(string) string) (user, password, addr string) {
	user, addr = defaultUser, target
	if u, a, ok := strings.Cut(target, "@"); ok {
		user, addr = u, a
	}
	password = env("PICOGO_PASSWORD")
	if password == "" && user == proc.Admin {
		password = env("PICOGO_ADMIN_PASSWORD")
	}
	return user, password, addr
}

const connectUsage = `Usage: picogo connect [user@]host:port [-c SQL]... [--timeout D]
  (default admin@127.0.0.1:3301)

An SQL console, like psql. On a terminal, statements are typed with line
editing and history (~/.picogo_history), each ending with ';'; a statement
may span lines. With -c, or with statements on stdin when it is not a
terminal, it runs them in order and exits.

  picogo connect 127.0.0.1:3301
  picogo connect 127.0.0.1:3301 -c 'SELECT * FROM t; DELETE FROM t WHERE id = 1'
  picogo connect guest@127.0.0.1:3301 < script.sql

Options:
  -c SQL        run SQL (statements, \ commands or .proc_ calls; repeat -c
                for more) and exit, without reading stdin
  --timeout D   how long to wait for each statement's answer (default 1m)

What the console understands:
` + consoleHelp + `
Exit status: 0 when every statement succeeded; 1 when one failed (with -c
or stdin, the console stops at the first failure, like psql with
ON_ERROR_STOP: what follows is not run, and stderr names the line), or
when the instance cannot be reached or refuses the login; 2 on bad
arguments. On a terminal the status is 0 whatever failed. Results go to
stdout, errors to stderr.

The password comes from PICOGO_PASSWORD (for admin, PICOGO_ADMIN_PASSWORD);
guest@host:port needs none.
`

// stringList is a flag that may be repeated.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, "; ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// parseInterspersed parses flags before and after the positional
// arguments (picogo connect ADDR -c SQL), which the flag package alone
// does not.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// connectFlags are picogo connect's flags.
type connectFlags struct {
	set      *flag.FlagSet
	commands *stringList
	timeout  *time.Duration
}

func newConnectFlags(stderr io.Writer) connectFlags {
	fs := flag.NewFlagSet("connect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, connectUsage) }
	f := connectFlags{set: fs, commands: &stringList{}}
	fs.Var(f.commands, "c", "run these statements and exit")
	f.timeout = fs.Duration("timeout", time.Minute, "how long to wait for each statement's answer")
	return f
}

// runConnect is `picogo connect`: the SQL console.
func runConnect(args []string, env func(string) string, in io.Reader, out, stderr io.Writer) int {
	flags := newConnectFlags(stderr)
	commands, timeout := flags.commands, flags.timeout
	positional, err := parseInterspersed(flags.set, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if len(positional) > 1 {
		fmt.Fprintf(stderr, "picogo connect: unexpected argument %q\n", positional[1])
		return 2
	}
	if *timeout <= 0 {
		fmt.Fprintf(stderr, "picogo connect: --timeout must be positive, not %v\n", *timeout)
		return 2
	}
	target := "127.0.0.1:3301"
	if len(positional) == 1 {
		target = positional[0]
	}
	user, password, addr := credentials(target, proc.Admin, env)
	if password == "" && user != proc.Guest {
		fmt.Fprintf(stderr, "picogo connect: %v\n", missingPassword(user))
		return 2
	}
	c := newClient(user, password)
	defer c.close()
	// Log in before the first prompt: a dead address or a refused login is
	// an error now, not a console that fails every line.
	if _, err := c.call(addr, ".proc_version_info", []byte{0x90}, 5*time.Second); err != nil {
		fmt.Fprintf(stderr, "picogo connect: %s: %v\n", addr, err)
		return 1
	}
	con := &console{r: remoteRunner{c: c, addr: addr, timeout: *timeout}, out: out, errOut: stderr,
		user: user, addr: addr, now: time.Now}
	return con.main(*commands, func() (source, error) {
		lines, interactive, err := newLineReader(in, out, addr+"> ")
		return source{lines: lines, name: "<stdin>", interactive: interactive}, err
	})
}

// parseCallLine reads "proc arg1 arg2": the arguments are JSON values.
func parseCallLine(line string) (string, []byte, error) {
	fields := strings.Fields(line)
	var vals []any
	dec := json.NewDecoder(strings.NewReader(strings.TrimSpace(strings.TrimPrefix(line, fields[0]))))
	dec.UseNumber()
	for {
		var v any
		if err := dec.Decode(&v); err == io.EOF {
			break
		} else if err != nil {
			return "", nil, fmt.Errorf("arguments must be JSON values: %v", err)
		}
		vals = append(vals, fromJSON(v))
	}
	if vals == nil {
		vals = []any{}
	}
	b, err := msgpack.Marshal(vals)
	return fields[0], b, err
}

// fromJSON turns JSON numbers into integers where they are integers.
func fromJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = fromJSON(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = fromJSON(x[k])
		}
	}
	return v
}

// jsonable turns msgpack's decoded maps with any keys into JSON-friendly
// ones, and bytes into strings.
func jsonable(v any) any {
	switch x := v.(type) {
	case map[any]any:
		m := map[string]any{}
		for k, e := range x {
			m[fmt.Sprint(k)] = jsonable(e)
		}
		return m
	case map[string]any:
		for k, e := range x {
			x[k] = jsonable(e)
		}
	case []any:
		for i := range x {
			x[i] = jsonable(x[i])
		}
	case []byte:
		return string(x)
	}
	return v
}

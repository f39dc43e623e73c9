package tcp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	pnet "github.com/picogo/picogo/net"
	"github.com/picogo/picogo/net/iproto"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

const (
	testSchema = 80
	ioTimeout  = 5 * time.Second
)

// testAuth holds chap-sha1 hashes, as a real user table would.
type testAuth struct {
	mu    sync.Mutex
	users map[string][20]byte
	salts [][]byte // salts seen, in order
}

func newTestAuth(userPasswords ...string) *testAuth {
	a := &testAuth{users: map[string][20]byte{}}
	for i := 0; i+1 < len(userPasswords); i += 2 {
		a.users[userPasswords[i]] = iproto.Hash2(userPasswords[i+1])
	}
	return a
}

func (a *testAuth) Authenticate(_ *Session, user string, salt, scramble []byte) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.salts = append(a.salts, append([]byte(nil), salt...))
	h, ok := a.users[user]
	if !ok {
		return &pnet.Error{Code: iproto.CodeNoSuchUser, Message: "User '" + user + "' is not found"}
	}
	if !iproto.CheckScramble(salt, scramble, h) {
		return &pnet.Error{Code: iproto.CodePasswordMismatch, Message: passwordMismatch(user)}
	}
	return nil
}

// lockedBuffer is a log sink safe for concurrent use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newTestLogger() (*slog.Logger, *lockedBuffer) {
	buf := &lockedBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// echoServe answers CALL with DATA [user, function, args].
func echoServe(s *Session, packet []byte, reply func([]byte)) {
	reply(echoReply(s.User(), packet))
}

func echoReply(user string, packet []byte) []byte {
	req, err := iproto.DecodeRequest(packet)
	if err != nil {
		return iproto.EncodeError(req.Sync, testSchema, iproto.CodeInvalidMsgpack, err.Error())
	}
	if req.Type != iproto.TypeCall {
		return iproto.EncodeError(req.Sync, testSchema, iproto.CodeUnknownRequestType, unknownType(req.Type))
	}
	fn, err := req.FunctionName()
	if err != nil {
		return iproto.EncodeError(req.Sync, testSchema, iproto.CodeIllegalParams, err.Error())
	}
	args, _ := req.Args()
	return iproto.EncodeCallReply(req.Sync, testSchema, mp(user), mp(fn), args)
}

func mp(v any) msgpack.RawMessage {
	b, err := msgpack.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// startServer serves cfg on a fresh 127.0.0.1 port (or on cfg.Listener)
// until the test ends.
func startServer(t *testing.T, cfg ServerConfig) (*Server, string) {
	t.Helper()
	if cfg.Listener == nil {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		cfg.Listener = l
	}
	if cfg.SchemaVersion == nil {
		cfg.SchemaVersion = func() uint64 { return testSchema }
	}
	s := NewServer(cfg)
	served := make(chan error, 1)
	go func() { served <- s.Serve() }()
	t.Cleanup(func() {
		require.NoError(t, s.Close())
		select {
		case err := <-served:
			require.NoError(t, err)
		case <-time.After(ioTimeout):
			t.Error("Serve did not return after Close")
		}
	})
	return s, cfg.Listener.Addr().String()
}

// rawClient speaks iproto by hand.
type rawClient struct {
	t        *testing.T
	nc       net.Conn
	br       *bufio.Reader
	greeting []byte
	salt     []byte
}

func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, ioTimeout)
	require.NoError(t, err)
	t.Cleanup(func() { _ = nc.Close() })
	c := &rawClient{t: t, nc: nc, br: bufio.NewReader(nc), greeting: make([]byte, iproto.GreetingSize)}
	require.NoError(t, nc.SetDeadline(time.Now().Add(ioTimeout)))
	_, err = io.ReadFull(c.br, c.greeting)
	require.NoError(t, err)
	_, _, c.salt, err = iproto.ParseGreeting(c.greeting)
	require.NoError(t, err)
	return c
}

func (c *rawClient) send(frame []byte) {
	c.t.Helper()
	require.NoError(c.t, c.nc.SetWriteDeadline(time.Now().Add(ioTimeout)))
	_, err := c.nc.Write(frame)
	require.NoError(c.t, err)
}

// recv reads one reply and decodes it.
func (c *rawClient) recv() iproto.Response {
	c.t.Helper()
	require.NoError(c.t, c.nc.SetReadDeadline(time.Now().Add(ioTimeout)))
	packet, err := iproto.ReadFrame(c.br, 0)
	require.NoError(c.t, err)
	resp, err := iproto.DecodeResponse(packet)
	require.NoError(c.t, err)
	return resp
}

func (c *rawClient) roundtrip(frame []byte) iproto.Response {
	c.t.Helper()
	c.send(frame)
	return c.recv()
}

// expectClosed reads until the server closes the connection.
func (c *rawClient) expectClosed() {
	c.t.Helper()
	require.NoError(c.t, c.nc.SetReadDeadline(time.Now().Add(ioTimeout)))
	for {
		_, err := iproto.ReadFrame(c.br, 0)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				c.t.Fatalf("connection still open after %v", ioTimeout)
			}
			return
		}
	}
}

func (c *rawClient) auth(user, password string) iproto.Response {
	c.t.Helper()
	return c.roundtrip(iproto.EncodeAuth(1, user, iproto.Scramble(c.salt, password)))
}

// whoami calls and returns the user Serve saw.
func (c *rawClient) whoami(sync uint64) string {
	c.t.Helper()
	resp := c.roundtrip(iproto.EncodeCall(sync, "whoami", nil))
	require.Nil(c.t, resp.Err)
	var data []any
	require.NoError(c.t, msgpack.Unmarshal(resp.Data, &data))
	require.NotEmpty(c.t, data)
	return data[0].(string)
}

// eventually waits for ch or fails.
func eventually[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(ioTimeout):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

func netListen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

func msgpackUnmarshal(b []byte, v any) error { return msgpack.Unmarshal(b, v) }

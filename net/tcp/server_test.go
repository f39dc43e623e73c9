package tcp

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pnet "github.com/picogo/picogo/net"
	"github.com/picogo/picogo/net/iproto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

const testUUID = "7f1c1a0e-2b3c-4d5e-8f90-a1b2c3d4e5f6"

func TestGreeting(t *testing.T) {
	_, addr := startServer(t, ServerConfig{UUID: testUUID, Serve: echoServe})
	a, b := dialRaw(t, addr), dialRaw(t, addr)
	for _, c := range []*rawClient{a, b} {
		require.Len(t, c.greeting, iproto.GreetingSize)
		version, uuid, salt, err := iproto.ParseGreeting(c.greeting)
		require.NoError(t, err)
		assert.Equal(t, iproto.DefaultVersion, version)
		assert.Equal(t, testUUID, uuid)
		assert.Len(t, salt, 32)
	}
	assert.NotEqual(t, a.salt, b.salt, "every connection gets a fresh salt")
}

func TestGreetingDefaultsAndVersion(t *testing.T) {
	_, addr := startServer(t, ServerConfig{Version: "2.6.0"})
	version, uuid, _, err := iproto.ParseGreeting(dialRaw(t, addr).greeting)
	require.NoError(t, err)
	assert.Equal(t, "2.6.0", version)
	assert.Equal(t, iproto.NilUUID, uuid)
}

func TestAuth(t *testing.T) {
	auth := newTestAuth("admin", "secret", "guest", "")
	_, addr := startServer(t, ServerConfig{Auth: auth, Serve: echoServe})

	t.Run("success", func(t *testing.T) {
		c := dialRaw(t, addr)
		assert.Equal(t, Guest, c.whoami(1))
		resp := c.auth("admin", "secret")
		require.Nil(t, resp.Err)
		assert.Equal(t, uint64(iproto.TypeOK), resp.Type)
		assert.Equal(t, uint64(testSchema), resp.SchemaVersion)
		assert.Equal(t, "admin", c.whoami(2))
	})

	t.Run("wrong password", func(t *testing.T) {
		c := dialRaw(t, addr)
		resp := c.auth("admin", "wrong")
		require.NotNil(t, resp.Err)
		assert.Equal(t, uint64(iproto.TypeErrorFlag|iproto.CodePasswordMismatch), resp.Type)
		assert.EqualValues(t, iproto.CodePasswordMismatch, resp.Err.Code)
		assert.Equal(t, "Incorrect password supplied for user 'admin'", resp.Err.Message)
		_, ok := resp.Body.Get(iproto.KeyError24)
		assert.True(t, ok)
		_, ok = resp.Body.Get(iproto.KeyError)
		assert.True(t, ok)
		assert.Equal(t, uint64(testSchema), resp.SchemaVersion)
		assert.Equal(t, Guest, c.whoami(2), "a failed login leaves the session guest")
		// The connection stays usable: log in properly now.
		require.Nil(t, c.auth("admin", "secret").Err)
		assert.Equal(t, "admin", c.whoami(3))
	})

	t.Run("failure keeps the current user", func(t *testing.T) {
		c := dialRaw(t, addr)
		require.Nil(t, c.auth("admin", "secret").Err)
		require.NotNil(t, c.auth("admin", "wrong").Err)
		assert.Equal(t, "admin", c.whoami(2))
	})

	t.Run("unknown user", func(t *testing.T) {
		resp := dialRaw(t, addr).auth("nobody", "x")
		require.NotNil(t, resp.Err)
		assert.EqualValues(t, iproto.CodeNoSuchUser, resp.Err.Code)
	})

	t.Run("salt is the greeting's", func(t *testing.T) {
		c := dialRaw(t, addr)
		require.Nil(t, c.auth("admin", "secret").Err)
		auth.mu.Lock()
		last := auth.salts[len(auth.salts)-1]
		auth.mu.Unlock()
		assert.Equal(t, c.salt, last)
	})

	t.Run("guest with empty password", func(t *testing.T) {
		c := dialRaw(t, addr)
		require.Nil(t, c.auth("guest", "").Err)
		assert.Equal(t, Guest, c.whoami(2))
	})

	t.Run("empty tuple goes back to guest", func(t *testing.T) {
		c := dialRaw(t, addr)
		require.Nil(t, c.auth("admin", "secret").Err)
		assert.Equal(t, "admin", c.whoami(2))
		resp := c.roundtrip(authFrame(3, "guest", []any{}))
		require.Nil(t, resp.Err)
		assert.Equal(t, Guest, c.whoami(4))
	})

	t.Run("empty tuple for another user", func(t *testing.T) {
		c := dialRaw(t, addr)
		resp := c.roundtrip(authFrame(3, "admin", []any{}))
		require.NotNil(t, resp.Err)
		assert.EqualValues(t, iproto.CodeInvalidMsgpack, resp.Err.Code)
		assert.Equal(t, Guest, c.whoami(4))
	})

	t.Run("unknown method", func(t *testing.T) {
		c := dialRaw(t, addr)
		resp := c.roundtrip(authFrame(3, "admin", []any{"pap-sha256", "x"}))
		require.NotNil(t, resp.Err)
		assert.EqualValues(t, iproto.CodeUnknownAuthMethod, resp.Err.Code)
		assert.Equal(t, uint64(3), resp.Sync)
	})

	t.Run("scramble as bin", func(t *testing.T) {
		c := dialRaw(t, addr)
		resp := c.roundtrip(authFrame(3, "admin", []any{"chap-sha1", iproto.Scramble(c.salt, "secret")}))
		require.Nil(t, resp.Err)
		assert.Equal(t, "admin", c.whoami(4))
	})
}

// authFrame is an AUTH with any tuple (msgpack writes []byte as bin).
func authFrame(sync uint64, user string, tuple []any) []byte {
	return frame(map[uint64]any{iproto.KeyRequestType: iproto.TypeAuth, iproto.KeySync: sync},
		map[uint64]any{iproto.KeyUserName: user, iproto.KeyTuple: tuple})
}

// frame encodes a header and an optional body into a frame.
func frame(header map[uint64]any, body map[uint64]any) []byte {
	packet := mp(header)
	if body != nil {
		packet = append(packet, mp(body)...)
	}
	return withPrefix(packet)
}

func withPrefix(packet []byte) []byte {
	return append(append([]byte{0xce}, byte(len(packet)>>24), byte(len(packet)>>16), byte(len(packet)>>8), byte(len(packet))), packet...)
}

func TestNoAuthenticatorRejects(t *testing.T) {
	_, addr := startServer(t, ServerConfig{Serve: echoServe})
	resp := dialRaw(t, addr).auth("admin", "secret")
	require.NotNil(t, resp.Err)
	assert.EqualValues(t, iproto.CodePasswordMismatch, resp.Err.Code)
}

func TestAuthenticatorPlainError(t *testing.T) {
	_, addr := startServer(t, ServerConfig{Auth: authFunc(func(*Session, string, []byte, []byte) error {
		return assert.AnError
	})})
	resp := dialRaw(t, addr).auth("admin", "secret")
	require.NotNil(t, resp.Err)
	assert.EqualValues(t, iproto.CodeUnknown, resp.Err.Code)
	assert.Equal(t, assert.AnError.Error(), resp.Err.Message)
}

// TestAuthenticatorSeesTheClientAddress: the Authenticator gets the
// connection's session, whose RemoteAddr is the client's address (logins
// are throttled by it).
func TestAuthenticatorSeesTheClientAddress(t *testing.T) {
	seen := make(chan string, 1)
	_, addr := startServer(t, ServerConfig{Auth: authFunc(func(s *Session, _ string, _, _ []byte) error {
		seen <- s.RemoteAddr
		return nil
	})})
	c := dialRaw(t, addr)
	resp := c.auth("admin", "secret")
	require.Nil(t, resp.Err)
	assert.Equal(t, c.nc.LocalAddr().String(), <-seen)
}

type authFunc func(s *Session, user string, salt, scramble []byte) error

func (f authFunc) Authenticate(s *Session, user string, salt, scramble []byte) error {
	return f(s, user, salt, scramble)
}

func TestIDAndPing(t *testing.T) {
	var served atomic.Int32
	var schema atomic.Uint64
	schema.Store(80)
	_, addr := startServer(t, ServerConfig{SchemaVersion: schema.Load, Serve: func(s *Session, p []byte, reply func([]byte)) {
		served.Add(1)
		echoServe(s, p, reply)
	}})
	c := dialRaw(t, addr)

	resp := c.roundtrip(iproto.EncodeID(7, 6, []uint64{0, 1, 2, 3}))
	require.Nil(t, resp.Err)
	assert.Equal(t, uint64(7), resp.Sync)
	assert.Equal(t, uint64(80), resp.SchemaVersion)
	version, err := resp.IDVersion()
	require.NoError(t, err)
	assert.Equal(t, uint64(3), version)
	features, err := resp.IDFeatures()
	require.NoError(t, err)
	assert.NotContains(t, features, uint64(iproto.FeatureWatchers))
	authType, err := resp.IDAuthType()
	require.NoError(t, err)
	assert.Equal(t, "chap-sha1", authType)

	resp = c.roundtrip(iproto.EncodePing(8))
	require.Nil(t, resp.Err)
	assert.Equal(t, uint64(iproto.TypeOK), resp.Type)
	assert.Equal(t, uint64(8), resp.Sync)
	assert.Equal(t, uint64(80), resp.SchemaVersion)

	// The observed net.box 2.6 PING, byte for byte.
	c.send([]byte{0xce, 0, 0, 0, 5, 0x82, 0x01, 0x05, 0x00, 0x40})
	require.NoError(t, c.nc.SetReadDeadline(time.Now().Add(ioTimeout)))
	packet, err := iproto.ReadFrame(c.br, 0)
	require.NoError(t, err)
	assert.Equal(t, []byte{0x83, 0x00, 0x00, 0x01, 0x05, 0x05, 0x50, 0x80}, packet)

	// A schema change shows in the next reply: net.box reloads on it.
	schema.Store(81)
	resp = c.roundtrip(iproto.EncodePing(9))
	require.Nil(t, resp.Err)
	assert.Equal(t, uint64(81), resp.SchemaVersion)

	assert.Zero(t, served.Load(), "ID and PING never reach Serve")
}

func TestIDMalformedBody(t *testing.T) {
	_, addr := startServer(t, ServerConfig{})
	c := dialRaw(t, addr)
	resp := c.roundtrip(frame(map[uint64]any{0: iproto.TypeID, 1: 4}, map[uint64]any{iproto.KeyFeatures: "no"}))
	require.NotNil(t, resp.Err)
	assert.Equal(t, uint64(4), resp.Sync)
	assert.EqualValues(t, iproto.CodeInvalidMsgpack, resp.Err.Code)
	require.Nil(t, c.roundtrip(iproto.EncodePing(5)).Err)
}

func TestPipelining(t *testing.T) {
	const n = 100
	_, addr := startServer(t, ServerConfig{Serve: func(s *Session, p []byte, reply func([]byte)) {
		user := s.User()
		p = bytes.Clone(p) // kept past Serve
		go func() {
			time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
			reply(echoReply(user, p))
		}()
	}})
	c := dialRaw(t, addr)
	var batch []byte
	for i := range n {
		batch = append(batch, iproto.EncodeCall(uint64(1000+i), "echo", mp([]any{i}))...)
	}
	c.send(batch) // back to back, one write

	seen := map[uint64]bool{}
	var order []uint64
	for range n {
		resp := c.recv()
		require.Nil(t, resp.Err)
		require.False(t, seen[resp.Sync], "sync %d answered twice", resp.Sync)
		seen[resp.Sync] = true
		order = append(order, resp.Sync)
		var data []any
		require.NoError(t, msgpack.Unmarshal(resp.Data, &data))
		require.Len(t, data, 3)
		assert.EqualValues(t, []any{int8(resp.Sync - 1000)}, data[2], "reply %d carries its request's argument", resp.Sync)
	}
	assert.Len(t, seen, n)
	assert.False(t, slices.IsSorted(order), "replies came out of order (the test's point)")
}

func TestMalformedBodyKeepsConnection(t *testing.T) {
	var served atomic.Int32
	_, addr := startServer(t, ServerConfig{Auth: newTestAuth(), Serve: func(s *Session, p []byte, reply func([]byte)) {
		served.Add(1)
		echoServe(s, p, reply)
	}})
	c := dialRaw(t, addr)

	// AUTH whose body is not a map: answered by this package.
	resp := c.roundtrip(withPrefix([]byte{0x82, 0x00, 0x07, 0x01, 0x09, 0x01}))
	require.NotNil(t, resp.Err)
	assert.Equal(t, uint64(9), resp.Sync)
	assert.EqualValues(t, iproto.CodeInvalidMsgpack, resp.Err.Code)

	// AUTH without USER_NAME.
	resp = c.roundtrip(frame(map[uint64]any{0: iproto.TypeAuth, 1: 10}, map[uint64]any{iproto.KeyTuple: []any{}}))
	require.NotNil(t, resp.Err)
	assert.Equal(t, uint64(10), resp.Sync)
	assert.EqualValues(t, iproto.CodeMissingRequestField, resp.Err.Code)

	// A CALL with a truncated body: Serve's to answer (echoServe does).
	resp = c.roundtrip(withPrefix([]byte{0x82, 0x00, 0x0a, 0x01, 0x0b, 0x81, 0x22}))
	require.NotNil(t, resp.Err)
	assert.Equal(t, uint64(11), resp.Sync)

	// An intact frame with an unreadable header: answered to sync 0.
	resp = c.roundtrip(withPrefix([]byte{0x93, 0x01, 0x02, 0x03}))
	require.NotNil(t, resp.Err)
	assert.Equal(t, uint64(0), resp.Sync)
	assert.EqualValues(t, iproto.CodeInvalidMsgpack, resp.Err.Code)
	resp = c.roundtrip(withPrefix(nil))
	require.NotNil(t, resp.Err)
	assert.Equal(t, uint64(0), resp.Sync)

	require.Nil(t, c.roundtrip(iproto.EncodePing(12)).Err, "the connection stays open")
	assert.Equal(t, int32(1), served.Load())
}

func TestOversizedFrame(t *testing.T) {
	log, logs := newTestLogger()
	_, addr := startServer(t, ServerConfig{MaxFrame: 1024, Serve: echoServe, Logger: log})

	for _, c := range []struct {
		name string
		// sent is how much of the frame the client writes before it reads.
		sent func(frame []byte) []byte
		size int
	}{
		// The server must not wait for the rest.
		{"header readable: error reply, then closed", func(f []byte) []byte { return f[:200] }, 4096},
		// More than the server reads ahead: closing with it unread would
		// reset the connection and lose the reply.
		{"whole frame sent: the client reads the reply", func(f []byte) []byte { return f }, 4 << 20},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn := dialRaw(t, addr)
			conn.send(c.sent(iproto.EncodeCall(9, "echo", mp([]any{strings.Repeat("x", c.size)}))))
			resp := conn.recv()
			require.NotNil(t, resp.Err)
			assert.Equal(t, uint64(9), resp.Sync)
			assert.EqualValues(t, iproto.CodeProtocol, resp.Err.Code)
			assert.Contains(t, resp.Err.Message, "exceeds the limit of 1024 bytes")
			conn.expectClosed()
		})
	}

	t.Run("header unreadable: closed", func(t *testing.T) {
		c := dialRaw(t, addr)
		c.send([]byte{0xce, 0, 1, 0, 0, 0xc1})
		c.expectClosed()
	})

	t.Run("just the length: closed", func(t *testing.T) {
		c := dialRaw(t, addr)
		c.send([]byte{0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
		c.expectClosed()
	})

	// Others are served as before.
	c := dialRaw(t, addr)
	require.Nil(t, c.roundtrip(iproto.EncodeCall(1, "echo", mp([]any{strings.Repeat("x", 900)}))).Err)
	assert.Equal(t, 4, strings.Count(logs.String(), "exceeds the limit"), logs.String())
}

func TestGarbageClosesWithOneLogLine(t *testing.T) {
	log, logs := newTestLogger()
	_, addr := startServer(t, ServerConfig{Serve: echoServe, Logger: log})
	c := dialRaw(t, addr)
	c.send([]byte("GET / HTTP/1.1\r\n\r\n")) // 'G' = 0x47, a frame of 71 bytes...
	c.send([]byte{0xc1, 0xc1, 0xc1})
	_ = c.nc.(interface{ CloseWrite() error }).CloseWrite()
	c.expectClosed()

	c = dialRaw(t, addr)
	c.send([]byte{0xc1})
	c.expectClosed()
	waitFor(t, func() bool { return strings.Count(logs.String(), "iproto connection closed") >= 2 })
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	var conn2 []string
	for _, l := range lines {
		if strings.Contains(l, "conn=2 ") {
			conn2 = append(conn2, l)
		}
	}
	require.Len(t, conn2, 1, logs.String())
	assert.Contains(t, conn2[0], "level=WARN")
	assert.Contains(t, conn2[0], "Invalid MsgPack")

	// The server keeps serving.
	require.Nil(t, dialRaw(t, addr).roundtrip(iproto.EncodePing(1)).Err)
}

// waitFor polls cond until it holds or the test times out.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(ioTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRandomBytes(t *testing.T) {
	auth := newTestAuth("admin", "secret")
	_, addr := startServer(t, ServerConfig{MaxFrame: 4096, Auth: auth, Serve: echoServe})
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		var b []byte
		switch i % 4 {
		case 0: // pure noise
			b = randomBytes(r, 1+r.IntN(300))
		case 1: // a valid length around a random packet
			b = withPrefix(randomBytes(r, r.IntN(300)))
		case 2: // a valid header of a routed type, random body
			typ := []uint64{iproto.TypeAuth, iproto.TypeID, iproto.TypePing, iproto.TypeCall, 999}[r.IntN(5)]
			b = withPrefix(append(mp(map[uint64]any{0: typ, 1: i}), randomBytes(r, r.IntN(100))...))
		default: // a valid request with random bytes flipped
			b = iproto.EncodeAuth(uint64(i), "admin", randomBytes(r, 20))
			for range 1 + r.IntN(4) {
				b[r.IntN(len(b))] = byte(r.Uint32())
			}
		}
		c := dialRaw(t, addr)
		c.send(b)
		require.NoError(t, c.nc.(interface{ CloseWrite() error }).CloseWrite())
		c.expectClosed() // replies or not, the server closes on EOF
	}
	require.Nil(t, dialRaw(t, addr).roundtrip(iproto.EncodePing(1)).Err)
}

func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestSlowReaderDoesNotBlockReply(t *testing.T) {
	big := iproto.EncodeCallReply(0, testSchema, mp(strings.Repeat("x", 256<<10)))
	var (
		mu      sync.Mutex
		slowest time.Duration
		session = make(chan *Session, 1)
	)
	log, logs := newTestLogger()
	_, addr := startServer(t, ServerConfig{WriteQueue: 8, Logger: log, Serve: func(s *Session, p []byte, reply func([]byte)) {
		select {
		case session <- s:
		default:
		}
		start := time.Now()
		reply(big) // synchronously, as the daemon's loop would
		mu.Lock()
		slowest = max(slowest, time.Since(start))
		mu.Unlock()
	}})
	c := dialRaw(t, addr)
	go func() {
		// Requests keep coming, replies are never read. Writes fail once
		// the server gives up on us.
		for i := range 2000 {
			_ = c.nc.SetWriteDeadline(time.Now().Add(ioTimeout))
			if _, err := c.nc.Write(iproto.EncodeCall(uint64(i), "big", nil)); err != nil {
				return
			}
		}
	}()
	s := eventually(t, session, "the first request")
	eventually(t, s.Done(), "the slow client to be disconnected")
	waitFor(t, func() bool { return strings.Contains(logs.String(), "write queue full") })
	mu.Lock()
	defer mu.Unlock()
	assert.Less(t, slowest, 500*time.Millisecond, "reply never blocks")
}

func TestReplyAfterCloseIsDropped(t *testing.T) {
	replies := make(chan func([]byte), 1)
	sessions := make(chan *Session, 1)
	_, addr := startServer(t, ServerConfig{Serve: func(s *Session, p []byte, reply func([]byte)) {
		sessions <- s
		replies <- reply
	}})
	c := dialRaw(t, addr)
	c.send(iproto.EncodeCall(1, "later", nil))
	reply := eventually(t, replies, "the request")
	s := eventually(t, sessions, "the session")
	require.NoError(t, c.nc.Close())
	eventually(t, s.Done(), "the connection to close")
	reply(iproto.EncodeCallReply(1, testSchema)) // dropped, no panic
	reply(iproto.EncodeCallReply(1, testSchema)) // twice even
}

func TestServerCloseClosesConnections(t *testing.T) {
	l, err := netListen()
	require.NoError(t, err)
	s := NewServer(ServerConfig{Listener: l, Serve: func(*Session, []byte, func([]byte)) {}})
	served := make(chan error, 1)
	go func() { served <- s.Serve() }()
	c := dialRaw(t, l.Addr().String())
	c.send(iproto.EncodeCall(1, "never", nil))
	require.Nil(t, c.roundtrip(iproto.EncodePing(2)).Err)

	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	require.NoError(t, eventually(t, closed, "Close"))
	require.NoError(t, eventually(t, served, "Serve"))
	c.expectClosed()
	require.NoError(t, s.Close(), "Close twice")
	require.NoError(t, s.Serve(), "Serve after Close returns at once")
}

func TestSessionIDs(t *testing.T) {
	sessions := make(chan *Session, 2)
	_, addr := startServer(t, ServerConfig{Serve: func(s *Session, p []byte, reply func([]byte)) {
		sessions <- s
		echoServe(s, p, reply)
	}})
	var ids []uint64
	for range 2 {
		c := dialRaw(t, addr)
		c.whoami(1)
		s := <-sessions
		ids = append(ids, s.ID)
		assert.Equal(t, c.nc.LocalAddr().String(), s.RemoteAddr)
	}
	assert.Equal(t, []uint64{1, 2}, ids)
}

var _ pnet.Transport = (*Pool)(nil)

func TestServerCountsConnections(t *testing.T) {
	s, addr := startServer(t, ServerConfig{Serve: echoServe})
	open, accepted := s.Connections()
	assert.Equal(t, 0, open)
	assert.Zero(t, accepted)
	a, b := dialRaw(t, addr), dialRaw(t, addr)
	a.whoami(1)
	b.whoami(1)
	open, accepted = s.Connections()
	assert.Equal(t, 2, open)
	assert.EqualValues(t, 2, accepted)
	require.NoError(t, a.nc.Close())
	deadline := time.Now().Add(5 * time.Second)
	for open, _ = s.Connections(); open != 1 && time.Now().Before(deadline); open, _ = s.Connections() {
		time.Sleep(5 * time.Millisecond)
	}
	open, accepted = s.Connections()
	assert.Equal(t, 1, open, "a closed connection is no longer open")
	assert.EqualValues(t, 2, accepted, "accepted only grows")
}

// TestRepliesNowAndLaterInterleave: replies made on the reader's goroutine
// (held back while it has requests buffered, then written by it) and
// replies made later elsewhere (by the writer) all arrive, intact, over
// bursts of pipelined requests.
func TestRepliesNowAndLaterInterleave(t *testing.T) {
	_, addr := startServer(t, ServerConfig{Serve: func(s *Session, p []byte, reply func([]byte)) {
		h, err := readHeader(p)
		require.NoError(t, err)
		if h.sync%2 == 0 {
			echoServe(s, p, reply)
			return
		}
		user, p := s.User(), bytes.Clone(p)
		go func() {
			time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)
			reply(echoReply(user, p))
		}()
	}})
	c := dialRaw(t, addr)
	const bursts, each = 20, 100
	go func() {
		for b := range bursts {
			var batch []byte
			for i := range each {
				sync := uint64(b*each + i)
				batch = append(batch, iproto.EncodeCall(sync, "echo", mp([]any{sync, strings.Repeat("y", int(sync%300))}))...)
			}
			if _, err := c.nc.Write(batch); err != nil {
				return
			}
		}
	}()
	seen := map[uint64]bool{}
	for range bursts * each {
		resp := c.recv()
		require.Nil(t, resp.Err)
		require.False(t, seen[resp.Sync], "sync %d answered twice", resp.Sync)
		seen[resp.Sync] = true
		var data []any
		require.NoError(t, msgpack.Unmarshal(resp.Data, &data))
		require.Len(t, data, 3)
		assert.EqualValues(t, []any{resp.Sync, strings.Repeat("y", int(resp.Sync%300))}, data[2], "reply %d intact", resp.Sync)
	}
}

// TestSlowClientDoesNotBlockOthers: a client that sends requests and never
// reads their replies is disconnected; meanwhile another connection's
// requests are answered as usual.
func TestSlowClientDoesNotBlockOthers(t *testing.T) {
	big := iproto.EncodeCallReply(0, testSchema, mp(strings.Repeat("x", 64<<10)))
	sessions := make(chan *Session, 16)
	_, addr := startServer(t, ServerConfig{WriteQueue: 64, Serve: func(s *Session, p []byte, reply func([]byte)) {
		if fn := functionName(p); fn == "big" {
			select {
			case sessions <- s:
			default:
			}
			reply(big)
			return
		}
		echoServe(s, p, reply)
	}})
	slow := dialRaw(t, addr)
	go func() {
		for i := range 5000 {
			_ = slow.nc.SetWriteDeadline(time.Now().Add(ioTimeout))
			if _, err := slow.nc.Write(iproto.EncodeCall(uint64(i), "big", nil)); err != nil {
				return
			}
		}
	}()
	s := eventually(t, sessions, "the slow client's first request")
	other := dialRaw(t, addr)
	for i := range 200 {
		start := time.Now()
		other.whoami(uint64(i))
		require.Less(t, time.Since(start), time.Second, "answered as usual")
	}
	eventually(t, s.Done(), "the slow client to be disconnected")
	other.whoami(1000)
}

// functionName is a CALL packet's FUNCTION_NAME ("" if none).
func functionName(p []byte) string {
	req, err := iproto.DecodeRequest(p)
	if err != nil {
		return ""
	}
	fn, _ := req.FunctionName()
	return fn
}

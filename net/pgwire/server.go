package pgwire

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/picogo/picogo/internal/acceptloop"
	"github.com/picogo/picogo/internal/loglimit"
)

// ServerConfig configures a Server. Listener and Backend are required.
type ServerConfig struct {
	// Listener is already listening; the Server closes it on Close.
	Listener net.Listener
	// Backend runs statements and checks passwords.
	Backend Backend
	// AuthMethod is how clients prove their password: "scram-sha-256"
	// (the default, when empty) or "md5". Any other value is treated as
	// the default (and logged).
	AuthMethod string
	// ServerVersion is the server_version reported to clients (default
	// DefaultServerVersion). Clients decide what they may send by it.
	ServerVersion string
	// MaxMessage bounds the messages a client sends, in bytes (default
	// DefaultMaxMessage if <= 0). A bigger one is answered with a FATAL
	// 08P01 error and its connection is closed: the stream cannot be
	// resumed.
	MaxMessage int
	// Logger gets a line per connection closed for a protocol violation
	// (Warn) and per failed login (Info), the first 5 of each per 10 s and
	// then a line counting the rest (as net/tcp's), and debug lines per
	// connection; nil discards.
	Logger *slog.Logger
}

// Defaults of ServerConfig.
const (
	DefaultServerVersion = "15.0"
	DefaultMaxMessage    = 16 << 20
)

// The authentication methods of ServerConfig.AuthMethod.
const (
	AuthSCRAMSHA256 = "scram-sha-256"
	AuthMD5         = "md5"
)

// startupTimeout bounds the time from accepting a connection to the end
// of its authentication (PostgreSQL's authentication_timeout): a client
// that connects and says nothing does not hold a goroutine forever.
const startupTimeout = time.Minute

// Server serves PostgreSQL connections accepted from a listener.
type Server struct {
	cfg  ServerConfig
	log  *slog.Logger
	done chan struct{} // closed by Close
	// violationLog and loginLog limit the lines of connections closed for
	// protocol violations and of failed logins.
	violationLog, loginLog *loglimit.Limiter

	mu     sync.Mutex
	closed bool
	conns  map[*conn]struct{}
	keys   map[uint32]*conn // by process id, for CancelRequest
	wg     sync.WaitGroup   // Serve and every connection goroutine
}

// NewServer makes a server; Serve starts accepting.
func NewServer(cfg ServerConfig) *Server {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	switch cfg.AuthMethod {
	case AuthSCRAMSHA256, AuthMD5:
	case "":
		cfg.AuthMethod = AuthSCRAMSHA256
	default:
		log.Warn("pgwire: unknown auth method, scram-sha-256 used", "method", cfg.AuthMethod)
		cfg.AuthMethod = AuthSCRAMSHA256
	}
	if cfg.ServerVersion == "" {
		cfg.ServerVersion = DefaultServerVersion
	}
	if cfg.MaxMessage <= 0 {
		cfg.MaxMessage = DefaultMaxMessage
	}
	return &Server{cfg: cfg, log: log, done: make(chan struct{}),
		violationLog: loglimit.New(log, slog.LevelWarn, "pgwire connections closed for protocol violations", loglimit.Burst, loglimit.Interval),
		loginLog:     loglimit.New(log, slog.LevelInfo, "failed pgwire logins", loglimit.Burst, loglimit.Interval),
		conns:        map[*conn]struct{}{}, keys: map[uint32]*conn{}}
}

// Addr is the listener's address.
func (s *Server) Addr() net.Addr { return s.cfg.Listener.Addr() }

// Serve accepts connections until Close, then returns nil. Accept errors
// other than the listener being closed are retried with a growing delay.
func (s *Server) Serve() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	return acceptloop.Run(s.cfg.Listener, s.isClosed, s.done, s.log, "pgwire", s.start)
}

// Close stops accepting, closes every connection (cancelling the
// statements they run) and waits for the server's goroutines, including
// Backend calls in progress, to return.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return nil
	}
	s.closed = true
	close(s.done)
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()

	err := s.cfg.Listener.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	for _, c := range conns {
		c.close()
	}
	s.wg.Wait()
	s.violationLog.Stop()
	s.loginLog.Stop()
	return err
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// start runs a connection's goroutine, unless the server is closed.
func (s *Server) start(nc net.Conn) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		nc.Close()
		return
	}
	c := newConn(s, nc)
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		c.serve()
		c.close()
		s.mu.Lock()
		delete(s.conns, c)
		if c.pid != 0 && s.keys[c.pid] == c {
			delete(s.keys, c.pid)
		}
		s.mu.Unlock()
	}()
}

// register gives c a process id and secret key of keyLen random bytes,
// for its BackendKeyData, and makes it cancellable by them.
func (s *Server) register(c *conn, keyLen int) error {
	key := make([]byte, keyLen)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	var b [4]byte
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return err
		}
		pid := binary.BigEndian.Uint32(b[:]) &^ (1 << 31) // positive as an int32, as clients read it
		if pid == 0 || s.keys[pid] != nil {
			continue
		}
		c.pid, c.secret = pid, key
		s.keys[pid] = c
		return nil
	}
}

// cancel cancels the statement running on the connection with process
// id pid, if secret is its key; otherwise it does nothing, as PostgreSQL
// does (the requester learns nothing either way).
func (s *Server) cancel(pid uint32, secret []byte) {
	s.mu.Lock()
	c := s.keys[pid]
	s.mu.Unlock()
	if c == nil || len(secret) != len(c.secret) || subtle.ConstantTimeCompare(secret, c.secret) != 1 {
		s.log.Debug("pgwire: cancel request matches no connection", "pid", pid)
		return
	}
	c.cancelStatement()
}

// errUserCancel is the cause of a statement's context cancelled by a
// CancelRequest.
var errUserCancel = errors.New("canceling statement due to user request")

// statementContext is the context of one statement on c: cancelled by a
// CancelRequest, or when the connection closes. release ends it.
func (c *conn) statementContext() (ctx context.Context, release func()) {
	ctx, cancel := context.WithCancelCause(c.ctx)
	c.mu.Lock()
	c.cancelRunning = cancel
	c.mu.Unlock()
	return ctx, func() {
		c.mu.Lock()
		c.cancelRunning = nil
		c.mu.Unlock()
		cancel(nil)
	}
}

// cancelStatement cancels the statement c runs, if any.
func (c *conn) cancelStatement() {
	c.mu.Lock()
	cancel := c.cancelRunning
	c.mu.Unlock()
	if cancel != nil {
		cancel(errUserCancel)
	}
}

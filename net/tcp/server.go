package tcp

import (
	"errors"
	"log/slog"
	"net"
	"sync"

	"github.com/picogo/picogo/internal/acceptloop"
	"github.com/picogo/picogo/internal/loglimit"
	pnet "github.com/picogo/picogo/net"
	"github.com/picogo/picogo/net/iproto"
)

// ServerConfig configures a Server. Only Listener is required.
type ServerConfig struct {
	// Listener is already listening; the Server closes it on Close.
	Listener net.Listener
	// Version is the version the greeting announces (iproto.DefaultVersion
	// if empty); it decides what clients send on connect.
	Version string
	// UUID is the instance uuid of the greeting (iproto.NilUUID if empty).
	UUID string
	// MaxFrame bounds request frames (iproto.DefaultMaxFrameSize if <= 0).
	// A bigger frame is answered with an error if its header is readable,
	// then the connection is closed: the stream cannot be resumed.
	MaxFrame int
	// WriteQueue is how many replies may wait to be written on one
	// connection (DefaultWriteQueue if <= 0). A client that lets it fill up
	// is disconnected.
	WriteQueue int
	// Auth checks AUTH requests. Nil rejects every login but guest's
	// switch back to guest (an AUTH with an empty tuple).
	Auth Authenticator
	// Serve handles every request but AUTH, ID and PING: packet is the
	// request as iproto.ReadFrame returns it, with a readable header (its
	// body is unchecked: answer a malformed one with an error), valid until
	// Serve returns (it lies in the connection's read buffer: copy what you
	// keep). It is called on the connection's reader goroutine, so it must
	// not block: the next request of the connection waits for it. A reply
	// made on that goroutine leaves with the replies to the other
	// requests already read (one write for all). reply takes the
	// response frame; call it exactly once, later if need be, from any
	// goroutine; it never blocks. A reply for a closed connection is
	// dropped. Requests that expect no reply (WATCH, UNWATCH) need not be
	// replied to. Nil answers every request with CodeUnknownRequestType.
	Serve func(s *Session, packet []byte, reply func(frame []byte))
	// Logger gets one line per connection closed for a protocol violation
	// (Warn) and per failed login (Info), the first 5 of each per 10 s and
	// then a line counting the rest, and debug lines otherwise; nil
	// discards.
	Logger *slog.Logger
	// SchemaVersion gives the schema version for the header of every reply
	// this package writes itself (AUTH, ID, PING, protocol errors): the
	// same as Serve's replies carry, so that a client reloads its schema
	// when it changes. It is called from connection goroutines, so it must
	// be safe for concurrent use. Nil: 0.
	SchemaVersion func() uint64
}

// DefaultWriteQueue is the default ServerConfig.WriteQueue.
const DefaultWriteQueue = 1024

// Authenticator checks logins.
type Authenticator interface {
	// Authenticate checks a chap-sha1 scramble for user against the salt
	// sent in this connection's greeting (all 32 bytes; chap-sha1 uses the
	// first 20, see iproto.CheckScramble); s is the connection's session
	// (s.RemoteAddr is the client's address). It may block, e.g. to hold a
	// refusal back: it runs on the connection's reader goroutine, and
	// s.Done() is closed when the connection closes (Server.Close waits
	// for it to return). Its error is sent to the client: a
	// *net.Error keeps its code, message and fields (e.g.
	// iproto.CodePasswordMismatch, "Incorrect password supplied for user
	// 'x'"); any other error is sent as iproto.CodeUnknown with its text.
	// Accept guest with the empty password: clients send that for a
	// "guest@host" URI. Locking a user after failed logins is the
	// Authenticator's business.
	Authenticate(s *Session, user string, salt, scramble []byte) error
}

// Server serves iproto connections accepted from a listener.
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
	nextID uint64
	wg     sync.WaitGroup // Serve and every connection goroutine
}

// NewServer makes a server; Serve starts accepting.
func NewServer(cfg ServerConfig) *Server {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Version == "" {
		cfg.Version = iproto.DefaultVersion
	}
	if cfg.UUID == "" {
		cfg.UUID = iproto.NilUUID
	}
	if err := iproto.CheckGreetingArgs(cfg.Version, cfg.UUID); err != nil {
		log.Warn("iproto greeting arguments replaced", "err", err)
	}
	if cfg.WriteQueue <= 0 {
		cfg.WriteQueue = DefaultWriteQueue
	}
	if cfg.Auth == nil {
		cfg.Auth = rejectAll{}
	}
	if cfg.SchemaVersion == nil {
		cfg.SchemaVersion = func() uint64 { return 0 }
	}
	if cfg.Serve == nil {
		cfg.Serve = func(_ *Session, packet []byte, reply func([]byte)) {
			h, _ := readHeader(packet)
			reply(iproto.EncodeError(h.sync, cfg.SchemaVersion(), iproto.CodeUnknownRequestType, unknownType(h.typ)))
		}
	}
	return &Server{cfg: cfg, log: log, done: make(chan struct{}), conns: map[*conn]struct{}{},
		violationLog: loglimit.New(log, slog.LevelWarn, "connections closed for protocol violations", loglimit.Burst, loglimit.Interval),
		loginLog:     loglimit.New(log, slog.LevelInfo, "failed logins", loglimit.Burst, loglimit.Interval)}
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

	return acceptloop.Run(s.cfg.Listener, s.isClosed, s.done, s.log, "iproto", s.start)
}

// Close stops accepting, closes every connection and waits for the
// server's goroutines (including Serve and Authenticate calls in
// progress) to return. Replies sent afterwards are dropped.
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
		c.close(errServerClosed)
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

// start registers a new connection and starts its goroutines.
func (s *Server) start(nc net.Conn) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = nc.Close()
		return
	}
	s.nextID++
	c := newConn(s, nc, s.nextID)
	s.conns[c] = struct{}{}
	s.wg.Add(2)
	s.mu.Unlock()
	go c.readLoop()
	go c.writeLoop()
}

// Connections reports how many connections are open now and how many were
// accepted since the server started.
func (s *Server) Connections() (open int, accepted uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns), s.nextID
}

// forget drops a closed connection.
func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// rejectAll is the Authenticator of a server configured without one.
type rejectAll struct{}

func (rejectAll) Authenticate(_ *Session, user string, _, _ []byte) error {
	return &pnet.Error{Code: iproto.CodePasswordMismatch, Message: passwordMismatch(user)}
}

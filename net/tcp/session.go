package tcp

import "sync/atomic"

// Guest is the user of a session that has not authenticated.
const Guest = "guest"

// Session is one client connection as Serve sees it.
type Session struct {
	// ID numbers the server's connections from 1.
	ID uint64
	// RemoteAddr is the client's address.
	RemoteAddr string

	user atomic.Pointer[string]
	done chan struct{}
}

func newSession(id uint64, remote string) *Session {
	s := &Session{ID: id, RemoteAddr: remote, done: make(chan struct{})}
	s.setUser(Guest)
	return s
}

// User is the session's user: Guest until an AUTH succeeds. Requests are
// read one at a time, so within Serve it is the user the request was sent
// as.
func (s *Session) User() string { return *s.user.Load() }

func (s *Session) setUser(u string) { s.user.Store(&u) }

// Done is closed when the connection closes; replies after that are
// dropped.
func (s *Session) Done() <-chan struct{} { return s.done }

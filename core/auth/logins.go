package auth

import (
	"fmt"
	"time"

	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/net"
	"github.com/picogo/picogo/net/iproto"
)

// Logins checks an instance's logins and keeps what the rules remember:
// failures per user and per address. It is not safe for concurrent use:
// the instance's event loop owns it.
type Logins struct {
	service      [20]byte
	initialAdmin *tables.UserAuth
	users        map[string]userFailures
	throttle     throttle
}

// New makes the login rules of an instance whose service password hashes
// (chap-sha1) to service; initialAdmin, if not nil, is the admin password
// the instance was started with (Secrets of it): admin logs in with it
// until _pico_user holds one.
func New(service [20]byte, initialAdmin *tables.UserAuth) *Logins {
	return &Logins{service: service, initialAdmin: initialAdmin, users: map[string]userFailures{},
		throttle: throttle{addrs: map[string]addressFailures{}}}
}

// Attempt is one login: an iproto AUTH, or PostgreSQL's password
// exchange.
type Attempt struct {
	User string
	// Address is the client's host, without the port: failed logins are
	// throttled per address.
	Address string
	// Proof is the client's proof of the password (ChapSha1, MD5, SCRAM).
	Proof Proof
}

// Verdict is the answer to an Attempt.
type Verdict struct {
	// Err is the refusal to send the client; nil: the login succeeded.
	Err *net.Error
	// Delay is how long to hold the refusal back before sending it.
	Delay time.Duration
	// Locked: this attempt locked the user.
	Locked bool
	// ServerSignature is a successful SCRAM login's proof of the server,
	// for the client.
	ServerSignature []byte
}

// Login checks a at now (a monotonic clock, the same for every call).
// users are the tables _pico_user is read from.
func (l *Logins) Login(users *tables.Store, a Attempt, now time.Duration) Verdict {
	l.liftIfRegranted(users, a.User)
	if remaining, locked := l.locked(a.User, now); locked {
		return l.refuse(a, now, &net.Error{Code: iproto.CodeAccessDenied, Message: fmt.Sprintf(
			"User '%s' is blocked after %d failed logins in a row: it is unblocked in %s, or at once by an admin (picogo unlock)",
			a.User, MaxFailures, remaining.Round(time.Second))})
	}
	creds, exists, err := l.passwordOf(users, a.User)
	if err != nil {
		return l.refuse(a, now, err)
	}
	if !exists {
		return l.refuse(a, now, &net.Error{Code: iproto.CodeNoSuchUser, Message: fmt.Sprintf("User '%s' is not found", a.User)})
	}
	ok, kept, signature := a.Proof.check(creds)
	switch {
	case !kept:
		// Not a failure of the client's: nothing to count.
		return l.refuse(a, now, &net.Error{Code: iproto.CodeAccessDenied, Message: fmt.Sprintf(
			"User '%s' has no password for this login method: set it again (ALTER USER %s PASSWORD '...') so that picogo keeps it for PostgreSQL's protocol too", a.User, a.User)})
	case !ok:
		v := l.refuse(a, now, &net.Error{Code: iproto.CodePasswordMismatch,
			Message: fmt.Sprintf("Incorrect password supplied for user '%s'", a.User)})
		v.Locked = l.countFailure(a.User, now, users.SchemaVersion())
		return v
	}
	if e := mayLogIn(users, a.User); e != nil {
		return l.refuse(a, now, e)
	}
	delete(l.users, a.User)
	return Verdict{ServerSignature: signature}
}

// SCRAMSalt is the salt and iteration count of user's SCRAM-SHA-256
// secret, for the first message of the exchange. A user without one (or
// none at all) gets a made-up pair derived from the service password's
// hash, the same every time for the same user, so that the exchange does
// not tell who exists: the refusal comes with the proof.
func (l *Logins) SCRAMSalt(users *tables.Store, user string) (salt []byte, iterations int) {
	if c, ok, _ := l.passwordOf(users, user); ok && c.scram != nil {
		return c.scram.Salt, c.scram.Iterations
	}
	return hmacSHA256(l.service[:], []byte("scram mock salt\x00"+user))[:SaltSize], SCRAMIterations
}

// refuse is a refusal of a, held back by its address's recent failures.
func (l *Logins) refuse(a Attempt, now time.Duration, err *net.Error) Verdict {
	return Verdict{Err: err, Delay: l.throttle.fail(a.Address, now)}
}

// mayLogIn: a user logs in only while it holds the login privilege on the
// universe (itself or through a role), as in Picodata: ALTER USER ...
// NOLOGIN revokes it, WITH LOGIN grants it. pico_service always may, and
// so may the built-in users before this instance has the cluster's
// tables.
func mayLogIn(users *tables.Store, user string) *net.Error {
	if user == tables.PicoServiceName {
		return nil
	}
	u, found, err := users.UserByName(user)
	if err != nil || !found {
		return nil // see passwordOf
	}
	if !users.Granted(uint32(u.ID), tables.PrivLogin, tables.ObjUniverse, 0) {
		return &net.Error{Code: iproto.CodeAccessDenied, Message: fmt.Sprintf(
			"User '%s' may not log in: it has no login privilege (ALTER USER %s WITH LOGIN gives it)", user, user)}
	}
	return nil
}

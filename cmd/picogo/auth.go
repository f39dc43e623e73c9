package main

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/picogo/picogo/core/node"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/net"
	"github.com/picogo/picogo/net/iproto"
	"github.com/picogo/picogo/proc"
)

// maxLoginAttempts: this many failed logins in a row lock a user
// (Picodata's rule). The lock lasts until the instance restarts.
const maxLoginAttempts = 4

// authenticator checks AUTH against the users in _pico_user (pico_service
// against the service password this instance was started with). It runs
// the check on the event loop, where the tables live.
type authenticator struct {
	d        *daemon
	service  [20]byte
	failures map[string]int // loop-owned
}

func newAuthenticator(d *daemon, servicePassword string) *authenticator {
	return &authenticator{d: d, service: iproto.Hash2(servicePassword), failures: map[string]int{}}
}

// Authenticate implements tcp.Authenticator.
func (a *authenticator) Authenticate(user string, salt, scramble []byte) error {
	res := make(chan error, 1)
	a.d.post(func() { res <- a.check(user, salt, scramble) })
	select {
	case err := <-res:
		return err
	case <-a.d.done:
		return errors.New("the instance is stopping")
	}
}

func (a *authenticator) check(user string, salt, scramble []byte) error {
	if a.failures[user] >= maxLoginAttempts {
		return &net.Error{Code: iproto.CodeAccessDenied,
			Message: fmt.Sprintf("User '%s' is blocked: %d failed logins in a row", user, maxLoginAttempts)}
	}
	hash2, ok := a.hash2(user)
	if !ok {
		return &net.Error{Code: iproto.CodeNoSuchUser, Message: fmt.Sprintf("User '%s' is not found", user)}
	}
	if !iproto.CheckScramble(salt, scramble, hash2) {
		a.failures[user]++
		return &net.Error{Code: iproto.CodePasswordMismatch, Message: fmt.Sprintf("Incorrect password supplied for user '%s'", user)}
	}
	a.failures[user] = 0
	return nil
}

// hash2 is the stored chap-sha1 hash of user's password. A user without
// one (guest; admin before a password is set) has the empty password.
func (a *authenticator) hash2(user string) ([20]byte, bool) {
	if user == proc.PicoService {
		return a.service, true
	}
	rows, err := a.d.host.Node().Tables().Scan(tables.TablePicoUser)
	if err != nil {
		return [20]byte{}, false
	}
	for _, r := range rows {
		v := r.Values()
		if name, _ := v[1].(string); name != user {
			continue
		}
		auth, _ := v[3].([]any)
		if len(auth) != 2 || auth[0] != node.AuthChapSha1 {
			return iproto.Hash2(""), true
		}
		hexed, _ := auth[1].(string)
		var h [20]byte
		if b, err := hex.DecodeString(hexed); err == nil && len(b) == 20 {
			copy(h[:], b)
			return h, true
		}
		return [20]byte{}, false
	}
	return [20]byte{}, false
}

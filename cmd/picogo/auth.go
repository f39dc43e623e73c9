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
	d       *daemon
	service [20]byte
	// admin is the password this instance was started with
	// (PICOGO_ADMIN_PASSWORD), if any: it stands in for admin's until the
	// cluster has applied one.
	admin    *[20]byte
	failures map[string]int // loop-owned
}

func newAuthenticator(d *daemon, servicePassword string, adminHash []byte) *authenticator {
	a := &authenticator{d: d, service: iproto.Hash2(servicePassword), failures: map[string]int{}}
	if len(adminHash) == 20 {
		a.admin = (*[20]byte)(adminHash)
	}
	return a
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
	hash2, ok, err := a.hash2(user)
	if err != nil {
		return err
	}
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

// hash2 is the chap-sha1 hash of user's password: pico_service's is this
// instance's service password; other users' are in _pico_user. admin
// without one there yet has the password this instance was started with —
// and with none, cannot log in. Other users without one (guest) have the
// empty password. Before this instance has the cluster's tables (it is
// discovering or joining) the built-in users exist all the same.
func (a *authenticator) hash2(user string) ([20]byte, bool, error) {
	if user == proc.PicoService {
		return a.service, true, nil
	}
	rows, err := a.d.host.Node().Tables().Scan(tables.TablePicoUser)
	if err != nil {
		return [20]byte{}, false, nil
	}
	for _, r := range rows {
		v := r.Values()
		if name, _ := v[1].(string); name != user {
			continue
		}
		auth, _ := v[3].([]any)
		if len(auth) == 2 && auth[0] == node.AuthChapSha1 {
			hexed, _ := auth[1].(string)
			var h [20]byte
			if b, err := hex.DecodeString(hexed); err == nil && len(b) == 20 {
				copy(h[:], b)
				return h, true, nil
			}
			return [20]byte{}, false, nil
		}
		return a.withoutPassword(user)
	}
	if len(rows) == 0 && (user == proc.Admin || user == proc.Guest) {
		return a.withoutPassword(user)
	}
	return [20]byte{}, false, nil
}

// withoutPassword is the hash of a user that has no password in the
// tables.
func (a *authenticator) withoutPassword(user string) ([20]byte, bool, error) {
	if user == proc.Admin {
		if a.admin == nil {
			return [20]byte{}, false, &net.Error{Code: iproto.CodeAccessDenied,
				Message: "User 'admin' has no password yet: start the cluster with PICOGO_ADMIN_PASSWORD"}
		}
		return *a.admin, true, nil
	}
	return iproto.Hash2(""), true, nil
}

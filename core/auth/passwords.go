package auth

import (
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/net"
	"github.com/picogo/picogo/net/iproto"
)

// passwordOf is the chap-sha1 hash of user's password: pico_service's is
// the service password; other users' are in _pico_user. admin without one
// there yet has the initial password this instance was started with, if
// any (refused otherwise); other users without one (guest) have the empty
// password. Before this instance has the cluster's tables (it is
// discovering or joining) the built-in users exist all the same. ok is
// false for a user that does not exist.
func (l *Logins) passwordOf(users *tables.Store, user string) (hash [20]byte, ok bool, refusal *net.Error) {
	if user == tables.PicoServiceName {
		return l.service, true, nil
	}
	u, found, err := users.UserByName(user)
	switch {
	case err != nil:
		return hash, false, &net.Error{Code: iproto.CodeUnknown, Message: err.Error()}
	case !found:
		if rows, _ := users.Scan(tables.TablePicoUser); len(rows) == 0 && (user == tables.AdminName || user == tables.GuestName) {
			return l.withoutPassword(user)
		}
		return hash, false, nil
	}
	if u.IsRole() {
		return hash, false, nil // a role is not a user: nobody logs in as one
	}
	hash, has, err := u.ChapSha1()
	switch {
	case err != nil:
		return hash, false, &net.Error{Code: iproto.CodeUnknown, Message: err.Error()}
	case has:
		return hash, true, nil
	}
	return l.withoutPassword(user)
}

// emptyPassword is the hash of the empty password (guest's).
var emptyPassword = iproto.Hash2("")

// withoutPassword is the hash of a user that has no password in the
// tables.
func (l *Logins) withoutPassword(user string) ([20]byte, bool, *net.Error) {
	if user == tables.AdminName {
		if l.initialAdmin == nil {
			return [20]byte{}, false, &net.Error{Code: iproto.CodeAccessDenied,
				Message: "User 'admin' has no password yet: start the cluster with PICOGO_ADMIN_PASSWORD"}
		}
		return *l.initialAdmin, true, nil
	}
	return emptyPassword, true, nil
}

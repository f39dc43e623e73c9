package auth

import (
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/net"
	"github.com/picogo/picogo/net/iproto"
)

// passwordOf is user's password as the rules know it: pico_service's is
// the service password (chap-sha1 only: instances log in over iproto);
// other users' are in _pico_user. admin without one
// there yet has the initial password this instance was started with, if
// any (refused otherwise); other users without one (guest) have the empty
// password. Before this instance has the cluster's tables (it is
// discovering or joining) the built-in users exist all the same. ok is
// false for a user that does not exist.
func (l *Logins) passwordOf(users *tables.Store, user string) (c credentials, ok bool, refusal *net.Error) {
	if user == tables.PicoServiceName {
		return credentials{chapSha1: l.service}, true, nil
	}
	u, found, err := users.UserByName(user)
	switch {
	case err != nil:
		return c, false, &net.Error{Code: iproto.CodeUnknown, Message: err.Error()}
	case !found:
		if rows, _ := users.Scan(tables.TablePicoUser); len(rows) == 0 && (user == tables.AdminName || user == tables.GuestName) {
			return l.withoutPassword(user)
		}
		return c, false, nil
	}
	if u.IsRole() {
		return c, false, nil // a role is not a user: nobody logs in as one
	}
	hash, has, err := u.ChapSha1()
	switch {
	case err != nil:
		return c, false, &net.Error{Code: iproto.CodeUnknown, Message: err.Error()}
	case has:
		return credentialsOf(*u.Auth, hash), true, nil
	}
	return l.withoutPassword(user)
}

// emptyPassword is the hash of the empty password (guest's).
var emptyPassword = iproto.Hash2("")

// withoutPassword is the password of a user that has none in the tables:
// admin's given at start, the empty one for others (chap-sha1 only:
// PostgreSQL's protocol takes no empty password).
func (l *Logins) withoutPassword(user string) (credentials, bool, *net.Error) {
	if user == tables.AdminName {
		if l.initialAdmin == nil {
			return credentials{}, false, &net.Error{Code: iproto.CodeAccessDenied,
				Message: "User 'admin' has no password yet: start the cluster with PICOGO_ADMIN_PASSWORD"}
		}
		u := tables.User{Name: tables.AdminName, Auth: l.initialAdmin}
		hash, _, err := u.ChapSha1()
		if err != nil {
			return credentials{}, false, &net.Error{Code: iproto.CodeUnknown, Message: err.Error()}
		}
		return credentialsOf(*l.initialAdmin, hash), true, nil
	}
	return credentials{chapSha1: emptyPassword}, true, nil
}

package tables

import (
	"encoding/hex"
	"fmt"

	"github.com/picogo/picogo/core/tuple"
)

// AuthChapSha1 is how a user's password is kept in _pico_user.auth:
// [AuthChapSha1, hex(sha1(sha1(password)))].
const AuthChapSha1 = "chap-sha1"

// The kinds of _pico_user rows (its type field, as Picodata's): users log
// in, roles are sets of privileges granted to users and roles.
const (
	UserTypeUser = "user"
	UserTypeRole = "role"
)

// User is a row of _pico_user: a user or a role (Type). Auth is nil for a
// user without a password, and for every role.
type User struct {
	ID            uint64
	Name          string
	SchemaVersion uint64
	Auth          *UserAuth
	Owner         uint64
	Type          string
}

// IsRole reports whether the row is a role's.
func (u User) IsRole() bool { return u.Type == UserTypeRole }

// UserAuth is a user's password as _pico_user keeps it. Tuple shape:
// [method, hash].
type UserAuth struct {
	Method string `msgpack:"method"`
	Hash   string `msgpack:"hash"`
}

// Tuple is the row as stored (a Type of "" is stored as a user).
func (u User) Tuple() []any {
	var auth any
	if u.Auth != nil {
		auth = []any{u.Auth.Method, u.Auth.Hash}
	}
	typ := u.Type
	if typ == "" {
		typ = UserTypeUser
	}
	return []any{u.ID, u.Name, u.SchemaVersion, auth, u.Owner, typ}
}

// ChapSha1 is the user's chap-sha1 password hash (sha1(sha1(password))).
// ok is false when the user has no password; a password kept another way,
// or not as 20 bytes of hex, is an error.
func (u User) ChapSha1() (hash [20]byte, ok bool, err error) {
	if u.Auth == nil {
		return hash, false, nil
	}
	if u.Auth.Method != AuthChapSha1 {
		return hash, false, fmt.Errorf("user %s: auth method %q is not %s", u.Name, u.Auth.Method, AuthChapSha1)
	}
	b, err := hex.DecodeString(u.Auth.Hash)
	if err != nil || len(b) != len(hash) {
		return hash, false, fmt.Errorf("user %s: %s hash %q is not %d bytes of hex", u.Name, AuthChapSha1, u.Auth.Hash, len(hash))
	}
	copy(hash[:], b)
	return hash, true, nil
}

// UserFrom reads a _pico_user row.
func UserFrom(v []any) (User, error) {
	var u User
	if len(v) != 6 {
		return u, fmt.Errorf("_pico_user row of %d fields", len(v))
	}
	var ok1, ok2, ok3, ok4, ok5 bool
	u.ID, ok1 = tuple.AsUint64(v[0])
	u.Name, ok2 = v[1].(string)
	u.SchemaVersion, ok3 = tuple.AsUint64(v[2])
	u.Owner, ok4 = tuple.AsUint64(v[4])
	u.Type, ok5 = v[5].(string)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
		return u, fmt.Errorf("_pico_user row %v: want [id, name, schema_version, auth, owner, type]", v)
	}
	if v[3] != nil {
		a, ok := v[3].([]any)
		if !ok || len(a) != 2 {
			return u, fmt.Errorf("_pico_user row of %s: auth %v is not [method, hash]", u.Name, v[3])
		}
		method, ok1 := a[0].(string)
		hash, ok2 := a[1].(string)
		if !ok1 || !ok2 {
			return u, fmt.Errorf("_pico_user row of %s: auth %v is not [method, hash]", u.Name, v[3])
		}
		u.Auth = &UserAuth{Method: method, Hash: hash}
	}
	return u, nil
}

// UserByName finds a user by name. ok is false when there is none.
func (s *Store) UserByName(name string) (u User, ok bool, err error) {
	rows, err := s.Scan(TablePicoUser)
	if err != nil {
		return u, false, err
	}
	for _, r := range rows {
		if u, err = UserFrom(r.Values()); err != nil || u.Name == name {
			return u, err == nil, err
		}
	}
	return User{}, false, nil
}

// changeAuth applies an OpAclChangeAuth: the user's row keeps everything
// but its auth.
func (s *Store) changeAuth(c ChangeAuth) Result {
	if c.Method != AuthChapSha1 {
		return Result{Err: tuple.Errorf(tuple.CodeIllegalParams, "change_auth: method %q is not %s", c.Method, AuthChapSha1)}
	}
	if b, err := hex.DecodeString(c.Hash); err != nil || len(b) != 20 {
		return Result{Err: tuple.Errorf(tuple.CodeIllegalParams, "change_auth: hash %q is not 20 bytes of hex", c.Hash)}
	}
	switch c.UserID {
	case PublicRoleID:
		return Result{Err: tuple.Errorf(tuple.CodeIllegalParams, "change_auth: public is a role, not a user")}
	case PicoServiceID:
		return Result{Err: tuple.Errorf(tuple.CodeIllegalParams, "change_auth: pico_service logs in with the service password each instance is given, not one in _pico_user")}
	}
	row, ok, err := s.Get(TablePicoUser, []any{uint64(c.UserID)})
	if err != nil || !ok {
		return Result{Err: tuple.Errorf(tuple.CodeNoSuchUser, "change_auth: no user with id %d", c.UserID)}
	}
	u, err := UserFrom(row.Values())
	if err != nil {
		return Result{Err: tuple.Errorf(tuple.CodeIllegalParams, "change_auth: %v", err)}
	}
	if u.IsRole() {
		return Result{Err: tuple.Errorf(tuple.CodeIllegalParams, "change_auth: %s is a role, not a user", u.Name)}
	}
	u.Auth = &UserAuth{Method: c.Method, Hash: c.Hash}
	return s.applyDmls([]Dml{Replace(TablePicoUser, u.Tuple()...)}, false)
}

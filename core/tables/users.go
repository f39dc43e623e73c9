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

// UserAuth is a user's password as _pico_user keeps it: the chap-sha1
// hash iproto's logins check and, for PostgreSQL's protocol, the secrets
// its MD5 and SCRAM-SHA-256 logins check (empty for a password set
// without them). Tuple shape: [method, hash] or [method, hash, md5,
// scram]. core/auth derives them from a password (auth.Secrets).
type UserAuth struct {
	Method string `msgpack:"method"`
	Hash   string `msgpack:"hash"`
	// MD5 is "md5" + hex(md5(password + user name)), as PostgreSQL keeps
	// an MD5 password: it depends on the name, so a rename clears it.
	MD5 string `msgpack:"md5,omitempty"`
	// SCRAM is "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>"
	// (base64), as PostgreSQL keeps a SCRAM-SHA-256 password.
	SCRAM string `msgpack:"scram,omitempty"`
}

// tuple is the auth field of a _pico_user row.
func (a *UserAuth) tuple() any {
	if a == nil {
		return nil
	}
	if a.MD5 == "" && a.SCRAM == "" {
		return []any{a.Method, a.Hash}
	}
	return []any{a.Method, a.Hash, a.MD5, a.SCRAM}
}

// Tuple is the row as stored (a Type of "" is stored as a user).
func (u User) Tuple() []any {
	typ := u.Type
	if typ == "" {
		typ = UserTypeUser
	}
	return []any{u.ID, u.Name, u.SchemaVersion, u.Auth.tuple(), u.Owner, typ}
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
		if !ok || len(a) != 2 && len(a) != 4 {
			return u, fmt.Errorf("_pico_user row of %s: auth %v is not [method, hash] or [method, hash, md5, scram]", u.Name, v[3])
		}
		fields := make([]string, 4)
		for i, f := range a {
			if fields[i], ok = f.(string); !ok {
				return u, fmt.Errorf("_pico_user row of %s: auth %v is not [method, hash] or [method, hash, md5, scram]", u.Name, v[3])
			}
		}
		u.Auth = &UserAuth{Method: fields[0], Hash: fields[1], MD5: fields[2], SCRAM: fields[3]}
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
	auth := c.UserAuth()
	if e := checkAuth(&auth); e != nil {
		return Result{Err: tuple.Errorf(e.Code, "change_auth: %s", e.Message)}
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
	u.Auth = &auth
	return s.applyDmls([]Dml{Replace(TablePicoUser, u.Tuple()...)}, false)
}

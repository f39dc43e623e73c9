package tables

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/tuple"
)

func TestUserRows(t *testing.T) {
	s := New()
	require.Nil(t, s.ApplyOp(BatchOp(BuiltinUsers()...)).Err)
	admin, ok, err := s.UserByName("admin")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, User{ID: uint64(AdminID), Name: "admin", Owner: uint64(AdminID), Type: UserTypeUser}, admin)
	_, has, err := admin.ChapSha1()
	require.NoError(t, err)
	require.False(t, has, "no password yet")

	admin.Auth = &UserAuth{Method: AuthChapSha1, Hash: "000102030405060708090a0b0c0d0e0f10111213"}
	require.Nil(t, s.ApplyOp(DmlOp(Replace(TablePicoUser, admin.Tuple()...))).Err)
	back, ok, err := s.UserByName("admin")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, admin, back, "a row converts to and from its tuple")
	hash, has, err := back.ChapSha1()
	require.NoError(t, err)
	require.True(t, has)
	require.Equal(t, byte(0x13), hash[19])

	_, ok, err = s.UserByName("nobody")
	require.NoError(t, err)
	require.False(t, ok)

	for _, c := range []struct {
		row  []any
		want string
	}{
		{[]any{uint64(1), "admin", uint64(0), nil, uint64(1)}, "_pico_user row of 5 fields"},
		{[]any{"1", "admin", uint64(0), nil, uint64(1), "user"}, "want [id, name, schema_version, auth, owner, type]"},
		{[]any{uint64(1), "admin", uint64(0), nil, uint64(1), nil}, "want [id, name, schema_version, auth, owner, type]"},
		{[]any{uint64(1), "admin", uint64(0), "secret", uint64(1), "user"}, "auth secret is not [method, hash]"},
		{[]any{uint64(1), "admin", uint64(0), []any{"chap-sha1", 5}, uint64(1), "user"}, "is not [method, hash]"},
	} {
		_, err := UserFrom(c.row)
		require.ErrorContains(t, err, c.want, "%v", c.row)
	}
	for _, auth := range []UserAuth{{Method: "md5", Hash: "00"}, {Method: AuthChapSha1, Hash: "abc"}} {
		_, _, err := User{Name: "alice", Auth: &auth}.ChapSha1()
		require.ErrorContains(t, err, "user alice", "%v", auth)
	}
}

func TestChangeAuth(t *testing.T) {
	s := New()
	require.Nil(t, s.ApplyOp(BatchOp(BuiltinUsers()...)).Err)
	hash := strings.Repeat("ab", 20)
	change := func(id uint32, method, hash string) *tuple.Error {
		op := Op{Kind: OpAclChangeAuth, ChangeAuth: &ChangeAuth{UserID: id, Method: method, Hash: hash}}
		decoded, err := DecodeOp(op.Encode())
		require.Nil(t, err, "the op survives its encoding")
		return s.ApplyOp(decoded).Err
	}
	require.Nil(t, change(AdminID, AuthChapSha1, hash))
	admin, ok, err := s.UserByName("admin")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, &UserAuth{Method: AuthChapSha1, Hash: hash}, admin.Auth)
	require.Equal(t, "admin", admin.Name, "the rest of the row stays")

	for name, c := range map[string]struct {
		id           uint32
		method, hash string
		code         uint32
	}{
		"unknown user": {99, AuthChapSha1, hash, tuple.CodeNoSuchUser},
		"another way":  {AdminID, "md5", hash, tuple.CodeUnsupported},
		"not a hash":   {AdminID, AuthChapSha1, "secret", tuple.CodeIllegalParams},
		"a role":       {PublicRoleID, AuthChapSha1, hash, tuple.CodeIllegalParams},
		"pico_service": {PicoServiceID, AuthChapSha1, hash, tuple.CodeIllegalParams},
		"short hash":   {AdminID, AuthChapSha1, "abcd", tuple.CodeIllegalParams},
	} {
		e := change(c.id, c.method, c.hash)
		require.NotNil(t, e, name)
		require.Equal(t, c.code, e.Code, "%s: %s", name, e.Message)
	}
	_, err = DecodeOp(Op{Kind: OpAclChangeAuth}.Encode())
	require.NotNil(t, err, "an acl_change_auth without change_auth")

	keys, kerr := s.OpKeys(Op{Kind: OpAclChangeAuth, ChangeAuth: &ChangeAuth{UserID: AdminID}})
	require.Nil(t, kerr)
	key, _ := tuple.EncodeKey([]any{uint64(AdminID)})
	require.Equal(t, []KeyRef{{Table: TablePicoUser, Key: key}}, keys, "a CaS on admin's row conflicts with it")
}

// TestPostgresSecrets: a password's MD5 and SCRAM secrets are checked for
// their formats when set, and kept in _pico_user's auth field.
func TestPostgresSecrets(t *testing.T) {
	s := New()
	require.Nil(t, s.ApplyOp(BatchOp(BuiltinUsers()...)).Err)
	const hash = "000102030405060708090a0b0c0d0e0f10111213"
	scram := SCRAMSecret{Iterations: 4096, Salt: []byte("salt"), StoredKey: make([]byte, 32), ServerKey: make([]byte, 32)}.String()
	parsed, err := ParseSCRAM(scram)
	require.NoError(t, err)
	require.Equal(t, 4096, parsed.Iterations)
	require.Equal(t, []byte("salt"), parsed.Salt)
	good := UserAuth{Method: AuthChapSha1, Hash: hash, MD5: "md5" + hash[:32], SCRAM: scram}
	require.Nil(t, s.ApplyOp(ChangeAuthOf(AdminID, good)).Err)
	admin, ok, err := s.UserByName(AdminName)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, &good, admin.Auth)

	for name, bad := range map[string]UserAuth{
		"md5 without its prefix": {Method: AuthChapSha1, Hash: hash, MD5: hash[:32]},
		"md5 short":              {Method: AuthChapSha1, Hash: hash, MD5: "md5abc"},
		"scram garbage":          {Method: AuthChapSha1, Hash: hash, SCRAM: "SCRAM-SHA-256$x"},
		"scram short key":        {Method: AuthChapSha1, Hash: hash, SCRAM: "SCRAM-SHA-256$4096:c2FsdA==$AAAA:AAAA"},
	} {
		r := s.ApplyOp(ChangeAuthOf(AdminID, bad))
		require.NotNil(t, r.Err, name)
		require.Equal(t, tuple.CodeIllegalParams, r.Err.Code, "%s: %s", name, r.Err.Message)
	}
}

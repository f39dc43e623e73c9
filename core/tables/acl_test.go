package tables

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/tuple"
)

// aclStore is a store with the built-in users and table kv (1024, owned
// by admin).
func aclStore(t *testing.T) *Store {
	t.Helper()
	s := newTestStore(t)
	mustApply(t, s, BatchOp(BuiltinUsers()...))
	return s
}

var aHash = strings.Repeat("ab", 20)

func createUser(name string) Op {
	return AclOp(Acl{Kind: AclCreateUser, Name: name, Auth: &UserAuth{Method: AuthChapSha1, Hash: aHash}, Initiator: AdminID})
}

func createRole(name string) Op {
	return AclOp(Acl{Kind: AclCreateRole, Name: name, Initiator: AdminID})
}

func grantOp(grantee uint32, priv, objType string, objID int64) Op {
	return AclOp(Acl{Kind: AclGrantPrivilege, Initiator: AdminID,
		Priv: &Privilege{Grantee: grantee, Privilege: priv, ObjectType: objType, ObjectID: objID}})
}

func revokeOp(grantee uint32, priv, objType string, objID int64) Op {
	op := grantOp(grantee, priv, objType, objID)
	op.Acl.Kind = AclRevokePrivilege
	return op
}

func mustUser(t *testing.T, s *Store, name string) User {
	t.Helper()
	u, ok, err := s.UserByName(name)
	require.NoError(t, err)
	require.True(t, ok, "%s", name)
	return u
}

func requireCode(t *testing.T, r Result, code uint32, contains string) {
	t.Helper()
	require.NotNil(t, r.Err, "want error %d %q", code, contains)
	require.Equal(t, code, r.Err.Code, "%s", r.Err.Message)
	require.Contains(t, r.Err.Message, contains)
}

func TestAclCreateUser(t *testing.T) {
	s := aclStore(t)
	before := s.SchemaVersion()
	r := s.ApplyOp(createUser("alice"))
	require.Nil(t, r.Err)
	require.EqualValues(t, 1, r.RowCount)
	alice := mustUser(t, s, "alice")
	require.Equal(t, uint64(PicoServiceID+1), alice.ID, "the next id above every user's")
	require.Equal(t, UserTypeUser, alice.Type)
	require.Equal(t, uint64(AdminID), alice.Owner)
	require.Equal(t, &UserAuth{Method: AuthChapSha1, Hash: aHash}, alice.Auth)
	require.Equal(t, before+1, s.SchemaVersion(), "an ACL change moves the schema version")
	require.Equal(t, before+1, alice.SchemaVersion)
	require.Equal(t, before+2, s.propUint(PropNextSchemaVersion))

	// The default privileges: the public role, login, alter on itself.
	id := uint32(alice.ID)
	for _, p := range DefaultPrivileges(id, AdminID) {
		row, ok := s.PrivilegeRow(id, p.Privilege, p.ObjectType, p.ObjectID)
		require.True(t, ok, "%+v", p)
		require.Equal(t, before+1, row.SchemaVersion)
	}
	require.True(t, s.Granted(id, PrivLogin, ObjUniverse, 0))
	require.True(t, s.Granted(id, PrivAlter, ObjUser, int64(id)))
	require.False(t, s.Granted(id, PrivRead, ObjTable, int64(kvID)))

	requireCode(t, s.ApplyOp(createUser("alice")), tuple.CodeUserExists, "User 'alice' already exists")
	mustApply(t, s, createRole("readers"))
	requireCode(t, s.ApplyOp(createUser("readers")), tuple.CodeRoleExists, "Role 'readers' already exists")
	requireCode(t, s.ApplyOp(createRole("alice")), tuple.CodeUserExists, "already exists")
	requireCode(t, s.ApplyOp(createUser("")), tuple.CodeIllegalParams, "needs a name")

	op := createUser("bob")
	op.Acl.Auth = &UserAuth{Method: "md5", Hash: "00"}
	requireCode(t, s.ApplyOp(op), tuple.CodeCreateUser, `auth method "md5" is not supported`)
	op.Acl.Auth = &UserAuth{Method: AuthChapSha1, Hash: "xyz"}
	requireCode(t, s.ApplyOp(op), tuple.CodeCreateUser, "not 20 bytes of hex")
	op = createUser("bob")
	op.Acl.UserID = AdminID
	requireCode(t, s.ApplyOp(op), tuple.CodeCreateUser, "id 1 is admin's")
	op = createUser("bob")
	op.Acl.Initiator = 999
	requireCode(t, s.ApplyOp(op), tuple.CodeNoSuchUser, "initiator #999")
	op = createRole("writers")
	op.Acl.Auth = &UserAuth{Method: AuthChapSha1, Hash: aHash}
	requireCode(t, s.ApplyOp(op), tuple.CodeCreateRole, "a role has no password")
	_, ok, _ := s.UserByName("bob")
	require.False(t, ok, "failed creates leave nothing")

	// At most MaxUsers users and roles.
	for i := len(s.Users()); i < MaxUsers; i++ {
		mustApply(t, s, createRole("r"+strings.Repeat("x", i)))
	}
	requireCode(t, s.ApplyOp(createUser("one_too_many")), tuple.CodeCreateUser, "limit on the total number of users")
}

func TestAclSchemaVersion(t *testing.T) {
	s := aclStore(t)
	op := createRole("r1")
	op.SchemaVersion = 10
	mustApply(t, s, op)
	require.EqualValues(t, 10, s.SchemaVersion())
	op = createRole("r2")
	op.SchemaVersion = 10
	requireCode(t, s.ApplyOp(op), tuple.CodeWrongSchemaVersion, "current: 10")

	// No ACL change while a schema change is pending.
	mustApply(t, s, PrepareDropTableOp(kvID, 0))
	requireCode(t, s.ApplyOp(createRole("r3")), tuple.CodeIllegalParams, "a schema change is pending")
	mustApply(t, s, DdlAbortOp(0))
	mustApply(t, s, createRole("r3"))
	require.EqualValues(t, 12, s.SchemaVersion(), "the aborted version is not reused")
}

func TestAclRenameAndDropUser(t *testing.T) {
	s := aclStore(t)
	mustApply(t, s, createUser("alice"))
	mustApply(t, s, createRole("readers"))
	alice, readers := mustUser(t, s, "alice"), mustUser(t, s, "readers")
	aliceID, readersID := uint32(alice.ID), uint32(readers.ID)

	rename := func(id uint32, name string) Op {
		return AclOp(Acl{Kind: AclRenameUser, UserID: id, Name: name, Initiator: AdminID})
	}
	mustApply(t, s, rename(aliceID, "alicia"))
	require.Equal(t, aliceID, uint32(mustUser(t, s, "alicia").ID))
	requireCode(t, s.ApplyOp(rename(aliceID, "readers")), tuple.CodeRoleExists, "already exists")
	requireCode(t, s.ApplyOp(rename(readersID, "x")), tuple.CodeNoSuchUser, "it is a role")
	requireCode(t, s.ApplyOp(rename(AdminID, "root")), tuple.CodeAccessDenied, "built-in user 'admin'")
	requireCode(t, s.ApplyOp(rename(999, "x")), tuple.CodeNoSuchUser, "#999")

	// alice gets a privilege, the role, and a privilege is held on her.
	mustApply(t, s, grantOp(aliceID, PrivRead, ObjTable, int64(kvID)))
	mustApply(t, s, grantOp(aliceID, PrivExecute, ObjRole, int64(readersID)))
	mustApply(t, s, grantOp(GuestID, PrivDrop, ObjUser, int64(aliceID)))

	drop := func(kind AclKind, id uint32) Op { return AclOp(Acl{Kind: kind, UserID: id, Initiator: AdminID}) }
	for _, id := range []uint32{GuestID, AdminID, PicoServiceID} {
		requireCode(t, s.ApplyOp(drop(AclDropUser, id)), tuple.CodeDropUser, "built in")
	}
	requireCode(t, s.ApplyOp(drop(AclDropUser, readersID)), tuple.CodeNoSuchUser, "it is a role")
	requireCode(t, s.ApplyOp(drop(AclDropRole, aliceID)), tuple.CodeNoSuchRole, "it is a user")
	requireCode(t, s.ApplyOp(drop(AclDropRole, PublicRoleID)), tuple.CodeDropUser, "built in")

	// A user who owns a role is not dropped.
	owned := createRole("alices")
	owned.Acl.Initiator = aliceID
	mustApply(t, s, owned)
	requireCode(t, s.ApplyOp(drop(AclDropUser, aliceID)), tuple.CodeDropUser, "it owns role alices")
	mustApply(t, s, drop(AclDropRole, uint32(mustUser(t, s, "alices").ID)))

	r := s.ApplyOp(drop(AclDropUser, aliceID))
	require.Nil(t, r.Err)
	require.EqualValues(t, 1, r.RowCount)
	_, ok := s.UserByID(aliceID)
	require.False(t, ok)
	for _, p := range s.Privileges() {
		require.NotEqual(t, aliceID, p.Grantee, "her privileges go with her: %+v", p)
		require.False(t, p.ObjectType == ObjUser && p.ObjectID == int64(aliceID), "and those on her: %+v", p)
	}
	requireCode(t, s.ApplyOp(drop(AclDropUser, aliceID)), tuple.CodeNoSuchUser, "is not found")
}

func TestAclDropRole(t *testing.T) {
	s := aclStore(t)
	mustApply(t, s, createUser("alice"))
	mustApply(t, s, createRole("readers"))
	aliceID, readersID := uint32(mustUser(t, s, "alice").ID), uint32(mustUser(t, s, "readers").ID)
	mustApply(t, s, grantOp(readersID, PrivRead, ObjTable, int64(kvID)))
	mustApply(t, s, grantOp(aliceID, PrivExecute, ObjRole, int64(readersID)))
	require.True(t, s.Granted(aliceID, PrivRead, ObjTable, int64(kvID)), "through the role")

	mustApply(t, s, AclOp(Acl{Kind: AclDropRole, UserID: readersID, Initiator: AdminID}))
	require.False(t, s.Granted(aliceID, PrivRead, ObjTable, int64(kvID)))
	_, held := s.PrivilegeRow(aliceID, PrivExecute, ObjRole, int64(readersID))
	require.False(t, held, "the role's grants go with it")
	for _, p := range s.Privileges() {
		require.NotEqual(t, readersID, p.Grantee)
	}
}

func TestAclGrantRevoke(t *testing.T) {
	s := aclStore(t)
	mustApply(t, s, createUser("alice"))
	mustApply(t, s, createRole("readers"))
	mustApply(t, s, createRole("staff"))
	aliceID := uint32(mustUser(t, s, "alice").ID)
	readersID, staffID := uint32(mustUser(t, s, "readers").ID), uint32(mustUser(t, s, "staff").ID)

	r := s.ApplyOp(grantOp(aliceID, PrivWrite, ObjTable, int64(kvID)))
	require.Nil(t, r.Err)
	require.EqualValues(t, 1, r.RowCount)
	row, ok := s.PrivilegeRow(aliceID, PrivWrite, ObjTable, int64(kvID))
	require.True(t, ok)
	require.Equal(t, AdminID, row.Grantor, "the grantor is the initiator")
	require.True(t, s.Granted(aliceID, PrivWrite, ObjTable, int64(kvID)))
	require.False(t, s.Granted(aliceID, PrivWrite, ObjTable, int64(multiID)))

	// Every table (-1).
	mustApply(t, s, grantOp(aliceID, PrivRead, ObjTable, -1))
	require.True(t, s.Granted(aliceID, PrivRead, ObjTable, int64(multiID)))

	// Roles, transitively; the public role everybody has.
	mustApply(t, s, grantOp(readersID, PrivRead, ObjTable, int64(kvID)))
	mustApply(t, s, grantOp(readersID, PrivExecute, ObjRole, int64(staffID)))
	mustApply(t, s, grantOp(staffID, PrivDrop, ObjTable, int64(multiID)))
	require.False(t, s.Granted(aliceID, PrivDrop, ObjTable, int64(multiID)))
	mustApply(t, s, grantOp(aliceID, PrivExecute, ObjRole, int64(readersID)))
	require.True(t, s.Granted(aliceID, PrivDrop, ObjTable, int64(multiID)), "alice -> readers -> staff")
	require.Equal(t, []uint32{aliceID, PublicRoleID, readersID, staffID}, s.Holders(aliceID))
	mustApply(t, s, grantOp(PublicRoleID, PrivAlter, ObjTable, int64(kvID)))
	require.True(t, s.Granted(GuestID, PrivAlter, ObjTable, int64(kvID)), "public is everybody's")

	// Loops.
	requireCode(t, s.ApplyOp(grantOp(staffID, PrivExecute, ObjRole, int64(readersID))), tuple.CodeRoleLoop,
		"Granting role 'readers' to role 'staff' would create a loop")
	requireCode(t, s.ApplyOp(grantOp(staffID, PrivExecute, ObjRole, int64(staffID))), tuple.CodeRoleLoop, "loop")

	// The matrix.
	for _, c := range []struct {
		priv, typ string
		id        int64
	}{
		{PrivExecute, ObjTable, int64(kvID)}, {PrivLogin, ObjTable, -1}, {PrivAll, ObjUniverse, 0},
		{PrivRead, ObjUniverse, 0}, {PrivCreate, ObjUser, int64(aliceID)}, {PrivExecute, ObjRole, -1},
		{PrivCreate, ObjRole, int64(readersID)}, {PrivRead, ObjUser, -1}, {PrivRead, "space", -1},
		{PrivLogin, ObjUniverse, 5}, {PrivRead, ObjTable, -2},
	} {
		requireCode(t, s.ApplyOp(grantOp(aliceID, c.priv, c.typ, c.id)), tuple.CodeGrant, "")
	}
	for _, c := range []struct {
		priv, typ string
		id        int64
	}{
		{PrivCreate, ObjTable, -1}, {PrivAlter, ObjTable, int64(kvID)}, {PrivCreate, ObjUser, -1},
		{PrivDrop, ObjUser, int64(aliceID)}, {PrivCreate, ObjRole, -1}, {PrivDrop, ObjRole, int64(readersID)},
		{PrivLogin, ObjUniverse, 0},
	} {
		require.Nil(t, s.ApplyOp(grantOp(GuestID, c.priv, c.typ, c.id)).Err, "%+v", c)
	}

	// The grantee and the object exist.
	requireCode(t, s.ApplyOp(grantOp(999, PrivRead, ObjTable, int64(kvID))), tuple.CodeNoSuchUser, "neither a user nor a role")
	requireCode(t, s.ApplyOp(grantOp(aliceID, PrivRead, ObjTable, 4000)), tuple.CodeNoSuchSpace, "")
	requireCode(t, s.ApplyOp(grantOp(aliceID, PrivExecute, ObjRole, int64(aliceID))), tuple.CodeNoSuchRole, "")
	requireCode(t, s.ApplyOp(grantOp(aliceID, PrivDrop, ObjUser, int64(readersID))), tuple.CodeNoSuchUser, "")

	// Granting again rewrites the row at the new version.
	v := s.SchemaVersion()
	mustApply(t, s, grantOp(aliceID, PrivLogin, ObjUniverse, 0))
	row, _ = s.PrivilegeRow(aliceID, PrivLogin, ObjUniverse, 0)
	require.Equal(t, v+1, row.SchemaVersion)

	// Revoke.
	r = s.ApplyOp(revokeOp(aliceID, PrivWrite, ObjTable, int64(kvID)))
	require.Nil(t, r.Err)
	require.EqualValues(t, 1, r.RowCount)
	require.False(t, s.Granted(aliceID, PrivWrite, ObjTable, int64(kvID)))
	r = s.ApplyOp(revokeOp(aliceID, PrivWrite, ObjTable, int64(kvID)))
	require.Nil(t, r.Err)
	require.EqualValues(t, 0, r.RowCount, "revoking what is not held changes no row")
	mustApply(t, s, revokeOp(aliceID, PrivLogin, ObjUniverse, 0))
	require.False(t, s.Granted(aliceID, PrivLogin, ObjUniverse, 0))
	requireCode(t, s.ApplyOp(revokeOp(PicoServiceID, PrivLogin, ObjUniverse, 0)), tuple.CodeAccessDenied, "denied for all users")
	requireCode(t, s.ApplyOp(revokeOp(aliceID, PrivAll, ObjUniverse, 0)), tuple.CodeGrant, "")
}

// Concurrent ACL changes conflict in CaS: every one writes the schema
// version; and each names the rows it writes.
func TestAclKeys(t *testing.T) {
	s := aclStore(t)
	mustApply(t, s, createUser("alice"))
	aliceID := uint32(mustUser(t, s, "alice").ID)
	version := KeyRef{Table: TablePicoProperty, Key: []byte(propKey(PropGlobalSchemaVersion))}
	key := func(table uint32, vals ...any) KeyRef {
		k, err := tuple.EncodeKey(vals)
		require.NoError(t, err)
		return KeyRef{Table: table, Key: k}
	}
	for _, c := range []struct {
		op   Op
		want []KeyRef
	}{
		{createRole("r"), []KeyRef{version, key(TablePicoUser, uint64(aliceID+1))}},
		{createUser("bob"), []KeyRef{version, key(TablePicoUser, uint64(aliceID+1)),
			key(TablePicoPrivilege, uint64(aliceID+1), ObjUniverse, int64(0), PrivLogin)}},
		{grantOp(aliceID, PrivRead, ObjTable, int64(kvID)), []KeyRef{version,
			key(TablePicoPrivilege, uint64(aliceID), ObjTable, int64(kvID), PrivRead)}},
		{AclOp(Acl{Kind: AclDropUser, UserID: aliceID, Initiator: AdminID}), []KeyRef{version,
			key(TablePicoUser, uint64(aliceID)), key(TablePicoPrivilege, uint64(aliceID), ObjUser, int64(aliceID), PrivAlter)}},
	} {
		keys, e := s.OpKeys(c.op)
		require.Nil(t, e)
		for _, w := range c.want {
			require.Contains(t, keys, w, "%+v", c.op.Acl)
		}
	}
}

func TestAclOpShape(t *testing.T) {
	for _, op := range []Op{
		{Kind: OpAcl},
		AclOp(Acl{Kind: "make_coffee"}),
		AclOp(Acl{Kind: AclCreateUser, Name: "a"}),
		AclOp(Acl{Kind: AclGrantPrivilege}),
	} {
		_, err := DecodeOp(op.Encode())
		require.Error(t, err, "%+v", op)
		require.NotNil(t, New().ApplyOp(op).Err)
	}
	op := grantOp(5, PrivRead, ObjTable, -1)
	back, err := DecodeOp(op.Encode())
	require.NoError(t, err)
	require.Equal(t, op, back, "an ACL op round-trips")
}

// Granted remembers its answers only until _pico_privilege changes: a
// grant, a revoke, a role granted in between, each seen at once.
func TestGrantedFollowsPrivilegeChanges(t *testing.T) {
	s := aclStore(t)
	mustApply(t, s, createUser("bob"))
	mustApply(t, s, createRole("writers"))
	bob, writers := uint32(mustUser(t, s, "bob").ID), uint32(mustUser(t, s, "writers").ID)
	for range 2 { // the second asks what the first remembered
		require.False(t, s.Granted(bob, PrivWrite, ObjTable, int64(kvID)))
	}
	mustApply(t, s, grantOp(bob, PrivWrite, ObjTable, int64(kvID)))
	require.True(t, s.Granted(bob, PrivWrite, ObjTable, int64(kvID)))
	mustApply(t, s, revokeOp(bob, PrivWrite, ObjTable, int64(kvID)))
	require.False(t, s.Granted(bob, PrivWrite, ObjTable, int64(kvID)))
	mustApply(t, s, grantOp(writers, PrivWrite, ObjTable, int64(kvID)))
	require.False(t, s.Granted(bob, PrivWrite, ObjTable, int64(kvID)))
	mustApply(t, s, grantOp(bob, PrivExecute, ObjRole, int64(writers)))
	require.True(t, s.Granted(bob, PrivWrite, ObjTable, int64(kvID)), "through the role")
	mustApply(t, s, revokeOp(writers, PrivWrite, ObjTable, int64(kvID)))
	require.False(t, s.Granted(bob, PrivWrite, ObjTable, int64(kvID)))
}

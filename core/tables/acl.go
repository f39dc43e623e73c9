package tables

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/picogo/picogo/core/tuple"
)

// Access control: the ACL ops that change _pico_user and _pico_privilege
// (plain DML into them is refused by CaS), as Picodata's Op::Acl. Each is
// validated when applied — deterministically, every failure a Result —
// and, like Picodata's, moves the schema version: global_schema_version
// becomes the op's version (0: the next one) and next_schema_version the
// one after. So an ACL op writes global_schema_version, and two
// concurrent ACL changes, or an ACL change and a DDL, conflict in CaS.
// An ACL op is refused while a schema change is pending (its commit would
// move the version back).
//
// The user's password is changed by OpAclChangeAuth (see users.go),
// which keeps the schema version.

// MaxUsers is how many users and roles _pico_user may hold (Picodata's
// limit, the built-in ones included).
const MaxUsers = 128

// AclKind is the kind of an ACL op (Picodata's op_kind).
type AclKind string

const (
	// AclCreateUser creates user Acl.Name with password Acl.Auth, owned by
	// Acl.Initiator, and grants it its default privileges: the public
	// role, login, and alter on itself (Picodata's).
	AclCreateUser AclKind = "create_user"
	// AclRenameUser renames user Acl.UserID to Acl.Name.
	AclRenameUser AclKind = "rename_user"
	// AclDropUser drops user Acl.UserID and every privilege it holds or
	// that is held on it. A user owning tables, users or roles is not
	// dropped.
	AclDropUser AclKind = "drop_user"
	// AclCreateRole creates role Acl.Name, owned by Acl.Initiator.
	AclCreateRole AclKind = "create_role"
	// AclDropRole drops role Acl.UserID, its privileges, and its grants
	// to users and roles.
	AclDropRole AclKind = "drop_role"
	// AclGrantPrivilege grants Acl.Priv (a role is granted as privilege
	// execute on object type role).
	AclGrantPrivilege AclKind = "grant_privilege"
	// AclRevokePrivilege revokes Acl.Priv.
	AclRevokePrivilege AclKind = "revoke_privilege"
)

// Acl is the change of an OpAcl; the fields its kind does not use are
// empty.
type Acl struct {
	Kind AclKind `msgpack:"op_kind"`
	// UserID is the user or role renamed or dropped; for a create, the id
	// to give (0: the smallest above every id in _pico_user).
	UserID uint32 `msgpack:"user_id,omitempty"`
	// Name is the name of the user or role created, or a user's new name.
	Name string `msgpack:"name,omitempty"`
	// Auth is a created user's password (chap-sha1 only).
	Auth *UserAuth `msgpack:"auth,omitempty"`
	// Priv is the privilege granted or revoked; its grantor is the
	// initiator.
	Priv *Privilege `msgpack:"priv_def,omitempty"`
	// Initiator is the user who asks: the owner of what it creates.
	Initiator uint32 `msgpack:"initiator"`
}

// Privilege is a row of _pico_privilege: [grantor_id, grantee_id,
// privilege, object_type, object_id, schema_version].
type Privilege struct {
	Grantor       uint32 `msgpack:"grantor_id"`
	Grantee       uint32 `msgpack:"grantee_id"`
	Privilege     string `msgpack:"privilege"`
	ObjectType    string `msgpack:"object_type"`
	ObjectID      int64  `msgpack:"object_id"`
	SchemaVersion uint64 `msgpack:"schema_version"`
}

// Tuple is the row as stored.
func (p Privilege) Tuple() []any {
	return []any{uint64(p.Grantor), uint64(p.Grantee), p.Privilege, p.ObjectType, p.ObjectID, p.SchemaVersion}
}

// key is the row's primary key (grantee_id, object_type, object_id,
// privilege).
func (p Privilege) key() []any {
	return []any{uint64(p.Grantee), p.ObjectType, p.ObjectID, p.Privilege}
}

// PrivilegeFrom reads a _pico_privilege row.
func PrivilegeFrom(v []any) (Privilege, error) {
	var p Privilege
	if len(v) != 6 {
		return p, fmt.Errorf("_pico_privilege row of %d fields", len(v))
	}
	grantor, ok1 := tuple.AsUint64(v[0])
	grantee, ok2 := tuple.AsUint64(v[1])
	priv, ok3 := v[2].(string)
	typ, ok4 := v[3].(string)
	id, ok5 := tuple.AsInt64(v[4])
	ver, ok6 := tuple.AsUint64(v[5])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || grantor > uint64(^uint32(0)) || grantee > uint64(^uint32(0)) {
		return p, fmt.Errorf("_pico_privilege row %v: want [grantor_id, grantee_id, privilege, object_type, object_id, schema_version]", v)
	}
	return Privilege{Grantor: uint32(grantor), Grantee: uint32(grantee), Privilege: priv, ObjectType: typ, ObjectID: id, SchemaVersion: ver}, nil
}

// ValidPrivileges are the privileges an object type takes, for one object
// (specific) or for every object of the type (object id -1): Picodata's
// matrix. The universe takes login only (admin's and pico_service's "all"
// are built in, never granted).
func ValidPrivileges(objectType string, specific bool) []string {
	switch objectType {
	case ObjTable:
		return []string{PrivRead, PrivWrite, PrivCreate, PrivAlter, PrivDrop}
	case ObjRole:
		if specific {
			return []string{PrivExecute, PrivDrop}
		}
		return []string{PrivCreate, PrivDrop}
	case ObjUser:
		if specific {
			return []string{PrivAlter, PrivDrop}
		}
		return []string{PrivCreate, PrivAlter, PrivDrop}
	case ObjUniverse:
		return []string{PrivLogin}
	}
	return nil
}

// CheckPrivilege checks that a privilege is one its object type takes.
func CheckPrivilege(p Privilege) *tuple.Error {
	valid := ValidPrivileges(p.ObjectType, p.ObjectID >= 0)
	switch {
	case valid == nil:
		return tuple.Errorf(tuple.CodeGrant, "Incorrect grant arguments: unknown object type %q (table, user, role or universe)", p.ObjectType)
	case p.ObjectType == ObjUniverse && p.ObjectID != 0:
		return tuple.Errorf(tuple.CodeGrant, "Incorrect grant arguments: the universe is object 0, not %d", p.ObjectID)
	case p.ObjectID < -1:
		return tuple.Errorf(tuple.CodeGrant, "Incorrect grant arguments: object id %d (an id, or -1 for every %s)", p.ObjectID, p.ObjectType)
	case !slices.Contains(valid, p.Privilege):
		return tuple.Errorf(tuple.CodeGrant, "Unsupported %s privilege '%s', expected one of %s", p.ObjectType, p.Privilege, strings.Join(valid, ", "))
	}
	return nil
}

// UserByID returns the user or role with the given id.
func (s *Store) UserByID(id uint32) (u User, ok bool) {
	row, ok, err := s.Get(TablePicoUser, []any{uint64(id)})
	if err != nil || !ok {
		return User{}, false
	}
	u, err = UserFrom(row.Values())
	return u, err == nil
}

// Users returns every row of _pico_user in id order (rows that do not
// read are left out).
func (s *Store) Users() []User {
	rows, _ := s.Scan(TablePicoUser)
	out := make([]User, 0, len(rows))
	for _, r := range rows {
		if u, err := UserFrom(r.Values()); err == nil {
			out = append(out, u)
		}
	}
	return out
}

// Privileges returns every row of _pico_privilege in primary key order.
func (s *Store) Privileges() []Privilege {
	rows, _ := s.Scan(TablePicoPrivilege)
	out := make([]Privilege, 0, len(rows))
	for _, r := range rows {
		if p, err := PrivilegeFrom(r.Values()); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// PrivilegeRow returns the grantee's own row of a privilege on an object
// (not through roles, not "all").
func (s *Store) PrivilegeRow(grantee uint32, privilege, objectType string, objectID int64) (Privilege, bool) {
	row, ok, err := s.Get(TablePicoPrivilege, Privilege{Grantee: grantee, Privilege: privilege, ObjectType: objectType, ObjectID: objectID}.key())
	if err != nil || !ok {
		return Privilege{}, false
	}
	p, err := PrivilegeFrom(row.Values())
	return p, err == nil
}

// nextUserID is the id a create_user or create_role without one gets:
// one more than the largest in _pico_user.
func (s *Store) nextUserID() uint32 {
	var next uint32
	for _, u := range s.Users() {
		if uint32(u.ID) >= next {
			next = uint32(u.ID) + 1
		}
	}
	return next
}

// DefaultPrivileges are the privileges a new user gets (Picodata's): the
// public role and alter on itself, granted by its creator, and login,
// granted by admin.
func DefaultPrivileges(user, creator uint32) []Privilege {
	return []Privilege{
		{Grantor: creator, Grantee: user, Privilege: PrivExecute, ObjectType: ObjRole, ObjectID: int64(PublicRoleID)},
		{Grantor: AdminID, Grantee: user, Privilege: PrivLogin, ObjectType: ObjUniverse, ObjectID: 0},
		{Grantor: creator, Grantee: user, Privilege: PrivAlter, ObjectType: ObjUser, ObjectID: int64(user)},
	}
}

func isBuiltinUser(id uint32) bool {
	return id == GuestID || id == AdminID || id == PicoServiceID
}

// AclOp wraps an ACL change in an Op (schema version 0: the next one).
func AclOp(a Acl) Op { return Op{Kind: OpAcl, Acl: &a} }

// checkShape checks the fields an ACL kind needs.
func (a *Acl) checkShape() *tuple.Error {
	switch a.Kind {
	case AclCreateUser:
		if a.Auth == nil {
			return tuple.Errorf(tuple.CodeIllegalParams, "acl %s without auth", a.Kind)
		}
	case AclGrantPrivilege, AclRevokePrivilege:
		if a.Priv == nil {
			return tuple.Errorf(tuple.CodeIllegalParams, "acl %s without priv_def", a.Kind)
		}
	case AclRenameUser, AclDropUser, AclCreateRole, AclDropRole:
	default:
		return tuple.Errorf(tuple.CodeIllegalParams, "unknown acl kind %q", a.Kind)
	}
	return nil
}

// applyAcl applies an OpAcl: the change's rows and the new schema version,
// all or nothing.
func (s *Store) applyAcl(op Op) Result {
	if v, ok := s.PendingSchemaVersion(); ok {
		return Result{Err: tuple.Errorf(tuple.CodeIllegalParams,
			"acl %s: a schema change is pending (schema version %d): retry once it is committed or aborted", op.Acl.Kind, v)}
	}
	ver, e := s.newSchemaVersion(op.SchemaVersion)
	if e != nil {
		return Result{Err: e}
	}
	if next := s.propUint(PropNextSchemaVersion); ver < next {
		if op.SchemaVersion != 0 {
			return Result{Err: tuple.Errorf(tuple.CodeWrongSchemaVersion, "Wrong schema version, next: %d, in request: %d", next, ver)}
		}
		ver = next
	}
	if _, ok := s.UserByID(op.Acl.Initiator); !ok {
		return Result{Err: tuple.Errorf(tuple.CodeNoSuchUser, "acl %s: initiator #%d is not a user", op.Acl.Kind, op.Acl.Initiator)}
	}
	ds, n, e := s.aclDmls(*op.Acl, ver)
	if e != nil {
		return Result{Err: e}
	}
	ds = append(ds, Replace(TablePicoProperty, PropGlobalSchemaVersion, ver), Replace(TablePicoProperty, PropNextSchemaVersion, ver+1))
	r := s.applyDmls(ds, false)
	if r.Err == nil {
		r.RowCount = n
	}
	return r
}

// aclDmls validates an ACL change against the tables and returns the
// writes it makes (at schema version ver) and its row count.
func (s *Store) aclDmls(a Acl, ver uint64) ([]Dml, uint64, *tuple.Error) {
	switch a.Kind {
	case AclCreateUser, AclCreateRole:
		return s.createUser(a, ver)
	case AclRenameUser:
		u, e := s.aclTarget(a, UserTypeUser)
		if e != nil {
			return nil, 0, e
		}
		if isBuiltinUser(uint32(u.ID)) {
			return nil, 0, tuple.Errorf(tuple.CodeAccessDenied, "Renaming the built-in user '%s' is denied for all users", u.Name)
		}
		if e := s.checkNewName(a.Name); e != nil {
			return nil, 0, e
		}
		u.Name, u.SchemaVersion = a.Name, ver
		if u.Auth != nil && u.Auth.MD5 != "" {
			// The MD5 secret hashes the name with the password: it is
			// wrong for the new name (PostgreSQL clears it too).
			auth := *u.Auth
			auth.MD5 = ""
			u.Auth = &auth
		}
		return []Dml{Replace(TablePicoUser, u.Tuple()...)}, 1, nil
	case AclDropUser:
		u, e := s.aclTarget(a, UserTypeUser)
		if e != nil {
			return nil, 0, e
		}
		if isBuiltinUser(uint32(u.ID)) {
			return nil, 0, tuple.Errorf(tuple.CodeDropUser, "Failed to drop user '%s': the user is built in", u.Name)
		}
		if e := s.checkNothingOwned(u); e != nil {
			return nil, 0, e
		}
		return append(s.dropPrivileges(uint32(u.ID), ObjUser), Delete(TablePicoUser, u.ID)), 1, nil
	case AclDropRole:
		u, e := s.aclTarget(a, UserTypeRole)
		if e != nil {
			return nil, 0, e
		}
		if uint32(u.ID) == PublicRoleID {
			return nil, 0, tuple.Errorf(tuple.CodeDropUser, "Failed to drop role '%s': the role is built in", u.Name)
		}
		return append(s.dropPrivileges(uint32(u.ID), ObjRole), Delete(TablePicoUser, u.ID)), 1, nil
	case AclGrantPrivilege, AclRevokePrivilege:
		return s.grant(a, ver)
	}
	return nil, 0, tuple.Errorf(tuple.CodeIllegalParams, "unknown acl kind %q", a.Kind)
}

// createUser is create_user and create_role.
func (s *Store) createUser(a Acl, ver uint64) ([]Dml, uint64, *tuple.Error) {
	typ, code := UserTypeUser, tuple.CodeCreateUser
	if a.Kind == AclCreateRole {
		typ, code = UserTypeRole, tuple.CodeCreateRole
	}
	if e := s.checkNewName(a.Name); e != nil {
		return nil, 0, e
	}
	if len(s.Users()) >= MaxUsers {
		return nil, 0, tuple.Errorf(code, "Failed to create %s '%s': a limit on the total number of users has been reached: %d", typ, a.Name, MaxUsers)
	}
	id := a.UserID
	if id == 0 {
		id = s.nextUserID()
	} else if old, exists := s.UserByID(id); exists {
		return nil, 0, tuple.Errorf(code, "Failed to create %s '%s': id %d is %s's", typ, a.Name, id, old.Name)
	}
	u := User{ID: uint64(id), Name: a.Name, SchemaVersion: ver, Owner: uint64(a.Initiator), Type: typ}
	if a.Kind == AclCreateRole {
		if a.Auth != nil {
			return nil, 0, tuple.Errorf(code, "Failed to create role '%s': a role has no password", a.Name)
		}
		return []Dml{Insert(TablePicoUser, u.Tuple()...)}, 1, nil
	}
	if e := checkAuth(a.Auth); e != nil {
		return nil, 0, tuple.Errorf(code, "Failed to create user '%s': %s", a.Name, e.Message)
	}
	u.Auth = a.Auth
	ds := []Dml{Insert(TablePicoUser, u.Tuple()...)}
	for _, p := range DefaultPrivileges(id, a.Initiator) {
		p.SchemaVersion = ver
		ds = append(ds, Replace(TablePicoPrivilege, p.Tuple()...))
	}
	return ds, 1, nil
}

// checkAuth checks a password as _pico_user keeps it: chap-sha1, 20
// bytes of hex; PostgreSQL's secrets, if any, in their formats.
func checkAuth(a *UserAuth) *tuple.Error {
	if a.Method != AuthChapSha1 {
		return tuple.Errorf(tuple.CodeUnsupported, "auth method %q is not supported: only %s", a.Method, AuthChapSha1)
	}
	if b, err := hex.DecodeString(a.Hash); err != nil || len(b) != 20 {
		return tuple.Errorf(tuple.CodeIllegalParams, "%s hash %q is not 20 bytes of hex", AuthChapSha1, a.Hash)
	}
	if a.MD5 != "" {
		if b, err := hex.DecodeString(strings.TrimPrefix(a.MD5, "md5")); err != nil || len(b) != 16 || !strings.HasPrefix(a.MD5, "md5") {
			return tuple.Errorf(tuple.CodeIllegalParams, "md5 secret %q is not \"md5\" and 16 bytes of hex", a.MD5)
		}
	}
	if a.SCRAM != "" {
		if _, err := ParseSCRAM(a.SCRAM); err != nil {
			return tuple.Errorf(tuple.CodeIllegalParams, "%v", err)
		}
	}
	return nil
}

// checkNewName: a name for a new user or role, or a user's new name, is
// not empty and not taken by any user or role.
func (s *Store) checkNewName(name string) *tuple.Error {
	if name == "" {
		return tuple.Errorf(tuple.CodeIllegalParams, "a user or role needs a name")
	}
	if u, taken, _ := s.UserByName(name); taken {
		if u.IsRole() {
			return tuple.Errorf(tuple.CodeRoleExists, "Role '%s' already exists", name)
		}
		return tuple.Errorf(tuple.CodeUserExists, "User '%s' already exists", name)
	}
	return nil
}

// aclTarget is the user (or role) an op renames or drops.
func (s *Store) aclTarget(a Acl, typ string) (User, *tuple.Error) {
	u, ok := s.UserByID(a.UserID)
	switch {
	case !ok && typ == UserTypeRole:
		return u, tuple.Errorf(tuple.CodeNoSuchRole, "Role #%d is not found", a.UserID)
	case !ok:
		return u, tuple.Errorf(tuple.CodeNoSuchUser, "User #%d is not found", a.UserID)
	case u.IsRole() && typ == UserTypeUser:
		return u, tuple.Errorf(tuple.CodeNoSuchUser, "User '%s' is not found: it is a role", u.Name)
	case !u.IsRole() && typ == UserTypeRole:
		return u, tuple.Errorf(tuple.CodeNoSuchRole, "Role '%s' is not found: it is a user", u.Name)
	}
	return u, nil
}

// checkNothingOwned: a user who owns tables, users or roles is not
// dropped (Picodata's rule).
func (s *Store) checkNothingOwned(u User) *tuple.Error {
	var owned []string
	for _, def := range s.Tables() {
		if uint64(def.Owner) == u.ID && def.ID >= FirstUserTableID {
			owned = append(owned, "table "+def.Name)
		}
	}
	for _, o := range s.Users() {
		if o.Owner == u.ID && o.ID != u.ID {
			owned = append(owned, o.Type+" "+o.Name)
		}
	}
	if len(owned) > 0 {
		return tuple.Errorf(tuple.CodeDropUser, "Failed to drop user '%s': it owns %s; drop them first", u.Name, strings.Join(owned, ", "))
	}
	return nil
}

// dropPrivileges deletes what a dropped user or role leaves behind: the
// privileges it holds and the privileges held on it (for a role: its
// grants to users and roles).
func (s *Store) dropPrivileges(id uint32, objectType string) []Dml {
	var ds []Dml
	for _, p := range s.Privileges() {
		if p.Grantee == id || p.ObjectType == objectType && p.ObjectID == int64(id) {
			ds = append(ds, Delete(TablePicoPrivilege, p.key()...))
		}
	}
	return ds
}

// grant is grant_privilege and revoke_privilege. A grant of a privilege
// held already rewrites its row (at the new schema version: granting
// login again lifts a login lock, see core/auth); a revoke of one not held
// changes nothing (row count 0).
func (s *Store) grant(a Acl, ver uint64) ([]Dml, uint64, *tuple.Error) {
	p := *a.Priv
	p.Grantor, p.SchemaVersion = a.Initiator, ver
	if e := CheckPrivilege(p); e != nil {
		return nil, 0, e
	}
	grantee, ok := s.UserByID(p.Grantee)
	if !ok {
		return nil, 0, tuple.Errorf(tuple.CodeNoSuchUser, "Grantee #%d is neither a user nor a role", p.Grantee)
	}
	if e := s.checkObject(p); e != nil {
		return nil, 0, e
	}
	if a.Kind == AclRevokePrivilege {
		if p.ObjectType == ObjUniverse && (p.Grantee == PicoServiceID || p.Grantee == AdminID) {
			return nil, 0, tuple.Errorf(tuple.CodeAccessDenied, "Revoke '%s' from '%s' is denied for all users", p.Privilege, grantee.Name)
		}
		if _, held := s.PrivilegeRow(p.Grantee, p.Privilege, p.ObjectType, p.ObjectID); !held {
			return nil, 0, nil
		}
		return []Dml{Delete(TablePicoPrivilege, p.key()...)}, 1, nil
	}
	if p.ObjectType == ObjRole && p.Privilege == PrivExecute && p.ObjectID >= 0 {
		if role := uint32(p.ObjectID); role == p.Grantee || slices.Contains(s.roleHolders(p.Grantee), role) {
			r, _ := s.UserByID(role)
			return nil, 0, tuple.Errorf(tuple.CodeRoleLoop, "Granting role '%s' to role '%s' would create a loop", r.Name, grantee.Name)
		}
	}
	return []Dml{Replace(TablePicoPrivilege, p.Tuple()...)}, 1, nil
}

// roleHolders are the users and roles that have role id, directly or
// through other roles (not the public role's implicit holders).
func (s *Store) roleHolders(id uint32) []uint32 {
	privs := s.Privileges()
	out := []uint32{id}
	for i := 0; i < len(out); i++ {
		for _, p := range privs {
			if p.ObjectType == ObjRole && p.Privilege == PrivExecute && p.ObjectID == int64(out[i]) && !containsID(out, p.Grantee) {
				out = append(out, p.Grantee)
			}
		}
	}
	return out[1:]
}

// checkObject: a privilege's object exists (id -1: every object of the
// type; the universe: 0).
func (s *Store) checkObject(p Privilege) *tuple.Error {
	if p.ObjectID < 0 || p.ObjectType == ObjUniverse {
		return nil
	}
	switch p.ObjectType {
	case ObjTable:
		if p.ObjectID > int64(^uint32(0)) {
			return errNoSuchTable(0)
		}
		if _, ok := s.Table(uint32(p.ObjectID)); !ok {
			return errNoSuchTable(uint32(p.ObjectID))
		}
	case ObjUser, ObjRole:
		u, ok := s.UserByID(uint32(p.ObjectID))
		if !ok || p.ObjectID > int64(^uint32(0)) || u.IsRole() != (p.ObjectType == ObjRole) {
			if p.ObjectType == ObjRole {
				return tuple.Errorf(tuple.CodeNoSuchRole, "Role #%d is not found", p.ObjectID)
			}
			return tuple.Errorf(tuple.CodeNoSuchUser, "User #%d is not found", p.ObjectID)
		}
	}
	return nil
}

// aclKeys are the keys an ACL op writes (see OpKeys): the schema version
// properties, the user's row, and the privilege rows it adds or removes
// (a drop's: those it would remove if applied now).
func (s *Store) aclKeys(a Acl) []KeyRef {
	keys := []KeyRef{
		{Table: TablePicoProperty, Key: []byte(propKey(PropGlobalSchemaVersion))},
		{Table: TablePicoProperty, Key: []byte(propKey(PropNextSchemaVersion))},
	}
	userKey := func(id uint32) {
		k, _ := tuple.EncodeKey([]any{uint64(id)})
		keys = append(keys, KeyRef{Table: TablePicoUser, Key: k})
	}
	privKey := func(p Privilege) {
		k, _ := tuple.EncodeKey(p.key())
		keys = append(keys, KeyRef{Table: TablePicoPrivilege, Key: k})
	}
	switch a.Kind {
	case AclCreateUser, AclCreateRole:
		id := a.UserID
		if id == 0 {
			id = s.nextUserID()
		}
		userKey(id)
		if a.Kind == AclCreateUser {
			for _, p := range DefaultPrivileges(id, a.Initiator) {
				privKey(p)
			}
		}
	case AclRenameUser:
		userKey(a.UserID)
	case AclDropUser, AclDropRole:
		userKey(a.UserID)
		for _, p := range s.Privileges() {
			if p.Grantee == a.UserID || (p.ObjectType == ObjUser || p.ObjectType == ObjRole) && p.ObjectID == int64(a.UserID) {
				privKey(p)
			}
		}
	case AclGrantPrivilege, AclRevokePrivilege:
		if a.Priv != nil {
			privKey(*a.Priv)
		}
	}
	return keys
}

package node

import (
	"strings"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/auth"
	"github.com/picogo/picogo/core/sql/parse"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
)

// Access control in SQL, as Picodata's: CREATE/ALTER/DROP USER,
// CREATE/DROP ROLE, GRANT and REVOKE each become one ACL op (core/tables,
// acl.go) proposed by CaS through the leader — or ALTER USER ... PASSWORD
// an acl_change_auth —, and answer {row_count: 1} once applied here, or
// {row_count: 0} without proposing anything when there is nothing to do
// (IF [NOT] EXISTS, a privilege held already or not held). Who may run
// them is aclAccess (sqlauth.go), checked before proposing and again by
// the leader.

// MinPasswordLength is the shortest password CREATE USER and ALTER USER
// take (Picodata's default auth_password_length_min).
const MinPasswordLength = 8

// acl runs an access-control statement.
func (s *statement) acl(stmt parse.Stmt) {
	uid, e := s.m.userID(s.user)
	if e != nil {
		s.reply(nil, e)
		return
	}
	op, noop, e := s.m.aclOp(uid, stmt)
	switch {
	case e != nil:
		s.reply(nil, e)
		return
	case noop:
		s.count(0)
		return
	}
	if v, pending := s.m.tables.PendingSchemaVersion(); pending && op.Kind == tables.OpAcl {
		s.reply(nil, api.Errorf(tuple.CodeIllegalParams,
			"sql: %s: a schema change (version %d) is pending: retry once it is committed or aborted", statementKind(stmt), v))
		return
	}
	st := s.m.ra.BasicStatus()
	term, _ := s.m.ra.Term(st.Applied)
	req := api.Cas{ClusterID: s.m.cfg.ClusterID, AsUser: uid, Op: op, Predicate: api.Predicate{Index: st.Applied, Term: term}}
	s.m.toLeader(req, func(result any, err *api.Error) {
		if err != nil {
			s.reply(nil, err)
			return
		}
		index, _ := casIndex(result)
		s.waitApplied(index, func() { s.count(1) })
	})
}

// aclOp is the op an access-control statement of user uid proposes, or
// noop when it has nothing to do; e when it cannot be run (an unknown
// user, a password too short, an unsupported auth method, a privilege its
// object does not take).
func (m *sqlModule) aclOp(uid uint32, stmt parse.Stmt) (op tables.Op, noop bool, e *api.Error) {
	switch x := stmt.(type) {
	case *parse.CreateUser:
		auth, e := m.passwordAuth(x.Name, x.Password, x.Method)
		if e != nil {
			return op, false, e
		}
		if u, exists, _ := m.tables.UserByName(x.Name); exists {
			if u.IsRole() {
				return op, false, api.Errorf(tuple.CodeRoleExists, "sql: role %s already exists", x.Name)
			}
			if x.IfNotExists {
				return op, true, nil
			}
			return op, false, api.Errorf(tuple.CodeUserExists, "sql: user %s already exists", x.Name)
		}
		return tables.AclOp(tables.Acl{Kind: tables.AclCreateUser, Name: x.Name, Auth: auth, Initiator: uid}), false, nil
	case *parse.AlterUser:
		return m.alterUser(uid, x)
	case *parse.DropUser:
		u, exists, _ := m.tables.UserByName(x.Name)
		switch {
		case !exists && x.IfExists:
			return op, true, nil
		case !exists:
			return op, false, api.Errorf(tuple.CodeNoSuchUser, "sql: user %s does not exist", x.Name)
		case u.IsRole():
			return op, false, api.Errorf(tuple.CodeNoSuchUser, "sql: %s is a role, not a user: DROP ROLE drops it", x.Name)
		}
		return tables.AclOp(tables.Acl{Kind: tables.AclDropUser, UserID: uint32(u.ID), Initiator: uid}), false, nil
	case *parse.CreateRole:
		if u, exists, _ := m.tables.UserByName(x.Name); exists {
			if !u.IsRole() {
				return op, false, api.Errorf(tuple.CodeUserExists, "sql: user %s already exists", x.Name)
			}
			if x.IfNotExists {
				return op, true, nil
			}
			return op, false, api.Errorf(tuple.CodeRoleExists, "sql: role %s already exists", x.Name)
		}
		return tables.AclOp(tables.Acl{Kind: tables.AclCreateRole, Name: x.Name, Initiator: uid}), false, nil
	case *parse.DropRole:
		u, exists, _ := m.tables.UserByName(x.Name)
		switch {
		case !exists && x.IfExists:
			return op, true, nil
		case !exists:
			return op, false, api.Errorf(tuple.CodeNoSuchRole, "sql: role %s does not exist", x.Name)
		case !u.IsRole():
			return op, false, api.Errorf(tuple.CodeNoSuchRole, "sql: %s is a user, not a role: DROP USER drops it", x.Name)
		}
		return tables.AclOp(tables.Acl{Kind: tables.AclDropRole, UserID: uint32(u.ID), Initiator: uid}), false, nil
	case *parse.Grant:
		return m.grant(uid, x)
	}
	return op, false, api.Errorf(tuple.CodeUnsupported, "sql: %s is not an access-control statement", statementKind(stmt))
}

// passwordAuth is user's password as _pico_user keeps it (auth.Secrets:
// chap-sha1 for iproto, MD5 and SCRAM-SHA-256 for PostgreSQL's protocol,
// with a salt drawn from the node's randomness), at least
// MinPasswordLength characters. USING names the iproto method: only
// chap-sha1.
func (m *sqlModule) passwordAuth(user, password, method string) (*tables.UserAuth, *api.Error) {
	if method != "" && method != tables.AuthChapSha1 {
		return nil, api.Errorf(tuple.CodeUnsupported, "sql: auth method %s is not supported: only chap-sha1 (USING chap-sha1, the default)", method)
	}
	if n := len([]rune(password)); n < MinPasswordLength {
		return nil, api.Errorf(tuple.CodeIllegalParams, "sql: invalid password: too short (expected at least %d characters, got %d)", MinPasswordLength, n)
	}
	salt := make([]byte, auth.SaltSize)
	for i := range salt {
		salt[i] = byte(m.cfg.Raft.Rand.UintN(256))
	}
	a := auth.Secrets(user, password, salt)
	return &a, nil
}

// alterUser is ALTER USER: PASSWORD (acl_change_auth), LOGIN (a grant of
// login on the universe — made even when held: it lifts a login lock on
// every instance), NOLOGIN (its revoke), RENAME TO.
func (m *sqlModule) alterUser(uid uint32, x *parse.AlterUser) (op tables.Op, noop bool, e *api.Error) {
	u, exists, _ := m.tables.UserByName(x.Name)
	switch {
	case !exists:
		return op, false, api.Errorf(tuple.CodeNoSuchUser, "sql: user %s does not exist", x.Name)
	case u.IsRole():
		return op, false, api.Errorf(tuple.CodeNoSuchUser, "sql: %s is a role: ALTER USER alters users only", x.Name)
	}
	id := uint32(u.ID)
	login := &tables.Privilege{Grantee: id, Privilege: tables.PrivLogin, ObjectType: tables.ObjUniverse}
	switch x.Action {
	case "PASSWORD":
		if id == tables.GuestID || id == tables.PicoServiceID {
			return op, false, api.Errorf(tuple.CodeAccessDenied, "sql: the password of %s cannot be changed", x.Name)
		}
		a, e := m.passwordAuth(x.Name, x.Password, x.Method)
		if e != nil {
			return op, false, e
		}
		if u.Auth != nil && u.Auth.Hash == a.Hash && u.Auth.MD5 == a.MD5 && u.Auth.SCRAM != "" {
			return op, true, nil // the same password, kept for every protocol
		}
		return tables.ChangeAuthOf(id, *a), false, nil
	case "LOGIN":
		return tables.AclOp(tables.Acl{Kind: tables.AclGrantPrivilege, Priv: login, Initiator: uid}), false, nil
	case "NOLOGIN":
		if id == tables.AdminID || id == tables.PicoServiceID {
			return op, false, api.Errorf(tuple.CodeAccessDenied, "sql: NOLOGIN is denied for %s: it holds every privilege, login included", x.Name)
		}
		if _, held := m.tables.PrivilegeRow(id, tables.PrivLogin, tables.ObjUniverse, 0); !held {
			return op, true, nil
		}
		return tables.AclOp(tables.Acl{Kind: tables.AclRevokePrivilege, Priv: login, Initiator: uid}), false, nil
	case "RENAME":
		if x.NewName == x.Name {
			return op, true, nil
		}
		if other, taken, _ := m.tables.UserByName(x.NewName); taken {
			return op, false, api.Errorf(tuple.CodeUserExists, "sql: %s %s already exists", other.Type, x.NewName)
		}
		return tables.AclOp(tables.Acl{Kind: tables.AclRenameUser, UserID: id, Name: x.NewName, Initiator: uid}), false, nil
	}
	return op, false, api.Errorf(tuple.CodeUnsupported, "sql: ALTER USER ... %s is not supported", x.Action)
}

// grant is GRANT and REVOKE: of a privilege on a table, every table, a
// user, every user, a role or every role; or of a role (privilege execute
// on the role).
func (m *sqlModule) grant(uid uint32, x *parse.Grant) (op tables.Op, noop bool, e *api.Error) {
	grantee, exists, _ := m.tables.UserByName(x.Grantee)
	if !exists {
		return op, false, api.Errorf(tuple.CodeNoSuchUser, "sql: there is no user or role named %s", x.Grantee)
	}
	p := tables.Privilege{Grantee: uint32(grantee.ID)}
	if x.Privilege == "" {
		role, exists, _ := m.tables.UserByName(x.Role)
		if !exists || !role.IsRole() {
			return op, false, api.Errorf(tuple.CodeNoSuchRole, "sql: there is no role named %s", x.Role)
		}
		p.Privilege, p.ObjectType, p.ObjectID = tables.PrivExecute, tables.ObjRole, int64(role.ID)
	} else {
		p.Privilege = strings.ToLower(x.Privilege)
		if p.Privilege == "session" || p.Privilege == "usage" {
			return op, false, api.Errorf(tuple.CodeGrant, "sql: %s is not granted by GRANT: ALTER USER name WITH LOGIN (or NOLOGIN)", x.Privilege)
		}
		p.ObjectID = -1
		switch x.Object {
		case "TABLE":
			def, ok := m.tables.TableByName(x.ObjectName)
			if !ok {
				return op, false, api.Errorf(tuple.CodeNoSuchSpace, "sql: table %s does not exist", x.ObjectName)
			}
			p.ObjectType, p.ObjectID = tables.ObjTable, int64(def.ID)
		case "ALL TABLES":
			p.ObjectType = tables.ObjTable
		case "USER", "ROLE":
			p.ObjectType = strings.ToLower(x.Object)
			u, ok, _ := m.tables.UserByName(x.ObjectName)
			if !ok || u.IsRole() != (x.Object == "ROLE") {
				code := tuple.CodeNoSuchUser
				if x.Object == "ROLE" {
					code = tuple.CodeNoSuchRole
				}
				return op, false, api.Errorf(code, "sql: there is no %s named %s", p.ObjectType, x.ObjectName)
			}
			p.ObjectID = int64(u.ID)
		case "ALL USERS":
			p.ObjectType = tables.ObjUser
		case "ALL ROLES":
			p.ObjectType = tables.ObjRole
		default:
			return op, false, api.Errorf(tuple.CodeUnsupported, "sql: privileges on %s are not supported", x.Object)
		}
		if err := tables.CheckPrivilege(p); err != nil {
			return op, false, api.Errorf(err.Code, "sql: %s", err.Message)
		}
	}
	_, held := m.tables.PrivilegeRow(p.Grantee, p.Privilege, p.ObjectType, p.ObjectID)
	kind := tables.AclGrantPrivilege
	if x.Revoke {
		kind = tables.AclRevokePrivilege
	}
	if held != x.Revoke {
		return op, true, nil // granted already, or not granted
	}
	return tables.AclOp(tables.Acl{Kind: kind, Priv: &p, Initiator: uid}), false, nil
}

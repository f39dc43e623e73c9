package node

import (
	"fmt"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/sql/parse"
	"github.com/picogo/picogo/core/sql/plan"
	"github.com/picogo/picogo/core/tables"
)

// authorize checks a statement against the caller's privileges, as
// Picodata's model has them (_pico_privilege): READ on each table a
// statement reads, WRITE on the table it writes, CREATE on tables to
// create one, DROP on a table (or all tables) to drop it or its indexes.
// A table's owner holds every privilege on it; admin holds all.
// Privileges count whether held directly or through roles (Granted).
// Access-control statements are checked by aclAccess.
func (m *sqlModule) authorize(user string, stmt parse.Stmt) *api.Error {
	uid, e := m.userID(user)
	if e != nil {
		return e
	}
	need := func(priv, name string) *api.Error {
		def, ok := m.tables.TableByName(name)
		if !ok {
			return nil // the statement itself says it does not exist
		}
		if def.Owner == uid && def.ID >= tables.FirstUserTableID {
			return nil
		}
		if m.tables.Granted(uid, priv, "table", int64(def.ID)) || m.tables.Granted(uid, priv, "table", -1) {
			return nil
		}
		return api.Errorf(api.CodeAccessDenied, "sql: %s access to table %s is denied for user %s", priv, name, user)
	}
	for _, t := range plan.ReadTables(stmt) {
		if e := need(tables.PrivRead, t); e != nil {
			return e
		}
	}
	switch x := stmt.(type) {
	case *parse.Insert:
		return need(tables.PrivWrite, x.Table)
	case *parse.Update:
		return need(tables.PrivWrite, x.Table)
	case *parse.Delete:
		return need(tables.PrivWrite, x.Table)
	case *parse.CreateTable:
		if !m.tables.Granted(uid, tables.PrivCreate, "table", -1) {
			return api.Errorf(api.CodeAccessDenied, "sql: create access to tables is denied for user %s", user)
		}
	case *parse.DropTable:
		return need(tables.PrivDrop, x.Name)
	case *parse.CreateIndex:
		return need(tables.PrivCreate, x.Table)
	case *parse.DropIndex:
		if idx, ok := m.findIndex(x.Name); ok {
			if def, ok := m.tables.Table(idx.TableID); ok {
				return need(tables.PrivDrop, def.Name)
			}
		}
	case *parse.CreateUser, *parse.AlterUser, *parse.DropUser, *parse.CreateRole, *parse.DropRole, *parse.Grant:
		// The statement's op, checked as the leader will check it; a
		// statement that makes none is answered by running it.
		op, noop, e := m.aclOp(uid, stmt)
		if e != nil || noop {
			return nil
		}
		if denied := aclAccess(m.tables, uid, op); denied != "" {
			return api.Errorf(api.CodeAccessDenied, "sql: %s", denied)
		}
	}
	return nil
}

// aclAccess is who may make an ACL change, as Picodata's access control
// (access_control.rs) has it; "" when uid may, else why not, in
// Tarantool's words ("Create access to user 'bob' is denied for user
// 'alice'"):
//
//   - CREATE USER needs create on every user (object id -1), CREATE ROLE
//     create on every role;
//   - ALTER USER (password, rename) needs alter on the user, DROP USER and
//     DROP ROLE drop on it; the owner of a user or role (its creator) needs
//     nothing, and every user holds alter on itself;
//   - GRANT and REVOKE: on every object of a type (-1) and on the
//     universe (LOGIN, NOLOGIN) only admin; on a table only its owner or
//     admin; on a user or a role only its owner or admin, except the public
//     role, which anyone may grant;
//
// admin and pico_service (privilege all on the universe) may do all of it.
func aclAccess(t *tables.Store, uid uint32, op tables.Op) string {
	if uid == tables.AdminID || uid == tables.PicoServiceID {
		return ""
	}
	name := func(id uint32) string {
		if u, ok := t.UserByID(id); ok {
			return u.Name
		}
		return fmt.Sprintf("#%d", id)
	}
	deny := func(priv, objType, obj string) string {
		return fmt.Sprintf("%s access to %s '%s' is denied for user '%s'", priv, objType, obj, name(uid))
	}
	// on: uid owns the user or role id, or holds priv on it.
	on := func(priv, objType string, id uint32) bool {
		u, ok := t.UserByID(id)
		return ok && uint32(u.Owner) == uid || t.Granted(uid, priv, objType, int64(id))
	}
	switch op.Kind {
	case tables.OpAclChangeAuth:
		if id := op.ChangeAuth.UserID; !on(tables.PrivAlter, tables.ObjUser, id) {
			return deny("Alter", "user", name(id))
		}
		return ""
	case tables.OpAcl:
	default:
		return ""
	}
	a := op.Acl
	switch a.Kind {
	case tables.AclCreateUser:
		if !t.Granted(uid, tables.PrivCreate, tables.ObjUser, -1) {
			return deny("Create", "user", a.Name)
		}
	case tables.AclCreateRole:
		if !t.Granted(uid, tables.PrivCreate, tables.ObjRole, -1) {
			return deny("Create", "role", a.Name)
		}
	case tables.AclRenameUser:
		if !on(tables.PrivAlter, tables.ObjUser, a.UserID) {
			return deny("Alter", "user", name(a.UserID))
		}
	case tables.AclDropUser:
		if !on(tables.PrivDrop, tables.ObjUser, a.UserID) {
			return deny("Drop", "user", name(a.UserID))
		}
	case tables.AclDropRole:
		if !on(tables.PrivDrop, tables.ObjRole, a.UserID) {
			return deny("Drop", "role", name(a.UserID))
		}
	case tables.AclGrantPrivilege, tables.AclRevokePrivilege:
		verb := "Grant"
		if a.Kind == tables.AclRevokePrivilege {
			verb = "Revoke"
		}
		p := a.Priv
		switch {
		case p.ObjectType == tables.ObjUniverse:
			return deny(verb, "universe", "")
		case p.ObjectID < 0:
			return fmt.Sprintf("%s access to every %s is denied for user '%s'", verb, p.ObjectType, name(uid))
		case p.ObjectType == tables.ObjTable:
			def, ok := t.Table(uint32(p.ObjectID))
			if !ok {
				return "" // applying it says so
			}
			if def.Owner != uid || def.ID < tables.FirstUserTableID {
				return deny(verb, "table", def.Name)
			}
		case p.ObjectType == tables.ObjRole && uint32(p.ObjectID) == tables.PublicRoleID && p.Privilege == tables.PrivExecute:
		case p.ObjectType == tables.ObjRole || p.ObjectType == tables.ObjUser:
			if u, ok := t.UserByID(uint32(p.ObjectID)); ok && uint32(u.Owner) != uid {
				return deny(verb, p.ObjectType, u.Name)
			}
		}
	}
	return ""
}

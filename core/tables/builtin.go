package tables

// Built-in users, with Picodata's ids. Every cluster starts with them.
const (
	GuestID       uint32 = 0
	PublicRoleID  uint32 = 2
	PicoServiceID uint32 = 32
)

// The built-in users' names: the one definition every layer uses
// (instances log in to each other as PicoServiceName).
const (
	GuestName       = "guest"
	AdminName       = "admin"
	PublicRoleName  = "public"
	PicoServiceName = "pico_service"
)

// Privileges a grant may name: Picodata's, and picogo's "all" (which only
// the built-in grants of admin and pico_service hold: every privilege on
// everything).
const (
	PrivAll     = "all"
	PrivRead    = "read"
	PrivWrite   = "write"
	PrivCreate  = "create"
	PrivAlter   = "alter"
	PrivDrop    = "drop"
	PrivExecute = "execute"
	PrivLogin   = "login"
)

// The object types of _pico_privilege (Picodata's). Object id -1 is every
// object of the type; the universe's id is 0.
const (
	ObjUniverse = "universe"
	ObjTable    = "table"
	ObjUser     = "user"
	ObjRole     = "role"
)

// BuiltinUsers are the rows every cluster starts with: guest, admin, the
// public role and pico_service in _pico_user; admin and pico_service hold
// every privilege on the universe; guest may log in and has the public
// role (as in Picodata), nothing more.
func BuiltinUsers() []Dml {
	user := func(id uint32, name, typ string) Dml {
		return Insert(TablePicoUser, uint64(id), name, uint64(0), nil, uint64(AdminID), typ)
	}
	grant := func(grantee uint32, priv, objType string, objID int64) Dml {
		return Insert(TablePicoPrivilege, Privilege{Grantor: AdminID, Grantee: grantee, Privilege: priv,
			ObjectType: objType, ObjectID: objID}.Tuple()...)
	}
	return []Dml{
		user(GuestID, GuestName, UserTypeUser), user(AdminID, AdminName, UserTypeUser),
		user(PublicRoleID, PublicRoleName, UserTypeRole), user(PicoServiceID, PicoServiceName, UserTypeUser),
		grant(AdminID, PrivAll, ObjUniverse, 0), grant(PicoServiceID, PrivAll, ObjUniverse, 0),
		grant(GuestID, PrivLogin, ObjUniverse, 0), grant(GuestID, PrivExecute, ObjRole, int64(PublicRoleID)),
	}
}

// Granted reports whether user holds privilege (or "all") on the object,
// on every object of its type (id -1), or on the whole universe — itself
// or through a role it has been granted (privilege execute on object type
// role, transitively); every user has the public role.
func (s *Store) Granted(user uint32, privilege, objectType string, objectID int64) bool {
	if st := s.Stamp(TablePicoPrivilege); st != s.grantsAt || s.grants == nil {
		s.grants, s.grantsAt = map[grantQuery]bool{}, st
	}
	q := grantQuery{user, privilege, objectType, objectID}
	if ok, known := s.grants[q]; known {
		return ok
	}
	ok := s.granted(user, privilege, objectType, objectID)
	if len(s.grants) < maxGrantAnswers {
		s.grants[q] = ok
	}
	return ok
}

// maxGrantAnswers bounds what Granted remembers between grants.
const maxGrantAnswers = 4096

func (s *Store) granted(user uint32, privilege, objectType string, objectID int64) bool {
	objs := []struct {
		typ string
		id  int64
	}{{objectType, objectID}, {objectType, -1}, {ObjUniverse, 0}}
	holds := func(holder uint32) bool {
		for _, p := range []string{privilege, PrivAll} {
			for _, obj := range objs {
				if _, ok, err := s.Get(TablePicoPrivilege, []any{uint64(holder), obj.typ, obj.id, p}); err == nil && ok {
					return true
				}
			}
		}
		return false
	}
	// The user's own rows first: point reads, no scan (admin's writes).
	if holds(user) {
		return true
	}
	for _, holder := range s.Holders(user)[1:] {
		if holds(holder) {
			return true
		}
	}
	return false
}

// Holders are the grantees whose privileges user has: user itself, the
// public role, and every role granted to any of them, transitively; in
// that order, each once.
func (s *Store) Holders(user uint32) []uint32 {
	out := []uint32{user}
	if user != PublicRoleID {
		out = append(out, PublicRoleID)
	}
	rows, _ := s.Scan(TablePicoPrivilege)
	for i := 0; i < len(out); i++ {
		for _, r := range rows {
			p, err := PrivilegeFrom(r.Values())
			if err != nil || p.Grantee != out[i] || p.ObjectType != ObjRole || p.Privilege != PrivExecute || p.ObjectID < 0 {
				continue
			}
			if role := uint32(p.ObjectID); !containsID(out, role) {
				out = append(out, role)
			}
		}
	}
	return out
}

func containsID(ids []uint32, id uint32) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

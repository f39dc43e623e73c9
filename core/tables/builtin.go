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

// Privileges a grant may name.
const (
	PrivAll    = "all"
	PrivRead   = "read"
	PrivWrite  = "write"
	PrivCreate = "create"
	PrivDrop   = "drop"
)

// BuiltinUsers are the rows every cluster starts with: guest, admin, the
// public role and pico_service in _pico_user; admin and pico_service hold
// every privilege on the universe, guest none.
func BuiltinUsers() []Dml {
	user := func(id uint32, name string) Dml {
		return Insert(TablePicoUser, uint64(id), name, uint64(0), nil, uint64(AdminID))
	}
	universe := func(grantee uint32) Dml {
		return Insert(TablePicoPrivilege, uint64(AdminID), uint64(grantee), PrivAll, "universe", int64(0), uint64(0))
	}
	return []Dml{
		user(GuestID, GuestName), user(AdminID, AdminName), user(PublicRoleID, PublicRoleName),
		user(PicoServiceID, PicoServiceName),
		universe(AdminID), universe(PicoServiceID),
	}
}

// Granted reports whether user holds privilege (or "all") on the object, or
// on the whole universe.
func (s *Store) Granted(user uint32, privilege, objectType string, objectID int64) bool {
	for _, p := range []string{privilege, PrivAll} {
		for _, obj := range []struct {
			typ string
			id  int64
		}{{objectType, objectID}, {"universe", 0}} {
			if _, ok, err := s.Get(TablePicoPrivilege, []any{uint64(user), obj.typ, obj.id, p}); err == nil && ok {
				return true
			}
		}
	}
	return false
}

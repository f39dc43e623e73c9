package tables

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBuiltinUsersAndGrants(t *testing.T) {
	s := New()
	require.Nil(t, s.ApplyOp(BatchOp(BuiltinUsers()...)).Err)
	for _, id := range []uint32{GuestID, AdminID, PublicRoleID, PicoServiceID} {
		_, ok, err := s.Get(TablePicoUser, []any{uint64(id)})
		require.NoError(t, err)
		require.True(t, ok, "user %d", id)
	}
	require.True(t, s.Granted(AdminID, PrivWrite, "table", 1024), "admin holds the universe")
	require.True(t, s.Granted(PicoServiceID, PrivCreate, "universe", 0))
	require.False(t, s.Granted(GuestID, PrivWrite, "table", 1024))

	// A grant on one table is that table only.
	require.Nil(t, s.ApplyOp(DmlOp(Insert(TablePicoUser, uint64(40), "alice", uint64(0), nil, uint64(AdminID), UserTypeUser))).Err)
	require.Nil(t, s.ApplyOp(DmlOp(Insert(TablePicoPrivilege, uint64(AdminID), uint64(40), PrivWrite, "table", int64(1024), uint64(0)))).Err)
	require.True(t, s.Granted(40, PrivWrite, "table", 1024))
	require.False(t, s.Granted(40, PrivWrite, "table", 1025))
	require.False(t, s.Granted(40, PrivRead, "table", 1024))
}

package node

import (
	"testing"

	"github.com/picogo/picogo/core/auth"
	"github.com/picogo/picogo/core/tables"
	"github.com/stretchr/testify/require"
)

func TestLeaderSetsTheAdminPasswordGivenAtStart(t *testing.T) {
	password := auth.Secrets("admin", "admin-pw", []byte("0123456789abcdef"))
	s := newSoloWith(t, Config{AdminAuth: &password})
	admin := func() any {
		row, ok, err := s.n.Tables().Get(tables.TablePicoUser, []any{uint64(tables.AdminID)})
		require.NoError(t, err)
		require.True(t, ok)
		return row.Values()[3]
	}
	require.Nil(t, admin(), "no password until the leader proposes it")
	s.n.Tick()
	s.settle()
	require.Equal(t, []any{tables.AuthChapSha1, password.Hash, password.MD5, password.SCRAM}, admin())
	// Once set it is not proposed again: when the instance has settled
	// Online, the log stops growing.
	for range 100 {
		s.n.Tick()
		s.settle()
	}
	_, before := s.n.Log()
	for range 50 {
		s.n.Tick()
		s.settle()
	}
	_, after := s.n.Log()
	require.Equal(t, len(before), len(after))
}

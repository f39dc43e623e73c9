package node

import (
	"testing"

	"github.com/picogo/picogo/core/tables"
	"github.com/stretchr/testify/require"
)

func TestLeaderSetsTheAdminPasswordGivenAtStart(t *testing.T) {
	hash := []byte("0123456789abcdefghij")
	s := newSoloWith(t, Config{AdminAuth: hash})
	admin := func() any {
		row, ok, err := s.n.Tables().Get(tables.TablePicoUser, []any{uint64(tables.AdminID)})
		require.NoError(t, err)
		require.True(t, ok)
		return row.Values()[3]
	}
	require.Nil(t, admin(), "no password until the leader proposes it")
	s.n.Tick()
	s.settle()
	require.Equal(t, []any{tables.AuthChapSha1, fmtHex(hash)}, admin())
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

func fmtHex(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

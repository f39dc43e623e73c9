package node

import (
	"testing"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/auth"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/net/iproto"
	"github.com/stretchr/testify/require"
)

// TestLoginLockAndUnlockUser: failed logins lock admin on the instance, its
// lock ends after auth.LockDuration of the instance's ticks, and
// .proc_unlock_user lifts it at once; pico_service is never locked.
func TestLoginLockAndUnlockUser(t *testing.T) {
	admin := auth.Secrets("admin", "admin-pw", []byte("0123456789abcdef"))
	s := newSoloWith(t, Config{AdminAuth: &admin, ServiceAuth: iproto.Hash2("service-pw")})
	s.n.Tick()
	s.settle() // the leader applies the admin password
	salt := []byte("0123456789abcdefghij")
	login := func(user, password string) auth.Verdict {
		return s.n.Login(auth.Attempt{User: user, Address: "10.0.0.1", Proof: auth.ChapSha1{Salt: salt, Scramble: iproto.Scramble(salt, password)}})
	}
	lock := func() {
		for range auth.MaxFailures {
			require.NotNil(t, login("admin", "wrong").Err)
			require.NotNil(t, login(tables.PicoServiceName, "wrong").Err)
		}
		require.Equal(t, uint32(iproto.CodeAccessDenied), login("admin", "admin-pw").Err.Code)
		require.Nil(t, login(tables.PicoServiceName, "service-pw").Err, "pico_service is never locked")
	}

	lock()
	require.Equal(t, []any{true}, s.do(api.UnlockUser{Name: "admin"}).Values)
	require.Nil(t, login("admin", "admin-pw").Err)
	require.Equal(t, []any{false}, s.do(api.UnlockUser{Name: "admin"}).Values, "not locked any more")
	r := s.do(api.UnlockUser{Name: "nobody"})
	require.NotNil(t, r.Err)
	require.Equal(t, api.CodeNoSuchUser, r.Err.Code)

	lock()
	for range int(auth.LockDuration / (10 * time.Millisecond)) { // the solo's tick
		s.n.Tick()
	}
	s.settle()
	require.Nil(t, login("admin", "admin-pw").Err, "the lock ended with the instance's ticks")
}

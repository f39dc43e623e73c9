package sim

import (
	"fmt"
	"testing"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/auth"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/net/iproto"
	"github.com/picogo/picogo/proc"
	"github.com/stretchr/testify/require"
)

// Picodata's login rules on a running cluster (core/auth): a wrong password
// is refused, held back for the host it came from; four failures in a row
// lock a user on that instance, admin included, even for the right
// password — but never pico_service, as which the instances log in to each
// other; and the cluster goes on committing, its instances still logging
// in to each other, a restarted one included.
func TestFailedLoginsLockUsersButNeverPicoService(t *testing.T) {
	c := newTestCluster(t)
	ms := startN(t, c, 3, nil)
	writeThroughCas(t, c, "before", "1")
	l := c.Leader()
	followers := others(ms, l.RaftID())
	f, g := followers[0], followers[1]
	admin, service := c.AdminPassword(), c.ServicePassword()
	const stranger, client = "stranger", "c1"

	refused, held := c.Login(stranger, f, proc.Admin, "guess-1")
	require.NotNil(t, refused, "a wrong password is refused")
	require.EqualValues(t, iproto.CodePasswordMismatch, refused.Code, refused.Message)
	require.Equal(t, auth.FirstDelay, held, "the first refusal of a host is held back the least")
	require.Nil(t, first(c.Login(client, f, proc.Admin, admin)), "the right password logs in, from another host")

	for i := 1; i <= auth.MaxFailures; i++ {
		refused, _ := c.Login(stranger, f, proc.Admin, fmt.Sprintf("guess-%d", i))
		require.NotNil(t, refused)
		require.EqualValues(t, iproto.CodePasswordMismatch, refused.Code, "failure %d: %s", i, refused.Message)
	}
	refused, _ = c.Login(client, f, proc.Admin, admin)
	require.NotNil(t, refused, "admin is locked on %s after %d failures in a row", f.Addr(), auth.MaxFailures)
	require.EqualValues(t, iproto.CodeAccessDenied, refused.Code)
	require.Contains(t, refused.Message, "blocked after 4 failed logins in a row")
	_, e := c.Call(f, api.RaftInfo{})
	require.NotNil(t, e, "the operator's admin sessions are refused there too")
	require.EqualValues(t, iproto.CodeAccessDenied, e.Code)
	require.Nil(t, first(c.Login(client, l, proc.Admin, admin)), "a lock holds on the instance where the failures were")

	for _, m := range []*Member{f, l} {
		for i := range 3 * auth.MaxFailures {
			refused, _ := c.Login(stranger, m, proc.PicoService, fmt.Sprintf("guess-%d", i))
			require.NotNil(t, refused)
			require.EqualValues(t, iproto.CodePasswordMismatch, refused.Code, "%s, failure %d: %s", m.Addr(), i+1, refused.Message)
		}
		refused, held := c.Login(stranger, m, proc.PicoService, service)
		require.Nil(t, refused, "pico_service is never locked (%s)", m.Addr())
		require.Zero(t, held)
	}
	_, held = c.Login(stranger, f, tables.GuestName, "guess")
	require.Equal(t, auth.MaxDelay, held, "the stranger's host is held back the longest")
	_, held = c.Login("c2", f, tables.GuestName, "guess")
	require.Equal(t, auth.FirstDelay, held, "another host is not held back for the stranger's failures")

	// Meanwhile the cluster commits, and a restarted instance logs in to
	// the others (and they to it) as pico_service and comes back Online.
	writeThroughCas(t, c, "during", "2")
	g.Kill()
	g.Restart()
	require.NoError(t, c.Settle(settle))
	writeThroughCas(t, c, "after", "3")

	// The operator lifts the lock as pico_service (a locked admin cannot
	// log in there to do it).
	res, e := c.CallAs(f, proc.PicoService, service, api.UnlockUser{Name: proc.Admin})
	require.Nil(t, e)
	require.Equal(t, []any{true}, res)
	require.Nil(t, first(c.Login(client, f, proc.Admin, admin)), "unlocked")
	require.NoError(t, c.Failure())
}

func first[A, B any](a A, _ B) A { return a }

package auth

import (
	"fmt"
	"testing"
	"time"

	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/net/iproto"
	"github.com/stretchr/testify/require"
)

const (
	servicePassword = "service-secret"
	adminPassword   = "admin-secret"
	attacker        = "10.0.0.66"
	operator        = "10.0.0.7"
)

var salt = []byte("0123456789abcdefghij0123456789ab")

// cluster is a _pico_user with the built-in users, admin's password set,
// and alice (password "alice-pw").
func cluster(t *testing.T) *tables.Store {
	t.Helper()
	s := tables.New()
	require.Nil(t, s.ApplyOp(tables.BatchOp(tables.BuiltinUsers()...)).Err)
	set := func(id uint64, name, password string) {
		h := iproto.Hash2(password)
		u := tables.User{ID: id, Name: name, Auth: &tables.UserAuth{Method: tables.AuthChapSha1, Hash: fmt.Sprintf("%x", h)},
			Owner: uint64(tables.AdminID)}
		require.Nil(t, s.ApplyOp(tables.DmlOp(tables.Replace(tables.TablePicoUser, u.Tuple()...))).Err)
	}
	set(uint64(tables.AdminID), "admin", adminPassword)
	require.Nil(t, s.ApplyOp(tables.AclOp(tables.Acl{Kind: tables.AclCreateUser, UserID: 40, Name: "alice", Initiator: tables.AdminID,
		Auth: &tables.UserAuth{Method: tables.AuthChapSha1, Hash: fmt.Sprintf("%x", iproto.Hash2("alice-pw"))}})).Err)
	return s
}

// login is the ACL op that grants (or, revoke, revokes) user 40 (alice)
// the login privilege.
func login(revoke bool) tables.Op {
	kind := tables.AclGrantPrivilege
	if revoke {
		kind = tables.AclRevokePrivilege
	}
	return tables.AclOp(tables.Acl{Kind: kind, Initiator: tables.AdminID,
		Priv: &tables.Privilege{Grantee: 40, Privilege: tables.PrivLogin, ObjectType: tables.ObjUniverse}})
}

// A user without the login privilege does not log in (NOLOGIN), a role
// never does.
func TestLoginPrivilege(t *testing.T) {
	users := cluster(t)
	l := newLogins()
	require.Nil(t, l.Login(users, attempt("alice", "alice-pw", operator), 0).Err)
	require.Nil(t, users.ApplyOp(login(true)).Err)
	v := l.Login(users, attempt("alice", "alice-pw", operator), 0)
	require.Equal(t, iproto.CodeAccessDenied, code(v))
	require.Contains(t, v.Err.Message, "no login privilege")
	require.Equal(t, iproto.CodePasswordMismatch, code(l.Login(users, attempt("alice", "wrong", operator), 0)), "the password is checked first")
	require.Nil(t, users.ApplyOp(login(false)).Err)
	require.Nil(t, l.Login(users, attempt("alice", "alice-pw", operator), 0).Err)

	require.Nil(t, users.ApplyOp(tables.AclOp(tables.Acl{Kind: tables.AclCreateRole, Name: "readers", Initiator: tables.AdminID})).Err)
	require.Equal(t, iproto.CodeNoSuchUser, code(l.Login(users, attempt("readers", "", operator), 0)), "a role is no user")
	require.Nil(t, l.Login(users, attempt("guest", "", operator), 0).Err, "guest has login")
}

// Granting login again (ALTER USER ... WITH LOGIN) lifts a lock.
func TestLoginGrantLiftsTheLock(t *testing.T) {
	users := cluster(t)
	l := newLogins()
	for range MaxFailures {
		l.Login(users, attempt("alice", "wrong", attacker), 0)
	}
	require.Equal(t, iproto.CodeAccessDenied, code(l.Login(users, attempt("alice", "alice-pw", operator), time.Second)))
	require.Nil(t, users.ApplyOp(login(false)).Err)
	require.Nil(t, l.Login(users, attempt("alice", "alice-pw", operator), time.Second).Err, "lifted")
	// A grant from before the lock does not lift it.
	for range MaxFailures {
		l.Login(users, attempt("alice", "wrong", attacker), 2*time.Second)
	}
	require.Equal(t, iproto.CodeAccessDenied, code(l.Login(users, attempt("alice", "alice-pw", operator), 3*time.Second)))
}

func newLogins() *Logins { return New(iproto.Hash2(servicePassword), nil) }

func attempt(user, password, addr string) Attempt {
	return Attempt{User: user, Address: addr, Proof: ChapSha1{Salt: salt, Scramble: iproto.Scramble(salt, password)}}
}

// code is the refusal's code, 0 for a success.
func code(v Verdict) int {
	if v.Err == nil {
		return 0
	}
	return int(v.Err.Code)
}

func TestPasswords(t *testing.T) {
	users := cluster(t)
	initial := Secrets("admin", "initial", []byte("0123456789abcdef"))
	for _, c := range []struct {
		name     string
		users    *tables.Store
		initial  *tables.UserAuth
		user, pw string
		code     int
	}{
		{"admin from _pico_user", users, nil, "admin", adminPassword, 0},
		{"admin, wrong password", users, nil, "admin", "initial", iproto.CodePasswordMismatch},
		{"admin's initial password is ignored once _pico_user holds one", users, &initial, "admin", "initial", iproto.CodePasswordMismatch},
		{"an ordinary user", users, nil, "alice", "alice-pw", 0},
		{"pico_service with the service password", users, nil, tables.PicoServiceName, servicePassword, 0},
		{"pico_service with another", users, nil, tables.PicoServiceName, adminPassword, iproto.CodePasswordMismatch},
		{"guest with the empty password", users, nil, "guest", "", 0},
		{"guest with a password", users, nil, "guest", "x", iproto.CodePasswordMismatch},
		{"unknown user", users, nil, "nobody", "", iproto.CodeNoSuchUser},
		{"before the tables: admin with the initial password", tables.New(), &initial, "admin", "initial", 0},
		{"before the tables: admin without an initial password", tables.New(), nil, "admin", "", iproto.CodeAccessDenied},
		{"before the tables: guest", tables.New(), nil, "guest", "", 0},
		{"before the tables: pico_service", tables.New(), nil, tables.PicoServiceName, servicePassword, 0},
		{"before the tables: no other users", tables.New(), nil, "alice", "alice-pw", iproto.CodeNoSuchUser},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := New(iproto.Hash2(servicePassword), c.initial)
			v := l.Login(c.users, attempt(c.user, c.pw, operator), 0)
			require.Equal(t, c.code, code(v), "%v", v.Err)
		})
	}
}

func TestAdminWithoutPasswordInTheTables(t *testing.T) {
	s := tables.New()
	require.Nil(t, s.ApplyOp(tables.BatchOp(tables.BuiltinUsers()...)).Err)
	initial := Secrets("admin", "initial", []byte("0123456789abcdef"))
	v := New(iproto.Hash2(servicePassword), &initial).Login(s, attempt("admin", "initial", operator), 0)
	require.Nil(t, v.Err, "admin logs in with the initial password until _pico_user holds one")
	v = New(iproto.Hash2(servicePassword), nil).Login(s, attempt("admin", "", operator), 0)
	require.Equal(t, iproto.CodeAccessDenied, code(v))
	require.Contains(t, v.Err.Message, "PICOGO_ADMIN_PASSWORD")
}

func TestLockAfterFourFailures(t *testing.T) {
	users := cluster(t)
	for _, user := range []string{"admin", "alice", "guest"} {
		t.Run(user, func(t *testing.T) {
			l := newLogins()
			for i := 1; i <= MaxFailures; i++ {
				v := l.Login(users, attempt(user, "wrong", attacker), time.Duration(i)*time.Second)
				require.Equal(t, iproto.CodePasswordMismatch, code(v), "failure %d", i)
				require.Equal(t, i == MaxFailures, v.Locked, "failure %d locks: %v", i, v.Locked)
			}
			right := map[string]string{"admin": adminPassword, "alice": "alice-pw", "guest": ""}[user]
			v := l.Login(users, attempt(user, right, operator), 10*time.Second)
			require.Equal(t, iproto.CodeAccessDenied, code(v), "locked: the right password is refused")
			require.Contains(t, v.Err.Message, fmt.Sprintf("User '%s' is blocked after 4 failed logins in a row", user))
			require.Contains(t, v.Err.Message, "unblocked in 4m54s")
			require.NotZero(t, v.Delay, "a refusal is held back, whatever the password")
			// Other users are not affected.
			require.Nil(t, l.Login(users, attempt(tables.PicoServiceName, servicePassword, attacker), 10*time.Second).Err)
		})
	}
}

func TestSuccessResetsTheCount(t *testing.T) {
	users := cluster(t)
	l := newLogins()
	for i := range 3 {
		require.Equal(t, iproto.CodePasswordMismatch, code(l.Login(users, attempt("admin", "wrong", attacker), time.Duration(i))))
	}
	require.Nil(t, l.Login(users, attempt("admin", adminPassword, operator), 5).Err)
	for i := range 3 {
		v := l.Login(users, attempt("admin", "wrong", attacker), time.Duration(10+i))
		require.Equal(t, iproto.CodePasswordMismatch, code(v))
		require.False(t, v.Locked)
	}
	require.Nil(t, l.Login(users, attempt("admin", adminPassword, operator), 20).Err, "3 failures since the success: not locked")
}

func TestLockEnds(t *testing.T) {
	users := cluster(t)
	l := newLogins()
	lockAt := time.Minute
	for range MaxFailures {
		l.Login(users, attempt("alice", "wrong", attacker), lockAt)
	}
	require.Equal(t, iproto.CodeAccessDenied, code(l.Login(users, attempt("alice", "alice-pw", operator), lockAt+LockDuration-time.Millisecond)))
	require.Nil(t, l.Login(users, attempt("alice", "alice-pw", operator), lockAt+LockDuration).Err, "the lock ends by itself")
	// The failures before the lock are forgotten with it.
	for range MaxFailures - 1 {
		require.False(t, l.Login(users, attempt("alice", "wrong", attacker), lockAt+LockDuration).Locked)
	}
}

func TestUnlock(t *testing.T) {
	users := cluster(t)
	l := newLogins()
	for range MaxFailures {
		l.Login(users, attempt("admin", "wrong", attacker), 0)
	}
	require.True(t, l.Unlock("admin", time.Second), "admin was locked")
	require.Nil(t, l.Login(users, attempt("admin", adminPassword, operator), time.Second).Err)
	require.False(t, l.Unlock("admin", time.Second), "not locked any more")
	require.False(t, l.Unlock("alice", time.Second), "never locked")

	for range MaxFailures {
		l.Login(users, attempt("alice", "wrong", attacker), 0)
	}
	require.False(t, l.Unlock("alice", LockDuration), "a lock that ended is not reported as lifted")
}

func TestPicoServiceIsNeverLocked(t *testing.T) {
	users := cluster(t)
	l := newLogins()
	for i := range 100 {
		v := l.Login(users, attempt(tables.PicoServiceName, "guess", attacker), time.Duration(i)*time.Millisecond)
		require.Equal(t, iproto.CodePasswordMismatch, code(v))
		require.False(t, v.Locked)
	}
	v := l.Login(users, attempt(tables.PicoServiceName, servicePassword, attacker), time.Second)
	require.Nil(t, v.Err, "the instances' logins still succeed, even from the attacker's address")
	require.Zero(t, v.Delay)
}

func TestThrottlingGrowsAndResets(t *testing.T) {
	users := cluster(t)
	l := newLogins()
	ms := time.Millisecond
	want := []time.Duration{50 * ms, 100 * ms, 200 * ms, 400 * ms, 800 * ms, 1600 * ms, 2 * time.Second, 2 * time.Second}
	now := time.Duration(0)
	for i, d := range want {
		now += time.Second
		v := l.Login(users, attempt("nobody", "x", attacker), now)
		require.Equal(t, iproto.CodeNoSuchUser, code(v))
		require.Equal(t, d, v.Delay, "failure %d", i+1)
	}
	v := l.Login(users, attempt(tables.PicoServiceName, "guess", operator), now)
	require.Equal(t, FirstDelay, v.Delay, "another address has its own count")

	v = l.Login(users, attempt("nobody", "x", attacker), now+QuietPeriod-ms)
	require.Equal(t, MaxDelay, v.Delay, "not quiet for long enough")
	v = l.Login(users, attempt("nobody", "x", attacker), now+2*QuietPeriod)
	require.Equal(t, FirstDelay, v.Delay, "forgotten after a quiet period")
}

func TestSuccessIsNotDelayed(t *testing.T) {
	users := cluster(t)
	l := newLogins()
	for i := range 20 {
		l.Login(users, attempt("alice", "wrong", attacker), time.Duration(i))
	}
	for _, a := range []Attempt{attempt("admin", adminPassword, attacker), attempt(tables.PicoServiceName, servicePassword, attacker),
		attempt("guest", "", attacker)} {
		v := l.Login(users, a, 20)
		require.Nil(t, v.Err, a.User)
		require.Zero(t, v.Delay, "%s from a throttled address", a.User)
	}
	v := l.Login(users, attempt("nobody", "x", attacker), 21)
	require.Equal(t, MaxDelay, v.Delay, "a success does not reset the address's failures")
}

func TestThrottlingStateIsBounded(t *testing.T) {
	users := cluster(t)
	l := newLogins()
	for i := range MaxAddresses + 100 {
		l.Login(users, attempt("nobody", "x", fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)), time.Duration(i))
		require.LessOrEqual(t, len(l.throttle.addrs), MaxAddresses)
	}
	require.Len(t, l.throttle.addrs, MaxAddresses)
	_, first := l.throttle.addrs["10.0.0.0"]
	require.False(t, first, "the address quiet for longest is forgotten first")
	_, last := l.throttle.addrs[fmt.Sprintf("10.0.%d.%d", (MaxAddresses+99)>>8&255, (MaxAddresses+99)&255)]
	require.True(t, last)
	// Failed logins of users that do not exist leave no per-user state.
	require.Empty(t, l.users)
}

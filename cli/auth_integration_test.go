//go:build linux

package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/tarantool/go-iproto"
	"github.com/tarantool/go-tarantool/v2"
)

// errPasswordMismatch is code 47: PASSWORD_MISMATCH in Tarantool 2.x,
// which go-iproto names by its 3.x name.
const errPasswordMismatch = iproto.ER_CREDS_MISMATCH

// tryConnect connects within 5 s; the connection, if any, is closed when
// the test ends.
func tryConnect(t *testing.T, in *instance, user, password string) (*tarantool.Connection, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := connect(ctx, in.addr, user, password)
	if err == nil {
		t.Cleanup(func() { conn.Close() })
	}
	return conn, err
}

// TestIntegrationAuth: chap-sha1 logins against the users of a running
// cluster, and the rule that guests may call public procedures only.
func TestIntegrationAuth(t *testing.T) {
	in := startOne(t)

	t.Run("admin with the password from PICOGO_ADMIN_PASSWORD", func(t *testing.T) {
		conn := adminConn(t, in)
		info, err := raftInfoOf(conn)
		if err != nil {
			t.Fatalf("admin calls .proc_raft_info: %v", err)
		}
		if info.ID != 1 || info.State != "Leader" || info.LeaderID != 1 {
			t.Fatalf(".proc_raft_info as admin = %+v; want id 1, Leader, leader_id 1", info)
		}
	})

	t.Run("admin with a wrong password", func(t *testing.T) {
		_, err := tryConnect(t, in, "admin", "not-the-password")
		requireCode(t, err, errPasswordMismatch, "Incorrect password supplied for user 'admin'")
	})

	t.Run("admin with an empty password", func(t *testing.T) {
		_, err := tryConnect(t, in, "admin", "")
		requireCode(t, err, errPasswordMismatch, "admin")
	})

	t.Run("admin again after two failures", func(t *testing.T) {
		// Two failures in a row do not lock (four do), and a success
		// resets the count.
		conn := adminConn(t, in)
		if _, err := call(conn, ".proc_get_index"); err != nil {
			t.Fatalf("admin calls .proc_get_index: %v", err)
		}
	})

	guestChecks := func(t *testing.T, conn *tarantool.Connection) {
		t.Helper()
		var vi []map[string]any
		if err := callTyped(conn, &vi, ".proc_version_info"); err != nil {
			t.Fatalf("guest calls the public .proc_version_info: %v", err)
		}
		if len(vi) != 1 || vi[0]["picodata_version"] != api.Version {
			t.Fatalf(".proc_version_info as guest = %v; want picodata_version %q", vi, api.Version)
		}
		_, err := call(conn, ".proc_raft_info")
		requireCode(t, err, iproto.ER_ACCESS_DENIED, "Execute access to function '.proc_raft_info' is denied for user 'guest'")
		_, err = call(conn, ".proc_cas", itClusterID, map[string]any{"index": 1, "term": 1, "ranges": []any{}},
			insertOp(516, "guest-key", "v"), 0)
		requireCode(t, err, iproto.ER_ACCESS_DENIED, ".proc_cas", "guest")
		_, err = selectRows(conn, uint32(514))
		requireCode(t, err, iproto.ER_ACCESS_DENIED, "guest")
	}

	t.Run("guest without AUTH", func(t *testing.T) {
		conn, err := tryConnect(t, in, "", "")
		if err != nil {
			t.Fatalf("guest session (no AUTH): %v", err)
		}
		guestChecks(t, conn)
	})

	t.Run("guest with AUTH and an empty password", func(t *testing.T) {
		conn, err := tryConnect(t, in, "guest", "")
		if err != nil {
			t.Fatalf("AUTH as guest with an empty password: %v", err)
		}
		guestChecks(t, conn)
	})

	t.Run("guest with a password", func(t *testing.T) {
		_, err := tryConnect(t, in, "guest", "secret")
		requireCode(t, err, errPasswordMismatch, "guest")
	})

	t.Run("pico_service with --service-password", func(t *testing.T) {
		conn := serviceConn(t, in)
		if info, err := raftInfoOf(conn); err != nil || info.ID != 1 {
			t.Fatalf(".proc_raft_info as pico_service = %+v, %v; want id 1", info, err)
		}
		_, err := tryConnect(t, in, "pico_service", "not-the-cookie")
		requireCode(t, err, errPasswordMismatch, "pico_service")
	})

	t.Run("unknown user", func(t *testing.T) {
		_, err := tryConnect(t, in, "nobody", "x")
		requireCode(t, err, iproto.ER_NO_SUCH_USER, "nobody")
	})
}

// TestIntegrationAuthLockout: four failed logins in a row lock the user
// (Picodata's rule) for auth.LockDuration: the fifth attempt is refused
// even with the right password, until `picogo unlock` lifts the lock.
// pico_service is never locked.
func TestIntegrationAuthLockout(t *testing.T) {
	in := startOne(t)
	for i := 1; i <= 4; i++ {
		_, err := tryConnect(t, in, "admin", "wrong")
		requireCode(t, err, errPasswordMismatch, "Incorrect password")
		_, err = tryConnect(t, in, "pico_service", "wrong")
		requireCode(t, err, errPasswordMismatch, "Incorrect password")
	}
	_, err := tryConnect(t, in, "admin", itAdminPassword)
	requireCode(t, err, iproto.ER_ACCESS_DENIED, "User 'admin' is blocked after 4 failed logins in a row", "it is unblocked in 4m")
	// Other users are not affected, and pico_service is never locked.
	if info, err := probe(in); err != nil || info.ID != 1 {
		t.Fatalf("pico_service after admin was locked: %+v, %v", info, err)
	}

	out, stderr, code := unlockCLI(t, in, "admin")
	if code != 0 || !strings.Contains(out, in.addr+": admin unlocked") {
		t.Fatalf("picogo unlock admin (exit %d):\n%s%s", code, out, stderr)
	}
	adminConn(t, in)
	out, stderr, code = unlockCLI(t, in, "admin")
	if code != 0 || !strings.Contains(out, in.addr+": admin was not locked") {
		t.Fatalf("picogo unlock admin, not locked (exit %d):\n%s%s", code, out, stderr)
	}
}

// TestIntegrationAuthAdminPasswordBeforeLeader: the admin password is given
// to every instance (PICOGO_ADMIN_PASSWORD) but reaches _pico_user only
// once a leader proposes it. An instance that has no cluster yet (one of
// three founders up: it is still discovering) must still not let admin in
// with an empty password.
func TestIntegrationAuthAdminPasswordBeforeLeader(t *testing.T) {
	ins := newCluster(t, 3)
	ins[0].start() // no quorum: no leader, no admin password applied
	waitAnswering(t, ins[0])

	conn, err := tryConnect(t, ins[0], "admin", "")
	if err == nil {
		_, callErr := call(conn, ".proc_raft_info")
		t.Fatalf("BUG: admin logged in with an EMPTY password while PICOGO_ADMIN_PASSWORD is set "+
			"(the password is not applied until a leader exists); .proc_raft_info as that admin: err=%v", callErr)
	}
	requireCode(t, err, errPasswordMismatch, "admin")
}

// TestIntegrationAuthEarlyAdminLoginsDoNotLockOut: a client that retries
// the admin login with the right password while the cluster is still
// starting must get in once the password is applied: early attempts with
// the right password do not count toward the four-failure lock.
func TestIntegrationAuthEarlyAdminLoginsDoNotLockOut(t *testing.T) {
	ins := newCluster(t, 3)
	ins[0].start() // no quorum yet
	waitAnswering(t, ins[0])
	for i := 1; i <= 4; i++ {
		if _, err := tryConnect(t, ins[0], "admin", itAdminPassword); err != nil {
			t.Logf("early admin login %d with the right password: %v", i, err)
		}
	}
	ins[1].start()
	ins[2].start()
	waitLeader(t, ins...)
	waitAdminPassword(t, ins[0])

	if _, err := tryConnect(t, ins[0], "admin", itAdminPassword); err != nil {
		t.Fatalf("BUG: admin cannot log in with the right password after the cluster started, "+
			"because logins with that password before it was applied counted as failures: %v", err)
	}
}

// TestIntegrationPasswdChangesAPasswordEverywhere: `picogo passwd` sets
// admin's password for the whole cluster: the old one is refused and the
// new one accepted on every instance.
func TestIntegrationPasswdChangesAPasswordEverywhere(t *testing.T) {
	ins := startCluster(t, 3)
	leader := waitSettled(t, ins...)
	for _, in := range ins {
		waitAdminPassword(t, in)
	}
	follower := others(ins, leader)[0]
	const newPassword = "a-new-admin-secret"
	env := []string{"PICOGO_ADMIN_PASSWORD=" + itAdminPassword, "PICOGO_NEW_PASSWORD=" + newPassword}
	stdout, stderr, code := runCLI(t, 30*time.Second, env, "passwd", follower.addr, "admin")
	if code != 0 || !strings.Contains(stdout, "the password of admin is changed") {
		t.Fatalf("picogo passwd: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	for _, in := range ins {
		eventually(t, 10*time.Second, in.name+" takes the new admin password", ins, func() error {
			c, err := tryConnect(t, in, "admin", newPassword)
			if err != nil {
				return err
			}
			c.Close()
			return nil
		})
		if c, err := tryConnect(t, in, "admin", itAdminPassword); err == nil {
			c.Close()
			t.Fatalf("%s still takes the old admin password", in.name)
		}
	}
	_, stderr, code = runCLI(t, 30*time.Second, env, "passwd", follower.addr, "pico_service")
	if code != 2 || !strings.Contains(stderr, "service password") {
		t.Errorf("picogo passwd pico_service: exit %d, stderr %q; want 2 and why", code, stderr)
	}
}

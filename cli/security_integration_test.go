//go:build linux

package cli

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tarantool/go-iproto"
)

// TestIntegrationFailedLoginsDoNotCutAnInstanceOff: a client without
// credentials fails the pico_service and admin logins ten times each on a
// follower. admin is locked there, pico_service is not: after the leader
// is killed, a new leader is elected and the attacked instance follows it
// (the instances still log in to each other). `picogo unlock` then lifts
// admin's lock, reporting the killed instance as unreachable.
func TestIntegrationFailedLoginsDoNotCutAnInstanceOff(t *testing.T) {
	ins := startCluster(t, 3)
	leader, _ := waitLeader(t, ins...)
	for _, in := range ins {
		waitAdminPassword(t, in)
	}
	var victim *instance
	var others []*instance
	for _, in := range ins {
		switch {
		case in != leader && victim == nil:
			victim = in
		case in != leader:
			others = append(others, in)
		}
	}
	victim.note("harness: attacking %s with failed logins", victim.name)

	// Ten failed logins per user, on parallel connections: each refusal
	// is held back longer than the one before (the address's throttling),
	// in parallel they take about the longest delay.
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 10 {
		for _, user := range []string{"pico_service", "admin"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				conn, err := connect(ctx, victim.addr, user, fmt.Sprintf("guess-%d", i))
				if err == nil {
					conn.Close()
					err = fmt.Errorf("BUG: %s logged in with a wrong password", user)
				}
				errs <- fmt.Errorf("%s: %w", user, err)
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if te, ok := serverError(err); !ok || (te.Code != errPasswordMismatch && te.Code != iproto.ER_ACCESS_DENIED) {
			t.Fatalf("a failed login: %v; want a password mismatch or a lock", err)
		}
	}
	_, err := tryConnect(t, victim, "admin", itAdminPassword)
	requireCode(t, err, iproto.ER_ACCESS_DENIED, "User 'admin' is blocked after 4 failed logins in a row")

	leader.kill()
	newLeader, infos := waitLeader(t, append(others, victim)...)
	index, _ := casInsert(t, serviceConn(t, newLeader), 516, "security-test", "written after the attack")
	eventually(t, 10*time.Second, victim.name+" follows the new leader", []*instance{victim}, func() error {
		info, err := probe(victim)
		switch {
		case err != nil:
			return err
		case info.LeaderID != infos[newLeader].ID:
			return fmt.Errorf("%s follows %d, not the new leader %d", victim.name, info.LeaderID, infos[newLeader].ID)
		case info.Applied < index:
			return fmt.Errorf("%s applied %d, the new leader wrote %d", victim.name, info.Applied, index)
		}
		return nil
	})

	// admin is locked on the victim only: unlock it as pico_service.
	out, stderr, code := unlockCLI(t, others[0], "admin")
	if code != 1 || !strings.Contains(out, victim.addr+": admin unlocked") ||
		!strings.Contains(out, others[0].addr+": admin was not locked") || !strings.Contains(out, leader.addr+": ") ||
		!strings.Contains(stderr, "1 of 3 instances did not answer") {
		t.Fatalf("picogo unlock admin (exit %d): want the victim unlocked and the killed leader reported\nstdout:\n%s\nstderr:\n%s",
			code, out, stderr)
	}
	adminConn(t, victim)
}

// unlockCLI runs `picogo unlock pico_service@<via> user` with the service
// password and returns its output and exit code.
func unlockCLI(t *testing.T, via *instance, user string) (stdout, stderr string, code int) {
	t.Helper()
	return runCLI(t, 30*time.Second, []string{"PICOGO_SERVICE_PASSWORD=" + itServicePassword},
		"unlock", "pico_service@"+via.addr, user)
}

// TestIntegrationAdminPasswordVariableIsInitialOnly: PICOGO_ADMIN_PASSWORD
// sets admin's password only when the cluster has none. Restarted with
// another, the instance says it is ignored, and admin's password stays.
func TestIntegrationAdminPasswordVariableIsInitialOnly(t *testing.T) {
	in := startOne(t)
	in.kill()
	in.adminPassword = "another-admin-secret"
	offset := in.logSize()
	in.start()
	waitRunning(t, in)
	eventually(t, 10*time.Second, "a warning that PICOGO_ADMIN_PASSWORD is ignored", []*instance{in}, func() error {
		if !strings.Contains(in.logSince(offset), "PICOGO_ADMIN_PASSWORD is ignored: the cluster already has another admin password") {
			return fmt.Errorf("no warning in the log yet")
		}
		return nil
	})
	adminConn(t, in)
	_, err := tryConnect(t, in, "admin", "another-admin-secret")
	requireCode(t, err, errPasswordMismatch, "admin")
}

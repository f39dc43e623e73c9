package sim

import (
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/auth"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/net/iproto"
	"github.com/picogo/picogo/proc"
)

// Authentication in a simulated world. Every connection logs in first
// (network.go, World.dial) and the instance's login rules (core/auth,
// through runtime.Host.Login) decide: instances log in to each other as
// pico_service with the world's service password, clients and the
// operator as admin with the world's admin password (the operator as
// pico_service to unlock admin), and in some seeds a stranger tries wrong
// passwords from its own host. Both passwords derive from the seed; every
// instance starts with them, as `picogo run` does (PICOGO_ADMIN_PASSWORD,
// the service password).

// strangerAddr is the stranger's host.
const strangerAddr = "stranger"

// strangerTimeout bounds one of the stranger's logins: long enough to hear
// a refusal held back by the longest throttling delay.
const strangerTimeout = auth.MaxDelay + 500*time.Millisecond

// strangerUsers are the users the stranger tries: admin, pico_service,
// guest, and one that does not exist.
var strangerUsers = []string{proc.Admin, proc.PicoService, tables.GuestName, "intruder"}

// drawPasswords draws the world's admin and service passwords.
func (w *World) drawPasswords() {
	w.adminPassword = fmt.Sprintf("admin-%016x", w.authRng.Uint64())
	w.servicePassword = fmt.Sprintf("service-%016x", w.authRng.Uint64())
	w.adminAuth = nil
}

// authOf is what an instance starts with: the admin password as kept
// (node.Config.AdminAuth; made once per world: its SCRAM secret is slow
// to derive, by design) and the hash of the service password.
func (w *World) authOf() (admin *tables.UserAuth, service [20]byte) {
	if w.adminAuth == nil {
		// The salt comes from the password rather than authRng: drawing
		// it would change what every seed draws after it.
		salt := sha256.Sum256([]byte(w.adminPassword))
		a := auth.Secrets(tables.AdminName, w.adminPassword, salt[:auth.SaltSize])
		w.adminAuth = &a
	}
	return w.adminAuth, iproto.Hash2(w.servicePassword)
}

// rightPassword reports whether password is user's, as the world set them
// (guest's is empty; a user the world does not know has none).
func (w *World) rightPassword(user, password string) bool {
	switch user {
	case proc.Admin:
		return password == w.adminPassword
	case proc.PicoService:
		return password == w.servicePassword
	case tables.GuestName:
		return password == ""
	}
	return false
}

// lockKey is a user on one incarnation of an instance (the login rules'
// state lives in the process).
type lockKey struct {
	addr  string
	epoch int
	user  string
}

// hostKey is a client host seen by one incarnation of an instance.
type hostKey struct {
	addr  string
	epoch int
	host  string
}

// checkLogin checks an instance's verdict on a login, as it gives it:
//   - a login is refused only for a wrong password, or for a user locked
//     there (by failed logins, which only a wrong password makes): never
//     pico_service with the service password;
//   - a success is never held back; a refusal is held back by throttling
//     that only the refusals of its own host explain (the stranger's
//     failures never slow another host down).
func (w *World) checkLogin(dst *instance, c *conn, v auth.Verdict) {
	if v.Err == nil {
		if v.Delay != 0 {
			w.fail(fmt.Errorf("login: i%d held back %s's successful login as %s by %v", dst.id, c.from, c.user, v.Delay))
		}
		if !w.rightPassword(c.user, c.password) {
			w.fail(fmt.Errorf("login: i%d let %s log in as %s with a wrong password", dst.id, c.from, c.user))
		}
		return
	}
	host := hostKey{dst.addr, dst.epoch, c.from}
	w.refusals[host]++
	w.trace.printf("i%d login: %s as %s refused, held back %v: %s", dst.id, c.from, c.user, v.Delay, v.Err.Message)
	lock := lockKey{dst.addr, dst.epoch, c.user}
	if v.Locked {
		w.locks[lock] = true
		w.trace.printf("i%d login: %s locked after %d failed logins in a row", dst.id, c.user, auth.MaxFailures)
		if c.user == proc.Admin && !w.scripted {
			w.unlockAdmin(dst, dst.epoch)
		}
	}
	switch most := throttleBound(w.refusals[host]); {
	case v.Delay < auth.FirstDelay || v.Delay > most:
		w.fail(fmt.Errorf("login: i%d held %s's refusal back by %v; its %d refusals there explain %v to %v",
			dst.id, c.from, v.Delay, w.refusals[host], auth.FirstDelay, most))
	case !w.rightPassword(c.user, c.password):
	case c.user == proc.PicoService:
		w.fail(fmt.Errorf("login: i%d refused %s as pico_service with the service password: %s", dst.id, c.from, v.Err.Message))
	case !w.locks[lock]:
		w.fail(fmt.Errorf("login: i%d refused %s as %s with the right password, and no one locked %s there: %s",
			dst.id, c.from, c.user, c.user, v.Err.Message))
	}
}

// throttleBound is the longest delay of a host's n-th refusal (core/auth:
// FirstDelay doubling up to MaxDelay).
func throttleBound(n int) time.Duration {
	d := auth.FirstDelay
	for i := 1; i < n && d < auth.MaxDelay; i++ {
		d *= 2
	}
	return min(d, auth.MaxDelay)
}

// unlockAdmin: the operator, warned that admin is locked on an instance
// (picogo run logs it), lifts the lock there a little later with `picogo
// unlock`, logged in as pico_service (a locked admin cannot log in there);
// again until the instance answers, or the process that holds the lock is
// gone (a restart forgets it).
func (w *World) unlockAdmin(in *instance, epoch int) {
	w.sched.after(int64(between(w.authRng, 200*time.Millisecond, time.Second)), func() {
		if w.failure != nil || in.epoch != epoch || !in.up() {
			return
		}
		w.operatorCallAs(in, proc.PicoService, w.servicePassword, api.UnlockUser{Name: proc.Admin}, func(res any, e *api.Error) {
			if e != nil {
				w.trace.printf("operator: unlock admin on i%d: %s", in.id, e.Message)
				w.unlockAdmin(in, epoch)
				return
			}
			w.trace.printf("operator: unlock admin on i%d: %v", in.id, res)
		})
	})
}

// scheduleStranger starts the stranger, if the seed has one: during the
// fault phase it tries wrong passwords from its own host, Params.Stranger
// in all, in bursts of 1 to MaxFailures+1 against one instance and one
// user — enough to lock admin or guest there, and to be throttled. Each
// try is a new connection, the next one once the refusal arrives.
func (w *World) scheduleStranger() {
	left := w.params.Stranger
	if left == 0 {
		return
	}
	r := w.authRng
	var burst func()
	burst = func() {
		if !w.faultsOn || left <= 0 || w.failure != nil {
			return
		}
		in := w.instances[r.IntN(len(w.instances))]
		user := strangerUsers[r.IntN(len(strangerUsers))]
		n := min(left, 1+r.IntN(auth.MaxFailures+1))
		left -= n
		w.trace.printf("stranger: %d wrong passwords for %s on i%d", n, user, in.id)
		w.strangerTries(in, user, n, func() { w.sched.after(int64(between(r, 0, 300*time.Millisecond)), burst) })
	}
	w.sched.after(int64(between(r, 0, w.params.FaultPhase/2)), burst)
}

// strangerTries logs in to in as user with n wrong passwords in a row,
// then runs then.
func (w *World) strangerTries(in *instance, user string, n int, then func()) {
	if n == 0 || !w.faultsOn || w.failure != nil {
		then()
		return
	}
	password := fmt.Sprintf("guess-%08x", w.authRng.Uint32())
	c := w.dial(strangerAddr, in.addr, user, password, strangerTimeout)
	c.whenReady(func(err error) {
		if _, refused := err.(refusal); !refused {
			w.trace.printf("stranger: login to i%d as %s: %v", in.id, user, err)
		}
		w.strangerTries(in, user, n-1, then)
	})
}

package node

import (
	"fmt"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/auth"
)

// loginClock is the clock of the login rules: the instance's ticks.
func (m *users) loginClock() time.Duration { return time.Duration(m.ticks) * m.cfg.Tick }

// Login checks a client's login (an AUTH) against _pico_user and the login
// rules (core/auth), in any phase. The driver answers the client: at once
// on success, after the verdict's Delay on a refusal (off its loop).
func (n *Node) Login(a auth.Attempt) auth.Verdict {
	return n.users.logins.Login(n.tables, a, n.users.loginClock())
}

// unlockUser lifts the lock failed logins put on a user, on this instance.
// A name that is neither locked nor in _pico_user is a mistake to report.
func (m *users) unlockUser(caller string, r api.UnlockUser, respond responder) {
	if m.logins.Unlock(r.Name, m.loginClock()) {
		m.emit(Note{Event: "users", Detail: fmt.Sprintf("user %s unlocked by %s", r.Name, caller)})
		respond([]any{true}, nil)
		return
	}
	if _, ok, err := m.tables.UserByName(r.Name); err != nil || !ok {
		respond(nil, api.Errorf(api.CodeNoSuchUser, "%s: user '%s' is not found", r.Proc(), r.Name))
		return
	}
	respond([]any{false}, nil)
}

// SCRAMSalt is the salt and iteration count of user's SCRAM-SHA-256
// secret (PostgreSQL's login; made up for a user without one, see
// auth.Logins.SCRAMSalt).
func (n *Node) SCRAMSalt(user string) (salt []byte, iterations int) {
	return n.users.logins.SCRAMSalt(n.tables, user)
}

package node

import (
	"errors"
	"fmt"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/auth"
	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/tables"
)

// users is the module of users and logins: the login rules' state
// (core/auth: failures, locks), admin's password given at start, and
// `.proc_unlock_user`.
type users struct {
	*Node
	logins *auth.Logins
	// adminAuthAt is the tick an admin-auth proposal was made (0: none
	// pending).
	adminAuthAt int
	// committedAtStart is the commit index the disk held at start;
	// adminAuthChecked: checkAdminAuth has looked.
	committedAtStart uint64
	adminAuthChecked bool
}

func newUsers(n *Node) *users {
	return &users{Node: n, logins: auth.New(n.cfg.ServiceAuth, n.cfg.AdminAuth)}
}

func (m *users) register(r *registry) {
	// Logins are checked in every phase, and so are their locks.
	serve(r, anyPhase, m.unlockUser)
	r.tick(tickAdminAuth, running, m.maybeSetAdminAuth)
	r.tick(tickAdminAuth, running, m.checkAdminAuth)
}

// maybeSetAdminAuth: a leader that was given an admin password and finds
// admin without one proposes it (again, if an earlier try came to nothing).
func (m *users) maybeSetAdminAuth() {
	if m.cfg.AdminAuth == nil || m.ra.BasicStatus().State != raft.StateLeader {
		return
	}
	if m.adminAuthAt != 0 && m.ticks-m.adminAuthAt < m.cfg.ticks(m.cfg.RequestTimeout) {
		return
	}
	row, ok, err := m.tables.Get(tables.TablePicoUser, []any{uint64(tables.AdminID)})
	if err != nil || !ok {
		return
	}
	admin, err := tables.UserFrom(row.Values())
	if err != nil || admin.Auth != nil {
		return
	}
	admin.Auth = m.cfg.AdminAuth
	op := tables.DmlOp(tables.Replace(tables.TablePicoUser, admin.Tuple()...))
	m.adminAuthAt = m.ticks
	m.emit(Note{Event: "users", Detail: "proposing the admin password given at start"})
	m.cas.proposeOp(op, nil, m.ra.BasicStatus().Applied, "set admin password", func([]any, *api.Error) {}, func(ra.Reply) ([]any, *api.Error) { return nil, nil })
}

// ErrAdminPasswordIgnored is the alert of an instance given an admin
// password (PICOGO_ADMIN_PASSWORD) when the cluster already holds another:
// the password given at start sets admin's only while admin has none.
var ErrAdminPasswordIgnored = errors.New("PICOGO_ADMIN_PASSWORD is ignored: the cluster already has another admin password " +
	"(the variable sets it only when the cluster has none; see Security in docs/operators.md)")

// checkAdminAuth alerts, once, that the admin password given at start is
// not admin's: it looks once the instance has applied what its disk had
// committed at start, and admin has a password.
func (m *users) checkAdminAuth() {
	if m.adminAuthChecked || m.cfg.AdminAuth == nil || m.ra.BasicStatus().Applied < m.committedAtStart {
		return
	}
	admin, ok, err := m.tables.UserByName(tables.AdminName)
	if err != nil || !ok {
		return
	}
	hash, has, err := admin.ChapSha1()
	if err == nil && !has {
		return
	}
	m.adminAuthChecked = true
	if err == nil && fmt.Sprintf("%x", hash) != m.cfg.AdminAuth.Hash {
		m.emit(Alert{Err: ErrAdminPasswordIgnored})
	}
}

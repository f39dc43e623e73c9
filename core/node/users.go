package node

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/tables"
)

// maybeSetAdminAuth: a leader that was given an admin password and finds
// admin without one proposes it (again, if an earlier try came to nothing).
func (n *Node) maybeSetAdminAuth() {
	if len(n.cfg.AdminAuth) == 0 || n.ra.BasicStatus().State != raft.StateLeader {
		return
	}
	if n.adminAuthAt != 0 && n.ticks-n.adminAuthAt < n.cfg.ticks(n.cfg.RequestTimeout) {
		return
	}
	row, ok, err := n.tables.Get(tables.TablePicoUser, []any{uint64(tables.AdminID)})
	if err != nil || !ok {
		return
	}
	admin, err := tables.UserFrom(row.Values())
	if err != nil || admin.Auth != nil {
		return
	}
	admin.Auth = &tables.UserAuth{Method: tables.AuthChapSha1, Hash: fmt.Sprintf("%x", n.cfg.AdminAuth)}
	op := tables.DmlOp(tables.Replace(tables.TablePicoUser, admin.Tuple()...))
	n.adminAuthAt = n.ticks
	n.emit(Note{Event: "users", Detail: "proposing the admin password given at start"})
	n.proposeOp(op, nil, n.ra.BasicStatus().Applied, "set admin password", func([]any, *api.Error) {}, func(ra.Reply) ([]any, *api.Error) { return nil, nil })
}

// ErrAdminPasswordIgnored is the alert of an instance given an admin
// password (PICOGO_ADMIN_PASSWORD) when the cluster already holds another:
// the password given at start sets admin's only while admin has none.
var ErrAdminPasswordIgnored = errors.New("PICOGO_ADMIN_PASSWORD is ignored: the cluster already has another admin password " +
	"(the variable sets it only when the cluster has none; see Security in docs/operators.md)")

// checkAdminAuth alerts, once, that the admin password given at start is
// not admin's: it looks once the instance has applied what its disk had
// committed at start, and admin has a password.
func (n *Node) checkAdminAuth() {
	if n.adminAuthChecked || len(n.cfg.AdminAuth) == 0 || n.ra.BasicStatus().Applied < n.committedAtStart {
		return
	}
	admin, ok, err := n.tables.UserByName(tables.AdminName)
	if err != nil || !ok {
		return
	}
	hash, has, err := admin.ChapSha1()
	if err == nil && !has {
		return
	}
	n.adminAuthChecked = true
	if err == nil && !bytes.Equal(hash[:], n.cfg.AdminAuth) {
		n.emit(Alert{Err: ErrAdminPasswordIgnored})
	}
}

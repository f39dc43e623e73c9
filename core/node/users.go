package node

import (
	"fmt"

	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/tables"
)

// AuthChapSha1 is how a user's password is kept in _pico_user.auth:
// ["chap-sha1", hex(sha1(sha1(password)))].
const AuthChapSha1 = "chap-sha1"

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
	if err != nil || !ok || row.Values()[3] != nil {
		return
	}
	v := row.Values()
	auth := []any{AuthChapSha1, fmt.Sprintf("%x", n.cfg.AdminAuth)}
	op := tables.DmlOp(tables.Replace(tables.TablePicoUser, v[0], v[1], v[2], auth, v[4]))
	n.adminAuthAt = n.ticks
	n.emit(Note{Event: "users", Detail: "proposing the admin password given at start"})
	n.proposeOp(op, nil, n.ra.BasicStatus().Applied, "set admin password", func([]any, *Error) {}, func(ra.Reply) ([]any, *Error) { return nil, nil })
}

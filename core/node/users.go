package node

import (
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

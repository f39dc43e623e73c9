package node

import (
	"strconv"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/mutant"
	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/tables"
)

// casModule is the module of writes to the global tables: `.proc_cas`, and
// proposeOp for the other modules' writes (propose.go), both checked
// against the keys recent entries write (writtenkeys.go).
type casModule struct {
	*Node
	written writtenKeys // the keys recent log entries write
}

func (m *casModule) register(r *registry) {
	serve(r, running, m.compareAndSwap)
}

// maxOpBytes: an operation larger than this is refused rather than
// replicated.
const maxOpBytes = 1 << 20

// compareAndSwap is cluster-wide compare-and-swap (`.proc_cas`), on the leader only. The
// caller read the tables as of predicate.Index (an entry of the current
// term) and names the key ranges it relied on; if no entry after that index
// — committed or not — writes into those ranges or into the keys the
// operation itself writes, the operation is appended, atomically with the
// check. The reply comes once the entry is applied here: [index, term], or
// the operation's own error (a duplicate key, say), or ProposalDropped if
// another entry took its place. Only a timeout leaves the outcome unknown.
func (m *casModule) compareAndSwap(_ string, r api.Cas, respond responder) {
	keys, err := m.checkCas(r)
	if err != nil {
		respond(nil, err)
		return
	}
	data := r.Op.Encode()
	if len(data) > maxOpBytes {
		respond(nil, api.Errorf(api.CodeTooLarge, "proc_cas: Too much data to replicate: %d bytes (at most %d)", len(data), maxOpBytes))
		return
	}
	req := m.await(respond, r.Proc(), func(rep ra.Reply) ([]any, *api.Error) {
		if res, _ := rep.Result.(tables.Result); res.Err != nil {
			return nil, &api.Error{Code: res.Err.Code, Message: res.Err.Message}
		}
		return []any{rep.Index, rep.Term}, nil
	})
	m.propose(req, data, keys, r.Proc())
}

// checkCas runs Picodata's checks in Picodata's order; it returns the keys
// the operation writes.
func (m *casModule) checkCas(r api.Cas) ([]tables.KeyRef, *api.Error) {
	st := m.ra.BasicStatus()
	p := r.Predicate
	switch {
	case r.ClusterID != m.cfg.ClusterID:
		return nil, api.Errorf(api.CodeClusterIDMis, "cluster_id mismatch: request is for %q, this is %q", r.ClusterID, m.cfg.ClusterID)
	case p.Term != st.Term:
		return nil, api.Errorf(api.CodeTermMismatch, "TermMismatch: operation request from different term %d, current term is %d", p.Term, st.Term)
	case st.State != raft.StateLeader && st.Lead == raft.None:
		return nil, api.Errorf(api.CodeLeaderUnknown, "LeaderUnknown: leader is unknown")
	case st.State != raft.StateLeader:
		return nil, m.notALeader("NotALeader", st.Lead)
	}
	prev, ents := m.ra.Log()
	last := prev + uint64(len(ents))
	switch {
	case p.Index > last:
		return nil, api.Errorf(api.CodeNoSuchIndex, "NoSuchIndex: raft entry at index %d does not exist yet, the last is %d", p.Index, last)
	case p.Index < prev:
		return nil, api.Errorf(api.CodeCompacted, "Compacted: raft index %d is compacted at %d", p.Index, prev)
	}
	if entryTerm, _ := m.ra.Term(p.Index); entryTerm != st.Term {
		return nil, api.Errorf(api.CodeEntryTermMis, "EntryTermMismatch: entry at index %d has term %d, request implies term %d", p.Index, entryTerm, st.Term)
	}
	if err := m.checkAccess(r); err != nil {
		return nil, err
	}
	if err := m.checkOp(r); err != nil {
		return nil, err
	}
	return m.scanConflicts(p.Index, p.Ranges, r.Op, m.cfg.mutants.Has(mutant.CasSkipsUncommitted))
}

// checkAccess: as_user must exist and hold the privilege the operation
// needs: write on each table it changes, create on the universe for DDL.
func (m *casModule) checkAccess(r api.Cas) *api.Error {
	user := r.AsUser
	if r.AsUserName != "" {
		u, ok, _ := m.tables.UserByName(r.AsUserName)
		if !ok {
			return api.Errorf(api.CodeAccessDenied, "AccessDenied: user '%s' does not exist", r.AsUserName)
		}
		user = uint32(u.ID)
	} else if _, ok, _ := m.tables.Get(tables.TablePicoUser, []any{uint64(user)}); !ok {
		return api.Errorf(api.CodeAccessDenied, "AccessDenied: user %d does not exist", user)
	}
	deny := func(priv, obj string) *api.Error {
		return api.Errorf(api.CodeAccessDenied, "AccessDenied: %s access to %s is denied for user %d", priv, obj, user)
	}
	switch r.Op.Kind {
	case tables.OpDdlPrepare, tables.OpDdlCommit, tables.OpDdlAbort:
		if !m.tables.Granted(user, tables.PrivCreate, "universe", 0) {
			return deny("Create", "universe")
		}
	case tables.OpAcl, tables.OpAclChangeAuth:
		if r.Op.Acl != nil && r.Op.Acl.Initiator != user {
			return api.Errorf(api.CodeAccessDenied, "AccessDenied: an ACL change by user %d is proposed as user %d", r.Op.Acl.Initiator, user)
		}
		if denied := aclAccess(m.tables, user, r.Op); denied != "" {
			return api.Errorf(api.CodeAccessDenied, "AccessDenied: %s", denied)
		}
	}
	for _, d := range r.Op.Dmls() {
		if !m.tables.Granted(user, tables.PrivWrite, "table", int64(d.Table)) {
			return deny("Write", "table "+m.tableName(d.Table))
		}
	}
	return nil
}

// checkOp refuses operations that may never go through CaS: plain DML into
// tables only DDL and ACL may change, ranges over them, tables that are not
// operable, empty batches.
func (m *casModule) checkOp(r api.Cas) *api.Error {
	for _, rg := range r.Predicate.Ranges {
		if !tables.DmlAllowed(rg.Table) {
			return api.Errorf(api.CodeTableNotAllowed, "TableNotAllowed: table %s is prohibited for use in a predicate", m.tableName(rg.Table))
		}
	}
	dmls := r.Op.Dmls()
	if r.Op.Kind == tables.OpBatch && len(dmls) == 0 {
		return api.Errorf(api.CodeEmptyBatch, "EmptyBatch: batch of no operations")
	}
	for _, d := range dmls {
		if !tables.DmlAllowed(d.Table) {
			return api.Errorf(api.CodeTableNotAllowed, "TableNotAllowed: table %s cannot be modified by DML directly", m.tableName(d.Table))
		}
		if m.tables.Operable(d.Table) {
			continue // the common case, without a copy of the definition
		}
		def, ok := m.tables.Table(d.Table)
		if !ok {
			return api.Errorf(api.CodeNoSuchSpace, "Space '%d' does not exist", d.Table)
		}
		return api.Errorf(api.CodeTableNotOper, "TableNotOperable: table %s is not operable", def.Name)
	}
	return nil
}

func (m *casModule) tableName(id uint32) string {
	if def, ok := m.tables.Table(id); ok {
		return def.Name
	}
	return "#" + strconv.FormatUint(uint64(id), 10)
}

// conflicts reports whether entry writes into one of the ranges or into one
// of the keys the new operation writes.
func (m *casModule) conflicts(e raft.Entry, schema uint64, ranges []tables.Range, implicit []tables.KeyRef) (bool, error) {
	for _, k := range m.entryKeys(e, schema) {
		for _, rg := range ranges {
			in, err := m.tables.RangeContains(rg, k)
			if err != nil {
				return false, err
			}
			if in {
				return true, nil
			}
		}
		for _, ik := range implicit {
			if ik.Table == k.Table && string(ik.Key) == string(k.Key) {
				return true, nil
			}
		}
	}
	return false, nil
}

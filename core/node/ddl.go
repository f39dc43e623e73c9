package node

import (
	"fmt"

	"github.com/picogo/picogo/core/api"
)

// applySchemaChange serves `.proc_apply_schema_change(term, index,
// timeout)`: once this instance has applied index (whose entry must have
// term: the governor's history), it answers "Ok" if the pending schema
// change can be applied here, or {"Abort": {"reason": ...}} for a
// deterministic conflict (tables.Store.ApplicableHere), or one with the
// sharded data this master holds (data.checkSchema: a unique index over
// rows with equal keys). With nothing pending (committed or aborted
// meanwhile), "Ok": the governor's CaS will find the change gone; so too
// when this instance's engine has applied the change already
// (data.schemaApplied: its commit, lost from the commit index on disk, is
// yet to be applied again), as Picodata answers for a local schema version
// at or past the pending one. A
// committed change is applied from the Raft log: global tables by the
// tables themselves, sharded ones by every member's data module.
func (m *governorModule) applySchemaChange(_ string, r api.ApplySchemaChange, respond responder) {
	proc := r.Proc()
	m.atGovernorIndex(proc, r.Term, r.Index, r.Timeout, respond, func(respond responder) {
		ddl, ver, ok := m.tables.PendingSchemaChange()
		if !ok || m.data.schemaApplied(ver) {
			respond([]any{api.SchemaChangeOk}, nil)
			return
		}
		e := m.tables.ApplicableHere(ddl)
		if e == nil {
			e = m.data.checkSchema(ddl)
		}
		if e != nil {
			m.emit(Note{Event: "ddl", Detail: fmt.Sprintf("%s: schema version %d: abort: %s", proc, ver, e.Message)})
			respond([]any{api.SchemaChangeAbort(e.Message)}, nil)
			return
		}
		respond([]any{api.SchemaChangeOk}, nil)
	})
}

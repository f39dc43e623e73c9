package node

import (
	"fmt"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/ra"
)

// applySchemaChange serves `.proc_apply_schema_change(term, index,
// timeout)`: once this instance has applied index (whose entry must have
// term: the governor's history), it answers "Ok" if the pending schema
// change can be applied here, or {"Abort": {"reason": ...}} for a
// deterministic conflict (tables.Store.ApplicableHere), or one with the
// sharded data this master holds (data.checkSchema: a unique index over
// rows with equal keys). With nothing pending (committed or aborted
// meanwhile), "Ok": the governor's CaS will find the change gone. A
// committed change is applied from the Raft log: global tables by the
// tables themselves, sharded ones by every member's data module.
func (m *governorModule) applySchemaChange(_ string, r api.ApplySchemaChange, respond responder) {
	proc := r.Proc()
	req := m.await(respond, proc, func(ra.Reply) ([]any, *api.Error) {
		if t, ok := m.ra.Term(r.Index); ok && t != r.Term {
			return nil, api.Errorf(api.CodeEntryTermMis, "%s: entry %d has term %d, the governor saw %d", proc, r.Index, t, r.Term)
		}
		ddl, ver, ok := m.tables.PendingSchemaChange()
		if !ok {
			return []any{api.SchemaChangeOk}, nil
		}
		e := m.tables.ApplicableHere(ddl)
		if e == nil {
			e = m.data.checkSchema(ddl)
		}
		if e != nil {
			m.emit(Note{Event: "ddl", Detail: fmt.Sprintf("%s: schema version %d: abort: %s", proc, ver, e.Message)})
			return []any{api.SchemaChangeAbort(e.Message)}, nil
		}
		return []any{api.SchemaChangeOk}, nil
	})
	m.ra.WaitApplied(req, r.Index)
	m.ra.SetDeadline(req, m.cfg.ticks(r.Timeout))
}

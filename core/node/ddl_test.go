package node

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
)

// `.proc_apply_schema_change` answers from the pending change once the
// index is applied; DML into the pending table is TableNotOperable. (No
// ticks here: the governor does not run, the test commits and aborts.)
func TestApplySchemaChange(t *testing.T) {
	s := newSolo(t)
	ask := func() Reply {
		st := s.n.Status()
		term, _ := s.n.Term(st.Applied)
		return s.do(api.ApplySchemaChange{Term: term, Index: st.Applied, Timeout: time.Second})
	}
	def := schema.TableDef{Name: "t", Distribution: schema.DistributionGlobal, Engine: "vinyl",
		Format: []schema.Field{{Name: "k", Type: tuple.TypeString}}, PrimaryKey: []uint32{0}}

	r := ask()
	require.Nil(t, r.Err)
	require.Equal(t, []any{api.SchemaChangeOk}, r.Values, "nothing pending")

	_, ok := s.expect(t, "prepare", api.Cas{ClusterID: "c1", Predicate: s.pred(), Op: tables.PrepareCreateTableOp(def, 0), AsUser: 1}, 0)
	require.True(t, ok)
	r = ask()
	require.Nil(t, r.Err)
	abort, reason, err := api.SchemaChangeResult(r.Values)
	require.NoError(t, err)
	require.True(t, abort)
	require.Contains(t, reason, "global tables use")

	id := s.n.Tables().Tables()
	tid := id[len(id)-1].ID
	s.expect(t, "insert", api.Cas{ClusterID: "c1", Predicate: s.pred(), Op: tables.DmlOp(tables.Insert(tid, "a")), AsUser: 1},
		api.CodeTableNotOper)
	s.expect(t, "abort", api.Cas{ClusterID: "c1", Predicate: s.pred(), Op: tables.DdlAbortOp(0), AsUser: 1}, 0)

	def.Engine = ""
	s.expect(t, "prepare", api.Cas{ClusterID: "c1", Predicate: s.pred(), Op: tables.PrepareCreateTableOp(def, 0), AsUser: 1}, 0)
	r = ask()
	require.Nil(t, r.Err)
	require.Equal(t, []any{api.SchemaChangeOk}, r.Values)

	// The governor's history must be this instance's.
	st := s.n.Status()
	term, _ := s.n.Term(st.Applied)
	r = s.do(api.ApplySchemaChange{Term: term + 1, Index: st.Applied, Timeout: time.Second})
	requireCode(t, r, api.CodeEntryTermMis)
}

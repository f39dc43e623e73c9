package workload

import (
	"testing"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
	lin "github.com/picogo/picogo/linearizability"
	"github.com/stretchr/testify/assert"
)

func TestWrite(t *testing.T) {
	onKey := []tables.Range{{Table: Table, Key: Key("k")}}
	for _, tc := range []struct {
		name          string
		kind          WriteKind
		found, update bool
		op            lin.Op
		dml           tables.Dml
		ranges        []tables.Range
	}{
		{"cas on a present key replaces", Cas, true, false, lin.Cas("k", "old", "new"), tables.Replace(Table, "k", "new"), onKey},
		{"cas on a present key updates", Cas, true, true, lin.Cas("k", "old", "new"),
			tables.Update(Table, []any{"k"}, []any{"=", "value", "new"}), onKey},
		{"cas on an absent key", Cas, false, true, lin.CasAbsent("k", "new"), tables.Replace(Table, "k", "new"), onKey},
		{"insert", Insert, false, false, lin.Insert("k", "new"), tables.Insert(Table, "k", "new"), nil},
		{"put", Put, true, true, lin.Put("k", "new"), tables.Replace(Table, "k", "new"), nil},
	} {
		op, dml, ranges := Write(tc.kind, "k", "new", "old", tc.found, tc.update)
		assert.Equal(t, tc.op, op, tc.name)
		assert.Equal(t, tc.dml, dml, tc.name)
		assert.Equal(t, tc.ranges, ranges, tc.name)
	}
}

func TestRefused(t *testing.T) {
	for code, want := range map[uint32]lin.OutcomeKind{
		tuple.CodeTupleFound:  lin.Exists,
		api.CodeConflictFound: lin.Conflict,
		api.CodeTimeout:       lin.Unknown,
		api.CodeNoConnection:  lin.Unknown,
		api.CodeNotALeader:    lin.Failed,
		api.CodeTermMismatch:  lin.Failed,
	} {
		assert.Equal(t, want, Refused(&api.Error{Code: code}), "code %d", code)
	}
}

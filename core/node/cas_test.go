package node

import (
	"testing"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
	"github.com/stretchr/testify/require"
)

func TestCasAppliesAndAnswersIndexAndTerm(t *testing.T) {
	s := newSolo(t)
	r := s.cas(s.pred(), tables.DmlOp(tables.Insert(kv, "a", "1")))
	require.Nil(t, r.Err)
	st := s.n.Status()
	require.Equal(t, []any{st.Applied, st.Term}, r.Values)
	row, ok, err := s.n.Tables().Get(kv, []any{"a"})
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, []any{"a", "1"}, row.Values())
}

func TestCasErrors(t *testing.T) {
	s := newSolo(t)
	op := tables.DmlOp(tables.Insert(kv, "a", "1"))
	p := s.pred()

	r := s.do(api.Cas{ClusterID: "other", Predicate: p, Op: op})
	requireCode(t, r, api.CodeClusterIDMis)

	bad := p
	bad.Term++
	requireCode(t, s.cas(bad, op), api.CodeTermMismatch)

	bad = p
	bad.Index = p.Index + 10
	requireCode(t, s.cas(bad, op), api.CodeNoSuchIndex)

	// The bootstrap entries are of term 1; this leader's term is 2.
	bad = p
	bad.Index = 1
	requireCode(t, s.cas(bad, op), api.CodeEntryTermMis)

	requireCode(t, s.cas(p, tables.DmlOp(tables.Insert(tables.TablePicoTable, uint64(5000), "x"))), api.CodeTableNotAllowed)
	requireCode(t, s.cas(s.pred(tables.Range{Table: tables.TablePicoUser}), op), api.CodeTableNotAllowed)
	requireCode(t, s.cas(p, tables.BatchOp()), api.CodeEmptyBatch)

	// Access: an unknown user, and guest (no grants), may not write.
	for _, user := range []uint32{7, tables.GuestID} {
		r := s.do(api.Cas{ClusterID: "c1", Predicate: s.pred(), Op: op, AsUser: user})
		requireCode(t, r, api.CodeAccessDenied)
	}
	r = s.do(api.Cas{ClusterID: "c1", Predicate: s.pred(), Op: tables.DmlOp(tables.Insert(kv, "svc", "1")), AsUser: tables.PicoServiceID})
	require.Nil(t, r.Err, "pico_service holds the universe")

	// An operation that fails when applied is a definite error: the row
	// exists.
	require.Nil(t, s.cas(s.pred(), op).Err)
	requireCode(t, s.cas(s.pred(), tables.DmlOp(tables.Insert(kv, "a", "2"))), tuple.CodeTupleFound)
}

func TestCasCompacted(t *testing.T) {
	s := newSolo(t)
	old := s.pred()
	for i := range 5 {
		require.Nil(t, s.cas(s.pred(), tables.DmlOp(tables.Replace(kv, "k", string(rune('a'+i))))).Err)
	}
	require.NoError(t, s.n.ra.TriggerSnapshot())
	require.NoError(t, s.n.ra.PurgeLog(1000))
	s.n.collect()
	s.settle()
	requireCode(t, s.cas(old, tables.DmlOp(tables.Insert(kv, "z", "1"))), api.CodeCompacted)
}

func TestCasStaleIndex(t *testing.T) {
	s := newSolo(t)
	stale := s.pred(tables.Range{Table: kv, Key: key("a")})
	require.Nil(t, s.cas(s.pred(), tables.DmlOp(tables.Replace(kv, "a", "new"))).Err)

	// The same key was written after the predicate's index: conflict.
	r := s.cas(stale, tables.DmlOp(tables.Replace(kv, "a", "mine")))
	requireCode(t, r, api.CodeConflictFound)
	// An unrelated key with the same stale index goes through.
	stale.Ranges = []tables.Range{{Table: kv, Key: key("b")}}
	require.Nil(t, s.cas(stale, tables.DmlOp(tables.Replace(kv, "b", "mine"))).Err)
	// Without explicit ranges the operation's own key still conflicts.
	stale.Ranges = nil
	requireCode(t, s.cas(stale, tables.DmlOp(tables.Replace(kv, "a", "again"))), api.CodeConflictFound)
	// A range over the whole table conflicts with any write into it.
	stale.Ranges = []tables.Range{{Table: kv}}
	requireCode(t, s.cas(stale, tables.DmlOp(tables.Replace(kv, "zzz", "x"))), api.CodeConflictFound)
	row, _, _ := s.n.Tables().Get(kv, []any{"a"})
	require.Equal(t, "new", row.Values()[1])
}

func TestCasBatchIsAtomic(t *testing.T) {
	s := newSolo(t)
	require.Nil(t, s.cas(s.pred(), tables.DmlOp(tables.Insert(kv, "taken", "x"))).Err)
	before := s.n.Tables().StateHash()
	// The second insert fails: nothing of the batch is applied, in either
	// table.
	r := s.cas(s.pred(), tables.BatchOp(
		tables.Insert(kv+1, "o", "1"),
		tables.Insert(kv, "taken", "y"),
		tables.Insert(kv, "fresh", "z")))
	requireCode(t, r, tuple.CodeTupleFound)
	require.Equal(t, before, s.n.Tables().StateHash())
	r = s.cas(s.pred(), tables.BatchOp(tables.Insert(kv+1, "o", "1"), tables.Insert(kv, "fresh", "z")))
	require.Nil(t, r.Err)
	_, ok, _ := s.n.Tables().Get(kv+1, []any{"o"})
	require.True(t, ok)
}

func TestCasUncommittedEntriesConflict(t *testing.T) {
	// A single voter's entry is uncommitted while its own write is out: a
	// CaS on the same key with an older predicate must still see it.
	// (mutants_test.go: the mutant that scans committed entries only lets
	// it through.)
	s := newSolo(t)
	second := s.casTwiceOnOnePredicate()
	require.NotNil(t, second, "the conflict is found at once")
	requireCode(t, *second, api.CodeConflictFound)
}

// casTwiceOnOnePredicate sends two CaS writes of key "a" under the same
// predicate and returns the second one's reply, if it came at once.
func (s *solo) casTwiceOnOnePredicate() *Reply {
	p := s.pred(tables.Range{Table: kv, Key: key("a")})
	s.n.Call(100, "admin", api.Cas{ClusterID: "c1", Predicate: p, Op: tables.DmlOp(tables.Replace(kv, "a", "pending")), AsUser: 1})
	s.n.Call(101, "admin", api.Cas{ClusterID: "c1", Predicate: p, Op: tables.DmlOp(tables.Replace(kv, "a", "mine")), AsUser: 1})
	for _, e := range s.n.TakeEffects() {
		if r, ok := e.(Reply); ok && r.ID == 101 {
			return &r
		}
	}
	return nil
}

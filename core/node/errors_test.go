package node

import (
	"fmt"
	"testing"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/replication"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
	"github.com/stretchr/testify/require"
)

func TestNotALeaderNamesTheLeader(t *testing.T) {
	s := newSolo(t)
	e := s.n.notALeader("NotALeader", 1)
	require.Equal(t, api.CodeNotALeader, e.Code)
	require.Equal(t, "NotALeader: not a leader, the leader is raft id 1 at i1", e.Message)
	require.Equal(t, uint64(1), e.LeaderID)
	// An id with no known address: the id alone.
	require.Equal(t, ".proc_x: not a leader, the leader is raft id 7", s.n.notALeader(".proc_x", 7).Message)
}

func TestCasOfATupleOfTheWrongFieldCount(t *testing.T) {
	s := newSolo(t)
	r := s.cas(s.pred(), tables.DmlOp(tables.Insert(kv, "a")))
	requireCode(t, r, tuple.CodeExactFieldCount)
	require.Equal(t, "Tuple field count 1 does not match space field count 2", r.Err.Message)

	r = s.cas(s.pred(), tables.BatchOp(tables.Insert(kv, "a", "1"), tables.Insert(kv, "b", "2", "3")))
	requireCode(t, r, tuple.CodeExactFieldCount)
	require.Equal(t, "batch op 1: Tuple field count 3 does not match space field count 2", r.Err.Message)
}

func TestCasAsAUserGivenByName(t *testing.T) {
	s := newSolo(t)
	cas := func(user string, k string) Reply {
		return s.do(api.Cas{ClusterID: "c1", Predicate: s.pred(), Op: tables.DmlOp(tables.Insert(kv, k, "1")), AsUserName: user})
	}
	require.Nil(t, cas("admin", "a").Err)
	r := cas("guest", "b")
	requireCode(t, r, api.CodeAccessDenied)
	require.Equal(t, fmt.Sprintf("AccessDenied: Write access to table kv is denied for user %d", tables.GuestID), r.Err.Message)
	r = cas("nobody", "c")
	requireCode(t, r, api.CodeAccessDenied)
	require.Equal(t, "AccessDenied: user 'nobody' does not exist", r.Err.Message)
}

// The router (core/sharding) retries a replica's refusal by api's code; the
// member refuses with replication's.
func TestReadonlyCodeIsOne(t *testing.T) {
	require.Equal(t, api.CodeReadonly, replication.CodeReadonly)
}

package node

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/discovery"
	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/raft"
	"github.com/stretchr/testify/require"
)

// Every procedure of the Proc API is served by exactly one module, and the
// modules serve nothing else but Tarantool's own requests (SELECT and the
// writes).
func TestEveryProcedureHasAModule(t *testing.T) {
	s := newSolo(t)
	served := map[string]bool{}
	for name := range s.n.registry.procs {
		served[name] = true
	}
	for _, p := range api.Procedures {
		require.True(t, served[p.Request.Proc()], "%s has no module", p.Request.Proc())
		delete(served, p.Request.Proc())
	}
	require.Equal(t, map[string]bool{api.Select{}.Proc(): true, api.Insert{}.Proc(): true, api.Replace{}.Proc(): true,
		api.Update{}.Proc(): true, api.Upsert{}.Proc(): true, api.Delete{}.Proc(): true}, served,
		"served but not in api.Procedures")
}

// The tick's steps, in order, and how much work each module put at each.
func TestTickSteps(t *testing.T) {
	s := newSolo(t)
	var counts []int
	for _, works := range s.n.registry.ticks {
		counts = append(counts, len(works))
	}
	// retry, raft, deferred, admin auth (set, check), activate, sentinel, govern, data, route, sql, roles
	require.Equal(t, []int{1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1}, counts)
}

// discovering is an instance still discovering its peers (nobody answers).
func discovering(t *testing.T) *Node {
	t.Helper()
	n, err := New(Config{ClusterID: "c1", Tick: 10 * time.Millisecond, Self: Self{Address: "i1"}, Peers: []string{"i1", "i2"},
		Raft: raft.Config{ElectionTick: 10, HeartbeatTick: 1, Rand: rand.New(rand.NewPCG(1, 1))}}, ra.DiskState{})
	require.NoError(t, err)
	require.Equal(t, PhaseDiscovering, n.Phase())
	n.TakeEffects()
	return n
}

// Before Raft runs, the procedures registered for any phase are served and
// the others answer NotReady.
func TestProceduresBeforeRaftRuns(t *testing.T) {
	n := discovering(t)
	tests := []struct {
		req  api.Request
		code uint32 // 0: answered
	}{
		{api.VersionInfo{}, 0},
		{api.Discover{Request: discovery.Request{TmpID: "t2", Peers: []string{"i1", "i2"}}, Receiver: "i1"}, 0},
		{api.Select{Table: ViewVSpace}, 0},
		{api.GetPeerAddress{RaftID: 1}, 0},
		{api.UnlockUser{Name: "nobody"}, api.CodeNoSuchUser}, // served: the tables are empty
		{api.RaftInfo{}, api.CodeNotReady},
		{api.Cas{ClusterID: "c1"}, api.CodeNotReady},
		{api.RaftJoin{ClusterID: "c1"}, api.CodeNotReady},
		{api.Replication{}, api.CodeNotReady},
		{api.InstanceInfo{}, api.CodeNotReady},
	}
	for i, tt := range tests {
		n.Call(CallID(i+1), "admin", tt.req)
		var got *Reply
		for _, e := range n.TakeEffects() {
			if r, ok := e.(Reply); ok && r.ID == CallID(i+1) {
				got = &r
			}
		}
		require.NotNil(t, got, "%s: no answer", tt.req.Proc())
		if tt.code == 0 {
			require.Nil(t, got.Err, tt.req.Proc())
			continue
		}
		require.NotNil(t, got.Err, tt.req.Proc())
		require.Equal(t, tt.code, got.Err.Code, "%s: %s", tt.req.Proc(), got.Err.Message)
	}
}

type notAProcedure struct{}

func (notAProcedure) Proc() string { return ".proc_not_registered" }

func TestUnknownProcedure(t *testing.T) {
	s := newSolo(t)
	requireCode(t, s.do(notAProcedure{}), api.CodeNoSuchProc)
}

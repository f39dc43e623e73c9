package node

import (
	"testing"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/discovery"
	"github.com/picogo/picogo/core/tables"
	"github.com/stretchr/testify/require"
)

// The lifecycle module's procedures on a running single-voter leader.
func TestLifecycleProcedures(t *testing.T) {
	s := newSolo(t)
	tests := []struct {
		name string
		req  api.Request
		code uint32
		want []any
	}{
		{"discover names the leader", api.Discover{Request: discovery.Request{TmpID: "t", Peers: []string{"i1", "i2"}}, Receiver: "i1"}, 0,
			[]any{discovery.Response{Done: &discovery.Done{LeaderAddress: "i1"}}}},
		{"update to the same target", api.UpdateInstance{InstanceID: "storage_1_1", ClusterID: "c1", TargetGrade: tables.GradeOnline}, 0, nil},
		{"update of nobody", api.UpdateInstance{InstanceID: "nobody", ClusterID: "c1", TargetGrade: tables.GradeOnline}, api.CodeTopology, nil},
		{"expel redirect of nobody", api.ExpelRedirect{ClusterID: "c1", InstanceID: "nobody"}, api.CodeTopology, nil},
		{"expel of another cluster's", api.Expel{ClusterID: "c2", InstanceID: "storage_1_1"}, api.CodeTopology, nil},
		{"join of another cluster", api.RaftJoin{ClusterID: "c2", Address: "i2", Tier: "storage"}, api.CodeJoinRefused, nil},
		{"join into an unknown tier", api.RaftJoin{ClusterID: "c1", Address: "i2", Tier: "nowhere"}, api.CodeJoinRefused, nil},
	}
	for _, tt := range tests {
		r, ok := s.expect(t, tt.name, tt.req, tt.code)
		if !ok {
			continue
		}
		require.Equal(t, tt.want, r.Values, tt.name)
	}
}

// A discovering instance takes part in discovery rather than naming a
// leader.
func TestDiscoverWhileDiscovering(t *testing.T) {
	n := discovering(t)
	n.Call(1, "pico_service", api.Discover{Request: discovery.Request{TmpID: "t2", Peers: []string{"i1", "i2"}, CanVote: true}, Receiver: "i1"})
	for _, e := range n.TakeEffects() {
		if r, ok := e.(Reply); ok {
			require.Nil(t, r.Err)
			require.Nil(t, r.Values[0].(discovery.Response).Done)
			return
		}
	}
	t.Fatal("no answer")
}

// Shutdown: the only voter goes Offline and then stops.
func TestShutdownGoesOfflineThenStops(t *testing.T) {
	s := newSolo(t)
	for range 20 {
		s.n.Tick()
		s.settle()
	}
	require.True(t, s.n.Activated())
	s.n.Shutdown()
	s.settle()
	for i := 0; i < 100 && s.n.Phase() != PhaseStopped; i++ {
		s.n.Tick()
		s.settle()
	}
	require.Equal(t, PhaseStopped, s.n.Phase())
	row, ok := s.n.selfRow()
	require.True(t, ok)
	require.Equal(t, tables.GradeOffline, row.Current.Variant)
}

func TestFirstInstanceBootsAndTheGovernorBringsItOnline(t *testing.T) {
	s := newSolo(t)
	id, ok := s.n.Identity()
	require.True(t, ok)
	require.Equal(t, Identity{ClusterID: "c1", RaftID: 1, InstanceID: "storage_1_1", Address: "i1",
		Tier: "storage", ReplicasetID: "storage_1", FailureDomain: map[string]string{}}, id)
	for range 100 {
		s.n.Tick()
		s.settle()
	}
	top, err := s.n.Tables().ReadTopology()
	require.NoError(t, err)
	require.Len(t, top.Instances, 1)
	inst := top.Instances[0]
	require.Equal(t, tables.Grade{Variant: tables.GradeOnline, Incarnation: 1}, inst.Current)
	require.Equal(t, inst.Target, inst.Current)
	rs, ok := top.Replicaset("storage_1")
	require.True(t, ok)
	require.Equal(t, "storage_1_1", rs.CurrentMasterID)
	require.Equal(t, tables.ReplicasetReady, rs.State)
	rep, buckets, bootstrapped := s.n.Local()
	require.NotNil(t, rep)
	require.True(t, rep.IsMaster)
	require.True(t, bootstrapped)
	require.Equal(t, []BucketRange{{Replicaset: "storage_1", First: 1, Last: tables.DefaultBucketCount}}, buckets)
	info := s.do(api.RuntimeInfo{})
	require.Nil(t, info.Err)
	require.Equal(t, "idle", info.Values[0].(api.RuntimeInfoResult).Internal.GovernorLoopStatus)
}

func TestUpdateAndExpelAreCheckedAndForwardedToTheRules(t *testing.T) {
	s := newSolo(t)
	requireCode(t, s.do(api.UpdateInstance{InstanceID: "storage_1_1", ClusterID: "other", TargetGrade: tables.GradeOffline}), api.CodeTopology)
	requireCode(t, s.do(api.Expel{ClusterID: "other", InstanceID: "storage_1_1"}), api.CodeTopology)
	requireCode(t, s.do(api.Expel{ClusterID: "c1", InstanceID: "nobody"}), api.CodeTopology)
	// The last instance cannot be expelled.
	requireCode(t, s.do(api.Expel{ClusterID: "c1", InstanceID: "storage_1_1"}), api.CodeTopology)
	// A join is refused for a wrong cluster, planned otherwise.
	requireCode(t, s.do(api.RaftJoin{ClusterID: "other", Address: "i2", Tier: "storage"}), api.CodeJoinRefused)
	r := s.do(api.RaftJoin{ClusterID: "c1", Address: "i2", Tier: "storage"})
	require.Nil(t, r.Err)
	res := r.Values[0].(api.JoinResult)
	require.Equal(t, uint64(2), res.Instance.RaftID)
	require.Equal(t, []api.PeerAddress{{RaftID: 1, Address: "i1"}, {RaftID: 2, Address: "i2"}}, res.PeerAddresses)
	// Retried with the uuid it got, the join changes nothing.
	again := s.do(api.RaftJoin{ClusterID: "c1", Address: "i2", Tier: "storage", InstanceUUID: res.Instance.InstanceUUID})
	require.Nil(t, again.Err)
	require.Equal(t, res.Instance, again.Values[0].(api.JoinResult).Instance)
}

// A joiner chooses its instance uuid before its first join request and
// sends the same one on every retry: a retry whose first answer was lost
// (the leader committed it) is then the same join, not a second instance
// claiming this address.
func TestJoinRetriesCarryOneUUID(t *testing.T) {
	n := discovering(t)
	var joins []api.RaftJoin
	answer := func(effects []Effect) {
		for _, e := range effects {
			c, ok := e.(OutCall)
			if !ok {
				continue
			}
			switch r := c.Request.(type) {
			case api.Discover:
				n.CallDone(c.ID, discovery.Response{Done: &discovery.Done{LeaderAddress: "i2"}}, nil)
			case api.RaftJoin:
				joins = append(joins, r)
				n.CallDone(c.ID, nil, api.Errorf(api.CodeTimeout, "timeout"))
			}
		}
	}
	for range 200 {
		n.Tick()
		answer(n.TakeEffects())
		if len(joins) >= 3 {
			break
		}
	}
	require.GreaterOrEqual(t, len(joins), 3, "the join is retried")
	require.NotEmpty(t, joins[0].InstanceUUID)
	for _, j := range joins[1:] {
		require.Equal(t, joins[0].InstanceUUID, j.InstanceUUID)
	}
}

// Seed 3548: the leader took a join in, its answer was lost, and the
// operator expelled the new instance before the joiner's retry (same uuid)
// arrived. The leader answers the retry CodeExpelled, and the joiner stops
// as expelled (Terminate, Expelled) — the cluster is done with it — not as
// an instance that cannot go on (FailStop).
func TestJoinRetriedAfterItsExpelStopsAsExpelled(t *testing.T) {
	n := discovering(t)
	var joins int
	var stop []Effect
	for range 200 {
		n.Tick()
		for _, e := range n.TakeEffects() {
			switch e := e.(type) {
			case OutCall:
				switch e.Request.(type) {
				case api.Discover:
					n.CallDone(e.ID, discovery.Response{Done: &discovery.Done{LeaderAddress: "i2"}}, nil)
				case api.RaftJoin:
					joins++
					n.CallDone(e.ID, nil, api.Errorf(api.CodeExpelled,
						`.proc_raft_join: instance "storage_1_2" with uuid u is expelled`))
				}
			case Terminate, FailStop:
				stop = append(stop, e)
			}
		}
	}
	require.Equal(t, 1, joins, "an expelled joiner does not ask again")
	require.Equal(t, PhaseStopped, n.Phase())
	require.Len(t, stop, 1)
	term, ok := stop[0].(Terminate)
	require.True(t, ok, "it terminates, it does not fail-stop: %#v", stop[0])
	require.True(t, term.Expelled)
	require.False(t, term.Delete)
}

// The leader's side of seed 3548: a join retried with the uuid of a row
// being expelled (or expelled) is answered CodeExpelled — the joiner
// itself is expelled — while a new instance asking for that name is only
// refused.
func TestJoinWithAnExpelledUUIDIsAnsweredExpelled(t *testing.T) {
	s := newSolo(t)
	r := s.do(api.RaftJoin{ClusterID: "c1", Address: "i2", Tier: "storage"})
	require.Nil(t, r.Err)
	joined := r.Values[0].(api.JoinResult).Instance
	require.Nil(t, s.do(api.Expel{ClusterID: "c1", InstanceID: joined.InstanceID}).Err)
	requireCode(t, s.do(api.RaftJoin{ClusterID: "c1", Address: "i2", Tier: "storage", InstanceUUID: joined.InstanceUUID}),
		api.CodeExpelled)
	requireCode(t, s.do(api.RaftJoin{ClusterID: "c1", InstanceID: joined.InstanceID, Address: "i3", Tier: "storage"}),
		api.CodeJoinRefused)
}

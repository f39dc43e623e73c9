package node

import (
	"testing"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/tables"
	"github.com/stretchr/testify/require"
)

// The receiving side of the governor's RPCs: each sets what Local shows,
// and the sharding ones only once the governor's (term, index) is applied
// here with that term.
func TestGovernorRPCs(t *testing.T) {
	s := newSolo(t)
	for range 100 { // the governor makes the replicaset ready
		s.n.Tick()
		s.settle()
	}
	st := s.n.Status()
	term, index := st.Term, st.Applied
	tests := []struct {
		name  string
		req   api.Request
		code  uint32
		check func(t *testing.T, rep *ReplicationState, buckets []BucketRange, bootstrapped bool)
	}{
		{"replica", api.Replication{IsMaster: false, Peers: []string{"i1", "i2"}}, 0,
			func(t *testing.T, rep *ReplicationState, _ []BucketRange, _ bool) {
				require.Equal(t, &ReplicationState{IsMaster: false, Peers: []string{"i1", "i2"}}, rep)
			}},
		{"master", api.Replication{IsMaster: true, Peers: []string{"i1"}}, 0,
			func(t *testing.T, rep *ReplicationState, _ []BucketRange, _ bool) { require.True(t, rep.IsMaster) }},
		{"sharding at another term", api.Sharding{Term: term + 1, Index: index, Timeout: time.Second}, api.CodeEntryTermMis, nil},
		{"sharding", api.Sharding{Term: term, Index: index, Timeout: time.Second}, 0,
			func(t *testing.T, _ *ReplicationState, buckets []BucketRange, bootstrapped bool) {
				require.Equal(t, []BucketRange{{Replicaset: "storage_1", First: 1, Last: tables.DefaultBucketCount}}, buckets)
			}},
		{"bootstrap", api.ShardingBootstrap{Term: term, Index: index, Timeout: time.Second}, 0,
			func(t *testing.T, _ *ReplicationState, buckets []BucketRange, bootstrapped bool) {
				require.True(t, bootstrapped)
				require.Equal(t, []BucketRange{{Replicaset: "storage_1", First: 1, Last: tables.DefaultBucketCount}}, buckets)
			}},
	}
	for _, tt := range tests {
		_, ok := s.expect(t, tt.name, tt.req, tt.code)
		if !ok {
			continue
		}
		rep, buckets, bootstrapped := s.n.Local()
		tt.check(t, rep, buckets, bootstrapped)
	}
}

// The governor's status, as `.proc_runtime_info` and /metrics show it.
func TestGovernorStatus(t *testing.T) {
	tests := []struct {
		st   governorState
		want string
	}{
		{governorState{}, "not a leader"},
		{governorState{leading: true, busy: true, step: "conf change"}, "busy: conf change"},
		{governorState{leading: true, step: "to online", lastErr: "no route"}, "retrying, last error: no route"},
		{governorState{leading: true, step: "to online"}, "planning"},
		{governorState{leading: true, step: "idle", backingOff: []string{"i2", "i3"}}, "idle, backing off: i2, i3"},
		{governorState{leading: true, step: "idle"}, "idle"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, tt.st.status())
	}
}

package node

import (
	"fmt"
	"testing"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/governor"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/vclock"
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

// switchoverSolo is a solo instance whose tables also hold a replicaset r2
// of a tier that does not vote, on two instances elsewhere: i2 (raft id
// 2) its current master, i3 (raft id 3) its target master. Calls to i2 and
// i3 are answered by answer; what they were asked is logged with r2's
// current master at the time.
type switchoverSolo struct {
	*solo
	log    []string
	answer func(to string, req api.Request) (any, *api.Error)
}

func newSwitchoverSolo(t *testing.T) *switchoverSolo {
	s := &switchoverSolo{solo: newSoloWith(t, Config{SentinelTimeout: time.Hour, CallTimeout: 3 * time.Second})}
	for range 100 {
		s.n.Tick()
		s.settle()
	}
	tier := tables.Tier{Name: "cold", ReplicationFactor: 2, CurrentVshardConfigVersion: 1, TargetVshardConfigVersion: 1,
		VshardBootstrapped: true, BucketCount: 30}
	rs := tables.Replicaset{ReplicasetID: "r2", ReplicasetUUID: "r2-uuid", CurrentMasterID: "i2", TargetMasterID: "i3",
		Tier: "cold", Weight: 1, State: tables.ReplicasetReady, CurrentConfigVersion: 1, TargetConfigVersion: 2}
	ops := []tables.Dml{tables.Replace(tables.TablePicoTier, tier.Tuple()...),
		tables.Replace(tables.TablePicoReplicaset, rs.Tuple()...)}
	for _, id := range []uint64{2, 3} {
		name := fmt.Sprintf("i%d", id)
		i := tables.Instance{InstanceID: name, InstanceUUID: name + "-uuid", RaftID: id, ReplicasetID: "r2",
			ReplicasetUUID: "r2-uuid", Current: tables.Grade{Variant: tables.GradeOnline, Incarnation: 1},
			Target: tables.Grade{Variant: tables.GradeOnline, Incarnation: 1}, FailureDomain: map[string]string{}, Tier: "cold"}
		ops = append(ops, tables.Replace(tables.TablePicoInstance, i.Tuple()...),
			tables.Replace(tables.TablePicoPeerAddress, id, name))
	}
	r := s.cas(s.pred(), tables.BatchOp(ops...))
	require.Nil(t, r.Err, "%v", r.Err)
	return s
}

func (s *switchoverSolo) r2() tables.Replicaset {
	top, err := s.n.Tables().ReadTopology()
	require.NoError(s.t, err)
	rs, ok := top.Replicaset("r2")
	require.True(s.t, ok)
	return rs
}

// run ticks n times, carrying out effects as solo.settle does; calls to i2
// and i3 (but their Raft messages) go to answer.
func (s *switchoverSolo) run(n int) {
	s.elsewhere = func(e OutCall) bool {
		if (e.To != "i2" && e.To != "i3") || e.Request.Proc() == ".proc_raft_interact" {
			return false
		}
		s.log = append(s.log, fmt.Sprintf("%s %s, master %s", e.To, e.Request.Proc(), s.r2().CurrentMasterID))
		result, err := s.answer(e.To, e.Request)
		s.n.CallDone(e.ID, result, err)
		return true
	}
	for range n {
		s.n.Tick()
		s.settle()
	}
}

// The governor's executor switches a replicaset's master in order: the
// demote of the old master, the promote of the new one with the old one's
// vclock, then the CaS; and when the demote fails, a failover: the vclocks
// of the members it can reach, then the promote, then the CaS.
func TestGovernorSwitchover(t *testing.T) {
	// A vclock as a result arrives: the array of results, a map as msgpack
	// decodes it.
	wire := func(m map[any]any) any { return []any{m} }
	var promoted []api.Request
	answer := func(demote *api.Error) func(to string, req api.Request) (any, *api.Error) {
		return func(to string, req api.Request) (any, *api.Error) {
			switch req.(type) {
			case api.ReplicationDemote:
				if demote != nil {
					return nil, demote
				}
				return wire(map[any]any{int8(2): int8(12), int8(3): int8(1)}), nil
			case api.GetVClock:
				return wire(map[any]any{int8(2): int8(10), int8(3): int8(1)}), nil
			case api.ReplicationPromote:
				promoted = append(promoted, req)
				return []any{}, nil
			}
			return []any{}, nil
		}
	}

	t.Run("demote, promote, CaS", func(t *testing.T) {
		promoted = nil
		s := newSwitchoverSolo(t)
		s.answer = answer(nil)
		s.run(30)
		require.Equal(t, []string{
			"i2 .proc_replication_demote, master i2",
			"i3 .proc_replication_promote, master i2",
			"i2 .proc_replication, master i3",
			"i3 .proc_replication, master i3",
		}, s.log)
		require.Equal(t, []api.Request{api.ReplicationPromote{VClock: vclock.VClock{2: 12, 3: 1}, Timeout: 3 * time.Second}}, promoted)
		rs := s.r2()
		require.Equal(t, "i3", rs.CurrentMasterID)
		require.Equal(t, uint64(2), rs.CurrentConfigVersion)
		require.Len(t, rs.PromotionVclock, 2)
		require.Equal(t, "idle", s.n.GovernorStatus())
	})

	t.Run("the demote fails: a failover to the reachable member", func(t *testing.T) {
		promoted = nil
		s := newSwitchoverSolo(t)
		s.answer = answer(&api.Error{Code: api.CodeNoConnection, Message: "i2 is gone"})
		s.run(30)
		require.Equal(t, []string{
			"i2 .proc_replication_demote, master i2",
			"i3 .proc_get_vclock, master i2",
			"i3 .proc_replication_promote, master i2",
			"i2 .proc_replication, master i3",
			"i3 .proc_replication, master i3",
		}, s.log, "step 5 waits for i2's backoff to end: the old master hears it is a replica")
		require.Equal(t, []api.Request{api.ReplicationPromote{VClock: vclock.VClock{2: 10, 3: 1}, Timeout: 3 * time.Second}}, promoted)
		require.Equal(t, "i3", s.r2().CurrentMasterID)
	})
}

// TestGovernorIdleIsStatusIdle checks GovernorIdle against the status
// string it stands for, in every combination of what status reads.
func TestGovernorIdleIsStatusIdle(t *testing.T) {
	idles := 0
	for _, leading := range []bool{false, true} {
		for _, busy := range []bool{false, true} {
			for _, step := range []string{governor.StepIdle, "raft conf change"} {
				for _, lastErr := range []string{"", "timeout"} {
					for _, backingOff := range [][]string{nil, {"i2"}} {
						g := governorState{leading: leading, busy: busy, step: step, lastErr: lastErr, backingOff: backingOff}
						require.Equal(t, g.status() == "idle", g.idle(), "%+v: status %q", g, g.status())
						if g.idle() {
							idles++
						}
					}
				}
			}
		}
	}
	require.Equal(t, 2, idles, "idle with or without a last error") // the test reaches both answers
}

package governor

import (
	"bytes"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/vclock"
)

// Grades.
func off(i uint64) tables.Grade { return tables.Grade{Variant: tables.GradeOffline, Incarnation: i} }
func rep(i uint64) tables.Grade { return tables.Grade{Variant: tables.GradeReplicated, Incarnation: i} }
func shi(i uint64) tables.Grade {
	return tables.Grade{Variant: tables.GradeShardingInitialized, Incarnation: i}
}
func on(i uint64) tables.Grade   { return tables.Grade{Variant: tables.GradeOnline, Incarnation: i} }
func expd(i uint64) tables.Grade { return tables.Grade{Variant: tables.GradeExpelled, Incarnation: i} }

// topo builds a Topology by hand.
type topo struct {
	tables.Topology
	tierNow string // the tier new replicasets go to
}

func newTopo() *topo { return &topo{Topology: tables.Topology{Addresses: map[uint64]string{}}} }

// tier adds a tier; replicasets created after it belong to it.
func (t *topo) tier(name string, rf uint64, canVote bool) *topo {
	t.Tiers = append(t.Tiers, tables.Tier{Name: name, ReplicationFactor: rf, CanVote: canVote,
		BucketCount: tables.DefaultBucketCount})
	t.tierNow = name
	return t
}

func addr(raftID uint64) string { return fmt.Sprintf("10.0.0.%d:3301", raftID) }

// add adds an instance (address 10.0.0.<raft id>:3301). Its replicaset is
// created if new, as a join creates it: master the newcomer, config version
// 0 of 1, not ready, in the latest tier. fd is "KEY=VALUE" pairs.
func (t *topo) add(id string, raftID uint64, rs string, cur, tgt tables.Grade, fd ...string) *topo {
	tier := t.tierNow
	if r, ok := t.Replicaset(rs); ok {
		tier = r.Tier
	} else {
		t.Replicasets = append(t.Replicasets, tables.Replicaset{ReplicasetID: rs, ReplicasetUUID: rs + "-uuid",
			CurrentMasterID: id, TargetMasterID: id, Tier: tier, State: tables.ReplicasetNotReady,
			TargetConfigVersion: 1, PromotionVclock: map[string]any{}})
	}
	domain := map[string]string{}
	for _, kv := range fd {
		k, v, _ := strings.Cut(kv, "=")
		domain[k] = v
	}
	t.Instances = append(t.Instances, tables.Instance{InstanceID: id, InstanceUUID: id + "-uuid", RaftID: raftID,
		ReplicasetID: rs, ReplicasetUUID: rs + "-uuid", Current: cur, Target: tgt, FailureDomain: domain, Tier: tier})
	t.Addresses[raftID] = addr(raftID)
	return t
}

// rs edits a replicaset row.
func (t *topo) rs(id string, edit func(*tables.Replicaset)) *topo {
	i := slices.IndexFunc(t.Replicasets, func(r tables.Replicaset) bool { return r.ReplicasetID == id })
	edit(&t.Replicasets[i])
	return t
}

// tierEdit edits a tier row.
func (t *topo) tierEdit(name string, edit func(*tables.Tier)) *topo {
	i := slices.IndexFunc(t.Tiers, func(x tables.Tier) bool { return x.Name == name })
	edit(&t.Tiers[i])
	return t
}

// settled marks replicasets ready with weight 1, every version caught up
// and the tiers bootstrapped.
func (t *topo) settled() *topo {
	for k := range t.Replicasets {
		r := &t.Replicasets[k]
		r.State, r.Weight, r.CurrentConfigVersion = tables.ReplicasetReady, 1, r.TargetConfigVersion
	}
	for k := range t.Tiers {
		x := &t.Tiers[k]
		x.TargetVshardConfigVersion = 1
		x.CurrentVshardConfigVersion, x.VshardBootstrapped = 1, true
	}
	return t
}

func voters(ids ...uint64) raft.ConfState { return raft.ConfState{Voters: ids} }

func withLearners(cs raft.ConfState, ids ...uint64) raft.ConfState {
	cs.Learners = ids
	return cs
}

// sim is a small executor over a real tables.Store: it plans, pretends
// every RPC succeeds (recording what each instance was told), applies the
// CaS batch, moves leadership and applies conf changes to a ConfState the
// way core/raft does (joint consensus left automatically after one more
// step).
type sim struct {
	t           testing.TB
	store       *tables.Store
	self        uint64
	conf        raft.ConfState
	unreachable map[string]bool
	got         map[string][]api.Request
	trace       []string
	// answers are what instances answer .proc_apply_schema_change ("Ok"
	// if not set).
	answers map[string]any
	// vclocks are what instances answer .proc_replication_demote and
	// .proc_get_vclock (empty if not set); sync are the tiers with
	// synchronous replication.
	vclocks map[string]vclock.VClock
	sync    map[string]bool
	// writable are the instances told is_master or promoted, and not
	// told otherwise since; log is every RPC ("instance proc") and CaS
	// ("cas: step"), in order.
	writable map[string]bool
	log      []string
	// moveSizes are the executor's: after each move, MoveSize of the rows
	// it copied (none: the source answers one empty page).
	moveSizes map[string]uint64
}

func newSim(t testing.TB, top *topo, self uint64, conf raft.ConfState) *sim {
	s := &sim{t: t, store: tables.New(), self: self, conf: conf, unreachable: map[string]bool{},
		got: map[string][]api.Request{}, vclocks: map[string]vclock.VClock{}, sync: map[string]bool{},
		writable: map[string]bool{}, moveSizes: map[string]uint64{}}
	var ops []tables.Dml
	for _, x := range top.Tiers {
		ops = append(ops, tables.Replace(tables.TablePicoTier, x.Tuple()...))
	}
	for _, r := range top.Replicasets {
		ops = append(ops, tables.Replace(tables.TablePicoReplicaset, r.Tuple()...))
	}
	for _, i := range top.Instances {
		ops = append(ops, tables.Replace(tables.TablePicoInstance, i.Tuple()...))
	}
	for _, id := range slices.Sorted(maps.Keys(top.Addresses)) {
		ops = append(ops, tables.Replace(tables.TablePicoPeerAddress, id, top.Addresses[id]))
	}
	for _, b := range top.Buckets {
		ops = append(ops, tables.Replace(tables.TablePicoBucket, b.Tuple()...))
	}
	res := s.store.ApplyOp(tables.BatchOp(ops...))
	require.Nil(t, res.Err)
	return s
}

func (s *sim) topology() tables.Topology {
	top, err := s.store.ReadTopology()
	require.NoError(s.t, err)
	// The tiers the test made synchronous (as `replication_mode: sync`
	// would have at boot).
	for i := range top.Tiers {
		top.Tiers[i].IsSync = top.Tiers[i].IsSync || s.sync[top.Tiers[i].Name]
	}
	return top
}

func (s *sim) input() Input {
	return Input{Self: s.self, Topology: s.topology(), Conf: s.conf, Unreachable: s.unreachable, MoveSizes: s.moveSizes}
}

// plan plans, and checks the plan is deterministic: planned again, and
// from the topology's rows in reverse order, it is the same.
func (s *sim) plan() Action {
	in := s.input()
	before := fmt.Sprintf("%#v", in)
	a := Plan(in)
	// The node passes its shared topology (tables.Store.Topology): Plan
	// must not write into its input.
	require.Equal(s.t, before, fmt.Sprintf("%#v", in), "Plan changed its input")
	require.Equal(s.t, a, Plan(in), "Plan is not deterministic")
	rev := in
	rev.Topology.Instances = slices.Clone(in.Topology.Instances)
	rev.Topology.Replicasets = slices.Clone(in.Topology.Replicasets)
	rev.Topology.Tiers = slices.Clone(in.Topology.Tiers)
	slices.Reverse(rev.Topology.Instances)
	slices.Reverse(rev.Topology.Replicasets)
	slices.Reverse(rev.Topology.Tiers)
	require.True(s.t, reflect.DeepEqual(a, Plan(rev)), "Plan depends on the order of the rows")
	return a
}

// step plans and executes one action.
func (s *sim) step() Action {
	a := s.plan()
	s.exec(a)
	return a
}

func (s *sim) exec(a Action) {
	t := s.t
	t.Helper()
	wasJoint := s.conf.Joint()
	if _, idle := a.(Idle); !idle || !wasJoint { // idle while joint: raft is about to leave it
		s.trace = append(s.trace, a.Step()+": "+a.Detail())
	}
	top := s.topology()
	switch a := a.(type) {
	case Idle:
	case TransferLeadership:
		require.Contains(t, s.conf.Voters, a.ToRaftID, "transfer to a non-voter")
		require.NotEqual(t, s.self, a.ToRaftID)
		s.self = a.ToRaftID
	case ConfChange:
		require.False(t, wasJoint, "conf change proposed while joint")
		cs, err := applyConf(s.conf, a.Change)
		require.NoError(t, err, "conf change %s from %s", a.Change, s.conf)
		require.Contains(t, cs.Voters, s.self, "step 2 demoted the leader")
		s.conf = cs
	case Batch:
		rpcs, cas := a.Batch()
		require.NotEmpty(t, cas.Ops, "a %s step must write something", a.Step())
		for _, rpc := range rpcs {
			i, ok := top.Instance(rpc.InstanceID)
			require.True(t, ok, "RPC to unknown %s", rpc.InstanceID)
			require.Equal(t, tables.GradeOnline, i.Target.Variant, "RPC to %s whose target is %s", i.InstanceID, i.Target)
			require.False(t, s.unreachable[i.InstanceID], "RPC to unreachable %s", i.InstanceID)
			require.Equal(t, i.RaftID, rpc.RaftID)
			require.Equal(t, top.Addresses[i.RaftID], rpc.Address)
			s.got[i.InstanceID] = append(s.got[i.InstanceID], rpc.Call)
			s.log = append(s.log, i.InstanceID+" "+rpc.Call.Proc())
			if r, ok := rpc.Call.(api.Replication); ok {
				s.writable[i.InstanceID] = r.IsMaster
			}
		}
		s.applyCaS(a, cas)
		s.oneMaster()
	case Switchover:
		s.switchover(a, top)
	case MoveBuckets:
		// The source answers one empty page (Next 0): nothing to import.
		for _, rpc := range []RPC{a.Export, a.Import} {
			i, ok := top.Instance(rpc.InstanceID)
			require.True(t, ok, "RPC to unknown %s", rpc.InstanceID)
			require.Equal(t, tables.GradeOnline, i.Target.Variant, "RPC to %s whose target is %s", i.InstanceID, i.Target)
			require.False(t, s.unreachable[i.InstanceID], "RPC to unreachable %s", i.InstanceID)
			require.Equal(t, i.RaftID, rpc.RaftID)
			require.Equal(t, top.Addresses[i.RaftID], rpc.Address)
		}
		s.got[a.Export.InstanceID] = append(s.got[a.Export.InstanceID], a.Export.Call)
		s.log = append(s.log, a.Export.InstanceID+" "+a.Export.Call.Proc())
		s.applyCaS(a, a.Flip)
		s.moveSizes[a.Tier] = MoveSize(0, a.Range.Count())
	case ApplySchemaChange:
		var answers []any
		for _, rpc := range a.RPCs {
			i, ok := top.Instance(rpc.InstanceID)
			require.True(t, ok, "RPC to unknown %s", rpc.InstanceID)
			require.False(t, s.unreachable[i.InstanceID], "RPC to unreachable %s", i.InstanceID)
			require.Equal(t, top.Addresses[i.RaftID], rpc.Address)
			s.got[i.InstanceID] = append(s.got[i.InstanceID], rpc.Call)
			ans, ok := s.answers[i.InstanceID]
			if !ok {
				ans = api.SchemaChangeOk
			}
			answers = append(answers, []any{ans})
		}
		for _, r := range a.Ranges {
			require.NoError(t, s.store.CheckRange(r))
		}
		op, _, err := a.SchemaChangeOutcome(answers)
		require.NoError(t, err)
		res := s.store.ApplyOp(op)
		require.Nil(t, res.Err, "%s: %s", a.Step(), a.Detail())
	default:
		t.Fatalf("unknown step %T", a)
	}
	if wasJoint {
		s.conf = raft.ConfState{Voters: s.conf.Voters, Learners: union(s.conf.Learners, s.conf.LearnersNext)}
	}
}

func (s *sim) applyCaS(a Action, cas CaS) {
	s.t.Helper()
	for _, r := range cas.Ranges {
		require.NoError(s.t, s.store.CheckRange(r))
	}
	res := s.store.ApplyOp(tables.BatchOp(cas.Ops...))
	require.Nil(s.t, res.Err, "%s: %s", a.Step(), a.Detail())
	s.log = append(s.log, "cas: "+a.Step())
}

// switchover carries out a Switchover as core/node does: the demote or the
// vclock survey, then the promote if any, then the CaS; each instance
// answers its vclock as msgpack decodes it.
func (s *sim) switchover(a Switchover, top tables.Topology) {
	t := s.t
	t.Helper()
	call := func(rpc RPC) any {
		i, ok := top.Instance(rpc.InstanceID)
		require.True(t, ok, "RPC to unknown %s", rpc.InstanceID)
		require.False(t, s.unreachable[i.InstanceID], "RPC to unreachable %s", i.InstanceID)
		require.Equal(t, i.RaftID, rpc.RaftID)
		require.Equal(t, top.Addresses[i.RaftID], rpc.Address)
		s.got[i.InstanceID] = append(s.got[i.InstanceID], rpc.Call)
		s.log = append(s.log, i.InstanceID+" "+rpc.Call.Proc())
		return []any{wireVClock(s.vclocks[i.InstanceID])}
	}
	var p Promotion
	var err error
	if a.Demote != nil {
		require.Equal(t, a.From, a.Demote.InstanceID, "demote goes to the old master")
		ans := call(*a.Demote)
		s.writable[a.From] = false
		p, err = a.AfterDemote(ans)
	} else {
		var answers []any
		for _, rpc := range a.Survey {
			answers = append(answers, call(rpc))
		}
		p, err = a.AfterSurvey(answers)
	}
	require.NoError(t, err)
	if p.Promote != nil {
		call(*p.Promote)
		s.writable[p.Master] = true
	}
	s.applyCaS(a, p.CaS)
	s.oneMaster()
}

// oneMaster fails the test if a replicaset has two writable members
// (unreachable ones aside: a failover cannot tell them).
func (s *sim) oneMaster() {
	top := s.topology()
	masters := map[string][]string{}
	for _, i := range top.Instances {
		if s.writable[i.InstanceID] && !s.unreachable[i.InstanceID] {
			masters[i.ReplicasetID] = append(masters[i.ReplicasetID], i.InstanceID)
		}
	}
	for _, rs := range slices.Sorted(maps.Keys(masters)) {
		require.LessOrEqual(s.t, len(masters[rs]), 1, "%s has writable masters %v", rs, masters[rs])
	}
}

// wireVClock is a vclock as msgpack decodes it into an interface: a
// map[any]any of the smallest integer types.
func wireVClock(vc vclock.VClock) any {
	raw, err := msgpack.Marshal(vc)
	if err != nil {
		panic(err)
	}
	dec := msgpack.NewDecoder(bytes.NewReader(raw))
	dec.SetMapDecoder(func(d *msgpack.Decoder) (any, error) { return d.DecodeUntypedMap() })
	v, err := dec.DecodeInterface()
	if err != nil {
		panic(err)
	}
	return v
}

// as is the step a is, failing the test if it is another.
func as[T Action](t testing.TB, a Action) T {
	t.Helper()
	v, ok := a.(T)
	require.True(t, ok, "%s: %s", a.Step(), a.Detail())
	return v
}

// run steps until idle (and not joint); it fails after max steps.
func (s *sim) run(max int) []string {
	s.t.Helper()
	from := len(s.trace)
	for n := 0; n < max; n++ {
		joint := s.conf.Joint()
		a := s.step()
		if _, idle := a.(Idle); idle && !joint {
			return s.trace[from:]
		}
	}
	s.t.Fatalf("not idle after %d steps:\n%s", max, strings.Join(s.trace[from:], "\n"))
	return nil
}

// steps are the step names of a trace.
func steps(trace []string) []string {
	out := make([]string, len(trace))
	for k, line := range trace {
		out[k], _, _ = strings.Cut(line, ": ")
	}
	return out
}

// set edits an instance row in the store (as .proc_update_instance would).
func (s *sim) set(id string, edit func(*tables.Instance)) {
	top := s.topology()
	i, ok := top.Instance(id)
	require.True(s.t, ok, id)
	edit(&i)
	require.Nil(s.t, s.store.ApplyOp(tables.DmlOp(tables.Replace(tables.TablePicoInstance, i.Tuple()...))).Err)
}

// goOnline asks for target Online as .proc_update_instance does: a
// restart, so the instance is read-only until told otherwise (goOffline
// and expel stop it).
func (s *sim) goOnline(id string) {
	s.writable[id] = false
	s.set(id, func(i *tables.Instance) {
		i.Target = on(max(i.Current.Incarnation, i.Target.Incarnation) + 1)
	})
}

func (s *sim) goOffline(id string) {
	s.writable[id] = false
	s.set(id, func(i *tables.Instance) { i.Target = off(i.Target.Incarnation) })
}

func (s *sim) expel(id string) {
	s.writable[id] = false
	s.set(id, func(i *tables.Instance) { i.Target = expd(i.Target.Incarnation) })
}

// join adds an instance the way .proc_raft_join does: Offline/Offline, its
// address, a new replicaset or the named one's target config version bumped.
func (s *sim) join(id string, raftID uint64, rs, tier string, fd ...string) {
	top := s.topology()
	ops := []tables.Dml{tables.Replace(tables.TablePicoPeerAddress, raftID, addr(raftID))}
	if r, ok := top.Replicaset(rs); ok {
		r.TargetConfigVersion++
		ops = append(ops, tables.Replace(tables.TablePicoReplicaset, r.Tuple()...))
	} else {
		ops = append(ops, tables.Replace(tables.TablePicoReplicaset, tables.Replicaset{ReplicasetID: rs,
			ReplicasetUUID: rs + "-uuid", CurrentMasterID: id, TargetMasterID: id, Tier: tier,
			State: tables.ReplicasetNotReady, TargetConfigVersion: 1}.Tuple()...))
	}
	domain := map[string]string{}
	for _, kv := range fd {
		k, v, _ := strings.Cut(kv, "=")
		domain[k] = v
	}
	i := tables.Instance{InstanceID: id, InstanceUUID: id + "-uuid", RaftID: raftID, ReplicasetID: rs,
		ReplicasetUUID: rs + "-uuid", Current: off(0), Target: off(0), FailureDomain: domain, Tier: tier}
	ops = append(ops, tables.Replace(tables.TablePicoInstance, i.Tuple()...))
	require.Nil(s.t, s.store.ApplyOp(tables.BatchOp(ops...)).Err)
}

func (s *sim) instance(id string) tables.Instance {
	top := s.topology()
	i, ok := top.Instance(id)
	require.True(s.t, ok, id)
	return i
}

// applyConf is core/raft's rule for a conf change: the new voters and
// learners; through joint consensus when more than one voter changes
// (learners being demoted wait in LearnersNext).
func applyConf(cs raft.ConfState, cc raft.ConfChange) (raft.ConfState, error) {
	if cs.Joint() {
		return cs, fmt.Errorf("already joint")
	}
	v, l := slices.Clone(cs.Voters), slices.Clone(cs.Learners)
	var demoted []uint64
	for _, c := range cc.Changes {
		if c.NodeID == 0 {
			return cs, fmt.Errorf("node id 0")
		}
		switch c.Type {
		case raft.AddVoter:
			l, demoted = without(l, c.NodeID), without(demoted, c.NodeID)
			v = union(v, []uint64{c.NodeID})
		case raft.AddLearner:
			if slices.Contains(v, c.NodeID) {
				v = without(v, c.NodeID)
				if slices.Contains(cs.Voters, c.NodeID) {
					demoted = union(demoted, []uint64{c.NodeID})
					continue
				}
			}
			l = union(l, []uint64{c.NodeID})
		case raft.RemoveNode:
			v, l, demoted = without(v, c.NodeID), without(l, c.NodeID), without(demoted, c.NodeID)
		default:
			return cs, fmt.Errorf("change type %d", c.Type)
		}
	}
	if len(v) == 0 {
		return cs, fmt.Errorf("removes every voter")
	}
	changed := 0
	for _, id := range union(v, cs.Voters) {
		if slices.Contains(v, id) != slices.Contains(cs.Voters, id) {
			changed++
		}
	}
	if len(cs.Voters) == 0 || cc.Transition == raft.TransitionAuto && changed <= 1 {
		return raft.ConfState{Voters: v, Learners: union(l, demoted)}, nil
	}
	return raft.ConfState{Voters: v, VotersOutgoing: slices.Clone(cs.Voters), Learners: l, LearnersNext: demoted,
		AutoLeave: true}, nil
}

func union(a, b []uint64) []uint64 {
	out := slices.Clone(a)
	for _, id := range b {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	if len(out) == 0 {
		return nil
	}
	return out
}

func without(a []uint64, id uint64) []uint64 {
	return slices.DeleteFunc(slices.Clone(a), func(x uint64) bool { return x == id })
}

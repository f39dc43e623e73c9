package topology_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/topology"

	"github.com/stretchr/testify/require"
)

// cid is the cluster id of every test cluster.
const cid = "cluster-1"

func tier(name string, rf uint64) tables.Tier {
	return tables.Tier{Name: name, ReplicationFactor: rf, CanVote: true, BucketCount: tables.DefaultBucketCount}
}

func online(inc uint64) tables.Grade {
	return tables.Grade{Variant: tables.GradeOnline, Incarnation: inc}
}
func offline(inc uint64) tables.Grade {
	return tables.Grade{Variant: tables.GradeOffline, Incarnation: inc}
}
func expelled(inc uint64) tables.Grade {
	return tables.Grade{Variant: tables.GradeExpelled, Incarnation: inc}
}

// fd parses "DC=A,RACK=1" into a failure domain ("" is the empty one).
func fd(s string) map[string]string {
	out := map[string]string{}
	if s == "" {
		return out
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			panic("fd: " + kv + " is not k=v")
		}
		out[k] = v
	}
	return out
}

// row describes an instance of a hand-built topology. Zero fields default:
// tier "storage", grades Online(1)/Online(1), empty failure domain.
type row struct {
	name     string
	raftID   uint64
	rs       string
	tier     string
	fd       string
	cur, tgt tables.Grade
}

func (r row) instance() tables.Instance {
	i := tables.Instance{
		InstanceID: r.name, InstanceUUID: "uuid-" + r.name, RaftID: r.raftID,
		ReplicasetID: r.rs, ReplicasetUUID: "rsuuid-" + r.rs,
		Current: r.cur, Target: r.tgt, FailureDomain: fd(r.fd), Tier: r.tier,
	}
	if i.Tier == "" {
		i.Tier = "storage"
	}
	if i.Current == (tables.Grade{}) {
		i.Current = online(1)
	}
	if i.Target == (tables.Grade{}) {
		i.Target = online(1)
	}
	return i
}

// address is the address a hand-built topology gives an instance.
func address(name string) string { return name + ":3301" }

// build makes a Topology by hand: the rows, their addresses, and a ready
// replicaset per distinct replicaset name (its tier and master are its first
// row's).
func build(tiers []tables.Tier, rows ...row) tables.Topology {
	t := tables.Topology{Tiers: tiers, Addresses: map[uint64]string{}}
	for _, r := range rows {
		i := r.instance()
		t.Instances = append(t.Instances, i)
		t.Addresses[i.RaftID] = address(i.InstanceID)
		if _, ok := t.Replicaset(i.ReplicasetID); !ok {
			t.Replicasets = append(t.Replicasets, tables.Replicaset{
				ReplicasetID: i.ReplicasetID, ReplicasetUUID: i.ReplicasetUUID,
				CurrentMasterID: i.InstanceID, TargetMasterID: i.InstanceID, Tier: i.Tier,
				Weight: 1, State: tables.ReplicasetReady, CurrentConfigVersion: 1, TargetConfigVersion: 1,
				PromotionVclock: map[string]any{},
			})
		}
	}
	return t
}

var storage = []tables.Tier{tier("storage", 1)}

// uuids returns a uuid generator yielding prefix1, prefix2, ...
func uuids(prefix string) func() string {
	n := 0
	return func() string {
		n++
		return fmt.Sprintf("%s%d", prefix, n)
	}
}

// noUUID is a generator a test expects not to be called.
func noUUID(t *testing.T) func() string {
	return func() string {
		t.Helper()
		t.Fatal("newUUID called")
		return ""
	}
}

// cluster is a real tables.Store that plans are applied to, as the leader
// would after a successful CaS.
type cluster struct {
	t     *testing.T
	store *tables.Store
	uuid  func() string
}

func newCluster(t *testing.T, tiers ...tables.Tier) *cluster {
	t.Helper()
	c := &cluster{t: t, store: tables.New(), uuid: uuids("uuid-")}
	for _, tr := range tiers {
		c.apply(tables.Insert(tables.TablePicoTier, tr.Tuple()...))
	}
	return c
}

func (c *cluster) topology() tables.Topology {
	c.t.Helper()
	topo, err := c.store.ReadTopology()
	require.NoError(c.t, err)
	return topo
}

// apply applies DML as one batch (nothing for none).
func (c *cluster) apply(ops ...tables.Dml) {
	c.t.Helper()
	if len(ops) == 0 {
		return
	}
	res := c.store.ApplyOp(tables.BatchOp(ops...))
	require.Nil(c.t, res.Err, "applying %d ops", len(ops))
}

// request fills a join request's defaults: this cluster, tier storage, an
// address from the name or the next raft id.
func (c *cluster) request(req topology.JoinRequest) topology.JoinRequest {
	if req.ClusterID == "" {
		req.ClusterID = cid
	}
	if req.Tier == "" {
		req.Tier = "storage"
	}
	if req.Address == "" {
		req.Address = fmt.Sprintf("host-%d:3301", len(c.topology().Addresses)+1)
	}
	return req
}

func (c *cluster) planJoin(req topology.JoinRequest) (topology.JoinPlan, error) {
	c.t.Helper()
	return topology.PlanJoin(c.topology(), cid, c.request(req), c.uuid)
}

// join joins an instance, which must succeed, and returns its row as stored.
func (c *cluster) join(req topology.JoinRequest) tables.Instance {
	c.t.Helper()
	plan, err := c.planJoin(req)
	require.NoError(c.t, err)
	c.apply(plan.Ops...)
	topo := c.topology()
	i, ok := topo.Instance(plan.Instance.InstanceID)
	require.True(c.t, ok)
	require.Equal(c.t, plan.Instance, i, "the stored row is the planned one")
	return i
}

// joinIn joins an instance with the failure domain fd (see fd).
func (c *cluster) joinIn(domain string) tables.Instance {
	c.t.Helper()
	return c.join(topology.JoinRequest{FailureDomain: fd(domain)})
}

func (c *cluster) expel(name string) {
	c.t.Helper()
	_, ops, err := topology.PlanExpel(c.topology(), cid, name)
	require.NoError(c.t, err)
	c.apply(ops...)
}

func (c *cluster) update(req topology.UpdateRequest) tables.Instance {
	c.t.Helper()
	req.ClusterID = cid
	i, ops, err := topology.PlanUpdate(c.topology(), cid, req)
	require.NoError(c.t, err)
	c.apply(ops...)
	return i
}

// finishExpel does the governor's part of an expel: current = target.
func (c *cluster) finishExpel(name string) {
	c.t.Helper()
	topo := c.topology()
	i, ok := topo.Instance(name)
	require.True(c.t, ok)
	require.Equal(c.t, tables.GradeExpelled, i.Target.Variant)
	c.apply(tables.Update(tables.TablePicoInstance, []any{name},
		[]any{"=", "current_grade", []any{i.Target.Variant, i.Target.Incarnation}}))
}

func (c *cluster) setReplicationFactor(tierName string, rf uint64) {
	c.t.Helper()
	c.apply(tables.Update(tables.TablePicoTier, []any{tierName}, []any{"=", "replication_factor", rf}))
}

// members is the names of the replicaset's non-expelled instances.
func members(topo tables.Topology, rs string) []string {
	var out []string
	for _, i := range topo.Instances {
		if i.ReplicasetID == rs && i.Target.Variant != tables.GradeExpelled && i.Current.Variant != tables.GradeExpelled {
			out = append(out, i.InstanceID)
		}
	}
	slices.Sort(out)
	return out
}

// layout is every replicaset's non-expelled members.
func layout(topo tables.Topology) map[string][]string {
	out := map[string][]string{}
	for _, rs := range topo.Replicasets {
		out[rs.ReplicasetID] = members(topo, rs.ReplicasetID)
	}
	return out
}

package topology_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/topology"

	"github.com/stretchr/testify/require"
)

// history drives random joins, updates, expels, governor expel completions
// and replication-factor raises against a real store, applying what the
// rules accept, and checks after every step that the tables keep the
// invariants the rules promise:
//
//   - a name held by a live row is never taken over: a join writes an
//     existing name only over a row whose current grade is Expelled;
//   - raft ids are never reused: each join's is larger than every raft id
//     ever given, and a join writes a fresh peer address;
//   - a replicaset filled automatically has at most its tier's replication
//     factor of non-expelled members, and no two of them share a failure
//     domain name=value pair (a replicaset that ever received an explicit
//     join is exempt: explicit placement may exceed both);
//   - every instance is of its replicaset's tier, has its replicaset's uuid,
//     and has a peer address; instance uuids are unique;
//   - at least one instance is not expelled;
//   - a retried join with a stored uuid plans no ops and returns the stored
//     row, and planning is deterministic.
type history struct {
	t        *testing.T
	rng      *rand.Rand
	c        *cluster
	keys     []string        // failure-domain names this history uses
	explicit map[string]bool // replicasets that received an explicit join
	maxRaft  uint64
	joined   []topology.JoinRequest // accepted first joins, with their uuids
	stats    *stats
}

type stats struct {
	joins, refusedJoins, idempotent, replaced, explicit, updates, expels, refusedExpels int
}

func TestRandomHistoriesKeepTheInvariants(t *testing.T) {
	st := &stats{}
	for seed := range uint64(1000) {
		h := &history{
			t:        t,
			rng:      rand.New(rand.NewPCG(seed, 0x70b0)),
			explicit: map[string]bool{},
			stats:    st,
		}
		h.c = newCluster(t, tier("storage", 1+h.rng.Uint64N(3)), tier("router", 1+h.rng.Uint64N(2)))
		for _, k := range []string{"DC", "RACK"} {
			if h.rng.IntN(2) == 0 {
				h.keys = append(h.keys, k)
			}
		}
		// A cluster starts with its bootstrap join.
		boot := map[string]string{}
		for _, k := range h.keys {
			boot[k] = "0"
		}
		h.c.join(topology.JoinRequest{FailureDomain: boot})
		h.maxRaft = 1
		for step := range 30 {
			h.step()
			h.check(fmt.Sprintf("seed %d, step %d", seed, step))
			if t.Failed() {
				return
			}
		}
	}
	t.Logf("%+v", *st)
	// The histories did exercise every path.
	require.Greater(t, st.joins, 5000)
	require.Greater(t, st.refusedJoins, 500)
	require.Greater(t, st.idempotent, 100)
	require.Greater(t, st.replaced, 50)
	require.Greater(t, st.explicit, 500)
	require.Greater(t, st.updates, 1000)
	require.Greater(t, st.expels, 1000)
	require.Greater(t, st.refusedExpels, 10)
}

func (h *history) step() {
	switch p := h.rng.IntN(100); {
	case p < 45:
		h.join()
	case p < 50:
		h.retryJoin()
	case p < 68:
		h.update()
	case p < 83:
		h.expel()
	case p < 95:
		h.finishExpel()
	default:
		h.raiseReplicationFactor()
	}
}

// pick is a random element of xs.
func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// domain is a random failure domain over the history's names, now and then
// lacking one or in lower case.
func (h *history) domain() map[string]string {
	out := map[string]string{}
	for _, k := range h.keys {
		if h.rng.IntN(20) == 0 {
			continue
		}
		v := fmt.Sprint(h.rng.IntN(3))
		if h.rng.IntN(4) == 0 {
			k = strings.ToLower(k)
		}
		out[k] = v
	}
	return out
}

func (h *history) names() []string {
	var out []string
	for _, i := range h.c.topology().Instances {
		out = append(out, i.InstanceID)
	}
	return out
}

func (h *history) join() {
	topo := h.c.topology()
	req := topology.JoinRequest{
		ClusterID:     cid,
		Address:       fmt.Sprintf("host-%d:3301", h.rng.IntN(1000)),
		FailureDomain: h.domain(),
		Tier:          pick(h.rng, []string{"storage", "storage", "router"}),
	}
	if h.rng.IntN(8) == 0 && len(topo.Instances) > 0 {
		req.InstanceID = pick(h.rng, h.names()) // mostly refused; sometimes replaces an expelled row
	} else if h.rng.IntN(10) == 0 {
		req.InstanceID = fmt.Sprintf("named_%d", h.rng.IntN(5))
	}
	if h.rng.IntN(8) == 0 {
		if h.rng.IntN(2) == 0 && len(topo.Replicasets) > 0 {
			req.ReplicasetID = pick(h.rng, topo.Replicasets).ReplicasetID
		} else {
			req.ReplicasetID = fmt.Sprintf("custom_%d", h.rng.IntN(3))
		}
	}
	if h.rng.IntN(10) == 0 {
		req.InstanceUUID = fmt.Sprintf("chosen-%d", h.rng.Uint64())
	}
	if h.rng.IntN(50) == 0 {
		req.ClusterID = "other"
	}

	// Planning is deterministic: the same read and the same uuids give the
	// same plan.
	plan, err := topology.PlanJoin(topo, cid, req, h.c.uuid)
	again, err2 := topology.PlanJoin(topo, cid, req, uuidsReplay(req, plan))
	if err != nil {
		require.Equal(h.t, err, err2)
		h.stats.refusedJoins++
		return
	}
	require.NoError(h.t, err2)
	require.Equal(h.t, plan, again)

	i := plan.Instance
	require.Greater(h.t, i.RaftID, h.maxRaft, "raft id %d reused", i.RaftID)
	_, addressTaken := topo.Addresses[i.RaftID]
	require.False(h.t, addressTaken)
	h.maxRaft = i.RaftID
	if old, exists := topo.Instance(i.InstanceID); exists {
		require.Equal(h.t, tables.GradeExpelled, old.Current.Variant, "%q taken over from a live row", i.InstanceID)
		h.stats.replaced++
	}
	if req.ReplicasetID != "" {
		h.explicit[req.ReplicasetID] = true
		h.stats.explicit++
	}
	h.c.apply(plan.Ops...)
	req.InstanceUUID = i.InstanceUUID
	h.joined = append(h.joined, req)
	h.stats.joins++
}

// uuidsReplay yields the uuids a plan used, in the order PlanJoin draws
// them: the instance's (unless requested), then a new replicaset's.
func uuidsReplay(req topology.JoinRequest, p topology.JoinPlan) func() string {
	var seq []string
	if req.InstanceUUID == "" {
		seq = append(seq, p.Instance.InstanceUUID)
	}
	seq = append(seq, p.Instance.ReplicasetUUID)
	return func() string {
		u := seq[0]
		seq = seq[1:]
		return u
	}
}

func (h *history) retryJoin() {
	if len(h.joined) == 0 {
		return
	}
	req := pick(h.rng, h.joined)
	topo := h.c.topology()
	at := slices.IndexFunc(topo.Instances, func(i tables.Instance) bool { return i.InstanceUUID == req.InstanceUUID })
	if at < 0 {
		return // its row was replaced by name reuse: the uuid would join anew
	}
	stored := topo.Instances[at]
	req.FailureDomain = stored.FailureDomain // an update may have changed it since
	plan, err := topology.PlanJoin(topo, cid, req, noUUID(h.t))
	if err != nil {
		// Only an activated or expelled instance is refused.
		require.True(h.t, stored.Target != offline(0) || stored.Current.Variant != tables.GradeOffline, "%v", err)
		return
	}
	require.Empty(h.t, plan.Ops)
	require.Equal(h.t, stored, plan.Instance)
	h.stats.idempotent++
}

func (h *history) update() {
	names := h.names()
	req := topology.UpdateRequest{
		InstanceID:  pick(h.rng, names),
		ClusterID:   cid,
		TargetGrade: pick(h.rng, []string{"", tables.GradeOnline, tables.GradeOnline, tables.GradeOffline, tables.GradeExpelled}),
	}
	if h.rng.IntN(3) == 0 {
		req.FailureDomain = h.domain()
	}
	topo := h.c.topology()
	old, _ := topo.Instance(req.InstanceID)
	got, ops, err := topology.PlanUpdate(topo, cid, req)
	if err != nil {
		return
	}
	switch req.TargetGrade {
	case tables.GradeOnline:
		require.Equal(h.t, max(old.Current.Incarnation, old.Target.Incarnation)+1, got.Target.Incarnation)
	case tables.GradeOffline:
		require.Equal(h.t, old.Target.Incarnation, got.Target.Incarnation)
	}
	h.c.apply(ops...)
	after := h.c.topology()
	stored, _ := after.Instance(req.InstanceID)
	require.Equal(h.t, got, stored)
	if req.TargetGrade == tables.GradeOnline && h.rng.IntN(2) == 0 {
		// The governor brings it up.
		h.c.apply(tables.Update(tables.TablePicoInstance, []any{got.InstanceID},
			[]any{"=", "current_grade", []any{got.Target.Variant, got.Target.Incarnation}}))
	}
	h.stats.updates++
}

func (h *history) expel() {
	topo := h.c.topology()
	name := pick(h.rng, h.names())
	_, ops, err := topology.PlanExpel(topo, cid, name)
	if err != nil {
		require.Contains(h.t, []string{"cannot expel the last instance",
			"cannot expel the last instance of a tier that can vote"}, err.Error())
		h.stats.refusedExpels++
		return
	}
	h.c.apply(ops...)
	h.stats.expels++
}

func (h *history) finishExpel() {
	for _, i := range h.c.topology().Instances {
		if i.Target.Variant == tables.GradeExpelled && i.Current.Variant != tables.GradeExpelled {
			h.c.finishExpel(i.InstanceID)
			return
		}
	}
}

func (h *history) raiseReplicationFactor() {
	tr := pick(h.rng, []string{"storage", "router"})
	topo := h.c.topology()
	cur, _ := topo.Tier(tr)
	h.c.setReplicationFactor(tr, cur.ReplicationFactor+1)
}

func (h *history) check(where string) {
	t := h.t
	topo := h.c.topology()
	live := 0
	uuids := map[string]string{}
	members := map[string][]tables.Instance{}
	for _, i := range topo.Instances {
		if prev, dup := uuids[i.InstanceUUID]; dup {
			t.Errorf("%s: %s and %s share uuid %s", where, prev, i.InstanceID, i.InstanceUUID)
		}
		uuids[i.InstanceUUID] = i.InstanceID
		rs, ok := topo.Replicaset(i.ReplicasetID)
		if !ok {
			t.Errorf("%s: %s is in replicaset %s, which has no row", where, i.InstanceID, i.ReplicasetID)
			continue
		}
		if rs.Tier != i.Tier || rs.ReplicasetUUID != i.ReplicasetUUID {
			t.Errorf("%s: %s (tier %s, %s) is in replicaset %s (tier %s, %s)", where,
				i.InstanceID, i.Tier, i.ReplicasetUUID, rs.ReplicasetID, rs.Tier, rs.ReplicasetUUID)
		}
		if _, ok := topo.Addresses[i.RaftID]; !ok {
			t.Errorf("%s: %s (raft id %d) has no peer address", where, i.InstanceID, i.RaftID)
		}
		for k, v := range i.FailureDomain {
			if k != strings.ToUpper(k) || v != strings.ToUpper(v) {
				t.Errorf("%s: %s's failure domain %v is not upper-cased", where, i.InstanceID, i.FailureDomain)
			}
		}
		if i.Target.Variant != tables.GradeExpelled {
			live++
			members[i.ReplicasetID] = append(members[i.ReplicasetID], i)
		}
	}
	if live == 0 {
		t.Errorf("%s: every instance is expelled", where)
	}
	for _, rsName := range slices.Sorted(maps.Keys(members)) {
		if h.explicit[rsName] {
			continue
		}
		ms := members[rsName]
		rs, _ := topo.Replicaset(rsName)
		tr, _ := topo.Tier(rs.Tier)
		if uint64(len(ms)) > tr.ReplicationFactor {
			t.Errorf("%s: replicaset %s has %d members, replication factor %d", where, rsName, len(ms), tr.ReplicationFactor)
		}
		for a := range ms {
			for b := a + 1; b < len(ms); b++ {
				for k, v := range ms[a].FailureDomain {
					if ms[b].FailureDomain[k] == v {
						t.Errorf("%s: %s and %s of %s share %s=%s", where, ms[a].InstanceID, ms[b].InstanceID, rsName, k, v)
					}
				}
			}
		}
	}
}

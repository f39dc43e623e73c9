package sim

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/picogo/picogo/core/node"
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/sharding"
	"github.com/picogo/picogo/core/storage"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
)

// The data plane's invariants (docs/simulator.md, "What is checked"):
//
//   - per event, on the instance it touched: a writable member is the
//     master its own applied tables name (replication.Role: Writable
//     implies Master == its raft id); its engine holds no table whose
//     creation is pending (prepared, not committed);
//   - when the leader's governor asks the masters whether a schema change
//     applies, it asks every master of the tiers concerned whose target is
//     Online (an unreachable one is waited for, never left out);
//   - at rest (part of settled, so the liveness phase waits for it): the
//     members of every replicaset have equal vclocks, none is stale, and
//     their engines hold the same rows (every table's, in primary-key
//     order; not Engine().Snapshot()'s bytes, which include the secondary
//     indexes: see TestDataSecondShardedTable for why they may differ);
//     every engine holds exactly the operable sharded tables of its tier;
//   - the writes and a read of every key at rest (one select of the table
//     on every replicaset's master: a row shows only where its bucket is
//     owned, and on no two replicasets) are linearizable (data.go), for
//     the keys whose buckets lived only on replicasets the governor never
//     began a failover in — in a synchronous tier, only a failover away
//     from a master being expelled counts;
//   - at rest, no bucket range is moving or has rows left to delete, and
//     no member's engine holds a row of a bucket its replicaset does not
//     own.

// clusterSchema is a schema version of a cluster's.
type clusterSchema struct {
	cluster string
	version uint64
}

// noteSchemaVersion remembers the global schema version in's tables have
// applied. Only a ddl_commit sets it, to exactly its own version, so each
// version seen is one the cluster committed — for good, whatever crashes
// come after. Every committed version is seen: the first instance to apply
// a commit ends that event at its version, as the next commit can only be
// proposed by a leader that has applied this one.
func (w *World) noteSchemaVersion(in *instance, v uint64) {
	key := clusterSchema{in.cluster(), v}
	if w.data.committedSchema[key] {
		return
	}
	if w.data.committedSchema == nil {
		w.data.committedSchema = map[clusterSchema]bool{}
	}
	w.data.committedSchema[key] = true
}

// schemaCommitted reports whether in's cluster committed schema version
// ver: some instance has applied its commit, even one that has crashed
// since. A restarted instance may find in its engine (its replicaset log
// is durable on its own) a table whose commit its tables have not applied
// again yet: Raft's commit index is synced lazily, so the one on its disk
// may stop short of the commit, which its tables then apply only once a
// leader commits it anew (seed 4635, a commit another instance had
// applied; seed 2053, the sole voter's own, the whole cluster restarted).
// It is not ahead of the cluster, only of its own tables, for a moment.
func (w *World) schemaCommitted(in *instance, ver uint64) bool {
	return w.data.committedSchema[clusterSchema{in.cluster(), ver}]
}

// checkData runs the per-event checks on in.
func (w *World) checkData(in *instance) error {
	n := in.node()
	if n == nil || n.Phase() != node.PhaseRunning {
		return nil
	}
	w.noteSchemaVersion(in, n.Tables().SchemaVersion())
	m := n.Member()
	if m == nil {
		return nil
	}
	if r := m.Role(); r.Writable && r.Master != n.ID() {
		return fmt.Errorf("i%d (raft id %d) is writable while its tables name raft id %d its replicaset's master",
			in.id, n.ID(), r.Master)
	}
	for _, id := range m.Engine().Tables() {
		if n.Tables().Operable(id) {
			continue // the common case, cheaply
		}
		if ddl, ver, ok := n.Tables().PendingSchemaChange(); ok && ddl.Kind == tables.DdlCreateTable && ddl.Def != nil && ddl.Def.ID == id &&
			!w.schemaCommitted(in, ver) {
			return fmt.Errorf("i%d's engine holds table %s (%d) whose creation (schema version %d) is not committed",
				in.id, ddl.Def.Name, ddl.Def.ID, ver)
		}
	}
	return nil
}

// moveNote is a governor note starting a bucket move.
var moveNote = regexp.MustCompile(`move \S+ (\d+)-(\d+) from (\S+) to (\S+)`)

// observeNote sees an instance's notes: the governor's schema-change step
// must ask every master it must (governor.ApplySchemaChange's Detail
// names them).
func (w *World) observeNote(in *instance, event, detail string) {
	if event != "governor" || w.failure != nil {
		return
	}
	if m := moveNote.FindStringSubmatch(detail); m != nil && w.data.visited != nil {
		// A move's destination receives the buckets' rows (core/sharding's
		// Send: "move TIER F-L from A to B"): they live there too now;
		// the source is named too, as a routed write may have gone to it
		// before the client saw it own the bucket.
		first, _ := strconv.ParseUint(m[1], 10, 64)
		last, _ := strconv.ParseUint(m[2], 10, 64)
		for b := first; b <= last && last-first < 1<<20; b++ {
			w.data.visit(b, m[3])
			w.data.visit(b, m[4])
		}
	}
	if rest, ok := strings.CutPrefix(detail, "master switchover: "); ok && strings.Contains(detail, " unreachable, ask vclocks") {
		rs, rest, _ := strings.Cut(rest, ": master ")
		old, _, _ := strings.Cut(rest, " ->")
		if w.data.failedOver != nil {
			w.data.failedOver[rs] = true
		}
		if w.data.lossy != nil && (!w.dataTier().IsSync || w.expelledName(in, old)) {
			// An asynchronous failover may lose acknowledged writes; so
			// may a synchronous one away from a master being expelled
			// (what only it had goes with it: the quorum counts the
			// members not expelled).
			w.data.lossy[rs] = true
		}
	}
	const ask = "ask masters ["
	i := strings.Index(detail, ask)
	j := strings.LastIndex(detail, "]")
	if i < 0 || j < i+len(ask) || in.node() == nil {
		return
	}
	asked := strings.Fields(detail[i+len(ask) : j])
	top, err := in.node().Tables().Topology()
	if err != nil {
		return
	}
	w.data.ddlAsked++
	tiers := top.PendingSchemaTiers
	for _, rs := range top.Replicasets {
		if len(tiers) > 0 && !slices.Contains(tiers, rs.Tier) {
			continue
		}
		m, ok := top.Instance(rs.CurrentMasterID)
		if !ok || m.Target.Variant != tables.GradeOnline || m.ExpelDone() {
			continue
		}
		if !slices.Contains(asked, m.InstanceID) {
			w.fail(fmt.Errorf("i%d's governor decides schema version %d without asking %s, the master of replicaset %s (asked %v)",
				in.id, top.PendingSchemaVersion, m.InstanceID, rs.ReplicasetID, asked))
			return
		}
	}
}

// dataUnsettled is what keeps the user data from being at rest ("": it
// is), given the leader's topology.
func (w *World) dataUnsettled(leader *instance, top tables.Topology) string {
	if !w.data.ready {
		return ""
	}
	want := map[string][]uint32{} // tier → its operable sharded tables
	for def := range leader.node().Tables().TableDefs() {
		if def.IsSharded() && def.Operable {
			want[def.Tier] = append(want[def.Tier], def.ID)
		}
	}
	byRS := map[string][]*instance{}
	for in := range w.membersOf(clusterID) {
		n := in.node()
		if n == nil || n.Phase() != node.PhaseRunning || n.Member() == nil {
			continue
		}
		i := slices.IndexFunc(top.Instances, func(i tables.Instance) bool { return i.RaftID == n.ID() })
		if i < 0 || top.Instances[i].Expelled() {
			continue
		}
		row := top.Instances[i]
		m := n.Member()
		if m.Stale() {
			return fmt.Sprintf("i%d's data is stale (waiting for a full copy)", in.id)
		}
		have := slices.Clone(m.Engine().Tables())
		slices.Sort(have)
		exp := slices.Clone(want[row.Tier])
		slices.Sort(exp)
		if !slices.Equal(have, exp) {
			return fmt.Sprintf("i%d's engine holds tables %v, the operable sharded tables of tier %s are %v (its schema version %d, the tables' %d)", in.id, have, row.Tier, exp, m.SchemaVersion(), n.Tables().SchemaVersion())
		}
		if why := strayRow(m.Engine(), n.Tables(), sharding.NewMap(top.Buckets), row.ReplicasetID); why != "" {
			return fmt.Sprintf("i%d (replicaset %s) %s", in.id, row.ReplicasetID, why)
		}
		byRS[row.ReplicasetID] = append(byRS[row.ReplicasetID], in)
	}
	for _, b := range top.Buckets {
		if b.State != tables.BucketActive || b.Garbage != "" {
			return "buckets not at rest: " + b.String()
		}
	}
	for _, tier := range top.Tiers {
		if !tier.VshardBootstrapped {
			continue
		}
		var ranges []node.BucketRange
		for _, b := range top.Buckets {
			if b.Tier == tier.Name {
				ranges = append(ranges, node.BucketRange{Replicaset: b.ReplicasetID, First: b.First, Last: b.Last})
			}
		}
		if got, want := ownedCounts(ranges), goal(top, tier); !maps.Equal(got, want) {
			return fmt.Sprintf("tier %s's buckets are %v, the goal is %v", tier.Name, got, want)
		}
	}
	for _, rs := range top.Replicasets {
		ins := byRS[rs.ReplicasetID]
		if len(ins) < 2 {
			continue
		}
		first := ins[0].node().Member()
		rows := engineRows(first.Engine())
		for _, in := range ins[1:] {
			m := in.node().Member()
			if !m.VClock().Equal(first.VClock()) {
				return fmt.Sprintf("replicaset %s: i%d's vclock %s, i%d's %s", rs.ReplicasetID, ins[0].id, first.VClock(), in.id, m.VClock())
			}
			if rows != engineRows(m.Engine()) {
				return fmt.Sprintf("replicaset %s: i%d's and i%d's engines differ at vclock %s (%s; %s)", rs.ReplicasetID, ins[0].id, in.id, m.VClock(),
					engineSummary(first.Engine()), engineSummary(m.Engine()))
			}
		}
	}
	return ""
}

// engineSummary names an engine's tables with their indexes and rows.
func engineSummary(e *storage.Engine) string {
	var parts []string
	for _, id := range e.Tables() {
		ix, _ := e.Indexes(id)
		ids := make([]uint32, len(ix))
		for i, x := range ix {
			ids[i] = x.ID
		}
		n, _ := e.Len(id)
		parts = append(parts, fmt.Sprintf("table %d: indexes %v, %d rows", id, ids, n))
	}
	return strings.Join(parts, ", ")
}

// engineRows renders every row of every table of an engine, in table and
// primary-key order.
func engineRows(e *storage.Engine) string {
	var b strings.Builder
	for _, id := range e.Tables() {
		rows, err := e.Select(id, 0, nil, storage.IterALL, 0, ^uint32(0))
		fmt.Fprintf(&b, "%d:", id)
		if err != nil {
			fmt.Fprintf(&b, "%s;", err.Message)
		}
		for _, t := range rows {
			fmt.Fprintf(&b, "%v;", t.Values())
		}
	}
	return b.String()
}

// expelledName: in's tables say instance name is expelled or on its way.
func (w *World) expelledName(in *instance, name string) bool {
	top, err := in.node().Tables().Topology()
	if err != nil {
		return false
	}
	i, ok := top.Instance(name)
	return ok && i.Expelled()
}

// strayRow names a row an engine holds in a bucket its replicaset does not
// own ("" if none): at rest a bucket's rows live on its owner only — a
// move deletes the source's copy, a rolled-back one the destination's.
func strayRow(e *storage.Engine, defs *tables.Store, bm sharding.Map, rs string) string {
	for _, id := range e.Tables() {
		def, ok := defs.Table(id)
		if !ok || !def.IsSharded() {
			continue
		}
		pos, ok := def.FieldIndex(schema.BucketIDField)
		if !ok {
			continue
		}
		rows, err := e.Select(id, 0, nil, storage.IterALL, 0, ^uint32(0))
		if err != nil {
			return err.Error()
		}
		for _, r := range rows {
			b, _ := tuple.AsUint64(r.Values()[pos])
			if owner, ok := bm.Find(def.Tier, b); !ok || owner.ReplicasetID != rs {
				return fmt.Sprintf("holds row %v of table %s in bucket %d, which replicaset %s owns", r.Values(), def.Name, b, owner.ReplicasetID)
			}
		}
	}
	return ""
}

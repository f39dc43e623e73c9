package governor

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"

	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
	"github.com/picogo/picogo/net/iproto"
)

// planner is one Plan call: the input, sorted, with lookups.
type planner struct {
	in          Input
	instances   []tables.Instance   // by instance id
	replicasets []tables.Replicaset // by replicaset id
	tiers       []tables.Tier       // by name
}

func newPlanner(in Input) *planner {
	p := &planner{
		in:          in,
		instances:   slices.Clone(in.Topology.Instances),
		replicasets: slices.Clone(in.Topology.Replicasets),
		tiers:       slices.Clone(in.Topology.Tiers),
	}
	slices.SortStableFunc(p.instances, func(a, b tables.Instance) int { return cmp.Compare(a.InstanceID, b.InstanceID) })
	slices.SortStableFunc(p.replicasets, func(a, b tables.Replicaset) int {
		return cmp.Compare(a.ReplicasetID, b.ReplicasetID)
	})
	slices.SortStableFunc(p.tiers, func(a, b tables.Tier) int { return cmp.Compare(a.Name, b.Name) })
	return p
}

// byRaftID finds the instance with the raft id.
func (p *planner) byRaftID(id uint64) (tables.Instance, bool) {
	if id == 0 {
		return tables.Instance{}, false
	}
	for _, i := range p.instances {
		if i.RaftID == id {
			return i, true
		}
	}
	return tables.Instance{}, false
}

func (p *planner) instance(id string) (tables.Instance, bool) {
	for _, i := range p.instances {
		if i.InstanceID == id {
			return i, true
		}
	}
	return tables.Instance{}, false
}

func (p *planner) tier(name string) (tables.Tier, bool) {
	for _, t := range p.tiers {
		if t.Name == name {
			return t, true
		}
	}
	return tables.Tier{}, false
}

// members are the instances of a replicaset, by instance id, expelled ones
// included.
func (p *planner) members(rs string) []tables.Instance {
	var out []tables.Instance
	for _, i := range p.instances {
		if i.ReplicasetID == rs {
			out = append(out, i)
		}
	}
	return out
}

// address is where to reach an instance for an RPC; ok is false for an
// instance that is not an RPC target now (unreachable, or no address).
func (p *planner) address(i tables.Instance) (string, bool) {
	if p.in.Unreachable[i.InstanceID] {
		return "", false
	}
	return p.in.Topology.Address(i.RaftID)
}

func (p *planner) unreachable(i tables.Instance) bool { return p.in.Unreachable[i.InstanceID] }

// onlineBound reports an instance whose target is Online.
func onlineBound(i tables.Instance) bool {
	return i.Target.Variant == tables.GradeOnline && !i.ExpelDone()
}

// rank orders the variants an instance climbs; Expelled is not on the
// ladder.
func rank(variant string) int {
	switch variant {
	case tables.GradeOffline:
		return 0
	case tables.GradeReplicated:
		return 1
	case tables.GradeShardingInitialized:
		return 2
	case tables.GradeOnline:
		return 3
	}
	return -1
}

// atLeast reports whether g is at variant v or above for incarnation inc.
func atLeast(g tables.Grade, v string, inc uint64) bool {
	return rank(g.Variant) >= 0 && g.Incarnation >= inc && rank(g.Variant) >= rank(v)
}

// rows collects what a step reads and writes, for its CaS.
type rows struct {
	ops    []tables.Dml
	read   []rowKey
	writes []rowKey
}

type rowKey struct {
	table uint32
	key   []byte // msgpack array of the primary key
}

func keyOf(table uint32, key any) rowKey {
	if s, ok := key.(string); ok {
		// By hand, msgpack's bytes: the keys of a plan's reads and
		// writes were a tenth of its time.
		return rowKey{table: table, key: iproto.AppendStr(append(make([]byte, 0, 6+len(s)), 0x91), s)}
	}
	raw, err := tuple.Marshal([]any{key})
	if err != nil {
		panic(fmt.Sprintf("governor: encoding key %v: %v", key, err))
	}
	return rowKey{table: table, key: raw}
}

func (r *rows) readInstance(i tables.Instance) {
	r.read = append(r.read, keyOf(tables.TablePicoInstance, i.InstanceID))
}
func (r *rows) readReplicaset(rs tables.Replicaset) {
	r.read = append(r.read, keyOf(tables.TablePicoReplicaset, rs.ReplicasetID))
}
func (r *rows) readTier(t tables.Tier) { r.read = append(r.read, keyOf(tables.TablePicoTier, t.Name)) }
func (r *rows) readAddress(raftID uint64) {
	r.read = append(r.read, keyOf(tables.TablePicoPeerAddress, raftID))
}

func (r *rows) putInstance(i tables.Instance) {
	r.ops = append(r.ops, tables.Replace(tables.TablePicoInstance, i.Tuple()...))
	r.writes = append(r.writes, keyOf(tables.TablePicoInstance, i.InstanceID))
}
func (r *rows) putReplicaset(rs tables.Replicaset) {
	r.ops = append(r.ops, tables.Replace(tables.TablePicoReplicaset, rs.Tuple()...))
	r.writes = append(r.writes, keyOf(tables.TablePicoReplicaset, rs.ReplicasetID))
}
func (r *rows) putTier(t tables.Tier) {
	r.ops = append(r.ops, tables.Replace(tables.TablePicoTier, t.Tuple()...))
	r.writes = append(r.writes, keyOf(tables.TablePicoTier, t.Name))
}

func compareKeys(a, b rowKey) int {
	if c := cmp.Compare(a.table, b.table); c != 0 {
		return c
	}
	return bytes.Compare(a.key, b.key)
}

// ranges are the rows read and not written, each once, in (table, key)
// order.
func (r *rows) ranges() []tables.Range {
	keys := slices.Clone(r.read)
	slices.SortFunc(keys, compareKeys)
	keys = slices.CompactFunc(keys, func(a, b rowKey) bool { return compareKeys(a, b) == 0 })
	var out []tables.Range
	for _, k := range keys {
		if slices.ContainsFunc(r.writes, func(w rowKey) bool { return compareKeys(w, k) == 0 }) {
			continue
		}
		out = append(out, tables.Range{Table: k.table, Key: k.key})
	}
	return out
}

// cas is the batch writing the rows, predicated on the ones read.
func (r *rows) cas() CaS { return CaS{Ops: r.ops, Ranges: r.ranges()} }

func ids(is []tables.Instance) []string {
	names := make([]string, len(is))
	for k, i := range is {
		names[k] = i.InstanceID
	}
	return names
}

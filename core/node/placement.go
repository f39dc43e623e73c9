package node

import (
	"slices"
	"strings"

	"github.com/picogo/picogo/core/sharding"
	"github.com/picogo/picogo/core/tables"
)

// placement is where this instance's applied tables put sharded data and
// roles: the topology (Store.Topology, decoded again whenever one of its
// tables changed) and the bucket map built from it. The router's View
// (masters, replicas, the bucket map, the applied index), the storage's
// fencing and the bucket moves read it.
type placement struct {
	n    *Node
	at   tables.Stamp // of bmap; the zero Stamp: never built
	bmap sharding.Map
}

func (v *placement) topology() *tables.Topology {
	topo, err := v.n.tables.Topology()
	if err != nil {
		// A row that does not convert: route nowhere rather than by a
		// guess (the router waits, then times out).
		return &tables.Topology{}
	}
	return topo
}

// Map is _pico_bucket as applied.
func (v *placement) Map() sharding.Map {
	if st := v.n.tables.TopologyStamp(); st != v.at {
		v.bmap, v.at = sharding.NewMap(v.topology().Buckets), st
	}
	return v.bmap
}

// Master is the address of the replicaset's current master.
func (v *placement) Master(replicaset string) (string, bool) {
	topo := v.topology()
	rs, ok := topo.Replicaset(replicaset)
	if !ok || rs.CurrentMasterID == "" {
		return "", false
	}
	inst, ok := topo.Instance(rs.CurrentMasterID)
	if !ok {
		return "", false
	}
	return v.n.address(inst.RaftID)
}

// Replicas are the addresses of the replicaset's other members that are
// not expelled, by instance id.
func (v *placement) Replicas(replicaset string) []string {
	topo := v.topology()
	rs, _ := topo.Replicaset(replicaset)
	var members []tables.Instance
	for _, inst := range topo.Instances {
		if inst.ReplicasetID == replicaset && inst.InstanceID != rs.CurrentMasterID && !inst.Expelled() {
			members = append(members, inst)
		}
	}
	slices.SortFunc(members, func(a, b tables.Instance) int { return strings.Compare(a.InstanceID, b.InstanceID) })
	var out []string
	for _, inst := range members {
		if addr, ok := v.n.address(inst.RaftID); ok {
			out = append(out, addr)
		}
	}
	return out
}

// Applied is the Raft applied index.
func (v *placement) Applied() uint64 {
	if v.n.ra == nil {
		return 0
	}
	return v.n.ra.BasicStatus().Applied
}

// BucketCount is a tier's bucket_count (0 for an unknown tier).
func (v *placement) BucketCount(tier string) uint64 {
	t, _ := v.topology().Tier(tier)
	return t.BucketCount
}

package node

import (
	"slices"
	"strconv"
	"time"

	"github.com/picogo/picogo/core/api"
)

// What an instance keeps of its own configuration, set by the governor's
// RPCs: its replication role and peers (`.proc_replication`), and its
// tier's bucket map (`.proc_sharding`, `.proc_sharding_bootstrap`). The
// role also reaches the data module, which ships the row changes.
type localState struct {
	// peers are `.proc_replication`'s replicaset peers (nil until it is
	// called); whether this instance is master is the data module's.
	peers        []string
	bootstrapped bool
}

// ReplicationState is this instance's replication role: master or not (as
// `.proc_replication`, demote and promote last left it) and the peers
// `.proc_replication` gave.
type ReplicationState struct {
	IsMaster bool
	Peers    []string
}

// BucketRange: buckets [First, Last] of a tier live in Replicaset.
type BucketRange struct {
	Replicaset  string
	First, Last uint64
}

// Local is this instance's replication role and bucket map.
func (n *Node) Local() (rep *ReplicationState, buckets []BucketRange, bootstrapped bool) {
	l := &n.governor.local
	if l.peers != nil {
		rep = &ReplicationState{IsMaster: n.data.master, Peers: slices.Clone(l.peers)}
	}
	return rep, n.governor.bucketMap(), l.bootstrapped
}

func (m *governorModule) replication(_ string, r api.Replication, respond responder) {
	m.local.peers = append([]string{}, r.Peers...)
	// The governor configures the replicaset as the tables say: a fence
	// of a failover that did not happen after all is over.
	m.data.member.Unfence()
	m.data.setMaster(r.IsMaster)
	role := "replica"
	if r.IsMaster {
		role = "master"
	}
	m.emit(Note{Event: "replication", Detail: role + ", peers " + joinStrings(r.Peers)})
	// The LSN, as Tarantool's box.info.lsn: the last row change this
	// instance made as a master.
	respond([]any{m.data.member.VClock().Get(m.identity.RaftID)}, nil)
}

// sharding serves `.proc_sharding` and `.proc_sharding_bootstrap`: first
// apply (term, index) — the governor's view — then act on the tables.
func (m *governorModule) sharding(term, index uint64, timeout time.Duration, _ /*reconfigure*/, bootstrap bool, respond responder) {
	proc := api.Sharding{}.Proc()
	if bootstrap {
		proc = api.ShardingBootstrap{}.Proc()
	}
	m.atGovernorIndex(proc, term, index, timeout, respond, func(respond responder) {
		if bootstrap {
			m.local.bootstrapped = true
		}
		m.emit(Note{Event: "sharding", Detail: proc + ": " + bucketsString(m.bucketMap())})
		respond(nil, nil)
	})
}

// bucketMap is this instance's tier's bucket ranges as _pico_bucket has
// them (empty until the governor bootstrapped the tier's buckets).
func (m *governorModule) bucketMap() []BucketRange {
	top := m.placement.topology()
	self, ok := top.Instance(m.identity.InstanceID)
	if !ok {
		return nil
	}
	var out []BucketRange
	for _, b := range top.Buckets {
		if b.Tier == self.Tier {
			out = append(out, BucketRange{Replicaset: b.ReplicasetID, First: b.First, Last: b.Last})
		}
	}
	return out
}

func bucketsString(bs []BucketRange) string {
	if len(bs) == 0 {
		return "no buckets"
	}
	s := ""
	for i, b := range bs {
		if i > 0 {
			s += ", "
		}
		s += b.Replicaset + " " + strconv.FormatUint(b.First, 10) + "-" + strconv.FormatUint(b.Last, 10)
	}
	return s
}

func joinStrings(ss []string) string {
	s := "["
	for i, x := range ss {
		if i > 0 {
			s += " "
		}
		s += x
	}
	return s + "]"
}

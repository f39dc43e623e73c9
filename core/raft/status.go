package raft

// Status is a consistent picture of a node, for `.proc_raft_info`, operators
// and tests.
type Status struct {
	ID uint64
	HardState
	Applied    uint64
	Lead       uint64
	State      StateType
	FirstIndex uint64
	LastIndex  uint64
	ConfState  ConfState
	Snapshot   SnapshotMeta
	// LeadTransferee is the target of a leadership transfer in progress.
	LeadTransferee uint64
	// Progress is the leader's view of every member (nil on followers).
	Progress map[uint64]Progress
}

// Status reports the node's state, with every member's progress on a leader.
func (n *Node) Status() Status {
	s := n.BasicStatus()
	r := n.r
	if r.state == StateLeader {
		s.Progress = make(map[uint64]Progress, len(r.members))
		for _, id := range r.members {
			pr := *r.progress[id]
			pr.inflights = inflights{maxCount: pr.inflights.maxCount, maxBytes: pr.inflights.maxBytes,
				last: append([]uint64(nil), pr.inflights.last...), size: append([]uint64(nil), pr.inflights.size...),
				bytes: pr.inflights.bytes}
			s.Progress[id] = pr
		}
	}
	return s
}

// WithProgress visits each member's progress, in the configuration's
// order, when this node leads (and none otherwise): Status's Progress
// without its map and copies, for a caller that asks every tick. The
// Progress passed is read, not kept.
func (n *Node) WithProgress(visit func(id uint64, pr Progress)) {
	r := n.r
	if r.state != StateLeader {
		return
	}
	for _, id := range r.members {
		visit(id, *r.progress[id])
	}
}

// BasicStatus is Status without the progress of members: cheap enough to
// ask after every event. Its ConfState's lists are the node's own, never
// changed in place (a change of configuration installs new ones): read
// them, do not write into them.
func (n *Node) BasicStatus() Status {
	r := n.r
	return Status{
		ID:             r.id,
		HardState:      r.hardState(),
		Applied:        r.log.applied,
		Lead:           r.lead,
		State:          r.state,
		FirstIndex:     r.log.firstIndex(),
		LastIndex:      r.log.lastIndex(),
		ConfState:      r.conf,
		Snapshot:       r.log.snapshot,
		LeadTransferee: r.leadTransferee,
	}
}

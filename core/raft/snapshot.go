package raft

// Snapshots and log compaction. The application snapshots its state machine
// at the applied index and tells raft once the snapshot is durable
// (SnapshotTaken); only then may entries up to it be purged, and only then is
// it offered to followers that need purged entries. purge_log(upto) purges up
// to the newest snapshot at most, and on the leader no further than what an
// active follower is still being sent.

// handleSnapshot is a follower receiving a snapshot from the leader.
func (r *raft) handleSnapshot(m Message) {
	s := m.Snapshot
	switch {
	case s == nil || s.Meta.Index == 0:
		return // malformed
	case s.Meta.Index <= r.log.committed:
		r.send(Message{To: m.From, Type: MsgAppResp, Index: r.log.committed})
		return
	case r.log.matchTerm(s.Meta.Index, s.Meta.Term):
		// We hold the snapshot's entries: just commit them.
		r.log.commitTo(s.Meta.Index)
		r.send(Message{To: m.From, Type: MsgAppResp, Index: r.log.committed})
		return
	case r.log.pendingSnapshot != nil:
		return // one restore at a time; the leader offers it again
	}
	r.log.restore(s)
	r.setConf(s.Meta.ConfState)
	r.confIndex = s.Meta.Index
	r.send(Message{To: m.From, Type: MsgAppResp, Index: r.log.lastIndex()})
}

func (r *raft) purgeLog(upto uint64) {
	r.purgeTarget = max(r.purgeTarget, upto)
	r.maybePurge()
}

// maybePurge purges as much of the requested prefix as is safe now.
func (r *raft) maybePurge() {
	target := min(r.purgeTarget, r.log.snapshot.Index, r.log.applied)
	if target <= r.log.prevIndex {
		return
	}
	if r.state == StateLeader {
		r.forEachPeer(func(_ uint64, pr *Progress) {
			if pr.RecentActive && pr.State != StateSnapshot && !pr.reverted && pr.Match < target {
				// This follower is being sent these entries; purging them
				// would force a snapshot on it. Wait.
				target = pr.Match
			}
		})
		if target <= r.log.prevIndex {
			return
		}
	}
	r.log.purgeTo(target)
	r.purgedTo = target
}

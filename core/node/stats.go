package node

import "github.com/picogo/picogo/core/raft"

// Stats are the events an operator counts (picogo's /metrics), counted
// where they happen. They only ever grow, from 0 at the start of the
// process; the driver reads them on its loop.
type Stats struct {
	// Proposals is entries this instance appended as leader (CaS writes,
	// governor steps, the sentinel, topology changes).
	Proposals uint64
	// ProposalsRefused is proposals Raft refused (not the leader, a
	// transfer under way).
	ProposalsRefused uint64
	// LeaderChanges is how often this instance saw the leader or its own
	// Raft state change.
	LeaderChanges uint64
	// SnapshotChunksSent is snapshot chunks served to followers catching up
	// (`.proc_raft_snapshot_next_chunk`).
	SnapshotChunksSent uint64
	// GovernorSteps and GovernorStepFailures count the governor's steps
	// this instance carried out as leader, and those that failed.
	GovernorSteps        uint64
	GovernorStepFailures uint64
	// SentinelOfflines is instances the sentinel set to target Offline.
	SentinelOfflines uint64
	// BucketsMoved is buckets whose ownership this instance's governor
	// flipped after copying their rows (BucketRowsCopied, to the new
	// owner); BucketMoveFailures is moves it began that failed (the copy
	// or the flip: the next plan copies the range again or rolls it back).
	BucketsMoved       uint64
	BucketRowsCopied   uint64
	BucketMoveFailures uint64
}

// Stats returns the counters so far.
func (n *Node) Stats() Stats { return n.stats }

// GovernorStep is the governor's step in progress ("idle" between steps,
// "not a leader" off the leader): one of governor's Step names, a bounded
// set fit for a metric's label.
func (n *Node) GovernorStep() string {
	switch {
	case n.ra == nil || n.ra.BasicStatus().State != raft.StateLeader:
		return "not a leader"
	case n.governor.gov.busy:
		return n.governor.gov.step
	}
	return "idle"
}

package raft

import (
	"errors"
	"fmt"
)

// Errors a caller can act on. Every refusal is one of these, never a panic:
// panics are kept for broken invariants of the node's own state.
var (
	// ErrProposalDropped: the proposal was not appended (no leader known,
	// forwarding disabled, a leadership transfer in progress, or the node
	// was removed). Retry, possibly elsewhere.
	ErrProposalDropped = errors.New("raft: proposal dropped")
	// ErrStepLocalMsg: a local-only message type arrived from the network.
	ErrStepLocalMsg = errors.New("raft: cannot step a local message from the network")
	// ErrStepPeerNotFound: a response came from a node that is not a member.
	ErrStepPeerNotFound = errors.New("raft: response from a node that is not a member")
	// ErrUnknownPeer: the named node is not a member.
	ErrUnknownPeer = errors.New("raft: unknown peer")
	// ErrConfChangePending: a membership change is already in flight.
	ErrConfChangePending = errors.New("raft: a configuration change is already pending")
	// ErrSnapshotOutOfDate: the snapshot is older than what the node has.
	ErrSnapshotOutOfDate = errors.New("raft: snapshot is out of date")
	// ErrNoSnapshot: nothing applied yet that a snapshot could capture.
	ErrNoSnapshot = errors.New("raft: nothing to snapshot")
	// ErrReadyPending: Advance was expected before another Ready.
	ErrReadyPending = errors.New("raft: previous Ready not advanced")
)

// NotLeaderError refuses a leader-only operation; Leader is the known leader
// or None.
type NotLeaderError struct {
	Leader uint64
}

func (e *NotLeaderError) Error() string {
	if e.Leader == None {
		return "raft: not the leader, leader unknown"
	}
	return fmt.Sprintf("raft: not the leader, leader is %d", e.Leader)
}

// InvalidConfChangeError refuses a malformed or unsafe membership change.
type InvalidConfChangeError struct {
	Reason string
}

func (e *InvalidConfChangeError) Error() string { return "raft: invalid conf change: " + e.Reason }

// LogReversionError is fatal: a follower holds less of the log than it
// acknowledged, so its disk lost acknowledged data. The leader stops
// replicating to it unless told to allow one reversion (AllowNextRevert).
type LogReversionError struct {
	Peer     uint64
	Match    uint64 // what the follower had acknowledged
	LastHeld uint64 // what it holds now
}

func (e *LogReversionError) Error() string {
	return fmt.Sprintf("raft: fatal: log of node %d reverted from %d to %d", e.Peer, e.Match, e.LastHeld)
}

// CampaignError says why a node did not start an election.
type CampaignError struct {
	ID     uint64
	Reason string
}

func (e *CampaignError) Error() string {
	return fmt.Sprintf("raft: node %d cannot campaign: %s", e.ID, e.Reason)
}

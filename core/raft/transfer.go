package raft

import "fmt"

// Leadership transfer: the leader stops taking proposals, brings the target
// up to date, then tells it to campaign at once (MsgTimeoutNow). Voters do not
// refuse that campaign for knowing a leader. A transfer that does not finish
// within an election timeout is abandoned.

// TransferError refuses a transfer to a node that cannot lead.
type TransferError struct {
	To     uint64
	Reason string
}

func (e *TransferError) Error() string {
	return fmt.Sprintf("raft: cannot transfer leadership to %d: %s", e.To, e.Reason)
}

func (r *raft) handleTransferLeader(target uint64) error {
	if err := r.checkTransferTarget(target); err != nil {
		return err
	}
	if target == r.id {
		return nil // already leading
	}
	if r.leadTransferee == target {
		return nil // already on its way
	}
	r.abortTransfer()
	r.leadTransferee = target
	// The transfer must complete within one election timeout.
	r.electionElapsed = 0
	if r.progress[target].Match == r.log.lastIndex() {
		r.sendTimeoutNow(target)
	} else {
		r.maybeSendAppend(target, true)
	}
	return nil
}

func (r *raft) checkTransferTarget(target uint64) error {
	switch pr := r.progress[target]; {
	case pr == nil:
		return &TransferError{To: target, Reason: "not a member"}
	case !r.voters.isVoter(target):
		// A learner must never be handed leadership (ra #525, openraft #1805).
		return &TransferError{To: target, Reason: "not a voter"}
	}
	return nil
}

func (r *raft) sendTimeoutNow(to uint64) {
	r.send(Message{To: to, Type: MsgTimeoutNow})
}

func (r *raft) abortTransfer() { r.leadTransferee = None }

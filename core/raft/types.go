package raft

import (
	"fmt"
	"slices"
)

// None is the absent node id: no leader, no vote.
const None uint64 = 0

// EntryType says how an entry's Data is interpreted.
type EntryType uint8

const (
	// EntryNormal carries an application command (empty Data: the no-op a
	// new leader appends to commit its term).
	EntryNormal EntryType = iota
	// EntryConfChange carries an encoded ConfChange.
	EntryConfChange
)

func (t EntryType) String() string {
	switch t {
	case EntryNormal:
		return "Normal"
	case EntryConfChange:
		return "ConfChange"
	}
	return fmt.Sprintf("EntryType(%d)", uint8(t))
}

// Entry is one record of the replicated log. On the wire it is a msgpack
// array [term, index, type, data].
type Entry struct {
	//lint:ignore U1000 msgpack reads this field's tag: encode as an array
	_msgpack struct{} `msgpack:",as_array"`

	Term  uint64    `msgpack:"term"`
	Index uint64    `msgpack:"index"`
	Type  EntryType `msgpack:"type"`
	Data  []byte    `msgpack:"data"`
}

// size is what an entry costs against the byte limits of batching and flow
// control.
func (e *Entry) size() uint64 { return uint64(len(e.Data)) + 24 }

func entriesSize(ents []Entry) uint64 {
	var n uint64
	for i := range ents {
		n += ents[i].size()
	}
	return n
}

// HardState is what must survive a crash before any message that depends on
// it leaves the node: the current term, the vote cast in it, and the commit
// index.
type HardState struct {
	Term   uint64 `msgpack:"term"`
	Vote   uint64 `msgpack:"vote"`
	Commit uint64 `msgpack:"commit"`
}

// IsEmpty reports whether hs is the state of a node that never started.
func (hs HardState) IsEmpty() bool { return hs == HardState{} }

// ConfState is a membership configuration. Outside joint consensus only
// Voters and Learners are set. In a joint configuration VotersOutgoing holds
// the old voters; LearnersNext holds voters being demoted, who become
// learners when the joint configuration is left.
type ConfState struct {
	Voters         []uint64 `msgpack:"voters"`
	VotersOutgoing []uint64 `msgpack:"voters_outgoing"`
	Learners       []uint64 `msgpack:"learners"`
	LearnersNext   []uint64 `msgpack:"learners_next"`
	// AutoLeave makes the leader propose leaving the joint configuration as
	// soon as entering it is applied.
	AutoLeave bool `msgpack:"auto_leave"`
}

// Joint reports whether cs is a joint configuration.
func (cs ConfState) Joint() bool { return len(cs.VotersOutgoing) > 0 }

// Equal compares two configurations; id lists are kept sorted.
func (cs ConfState) Equal(o ConfState) bool {
	return slices.Equal(cs.Voters, o.Voters) && slices.Equal(cs.VotersOutgoing, o.VotersOutgoing) &&
		slices.Equal(cs.Learners, o.Learners) && slices.Equal(cs.LearnersNext, o.LearnersNext) &&
		cs.AutoLeave == o.AutoLeave
}

func (cs ConfState) String() string {
	s := fmt.Sprintf("voters=%v", cs.Voters)
	if cs.Joint() {
		s = fmt.Sprintf("voters=%v&&%v", cs.Voters, cs.VotersOutgoing)
	}
	if len(cs.Learners) > 0 {
		s += fmt.Sprintf(" learners=%v", cs.Learners)
	}
	if len(cs.LearnersNext) > 0 {
		s += fmt.Sprintf(" learners_next=%v", cs.LearnersNext)
	}
	if cs.AutoLeave {
		s += " autoleave"
	}
	return s
}

// SnapshotMeta identifies a snapshot: the state machine as of Index (whose
// entry had Term), and the membership in force at that index.
type SnapshotMeta struct {
	Index     uint64    `msgpack:"index"`
	Term      uint64    `msgpack:"term"`
	ConfState ConfState `msgpack:"conf_state"`
}

// Snapshot is a snapshot's identity and its state machine data. Raft never
// looks inside Data: the leader emits MsgSnap with Data empty and the layer
// above fills it (or fetches it in chunks) before the follower steps it.
type Snapshot struct {
	Meta SnapshotMeta `msgpack:"meta"`
	Data []byte       `msgpack:"data"`
}

// StateType is a node's role.
type StateType uint8

const (
	StateFollower StateType = iota
	StatePreCandidate
	StateCandidate
	StateLeader
)

// String gives the names `.proc_raft_info` reports.
func (s StateType) String() string {
	switch s {
	case StateFollower:
		return "Follower"
	case StatePreCandidate:
		return "PreCandidate"
	case StateCandidate:
		return "Candidate"
	case StateLeader:
		return "Leader"
	}
	return fmt.Sprintf("StateType(%d)", uint8(s))
}

// MessageType enumerates what nodes say to each other. Local types are steps
// a node takes on itself and are refused from the network.
type MessageType uint8

const (
	MsgHup            MessageType = iota // local: start an election
	MsgBeat                              // local: leader broadcasts a heartbeat
	MsgProp                              // propose entries (local, or forwarded by a follower)
	MsgApp                               // append entries
	MsgAppResp                           // append accepted or rejected
	MsgVote                              // request a vote
	MsgVoteResp                          // vote granted or refused
	MsgPreVote                           // ask whether a vote would be granted
	MsgPreVoteResp                       // answer to MsgPreVote
	MsgSnap                              // install a snapshot
	MsgHeartbeat                         // leader is alive; carries commit and a read round
	MsgHeartbeatResp                     // heartbeat acknowledged
	MsgTransferLeader                    // ask the leader to hand over to From
	MsgTimeoutNow                        // campaign now, the leader is handing over
	MsgReadIndex                         // ask the leader to confirm a read index
	MsgReadIndexResp                     // confirmed read index
	MsgCheckQuorum                       // local: leader checks it still has a quorum
	msgTypeCount
)

var msgTypeNames = [...]string{
	MsgHup: "MsgHup", MsgBeat: "MsgBeat", MsgProp: "MsgProp", MsgApp: "MsgApp",
	MsgAppResp: "MsgAppResp", MsgVote: "MsgVote", MsgVoteResp: "MsgVoteResp",
	MsgPreVote: "MsgPreVote", MsgPreVoteResp: "MsgPreVoteResp", MsgSnap: "MsgSnap",
	MsgHeartbeat: "MsgHeartbeat", MsgHeartbeatResp: "MsgHeartbeatResp",
	MsgTransferLeader: "MsgTransferLeader", MsgTimeoutNow: "MsgTimeoutNow",
	MsgReadIndex: "MsgReadIndex", MsgReadIndexResp: "MsgReadIndexResp",
	MsgCheckQuorum: "MsgCheckQuorum",
}

func (t MessageType) String() string {
	if t < msgTypeCount {
		return msgTypeNames[t]
	}
	return fmt.Sprintf("MessageType(%d)", uint8(t))
}

// isLocal reports types a node only ever sends to itself.
func (t MessageType) isLocal() bool {
	return t == MsgHup || t == MsgBeat || t == MsgCheckQuorum
}

// isResponse reports types that answer a request.
func (t MessageType) isResponse() bool {
	switch t {
	case MsgAppResp, MsgVoteResp, MsgPreVoteResp, MsgHeartbeatResp, MsgReadIndexResp:
		return true
	}
	return false
}

// Message is what one node sends another. Field meanings by type:
//
//	MsgApp:        Index/LogTerm = the entry before Entries; Commit; Match = the
//	               follower's match as the leader knows it (detects log reversion)
//	MsgAppResp:    Index = last index now matching (or the rejected Index);
//	               Reject with RejectHint/LogTerm = where the follower's log may
//	               match; Reverted = the follower holds less than Match said
//	MsgVote(Pre):  Index/LogTerm = the candidate's last entry; Transfer = the
//	               campaign is a leadership transfer and must not be refused
//	               because a leader is known
//	MsgHeartbeat:  Commit; Match; Round = the leader's heartbeat round (acks
//	               confirm read indexes registered up to that round)
//	MsgSnap:       Snapshot
//	MsgReadIndex(Resp): Context = the caller's request id; Index = read index
//
// On the wire (inside `.proc_raft_interact`) a message is a msgpack array of
// its fields in this order.
type Message struct {
	//lint:ignore U1000 msgpack reads this field's tag: encode as an array
	_msgpack struct{} `msgpack:",as_array"`

	Type       MessageType `msgpack:"type"`
	To         uint64      `msgpack:"to"`
	From       uint64      `msgpack:"from"`
	Term       uint64      `msgpack:"term"`
	LogTerm    uint64      `msgpack:"log_term,omitempty"`
	Index      uint64      `msgpack:"index,omitempty"`
	Entries    []Entry     `msgpack:"entries,omitempty"`
	Commit     uint64      `msgpack:"commit,omitempty"`
	Match      uint64      `msgpack:"match,omitempty"`
	Round      uint64      `msgpack:"round,omitempty"`
	Snapshot   *Snapshot   `msgpack:"snapshot,omitempty"`
	Reject     bool        `msgpack:"reject,omitempty"`
	RejectHint uint64      `msgpack:"reject_hint,omitempty"`
	Reverted   bool        `msgpack:"reverted,omitempty"`
	Transfer   bool        `msgpack:"transfer,omitempty"`
	Context    []byte      `msgpack:"context,omitempty"`
}

// ReadState is a confirmed read index: once the state machine has applied
// Index, a read tagged Context is linearizable.
type ReadState struct {
	Index   uint64
	Context []byte
}

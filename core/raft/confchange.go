package raft

import (
	"fmt"
	"slices"

	"github.com/vmihailenco/msgpack/v5"
)

// ConfChangeType is one membership step.
type ConfChangeType uint8

const (
	// AddVoter adds a voter, or promotes a learner.
	AddVoter ConfChangeType = iota + 1
	// AddLearner adds a learner, or demotes a voter.
	AddLearner
	// RemoveNode removes a voter or learner.
	RemoveNode
)

func (t ConfChangeType) String() string {
	switch t {
	case AddVoter:
		return "v"
	case AddLearner:
		return "l"
	case RemoveNode:
		return "r"
	}
	return fmt.Sprintf("ConfChangeType(%d)", uint8(t))
}

// ConfChangeSingle changes one node.
type ConfChangeSingle struct {
	Type   ConfChangeType `msgpack:"type"`
	NodeID uint64         `msgpack:"node_id"`
}

// Transition chooses how a change is applied.
type Transition uint8

const (
	// TransitionAuto applies a change of at most one voter in one step and
	// anything larger through joint consensus left automatically.
	TransitionAuto Transition = iota
	// TransitionJointImplicit always goes through joint consensus and leaves
	// it automatically.
	TransitionJointImplicit
	// TransitionJointExplicit enters joint consensus and stays until an empty
	// ConfChange (LeaveJoint) is proposed.
	TransitionJointExplicit
)

// ConfChange is a membership change entry. No Changes means: leave the joint
// configuration.
type ConfChange struct {
	Transition Transition         `msgpack:"transition"`
	Changes    []ConfChangeSingle `msgpack:"changes"`
}

// LeaveJoint is the change that ends joint consensus.
func LeaveJoint() ConfChange { return ConfChange{} }

func (cc ConfChange) isLeaveJoint() bool { return len(cc.Changes) == 0 }

func (cc ConfChange) String() string {
	if cc.isLeaveJoint() {
		return "leave-joint"
	}
	s := ""
	for i, c := range cc.Changes {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%s%d", c.Type, c.NodeID)
	}
	switch cc.Transition {
	case TransitionJointImplicit:
		s += " (joint)"
	case TransitionJointExplicit:
		s += " (joint, explicit leave)"
	}
	return s
}

// Marshal encodes cc as an entry's Data.
func (cc ConfChange) Marshal() []byte {
	b, err := msgpack.Marshal(&cc)
	if err != nil {
		panic(fmt.Sprintf("raft: encoding a conf change cannot fail: %v", err))
	}
	return b
}

// UnmarshalConfChange decodes an entry's Data.
func UnmarshalConfChange(data []byte) (ConfChange, error) {
	var cc ConfChange
	if err := msgpack.Unmarshal(data, &cc); err != nil {
		return ConfChange{}, &InvalidConfChangeError{Reason: "undecodable: " + err.Error()}
	}
	return cc, nil
}

// applyConfChange computes the configuration that cc leads to from cs, or
// explains why cc is not allowed there. It is pure: every node computes the
// same result from the same log.
func applyConfChange(cs ConfState, cc ConfChange) (ConfState, error) {
	bad := func(format string, a ...any) (ConfState, error) {
		return ConfState{}, &InvalidConfChangeError{Reason: fmt.Sprintf(format, a...)}
	}
	if cc.isLeaveJoint() {
		if !cs.Joint() {
			return bad("not in a joint configuration, nothing to leave")
		}
		return ConfState{
			Voters:   slices.Clone(cs.Voters),
			Learners: sortedUnion(cs.Learners, cs.LearnersNext),
		}, nil
	}
	if cs.Joint() {
		return bad("already in a joint configuration; leave it first")
	}
	if cc.Transition > TransitionJointExplicit {
		return bad("unknown transition %d", cc.Transition)
	}
	voters := slices.Clone(cs.Voters)
	learners := slices.Clone(cs.Learners)
	var demoted []uint64
	for _, c := range cc.Changes {
		if c.NodeID == None {
			return bad("node id 0")
		}
		switch c.Type {
		case AddVoter:
			learners = remove(learners, c.NodeID)
			demoted = remove(demoted, c.NodeID)
			voters = insert(voters, c.NodeID)
		case AddLearner:
			if slices.Contains(voters, c.NodeID) {
				voters = remove(voters, c.NodeID)
				if slices.Contains(cs.Voters, c.NodeID) {
					demoted = insert(demoted, c.NodeID)
					continue
				}
			}
			learners = insert(learners, c.NodeID)
		case RemoveNode:
			voters = remove(voters, c.NodeID)
			learners = remove(learners, c.NodeID)
			demoted = remove(demoted, c.NodeID)
		default:
			return bad("unknown change type %d for node %d", c.Type, c.NodeID)
		}
	}
	if len(voters) == 0 {
		return bad("removes every voter")
	}
	changed := len(symmetricDiff(cs.Voters, voters))
	if len(cs.Voters) == 0 || cc.Transition == TransitionAuto && changed <= 1 {
		// The first configuration has nothing to overlap with; one voter
		// more or fewer keeps every new majority overlapping every old one,
		// so one step is safe.
		return ConfState{Voters: voters, Learners: sortedUnion(learners, demoted)}, nil
	}
	return ConfState{
		Voters:         voters,
		VotersOutgoing: slices.Clone(cs.Voters),
		Learners:       learners,
		LearnersNext:   demoted,
		AutoLeave:      cc.Transition != TransitionJointExplicit,
	}, nil
}

func insert(ids []uint64, id uint64) []uint64 {
	i, found := slices.BinarySearch(ids, id)
	if found {
		return ids
	}
	return slices.Insert(ids, i, id)
}

func remove(ids []uint64, id uint64) []uint64 {
	if i, found := slices.BinarySearch(ids, id); found {
		return slices.Delete(ids, i, i+1)
	}
	return ids
}

func sortedUnion(a, b []uint64) []uint64 {
	out := slices.Clone(a)
	for _, id := range b {
		out = insert(out, id)
	}
	return out
}

func symmetricDiff(a, b []uint64) []uint64 {
	var out []uint64
	for _, id := range a {
		if !slices.Contains(b, id) {
			out = append(out, id)
		}
	}
	for _, id := range b {
		if !slices.Contains(a, id) {
			out = append(out, id)
		}
	}
	return out
}

package raft

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ccOf(tr Transition, changes ...ConfChangeSingle) ConfChange {
	return ConfChange{Transition: tr, Changes: changes}
}

func av(id uint64) ConfChangeSingle { return ConfChangeSingle{Type: AddVoter, NodeID: id} }
func al(id uint64) ConfChangeSingle { return ConfChangeSingle{Type: AddLearner, NodeID: id} }
func rm(id uint64) ConfChangeSingle { return ConfChangeSingle{Type: RemoveNode, NodeID: id} }

// requireConfEqual compares configurations treating nil and empty id lists
// alike (ConfState.Equal does).
func requireConfEqual(t *testing.T, want, got ConfState) {
	t.Helper()
	require.Truef(t, want.Equal(got), "configuration:\nwant %v\n got %v", want, got)
}

func TestApplyConfChange(t *testing.T) {
	v123 := ConfState{Voters: []uint64{1, 2, 3}}
	tests := []struct {
		name    string
		from    ConfState
		cc      ConfChange
		want    ConfState
		wantErr string // substring of the InvalidConfChangeError reason
	}{
		// The first configuration.
		{
			name: "first configuration from empty",
			cc:   ccOf(TransitionAuto, av(1), av(2), av(3)),
			want: v123,
		},
		{
			name: "first configuration is simple even with explicit joint",
			cc:   ccOf(TransitionJointExplicit, av(3), av(1), al(4), av(2)),
			want: ConfState{Voters: []uint64{1, 2, 3}, Learners: []uint64{4}},
		},
		{
			name: "first configuration is simple even with implicit joint",
			cc:   ccOf(TransitionJointImplicit, av(1)),
			want: ConfState{Voters: []uint64{1}},
		},
		{
			name:    "first configuration without voters",
			cc:      ccOf(TransitionAuto, al(1)),
			wantErr: "removes every voter",
		},

		// Simple changes.
		{
			name: "add voter",
			from: v123,
			cc:   ccOf(TransitionAuto, av(4)),
			want: ConfState{Voters: []uint64{1, 2, 3, 4}},
		},
		{
			name: "add existing voter is a no-op",
			from: v123,
			cc:   ccOf(TransitionAuto, av(2)),
			want: v123,
		},
		{
			name: "add learner",
			from: v123,
			cc:   ccOf(TransitionAuto, al(5)),
			want: ConfState{Voters: []uint64{1, 2, 3}, Learners: []uint64{5}},
		},
		{
			name: "add several learners stays simple",
			from: v123,
			cc:   ccOf(TransitionAuto, al(6), al(4), al(5)),
			want: ConfState{Voters: []uint64{1, 2, 3}, Learners: []uint64{4, 5, 6}},
		},
		{
			name: "promote learner",
			from: ConfState{Voters: []uint64{1, 2, 3}, Learners: []uint64{4, 5}},
			cc:   ccOf(TransitionAuto, av(4)),
			want: ConfState{Voters: []uint64{1, 2, 3, 4}, Learners: []uint64{5}},
		},
		{
			name: "demote voter alone is simple",
			from: v123,
			cc:   ccOf(TransitionAuto, al(3)),
			want: ConfState{Voters: []uint64{1, 2}, Learners: []uint64{3}},
		},
		{
			name: "remove voter",
			from: v123,
			cc:   ccOf(TransitionAuto, rm(2)),
			want: ConfState{Voters: []uint64{1, 3}},
		},
		{
			name: "remove learner",
			from: ConfState{Voters: []uint64{1, 2, 3}, Learners: []uint64{4}},
			cc:   ccOf(TransitionAuto, rm(4)),
			want: v123,
		},
		{
			name: "remove unknown node is a no-op",
			from: v123,
			cc:   ccOf(TransitionAuto, rm(9)),
			want: v123,
		},
		{
			name: "demote then remove in one change",
			from: v123,
			cc:   ccOf(TransitionAuto, al(3), rm(3)),
			want: ConfState{Voters: []uint64{1, 2}},
		},
		{
			name: "add voter then make it a learner",
			from: v123,
			cc:   ccOf(TransitionAuto, av(4), al(4)),
			want: ConfState{Voters: []uint64{1, 2, 3}, Learners: []uint64{4}},
		},
		{
			name: "demote then re-promote cancels out",
			from: v123,
			cc:   ccOf(TransitionAuto, al(2), av(2)),
			want: v123,
		},
		{
			name: "swapping one voter for another changes two: joint",
			from: v123,
			cc:   ccOf(TransitionAuto, rm(3), av(4)),
			want: ConfState{Voters: []uint64{1, 2, 4}, VotersOutgoing: []uint64{1, 2, 3}, AutoLeave: true},
		},

		// Joint consensus.
		{
			name: "two voters added go through joint with auto leave",
			from: v123,
			cc:   ccOf(TransitionAuto, av(4), av(5)),
			want: ConfState{Voters: []uint64{1, 2, 3, 4, 5}, VotersOutgoing: []uint64{1, 2, 3}, AutoLeave: true},
		},
		{
			name: "demote in joint mode goes to LearnersNext",
			from: v123,
			cc:   ccOf(TransitionAuto, al(3), av(4)),
			want: ConfState{
				Voters: []uint64{1, 2, 4}, VotersOutgoing: []uint64{1, 2, 3},
				LearnersNext: []uint64{3}, AutoLeave: true,
			},
		},
		{
			name: "learner added in joint mode is a learner at once",
			from: v123,
			cc:   ccOf(TransitionJointImplicit, al(5)),
			want: ConfState{
				Voters: []uint64{1, 2, 3}, VotersOutgoing: []uint64{1, 2, 3},
				Learners: []uint64{5}, AutoLeave: true,
			},
		},
		{
			name: "promote learner in joint mode",
			from: ConfState{Voters: []uint64{1, 2, 3}, Learners: []uint64{4}},
			cc:   ccOf(TransitionJointImplicit, av(4)),
			want: ConfState{Voters: []uint64{1, 2, 3, 4}, VotersOutgoing: []uint64{1, 2, 3}, AutoLeave: true},
		},
		{
			name: "implicit joint for a single voter change",
			from: v123,
			cc:   ccOf(TransitionJointImplicit, av(4)),
			want: ConfState{Voters: []uint64{1, 2, 3, 4}, VotersOutgoing: []uint64{1, 2, 3}, AutoLeave: true},
		},
		{
			name: "explicit joint does not auto leave",
			from: v123,
			cc:   ccOf(TransitionJointExplicit, av(4)),
			want: ConfState{Voters: []uint64{1, 2, 3, 4}, VotersOutgoing: []uint64{1, 2, 3}},
		},
		{
			name: "explicit joint with demotion",
			from: v123,
			cc:   ccOf(TransitionJointExplicit, al(1)),
			want: ConfState{Voters: []uint64{2, 3}, VotersOutgoing: []uint64{1, 2, 3}, LearnersNext: []uint64{1}},
		},
		{
			name: "leave joint merges LearnersNext into Learners",
			from: ConfState{
				Voters: []uint64{1, 2, 4}, VotersOutgoing: []uint64{1, 2, 3},
				Learners: []uint64{5}, LearnersNext: []uint64{3}, AutoLeave: true,
			},
			cc:   LeaveJoint(),
			want: ConfState{Voters: []uint64{1, 2, 4}, Learners: []uint64{3, 5}},
		},
		{
			name: "leave explicit joint",
			from: ConfState{Voters: []uint64{1, 2, 3, 4}, VotersOutgoing: []uint64{1, 2, 3}},
			cc:   ccOf(TransitionJointExplicit),
			want: ConfState{Voters: []uint64{1, 2, 3, 4}},
		},

		// Refusals.
		{
			name:    "leave when not joint",
			from:    v123,
			cc:      LeaveJoint(),
			wantErr: "not in a joint configuration",
		},
		{
			name:    "leave from empty",
			cc:      LeaveJoint(),
			wantErr: "not in a joint configuration",
		},
		{
			name:    "change while joint",
			from:    ConfState{Voters: []uint64{1, 2, 3, 4}, VotersOutgoing: []uint64{1, 2, 3}, AutoLeave: true},
			cc:      ccOf(TransitionAuto, av(5)),
			wantErr: "already in a joint configuration",
		},
		{
			name:    "remove the only voter",
			from:    ConfState{Voters: []uint64{1}, Learners: []uint64{2}},
			cc:      ccOf(TransitionAuto, rm(1)),
			wantErr: "removes every voter",
		},
		{
			name:    "remove all voters",
			from:    v123,
			cc:      ccOf(TransitionJointImplicit, rm(1), rm(2), rm(3)),
			wantErr: "removes every voter",
		},
		{
			name:    "demote all voters",
			from:    ConfState{Voters: []uint64{1}},
			cc:      ccOf(TransitionAuto, al(1)),
			wantErr: "removes every voter",
		},
		{
			name:    "node id 0",
			from:    v123,
			cc:      ccOf(TransitionAuto, av(0)),
			wantErr: "node id 0",
		},
		{
			name:    "node id 0 after valid changes",
			from:    v123,
			cc:      ccOf(TransitionAuto, av(4), rm(0)),
			wantErr: "node id 0",
		},
		{
			name:    "unknown change type 0",
			from:    v123,
			cc:      ccOf(TransitionAuto, ConfChangeSingle{Type: 0, NodeID: 4}),
			wantErr: "unknown change type 0",
		},
		{
			name:    "unknown change type 9",
			from:    v123,
			cc:      ccOf(TransitionAuto, ConfChangeSingle{Type: 9, NodeID: 4}),
			wantErr: "unknown change type 9",
		},
		{
			name:    "unknown transition",
			from:    v123,
			cc:      ccOf(TransitionJointExplicit+1, av(4)),
			wantErr: "unknown transition 3",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from := cloneConfState(tt.from)
			got, err := applyConfChange(tt.from, tt.cc)
			// Pure: the input configuration is never modified.
			requireConfEqual(t, from, tt.from)
			if tt.wantErr != "" {
				var ice *InvalidConfChangeError
				require.True(t, errors.As(err, &ice), "want *InvalidConfChangeError, got %v", err)
				assert.Contains(t, ice.Reason, tt.wantErr)
				requireConfEqual(t, ConfState{}, got)
				return
			}
			require.NoError(t, err)
			requireConfEqual(t, tt.want, got)
			assert.Equal(t, len(tt.want.VotersOutgoing) > 0, got.Joint())
		})
	}
}

// TestApplyConfChangeSequence runs a realistic series of changes, each from
// the result of the previous one.
func TestApplyConfChangeSequence(t *testing.T) {
	steps := []struct {
		cc   ConfChange
		want ConfState
	}{
		{ccOf(TransitionAuto, av(1)), ConfState{Voters: []uint64{1}}},
		{ccOf(TransitionAuto, al(2)), ConfState{Voters: []uint64{1}, Learners: []uint64{2}}},
		{ccOf(TransitionAuto, av(2)), ConfState{Voters: []uint64{1, 2}}},
		{ccOf(TransitionAuto, av(3), al(4)), ConfState{Voters: []uint64{1, 2, 3}, Learners: []uint64{4}}},
		{
			ccOf(TransitionJointExplicit, av(4), al(1)),
			ConfState{Voters: []uint64{2, 3, 4}, VotersOutgoing: []uint64{1, 2, 3}, LearnersNext: []uint64{1}},
		},
		{LeaveJoint(), ConfState{Voters: []uint64{2, 3, 4}, Learners: []uint64{1}}},
		{ccOf(TransitionAuto, rm(1)), ConfState{Voters: []uint64{2, 3, 4}}},
	}
	var cs ConfState
	for i, s := range steps {
		next, err := applyConfChange(cs, s.cc)
		require.NoError(t, err, "step %d: %v", i, s.cc)
		requireConfEqual(t, s.want, next)
		cs = next
	}
}

func TestConfChangeMarshalRoundTrip(t *testing.T) {
	for _, cc := range []ConfChange{
		ccOf(TransitionAuto, av(1)),
		ccOf(TransitionJointImplicit, av(1), al(2), rm(3)),
		ccOf(TransitionJointExplicit, av(1<<63), al(42)),
	} {
		t.Run(cc.String(), func(t *testing.T) {
			got, err := UnmarshalConfChange(cc.Marshal())
			require.NoError(t, err)
			assert.Equal(t, cc, got)
		})
	}
	t.Run("leave joint", func(t *testing.T) {
		got, err := UnmarshalConfChange(LeaveJoint().Marshal())
		require.NoError(t, err)
		assert.True(t, got.isLeaveJoint())
		assert.Equal(t, TransitionAuto, got.Transition)
	})
}

func TestUnmarshalConfChangeGarbage(t *testing.T) {
	valid := ccOf(TransitionJointImplicit, av(1), av(2)).Marshal()
	for name, data := range map[string][]byte{
		"empty":          nil,
		"reserved code":  {0xc1},
		"text":           []byte("this is not msgpack"),
		"truncated":      valid[:len(valid)-1],
		"array not map":  {0x92, 0x01, 0x02},
		"wrong field ty": {0x81, 0xa7, 'c', 'h', 'a', 'n', 'g', 'e', 's', 0xa3, 'a', 'b', 'c'},
	} {
		t.Run(name, func(t *testing.T) {
			cc, err := UnmarshalConfChange(data)
			var ice *InvalidConfChangeError
			require.True(t, errors.As(err, &ice), "want *InvalidConfChangeError, got %v (decoded %+v)", err, cc)
			assert.Contains(t, ice.Reason, "undecodable")
			assert.Equal(t, ConfChange{}, cc)
		})
	}
}

func TestConfChangeString(t *testing.T) {
	assert.Equal(t, "leave-joint", LeaveJoint().String())
	assert.Equal(t, "v1 l2 r3", ccOf(TransitionAuto, av(1), al(2), rm(3)).String())
	assert.Equal(t, "v4 (joint)", ccOf(TransitionJointImplicit, av(4)).String())
	assert.Equal(t, "v4 (joint, explicit leave)", ccOf(TransitionJointExplicit, av(4)).String())
	assert.Equal(t, "ConfChangeType(7)4", ccOf(TransitionAuto, ConfChangeSingle{Type: 7, NodeID: 4}).String())
}

package raft

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// matchOf turns a table of match indexes into the lookup quorum functions
// take; ids not in the table have matched nothing.
func matchOf(m map[uint64]uint64) func(uint64) uint64 {
	return func(id uint64) uint64 { return m[id] }
}

// okOf turns a set of ids into the predicate hasQuorum takes.
func okOf(ids ...uint64) func(uint64) bool {
	set := map[uint64]bool{}
	for _, id := range ids {
		set[id] = true
	}
	return func(id uint64) bool { return set[id] }
}

func TestMajorityCommitted(t *testing.T) {
	tests := []struct {
		name  string
		ids   majority
		match map[uint64]uint64
		want  uint64
	}{
		{"empty set allows everything", nil, nil, ^uint64(0)},
		{"single voter", majority{1}, map[uint64]uint64{1: 7}, 7},
		{"single voter nothing matched", majority{1}, nil, 0},
		{"two voters need both", majority{1, 2}, map[uint64]uint64{1: 9, 2: 4}, 4},
		{"three voters median", majority{1, 2, 3}, map[uint64]uint64{1: 5, 2: 3, 3: 1}, 3},
		{"three voters order independent", majority{1, 2, 3}, map[uint64]uint64{1: 1, 2: 5, 3: 3}, 3},
		{"three voters one silent", majority{1, 2, 3}, map[uint64]uint64{1: 8, 2: 6}, 6},
		{"three voters two silent", majority{1, 2, 3}, map[uint64]uint64{1: 8}, 0},
		{"four voters need three", majority{1, 2, 3, 4}, map[uint64]uint64{1: 5, 2: 4, 3: 2, 4: 1}, 2},
		{"four voters two high two low", majority{1, 2, 3, 4}, map[uint64]uint64{1: 10, 2: 10}, 0},
		{"five voters need three", majority{1, 2, 3, 4, 5}, map[uint64]uint64{1: 9, 2: 8, 3: 7, 4: 2, 5: 1}, 7},
		{"five voters ties", majority{1, 2, 3, 4, 5}, map[uint64]uint64{1: 4, 2: 4, 3: 4, 4: 4, 5: 4}, 4},
		{"six voters need four", majority{1, 2, 3, 4, 5, 6}, map[uint64]uint64{1: 6, 2: 5, 3: 4, 4: 3, 5: 2, 6: 1}, 3},
		{"non-voters do not count", majority{1, 2, 3}, map[uint64]uint64{1: 5, 7: 5, 8: 5}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.ids.committed(matchOf(tt.match)))
		})
	}
}

func TestMajorityResult(t *testing.T) {
	tests := []struct {
		name  string
		ids   majority
		votes map[uint64]bool
		want  voteResult
	}{
		{"empty set never restricts", nil, nil, voteWon},
		{"single voter granted", majority{1}, map[uint64]bool{1: true}, voteWon},
		{"single voter refused", majority{1}, map[uint64]bool{1: false}, voteLost},
		{"single voter missing", majority{1}, nil, votePending},
		{"three: two grants win", majority{1, 2, 3}, map[uint64]bool{1: true, 2: true}, voteWon},
		{"three: all grant", majority{1, 2, 3}, map[uint64]bool{1: true, 2: true, 3: true}, voteWon},
		{"three: one grant two missing", majority{1, 2, 3}, map[uint64]bool{1: true}, votePending},
		{"three: one grant one refusal one missing", majority{1, 2, 3}, map[uint64]bool{1: true, 2: false}, votePending},
		{"three: two refusals lose", majority{1, 2, 3}, map[uint64]bool{1: true, 2: false, 3: false}, voteLost},
		{"three: two refusals one missing lose", majority{1, 2, 3}, map[uint64]bool{2: false, 3: false}, voteLost},
		{"three: one refusal two missing", majority{1, 2, 3}, map[uint64]bool{1: false}, votePending},
		{"three: nothing yet", majority{1, 2, 3}, map[uint64]bool{}, votePending},
		{"four: two grants not enough", majority{1, 2, 3, 4}, map[uint64]bool{1: true, 2: true}, votePending},
		{"four: two grants one refusal", majority{1, 2, 3, 4}, map[uint64]bool{1: true, 2: true, 3: false}, votePending},
		{"four: two grants two refusals lose", majority{1, 2, 3, 4}, map[uint64]bool{1: true, 2: true, 3: false, 4: false}, voteLost},
		{"four: three grants win", majority{1, 2, 3, 4}, map[uint64]bool{1: true, 2: true, 4: true}, voteWon},
		{"five: three grants win", majority{1, 2, 3, 4, 5}, map[uint64]bool{1: true, 3: true, 5: true, 2: false}, voteWon},
		{"five: three refusals lose", majority{1, 2, 3, 4, 5}, map[uint64]bool{1: true, 3: false, 4: false, 5: false}, voteLost},
		{"votes of non-voters ignored", majority{1, 2, 3}, map[uint64]bool{7: true, 8: true, 9: true}, votePending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.ids.result(tt.votes))
		})
	}
}

func TestMajorityHasQuorum(t *testing.T) {
	tests := []struct {
		name string
		ids  majority
		ok   []uint64
		want bool
	}{
		{"empty set", nil, nil, true},
		{"single yes", majority{1}, []uint64{1}, true},
		{"single no", majority{1}, nil, false},
		{"three: two", majority{1, 2, 3}, []uint64{1, 3}, true},
		{"three: one", majority{1, 2, 3}, []uint64{2}, false},
		{"four: two", majority{1, 2, 3, 4}, []uint64{1, 2}, false},
		{"four: three", majority{1, 2, 3, 4}, []uint64{1, 2, 4}, true},
		{"outsiders do not count", majority{1, 2, 3}, []uint64{1, 8, 9}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.ids.hasQuorum(okOf(tt.ok...)))
		})
	}
}

func TestJointConfigCommitted(t *testing.T) {
	tests := []struct {
		name  string
		j     jointConfig
		match map[uint64]uint64
		want  uint64
	}{
		{"empty config commits nothing", jointConfig{}, map[uint64]uint64{1: 10}, 0},
		{"incoming only", jointConfig{incoming: majority{1, 2, 3}}, map[uint64]uint64{1: 10, 2: 7, 3: 2}, 7},
		{"outgoing only", jointConfig{outgoing: majority{1, 2, 3}}, map[uint64]uint64{1: 10, 2: 7, 3: 2}, 7},
		{
			"joint: outgoing holds it back",
			jointConfig{incoming: majority{1, 2, 3}, outgoing: majority{3, 4, 5}},
			map[uint64]uint64{1: 10, 2: 10, 3: 10, 4: 3, 5: 2},
			3,
		},
		{
			"joint: minimum of both majorities",
			jointConfig{incoming: majority{1, 2, 3}, outgoing: majority{4, 5, 6}},
			map[uint64]uint64{1: 10, 2: 10, 3: 1, 4: 6, 5: 6, 6: 1},
			6,
		},
		{
			"joint: incoming lags",
			jointConfig{incoming: majority{1, 2, 3}, outgoing: majority{4, 5, 6}},
			map[uint64]uint64{1: 3, 2: 1, 3: 1, 4: 9, 5: 9, 6: 9},
			1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.j.committed(matchOf(tt.match)))
		})
	}
}

func TestJointConfigResult(t *testing.T) {
	in, out := majority{1, 2, 3}, majority{3, 4, 5}
	tests := []struct {
		name  string
		j     jointConfig
		votes map[uint64]bool
		want  voteResult
	}{
		{"empty config loses", jointConfig{}, map[uint64]bool{1: true}, voteLost},
		{"empty config with no votes loses", jointConfig{}, nil, voteLost},
		{"simple config won", jointConfig{incoming: in}, map[uint64]bool{1: true, 2: true}, voteWon},
		{"simple config pending", jointConfig{incoming: in}, map[uint64]bool{1: true}, votePending},
		{"joint: both won", jointConfig{in, out}, map[uint64]bool{1: true, 3: true, 4: true}, voteWon},
		{"joint: incoming won outgoing pending", jointConfig{in, out}, map[uint64]bool{1: true, 2: true}, votePending},
		{"joint: outgoing won incoming pending", jointConfig{in, out}, map[uint64]bool{4: true, 5: true}, votePending},
		{"joint: incoming won outgoing lost", jointConfig{in, out}, map[uint64]bool{1: true, 2: true, 4: false, 5: false}, voteLost},
		{"joint: incoming lost outgoing won", jointConfig{in, out}, map[uint64]bool{1: false, 2: false, 4: true, 5: true}, voteLost},
		{"joint: shared voter refusal counts in both", jointConfig{in, out}, map[uint64]bool{3: false, 1: false, 4: true, 5: true}, voteLost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.j.result(tt.votes))
		})
	}
}

func TestJointConfigHasQuorum(t *testing.T) {
	in, out := majority{1, 2, 3}, majority{3, 4, 5}
	tests := []struct {
		name string
		j    jointConfig
		ok   []uint64
		want bool
	}{
		{"empty config has no quorum", jointConfig{}, []uint64{1, 2, 3}, false},
		{"simple yes", jointConfig{incoming: in}, []uint64{1, 2}, true},
		{"simple no", jointConfig{incoming: in}, []uint64{1, 4, 5}, false},
		{"joint both", jointConfig{in, out}, []uint64{1, 3, 4}, true},
		{"joint incoming only", jointConfig{in, out}, []uint64{1, 2}, false},
		{"joint outgoing only", jointConfig{in, out}, []uint64{4, 5}, false},
		{"joint disjoint majorities", jointConfig{in, out}, []uint64{1, 2, 4, 5}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.j.hasQuorum(okOf(tt.ok...)))
		})
	}
}

func TestJointConfigIsVoter(t *testing.T) {
	j := jointConfig{incoming: majority{1, 2}, outgoing: majority{2, 3}}
	for id, want := range map[uint64]bool{1: true, 2: true, 3: true, 4: false, 0: false} {
		assert.Equal(t, want, j.isVoter(id), "id %d", id)
	}
	assert.True(t, jointConfig{}.empty())
	assert.False(t, jointConfig{outgoing: majority{1}}.empty())
}

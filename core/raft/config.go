package raft

import (
	"errors"
	"math/rand/v2"

	"github.com/picogo/picogo/core/mutant"
)

// Config is everything a node is told at construction. Time is counted in
// ticks: the driver calls Tick at a fixed period (100 ms in production).
type Config struct {
	// ID is this node's raft id; never 0.
	ID uint64
	// ElectionTick: a follower that hears no leader for a randomized
	// [ElectionTick, 2*ElectionTick) ticks starts an election. A leader
	// checks its quorum every ElectionTick ticks.
	ElectionTick int
	// HeartbeatTick: the leader's heartbeat period.
	HeartbeatTick int
	// PreVote: ask for votes without raising the term first, so a node that
	// cannot win never disrupts the cluster with a higher term.
	PreVote bool
	// CheckQuorum: a leader that has not heard from a quorum for an election
	// timeout steps down, and voters refuse to depose a leader they heard
	// from within the election timeout.
	CheckQuorum bool
	// MaxMsgBytes and MaxMsgEntries bound the entries of one MsgApp.
	MaxMsgBytes   uint64
	MaxMsgEntries int
	// MaxInflightMsgs and MaxInflightBytes bound what is sent to one follower
	// and not yet acknowledged.
	MaxInflightMsgs  int
	MaxInflightBytes uint64
	// DisableProposalForwarding makes a follower drop proposals instead of
	// forwarding them to the leader.
	DisableProposalForwarding bool
	// mutants are the deliberate bugs switched on in this node: always none
	// outside a -tags mutants build (SetMutants). Zero bytes in production.
	mutants mutant.Set
	// Rand draws election timeouts. Injected so that one seed decides them.
	Rand *rand.Rand
}

// DefaultConfig is the production configuration for node id: ticks of 100 ms,
// heartbeats every 1 s, elections after 10–20 s, PreVote and CheckQuorum on.
func DefaultConfig(id uint64, r *rand.Rand) Config {
	return Config{
		ID:               id,
		ElectionTick:     100,
		HeartbeatTick:    10,
		PreVote:          true,
		CheckQuorum:      true,
		MaxMsgBytes:      1 << 20,
		MaxMsgEntries:    1024,
		MaxInflightMsgs:  256,
		MaxInflightBytes: 32 << 20,
		Rand:             r,
	}
}

func (c *Config) validate() error {
	switch {
	case c.ID == None:
		return errors.New("raft: config: ID must not be 0")
	case c.HeartbeatTick <= 0:
		return errors.New("raft: config: HeartbeatTick must be positive")
	case c.ElectionTick <= c.HeartbeatTick:
		return errors.New("raft: config: ElectionTick must be greater than HeartbeatTick")
	case c.MaxInflightMsgs <= 0:
		return errors.New("raft: config: MaxInflightMsgs must be positive")
	case c.MaxMsgEntries <= 0:
		return errors.New("raft: config: MaxMsgEntries must be positive")
	case c.Rand == nil:
		return errors.New("raft: config: Rand must be injected")
	}
	if c.MaxMsgBytes == 0 {
		c.MaxMsgBytes = 1 << 20
	}
	if c.MaxInflightBytes == 0 {
		c.MaxInflightBytes = 1 << 62
	}
	return nil
}

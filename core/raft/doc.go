// Package raft is picogo's Raft consensus: a pure, deterministic state
// machine. Its inputs are the methods of Node; its outputs are collected in
// Ready. It does no IO, starts no goroutines, reads no clock and takes its
// randomness from an injected *rand.Rand, so that the seeded simulator and
// the production runtime run the very same code.
//
// It implements leader election with PreVote and CheckQuorum, batched and
// pipelined replication with per-follower flow control and fast conflict
// backtracking, durability ordering, snapshots and log purging, joint
// consensus with learners, leadership transfer, ReadIndex and log-reversion
// detection. README.md maps each behaviour to the tests that cover it.
package raft

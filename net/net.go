// Package net defines how instances reach each other and how clients reach an
// instance: iproto frames (the Tarantool binary protocol, package
// net/iproto) carrying Proc API calls and their replies.
//
// Instances talk to each other exactly as clients talk to them: Raft
// messages travel inside `.proc_raft_interact` calls, snapshot chunks inside
// `.proc_raft_snapshot_next_chunk`. The simulated network (sim) and the TCP
// transport (net/tcp, with its issue) implement these interfaces and carry
// the same bytes, so every simulated run exercises the codec.
package net

import "time"

// Transports own the framing: they write frames (a length, then the
// packet) and hand the other side packets, as iproto.ReadFrame reads them.

// Transport sends requests to other instances.
type Transport interface {
	// Roundtrip sends one iproto request frame to the instance listening at
	// addr, on a session authenticated as the transport's user. done runs
	// exactly once on the driver's loop: with the response packet, or with
	// an error when the peer is unreachable or timeout passes first.
	Roundtrip(addr string, frame []byte, timeout time.Duration, done func(packet []byte, err error))
}

// Handler serves the request packets of an authenticated session (the
// greeting and AUTH are the transport's business). reply takes the response
// frame; it may be called later, but exactly once.
type Handler interface {
	Handle(user string, packet []byte, reply func(frame []byte))
}

// Error is an error reply as iproto carries it: a Tarantool error code, a
// message, and structured fields (MP_ERROR's, e.g. the leader to redirect
// to).
type Error struct {
	Code    uint32
	Message string
	Fields  map[string]any
}

func (e *Error) Error() string { return e.Message }

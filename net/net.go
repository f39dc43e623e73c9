// Package net defines how instances reach each other and how clients reach an
// instance: Proc API calls over the Tarantool binary protocol (iproto).
//
// Instances talk to each other exactly as clients talk to them: a call of a
// named `.proc_*` procedure with msgpack-encoded arguments, answered with a
// msgpack-encoded result or an error. Raft messages travel inside
// `.proc_raft_interact` calls, snapshot chunks inside
// `.proc_raft_snapshot_next_chunk`. The simulated network (net/simnet) and the
// TCP transport (net/iproto) implement these interfaces and carry the same
// bytes, so every seed exercises the codec.
package net

import "time"

// Call is one procedure call from a client or another instance.
type Call struct {
	// User is the authenticated user of the session the call arrived on.
	User string
	// Proc is the procedure name, e.g. ".proc_raft_interact".
	Proc string
	// Args is the msgpack array of arguments, as on the wire.
	Args []byte
}

// Result is the answer to a Call: a msgpack-encoded value, or an error.
type Result struct {
	Data []byte
	Err  *Error
}

// Error is an error reply as iproto carries it: a Tarantool error code and a
// message.
type Error struct {
	Code    uint32
	Message string
}

func (e *Error) Error() string { return e.Message }

// Transport sends calls to other instances.
type Transport interface {
	// Call invokes call.Proc on the instance listening at addr. done is run
	// exactly once on the driver's loop: with the result, or with an error
	// when the peer is unreachable or timeout passes first.
	Call(addr string, call Call, timeout time.Duration, done func(Result))
}

// Handler serves calls arriving at an instance. reply may be invoked later
// (after Raft commits, say) but exactly once.
type Handler interface {
	Serve(from string, call Call, reply func(Result))
}

// Package node is one picogo instance as a deterministic state machine: Raft
// (through core/ra), the global tables (core/tables) and the Proc API's
// behaviour, composed — a thin router over modules (lifecycle, cas,
// consensus, governor, reads, users; see registry.go), each of which owns
// its state and registers its procedures and tick work. It never does IO:
// everything it wants done comes out as an Effect, and everything that
// happens to it comes in through the methods listed here. The simulator and the production runtime drive it the
// same way. The requests, results and error codes are package api's (shared
// with clients); their wire format belongs to package proc.
//
// This file is the whole interface of an instance.
//
// Events (methods of *Node):
//
//	Tick()                          one period of the instance's clock passed
//	Call(id, user, req)             a request arrived from a client or an instance
//	CallDone(id, result, err)       the answer to an OutCall this instance made
//	PersistDone(stream, id)         a Persist is durable
//	PersistFailed(stream, id, err)  a Persist failed: the instance fail-stops
//	Shutdown()                      stop gracefully: Offline first
//	Login(attempt)                  a client logs in (answered at once, see logins.go)
//
// Effects (TakeEffects):
//
//	Reply      answer request id
//	OutCall    call a procedure on another instance
//	Persist    write a batch to this instance's disk, on a stream (synced when Sync)
//	Note       something an operator would want in the log or trace
//	FailStop   the instance cannot go on: the driver stops it, saying why
//	Alert      an operator must see this; the instance goes on
//	Started    the instance has its identity and runs Raft
//	Terminate  the instance stops (with Delete: and deletes its data)
package node

import (
	"fmt"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/disk"
)

// CallID identifies a request (incoming) or an OutCall (outgoing); the driver
// chooses incoming ids, the node outgoing ones.
type CallID uint64

// Effect is something the driver must do.
type Effect interface{ isEffect() }

// Reply answers request ID: Values are the procedure's return values (the
// iproto DATA array), or Err.
type Reply struct {
	ID     CallID
	Values []any
	Err    *api.Error
}

// OutCall asks the driver to call Request on the instance at To. The answer
// comes back as CallDone(ID, ...), at the latest after Timeout.
type OutCall struct {
	ID      CallID
	To      string
	Request api.Request
	Timeout time.Duration
}

// Persist is one atomic write on a stream; PersistDone(Stream, ID) reports
// it durable. A stream has one write outstanding at a time.
type Persist struct {
	Stream Stream
	ID     uint64
	Batch  *disk.Batch
	Sync   bool
}

// Stream is an ordered sequence of writes: the driver makes a stream's
// writes durable in the order issued; writes of different streams are
// independent, so that one stream's fsyncs never hold another's writes
// back (the replicaset's data must not wait behind Raft's log).
type Stream uint8

const (
	// StreamRaftLog: the Raft log, hard state and snapshots, and the
	// instance's identity.
	StreamRaftLog Stream = iota
	// StreamReplicasetLog: the user data's log of row changes and its
	// checkpoints (core/wal's writes, made by the data module's
	// replication.Member).
	StreamReplicasetLog
	// Streams is how many there are.
	Streams
)

func (s Stream) String() string {
	switch s {
	case StreamRaftLog:
		return "raft-log"
	case StreamReplicasetLog:
		return "replicaset-log"
	}
	return fmt.Sprintf("stream-%d", uint8(s))
}

// Note is a meaningful event, for logs and traces.
type Note struct {
	Event  string
	Detail string
}

// FailStop: the instance cannot go on — its disk failed a write, it could
// not boot, the cluster refused its join, a snapshot cannot be restored —
// and decides nothing more. The driver stops the process and says why
// (picogo run exits 1; the simulator fails the run, or a scripted cluster
// records it as the member's Fatal).
type FailStop struct{ Err error }

// Alert is what an operator must see while the instance goes on: a
// follower's log went backwards (replication to it halts until
// allow_next_revert). The simulator fails a run on one.
type Alert struct{ Err error }

// Started: the instance has its identity and now runs Raft.
type Started struct{ Identity Identity }

// Terminate: the instance stops; with Delete it deletes its data. Expelled
// says the cluster expelled it: it must never run again (a restart is
// refused).
type Terminate struct {
	Delete   bool
	Expelled bool
	Reason   string
}

func (Reply) isEffect()     {}
func (OutCall) isEffect()   {}
func (Persist) isEffect()   {}
func (Note) isEffect()      {}
func (FailStop) isEffect()  {}
func (Alert) isEffect()     {}
func (Terminate) isEffect() {}
func (Started) isEffect()   {}

// Package ra is a replicated state machine server over core/raft, with the
// API of RabbitMQ's ra (process/pipeline commands, local/leader/consistent
// queries, membership, lifecycle) and openraft's triggers (elect, heartbeat,
// snapshot, purge_log, transfer_leader, allow_next_revert).
//
// A Server is deterministic and single-threaded like the Raft node under it:
// every method is an event, and everything it wants done comes out as
// Effects (send, persist, reply, fetch a snapshot chunk, terminate). The
// simulator and the production runtime drive it the same way. Nothing a
// caller asks can hang: every request ends in a reply, at the latest when
// its timeout (in ticks) runs out.
package ra

import (
	"errors"
	"fmt"

	"github.com/picogo/picogo/core/raft"
)

// Command is one committed command handed to the state machine.
type Command struct {
	Index uint64
	Data  []byte
}

// StateMachine is the application replicated by Raft. It must be
// deterministic: the same commands give the same state and replies on every
// server.
type StateMachine interface {
	// Apply applies committed commands in order and returns one reply each.
	Apply(cmds []Command) []any
	// Snapshot captures the state as applied now. The view must not change
	// when later commands are applied.
	Snapshot() Snapshotter
	// Restore replaces the whole state with a snapshot's chunks, in order.
	Restore(chunks []Chunk) error
}

// Snapshotter reads a snapshot in chunks by position. Positions are the
// state machine's own (for the global tables: table id and tuple offset).
type Snapshotter interface {
	// Chunk returns the chunk starting at pos (nil: the beginning); its Next
	// is nil for the last chunk.
	Chunk(pos []byte) (Chunk, error)
}

// Chunk is one piece of a snapshot.
type Chunk struct {
	Pos  []byte `msgpack:"pos"`
	Data []byte `msgpack:"data"`
	Next []byte `msgpack:"next"`
}

// StoredSnapshot is a snapshot as kept on disk and served to followers.
type StoredSnapshot struct {
	Meta   raft.SnapshotMeta `msgpack:"meta"`
	Chunks []Chunk           `msgpack:"chunks"`
}

// ReqID identifies a caller's request in its Reply; the driver chooses it.
type ReqID uint64

// Correlation tags a pipelined command in its notification; 0 means no
// notification.
type Correlation uint64

// Priority of a pipelined command.
type Priority uint8

const (
	// Normal commands are appended at once.
	Normal Priority = iota
	// Low commands are held and appended in batches; a normal command may
	// overtake them.
	Low
)

// Query reads the state machine. It must not modify it.
type Query func(sm StateMachine) any

// Membership is how a member takes part.
type Membership uint8

const (
	Voter Membership = iota
	Learner
)

// Errors.
var (
	// ErrTimeout: no outcome within the request's timeout. A command may
	// still be applied later: the outcome is unknown.
	ErrTimeout = errors.New("ra: timeout")
	// ErrTerminated: this server has stopped (left the cluster, or the
	// cluster was deleted).
	ErrTerminated = errors.New("ra: server terminated")
	// ErrClusterDeleted: the cluster applied its end of life; nothing more
	// is accepted.
	ErrClusterDeleted = errors.New("ra: cluster deleted")
	// ErrBusy: a membership change or a cluster deletion is already in
	// progress on this leader.
	ErrBusy = errors.New("ra: a membership change is already in progress")
	// ErrProposalDropped: the command was appended but another entry took
	// its index (leadership changed): it was definitely not applied.
	ErrProposalDropped = errors.New("ra: proposal dropped: another entry took its index")
)

// NotLeaderError redirects a leader-only request; Leader is None if unknown.
type NotLeaderError = raft.NotLeaderError

// FatalError wraps a fatal condition reported by Raft.
type FatalError struct{ Err error }

func (e *FatalError) Error() string { return fmt.Sprintf("ra: fatal: %v", e.Err) }
func (e *FatalError) Unwrap() error { return e.Err }

// Effect is something the driver must do.
type Effect interface{ isEffect() }

// Send delivers Raft messages to server To (in order).
type Send struct {
	To       uint64
	Messages []raft.Message
}

// Persist is one atomic write to the server's disk. When it is durable the
// driver calls PersistDone(ID). Writes are issued one at a time.
type Persist struct {
	ID        uint64
	HardState *raft.HardState
	// Snapshot to store. With ReplacesLog (a snapshot from the leader) every
	// stored entry is deleted first; otherwise (a local snapshot) entries
	// stay until PurgeTo says otherwise.
	Snapshot    *StoredSnapshot
	ReplacesLog bool
	// Entries replace any stored entry from Entries[0].Index on.
	Entries []raft.Entry
	// PurgeTo deletes stored entries up to and including it.
	PurgeTo uint64
	Sync    bool
}

// Reply answers a request.
type Reply struct {
	Req    ReqID
	Result any
	// Leader is the leader known when the reply was made (ra returns it with
	// every command reply).
	Leader uint64
	// Index and Term of the entry a command was applied as.
	Index, Term uint64
	Err         error
}

// Applied notifies the caller of pipelined commands: their correlations and
// replies, in apply order, batched.
type Applied struct {
	Leader  uint64
	Results []CorrelatedReply
}

// CorrelatedReply is one pipelined command's outcome.
type CorrelatedReply struct {
	Corr  Correlation
	Reply any
}

// Rejected tells the caller of pipelined commands that this server is not
// the leader; resend to Leader (None: unknown yet).
type Rejected struct {
	Leader uint64
	Corr   Correlation
}

// FetchChunk asks server From for the snapshot chunk at Pos of the snapshot
// (Term, Index); the driver answers with ChunkArrived(Req, ...).
type FetchChunk struct {
	Req   uint64
	From  uint64
	Term  uint64
	Index uint64
	Pos   []byte
}

// Terminate: this server stops; with Delete its data is removed too.
type Terminate struct {
	Delete bool
	Reason string
}

// TerminateMember: server ID left the cluster and should be stopped (and its
// data deleted with Delete).
type TerminateMember struct {
	ID     uint64
	Delete bool
}

// LeaderChanged reports a change of leader or role.
type LeaderChanged struct {
	Leader uint64
	Term   uint64
	State  raft.StateType
}

// Fatal: the server cannot go on (a snapshot it cannot take or restore):
// the instance must stop.
type Fatal struct{ Err error }

// Alert reports what an operator must see and the server survives: a
// follower's log reverted (replication to it halts until
// AllowNextRevert).
type Alert struct{ Err error }

func (Send) isEffect()            {}
func (Persist) isEffect()         {}
func (Reply) isEffect()           {}
func (Applied) isEffect()         {}
func (Rejected) isEffect()        {}
func (FetchChunk) isEffect()      {}
func (Terminate) isEffect()       {}
func (TerminateMember) isEffect() {}
func (LeaderChanged) isEffect()   {}
func (Fatal) isEffect()           {}
func (Alert) isEffect()           {}

// Package node is one picogo instance as a deterministic state machine: Raft
// (through core/ra), the global tables (core/tables) and the Proc API's
// behaviour, composed. It never does IO: everything it wants done comes out
// as an Effect, and everything that happens to it comes in through the
// methods listed here. The simulator and the production runtime drive it the
// same way; the wire format of requests and replies belongs to package proc.
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

	"github.com/picogo/picogo/core/discovery"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/disk"
)

// CallID identifies a request (incoming) or an OutCall (outgoing); the driver
// chooses incoming ids, the node outgoing ones.
type CallID uint64

// Request is a decoded procedure call.
type Request interface{ Proc() string }

// The requests an instance serves (argument shapes: seeds/000; decoding:
// package proc).
type (
	// VersionInfo: `.proc_version_info()`.
	VersionInfo struct{}
	// RaftInfo: `.proc_raft_info()`.
	RaftInfo struct{}
	// GetIndex: `.proc_get_index()` — the applied index.
	GetIndex struct{}
	// ReadIndex: `.proc_read_index(timeout)` — a linearizable read index,
	// answered once applied here.
	ReadIndex struct{ Timeout time.Duration }
	// WaitIndex: `.proc_wait_index(target, timeout)` — wait until target is
	// applied here; answers the applied index.
	WaitIndex struct {
		Target  uint64
		Timeout time.Duration
	}
	// RaftPromote: `.proc_raft_promote()` — campaign now.
	RaftPromote struct{}
	// RaftInteract: `.proc_raft_interact(raft_messages, sender_address?)`.
	// SenderAddress is picogo's addition: an instance that has not applied
	// the sender's join yet still learns where to answer.
	RaftInteract struct {
		Messages      []raft.Message
		SenderAddress string
	}
	// SnapshotNextChunk: `.proc_raft_snapshot_next_chunk(term, index, position)`.
	SnapshotNextChunk struct {
		Term, Index uint64
		Position    tables.SnapshotPosition
	}
	// Cas: `.proc_cas(cluster_id, predicate, op, as_user)`; as_user is a
	// user id (AsUser) or, when AsUserName is set, a user name.
	Cas struct {
		ClusterID  string
		Predicate  Predicate
		Op         tables.Op
		AsUser     uint32
		AsUserName string
	}
	// Select: a local read of a table by primary key (iproto SELECT); no
	// Key reads the whole table in key order.
	Select struct {
		Table uint32
		Key   []any
		Limit uint32
	}
	// Discover: `.proc_discover(request, receiver)`.
	Discover struct {
		Request  discovery.Request
		Receiver string
	}
	// RaftJoin: `.proc_raft_join(cluster_id, instance_id, replicaset_id,
	// advertise_address, failure_domain, tier)`; instance_uuid is
	// picogo's addition: a retried join names the uuid it was given.
	RaftJoin struct {
		ClusterID     string
		InstanceID    string
		ReplicasetID  string
		Address       string
		FailureDomain map[string]string
		Tier          string
		InstanceUUID  string
	}
	// UpdateInstance: `.proc_update_instance(instance_id, cluster_id,
	// current_grade, target_grade, failure_domain, dont_retry)`.
	UpdateInstance struct {
		InstanceID    string
		ClusterID     string
		CurrentGrade  *tables.Grade
		TargetGrade   string
		FailureDomain map[string]string
		DontRetry     bool
	}
	// Expel: `.proc_expel(cluster_id, instance_id)`; ExpelRedirect
	// forwards it to the leader and waits until the instance is expelled.
	Expel         struct{ ClusterID, InstanceID string }
	ExpelRedirect struct{ ClusterID, InstanceID string }
	// InstanceInfo: `.proc_instance_info(instance_id?)`.
	InstanceInfo struct{ InstanceID string }
	// RuntimeInfo: `.proc_runtime_info()`.
	RuntimeInfo struct{}
	// Replication: `.proc_replication(is_master, replicaset_peers)`.
	Replication struct {
		IsMaster bool
		Peers    []string
	}
	// Sharding: `.proc_sharding(raft_term, raft_index, timeout,
	// do_reconfigure)`.
	Sharding struct {
		Term, Index   uint64
		Timeout       time.Duration
		DoReconfigure bool
	}
	// ShardingBootstrap: `.proc_sharding_bootstrap(raft_term, raft_index,
	// timeout)`.
	ShardingBootstrap struct {
		Term, Index uint64
		Timeout     time.Duration
	}
	// UnlockUser: `.proc_unlock_user(name)` (picogo's) — lift the lock
	// failed logins put on user name on this instance; answers whether it
	// was locked.
	UnlockUser struct{ Name string }
)

func (VersionInfo) Proc() string       { return ".proc_version_info" }
func (RaftInfo) Proc() string          { return ".proc_raft_info" }
func (GetIndex) Proc() string          { return ".proc_get_index" }
func (ReadIndex) Proc() string         { return ".proc_read_index" }
func (WaitIndex) Proc() string         { return ".proc_wait_index" }
func (RaftPromote) Proc() string       { return ".proc_raft_promote" }
func (RaftInteract) Proc() string      { return ".proc_raft_interact" }
func (SnapshotNextChunk) Proc() string { return ".proc_raft_snapshot_next_chunk" }
func (Cas) Proc() string               { return ".proc_cas" }
func (Select) Proc() string            { return "select" }
func (Discover) Proc() string          { return ".proc_discover" }
func (RaftJoin) Proc() string          { return ".proc_raft_join" }
func (UpdateInstance) Proc() string    { return ".proc_update_instance" }
func (Expel) Proc() string             { return ".proc_expel" }
func (ExpelRedirect) Proc() string     { return ".proc_expel_redirect" }
func (InstanceInfo) Proc() string      { return ".proc_instance_info" }
func (RuntimeInfo) Proc() string       { return ".proc_runtime_info" }
func (Replication) Proc() string       { return ".proc_replication" }
func (Sharding) Proc() string          { return ".proc_sharding" }
func (ShardingBootstrap) Proc() string { return ".proc_sharding_bootstrap" }
func (UnlockUser) Proc() string        { return ".proc_unlock_user" }

// Predicate is a CaS predicate: the caller read the state as of Index (an
// entry of Term) and expects nothing in Ranges to have changed since.
type Predicate struct {
	Index  uint64         `msgpack:"index"`
	Term   uint64         `msgpack:"term"`
	Ranges []tables.Range `msgpack:"ranges"`
}

// Results of requests (msgpack shapes: seeds/000).
type (
	VersionInfoResult struct {
		PicodataVersion string `msgpack:"picodata_version"`
		ProcAPIVersion  string `msgpack:"proc_api_version"`
	}
	RaftInfoResult struct {
		ID       uint64 `msgpack:"id"`
		Term     uint64 `msgpack:"term"`
		Applied  uint64 `msgpack:"applied"`
		LeaderID uint64 `msgpack:"leader_id"`
		State    string `msgpack:"state"`
	}
	// ChunkResult is a snapshot chunk as `.proc_raft_snapshot_next_chunk`
	// returns it: the encoded SnapshotData, and its next position.
	ChunkResult struct {
		Data []byte
		Next *tables.SnapshotPosition
	}
	// JoinResult answers `.proc_raft_join`.
	JoinResult struct {
		Instance       InstanceRow   `msgpack:"instance"`
		PeerAddresses  []PeerAddress `msgpack:"peer_addresses"`
		BoxReplication []string      `msgpack:"box_replication"`
	}
	PeerAddress struct {
		RaftID  uint64 `msgpack:"raft_id"`
		Address string `msgpack:"address"`
	}
	// InstanceRow is a _pico_instance row as procedures return it.
	InstanceRow struct {
		InstanceID     string            `msgpack:"instance_id"`
		InstanceUUID   string            `msgpack:"instance_uuid"`
		RaftID         uint64            `msgpack:"raft_id"`
		ReplicasetID   string            `msgpack:"replicaset_id"`
		ReplicasetUUID string            `msgpack:"replicaset_uuid"`
		CurrentGrade   GradeResult       `msgpack:"current_grade"`
		TargetGrade    GradeResult       `msgpack:"target_grade"`
		FailureDomain  map[string]string `msgpack:"failure_domain"`
		Tier           string            `msgpack:"tier"`
	}
	GradeResult struct {
		Variant     string `msgpack:"variant"`
		Incarnation uint64 `msgpack:"incarnation"`
	}
	// InstanceInfoResult answers `.proc_instance_info`.
	InstanceInfoResult struct {
		RaftID           uint64            `msgpack:"raft_id"`
		AdvertiseAddress string            `msgpack:"advertise_address"`
		InstanceID       string            `msgpack:"instance_id"`
		InstanceUUID     string            `msgpack:"instance_uuid"`
		ReplicasetID     string            `msgpack:"replicaset_id"`
		ReplicasetUUID   string            `msgpack:"replicaset_uuid"`
		ClusterID        string            `msgpack:"cluster_id"`
		CurrentGrade     GradeResult       `msgpack:"current_grade"`
		TargetGrade      GradeResult       `msgpack:"target_grade"`
		Tier             string            `msgpack:"tier"`
		FailureDomain    map[string]string `msgpack:"failure_domain,omitempty"`
	}
	// RuntimeInfoResult answers `.proc_runtime_info`.
	RuntimeInfoResult struct {
		Raft        RaftInfoResult    `msgpack:"raft"`
		VersionInfo VersionInfoResult `msgpack:"version_info"`
		Internal    InternalInfo      `msgpack:"internal"`
	}
	InternalInfo struct {
		MainLoopStatus     string `msgpack:"main_loop_status"`
		GovernorLoopStatus string `msgpack:"governor_loop_status"`
		// The Raft configuration as this instance has applied it
		// (picogo's): voters and learners, with a joint configuration's
		// outgoing voters and next learners.
		RaftVoters   []uint64 `msgpack:"raft_voters"`
		RaftLearners []uint64 `msgpack:"raft_learners"`
	}
)

// RowOf is the procedures' view of an instance row.
func RowOf(i tables.Instance) InstanceRow {
	return InstanceRow{InstanceID: i.InstanceID, InstanceUUID: i.InstanceUUID, RaftID: i.RaftID,
		ReplicasetID: i.ReplicasetID, ReplicasetUUID: i.ReplicasetUUID,
		CurrentGrade:  GradeResult{Variant: i.Current.Variant, Incarnation: i.Current.Incarnation},
		TargetGrade:   GradeResult{Variant: i.Target.Variant, Incarnation: i.Target.Incarnation},
		FailureDomain: i.FailureDomain, Tier: i.Tier}
}

// Effect is something the driver must do.
type Effect interface{ isEffect() }

// Reply answers request ID: Values are the procedure's return values (the
// iproto DATA array), or Err.
type Reply struct {
	ID     CallID
	Values []any
	Err    *Error
}

// OutCall asks the driver to call Request on the instance at To. The answer
// comes back as CallDone(ID, ...), at the latest after Timeout.
type OutCall struct {
	ID      CallID
	To      string
	Request Request
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
	// StreamReplicasetLog: the replicaset's log of row changes (written
	// by the storage of user data).
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

// Error is an error reply: a stable code, a message, and for redirects the
// leader to try.
type Error struct {
	Code     uint32
	Message  string
	LeaderID uint64
}

func (e *Error) Error() string { return e.Message }

// Error codes. CaS codes follow Picodata (base 10000); the rest are
// Tarantool's.
const (
	CodeIllegalParams   uint32 = 1
	CodeTimeout         uint32 = 78
	CodeNoConnection    uint32 = 77
	CodeProcLua         uint32 = 32
	CodeNoSuchProc      uint32 = 33
	CodeNoSuchSpace     uint32 = 36
	CodeAccessDenied    uint32 = 42
	CodeNoSuchUser      uint32 = 45
	CodeNotALeader      uint32 = 10001
	CodeClusterIDMis    uint32 = 10002
	CodeTermMismatch    uint32 = 10003
	CodeCompacted       uint32 = 10005
	CodeNoSuchIndex     uint32 = 10006
	CodeConflictFound   uint32 = 10007
	CodeEntryTermMis    uint32 = 10008
	CodeTableNotAllowed uint32 = 10009
	CodeKeyTypeMismatch uint32 = 10010
	CodeEmptyBatch      uint32 = 10011
	CodeTooLarge        uint32 = 10012
	CodeLeaderUnknown   uint32 = 10018
	CodeTableNotOper    uint32 = 10023
	CodeProposalDropped uint32 = 10027
	// CodeNotReady: the instance does not run Raft yet (discovering,
	// joining); try another.
	CodeNotReady uint32 = 10030
	// CodeJoinRefused: the cluster will not take this instance (its request
	// breaks a rule); retrying does not help.
	CodeJoinRefused uint32 = 10031
	// CodeTopology: a topology change breaks a rule (expel the last
	// instance, update an expelled one).
	CodeTopology uint32 = 10032
	// CodeExpelled: the instance asked about is expelled.
	CodeExpelled uint32 = 10033
)

// Retriable reports whether a request that failed with code may succeed if
// tried again (after re-reading, or at the leader).
func Retriable(code uint32) bool {
	switch code {
	case CodeNotALeader, CodeLeaderUnknown, CodeTermMismatch, CodeCompacted, CodeEntryTermMis,
		CodeConflictFound, CodeProposalDropped:
		return true
	}
	return false
}

func errorf(code uint32, format string, a ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, a...)}
}

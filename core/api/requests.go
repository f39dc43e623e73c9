// Package api is the Proc API as both sides of a call see it: the requests
// an instance serves with their procedure names, the results they answer,
// the error reply with its codes, and the versions an instance reports.
// Clients (proc's wire codec, the simulator's and chaos's clients, bench,
// workload, the CLI) and the instance (core/node) share these types; what a
// procedure does is core/node's business, how it is encoded on the wire is
// package proc's. It is a leaf: it imports only the core packages whose
// values travel in requests (tables, raft, discovery, vclock, tuple).
package api

import (
	"time"

	"github.com/picogo/picogo/core/discovery"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/vclock"
)

// Version is what `.proc_version_info` reports.
const (
	Version        = "picogo-0.1.0"
	ProcAPIVersion = "1.0.0"
)

// Request is a decoded procedure call.
type Request interface{ Proc() string }

// The requests an instance serves. Each is its procedure's arguments, in
// order: package proc derives the wire codec from the `arg` tags (see
// "Arguments" below); core/node registers what the procedure does.
type (
	// VersionInfo: `.proc_version_info()`.
	VersionInfo struct{}
	// RaftInfo: `.proc_raft_info()`.
	RaftInfo struct{}
	// GetIndex: `.proc_get_index()` — the applied index.
	GetIndex struct{}
	// ReadIndex: `.proc_read_index(timeout)` — a linearizable read index,
	// answered once applied here.
	ReadIndex struct {
		Timeout time.Duration `arg:"timeout"`
	}
	// WaitIndex: `.proc_wait_index(target, timeout)` — wait until target is
	// applied here; answers the applied index.
	WaitIndex struct {
		Target  uint64        `arg:"target,index"`
		Timeout time.Duration `arg:"timeout"`
	}
	// RaftPromote: `.proc_raft_promote()` — campaign now.
	RaftPromote struct{}
	// RaftInteract: `.proc_raft_interact(raft_messages, sender_address?)`.
	// SenderAddress is picogo's addition: an instance that has not applied
	// the sender's join yet still learns where to answer.
	RaftInteract struct {
		Messages      []raft.Message `arg:"raft_messages"`
		SenderAddress string         `arg:"sender_address,optional,nil"`
	}
	// SnapshotNextChunk: `.proc_raft_snapshot_next_chunk(term, index, position)`.
	SnapshotNextChunk struct {
		Term     uint64                  `arg:"raft_term"`
		Index    uint64                  `arg:"raft_index"`
		Position tables.SnapshotPosition `arg:"snapshot_position"`
	}
	// Cas: `.proc_cas(cluster_id, predicate, op, as_user)`; as_user is a
	// user id (AsUser) or, when AsUserName is set, a user name (its
	// arguments are encoded by EncodeArgs and DecodeArgs, below).
	Cas struct {
		ClusterID  string    `arg:"cluster_id"`
		Predicate  Predicate `arg:"predicate"`
		Op         tables.Op `arg:"op"`
		AsUser     uint32    `arg:"as_user"`
		AsUserName string
	}
	// Select: a local read of a table (iproto SELECT, not a procedure):
	// the tuples Iterator yields over index Index (0, the primary key, by
	// default) from Key, skipping Offset of them, at most Limit (0: no
	// limit). Iterator is Tarantool's code (IterEQ, the zero value, ...
	// IterGT); with no Key, EQ reads the whole table in key order, as ALL
	// does (Tarantool's rule).
	Select struct {
		Table    uint32
		Key      []any
		Limit    uint32
		Index    uint32
		Iterator uint8
		Offset   uint32
	}
	// Insert, Replace, Update, Upsert, Delete: Tarantool's DML on a table
	// (iproto INSERT, REPLACE, UPDATE, UPSERT, DELETE; not procedures).
	// Tuple is the tuple to store, Key a full key of index Index (a unique
	// one), Ops the update operations ([op, field, arg] each, field
	// numbers 0-based).
	Insert struct {
		Table uint32
		Tuple []any
	}
	Replace struct {
		Table uint32
		Tuple []any
	}
	Update struct {
		Table uint32
		Index uint32
		Key   []any
		Ops   [][]any
	}
	Upsert struct {
		Table uint32
		Tuple []any
		Ops   [][]any
	}
	Delete struct {
		Table uint32
		Index uint32
		Key   []any
	}
	// Discover: `.proc_discover(request, receiver)`.
	Discover struct {
		Request  discovery.Request `arg:"request"`
		Receiver string            `arg:"receiver"`
	}
	// RaftJoin: `.proc_raft_join(cluster_id, instance_id, replicaset_id,
	// advertise_address, failure_domain, tier)`; instance_uuid is
	// picogo's addition: a retried join names the uuid it was given.
	RaftJoin struct {
		ClusterID     string            `arg:"cluster_id"`
		InstanceID    string            `arg:"instance_id,nil"`
		ReplicasetID  string            `arg:"replicaset_id,nil"`
		Address       string            `arg:"advertise_address"`
		FailureDomain map[string]string `arg:"failure_domain,empty"`
		Tier          string            `arg:"tier"`
		InstanceUUID  string            `arg:"instance_uuid,optional,nil"`
	}
	// UpdateInstance: `.proc_update_instance(instance_id, cluster_id,
	// current_grade, target_grade, failure_domain, dont_retry)`.
	UpdateInstance struct {
		InstanceID    string            `arg:"instance_id"`
		ClusterID     string            `arg:"cluster_id"`
		CurrentGrade  *tables.Grade     `arg:"current_grade"`
		TargetGrade   string            `arg:"target_grade,nil"`
		FailureDomain map[string]string `arg:"failure_domain"`
		DontRetry     bool              `arg:"dont_retry"`
	}
	// Expel: `.proc_expel(cluster_id, instance_id)`; ExpelRedirect
	// forwards it to the leader and waits until the instance is expelled.
	Expel struct {
		ClusterID  string `arg:"cluster_id"`
		InstanceID string `arg:"instance_id"`
	}
	ExpelRedirect struct {
		ClusterID  string `arg:"cluster_id"`
		InstanceID string `arg:"instance_id"`
	}
	// ReplicasetWeight: `.proc_replicaset_weight(cluster_id,
	// replicaset_id, weight)` sets a ready replicaset's weight (on the
	// leader; any instance forwards): its share of its tier's buckets. 0
	// drains it — the governor moves its buckets away —; 1 is the default.
	ReplicasetWeight struct {
		ClusterID    string  `arg:"cluster_id"`
		ReplicasetID string  `arg:"replicaset_id"`
		Weight       float64 `arg:"weight"`
	}
	// InstanceInfo: `.proc_instance_info(instance_id?)`.
	InstanceInfo struct {
		InstanceID string `arg:"instance_id,optional,nil"`
	}
	// RuntimeInfo: `.proc_runtime_info()`.
	RuntimeInfo struct{}
	// Replication: `.proc_replication(is_master, replicaset_peers)`.
	Replication struct {
		IsMaster bool     `arg:"is_master"`
		Peers    []string `arg:"replicaset_peers"`
	}
	// Sharding: `.proc_sharding(raft_term, raft_index, timeout,
	// do_reconfigure)`.
	Sharding struct {
		Term          uint64        `arg:"raft_term"`
		Index         uint64        `arg:"raft_index"`
		Timeout       time.Duration `arg:"timeout"`
		DoReconfigure bool          `arg:"do_reconfigure"`
	}
	// ShardingBootstrap: `.proc_sharding_bootstrap(raft_term, raft_index,
	// timeout)`.
	ShardingBootstrap struct {
		Term    uint64        `arg:"raft_term"`
		Index   uint64        `arg:"raft_index"`
		Timeout time.Duration `arg:"timeout"`
	}
	// ApplySchemaChange: `.proc_apply_schema_change(raft_term, raft_index,
	// timeout)` — once raft_index is applied (with raft_term), "Ok" if the
	// pending schema change can be applied here, {"Abort": {"reason":
	// ...}} if not (SchemaChangeResult).
	ApplySchemaChange struct {
		Term    uint64        `arg:"raft_term"`
		Index   uint64        `arg:"raft_index"`
		Timeout time.Duration `arg:"timeout"`
	}
	// GetVClock: `.proc_get_vclock(fence?)` — this instance's vclock (a
	// map {raft_id: lsn}). With fence (a failover's survey), a replica then
	// takes no more shipments from its master (replication.Member.Fence).
	GetVClock struct {
		Fence bool `arg:"fence,optional,nil"`
	}
	// WaitVClock: `.proc_wait_vclock(target, timeout)` — wait until this
	// instance's vclock reaches target in every component; answers the
	// vclock (which may be ahead of target). A timeout is an error.
	WaitVClock struct {
		Target  vclock.VClock `arg:"target,empty"`
		Timeout time.Duration `arg:"timeout"`
	}
	// ReplicationDemote: `.proc_replication_demote()` — read-only at once;
	// answers the vclock, which covers every write this instance accepted
	// as master.
	ReplicationDemote struct{}
	// ReplicationPromote: `.proc_replication_promote(vclock, timeout)` —
	// wait until this instance's vclock reaches vclock (the demoted
	// master's), then accept writes; a timeout is an error and leaves it
	// read-only.
	ReplicationPromote struct {
		VClock  vclock.VClock `arg:"vclock,empty"`
		Timeout time.Duration `arg:"timeout"`
	}
	// ReplicasetShip: `.proc_replicaset_ship(from, payload)` (picogo's) —
	// row changes (or a part of a full copy) shipped by raft id from to a
	// member of its replicaset; answers one binary value. Both payloads
	// are core/replication's, opaque to everything in between.
	ReplicasetShip struct {
		From    uint64 `arg:"from"`
		Payload []byte `arg:"payload"`
	}
	// UnlockUser: `.proc_unlock_user(name)` (picogo's) — lift the lock
	// failed logins put on user name on this instance; answers whether it
	// was locked.
	UnlockUser struct {
		Name string `arg:"name"`
	}
	// GetPeerAddress: `.proc_get_peer_address(raft_id)` (picogo's) — where
	// this instance reaches raft_id: its _pico_peer_address row, or the
	// address it learnt before its tables had one (a join's answer, a Raft
	// message's sender); nil if it knows none.
	GetPeerAddress struct {
		RaftID uint64 `arg:"raft_id"`
	}
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
func (Insert) Proc() string            { return "insert" }
func (Replace) Proc() string           { return "replace" }
func (Update) Proc() string            { return "update" }
func (Upsert) Proc() string            { return "upsert" }
func (Delete) Proc() string            { return "delete" }
func (Discover) Proc() string          { return ".proc_discover" }
func (RaftJoin) Proc() string          { return ".proc_raft_join" }
func (UpdateInstance) Proc() string    { return ".proc_update_instance" }
func (Expel) Proc() string             { return ".proc_expel" }
func (ExpelRedirect) Proc() string     { return ".proc_expel_redirect" }
func (ReplicasetWeight) Proc() string  { return ".proc_replicaset_weight" }
func (InstanceInfo) Proc() string      { return ".proc_instance_info" }
func (RuntimeInfo) Proc() string       { return ".proc_runtime_info" }
func (Replication) Proc() string       { return ".proc_replication" }
func (Sharding) Proc() string          { return ".proc_sharding" }
func (ShardingBootstrap) Proc() string { return ".proc_sharding_bootstrap" }
func (ApplySchemaChange) Proc() string { return ".proc_apply_schema_change" }
func (GetVClock) Proc() string         { return ".proc_get_vclock" }
func (WaitVClock) Proc() string        { return ".proc_wait_vclock" }
func (ReplicationDemote) Proc() string { return ".proc_replication_demote" }
func (ReplicationPromote) Proc() string {
	return ".proc_replication_promote"
}
func (ReplicasetShip) Proc() string { return ".proc_replicaset_ship" }
func (UnlockUser) Proc() string     { return ".proc_unlock_user" }
func (GetPeerAddress) Proc() string { return ".proc_get_peer_address" }

// Select's iterators: Tarantool's codes (IPROTO_ITERATOR).
const (
	IterEQ  uint8 = 0 // keys equal to Key (a prefix for a partial key), ascending
	IterREQ uint8 = 1 // the same, descending
	IterALL uint8 = 2 // every tuple, ascending (from Key, if any: as GE)
	IterLT  uint8 = 3 // keys less than Key, descending
	IterLE  uint8 = 4 // keys less than or equal, descending
	IterGE  uint8 = 5 // keys greater than or equal, ascending
	IterGT  uint8 = 6 // keys greater, ascending
)

// Predicate is a CaS predicate: the caller read the state as of Index (an
// entry of Term) and expects nothing in Ranges to have changed since.
type Predicate struct {
	Index  uint64         `msgpack:"index"`
	Term   uint64         `msgpack:"term"`
	Ranges []tables.Range `msgpack:"ranges"`
}

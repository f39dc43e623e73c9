// Package api is the Proc API as both sides of a call see it: the requests
// an instance serves with their procedure names, the results they answer,
// the error reply with its codes, and the versions an instance reports.
// Clients (proc's wire codec, the simulator's and chaos's clients, bench,
// workload, the CLI) and the instance (core/node) share these types; what a
// procedure does is core/node's business, how it is encoded on the wire is
// package proc's. It is a leaf: it imports only the core packages whose
// values travel in requests (tables, raft, discovery).
package api

import (
	"time"

	"github.com/picogo/picogo/core/discovery"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/tables"
)

// Version is what `.proc_version_info` reports.
const (
	Version        = "picogo-0.1.0"
	ProcAPIVersion = "1.0.0"
)

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

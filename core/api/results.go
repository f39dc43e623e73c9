package api

import (
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/vclock"
)

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
		// Storage is the user data this instance holds (picogo's).
		Storage StorageInfo `msgpack:"storage"`
	}
	// StorageInfo is the user data of an instance: its replication state
	// and the memory of each sharded table it holds (estimated from sizes,
	// so that members holding the same rows report the same numbers).
	StorageInfo struct {
		VClock vclock.VClock `msgpack:"vclock"`
		// MasterRaftID is the replicaset's current master as this
		// instance has applied the tables (0: none yet).
		MasterRaftID uint64 `msgpack:"master_raft_id"`
		// Writable: this instance takes writes (it is the master and was
		// not demoted).
		Writable bool `msgpack:"writable"`
		// Stale: it diverged from its master and waits for a full copy;
		// it serves no reads meanwhile.
		Stale       bool          `msgpack:"stale"`
		Tables      []TableMemory `msgpack:"tables"`
		MemoryBytes int64         `msgpack:"memory_bytes"`
	}
	// TableMemory is one table's rows and estimated memory.
	TableMemory struct {
		ID         uint32 `msgpack:"id"`
		Name       string `msgpack:"name"`
		Rows       int    `msgpack:"rows"`
		TupleBytes int64  `msgpack:"tuple_bytes"`
		IndexBytes int64  `msgpack:"index_bytes"`
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

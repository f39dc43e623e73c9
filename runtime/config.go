// Package runtime is what the two drivers of a node — the production daemon
// (cmd/picogo) and the simulator (sim) — share, so that the simulator runs
// production's configuration and paths: the node's configuration (config.go)
// and the Host that carries a node's effects out (host.go).
package runtime

import (
	"github.com/picogo/picogo/core/wal"
	"math/rand/v2"
	"time"

	"github.com/picogo/picogo/core/mutant"
	"github.com/picogo/picogo/core/node"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/tables"
)

// Production's Raft and snapshot settings. The simulator runs these too,
// except the limits a seed varies (Limits).
const (
	ElectionTick  = 10 // elections after 10–20 ticks
	HeartbeatTick = 1
	// SnapshotEvery: the log is snapshotted and purged after this many
	// applied entries.
	SnapshotEvery = 16384
)

// Limits bound what one Raft message and one follower's pipeline carry,
// and the size of a snapshot chunk. Production runs ProductionLimits; the
// simulator draws small ones for some seeds, to exercise flow control,
// batching and chunking with little data.
type Limits struct {
	MaxMsgBytes     uint64
	MaxMsgEntries   int
	MaxInflightMsgs int
	// MaxInflightBytes bounds what one follower has in flight, and so one
	// .proc_raft_interact (its messages of a Ready, or of a batch of
	// events, go as one call): well under the 64 MiB frame limit.
	MaxInflightBytes uint64
	// SnapshotEvery: snapshot after this many applied entries (0: only
	// when asked).
	SnapshotEvery uint64
	// SnapshotChunkBytes bounds one snapshot chunk (0: the tables'
	// default).
	SnapshotChunkBytes int
	// Replication bounds the user data's shipping, window and
	// checkpoints (zero fields: core/replication's defaults).
	Replication node.ReplicationConfig
}

// ProductionLimits are the limits `picogo run` uses.
var ProductionLimits = Limits{MaxMsgBytes: 1 << 20, MaxMsgEntries: 1024, MaxInflightMsgs: 256,
	MaxInflightBytes: 16 << 20, SnapshotEvery: SnapshotEvery}

// Instance is what a driver decides about one start of one instance.
type Instance struct {
	ClusterID string
	// Identity is who the instance is, from its disk (nil: a new one).
	Identity *node.Identity
	Self     node.Self
	Peers    []string
	// InitTiers are the tiers a cluster this instance boots starts with.
	InitTiers []tables.Tier
	// Roles are the definitions of the roles this binary has; InitRoles
	// the roles a cluster this instance boots starts with enabled (see
	// node.Config).
	Roles     []tables.Role
	InitRoles []tables.RoleTier
	// Tick is the period of the Raft clock.
	Tick time.Duration
	// Rand is the instance's randomness (election jitter, uuids).
	Rand *rand.Rand
	// Clock is the wall clock SQL's NOW() reads (node.Config.Clock): the
	// real one in production, the world's in the simulator.
	Clock func() time.Time
	// AdminAuth and ServiceAuth: see node.Config.
	AdminAuth   *tables.UserAuth
	ServiceAuth [20]byte
	Limits      Limits
	// Mutants are the deliberate bugs the simulator switches on (an empty
	// struct, always off, outside a -tags mutants build).
	Mutants mutant.Set
	// Recovered is what the instance's replicaset log holds (Start reads
	// it).
	Recovered *wal.Recovered
}

// NodeConfig is the node configuration both drivers start an instance
// with.
func NodeConfig(in Instance) node.Config {
	c := node.Config{
		ClusterID: in.ClusterID, Identity: in.Identity, Self: in.Self, Peers: in.Peers, InitTiers: in.InitTiers,
		Roles: in.Roles, InitRoles: in.InitRoles,
		Raft: raft.Config{
			ElectionTick: ElectionTick, HeartbeatTick: HeartbeatTick, PreVote: true, CheckQuorum: true,
			MaxMsgBytes: in.Limits.MaxMsgBytes, MaxMsgEntries: in.Limits.MaxMsgEntries,
			MaxInflightMsgs: in.Limits.MaxInflightMsgs, MaxInflightBytes: in.Limits.MaxInflightBytes,
			Rand: in.Rand,
		},
		Tick:               in.Tick,
		Clock:              in.Clock,
		SnapshotEvery:      in.Limits.SnapshotEvery,
		SnapshotChunkBytes: in.Limits.SnapshotChunkBytes,
		AdminAuth:          in.AdminAuth,
		ServiceAuth:        in.ServiceAuth,
		Replication:        in.Limits.Replication,
		Recovered:          in.Recovered,
	}
	setMutants(&c, in.Mutants)
	return c
}

package sim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/runtime"
)

// Params are one seed's world: cluster size, fault rates and durations, all
// drawn from the seed (swarm testing: every seed explores its own mix of
// faults, so rare combinations get exercised).
type Params struct {
	Instances int // founding instances: they discover each other
	// LateInstances join during the fault phase, in a tier drawn for each;
	// SecondTierLate more join it in the second tier, so that it too has
	// several replicasets whose buckets move.
	LateInstances  int
	SecondTierLate int
	Clients        int
	Keys           int
	// Tiers the cluster boots with; founding instances are in the first.
	Tiers []tables.Tier
	// Zones is how many failure-domain zones instances spread over.
	Zones int

	Tick time.Duration // one Raft tick; elections and heartbeats are production's, in ticks
	// LoopDelay is how long an instance's loop takes to come around to
	// what arrived: what arrives meanwhile is handed to the node in the
	// same batch (runtime.Host.Drain), as on a busy daemon.
	LoopDelay time.Duration
	Skew      float64 // per-instance tick period skew, up to ±Skew

	NetLatencyMin, NetLatencyMax time.Duration
	Drop, Duplicate              float64 // per message
	PartitionEvery               time.Duration
	PartitionFor                 time.Duration
	OneWay                       float64 // share of one-way partitions

	DiskLatencyMin, DiskLatencyMax time.Duration
	Torn                           float64 // a crash tears the first unsynced write
	// CrashInWrite: chance that a process crashes while a disk write is in
	// flight — aimed at the windows where durability ordering matters.
	CrashInWrite float64
	// IsolateLeader: share of partitions that cut the current leader off.
	IsolateLeader float64

	CrashEvery   time.Duration // mean time between crashes (0: none)
	RestartAfter time.Duration // after a crash or a graceful shutdown
	PauseEvery   time.Duration // mean time between pauses (0: none)
	PauseFor     time.Duration

	// Lifecycle events (see lifecycle.go).
	ShutdownEvery   time.Duration // mean time between graceful shutdowns (0: none)
	ShutdownTimeout time.Duration // then a shutdown ends in a kill
	Retire          bool          // one shut-down instance stays down for good
	ExpelEvery      time.Duration // mean time between expels (0: none)
	Expels          int           // at most this many
	// ReweighEvery: mean time between changes of a replicaset's weight by
	// the operator, drains most often (0: none).
	ReweighEvery time.Duration
	StopAllAt    time.Duration // the whole cluster stops then (0: never)

	ClientThink time.Duration // pause between a client's operations
	// ReadAnywhere is the chance that a read goes to a random instance
	// instead of the one the client last used (an application behind a
	// load balancer): followers serve it by a read index from the leader,
	// and an old leader cut off from the rest may still believe it leads.
	ReadAnywhere float64
	OpTimeout    time.Duration

	// Limits are production's (runtime.ProductionLimits), or small ones
	// that exercise flow control, batching and snapshot chunking with
	// little data; snapshots come every SnapshotEvery entries (0: never
	// by count).
	Limits runtime.Limits

	// Stranger is how many wrong-password logins a stranger tries from its
	// own host during the fault phase (0: no stranger; see auth.go).
	Stranger int

	FaultPhase    time.Duration // faults are injected this long
	LivenessBound time.Duration // then everything must settle within this

	// User data (data.go): the share of client operations that write or
	// read the sharded table in the first tier (whose IsSync and
	// replication factor the seed draws, with Tiers), and how often the
	// DDL client creates or drops a GLOBAL table during the fault phase
	// (0: never).
	DataShare float64
	DdlEvery  time.Duration
	// MasterFaultEvery: about this often a master of the data tier
	// crashes or is cut off for 0.8–2 s (0: never; data.go).
	MasterFaultEvery time.Duration

	// Roles (roles.go): about this often during the fault phase the
	// operator enables or disables a role on a tier (0: never); at
	// RollingRestartAt (0: never) it restarts every instance, one at a
	// time, each once the one before is Online again.
	RoleToggleEvery  time.Duration
	RollingRestartAt time.Duration
}

func between(r *rand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(r.Int64N(int64(hi-lo)))
}

// drawParams draws a seed's world.
func drawParams(r *rand.Rand) Params {
	p := Params{
		Instances:     3 + r.IntN(5),
		LateInstances: r.IntN(3),
		Zones:         1 + r.IntN(4),
		Clients:       2 + r.IntN(4),
		Keys:          2 + r.IntN(6),
		Tick:          10 * time.Millisecond,
		Skew:          pick(r, r.Float64()*0.1, r.Float64()*0.5),

		NetLatencyMin: between(r, 100*time.Microsecond, time.Millisecond),
		Drop:          pick(r, 0, r.Float64()*0.1),
		Duplicate:     pick(r, 0, r.Float64()*0.05),
		OneWay:        r.Float64(),

		DiskLatencyMin: between(r, 20*time.Microsecond, 200*time.Microsecond),
		Torn:           pick(r, 0, r.Float64()),

		ClientThink: between(r, time.Millisecond, 20*time.Millisecond),
		OpTimeout:   500 * time.Millisecond,
		Limits:      runtime.Limits{SnapshotEvery: uint64(pick(r, 0, float64(20+r.IntN(200))))},

		FaultPhase:    between(r, 2*time.Second, 6*time.Second),
		LivenessBound: 8 * time.Second,
	}
	p.NetLatencyMax = p.NetLatencyMin + between(r, 0, 5*time.Millisecond)
	p.DiskLatencyMax = p.DiskLatencyMin + between(r, 0, 2*time.Millisecond)
	if r.IntN(4) == 0 {
		p.DiskLatencyMax = p.DiskLatencyMin + between(r, 2*time.Millisecond, 10*time.Millisecond)
	}
	if r.IntN(2) == 0 {
		p.CrashInWrite = r.Float64() * 0.02
	}
	p.IsolateLeader = r.Float64() * 0.7
	if r.IntN(4) == 0 {
		p.Instances = 1 + r.IntN(2) // a cluster that starts small and grows
	}
	p.Tiers = []tables.Tier{{Name: "storage", ReplicationFactor: uint64(1 + r.IntN(3)), CanVote: true,
		BucketCount: 3000}}
	if r.IntN(3) == 0 {
		p.Tiers = append(p.Tiers, tables.Tier{Name: "router", ReplicationFactor: 1, CanVote: r.IntN(2) == 0,
			BucketCount: 3000})
	}
	if r.IntN(3) > 0 {
		p.PartitionEvery = between(r, 300*time.Millisecond, 3*time.Second)
		p.PartitionFor = between(r, 50*time.Millisecond, time.Second)
	}
	p.RestartAfter = between(r, 10*time.Millisecond, 800*time.Millisecond)
	if r.IntN(3) > 0 {
		p.CrashEvery = between(r, 300*time.Millisecond, 3*time.Second)
	}
	p.ShutdownTimeout = 2 * time.Second
	if r.IntN(2) == 0 {
		p.ShutdownEvery = between(r, 500*time.Millisecond, 3*time.Second)
		p.Retire = r.IntN(2) == 0
	}
	if r.IntN(2) == 0 {
		p.ExpelEvery = between(r, 500*time.Millisecond, 3*time.Second)
		p.Expels = 1 + r.IntN(2)
	}
	if r.IntN(8) == 0 {
		p.StopAllAt = between(r, 0, p.FaultPhase)
	}
	if r.IntN(3) == 0 {
		p.PauseEvery = between(r, 300*time.Millisecond, 3*time.Second)
		p.PauseFor = between(r, 10*time.Millisecond, 500*time.Millisecond)
	}
	p.ReadAnywhere = pick(r, 0, r.Float64()*0.5)
	// Drawn last, so that a seed's other parameters stay what they were.
	if r.IntN(4) == 0 {
		every := p.Limits.SnapshotEvery
		p.Limits = runtime.ProductionLimits
		p.Limits.SnapshotEvery = every
	} else {
		p.Limits.MaxMsgBytes, p.Limits.MaxMsgEntries, p.Limits.MaxInflightMsgs = 64<<10, 64, 32
		p.Limits.MaxInflightBytes = uint64(between(r, 64<<10, 1<<20))
		p.Limits.SnapshotChunkBytes = 512
	}
	p.LoopDelay = time.Duration(pick(r, 0, float64(between(r, 10*time.Microsecond, 2*time.Millisecond))))
	if r.IntN(3) == 0 {
		p.Stranger = 8 + r.IntN(40)
	}
	drawData(r, &p)
	// Drawn after everything else, so that a seed's other parameters stay
	// what they were.
	if len(p.Tiers) > 1 && r.IntN(2) == 0 {
		p.SecondTierLate = 2 + r.IntN(3)
	}
	if r.IntN(3) == 0 {
		p.ReweighEvery = between(r, 300*time.Millisecond, 2*time.Second)
		if p.ExpelEvery == 0 && r.IntN(2) == 0 {
			// Drained replicasets are then expelled.
			p.ExpelEvery = between(r, 500*time.Millisecond, 2*time.Second)
			p.Expels = 1 + r.IntN(3)
		}
	}
	drawRoles(r, &p)
	return p
}

// placement draws the ith instance's tier and failure domain: founding
// instances are in the first tier, late ones in any, the SecondTierLate
// last ones in the second.
func (p Params) placement(r *rand.Rand, i int) (string, map[string]string) {
	tier := p.Tiers[0].Name
	switch {
	case i > p.Instances+p.LateInstances:
		tier = p.Tiers[1].Name
	case i > p.Instances:
		tier = p.Tiers[r.IntN(len(p.Tiers))].Name
	}
	return tier, map[string]string{"zone": fmt.Sprintf("z%d", 1+r.IntN(p.Zones))}
}

// pick returns a with probability 1/2, else b.
func pick(r *rand.Rand, a, b float64) float64 {
	if r.IntN(2) == 0 {
		return a
	}
	return b
}

func (p Params) String() string {
	tiers := ""
	for _, t := range p.Tiers {
		tiers += fmt.Sprintf(" %s(rf %d, vote %v)", t.Name, t.ReplicationFactor, t.CanVote)
	}
	return fmt.Sprintf("instances=%d+%d+%d late zones=%d tiers:%s shutdown=%v (retire %v) expel=%v (at most %d) reweigh=%v stop-all=%v clients=%d keys=%d read-anywhere=%.2f skew=%.2f loop-delay=%v drop=%.3f dup=%.3f lat=%v-%v partition=%v/%v (isolate-leader %.2f) crash=%v/%v (in-write %.3f) pause=%v/%v disk=%v-%v torn=%.2f snapshot-every=%d limits=msg %dB/%d entries, inflight %d msgs/%dB, chunk %dB stranger=%d fault-phase=%v",
		p.Instances, p.LateInstances, p.SecondTierLate, p.Zones, tiers, p.ShutdownEvery, p.Retire, p.ExpelEvery, p.Expels, p.ReweighEvery, p.StopAllAt, p.Clients, p.Keys, p.ReadAnywhere, p.Skew, p.LoopDelay, p.Drop, p.Duplicate, p.NetLatencyMin, p.NetLatencyMax,
		p.PartitionEvery, p.PartitionFor, p.IsolateLeader, p.CrashEvery, p.RestartAfter, p.CrashInWrite,
		p.PauseEvery, p.PauseFor, p.DiskLatencyMin, p.DiskLatencyMax, p.Torn, p.Limits.SnapshotEvery,
		p.Limits.MaxMsgBytes, p.Limits.MaxMsgEntries, p.Limits.MaxInflightMsgs, p.Limits.MaxInflightBytes, p.Limits.SnapshotChunkBytes, p.Stranger, p.FaultPhase) + p.dataString() + p.rolesString()
}

// Package mutant names the deliberate, historical bugs ("mutants") the
// simulator switches on to prove its checks catch them.
//
// Mutants exist only in a build with the tag mutants (make sim-mutants). In
// every other build, production included, a Set is empty and Set.Has is a
// constant false, so each check site — one line, cfg.mutants.Has(mutant.X) —
// and the buggy branch behind it compile away, and no mutant can be
// switched on. See docs/simulator.md, Mutants.
package mutant

// Bug is one mutant.
type Bug uint32

// The mutants, by the package whose code they break.
const (
	// CommitPreviousTerm (raft) commits an entry of an earlier term by
	// counting replicas (Raft paper, Figure 8).
	CommitPreviousTerm Bug = 1 << iota
	// VoteWithoutPersist (raft) releases vote grants before the vote is
	// durable.
	VoteWithoutPersist
	// AckBeforeFsync (raft) acknowledges appended entries before they are
	// durable.
	AckBeforeFsync
	// ReadIndexWithoutRound (raft) answers read indexes without a heartbeat
	// round.
	ReadIndexWithoutRound
	// VoteForStaleLog (raft) grants votes without the log up-to-date check.
	VoteForStaleLog
	// NoCheckQuorumStepDown (raft) keeps a leader that lost its quorum
	// leading.
	NoCheckQuorumStepDown
	// AdvertiseUnsyncedConfCommit (raft) tells followers a conf change entry
	// is committed before the leader's commit index past it is synced.
	AdvertiseUnsyncedConfCommit
	// ApplyBeforeCommit (raft) hands entries to the application as soon as
	// they are in the log, committed or not.
	ApplyBeforeCommit
	// CasSkipsUncommitted (node): the CaS conflict scan looks at committed
	// entries only.
	CasSkipsUncommitted
	// KeepOfflineVoters (governor): a voter that went Offline keeps its seat
	// and is not replaced.
	KeepOfflineVoters
	// JoinIgnoresFailureDomains (topology): automatic placement puts an
	// instance into a replicaset whose members share a failure domain with
	// it.
	JoinIgnoresFailureDomains
	// PromoteWithoutWait (replication): `.proc_replication_promote` makes
	// the instance writable at once, without waiting for its vclock to
	// reach the old master's.
	PromoteWithoutWait
	// SyncAckBeforeQuorum (replication): in a synchronous tier the master
	// acknowledges a write once it is durable locally, before a majority
	// of the replicaset has it.
	SyncAckBeforeQuorum
	// ReplicaAcceptsWrites (node): a replica takes a write instead of
	// refusing it.
	ReplicaAcceptsWrites
	// SchemaBeforeCommit (node): an instance applies a pending schema
	// change to its engine before the change is committed.
	SchemaBeforeCommit
	// DdlSkipsUnreachableMaster (governor): the DDL step leaves out a
	// master it cannot reach instead of waiting for it.
	DdlSkipsUnreachableMaster
	// WriteOnSendingBucket (node): a storage takes writes to a bucket its
	// replicaset owns while the bucket is being sent away (its fence
	// treats sending as active), so a write can land after the copy read
	// the bucket and be lost at the flip.
	WriteOnSendingBucket
	// FlipBeforeCopy (node): the bucket copy executor proposes the flip
	// without copying the range's rows.
	FlipBeforeCopy
	// DeleteSourceBeforeFlip (node): `.proc_bucket_export` deletes the rows
	// it exported from the source before the range has flipped.
	DeleteSourceBeforeFlip
	// RouteWithoutFencing (node): a storage applies writes to buckets its
	// replicaset does not own instead of refusing them with WrongBucket.
	RouteWithoutFencing
	// BootstrapBucketsTwice (governor): a ready replicaset of an already
	// bootstrapped tier that owns no buckets gets the tier bootstrapped
	// again — a fresh layout written over the existing ranges, without
	// reading _pico_bucket.
	BootstrapBucketsTwice
	// RolesIgnoreDependencies (governor): the roles step asks an instance
	// to start its roles by name, not dependencies first.
	RolesIgnoreDependencies
	// RolesSurviveRestart (governor): a role's state of an earlier
	// incarnation of the instance counts as this one's, as if a restarted
	// process still ran what its predecessor did.
	RolesSurviveRestart
)

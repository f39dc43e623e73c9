// Package topology holds the pure rules of an instance's life in the cluster:
// joining (.proc_raft_join), updating its target grade or failure domain
// (.proc_update_instance) and being expelled (.proc_expel). See
// docs/lifecycle.md, sections "Starting" and "Stopping and leaving".
//
// Every function here is a deterministic function of a tables.Topology (the
// leader's current read of the topology tables) and a request. It decides and
// returns the DML that carries the decision out; the caller (core/node)
// submits it as one batch CaS and, when the CaS conflicts, reads the tables
// again and asks again. Randomness (uuids) is injected. Nothing here depends
// on the order of the slices in the Topology: what needs an order sorts.
//
// # Words
//
// An instance is expelled when its target (or current) grade is Expelled:
// from the moment an expel is accepted it no longer counts as a member —
// not for a replicaset's replication factor, not for the failure-domain
// names in use, not for "the last instance". Its row and its raft id stay.
//
// A failure domain is a map of names to values; both are upper-cased on the
// way in, and stored domains are compared upper-cased too. Two domains
// intersect when they share a name=value pair.
//
// # Join
//
// PlanJoin checks, in this order (the first failure is the answer): the
// cluster id; the instance uuid (see Idempotence); the failure domain's
// shape (no empty name, no name given twice in different cases); the tier;
// the failure-domain names in use; the requested name; the replicaset.
//
//   - Raft id: one more than the largest raft id in _pico_instance (expelled
//     rows included) and in _pico_peer_address. An explicit name may
//     overwrite an expelled row, so the peer addresses, which are never
//     removed, keep that row's raft id from being reused.
//   - Requested name: free if no row holds it; refused with `"X" is already
//     joined` if a non-expelled instance holds it; refused with `"X" is
//     still being expelled` if its holder's target is Expelled but the
//     governor has not finished (current not Expelled) — replacing that row
//     would lose the governor's record of a raft id it still has to remove
//     from the configuration; replaced (a Replace of the row) once the
//     holder's current grade is Expelled.
//   - Generated name: <replicaset>_<k> with the smallest k such that no
//     _pico_instance row of that name exists at all. Expelled rows count as
//     taken: a generated name never overwrites a row, so an expelled
//     instance stays visible under its name until an operator explicitly
//     reuses it. (Picodata reuses names whose holder is Expelled; picogo
//     keeps history instead.)
//   - Requested replicaset: joined if it exists in the same tier — even if
//     that makes it larger than the tier's replication factor or puts
//     intersecting failure domains together, and even if all its members
//     are expelled: explicit placement is the operator's decision (Picodata
//     allows it too); refused if it exists in another tier; else created.
//   - Automatic replicaset: the first replicaset of the tier by name that has
//     at least one and fewer than replication_factor non-expelled members,
//     none of whose failure domains intersects the newcomer's. A replicaset
//     whose members are all expelled (or that has none) is dead: it is never
//     chosen automatically. Else a new <tier>_<n>, the smallest n with no
//     _pico_replicaset row of that name (of any tier, dead ones included).
//     A replication factor of 0 behaves as 1.
//   - New replicaset row: uuid from newUUID, current and target master the
//     newcomer, weight 0, state not-ready, config versions current 0 and
//     target 1 so that the governor configures its replication. An existing
//     replicaset that gains a member gets target_config_version + 1 (an
//     update, "+", so it does not depend on the value read) so that the
//     governor reconfigures its peers.
//   - Instance row: Offline(0)/Offline(0), the newcomer's uuid (see
//     Idempotence), inserted — or replaced, when it overwrites an expelled
//     row. Peer address and new replicaset rows are inserted: if the CaS
//     ranges are right they cannot exist, and an insert says so loudly if
//     they do.
//   - Ops, in order: peer address, instance row, replicaset (insert or
//     update).
//   - BoxReplication: the stored addresses of the replicaset's non-expelled
//     members by raft id (a member without an address is left out), then
//     the newcomer's address.
//   - newUUID is called for the instance uuid (unless the request names
//     one) and then for the replicaset uuid (only for a new replicaset). A
//     uuid that is already in use is an error, not a retry.
//
// The first join of a cluster — a topology with tiers but no instances — is
// exactly the bootstrap: raft id 1, replicaset <tier>_1, name <tier>_1_1.
//
// # Idempotence
//
// JoinRequest.InstanceUUID is how a retried join is recognised. A first
// join sends "" and the leader assigns a uuid with newUUID; the answer
// carries it, and a joiner that retries (its answer was lost after the CaS
// committed, or it crashed before starting Raft) sends it back. A joiner may
// also choose its uuid itself and send it from the first attempt; an unknown
// uuid becomes the new instance's uuid, so even a join whose first answer
// never arrived is recognised when retried.
//
// When a row with the uuid exists the join is idempotent: no ops, no ranges,
// the stored row and its replicaset's box replication are returned — but
// only if the retry matches the row (same name and replicaset when given,
// same tier, same failure domain after upper-casing) and the row is still
// as the join wrote it: current Offline and target Offline(0). A row whose
// target was ever Online belongs to an instance that ran and may have voted;
// it must restart from its disk, not join again with an empty log under the
// same raft id. An expelled row is refused. The address is not compared:
// the stored one stands (a changed address is a restart's business).
//
// # CaS ranges
//
// JoinPlan.Ranges is what the decision read:
//
//   - all of _pico_instance: names, uuids, failure-domain names in use,
//     every replicaset's members and their domains, raft ids;
//   - all of _pico_replicaset: which replicasets the tier has, which names
//     are free;
//   - the tier's row of _pico_tier: that it exists, its replication factor;
//   - _pico_peer_address from the new raft id up: a concurrent join writes
//     a peer address there (at the same raft id, since it read the same
//     maximum). Lower raft ids only feed BoxReplication, which the governor
//     corrects anyway.
//
// A concurrent join writes _pico_instance and _pico_peer_address rows inside
// these ranges, so at most one of two racing joins commits; the other
// replans. The price is that any governor write to _pico_instance or
// _pico_replicaset between the read and the CaS makes a join retry too;
// joins are rare and retries cheap.
//
// # Update
//
// PlanUpdate accepts target Online or Offline ("" leaves it): Online gets
// incarnation max(current, target) + 1 (every accepted Online request
// reincarnates, as in Picodata, so a retried request may bump it twice; the
// governor then simply drives the later incarnation), Offline keeps the
// target's incarnation. Expelled goes through PlanExpel. A failure domain
// (nil leaves it) is upper-cased; if it differs from the stored one it must
// name every failure-domain name the other non-expelled instances use (an
// instance may drop a name only it uses) and must not intersect the domain
// of another non-expelled member of its replicaset. An unchanged domain is
// not checked again: instances send theirs on every restart, and one placed
// explicitly next to an intersecting domain must still be able to restart.
// The ops update only the changed fields (target_grade, failure_domain), so
// they never undo a concurrent governor write of current_grade; a request
// that changes nothing has no ops. UpdateRanges is what the CaS must
// protect.
//
// # Expel
//
// PlanExpel sets target Expelled keeping the target's incarnation and adds
// one to the target_config_version of the instance's replicaset, so that the
// governor reconfigures the remaining members' replication without it. An
// instance already expelled (target or current) is idempotent: no ops. The
// last non-expelled instance of the cluster cannot be expelled, nor the last
// one of a tier that can vote: nobody could take its vote, and the cluster
// would stop for good (the simulator found this). ExpelRanges
// is what the CaS must protect (all of _pico_instance: the last-instance rule
// reads every row). Picodata's further rules (only Offline instances unless
// forced; not a master whose buckets are not drained) are not enforced here.
package topology

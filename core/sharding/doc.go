// Package sharding owns where a sharded table's rows live.
//
//   - bucket.go: a row's bucket — its sharding key hashed as Picodata hashes
//     it (Tarantool's tuple hash), modulo the tier's bucket_count, plus one;
//     rows.go: the bucket of a row or of a primary key.
//   - map.go: Map, who owns each bucket, from _pico_bucket as an instance
//     applied it (core/tables' BucketRange rows); Fence, whether a
//     replicaset serves a bucket for a read or a write.
//   - plan.go: the pure decisions the governor asks for: a tier's first
//     ranges (Bootstrap), the counts each replicaset should own (Goal), and
//     the next step of a rebalancing (Plan: collect garbage, copy a sending
//     range and flip its owner, roll a move back, or start one).
//   - router.go: the router, a deterministic state machine that sends a
//     request to the replicaset owning its bucket and retries redirects
//     within a deadline.
//
// Like everything under core/, it is deterministic: no goroutines, clock or
// I/O, and no map order reaches an output.
package sharding

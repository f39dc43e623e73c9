package governor

import (
	"github.com/picogo/picogo/core/sharding"
	"github.com/picogo/picogo/core/tables"
)

// Buckets: the governor writes _pico_bucket, the global table of who owns
// which buckets (core/sharding decides what; this file turns its decisions
// into CaS batches).

// shardingTargets are a tier's replicasets as core/sharding's plan sees
// them: ready (it reached the replication factor once, and has a member not
// expelled), and their weight (0: being drained). An instance down, even
// for long, changes no replicaset's share — the goal would move buckets
// off a replicaset whose master is down, which no copy can do, and back
// once it returns; moves wait for masters instead (rebalance.go).
func (p *planner) shardingTargets(tier string) []sharding.Target {
	return sharding.Targets(p.in.Topology, tier)
}

// bucketRanges are a tier's _pico_bucket rows.
func (p *planner) bucketRanges(tier string) []tables.BucketRange {
	var out []tables.BucketRange
	for _, b := range p.in.Topology.Buckets {
		if b.Tier == tier {
			out = append(out, b)
		}
	}
	return out
}

// readBuckets makes the whole of _pico_bucket part of the CaS predicate:
// any change to bucket ownership since the plan read it fails the CaS.
func (r *rows) readBuckets() { r.read = append(r.read, rowKey{table: tables.TablePicoBucket}) }

// changeBuckets writes a sharding.Change.
func (r *rows) changeBuckets(c sharding.Change) {
	for _, b := range c.Delete {
		r.ops = append(r.ops, tables.Delete(tables.TablePicoBucket, b.Key()...))
	}
	for _, b := range c.Put {
		r.ops = append(r.ops, tables.Replace(tables.TablePicoBucket, b.Tuple()...))
	}
}

package governor

import (
	"fmt"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/sharding"
	"github.com/picogo/picogo/core/tables"
)

// Rebalancing: the last step. core/sharding's Plan says what to do next
// about a tier's buckets; this turns it into an Action: a CaS on
// _pico_bucket alone (start a move, roll one back, forget the garbage of a
// replicaset that is gone), the delete of a moved range's rows on its old
// owner then a CaS (collect), or the copy of a sending range then its flip
// (MoveBuckets).

// A move's rows are copied while writes to its buckets wait, so a move is
// sized to copy about MoveRows rows: the executor reports the rows per
// bucket its last move of the tier copied, and MoveSize turns that into the
// next move's bucket count, between 1 and MaxMoveBuckets. A tier's first
// move takes FirstMoveBuckets, since its rows per bucket are not known yet.
// (Counting rows, not time, keeps the plan deterministic: the same data
// moves the same way in the simulator and in production.)
const (
	MaxMoveBuckets   = 100
	FirstMoveBuckets = 10
	MoveRows         = 4000
)

// MoveSize is how many buckets a move may take after one that copied rows
// rows of buckets buckets.
func MoveSize(rows, buckets uint64) uint64 {
	if buckets == 0 {
		return FirstMoveBuckets
	}
	perBucket := rows / buckets
	if perBucket == 0 {
		return MaxMoveBuckets
	}
	return min(MaxMoveBuckets, max(1, MoveRows/perBucket))
}

// moveSize is the size of tier's next move.
func (p *planner) moveSize(tier string) uint64 {
	if n, ok := p.in.MoveSizes[tier]; ok && n > 0 {
		return min(n, MaxMoveBuckets)
	}
	return FirstMoveBuckets
}

// Buckets is a rebalancing step that writes _pico_bucket, after the RPCs if
// any (a collect's delete on the garbage replicaset's master).
type Buckets struct {
	Tier string
	What string // the sharding step's Detail
	RPCs []RPC
	CaS
}

// MoveBuckets copies a sending range from its owner to its destination:
// pages of rows from Export (its After set by the executor: 0, then the
// page's Next) go to Import (its Rows set likewise) until a page's Next is
// 0; then Flip is proposed. Any failure ends the step; the next plan copies
// again from the start (an import replaces rows, so copying twice is
// harmless).
type MoveBuckets struct {
	Tier           string
	Range          tables.BucketRange
	Export, Import RPC
	Flip           CaS
}

func (Buckets) Step() string     { return StepRebalance }
func (MoveBuckets) Step() string { return StepRebalance }

func (a Buckets) Detail() string { return a.Tier + ": " + a.What }
func (a MoveBuckets) Detail() string {
	return a.Tier + ": " + sharding.Copy{Range: a.Range}.Detail()
}

func (a Buckets) Batch() ([]RPC, CaS) { return a.RPCs, a.CaS }

func (Buckets) isAction()     {}
func (MoveBuckets) isAction() {}

// CopyDone is the note the executor makes once a move's rows are copied.
func (a MoveBuckets) CopyDone(rows int) string {
	return fmt.Sprintf("copied %d rows of %s %d-%d from %s to %s", rows, a.Range.Tier, a.Range.First, a.Range.Last,
		a.Range.ReplicasetID, a.Range.Destination)
}

// rebalance: for each tier (by name) whose buckets are bootstrapped, while
// no schema change is pending (a move copies every sharded table of the
// tier: a table being created or changed meanwhile could be missed), the
// next step of sharding.Plan. A step whose RPC target (the current master
// of a replicaset concerned) is unknown or unreachable is skipped for now:
// the next tier is looked at; so is a Send whose source or destination
// master could not be asked for the copy that follows.
func (p *planner) rebalance() (Action, bool) {
	if p.in.Topology.PendingSchemaVersion != 0 {
		return nil, false
	}
	for _, tier := range p.tiers {
		if !tier.VshardBootstrapped {
			continue
		}
		ranges := p.bucketRanges(tier.Name)
		if len(ranges) == 0 {
			continue
		}
		step := sharding.Plan(tier.Name, tier.BucketCount, ranges, p.shardingTargets(tier.Name), p.moveSize(tier.Name))
		if step == nil {
			continue
		}
		if a, ok := p.bucketAction(tier, ranges, step); ok {
			return a, true
		}
	}
	return nil, false
}

func (p *planner) bucketAction(tier tables.Tier, ranges []tables.BucketRange, step sharding.Step) (Action, bool) {
	var r rows
	r.readBuckets()
	switch s := step.(type) {
	case sharding.Send:
		// A move starts only when both masters can be asked for its
		// copy: a sending range's writes wait until it has moved, and
		// a replicaset whose master is away for a while (so not ready
		// for the plan, whose Goal then gives it nothing) would
		// otherwise start sending its buckets away that it cannot copy.
		var probe rows
		if _, ok := p.masterRPC(s.Range.ReplicasetID, nil, &probe); !ok {
			return nil, false
		}
		if _, ok := p.masterRPC(s.To, nil, &probe); !ok {
			return nil, false
		}
		r.changeBuckets(s.Change())
		return Buckets{Tier: tier.Name, What: s.Detail(), CaS: r.cas()}, true
	case sharding.Rollback:
		r.changeBuckets(s.Change())
		return Buckets{Tier: tier.Name, What: s.Detail(), CaS: r.cas()}, true
	case sharding.Collect:
		var rpcs []RPC
		if !s.Forget {
			rpc, ok := p.masterRPC(s.Range.Garbage, api.BucketDelete{Tier: tier.Name, First: s.Range.First, Last: s.Range.Last}, &r)
			if !ok {
				return nil, false
			}
			rpcs = []RPC{rpc}
		}
		r.changeBuckets(s.Done(ranges))
		return Buckets{Tier: tier.Name, What: s.Detail(), RPCs: rpcs, CaS: r.cas()}, true
	case sharding.Copy:
		rg := s.Range
		export, ok := p.masterRPC(rg.ReplicasetID, api.BucketExport{Tier: tier.Name, First: rg.First, Last: rg.Last}, &r)
		if !ok {
			return nil, false
		}
		imp, ok := p.masterRPC(rg.Destination, api.BucketImport{Tier: tier.Name, First: rg.First, Last: rg.Last}, &r)
		if !ok {
			return nil, false
		}
		r.changeBuckets(s.Flip())
		return MoveBuckets{Tier: tier.Name, Range: rg, Export: export, Import: imp, Flip: r.cas()}, true
	}
	panic(fmt.Sprintf("governor: unknown sharding step %T", step))
}

// masterRPC is call to the current master of replicaset id: one bound for
// Online, told it is master since its last start (at Replicated or above
// for its target incarnation), and reachable. Its replicaset's and its own
// rows join the CaS predicate: if the master changes while the step runs,
// what it did may not be what the new master has.
func (p *planner) masterRPC(id string, call api.Request, r *rows) (RPC, bool) {
	rs, ok := p.in.Topology.Replicaset(id)
	if !ok {
		return RPC{}, false
	}
	m, ok := p.validMaster(rs, rs.CurrentMasterID)
	if !ok || !atLeast(m.Current, tables.GradeReplicated, m.Target.Incarnation) {
		return RPC{}, false
	}
	a, ok := p.address(m)
	if !ok {
		return RPC{}, false
	}
	r.readReplicaset(rs)
	r.readInstance(m)
	return RPC{InstanceID: m.InstanceID, RaftID: m.RaftID, Address: a, Call: call}, true
}

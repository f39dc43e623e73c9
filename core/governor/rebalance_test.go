package governor

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/sharding"
	"github.com/picogo/picogo/core/tables"
)

// owned is a BucketRange owned by rs, active.
func owned(first, last uint64, rs string) tables.BucketRange {
	return tables.BucketRange{Tier: "storage", First: first, Last: last, ReplicasetID: rs, State: tables.BucketActive}
}

// owners are the tier's ranges as strings.
func owners(s *sim) []string {
	var out []string
	for _, b := range s.topology().Buckets {
		out = append(out, b.String())
	}
	return out
}

// counts are the buckets each replicaset of tier storage owns, after
// checking the ranges are a partition of 1..3000.
func counts(t *testing.T, s *sim) map[string]uint64 {
	m := sharding.NewMap(s.topology().Buckets)
	require.NoError(t, m.Check("storage", tables.DefaultBucketCount))
	return m.Counts("storage")
}

func TestRebalanceAfterAJoin(t *testing.T) {
	// r3 became ready after the tier's buckets were bootstrapped over r1
	// and r2.
	top := storage(3)
	top.Buckets = []tables.BucketRange{owned(1, 1500, "r1"), owned(1501, 3000, "r2")}
	s := newSim(t, top, 1, voters(1, 2, 3))

	// Send: the tail of r1's range to r3: 10 buckets, as the tier's first
	// move (FirstMoveBuckets); the next ones take 100 (no rows copied).
	a := s.step()
	send := as[Buckets](t, a)
	assert.Equal(t, "rebalance: storage: move storage 1491-1500 from r1 to r3", steps2(a))
	assert.Empty(t, send.RPCs)
	assert.Equal(t, []string{"whole table 540"}, rangeKeys(t, a), "the CaS reads all of _pico_bucket")
	sending := tables.BucketRange{Tier: "storage", First: 1491, Last: 1500, ReplicasetID: "r1",
		State: tables.BucketSending, Destination: "r3"}
	assert.Equal(t, []tables.Dml{
		tables.Replace(tables.TablePicoBucket, owned(1, 1490, "r1").Tuple()...),
		tables.Replace(tables.TablePicoBucket, sending.Tuple()...),
	}, send.Ops)
	assert.Equal(t, []string{"storage 1-1490 r1 active", "storage 1491-1500 r1 sending to r3", "storage 1501-3000 r2 active"}, owners(s))

	// Copy: export from r1's master, import to r3's, then the flip.
	a = s.plan()
	mv := as[MoveBuckets](t, a)
	assert.Equal(t, "rebalance: storage: copy storage 1491-1500 r1 -> r3", steps2(a))
	assert.Equal(t, sending, mv.Range)
	assert.Equal(t, RPC{InstanceID: "s1", RaftID: 1, Address: addr(1),
		Call: api.BucketExport{Tier: "storage", First: 1491, Last: 1500}}, mv.Export)
	assert.Equal(t, RPC{InstanceID: "s3", RaftID: 3, Address: addr(3),
		Call: api.BucketImport{Tier: "storage", First: 1491, Last: 1500}}, mv.Import)
	flipped := owned(1491, 1500, "r3")
	flipped.Garbage = "r1"
	assert.Equal(t, []tables.Dml{tables.Replace(tables.TablePicoBucket, flipped.Tuple()...)}, mv.Flip.Ops)
	assert.Len(t, mv.Flip.Ranges, 5, "_pico_bucket, both replicasets and both masters")
	assert.Equal(t, "copied 7 rows of storage 1491-1500 from r1 to r3", mv.CopyDone(7))
	s.exec(a)
	assert.Equal(t, []string{"storage 1-1490 r1 active", "storage 1491-1500 r3 active, garbage on r1", "storage 1501-3000 r2 active"}, owners(s))

	// Collect: the old owner's master deletes its copy.
	a = s.step()
	col := as[Buckets](t, a)
	assert.Equal(t, "rebalance: storage: collect storage 1491-1500 on r1", steps2(a))
	assert.Equal(t, []RPC{{InstanceID: "s1", RaftID: 1, Address: addr(1),
		Call: api.BucketDelete{Tier: "storage", First: 1491, Last: 1500}}}, col.RPCs)
	assert.Equal(t, []string{"storage 1-1490 r1 active", "storage 1491-1500 r3 active", "storage 1501-3000 r2 active"}, owners(s))

	// And so on, to the goal.
	s.run(200)
	assert.Equal(t, map[string]uint64{"r1": 1000, "r2": 1000, "r3": 1000}, counts(t, s))
	for _, b := range s.topology().Buckets {
		assert.Equal(t, tables.BucketActive, b.State)
		assert.Empty(t, b.Garbage)
	}
	assert.Len(t, s.topology().Buckets, 4, "moved tails merge: r1 1-1000, r3 1001-1500, r2 1501-2500, r3 2501-3000")
}

func TestRebalanceDrain(t *testing.T) {
	top := storage(3).rs("r2", func(r *tables.Replicaset) { r.Weight = 0 })
	top.Buckets = []tables.BucketRange{owned(1, 1000, "r1"), owned(1001, 2000, "r2"), owned(2001, 3000, "r3")}
	s := newSim(t, top, 1, voters(1, 2, 3))
	trace := s.run(200)
	assert.Equal(t, map[string]uint64{"r1": 1500, "r3": 1500}, counts(t, s), "a replicaset of weight 0 is emptied")
	copyLine := regexp.MustCompile(`^rebalance: storage: copy storage (\d+)-(\d+) r2 -> r[13]$`)
	var sizes []int
	for _, line := range trace {
		if m := copyLine.FindStringSubmatch(line); m != nil {
			first, _ := strconv.Atoi(m[1])
			last, _ := strconv.Atoi(m[2])
			sizes = append(sizes, last-first+1)
		}
	}
	require.NotEmpty(t, sizes, "%v", trace)
	assert.Equal(t, FirstMoveBuckets, sizes[0], "the first move: %v", trace)
	for _, n := range sizes[1:] {
		assert.LessOrEqual(t, n, MaxMoveBuckets, "moves of at most 100 buckets: %v", trace)
	}
	assert.Contains(t, sizes, MaxMoveBuckets, "moves with no rows take the most: %v", trace)
	assert.Equal(t, []string{"storage 1-1500 r1 active", "storage 1501-3000 r3 active"}, owners(s))
	assert.Equal(t, StepIdle, s.plan().Step())
}

func TestRebalanceWaitsForASchemaChange(t *testing.T) {
	top := storage(3)
	top.Buckets = []tables.BucketRange{owned(1, 3000, "r1")}
	s := newSim(t, top, 1, voters(1, 2, 3))
	require.Nil(t, s.store.ApplyOp(tables.PrepareCreateTableOp(ddlDef("t"), 0)).Err)
	s.unreachable["s3"] = true // the schema change waits for it
	assert.Equal(t, StepIdle, s.plan().Step(), "no move while a schema change is pending")
	delete(s.unreachable, "s3")
	as[ApplySchemaChange](t, s.step())
	assert.Equal(t, "rebalance: storage: move storage 2991-3000 from r1 to r2", steps2(s.plan()))
}

func TestRebalanceRollback(t *testing.T) {
	t.Run("the destination is drained meanwhile", func(t *testing.T) {
		top := storage(3).rs("r3", func(r *tables.Replicaset) { r.Weight = 0 })
		sending := owned(1401, 1500, "r1")
		sending.State, sending.Destination = tables.BucketSending, "r3"
		top.Buckets = []tables.BucketRange{owned(1, 1400, "r1"), sending, owned(1501, 3000, "r2")}
		s := newSim(t, top, 1, voters(1, 2, 3))
		a := s.step()
		assert.Equal(t, "rebalance: storage: roll back storage 1401-1500 to r1 (not to r3)", steps2(a))
		assert.Empty(t, as[Buckets](t, a).RPCs)
		assert.Equal(t, []string{"storage 1-1400 r1 active", "storage 1401-1500 r1 active, garbage on r3", "storage 1501-3000 r2 active"}, owners(s))
		// Its part of a copy is deleted there, and the range merges back.
		a = s.step()
		assert.Equal(t, []RPC{{InstanceID: "s3", RaftID: 3, Address: addr(3),
			Call: api.BucketDelete{Tier: "storage", First: 1401, Last: 1500}}}, as[Buckets](t, a).RPCs)
		assert.Equal(t, []string{"storage 1-1500 r1 active", "storage 1501-3000 r2 active"}, owners(s))
		assert.Equal(t, StepIdle, s.plan().Step(), "r1 and r2 own their goal")
	})
	t.Run("garbage on a replicaset whose members are all expelled is forgotten", func(t *testing.T) {
		// Simulator seed 264 (with a Raft change measured and dropped in
		// docs/BENCHMARKS.md's step 16): the only member of the
		// destination was expelled during the move, the move rolled
		// back, and a delete on r3 waited for ever.
		top := storage(3).grade("s3", expd(1), expd(1))
		left := owned(1401, 1500, "r1")
		left.Garbage = "r3"
		top.Buckets = []tables.BucketRange{owned(1, 1400, "r1"), left, owned(1501, 3000, "r2")}
		s := newSim(t, top, 1, voters(1, 2))
		a := s.step()
		assert.Equal(t, "rebalance: storage: forget garbage of storage 1401-1500 on r3 (gone)", steps2(a))
		assert.Empty(t, as[Buckets](t, a).RPCs)
		assert.Equal(t, []string{"storage 1-1500 r1 active", "storage 1501-3000 r2 active"}, owners(s))
	})
	t.Run("garbage on a replicaset that is gone is forgotten", func(t *testing.T) {
		top := storage(2)
		gone := owned(1501, 3000, "r2")
		gone.Garbage = "r9"
		top.Buckets = []tables.BucketRange{owned(1, 1500, "r1"), gone}
		s := newSim(t, top, 1, voters(1, 2))
		a := s.step()
		assert.Equal(t, "rebalance: storage: forget garbage of storage 1501-3000 on r9 (gone)", steps2(a))
		assert.Empty(t, as[Buckets](t, a).RPCs)
		assert.Equal(t, StepIdle, s.plan().Step())
	})
}

func TestRebalanceSkipsUnreachableMasters(t *testing.T) {
	top := storage(3)
	sending := owned(1401, 1500, "r1")
	sending.State, sending.Destination = tables.BucketSending, "r3"
	top.Buckets = []tables.BucketRange{owned(1, 1400, "r1"), sending, owned(1501, 3000, "r2")}
	for _, who := range []string{"s1", "s3"} {
		s := newSim(t, top, 2, voters(1, 2, 3))
		s.unreachable[who] = true
		assert.Equal(t, StepIdle, s.plan().Step(), "the copy waits for %s", who)
	}
	s := newSim(t, top, 2, voters(1, 2, 3))
	as[MoveBuckets](t, s.plan())
}

func TestRebalanceNotBeforeBootstrap(t *testing.T) {
	top := storage(2).tierEdit("storage", func(x *tables.Tier) { x.VshardBootstrapped = false })
	top.Buckets = []tables.BucketRange{owned(1, 3000, "r1")}
	s := newSim(t, top, 1, voters(1, 2))
	as[BootstrapSharding](t, s.step())
	assert.Equal(t, StepRebalance, s.plan().Step(), "then the buckets move")
}

func TestRebalanceStartsMovesItCanCopy(t *testing.T) {
	// r1's master is away: r1 is not ready for the plan, whose goal then
	// gives it nothing; but its buckets cannot be copied now, so they do
	// not start to leave (their writes would wait for nothing).
	top := storage(3).grade("s1", off(1), off(1))
	top.Buckets = []tables.BucketRange{owned(1, 1000, "r1"), owned(1001, 2000, "r2"), owned(2001, 3000, "r3")}
	s := newSim(t, top, 2, withLearners(voters(2, 3), 1))
	assert.Equal(t, StepIdle, s.plan().Step())
	// A destination that cannot be asked is not sent to either.
	top = storage(3)
	top.Buckets = []tables.BucketRange{owned(1, 1500, "r1"), owned(1501, 3000, "r2")}
	s = newSim(t, top, 1, voters(1, 2, 3))
	s.unreachable["s3"] = true
	assert.Equal(t, StepIdle, s.plan().Step())
	delete(s.unreachable, "s3")
	assert.Equal(t, "rebalance: storage: move storage 1491-1500 from r1 to r3", steps2(s.plan()))
}

// A move is sized by the rows per bucket the tier's last move copied: about
// MoveRows rows, 1 to MaxMoveBuckets buckets.
func TestMoveSize(t *testing.T) {
	for _, c := range []struct{ rows, buckets, want uint64 }{
		{0, 0, FirstMoveBuckets},   // no move yet
		{0, 10, MaxMoveBuckets},    // empty buckets
		{990, 100, MaxMoveBuckets}, // 9 rows a bucket: 444 buckets would do; capped
		{34500, 100, 11},           // 345 rows a bucket (the 1M-row benchmark)
		{4000, 1, 1},               // a bucket of MoveRows
		{1000000, 10, 1},           // huge buckets: one at a time
	} {
		assert.Equal(t, c.want, MoveSize(c.rows, c.buckets), "%d rows of %d buckets", c.rows, c.buckets)
	}
	top := storage(3)
	top.Buckets = []tables.BucketRange{owned(1, 1500, "r1"), owned(1501, 3000, "r2")}
	s := newSim(t, top, 1, voters(1, 2, 3))
	s.moveSizes["storage"] = MoveSize(34500, 100)
	assert.Equal(t, "rebalance: storage: move storage 1490-1500 from r1 to r3", steps2(s.plan()))
}

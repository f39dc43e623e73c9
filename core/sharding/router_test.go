package sharding

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/tables"
)

// fakeView is a View whose state the test sets between steps.
type fakeView struct {
	ranges   []tables.BucketRange
	masters  map[string]string
	replicas map[string][]string
	applied  uint64
}

func (v *fakeView) Map() Map { return NewMap(v.ranges) }
func (v *fakeView) Master(rs string) (string, bool) {
	a, ok := v.masters[rs]
	return a, ok
}
func (v *fakeView) Replicas(rs string) []string { return v.replicas[rs] }
func (v *fakeView) Applied() uint64             { return v.applied }

// testCall is the request routed.
type testCall struct{ Name string }

func (testCall) Proc() string { return "test" }

func br(first, last uint64, rs string) tables.BucketRange {
	return tables.BucketRange{Tier: "storage", First: first, Last: last, ReplicasetID: rs, State: tables.BucketActive}
}

// twoSets: r1 owns 1-10, r2 owns 11-20; r1's master a1 (replicas a1r, a1s),
// r2's master a2 (replica a2r).
func twoSets() *fakeView {
	return &fakeView{
		ranges:   []tables.BucketRange{br(1, 10, "r1"), br(11, 20, "r2")},
		masters:  map[string]string{"r1": "a1", "r2": "a2"},
		replicas: map[string][]string{"r1": {"a1r", "a1s"}, "r2": {"a2r"}},
		applied:  10,
	}
}

var call = testCall{Name: "x"}

func write(bucket uint64) Request {
	return Request{Tier: "storage", Bucket: bucket, Write: true, PreferReplica: true, Call: call, Deadline: 30}
}

func read(bucket uint64) Request {
	return Request{Tier: "storage", Bucket: bucket, PreferReplica: true, Call: call, Deadline: 30}
}

func scan() Request { return Request{Tier: "storage", Scan: true, Call: call, Deadline: 30} }

// oneCall takes the router's effects, which must be exactly one Call.
func oneCall(t *testing.T, r *Router) Call {
	t.Helper()
	effs := r.TakeEffects()
	require.Len(t, effs, 1, "effects: %v", effs)
	c, ok := effs[0].(Call)
	require.True(t, ok, "not a Call: %#v", effs[0])
	return c
}

// oneDone takes the router's effects, which must be exactly one Done.
func oneDone(t *testing.T, r *Router) Done {
	t.Helper()
	effs := r.TakeEffects()
	require.Len(t, effs, 1, "effects: %v", effs)
	d, ok := effs[0].(Done)
	require.True(t, ok, "not a Done: %#v", effs[0])
	return d
}

func ticks(r *Router, n int) {
	for range n {
		r.Tick()
	}
}

func refusal(code uint32) *api.Error { return &api.Error{Code: code} }

func TestReadonlyIsTarantools(t *testing.T) {
	require.Equal(t, uint32(7), api.CodeReadonly, "ER_READONLY")
}

func TestWriteGoesToMaster(t *testing.T) {
	v := twoSets()
	r := NewRouter(RouterConfig{RetryTicks: 2}, v)
	r.Route(1, write(17))
	c := oneCall(t, r)
	require.Equal(t, "a2", c.To, "a write goes to the owner's master, PreferReplica or not")
	require.Equal(t, api.Request(call), c.Request)
	require.Equal(t, 1, r.Pending())

	r.Answer(c.ID, "row", nil)
	require.Equal(t, Done{ID: 1, Results: []any{"row"}}, oneDone(t, r))
	require.Equal(t, 0, r.Pending())
}

func TestReadGoesToReplica(t *testing.T) {
	v := twoSets()
	r := NewRouter(RouterConfig{RetryTicks: 2}, v)

	r.Route(1, read(3))
	require.Equal(t, "a1r", oneCall(t, r).To, "the first replica")

	plain := read(3)
	plain.PreferReplica = false
	r.Route(2, plain)
	require.Equal(t, "a1", oneCall(t, r).To, "a read without PreferReplica goes to the master")

	v.replicas["r1"] = nil
	r.Route(3, read(3))
	require.Equal(t, "a1", oneCall(t, r).To, "no replica: the master")
}

func TestReadRotatesOnNoConnection(t *testing.T) {
	v := twoSets()
	r := NewRouter(RouterConfig{RetryTicks: 2}, v)
	r.Route(1, read(3))
	var to []string
	for range 4 {
		c := oneCall(t, r)
		to = append(to, c.To)
		r.Answer(c.ID, nil, &api.Error{Code: api.CodeNoConnection, Message: "connection refused"})
		require.Empty(t, r.TakeEffects(), "no retry before RetryTicks")
		ticks(r, 2)
	}
	require.Equal(t, []string{"a1r", "a1s", "a1", "a1r"}, to, "the replicas in order, then the master, then round again")
}

func TestWrongBucketWaitsForIndex(t *testing.T) {
	for _, byTick := range []bool{false, true} {
		t.Run(fmt.Sprintf("byTick=%v", byTick), func(t *testing.T) {
			v := twoSets()
			r := NewRouter(RouterConfig{RetryTicks: 100}, v)
			r.Route(1, write(17))
			c := oneCall(t, r)
			require.Equal(t, "a2", c.To)

			// r2 has applied 12: bucket 17 moved to r1 by then.
			r.Answer(c.ID, nil, &api.Error{Code: api.CodeWrongBucket, Index: 12})
			require.Empty(t, r.TakeEffects(), "waits for index 12")
			v.applied = 11
			r.Applied()
			r.Tick()
			require.Empty(t, r.TakeEffects(), "11 is not 12")

			v.applied = 12
			v.ranges = []tables.BucketRange{br(1, 20, "r1")}
			if byTick {
				r.Tick()
			} else {
				r.Applied()
			}
			c2 := oneCall(t, r)
			require.Equal(t, "a1", c2.To, "routed again from the new map")
			require.NotEqual(t, c.ID, c2.ID)
			r.Answer(c2.ID, "ok", nil)
			require.Equal(t, Done{ID: 1, Results: []any{"ok"}}, oneDone(t, r))
		})
	}
}

func TestWrongBucketFromALaggingStorage(t *testing.T) {
	v := twoSets()
	r := NewRouter(RouterConfig{RetryTicks: 3}, v)
	r.Route(1, write(17))
	c := oneCall(t, r)
	// The storage is behind us (index 5 < our 10): our map is the newer.
	r.Answer(c.ID, nil, &api.Error{Code: api.CodeWrongBucket, Index: 5})
	r.Applied()
	ticks(r, 2)
	require.Empty(t, r.TakeEffects(), "not at once: it waits RetryTicks")
	r.Tick()
	require.Equal(t, "a2", oneCall(t, r).To)
}

func TestRetriedAfterRetryTicks(t *testing.T) {
	for _, tc := range []struct {
		name string
		code uint32
	}{
		{"moving", api.CodeBucketMoving},
		{"readonly", api.CodeReadonly},
		{"no connection", api.CodeNoConnection},
		{"not ready", api.CodeNotReady},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := twoSets()
			r := NewRouter(RouterConfig{RetryTicks: 3}, v)
			r.Route(1, write(17))
			c := oneCall(t, r)
			r.Answer(c.ID, nil, refusal(tc.code))
			ticks(r, 2)
			require.Empty(t, r.TakeEffects(), "not before RetryTicks")
			v.masters["r2"] = "b2" // e.g. the master changed meanwhile
			r.Tick()
			c2 := oneCall(t, r)
			require.Equal(t, "b2", c2.To, "the master re-read")
			require.NotEqual(t, c.ID, c2.ID)
			r.Answer(c2.ID, "ok", nil)
			require.Equal(t, Done{ID: 1, Results: []any{"ok"}}, oneDone(t, r))
		})
	}
}

func TestNoOwnerOrMasterYet(t *testing.T) {
	v := &fakeView{masters: map[string]string{}, replicas: map[string][]string{}}
	r := NewRouter(RouterConfig{RetryTicks: 2}, v)
	r.Route(1, write(17))
	require.Empty(t, r.TakeEffects(), "not bootstrapped: nobody to ask")
	v.ranges = []tables.BucketRange{br(1, 20, "r1")}
	r.Tick()
	require.Empty(t, r.TakeEffects(), "not before RetryTicks")
	r.Tick()
	require.Empty(t, r.TakeEffects(), "an owner, but no master known")
	v.masters["r1"] = "a1"
	ticks(r, 2)
	require.Equal(t, "a1", oneCall(t, r).To)
}

func TestOtherErrorsNotRetried(t *testing.T) {
	for _, code := range []uint32{api.CodeTimeout, api.CodeAccessDenied, api.CodeProcLua} {
		v := twoSets()
		r := NewRouter(RouterConfig{RetryTicks: 1}, v)
		r.Route(1, write(17))
		c := oneCall(t, r)
		err := &api.Error{Code: code, Message: "the storage's own words"}
		r.Answer(c.ID, nil, err)
		d := oneDone(t, r)
		require.Same(t, err, d.Err, "the error as is")
		require.Nil(t, d.Results)
		ticks(r, 5)
		require.Empty(t, r.TakeEffects(), "code %d: never retried", code)
		require.Equal(t, 0, r.Pending())
	}
}

func TestDeadline(t *testing.T) {
	t.Run("waiting for an index", func(t *testing.T) {
		v := twoSets()
		r := NewRouter(RouterConfig{RetryTicks: 2}, v)
		r.Route(1, write(17))
		c := oneCall(t, r)
		r.Answer(c.ID, nil, &api.Error{Code: api.CodeWrongBucket, Index: 12})
		ticks(r, 29)
		require.Empty(t, r.TakeEffects())
		require.Equal(t, 1, r.Pending())
		r.Tick()
		d := oneDone(t, r)
		require.Equal(t, api.CodeTimeout, d.Err.Code)
		require.Equal(t, "router: bucket 17 of tier storage: no answer within 30 ticks (last: wrong bucket from a2, waiting for index 12)", d.Err.Message)
		require.Equal(t, 0, r.Pending())

		v.applied = 12
		r.Applied()
		r.Answer(c.ID, "late", nil)
		ticks(r, 3)
		require.Empty(t, r.TakeEffects(), "nothing more of a finished route")
	})
	t.Run("call in flight", func(t *testing.T) {
		r := NewRouter(RouterConfig{RetryTicks: 2}, twoSets())
		req := write(17)
		req.Deadline = 3
		r.Route(1, req)
		c := oneCall(t, r)
		ticks(r, 3)
		d := oneDone(t, r)
		require.Empty(t, r.calls, "the calls of a finished route are forgotten")
		require.Equal(t, "router: bucket 17 of tier storage: no answer within 3 ticks (waiting for an answer from a2)", d.Err.Message)
		r.Answer(c.ID, "late", nil)
		require.Empty(t, r.TakeEffects(), "a late answer is ignored")
	})
	t.Run("no master", func(t *testing.T) {
		v := twoSets()
		delete(v.masters, "r2")
		r := NewRouter(RouterConfig{RetryTicks: 2}, v)
		req := write(17)
		req.Deadline = 5
		r.Route(1, req)
		ticks(r, 5)
		require.Equal(t, "router: bucket 17 of tier storage: no answer within 5 ticks (waiting for the master of replicaset r2 to be known)", oneDone(t, r).Err.Message)
	})
	t.Run("scan", func(t *testing.T) {
		r := NewRouter(RouterConfig{RetryTicks: 2}, twoSets())
		req := scan()
		req.Deadline = 4
		r.Route(1, req)
		effs := r.TakeEffects()
		require.Len(t, effs, 2)
		r.Answer(effs[0].(Call).ID, "rows of r1", nil)
		r.Answer(effs[1].(Call).ID, nil, &api.Error{Code: api.CodeBucketMoving, Message: "moving"})
		ticks(r, 2)
		require.Equal(t, "a2", oneCall(t, r).To)
		ticks(r, 2)
		require.Equal(t, "router: scan of tier storage: no answer within 4 ticks (replicaset r2: last: bucket moving from a2: moving, waiting for an answer from a2)", oneDone(t, r).Err.Message)
	})
}

func TestScanMapReduce(t *testing.T) {
	v := &fakeView{
		ranges: []tables.BucketRange{
			br(31, 40, "r2"), br(1, 10, "r2"), br(11, 20, "r1"), br(21, 30, "r3"),
		},
		masters:  map[string]string{"r1": "a1", "r2": "a2", "r3": "a3"},
		replicas: map[string][]string{"r1": {"a1r"}},
	}
	r := NewRouter(RouterConfig{RetryTicks: 2}, v)
	r.Route(7, scan())
	effs := r.TakeEffects()
	var to []string
	for _, e := range effs {
		to = append(to, e.(Call).To)
	}
	require.Equal(t, []string{"a1", "a2", "a3"}, to, "one call per replicaset's master, in replicaset ID order")

	// Answers in reverse order; the results are in replicaset order.
	r.Answer(effs[2].(Call).ID, "rows of r3", nil)
	r.Answer(effs[1].(Call).ID, "rows of r2", nil)
	require.Empty(t, r.TakeEffects(), "not before every part answered")
	r.Answer(effs[0].(Call).ID, "rows of r1", nil)
	require.Equal(t, Done{ID: 7, Results: []any{"rows of r1", "rows of r2", "rows of r3"}}, oneDone(t, r))
}

func TestScanWaitsForBootstrap(t *testing.T) {
	v := &fakeView{masters: map[string]string{"r1": "a1"}}
	r := NewRouter(RouterConfig{RetryTicks: 2}, v)
	r.Route(1, scan())
	require.Empty(t, r.TakeEffects())
	v.ranges = []tables.BucketRange{br(1, 20, "r1")}
	r.Tick()
	require.Empty(t, r.TakeEffects())
	r.Tick()
	c := oneCall(t, r)
	require.Equal(t, "a1", c.To)
	r.Answer(c.ID, "all", nil)
	require.Equal(t, Done{ID: 1, Results: []any{"all"}}, oneDone(t, r))
}

func TestScanPartRetried(t *testing.T) {
	v := twoSets()
	r := NewRouter(RouterConfig{RetryTicks: 2}, v)
	r.Route(1, scan())
	effs := r.TakeEffects()
	require.Len(t, effs, 2)
	c1, c2 := effs[0].(Call), effs[1].(Call)
	r.Answer(c2.ID, nil, refusal(api.CodeReadonly))
	r.Answer(c1.ID, "rows of r1", nil)
	require.Empty(t, r.TakeEffects())
	v.masters["r2"] = "b2"
	ticks(r, 2)
	c3 := oneCall(t, r)
	require.Equal(t, "b2", c3.To, "only the refused part, at its master re-read")
	r.Answer(c1.ID, "again", nil) // already answered: ignored
	require.Empty(t, r.TakeEffects())
	r.Answer(c3.ID, "rows of r2", nil)
	require.Equal(t, Done{ID: 1, Results: []any{"rows of r1", "rows of r2"}}, oneDone(t, r))
}

func TestScanPartFails(t *testing.T) {
	r := NewRouter(RouterConfig{RetryTicks: 2}, twoSets())
	r.Route(1, scan())
	effs := r.TakeEffects()
	err := &api.Error{Code: api.CodeTimeout, Message: "timed out"}
	r.Answer(effs[1].(Call).ID, nil, err)
	d := oneDone(t, r)
	require.Same(t, err, d.Err)
	require.Empty(t, r.calls, "the calls of a finished route are forgotten")
	r.Answer(effs[0].(Call).ID, "rows of r1", nil)
	ticks(r, 5)
	require.Empty(t, r.TakeEffects(), "the rest of a failed scan is ignored")
	require.Equal(t, 0, r.Pending())
}

func TestUnknownAnswersIgnored(t *testing.T) {
	r := NewRouter(RouterConfig{RetryTicks: 1}, twoSets())
	r.Answer(42, "nobody asked", nil)
	require.Empty(t, r.TakeEffects())

	r.Route(1, write(17))
	c := oneCall(t, r)
	r.Answer(c.ID+1, "not this one", nil)
	require.Empty(t, r.TakeEffects())
	r.Answer(c.ID, nil, refusal(api.CodeBucketMoving))
	r.Answer(c.ID, "twice", nil)
	require.Empty(t, r.TakeEffects(), "an answer to a refused call is obsolete")
	r.Tick()
	c2 := oneCall(t, r)
	r.Answer(c.ID, "obsolete", nil)
	require.Empty(t, r.TakeEffects(), "superseded by the retry")
	require.Equal(t, 1, r.Pending())
	r.Answer(c2.ID, "ok", nil)
	require.Equal(t, Done{ID: 1, Results: []any{"ok"}}, oneDone(t, r))
}

func TestInvalidRequests(t *testing.T) {
	r := NewRouter(RouterConfig{RetryTicks: 1}, twoSets())
	both := scan()
	both.Bucket = 3
	r.Route(1, both)
	require.Equal(t, api.CodeIllegalParams, oneDone(t, r).Err.Code)
	neither := write(0)
	r.Route(2, neither)
	require.Equal(t, api.CodeIllegalParams, oneDone(t, r).Err.Code)

	r.Route(3, write(17))
	c := oneCall(t, r)
	r.Route(3, write(3))
	require.Equal(t, api.CodeIllegalParams, oneDone(t, r).Err.Code, "a route id still pending")
	r.Answer(c.ID, "ok", nil)
	require.Equal(t, Done{ID: 3, Results: []any{"ok"}}, oneDone(t, r), "the pending route is untouched")
}

// manyRoutes routes many requests and retries them all at the same tick; it
// returns every effect made.
func manyRoutes() []Effect {
	v := twoSets()
	r := NewRouter(RouterConfig{RetryTicks: 2}, v)
	var all []Effect
	take := func() []Effect {
		effs := r.TakeEffects()
		all = append(all, effs...)
		return effs
	}
	// Route ids not in order, so that a map's order would show.
	for i := range 40 {
		id := RouteID((i * 17) % 41)
		if i%5 == 0 {
			r.Route(id, scan())
		} else {
			r.Route(id, write(uint64(i%20+1)))
		}
	}
	for _, e := range take() {
		r.Answer(e.(Call).ID, nil, refusal(api.CodeBucketMoving))
	}
	ticks(r, 2)
	effs := take()
	for i, e := range effs {
		if i%3 == 0 {
			r.Answer(e.(Call).ID, nil, &api.Error{Code: api.CodeWrongBucket, Index: 20})
		} else {
			r.Answer(e.(Call).ID, i, nil)
		}
	}
	take()
	v.applied = 20
	r.Applied()
	for _, e := range take() {
		r.Answer(e.(Call).ID, "late", nil)
	}
	take()
	return all
}

func TestDeterminism(t *testing.T) {
	first := manyRoutes()
	require.NotEmpty(t, first)
	for range 5 {
		require.Equal(t, first, manyRoutes(), "the same events make the same effects")
	}
}

func TestRetriesInRouteIDOrder(t *testing.T) {
	r := NewRouter(RouterConfig{RetryTicks: 1}, twoSets())
	for _, id := range []RouteID{5, 3, 9, 1, 7, 2, 8} {
		r.Route(id, write(17))
	}
	for _, e := range r.TakeEffects() {
		r.Answer(e.(Call).ID, nil, refusal(api.CodeNotReady))
	}
	r.Tick()
	var order []RouteID
	for _, e := range r.TakeEffects() {
		r.Answer(e.(Call).ID, "ok", nil)
	}
	for _, e := range r.TakeEffects() {
		order = append(order, e.(Done).ID)
	}
	require.Equal(t, []RouteID{1, 2, 3, 5, 7, 8, 9}, order, "the retries were sent in route id order")
}

// A call may take as long as the route has left: a storage slower than a
// shorter call timeout would be heard as a timeout and end the route.
func TestCallsTakeTheRoutesTimeLeft(t *testing.T) {
	v := twoSets()
	r := NewRouter(RouterConfig{RetryTicks: 3}, v)
	req := write(17)
	req.Deadline = 30
	r.Route(1, req)
	c := oneCall(t, r)
	require.Equal(t, 30, c.Ticks)
	r.Answer(c.ID, nil, &api.Error{Code: api.CodeBucketMoving})
	ticks(r, 3)
	c = oneCall(t, r)
	require.Equal(t, 27, c.Ticks, "a retry has less time")
}

// A scan that prefers replicas reads each replicaset from its first
// replica (its master when it has none); a writing scan goes to masters.
func TestScanPrefersReplicas(t *testing.T) {
	v := twoSets()
	v.replicas["r2"] = nil
	r := NewRouter(RouterConfig{RetryTicks: 2}, v)
	req := scan()
	req.PreferReplica = true
	r.Route(1, req)
	var to []string
	for _, e := range r.TakeEffects() {
		to = append(to, e.(Call).To)
	}
	require.Equal(t, []string{"a1r", "a2"}, to)

	req.Write = true
	r.Route(2, req)
	to = nil
	for _, e := range r.TakeEffects() {
		to = append(to, e.(Call).To)
	}
	require.Equal(t, []string{"a1", "a2"}, to)
}

package sharding

import (
	"fmt"
	"slices"
	"strings"

	"github.com/picogo/picogo/core/api"
)

// View is what the router reads of its instance's applied state whenever it
// (re)routes.
type View interface {
	// Map is bucket ownership as applied.
	Map() Map
	// Master is the address of the replicaset's current master; false if
	// none is known.
	Master(replicaset string) (address string, ok bool)
	// Replicas are the addresses of the replicaset's other members that may
	// serve reads (any order is fine; the router tries them in the given
	// order).
	Replicas(replicaset string) []string
	// Applied is the instance's applied Raft index.
	Applied() uint64
}

// RouterConfig configures a Router.
type RouterConfig struct {
	// RetryTicks is the wait between retries of a moving bucket, a missing
	// owner or master, a refused write or a lost connection (>= 1; less is
	// taken as 1).
	RetryTicks int
}

// RouteID names a route; chosen by the caller.
type RouteID uint64

// CallID names a Call; chosen by the router, unique per router.
type CallID uint64

// Request is one routed operation on a sharded table. Exactly one of
// Bucket (a point request) and Scan.
type Request struct {
	Tier string
	// Bucket is, for a point request, the bucket of its key
	// (1..bucket_count).
	Bucket uint64
	// Scan: Call goes to the master of every replicaset owning buckets of
	// Tier (map), and the answers are collected (reduce).
	Scan bool
	// Write: to the master. A read may go to a replica when PreferReplica.
	Write         bool
	PreferReplica bool
	// Call is what to send (the node encodes it).
	Call api.Request
	// Deadline is in ticks from now (>= 1; less is taken as 1).
	Deadline int
}

// Effect is what a Router asks its node to do; TakeEffects hands them out
// in the order they were made.
type Effect interface{ isRouterEffect() }

// Call: send Request to the instance at address To, and feed what it
// answers (or the failure) to Answer(ID, ...).
type Call struct {
	ID      CallID
	To      string
	Request api.Request
	// Ticks is how long the call may take: the ticks left until the
	// route's deadline (at least 1). A storage that answers later than
	// that is heard as a timeout, which ends the route — the write may
	// have happened —, so a call must not time out before the route does.
	Ticks int
}

// Done: the route ended. For a point request Results has one element (the
// answer); for a scan one per replicaset, in replicaset ID order. Err (and
// no Results) on failure.
type Done struct {
	ID      RouteID
	Results []any
	Err     *api.Error
}

func (Call) isRouterEffect() {}
func (Done) isRouterEffect() {}

// Router sends requests on sharded tables to the replicasets owning their
// buckets and retries redirects within a deadline: a deterministic state
// machine whose methods are events (a request to route, an answer, a tick,
// more entries applied) and which accumulates effects (calls to send, routes
// done) for its node to carry out.
//
// A point request goes where View.Map says its bucket is: a write (or a
// read without PreferReplica) to the owner's master, a read with
// PreferReplica to the first of the owner's replicas (View.Replicas), or its
// master if it has none. A bucket without an owner (the tier's buckets are
// not bootstrapped yet) or an owner without a known master is tried again
// every RetryTicks.
//
// A scan sends its Call to the master of every replicaset that owns at
// least one bucket of the tier (a read with PreferReplica: to one of its
// replicas, as a point read does), all at once, and is done once every one
// answered, with their answers in replicaset ID order. The replicasets are
// those of the map when the scan started (re-read every RetryTicks while the
// tier has no owners): a scan is not a snapshot across replicasets — rows of
// a bucket that moves during a scan may be seen twice or missed. A part
// refused retryably is tried again alone, at its replicaset's master as
// View says then; any other failure of a part fails the scan.
//
// Answers. Success ends the route (or the part of a scan). Refusals after
// which nothing was done are retried:
//   - CodeWrongBucket: the storage's map differs from ours. If it is newer
//     (Error.Index above View.Applied), the route waits until this instance
//     has applied Error.Index (checked on Applied and Tick) and routes again
//     from the new map. Otherwise this instance's map is already the newer,
//     the storage lags behind: routed again after RetryTicks.
//   - CodeBucketMoving: a write to a bucket being sent away: after
//     RetryTicks.
//   - the read-only refusal (api.CodeReadonly, Tarantool's
//     ER_READONLY: the call reached a member that is not the master): after
//     RetryTicks, when the master has likely changed in View.
//   - CodeNoConnection and CodeNotReady: after RetryTicks; a read with
//     PreferReplica then goes to the next of its replicas (then the master,
//     then round again).
//
// Any other error — CodeTimeout among them: the request may have been
// applied, so it is never retried — ends the route with that error as is.
//
// A route not done within its Deadline ends with CodeTimeout and a message
// saying what it was waiting for and the last refusal. An answer to a call
// the router no longer waits for (unknown, superseded, or of a route that
// ended) is ignored. An invalid request (neither or both of Bucket and Scan,
// or a RouteID still pending) ends at once with CodeIllegalParams.
//
// Every Call has a fresh CallID. Routes are visited in RouteID order on
// Tick and Applied, so the same events always make the same effects.
type Router struct {
	cfg     RouterConfig
	view    View
	now     int
	next    CallID
	routes  map[RouteID]*route
	calls   map[CallID]callRef
	effects []Effect
}

type callRef struct {
	route RouteID
	part  int
}

type partState int

const (
	partRetry partState = iota // to be sent again at retryAt
	partIndex                  // to be sent again once index is applied
	partCall                   // call in flight
	partDone                   // answered
)

// part is what a point request sends, or one replicaset's part of a scan.
type part struct {
	rs      string // a scan's replicaset; "" for a point request
	state   partState
	retryAt int
	index   uint64
	call    CallID
	to      string
	result  any
	last    string // the last refusal, for the timeout message
	waiting string // what a partRetry part waits for
	rotate  int    // connection failures: which read candidate is next
}

type route struct {
	id       RouteID
	req      Request
	deadline int
	planned  bool // a scan's parts are known (a point request: always)
	planAt   int
	parts    []*part
}

// NewRouter is a router reading view.
func NewRouter(cfg RouterConfig, view View) *Router {
	if cfg.RetryTicks < 1 {
		cfg.RetryTicks = 1
	}
	return &Router{cfg: cfg, view: view, routes: map[RouteID]*route{}, calls: map[CallID]callRef{}}
}

// Route starts routing req as route id.
func (r *Router) Route(id RouteID, req Request) {
	switch {
	case r.routes[id] != nil:
		r.emit(Done{ID: id, Err: api.Errorf(api.CodeIllegalParams, "router: route %d is already pending", id)})
		return
	case req.Scan && req.Bucket != 0:
		r.emit(Done{ID: id, Err: api.Errorf(api.CodeIllegalParams, "router: a request is either a scan or of one bucket, not both")})
		return
	case !req.Scan && req.Bucket == 0:
		r.emit(Done{ID: id, Err: api.Errorf(api.CodeIllegalParams, "router: a point request needs a bucket (1..bucket_count)")})
		return
	}
	deadline := max(req.Deadline, 1)
	rt := &route{id: id, req: req, deadline: r.now + deadline}
	rt.req.Deadline = deadline
	r.routes[id] = rt
	if req.Scan {
		r.plan(rt)
		return
	}
	rt.planned = true
	rt.parts = []*part{{}}
	r.send(rt, 0)
}

// Answer feeds what call id answered: result, or err.
func (r *Router) Answer(id CallID, result any, err *api.Error) {
	ref, ok := r.calls[id]
	if !ok {
		return
	}
	delete(r.calls, id)
	rt := r.routes[ref.route]
	if rt == nil || ref.part >= len(rt.parts) {
		return
	}
	p := rt.parts[ref.part]
	if p.state != partCall || p.call != id {
		return
	}
	if err == nil {
		p.state, p.result = partDone, result
		r.finishIfDone(rt)
		return
	}
	refused := func(kind string) {
		p.last = kind + " from " + p.to
		if err.Message != "" {
			p.last += ": " + err.Message
		}
	}
	switch err.Code {
	case api.CodeWrongBucket:
		refused("wrong bucket")
		if err.Index > r.view.Applied() {
			p.state, p.index = partIndex, err.Index
		} else {
			r.retryLater(p, "waiting to route again")
		}
	case api.CodeBucketMoving:
		refused("bucket moving")
		r.retryLater(p, "waiting to retry")
	case api.CodeReadonly:
		refused("read-only")
		r.retryLater(p, "waiting to retry")
	case api.CodeNoConnection:
		refused("no connection")
		p.rotate++
		r.retryLater(p, "waiting to retry")
	case api.CodeNotReady:
		refused("not ready")
		p.rotate++
		r.retryLater(p, "waiting to retry")
	default:
		r.finish(rt, nil, err)
	}
}

// Tick is one tick passed: routes past their deadline end, retries due are
// sent, and routes waiting for an applied index go on if it is.
func (r *Router) Tick() {
	r.now++
	r.advance(true)
}

// Applied is the instance applied more Raft entries: routes waiting for an
// index go on if it is applied.
func (r *Router) Applied() { r.advance(false) }

// TakeEffects hands out the effects made so far, in the order they were
// made.
func (r *Router) TakeEffects() []Effect {
	out := r.effects
	r.effects = nil
	return out
}

// Pending is how many routes are not done.
func (r *Router) Pending() int { return len(r.routes) }

func (r *Router) emit(e Effect) { r.effects = append(r.effects, e) }

// advance visits the routes in ID order: on a tick, deadlines and retry
// timers; always, the waits for an applied index.
func (r *Router) advance(tick bool) {
	ids := make([]RouteID, 0, len(r.routes))
	for id := range r.routes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	applied := r.view.Applied()
	for _, id := range ids {
		rt := r.routes[id]
		if rt == nil {
			continue
		}
		if tick && r.now >= rt.deadline {
			r.timeout(rt)
			continue
		}
		if !rt.planned {
			if tick && r.now >= rt.planAt {
				r.plan(rt)
			}
			continue
		}
		for i, p := range rt.parts {
			if r.routes[id] == nil {
				break
			}
			switch {
			case p.state == partRetry && tick && r.now >= p.retryAt,
				p.state == partIndex && applied >= p.index:
				r.send(rt, i)
			}
		}
	}
}

// plan splits a scan into one part per replicaset owning buckets of the
// tier, in replicaset ID order, and sends them; if the tier has no owners
// yet, tries again after RetryTicks.
func (r *Router) plan(rt *route) {
	var rss []string
	for _, br := range r.view.Map().Ranges(rt.req.Tier) {
		rss = append(rss, br.ReplicasetID)
	}
	slices.Sort(rss)
	rss = slices.Compact(rss)
	if len(rss) == 0 {
		rt.planAt = r.now + r.cfg.RetryTicks
		return
	}
	rt.planned = true
	for _, rs := range rss {
		rt.parts = append(rt.parts, &part{rs: rs})
	}
	for i := range rt.parts {
		r.send(rt, i)
	}
}

// send sends part i of rt where View says it goes now, or schedules a
// retry if it cannot say.
func (r *Router) send(rt *route, i int) {
	p := rt.parts[i]
	to, wait := r.target(rt, p)
	if to == "" {
		r.retryLater(p, wait)
		return
	}
	r.next++
	id := r.next
	p.state, p.call, p.to = partCall, id, to
	r.calls[id] = callRef{route: rt.id, part: i}
	r.emit(Call{ID: id, To: to, Request: rt.req.Call, Ticks: max(rt.deadline-r.now, 1)})
}

// target is the address part p goes to, or "" and what it waits for.
func (r *Router) target(rt *route, p *part) (string, string) {
	rs := p.rs
	if !rt.req.Scan {
		br, ok := r.view.Map().Find(rt.req.Tier, rt.req.Bucket)
		if !ok {
			return "", "waiting for the bucket to have an owner (the tier's buckets are not bootstrapped)"
		}
		rs = br.ReplicasetID
	}
	master, ok := r.view.Master(rs)
	if !rt.req.Write && rt.req.PreferReplica {
		candidates := slices.Clone(r.view.Replicas(rs))
		if ok {
			candidates = append(candidates, master)
		}
		if len(candidates) == 0 {
			return "", "waiting for a member of replicaset " + rs + " to read from"
		}
		return candidates[p.rotate%len(candidates)], ""
	}
	if !ok {
		return "", "waiting for the master of replicaset " + rs + " to be known"
	}
	return master, ""
}

func (r *Router) retryLater(p *part, waiting string) {
	p.state, p.retryAt, p.waiting = partRetry, r.now+r.cfg.RetryTicks, waiting
}

func (r *Router) finishIfDone(rt *route) {
	results := make([]any, 0, len(rt.parts))
	for _, p := range rt.parts {
		if p.state != partDone {
			return
		}
		results = append(results, p.result)
	}
	r.finish(rt, results, nil)
}

// finish ends rt: its calls in flight become obsolete.
func (r *Router) finish(rt *route, results []any, err *api.Error) {
	for _, p := range rt.parts {
		if p.state == partCall {
			delete(r.calls, p.call)
		}
	}
	delete(r.routes, rt.id)
	r.emit(Done{ID: rt.id, Results: results, Err: err})
}

func (r *Router) timeout(rt *route) {
	var what, why string
	if rt.req.Scan {
		what = "scan of tier " + rt.req.Tier
		if !rt.planned {
			why = "waiting for the tier's buckets to have owners (not bootstrapped)"
		} else {
			var waits []string
			for _, p := range rt.parts {
				if p.state != partDone {
					waits = append(waits, "replicaset "+p.rs+": "+p.describe())
				}
			}
			why = strings.Join(waits, "; ")
		}
	} else {
		what = fmt.Sprintf("bucket %d of tier %s", rt.req.Bucket, rt.req.Tier)
		why = rt.parts[0].describe()
	}
	r.finish(rt, nil, api.Errorf(api.CodeTimeout, "router: %s: no answer within %d ticks (%s)", what, rt.req.Deadline, why))
}

// describe is what an unfinished part waits for, after its last refusal.
func (p *part) describe() string {
	var waiting string
	switch p.state {
	case partRetry:
		waiting = p.waiting
	case partIndex:
		waiting = fmt.Sprintf("waiting for index %d", p.index)
	case partCall:
		waiting = "waiting for an answer from " + p.to
	}
	if p.last == "" {
		return waiting
	}
	return "last: " + p.last + ", " + waiting
}

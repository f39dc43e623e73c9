package node

import (
	"fmt"

	"github.com/picogo/picogo/core/api"
)

// A node is a router over modules. Each module is a type that owns its
// state and declares, in its register method and nowhere else, the
// procedures it serves and the work it does on each tick:
//
//	module     files                               procedures
//	lifecycle  lifecycle.go topology.go            .proc_discover .proc_raft_join .proc_update_instance
//	                                               .proc_expel .proc_expel_redirect
//	cas        cas.go propose.go writtenkeys.go    .proc_cas
//	consensus  consensus.go chunks.go              .proc_raft_info .proc_get_index .proc_read_index
//	                                               .proc_wait_index .proc_raft_promote .proc_raft_interact
//	                                               .proc_raft_snapshot_next_chunk .proc_get_peer_address
//	governor   governor.go local.go                .proc_replication .proc_sharding .proc_sharding_bootstrap
//	reads      reads.go views.go                   select .proc_version_info .proc_runtime_info
//	                                               .proc_instance_info
//	users      users.go logins.go                  .proc_unlock_user
//	data       data.go dataprocs.go                .proc_get_vclock .proc_wait_vclock .proc_replication_demote
//	                                               .proc_replication_promote .proc_replicaset_ship
//	                                               insert replace update upsert delete (Tarantool's requests)
//	router     router.go                           .proc_router_insert .proc_router_replace .proc_router_delete
//	                                               .proc_router_get .proc_router_scan
//	buckets    buckets.go                          .proc_bucket_export .proc_bucket_import .proc_bucket_delete
//	sql        sql*.go                             .proc_sql .proc_sql_local .proc_sql_insert
//	roles      roles.go                            .proc_role_start .proc_role_stop
//
// A module embeds *Node for the plumbing every module shares — the Raft
// server, the tables, effects, calls to other instances, awaited Raft
// requests, addresses — and reaches another module through its field of
// Node (n.cas.proposeOp, n.governor.heardFrom). The tables are the Raft
// state machine; the data module follows what they apply (its pump runs
// after every event, in collect) rather than applying entries itself.
//
// Adding a procedure: its request type in core/api (listed in
// api.Procedures, with who may call it; proc derives the wire codec from
// its fields), and one serve call in the register method of the module it
// belongs to. See docs/procedures.md.

// need is the phase a procedure needs.
type need uint8

const (
	// anyPhase: served in every phase (discovery, a connector reading
	// the schema views, logins and their locks).
	anyPhase need = iota
	// running: served once the instance runs Raft; before, the answer is
	// NotReady.
	running
)

// procedure is a registered procedure: what it needs, and its handler,
// which answers through respond (now or later).
type procedure struct {
	need   need
	handle func(user string, req api.Request, respond responder)
}

// tickStep is a step of a tick. Every tick runs the steps in this order;
// a module registers its work at the step it belongs to, and the steps of
// one step run in registration order.
type tickStep uint8

const (
	// tickRetry: before Raft runs, discovery and join ask again
	// (lifecycle).
	tickRetry tickStep = iota
	// tickRaft: Raft's clock — elections, heartbeats (consensus).
	tickRaft
	// tickDeferred: what waited for the next tick (lifecycle: an expel
	// redirect waiting for the instance to be expelled).
	tickDeferred
	// tickAdminAuth: the leader proposes admin's password given at
	// start; an instance alerts if the cluster has another (users).
	tickAdminAuth
	// tickActivate: this instance keeps its own target grade (lifecycle).
	tickActivate
	// tickSentinel: the leader sets instances it has not heard from
	// Offline (governor).
	tickSentinel
	// tickGovern: the leader's governor takes its next step (governor).
	tickGovern
	// tickData: the replicaset member's clock — reshipping, timeouts of
	// promotions and waits (data).
	tickData
	// tickRoute: the router's clock — retries of redirected requests,
	// their deadlines, routes waiting for a Raft index (router).
	tickRoute
	// tickSQL: SQL statements waiting for their schema change to finish,
	// or for their time to pass (sql).
	tickSQL
	// tickRoles: running roles hear of a new configuration (roles).
	tickRoles
	tickSteps
)

type tickWork struct {
	need need
	fn   func()
}

// registry is what the modules registered.
type registry struct {
	procs map[string]procedure
	ticks [tickSteps][]tickWork
}

// serve registers the handler of the procedure whose request is R.
func serve[R api.Request](r *registry, need need, handle func(user string, req R, respond responder)) {
	var zero R
	name := zero.Proc()
	if _, dup := r.procs[name]; dup {
		panic(fmt.Sprintf("node: procedure %s registered twice", name))
	}
	r.procs[name] = procedure{need: need, handle: func(user string, req api.Request, respond responder) {
		handle(user, req.(R), respond)
	}}
}

// tick registers fn at step of every tick, in the phases need says.
func (r *registry) tick(step tickStep, need need, fn func()) {
	r.ticks[step] = append(r.ticks[step], tickWork{need: need, fn: fn})
}

// modules are the node's modules: each owns its state and registers its
// procedures and tick work.
type modules struct {
	lifecycle *lifecycle
	cas       *casModule
	consensus *consensus
	governor  *governorModule
	reads     *reads
	users     *users
	data      *data
	router    *routerModule
	buckets   *buckets
	sql       *sqlModule
	roles     *rolesModule
	rpc       *rpcModule
}

// compose makes n's modules and registers what they serve and do.
func (n *Node) compose() {
	n.lifecycle = &lifecycle{Node: n}
	n.cas = &casModule{Node: n}
	n.consensus = &consensus{Node: n}
	n.governor = &governorModule{Node: n}
	n.reads = &reads{Node: n}
	n.users = newUsers(n)
	n.data = newData(n)
	n.placement = &placement{n: n}
	n.router = newRouter(n)
	n.buckets = &buckets{Node: n}
	n.sql = newSQL(n)
	n.roles = newRoles(n)
	n.rpc = newRPC(n)
	n.registry = registry{procs: map[string]procedure{}}
	for _, m := range []interface{ register(*registry) }{n.lifecycle, n.cas, n.consensus, n.governor, n.reads, n.users, n.data,
		n.router, n.buckets, n.sql, n.roles, n.rpc} {
		m.register(&n.registry)
	}
}

// handle serves a request, answering through respond (now or later): a
// lookup of the procedure its module registered.
func (n *Node) handle(user string, req api.Request, respond responder) {
	p, ok := n.registry.procs[req.Proc()]
	switch {
	case !ok:
		respond(nil, api.Errorf(api.CodeNoSuchProc, "Procedure '%s' is not defined", req.Proc()))
	case p.need == running && n.phase != PhaseRunning:
		respond(nil, api.Errorf(api.CodeNotReady, "%s: this instance is %s", req.Proc(), n.phase))
	default:
		p.handle(user, req, respond)
	}
}

// Tick advances the instance's clock by one period: the modules' tick
// work, step by step. The phase is the one the tick started in.
func (n *Node) Tick() {
	n.ticks++
	phase := n.phase
	for _, works := range n.registry.ticks {
		for _, w := range works {
			if w.need == running && phase != PhaseRunning {
				continue
			}
			w.fn()
		}
	}
	n.collect()
}

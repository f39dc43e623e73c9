package sim

import (
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/node"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/disk/simdisk"
	lin "github.com/picogo/picogo/linearizability"
	"github.com/picogo/picogo/proc"
	"github.com/picogo/picogo/runtime"
)

// Cluster is a simulated cluster driven by a test, event by event: the
// same instances (the production core behind runtime.Host), simulated disks
// and network as a seed's world, and the same invariant checks after every
// event — but no random faults: the test starts, stops, kills, isolates
// and calls instances, and runs virtual time forward.
type Cluster struct {
	w *World
}

// ClusterOptions configure a scripted cluster.
type ClusterOptions struct {
	Seed uint64
	// Tiers the cluster boots with (default: one tier "storage",
	// replication factor 1, voting).
	Tiers []tables.Tier
	Trace io.Writer
}

// Spec is how an instance is started: its flags, as an operator would
// give them.
type Spec struct {
	ClusterID     string // default: the cluster's
	InstanceID    string
	ReplicasetID  string
	Tier          string // default: the first tier
	FailureDomain map[string]string
	// Peers are the addresses it discovers (default: every instance
	// started before it, and itself).
	Peers []string
}

// Member is one instance of a Cluster.
type Member struct {
	c  *Cluster
	in *instance
}

// NewCluster makes an empty cluster: a quiet network (1–2 ms), fast disks.
func NewCluster(o ClusterOptions) *Cluster {
	tiers := o.Tiers
	if len(tiers) == 0 {
		tiers = []tables.Tier{{Name: "storage", ReplicationFactor: 1, CanVote: true, BucketCount: tables.DefaultBucketCount}}
	}
	root := rand.New(rand.NewPCG(o.Seed, 0x9e3779b97f4a7c15))
	sub := func() *rand.Rand { return rand.New(rand.NewPCG(root.Uint64(), root.Uint64())) }
	w := &World{
		seed:     o.Seed,
		scripted: true,
		params: Params{
			Tiers: tiers, Tick: 10 * time.Millisecond, Limits: runtime.ProductionLimits,
			NetLatencyMin: time.Millisecond, NetLatencyMax: 2 * time.Millisecond,
			DiskLatencyMin: 50 * time.Microsecond, DiskLatencyMax: 200 * time.Microsecond,
			OpTimeout: 500 * time.Millisecond, ShutdownTimeout: 2 * time.Second,
			LivenessBound: 8 * time.Second,
		},
		byAddr:   map[string]*instance{},
		cut:      map[[2]string]bool{},
		noDial:   map[[2]string]bool{},
		history:  &lin.History{},
		locks:    map[lockKey]bool{},
		refusals: map[hostKey]int{},
	}
	w.netRng, w.diskRng, w.faultRng = sub(), sub(), sub()
	w.authRng = sub()
	w.drawPasswords()
	w.trace = newTrace(o.Trace, func() int64 { return w.sched.now })
	w.newCheckers()
	return &Cluster{w: w}
}

// Start adds an instance with an empty disk and starts it: it discovers
// its peers, then boots the cluster or joins it. Its address is "i<n>".
func (c *Cluster) Start(s Spec) *Member {
	w := c.w
	id := uint64(len(w.instances) + 1)
	in := &instance{w: w, id: id, addr: fmt.Sprintf("i%d", id), disk: simdisk.New(simdisk.Options{}),
		tickEvery: int64(w.params.Tick), tier: orDefault(s.Tier, w.params.Tiers[0].Name),
		failureDomain: s.FailureDomain, spec: s}
	if in.failureDomain == nil {
		in.failureDomain = map[string]string{}
	}
	if s.Peers == nil {
		for _, o := range w.instances {
			in.spec.Peers = append(in.spec.Peers, o.addr)
		}
		in.spec.Peers = append(in.spec.Peers, in.addr)
	}
	w.instances = append(w.instances, in)
	w.byAddr[in.addr] = in
	if err := in.start(); err != nil {
		w.fail(err)
	}
	return &Member{c: c, in: in}
}

// Run advances virtual time by d.
func (c *Cluster) Run(d time.Duration) { c.w.runUntil(c.w.sched.now + int64(d)) }

// Until runs until cond holds, at most limit of virtual time; the error
// says what was awaited, and any invariant violation found meanwhile.
func (c *Cluster) Until(what string, limit time.Duration, cond func() bool) error {
	deadline := c.w.sched.now + int64(limit)
	for c.w.failure == nil && !cond() {
		if !c.w.sched.step(deadline) {
			if cond() {
				break
			}
			return fmt.Errorf("not within %v: %s", limit, what)
		}
	}
	return c.w.failure
}

// Settle runs until the cluster is at rest — one leader everyone follows,
// every running instance Online, the governor idle — and checks the
// invariants of a cluster at rest (voters, masters, buckets).
func (c *Cluster) Settle(limit time.Duration) error {
	if err := c.Until("the cluster at rest", limit, c.w.settled); err != nil {
		return fmt.Errorf("%w (%s)", err, c.w.unsettled())
	}
	return c.w.topology.restChecks()
}

// Failure is the first invariant violation seen, if any.
func (c *Cluster) Failure() error { return c.w.failure }

// Call sends req from the operator's console to m, logged in as admin
// with the cluster's admin password, and runs until the answer (or the
// call's timeout).
func (c *Cluster) Call(m *Member, req api.Request) (result any, err *api.Error) {
	return c.CallAs(m, proc.Admin, c.w.adminPassword, req)
}

// CallAs sends req from the operator's console to m on a connection that
// logs in as user with password (a refused login is the call's error), and
// runs until the answer (or the call's timeout).
func (c *Cluster) CallAs(m *Member, user, password string, req api.Request) (result any, err *api.Error) {
	done := false
	c.w.operatorCallAs(m.in, user, password, req, func(r any, e *api.Error) { result, err, done = r, e, true })
	for !done && c.w.sched.step(c.w.sched.now+int64(time.Minute)) {
	}
	return result, err
}

// Login opens a connection from host to m and logs in as user with
// password, as a client would, and runs until the instance answers (or the
// login times out). refused is the instance's refusal (nil: logged in);
// heldBack is how long the instance held it back.
func (c *Cluster) Login(host string, m *Member, user, password string) (refused *api.Error, heldBack time.Duration) {
	conn := c.w.dial(host, m.in.addr, user, password, strangerTimeout)
	done := false
	var err error
	conn.whenReady(func(e error) { done, err = true, e })
	for !done && c.w.sched.step(c.w.sched.now+int64(time.Minute)) {
	}
	if err != nil {
		return errorOf(err), conn.heldBack
	}
	return nil, 0
}

// AdminPassword and ServicePassword are the cluster's passwords: every
// instance starts with them; Call logs in as admin, instances log in to
// each other as pico_service.
func (c *Cluster) AdminPassword() string   { return c.w.adminPassword }
func (c *Cluster) ServicePassword() string { return c.w.servicePassword }

// Leader is the member that leads (in the highest term), or nil.
func (c *Cluster) Leader() *Member {
	in := c.w.leader()
	if in == nil {
		return nil
	}
	return &Member{c: c, in: in}
}

// Topology is the topology as the leader has applied it.
func (c *Cluster) Topology() tables.Topology {
	if l := c.w.leader(); l != nil {
		if top, err := l.node().Tables().ReadTopology(); err == nil {
			return top
		}
	}
	return tables.Topology{}
}

// Conf is the Raft configuration as the leader has applied it.
func (c *Cluster) Conf() raft.ConfState {
	if l := c.w.leader(); l != nil {
		return l.node().Status().ConfState
	}
	return raft.ConfState{}
}

// Isolate cuts m off from everyone, both ways; Heal mends every cut.
func (c *Cluster) Isolate(m *Member) {
	for _, o := range c.w.instances {
		if o != m.in {
			c.w.cut[[2]string{m.in.addr, o.addr}] = true
			c.w.cut[[2]string{o.addr, m.in.addr}] = true
		}
	}
	c.w.trace.printf("isolate i%d", m.in.id)
}

// FailDials makes the calls `from` starts to `to` fail at once, while the
// calls `to` starts to `from` and their answers go through: as over TCP when
// from's dials to a restarted process are still backing off (net/tcp's
// pool), while the process's own connection works.
func (c *Cluster) FailDials(from, to *Member) {
	c.w.noDial[[2]string{from.in.addr, to.in.addr}] = true
	c.w.trace.printf("dials i%d -> i%d fail", from.in.id, to.in.id)
}

// Heal mends every cut link.
func (c *Cluster) Heal() {
	c.w.cut = map[[2]string]bool{}
	c.w.noDial = map[[2]string]bool{}
	c.w.trace.printf("heal")
}

// Addr is where the member listens.
func (m *Member) Addr() string { return m.in.addr }

// Up reports whether its process runs.
func (m *Member) Up() bool { return m.in.up() }

// Node is its running node (nil when its process is down).
func (m *Member) Node() *node.Node { return m.in.node() }

// FailRoleInit makes the next n Inits of role on the member fail, in
// this process or the next (the simulator's role runner reports an
// error; the instance stays up).
func (m *Member) FailRoleInit(role string, n int) {
	w := m.c.w
	if w.initFailures == nil {
		w.initFailures = map[[2]string]int{}
	}
	w.initFailures[[2]string{m.in.addr, role}] += n
	w.trace.printf("i%d: the next %d Inits of %s fail", m.in.id, n, role)
}

// Roles are the roles its process runs, as the simulator's role runner
// ran them, by name (nil when its process is down).
func (m *Member) Roles() []string {
	if m.in.roles == nil {
		return nil
	}
	return m.in.roles.runningNames()
}

// Fatal is the error its process stopped with (a refused join, a refused
// start), if any.
func (m *Member) Fatal() error { return m.in.fatal }

// Terminated reports whether its process stopped on its own for good (it
// learnt it is expelled).
func (m *Member) Terminated() bool { return m.in.terminated && m.in.fatal == nil }

// RaftID is its raft id (0 before it joined).
func (m *Member) RaftID() uint64 { return m.in.raftID }

// Row is its _pico_instance row as the leader has it.
func (m *Member) Row() (tables.Instance, bool) {
	if m.in.raftID == 0 {
		return tables.Instance{}, false
	}
	return byRaftID(m.c.Topology(), m.in.raftID)
}

// FailDisk makes every disk write of its process fail from now on, as a
// disk gone bad: the process must stop (fail-stop), not wait for ever.
func (m *Member) FailDisk() {
	m.in.diskFails = true
	m.c.w.trace.printf("i%d disk fails", m.in.id)
}

// Pause stops its process's loop: what arrives waits in its inbox (a
// stopped process, SIGSTOP). Resume lets it drain the inbox.
func (m *Member) Pause()  { m.in.pause() }
func (m *Member) Resume() { m.in.resume() }

// Kill stops its process at once (SIGKILL): unsynced writes are lost.
func (m *Member) Kill() { m.in.stopping = false; m.in.crash(false) }

// Shutdown stops it gracefully (SIGTERM): it asks for Offline and exits
// once it is, as `picogo run` does.
func (m *Member) Shutdown() {
	m.in.stopping = true
	m.c.w.trace.printf("i%d graceful shutdown", m.in.id)
	m.in.host.Shutdown()
	m.c.w.afterEvent(m.in)
}

// Restart starts its process again from its disk.
func (m *Member) Restart() {
	m.in.stopping, m.in.retired, m.in.terminated, m.in.fatal = false, false, false, nil
	if err := m.in.start(); err != nil {
		m.c.w.fail(err)
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

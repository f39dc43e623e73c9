// Package ratest is an in-memory, single-threaded driver for ra servers: it
// carries their messages, persists their writes to in-memory disks,
// answers their snapshot chunk fetches, and implements ra's lifecycle calls
// (start_cluster, start_or_restart_cluster, start/restart/stop/force-delete
// server). Nothing happens unless asked, so tests choose every interleaving.
package ratest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/raft"
)

// ErrClusterNotFormed: fewer than a majority of the servers started.
var ErrClusterNotFormed = errors.New("ratest: cluster not formed: fewer than a majority of servers started")

// Cluster is the set of servers and the network between them.
type Cluster struct {
	seed    uint64
	members map[uint64]*Member
	queues  map[uint64][]raft.Message
	cut     map[[2]uint64]bool
	nextReq ra.ReqID
	// Replies holds every answer, by request.
	Replies map[ra.ReqID]ra.Reply
	// ManualPersist leaves writes outstanding until Persist is called.
	ManualPersist bool
	// Configure adjusts each server's configuration before it starts.
	Configure func(*ra.Config)
}

// Member is one server with its disk and what it reported.
type Member struct {
	ID     uint64
	Server *ra.Server
	SM     *LogSM
	Disk   ra.DiskState
	// HasDisk: the server was started at least once and its data not deleted.
	HasDisk bool
	Down    bool
	// Unavailable servers cannot be started (their host is down).
	Unavailable bool
	Applied     []ra.CorrelatedReply
	Rejected    []ra.Rejected
	Fatal       []error
	Alerts      []error
	Terminated  *ra.Terminate
	pending     []ra.Persist
}

// New creates an empty cluster whose servers draw randomness from seed.
func New(seed uint64) *Cluster {
	return &Cluster{
		seed: seed, members: map[uint64]*Member{}, queues: map[uint64][]raft.Message{},
		cut: map[[2]uint64]bool{}, Replies: map[ra.ReqID]ra.Reply{},
	}
}

// Member returns server id's record (created empty if unknown).
func (c *Cluster) Member(id uint64) *Member {
	m := c.members[id]
	if m == nil {
		m = &Member{ID: id}
		c.members[id] = m
	}
	return m
}

// Server returns a running server or nil.
func (c *Cluster) Server(id uint64) *ra.Server {
	if m := c.members[id]; m != nil && !m.Down && m.Server != nil {
		return m.Server
	}
	return nil
}

func (c *Cluster) ids() []uint64 {
	ids := make([]uint64, 0, len(c.members))
	for id := range c.members {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// config is a test configuration: 10-tick elections, 1-tick heartbeats.
func (c *Cluster) config(id uint64) ra.Config {
	cfg := ra.Config{Raft: raft.Config{
		ID: id, ElectionTick: 10, HeartbeatTick: 1, PreVote: true, CheckQuorum: true,
		MaxMsgBytes: 1 << 20, MaxMsgEntries: 64, MaxInflightMsgs: 64,
		Rand: rand.New(rand.NewPCG(c.seed, id)),
	}}
	if c.Configure != nil {
		c.Configure(&cfg)
	}
	return cfg
}

// start runs server id from disk.
func (c *Cluster) start(id uint64, disk ra.DiskState) error {
	m := c.Member(id)
	if m.Unavailable {
		return fmt.Errorf("ratest: server %d is unavailable", id)
	}
	cfg := c.config(id)
	// A restart draws fresh randomness, deterministically.
	if m.HasDisk {
		cfg.Raft.Rand = rand.New(rand.NewPCG(c.seed^disk.HardState.Term, id))
	}
	m.SM = &LogSM{}
	s, err := ra.NewServer(cfg, m.SM, disk)
	if err != nil {
		return err
	}
	m.Server, m.Disk, m.HasDisk, m.Down, m.Terminated, m.pending = s, disk, true, false, nil, nil
	c.process(m)
	return nil
}

// StartCluster starts a new cluster of the given servers (ra's
// start_cluster): each starts as a founding voter, and if a majority
// started, the first started server is told to campaign. It returns which
// started and which did not; with fewer than a majority the started ones
// are deleted again and ErrClusterNotFormed returned.
func (c *Cluster) StartCluster(ids ...uint64) (started, notStarted []uint64, err error) {
	disk, err := ra.Bootstrap(ids)
	if err != nil {
		return nil, nil, err
	}
	for _, id := range ids {
		if c.Member(id).HasDisk {
			return nil, nil, fmt.Errorf("ratest: server %d already has data", id)
		}
		if err := c.start(id, disk); err != nil {
			notStarted = append(notStarted, id)
			continue
		}
		started = append(started, id)
	}
	if len(started) <= len(ids)/2 {
		for _, id := range started {
			c.ForceDeleteServer(id)
		}
		return started, notStarted, ErrClusterNotFormed
	}
	if err := c.Server(started[0]).Elect(); err != nil {
		return started, notStarted, err
	}
	c.process(c.members[started[0]])
	return started, notStarted, nil
}

// StartOrRestartCluster restarts the servers that have data and starts the
// others as a new cluster if none has (ra's start_or_restart_cluster).
func (c *Cluster) StartOrRestartCluster(ids ...uint64) (started, notStarted []uint64, err error) {
	anyData := false
	for _, id := range ids {
		anyData = anyData || c.Member(id).HasDisk
	}
	if !anyData {
		return c.StartCluster(ids...)
	}
	for _, id := range ids {
		if err := c.RestartServer(id); err != nil {
			notStarted = append(notStarted, id)
			continue
		}
		started = append(started, id)
	}
	if len(started) <= len(ids)/2 {
		return started, notStarted, ErrClusterNotFormed
	}
	return started, notStarted, nil
}

// StartServer starts a new, empty server that an existing cluster will add
// (ra's start_server).
func (c *Cluster) StartServer(id uint64) error {
	if c.Member(id).HasDisk {
		return fmt.Errorf("ratest: server %d already has data; restart it", id)
	}
	return c.start(id, ra.DiskState{})
}

// RestartServer starts a stopped server from its disk (ra's
// restart_server); a server never started is not_found.
func (c *Cluster) RestartServer(id uint64) error {
	m := c.members[id]
	switch {
	case m == nil || !m.HasDisk:
		return fmt.Errorf("ratest: server %d not found", id)
	case !m.Down && m.Server != nil:
		return fmt.Errorf("ratest: server %d is running", id)
	}
	return c.start(id, m.Disk)
}

// StopServer stops a server; its disk stays (ra's stop_server). Writes not
// yet persisted are lost.
func (c *Cluster) StopServer(id uint64) error {
	m := c.members[id]
	if m == nil || m.Down || m.Server == nil {
		return fmt.Errorf("ratest: server %d is not running", id)
	}
	m.Down, m.pending = true, nil
	delete(c.queues, id)
	return nil
}

// ForceDeleteServer stops a server and deletes its data (ra's
// force_delete_server).
func (c *Cluster) ForceDeleteServer(id uint64) {
	m := c.Member(id)
	m.Down, m.pending, m.Disk, m.HasDisk = true, nil, ra.DiskState{}, false
	delete(c.queues, id)
}

// NextReq allocates a request id.
func (c *Cluster) NextReq() ra.ReqID {
	c.nextReq++
	return c.nextReq
}

// Call runs fn against server id with a fresh request id, processes the
// effects, and returns the request id.
func (c *Cluster) Call(id uint64, fn func(*ra.Server, ra.ReqID)) ra.ReqID {
	req := c.NextReq()
	s := c.Server(id)
	if s == nil {
		c.Replies[req] = ra.Reply{Req: req, Err: fmt.Errorf("ratest: server %d is not running", id)}
		return req
	}
	fn(s, req)
	c.process(c.members[id])
	return req
}

// Do runs fn (a trigger or any direct call) on server id and processes its
// effects.
func (c *Cluster) Do(id uint64, fn func(*ra.Server) error) error {
	s := c.Server(id)
	if s == nil {
		return fmt.Errorf("ratest: server %d is not running", id)
	}
	err := fn(s)
	c.process(c.members[id])
	return err
}

// process carries out a server's effects.
func (c *Cluster) process(m *Member) {
	for m.Server != nil && !m.Down {
		effects := m.Server.TakeEffects()
		if len(effects) == 0 {
			return
		}
		for _, e := range effects {
			c.carryOut(m, e)
		}
	}
}

func (c *Cluster) carryOut(m *Member, e ra.Effect) {
	switch e := e.(type) {
	case ra.Send:
		c.queues[e.To] = append(c.queues[e.To], e.Messages...)
	case ra.Persist:
		m.pending = append(m.pending, e)
		if !c.ManualPersist {
			c.persistOne(m)
		}
	case ra.Reply:
		c.Replies[e.Req] = e
	case ra.Applied:
		m.Applied = append(m.Applied, e.Results...)
	case ra.Rejected:
		m.Rejected = append(m.Rejected, e)
	case ra.FetchChunk:
		chunk, err := c.serveChunk(m.ID, e)
		m.Server.ChunkArrived(e.Req, chunk, err)
	case ra.Terminate:
		m.Terminated = &e
		m.Down = true
		if e.Delete {
			m.Disk, m.HasDisk = ra.DiskState{}, false
		}
	case ra.TerminateMember:
		if e.Delete {
			c.ForceDeleteServer(e.ID)
		} else if o := c.members[e.ID]; o != nil && !o.Down {
			_ = c.StopServer(e.ID)
		}
	case ra.Fatal:
		m.Fatal = append(m.Fatal, e.Err)
	case ra.Alert:
		m.Alerts = append(m.Alerts, e.Err)
	case ra.LeaderChanged:
	default:
		panic(fmt.Sprintf("ratest: unknown effect %T", e))
	}
}

// serveChunk is the RPC a follower makes to fetch a snapshot chunk.
func (c *Cluster) serveChunk(to uint64, f ra.FetchChunk) (ra.Chunk, error) {
	src := c.Server(f.From)
	if src == nil || c.cut[[2]uint64{to, f.From}] || c.cut[[2]uint64{f.From, to}] {
		return ra.Chunk{}, fmt.Errorf("ratest: server %d unreachable", f.From)
	}
	return src.ServeChunk(f.Term, f.Index, f.Pos)
}

// Persist completes the oldest outstanding write of server id.
func (c *Cluster) Persist(id uint64) error {
	m := c.members[id]
	if m == nil || m.Down || len(m.pending) == 0 {
		return fmt.Errorf("ratest: server %d has no outstanding write", id)
	}
	c.persistOne(m)
	return nil
}

func (c *Cluster) persistOne(m *Member) {
	p := m.pending[0]
	m.pending = m.pending[1:]
	d := &m.Disk
	if p.Snapshot != nil {
		d.Snapshot = p.Snapshot
		if p.ReplacesLog {
			d.Entries = nil
		}
	}
	if len(p.Entries) > 0 {
		first := p.Entries[0].Index
		d.Entries = append(slices.DeleteFunc(slices.Clone(d.Entries), func(e raft.Entry) bool { return e.Index >= first }), p.Entries...)
	}
	if p.PurgeTo > 0 {
		d.Entries = slices.DeleteFunc(d.Entries, func(e raft.Entry) bool { return e.Index <= p.PurgeTo })
	}
	if p.HardState != nil {
		d.HardState = *p.HardState
	}
	// Entries covered by the snapshot are not part of the restart state.
	if d.Snapshot != nil {
		d.Entries = slices.DeleteFunc(d.Entries, func(e raft.Entry) bool { return e.Index <= d.Snapshot.Meta.Index })
	}
	if err := m.Server.PersistDone(p.ID); err != nil {
		panic(fmt.Sprintf("ratest: %v", err))
	}
}

// Cut loses messages from a to b.
func (c *Cluster) Cut(a, b uint64) { c.cut[[2]uint64{a, b}] = true }

// Isolate cuts server id off, both ways.
func (c *Cluster) Isolate(id uint64) {
	for _, o := range c.ids() {
		if o != id {
			c.Cut(id, o)
			c.Cut(o, id)
		}
	}
}

// Heal restores every link.
func (c *Cluster) Heal() { c.cut = map[[2]uint64]bool{} }

// Deliver hands every running server the messages queued for it, once.
// It reports whether anything was delivered.
func (c *Cluster) Deliver() bool {
	busy := false
	for _, id := range c.ids() {
		msgs := c.queues[id]
		if len(msgs) == 0 {
			continue
		}
		delete(c.queues, id)
		m := c.members[id]
		if m.Down || m.Server == nil {
			continue
		}
		var keep []raft.Message
		for _, msg := range msgs {
			if !c.cut[[2]uint64{msg.From, msg.To}] {
				keep = append(keep, msg)
			}
		}
		if len(keep) == 0 {
			continue
		}
		busy = true
		_ = m.Server.Receive(keep)
		c.process(m)
	}
	return busy
}

// Stabilize delivers messages until none are left.
func (c *Cluster) Stabilize() error {
	for i := 0; c.Deliver(); i++ {
		if i > 10000 {
			return errors.New("ratest: no quiescence")
		}
	}
	return nil
}

// Tick ticks every running server n times, stabilizing after each tick.
func (c *Cluster) Tick(n int) error {
	for range n {
		for _, id := range c.ids() {
			if s := c.Server(id); s != nil {
				s.Tick()
				c.process(c.members[id])
			}
		}
		if err := c.Stabilize(); err != nil {
			return err
		}
	}
	return nil
}

// Leader returns the server that leads (with the highest term), or 0.
func (c *Cluster) Leader() uint64 {
	var lead, term uint64
	for _, id := range c.ids() {
		if s := c.Server(id); s != nil {
			if o := s.Overview(); o.State == raft.StateLeader && o.Term >= term {
				lead, term = id, o.Term
			}
		}
	}
	return lead
}

// WaitLeader ticks until some server leads, up to n ticks.
func (c *Cluster) WaitLeader(n int) (uint64, error) {
	for range n {
		if l := c.Leader(); l != 0 {
			return l, nil
		}
		if err := c.Tick(1); err != nil {
			return 0, err
		}
	}
	if l := c.Leader(); l != 0 {
		return l, nil
	}
	return 0, fmt.Errorf("ratest: no leader after %d ticks", n)
}

// Reply returns the answer to req and whether there is one.
func (c *Cluster) Reply(req ra.ReqID) (ra.Reply, bool) {
	r, ok := c.Replies[req]
	return r, ok
}

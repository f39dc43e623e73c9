// Package rafttest is an in-memory, single-threaded Raft cluster that a test
// (or the simulator) drives one step at a time: hand a node an event, take
// its Ready, persist its Write to an in-memory disk, deliver its messages.
// Nothing happens unless asked, so every interleaving is chosen, and the
// cluster checks Raft's safety properties after every step.
package rafttest

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"

	"github.com/picogo/picogo/core/raft"
)

// Cluster is the in-memory cluster.
type Cluster struct {
	nodes  map[uint64]*Node
	ids    []uint64
	queues map[uint64][]envelope // by recipient, in send order
	cut    map[[2]uint64]bool    // from->to links that lose messages
	seed   uint64
	out    io.Writer

	// What the safety checks have seen.
	leaders   map[uint64]uint64     // term -> leader
	committed map[uint64]raft.Entry // index -> the entry applied there
}

// Node is one member: its Raft state machine, its durable disk, and its
// volatile state (the outstanding write and the applied state machine).
type Node struct {
	ID     uint64
	Raft   *raft.Node
	Config raft.Config
	Disk   Disk
	// Synced is the disk as of the last synced write: a crash keeps only it.
	Synced Disk
	SM     StateMachine
	Down   bool
	// Fatal collects the fatal errors the node reported.
	Fatal []error

	write *raft.Write
}

// Disk is what survives a crash.
type Disk struct {
	HardState    raft.HardState
	Snapshot     raft.SnapshotMeta
	SnapshotData []byte
	Entries      []raft.Entry
}

func (d Disk) clone() Disk {
	d.Entries = slices.Clone(d.Entries)
	return d
}

// StateMachine is the harness's application: the commands applied, in order.
type StateMachine struct {
	Index    uint64
	Commands []string
}

// New creates an empty cluster whose nodes draw election timeouts from seed.
// Narration of what happens goes to out (nil: nowhere).
func New(seed uint64, out io.Writer) *Cluster {
	if out == nil {
		out = io.Discard
	}
	return &Cluster{
		nodes: map[uint64]*Node{}, queues: map[uint64][]envelope{}, cut: map[[2]uint64]bool{},
		seed: seed, out: out, leaders: map[uint64]uint64{}, committed: map[uint64]raft.Entry{},
	}
}

// SetOutput redirects narration.
func (c *Cluster) SetOutput(w io.Writer) { c.out = w }

// IDs returns the node ids in order.
func (c *Cluster) IDs() []uint64 { return slices.Clone(c.ids) }

// Node returns a member, or nil.
func (c *Cluster) Node(id uint64) *Node { return c.nodes[id] }

// Config returns a test configuration for id: short timeouts, PreVote and
// CheckQuorum on, randomness from the cluster's seed.
func (c *Cluster) Config(id uint64) raft.Config {
	return raft.Config{
		ID: id, ElectionTick: 10, HeartbeatTick: 1, PreVote: true, CheckQuorum: true,
		MaxMsgBytes: 1 << 20, MaxMsgEntries: 64, MaxInflightMsgs: 256,
		Rand: rand.New(rand.NewPCG(c.seed, id)),
	}
}

// Add creates node id with the given configuration and initial disk.
func (c *Cluster) Add(cfg raft.Config, disk Disk) error {
	if _, dup := c.nodes[cfg.ID]; dup {
		return fmt.Errorf("node %d exists", cfg.ID)
	}
	n := &Node{ID: cfg.ID, Config: cfg, Disk: disk, Synced: disk.clone()}
	if err := n.start(); err != nil {
		return err
	}
	c.nodes[cfg.ID] = n
	c.ids = append(c.ids, cfg.ID)
	slices.Sort(c.ids)
	return nil
}

// BootstrapDisk is the disk of a founding member of a cluster of voters.
func BootstrapDisk(voters ...uint64) (Disk, error) {
	st, err := raft.Bootstrap(voters...)
	if err != nil {
		return Disk{}, err
	}
	return Disk{HardState: st.HardState, Entries: st.Entries}, nil
}

// start (re)creates the volatile state from the disk.
func (n *Node) start() error {
	var ents []raft.Entry
	for _, e := range n.Disk.Entries {
		if e.Index > n.Disk.Snapshot.Index {
			ents = append(ents, e)
		}
	}
	st := raft.State{HardState: n.Disk.HardState, Snapshot: n.Disk.Snapshot, Entries: ents}
	cfg := n.Config
	// A restarted process draws fresh randomness, deterministically.
	cfg.Rand = rand.New(rand.NewPCG(cfg.Rand.Uint64(), cfg.ID))
	rn, err := raft.New(cfg, st)
	if err != nil {
		return err
	}
	n.Raft, n.write, n.Down = rn, nil, false
	n.SM = StateMachine{}
	if len(n.Disk.SnapshotData) > 0 {
		if err := json.Unmarshal(n.Disk.SnapshotData, &n.SM); err != nil {
			return fmt.Errorf("node %d: bad snapshot data: %v", n.ID, err)
		}
	}
	return nil
}

func (c *Cluster) get(id uint64) (*Node, error) {
	n := c.nodes[id]
	if n == nil {
		return nil, fmt.Errorf("no node %d", id)
	}
	return n, nil
}

func (c *Cluster) logf(format string, args ...any) { fmt.Fprintf(c.out, format+"\n", args...) }

// HasWork reports whether node id has a Ready or an outstanding write.
func (c *Cluster) HasWork(id uint64) bool {
	n := c.nodes[id]
	return n != nil && !n.Down && (n.Raft.HasReady() || n.write != nil)
}

// HandleReady takes node id's Ready: its messages go on the network and its
// write becomes outstanding. With persist the write completes at once.
func (c *Cluster) HandleReady(id uint64, persist bool) error {
	n, err := c.get(id)
	if err != nil || n.Down {
		return err
	}
	if !n.Raft.HasReady() {
		if persist && n.write != nil {
			return c.Persist(id)
		}
		return nil
	}
	rd := n.Raft.Ready()
	c.logf("> %d handling Ready", id)
	if ss := rd.SoftState; ss != nil {
		c.logf("  State:%s Lead:%d", ss.State, ss.Lead)
		if ss.State == raft.StateLeader {
			if err := c.checkNewLeader(n); err != nil {
				return err
			}
		}
	}
	for _, e := range rd.Errors {
		c.logf("  FATAL: %v", e)
		n.Fatal = append(n.Fatal, e)
	}
	for _, rs := range rd.ReadStates {
		c.logf("  ReadState Index:%d Ctx:%q", rs.Index, rs.Context)
	}
	c.send(n, rd.Messages)
	if w := rd.Write; w != nil {
		c.describeWrite(w)
		n.write = w
	}
	if err := c.applyCommitted(n, rd.CommittedEntries); err != nil {
		return err
	}
	if persist && rd.Write != nil {
		return c.Persist(id)
	}
	return nil
}

func (c *Cluster) describeWrite(w *raft.Write) {
	if hs := w.HardState; hs != nil {
		c.logf("  HardState Term:%d Vote:%d Commit:%d", hs.Term, hs.Vote, hs.Commit)
	}
	if s := w.Snapshot; s != nil {
		c.logf("  Snapshot Index:%d Term:%d %s", s.Meta.Index, s.Meta.Term, s.Meta.ConfState)
	}
	if len(w.Entries) > 0 {
		c.logf("  Entries: %s", FormatEntries(w.Entries))
	}
	if w.PurgeTo > 0 {
		c.logf("  PurgeTo: %d", w.PurgeTo)
	}
}

// Persist completes node id's outstanding write: the disk takes it, the
// messages that waited for it leave, committed entries are applied.
func (c *Cluster) Persist(id uint64) error {
	n, err := c.get(id)
	if err != nil || n.Down || n.write == nil {
		return err
	}
	w := n.write
	n.write = nil
	d := &n.Disk
	if s := w.Snapshot; s != nil {
		d.Snapshot, d.SnapshotData, d.Entries = s.Meta, s.Data, nil
	}
	if len(w.Entries) > 0 {
		first := w.Entries[0].Index
		kept := d.Entries[:0:0]
		for _, e := range d.Entries {
			if e.Index < first {
				kept = append(kept, e)
			}
		}
		d.Entries = append(kept, w.Entries...)
	}
	if w.PurgeTo > 0 {
		d.Entries = slices.DeleteFunc(d.Entries, func(e raft.Entry) bool { return e.Index <= w.PurgeTo })
	}
	if w.HardState != nil {
		d.HardState = *w.HardState
	}
	if w.MustSync {
		n.Synced = d.clone()
	}
	c.sendAfterPersist(n, w.MessagesAfterPersist)
	if s := w.Snapshot; s != nil {
		if err := json.Unmarshal(s.Data, &n.SM); err != nil {
			return fmt.Errorf("node %d: cannot restore snapshot %d: %v", id, s.Meta.Index, err)
		}
		c.logf("> %d restored snapshot %d", id, s.Meta.Index)
	}
	n.Raft.Advance()
	return c.Check()
}

// applyCommitted applies the entries a Ready handed out, then tells the node.
func (c *Cluster) applyCommitted(n *Node, ents []raft.Entry) error {
	if len(ents) == 0 {
		return nil
	}
	c.logf("  Committed: %s", FormatEntries(ents))
	for _, e := range ents {
		if e.Index <= n.SM.Index {
			continue
		}
		if err := c.apply(n, e); err != nil {
			return err
		}
	}
	for _, res := range n.Raft.Applied() {
		if res.Err != nil {
			c.logf("> %d conf change at %d refused: %v", n.ID, res.Index, res.Err)
		} else {
			c.logf("> %d applied conf change at %d: %s", n.ID, res.Index, res.ConfState)
		}
	}
	return c.Check()
}

// apply runs one committed entry on the state machine and checks that every
// node applies the same entry at each index.
func (c *Cluster) apply(n *Node, e raft.Entry) error {
	if e.Index != n.SM.Index+1 {
		return fmt.Errorf("SAFETY: node %d applies index %d after %d", n.ID, e.Index, n.SM.Index)
	}
	if prev, ok := c.committed[e.Index]; ok {
		if prev.Term != e.Term || prev.Type != e.Type || string(prev.Data) != string(e.Data) {
			return fmt.Errorf("SAFETY: node %d applied %s at index %d where another applied %s",
				n.ID, FormatEntry(e), e.Index, FormatEntry(prev))
		}
	} else {
		c.committed[e.Index] = e
	}
	n.SM.Index = e.Index
	if e.Type == raft.EntryNormal && len(e.Data) > 0 {
		n.SM.Commands = append(n.SM.Commands, string(e.Data))
	}
	return nil
}

// send puts messages on the network. A snapshot leaves with the sender's
// durable snapshot data (a real driver streams it in chunks).
func (c *Cluster) send(from *Node, msgs []raft.Message) {
	for _, m := range msgs {
		if m.Type == raft.MsgSnap && m.Snapshot != nil && len(m.Snapshot.Data) == 0 {
			s := *m.Snapshot
			s.Data = from.Disk.SnapshotData
			m.Snapshot = &s
		}
		c.logf("  %s", FormatMessage(m))
		c.queues[m.To] = append(c.queues[m.To], envelope{from: from.ID, m: m})
	}
}

func (c *Cluster) sendAfterPersist(from *Node, msgs []raft.Message) {
	if len(msgs) > 0 {
		c.logf("  persisted %d; now sending:", from.ID)
	}
	c.send(from, msgs)
}

// Pending returns the messages queued for node to.
func (c *Cluster) Pending(to uint64) []raft.Message {
	var msgs []raft.Message
	for _, e := range c.queues[to] {
		msgs = append(msgs, e.m)
	}
	return msgs
}

// envelope is a message on the network with the node that put it there. A
// forwarded message keeps its original From (a MsgTransferLeader's From is
// the transfer's target), so links are judged by the actual sender.
type envelope struct {
	from uint64
	m    raft.Message
}

// Deliver hands node to every message queued for it, in order. Messages to a
// crashed node or over a cut link are lost.
func (c *Cluster) Deliver(to uint64) error {
	msgs := c.queues[to]
	delete(c.queues, to)
	n := c.nodes[to]
	for _, e := range msgs {
		m := e.m
		switch {
		case n == nil || n.Down:
			c.logf("  dropped (node %d down): %s", to, FormatMessage(m))
			continue
		case c.cut[[2]uint64{e.from, m.To}]:
			c.logf("  dropped (link cut): %s", FormatMessage(m))
			continue
		}
		if err := n.Raft.Step(m); err != nil {
			c.logf("  %d refused %s: %v", to, FormatMessage(m), err)
		}
	}
	return c.Check()
}

// Drop loses every message queued for node to.
func (c *Cluster) Drop(to uint64) {
	for _, e := range c.queues[to] {
		c.logf("  dropped: %s", FormatMessage(e.m))
	}
	delete(c.queues, to)
}

// Cut makes messages from a to b lost (one way).
func (c *Cluster) Cut(a, b uint64) { c.cut[[2]uint64{a, b}] = true }

// Isolate cuts id off from everyone, both ways.
func (c *Cluster) Isolate(id uint64) {
	for _, o := range c.ids {
		if o != id {
			c.Cut(id, o)
			c.Cut(o, id)
		}
	}
}

// Heal restores every link.
func (c *Cluster) Heal() { c.cut = map[[2]uint64]bool{} }

// Stabilize handles Readies (persisting at once) and delivers messages among
// ids (all nodes when empty) until nothing is left to do.
func (c *Cluster) Stabilize(ids ...uint64) error {
	if len(ids) == 0 {
		ids = c.ids
	}
	for round := 0; ; round++ {
		if round > 10000 {
			return fmt.Errorf("stabilize: no quiescence after %d rounds", round)
		}
		busy := false
		for _, id := range ids {
			if c.HasWork(id) {
				busy = true
				if err := c.HandleReady(id, true); err != nil {
					return err
				}
			}
		}
		for _, id := range ids {
			if len(c.queues[id]) > 0 {
				busy = true
				if err := c.Deliver(id); err != nil {
					return err
				}
			}
		}
		if !busy {
			return nil
		}
	}
}

// Crash stops node id: the outstanding write and all volatile state are
// lost; the disk stays.
func (c *Cluster) Crash(id uint64) error {
	n, err := c.get(id)
	if err != nil {
		return err
	}
	n.Down, n.write = true, nil
	// Writes that were not synced are lost.
	n.Disk = n.Synced.clone()
	delete(c.queues, id)
	return nil
}

// Restart starts a crashed node again from its disk. Messages sent to it
// while it was down are lost, as they would be with a real network.
func (c *Cluster) Restart(id uint64) error {
	n, err := c.get(id)
	if err != nil {
		return err
	}
	if n.Down {
		for _, e := range c.queues[id] {
			c.logf("  dropped (node %d down): %s", id, FormatMessage(e.m))
		}
		delete(c.queues, id)
	}
	return n.start()
}

// Wipe crashes node id and erases its disk; it restarts empty.
func (c *Cluster) Wipe(id uint64) error {
	n, err := c.get(id)
	if err != nil {
		return err
	}
	n.Down, n.write = true, nil
	delete(c.queues, id)
	n.Disk, n.Synced = Disk{}, Disk{}
	return n.start()
}

// Snapshot makes node id snapshot its state machine at its applied index.
func (c *Cluster) Snapshot(id uint64) error {
	n, err := c.get(id)
	if err != nil {
		return err
	}
	meta, err := n.Raft.SnapshotMeta()
	if err != nil {
		return err
	}
	if meta.Index != n.SM.Index {
		return fmt.Errorf("node %d: raft applied %d but state machine at %d", id, meta.Index, n.SM.Index)
	}
	data, err := json.Marshal(n.SM)
	if err != nil {
		return err
	}
	n.Disk.Snapshot, n.Disk.SnapshotData = meta, data
	// A snapshot is synced, and with it every write before it.
	n.Synced = n.Disk.clone()
	return n.Raft.SnapshotTaken(meta)
}

// Check verifies the safety properties on the current state: one leader per
// term, log matching among all logs, and that every applied entry is the
// one applied at that index everywhere (checked as entries are applied).
func (c *Cluster) Check() error {
	for _, id := range c.ids {
		n := c.nodes[id]
		if n.Down {
			continue
		}
		st := n.Raft.Status()
		if st.State != raft.StateLeader {
			continue
		}
		if other, ok := c.leaders[st.Term]; ok && other != id {
			return fmt.Errorf("SAFETY: two leaders in term %d: %d and %d", st.Term, other, id)
		}
		c.leaders[st.Term] = id
	}
	return c.checkLogMatching()
}

// checkLogMatching: if two logs hold an entry with the same index and term,
// they hold the same entries up to it.
func (c *Cluster) checkLogMatching() error {
	type held struct {
		id   uint64
		ents map[uint64]raft.Entry
	}
	var logs []held
	for _, id := range c.ids {
		n := c.nodes[id]
		if n.Down {
			continue
		}
		prev, ents := n.Raft.Log()
		m := make(map[uint64]raft.Entry, len(ents))
		for i, e := range ents {
			m[prev+uint64(i)+1] = e
		}
		logs = append(logs, held{id, m})
	}
	for i := 0; i < len(logs); i++ {
		for j := i + 1; j < len(logs); j++ {
			a, b := logs[i], logs[j]
			// Find the highest index where both agree on the term; below it
			// every common entry must be identical.
			var top uint64
			for idx, ea := range a.ents {
				if eb, ok := b.ents[idx]; ok && ea.Term == eb.Term && idx > top {
					top = idx
				}
			}
			for idx := top; idx > 0; idx-- {
				ea, oka := a.ents[idx]
				eb, okb := b.ents[idx]
				if !oka || !okb {
					break
				}
				if ea.Term != eb.Term || string(ea.Data) != string(eb.Data) || ea.Type != eb.Type {
					return fmt.Errorf("SAFETY: log matching broken between %d and %d at %d (agree at %d): %s vs %s",
						a.id, b.id, idx, top, FormatEntry(ea), FormatEntry(eb))
				}
			}
		}
	}
	return nil
}

// checkNewLeader: a new leader holds every entry known committed (leader
// completeness), except those covered by its snapshot.
func (c *Cluster) checkNewLeader(n *Node) error {
	prev, ents := n.Raft.Log()
	last := prev + uint64(len(ents))
	for _, idx := range slices.Sorted(maps.Keys(c.committed)) {
		e := c.committed[idx]
		if idx <= prev {
			continue
		}
		if idx > last || ents[idx-prev-1].Term != e.Term {
			return fmt.Errorf("SAFETY: new leader %d lacks committed entry %s", n.ID, FormatEntry(e))
		}
	}
	return nil
}

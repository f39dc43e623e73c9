package rafttest

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/script"
)

// Env runs interaction scripts against a Cluster.
type Env struct {
	C   *Cluster
	out strings.Builder
}

// NewEnv creates an environment with an empty cluster seeded by seed.
func NewEnv(seed uint64) *Env {
	e := &Env{}
	e.C = New(seed, &e.out)
	return e
}

// Handle runs one directive and returns its output.
func (e *Env) Handle(d script.Directive) string {
	e.out.Reset()
	if err := e.handle(d); err != nil {
		fmt.Fprintf(&e.out, "error: %v\n", err)
	}
	return e.out.String()
}

var commands = map[string]func(*Env, script.Directive) error{
	"add-nodes":           (*Env).addNodes,
	"campaign":            (*Env).campaign,
	"propose":             (*Env).propose,
	"propose-conf-change": (*Env).proposeConfChange,
	"tick":                (*Env).tick,
	"tick-heartbeat":      (*Env).tickHeartbeat,
	"tick-election":       (*Env).tickElection,
	"process-ready":       (*Env).processReady,
	"ready":               (*Env).ready,
	"persist":             forEachID((*Cluster).Persist),
	"deliver-msgs":        forEachIDOrAll((*Cluster).Deliver),
	"drop-msgs":           forEachID(func(c *Cluster, id uint64) error { c.Drop(id); return nil }),
	"stabilize":           (*Env).stabilize,
	"status":              (*Env).status,
	"raft-state":          (*Env).raftState,
	"raft-log":            (*Env).raftLog,
	"removal-settled":     (*Env).removalSettled,
	"disk":                (*Env).disk,
	"sm":                  (*Env).sm,
	"transfer-leadership": (*Env).transferLeadership,
	"read-index":          (*Env).readIndex,
	"isolate":             forEachID(func(c *Cluster, id uint64) error { c.Isolate(id); return nil }),
	"cut":                 (*Env).cutLink,
	"heal":                func(e *Env, _ script.Directive) error { e.C.Heal(); return nil },
	"crash":               forEachID((*Cluster).Crash),
	"restart":             forEachID((*Cluster).Restart),
	"wipe":                forEachID((*Cluster).Wipe),
	"snapshot":            forEachID((*Cluster).Snapshot),
	"purge-log":           (*Env).purgeLog,
	"allow-next-revert":   (*Env).allowNextRevert,
	"heartbeat":           (*Env).heartbeat,
	"report-unreachable":  (*Env).reportUnreachable,
	"step":                (*Env).step,
}

func (e *Env) handle(d script.Directive) error {
	fn, ok := commands[d.Cmd]
	if !ok {
		return fmt.Errorf("unknown command %q", d.Cmd)
	}
	return fn(e, d)
}

func forEachID(fn func(*Cluster, uint64) error) func(*Env, script.Directive) error {
	return func(e *Env, d script.Directive) error {
		ids, err := d.IDs()
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return fmt.Errorf("%s needs node ids", d.Cmd)
		}
		for _, id := range ids {
			if err := fn(e.C, id); err != nil {
				return err
			}
		}
		return nil
	}
}

func forEachIDOrAll(fn func(*Cluster, uint64) error) func(*Env, script.Directive) error {
	return func(e *Env, d script.Directive) error {
		ids, err := d.IDs()
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			ids = e.C.IDs()
		}
		for _, id := range ids {
			if err := fn(e.C, id); err != nil {
				return err
			}
		}
		return nil
	}
}

// oneID returns the single node id a command takes, plus the rest of the
// positional words.
func oneID(d script.Directive) (uint64, []string, error) {
	pos := d.Positional()
	if len(pos) == 0 {
		return 0, nil, fmt.Errorf("%s needs a node id", d.Cmd)
	}
	id, err := strconv.ParseUint(pos[0], 10, 64)
	if err != nil {
		return 0, nil, fmt.Errorf("%q is not a node id", pos[0])
	}
	return id, pos[1:], nil
}

// oneNode is the running node a directive's single id names.
func (e *Env) oneNode(d script.Directive) (*Node, error) {
	id, _, err := oneID(d)
	if err != nil {
		return nil, err
	}
	return e.node(id)
}

func keyedUint(d script.Directive, key string) (uint64, bool, error) {
	v, ok := d.Keyed(key)
	if !ok {
		return 0, false, nil
	}
	if len(v) != 1 {
		return 0, false, fmt.Errorf("%s= takes one value", key)
	}
	n, err := strconv.ParseUint(v[0], 10, 64)
	return n, true, err
}

func keyedIDs(d script.Directive, key string) ([]uint64, error) {
	v, _ := d.Keyed(key)
	var ids []uint64
	for _, s := range v {
		id, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a node id", key, s)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func keyedBool(d script.Directive, key string, def bool) (bool, error) {
	v, ok := d.Keyed(key)
	if !ok {
		return def, nil
	}
	if len(v) != 1 {
		return false, fmt.Errorf("%s= takes one value", key)
	}
	return strconv.ParseBool(v[0])
}

// add-nodes N [voters=(..)] [prevote=b] [checkquorum=b] [election=N]
// [heartbeat=N] [max-msg-entries=N] [max-msg-bytes=N] [max-inflight=N]
// [max-inflight-bytes=N] [forwarding=b] [mutants=(name,..)]
//
// Creates N nodes numbered after the existing ones. Nodes named in voters
// are founding members; the others start empty and must be added.
func (e *Env) addNodes(d script.Directive) error {
	pos := d.Positional()
	if len(pos) != 1 {
		return fmt.Errorf("add-nodes takes a count")
	}
	count, err := strconv.Atoi(pos[0])
	if err != nil || count <= 0 {
		return fmt.Errorf("bad count %q", pos[0])
	}
	voters, err := keyedIDs(d, "voters")
	if err != nil {
		return err
	}
	first := uint64(1)
	if ids := e.C.IDs(); len(ids) > 0 {
		first = ids[len(ids)-1] + 1
	}
	for id := first; id < first+uint64(count); id++ {
		cfg := e.C.Config(id)
		if err := configure(&cfg, d); err != nil {
			return err
		}
		var disk Disk
		if slices.Contains(voters, id) {
			if disk, err = BootstrapDisk(voters...); err != nil {
				return err
			}
		}
		if err := e.C.Add(cfg, disk); err != nil {
			return err
		}
		fmt.Fprintf(&e.out, "%s\n", FormatStatus(e.C.Node(id).Raft.Status()))
	}
	return nil
}

func configure(cfg *raft.Config, d script.Directive) error {
	var err error
	if cfg.PreVote, err = keyedBool(d, "prevote", cfg.PreVote); err != nil {
		return err
	}
	if cfg.CheckQuorum, err = keyedBool(d, "checkquorum", cfg.CheckQuorum); err != nil {
		return err
	}
	fwd, err := keyedBool(d, "forwarding", true)
	if err != nil {
		return err
	}
	cfg.DisableProposalForwarding = !fwd
	ints := []struct {
		key string
		set func(uint64)
	}{
		{"election", func(v uint64) { cfg.ElectionTick = int(v) }},
		{"heartbeat", func(v uint64) { cfg.HeartbeatTick = int(v) }},
		{"max-msg-entries", func(v uint64) { cfg.MaxMsgEntries = int(v) }},
		{"max-msg-bytes", func(v uint64) { cfg.MaxMsgBytes = v }},
		{"max-inflight", func(v uint64) { cfg.MaxInflightMsgs = int(v) }},
		{"max-inflight-bytes", func(v uint64) { cfg.MaxInflightBytes = v }},
	}
	for _, it := range ints {
		v, ok, err := keyedUint(d, it.key)
		if err != nil {
			return err
		}
		if ok {
			it.set(v)
		}
	}
	names, _ := d.Keyed("mutants")
	return setMutants(cfg, names)
}

func (e *Env) node(id uint64) (*Node, error) {
	n := e.C.Node(id)
	if n == nil {
		return nil, fmt.Errorf("no node %d", id)
	}
	if n.Down {
		return nil, fmt.Errorf("node %d is down", id)
	}
	return n, nil
}

func (e *Env) campaign(d script.Directive) error {
	n, err := e.oneNode(d)
	if err != nil {
		return err
	}
	return n.Raft.Campaign()
}

// propose ID DATA...
func (e *Env) propose(d script.Directive) error {
	id, rest, err := oneID(d)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return fmt.Errorf("propose needs data")
	}
	n, err := e.node(id)
	if err != nil {
		return err
	}
	data := make([][]byte, len(rest))
	for i, s := range rest {
		data[i] = []byte(s)
	}
	idx, term, err := n.Raft.Propose(data...)
	if err != nil {
		return err
	}
	if idx > 0 {
		fmt.Fprintf(&e.out, "appended at %d (term %d)\n", idx, term)
	} else {
		fmt.Fprintf(&e.out, "forwarded\n")
	}
	return nil
}

// propose-conf-change ID [transition=auto|joint|explicit] v1 l2 r3 | leave
func (e *Env) proposeConfChange(d script.Directive) error {
	id, rest, err := oneID(d)
	if err != nil {
		return err
	}
	n, err := e.node(id)
	if err != nil {
		return err
	}
	cc, err := ParseConfChange(rest)
	if err != nil {
		return err
	}
	if v, ok := d.Keyed("transition"); ok && len(v) == 1 {
		switch v[0] {
		case "auto":
			cc.Transition = raft.TransitionAuto
		case "joint":
			cc.Transition = raft.TransitionJointImplicit
		case "explicit":
			cc.Transition = raft.TransitionJointExplicit
		default:
			return fmt.Errorf("unknown transition %q", v[0])
		}
	}
	idx, _, err := n.Raft.ProposeConfChange(cc)
	if err != nil {
		return err
	}
	if idx > 0 {
		fmt.Fprintf(&e.out, "appended at %d\n", idx)
	} else {
		fmt.Fprintf(&e.out, "forwarded\n")
	}
	return nil
}

// ParseConfChange reads words like v4 l5 r2, or "leave".
func ParseConfChange(words []string) (raft.ConfChange, error) {
	var cc raft.ConfChange
	if len(words) == 1 && words[0] == "leave" {
		return raft.LeaveJoint(), nil
	}
	if len(words) == 0 {
		return cc, fmt.Errorf("no changes (use \"leave\" to leave a joint configuration)")
	}
	for _, w := range words {
		if len(w) < 2 {
			return cc, fmt.Errorf("bad change %q", w)
		}
		id, err := strconv.ParseUint(w[1:], 10, 64)
		if err != nil {
			return cc, fmt.Errorf("bad change %q", w)
		}
		var t raft.ConfChangeType
		switch w[0] {
		case 'v':
			t = raft.AddVoter
		case 'l':
			t = raft.AddLearner
		case 'r':
			t = raft.RemoveNode
		default:
			return cc, fmt.Errorf("bad change %q: want v<id>, l<id> or r<id>", w)
		}
		cc.Changes = append(cc.Changes, raft.ConfChangeSingle{Type: t, NodeID: id})
	}
	return cc, nil
}

// tick ID [N]
func (e *Env) tick(d script.Directive) error {
	id, rest, err := oneID(d)
	if err != nil {
		return err
	}
	n, err := e.node(id)
	if err != nil {
		return err
	}
	count := 1
	if len(rest) > 0 {
		if count, err = strconv.Atoi(rest[0]); err != nil {
			return err
		}
	}
	for range count {
		n.Raft.Tick()
	}
	return nil
}

func (e *Env) tickHeartbeat(d script.Directive) error {
	return e.tickN(d, func(n *Node) int { return n.Config.HeartbeatTick })
}

// tick-election ID ticks until node ID starts an election (at most the
// longest randomized timeout); a leader ticks one election timeout (a quorum
// check).
func (e *Env) tickElection(d script.Directive) error {
	ids, err := d.IDs()
	if err != nil {
		return err
	}
	for _, id := range ids {
		n, err := e.node(id)
		if err != nil {
			return err
		}
		start := n.Raft.Status()
		if start.State == raft.StateLeader {
			for range n.Config.ElectionTick {
				n.Raft.Tick()
			}
			continue
		}
		for range 2 * n.Config.ElectionTick {
			n.Raft.Tick()
			if st := n.Raft.Status(); st.State != start.State || st.Term != start.Term {
				break
			}
		}
	}
	return nil
}

func (e *Env) tickN(d script.Directive, ticks func(*Node) int) error {
	ids, err := d.IDs()
	if err != nil {
		return err
	}
	for _, id := range ids {
		n, err := e.node(id)
		if err != nil {
			return err
		}
		for range ticks(n) {
			n.Raft.Tick()
		}
	}
	return nil
}

func (e *Env) processReady(d script.Directive) error {
	ids, err := d.IDs()
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		ids = e.C.IDs()
	}
	for _, id := range ids {
		if err := e.C.HandleReady(id, true); err != nil {
			return err
		}
	}
	return nil
}

// ready ID: take the Ready, send what may leave now, keep the write
// outstanding until `persist ID`.
func (e *Env) ready(d script.Directive) error {
	ids, err := d.IDs()
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := e.C.HandleReady(id, false); err != nil {
			return err
		}
	}
	return nil
}

func (e *Env) stabilize(d script.Directive) error {
	ids, err := d.IDs()
	if err != nil {
		return err
	}
	return e.C.Stabilize(ids...)
}

// status ID: the node's state and, on a leader, every member's progress.
func (e *Env) status(d script.Directive) error {
	n, err := e.oneNode(d)
	if err != nil {
		return err
	}
	st := n.Raft.Status()
	fmt.Fprintf(&e.out, "%s\n", FormatStatus(st))
	if st.LeadTransferee != raft.None {
		fmt.Fprintf(&e.out, "transferring to %d\n", st.LeadTransferee)
	}
	for _, pid := range slices.Sorted(maps.Keys(st.Progress)) {
		pr := st.Progress[pid]
		fmt.Fprintf(&e.out, "%d: %s\n", pid, pr.String())
	}
	return nil
}

func (e *Env) raftState(script.Directive) error {
	for _, id := range e.C.IDs() {
		n := e.C.Node(id)
		if n.Down {
			fmt.Fprintf(&e.out, "%d: down\n", id)
			continue
		}
		fmt.Fprintf(&e.out, "%s\n", FormatStatus(n.Raft.Status()))
	}
	return nil
}

// removalSettled prints whether node id, no voter any more, may stop for
// good (raft.Node.RemovalSettled).
func (e *Env) removalSettled(d script.Directive) error {
	n, err := e.oneNode(d)
	if err != nil {
		return err
	}
	fmt.Fprintf(&e.out, "%d: removal settled: %v\n", n.ID, n.Raft.RemovalSettled())
	return nil
}

func (e *Env) raftLog(d script.Directive) error {
	n, err := e.oneNode(d)
	if err != nil {
		return err
	}
	prev, ents := n.Raft.Log()
	if len(ents) == 0 {
		fmt.Fprintf(&e.out, "log is empty: first index=%d, last index=%d\n", prev+1, prev)
	}
	for _, en := range ents {
		fmt.Fprintf(&e.out, "%s\n", FormatEntry(en))
	}
	return nil
}

func (e *Env) disk(d script.Directive) error {
	id, _, err := oneID(d)
	if err != nil {
		return err
	}
	n := e.C.Node(id)
	if n == nil {
		return fmt.Errorf("no node %d", id)
	}
	dk := n.Disk
	fmt.Fprintf(&e.out, "HardState Term:%d Vote:%d Commit:%d\n", dk.HardState.Term, dk.HardState.Vote, dk.HardState.Commit)
	if dk.Snapshot.Index > 0 {
		fmt.Fprintf(&e.out, "Snapshot Index:%d Term:%d %s\n", dk.Snapshot.Index, dk.Snapshot.Term, dk.Snapshot.ConfState)
	}
	fmt.Fprintf(&e.out, "Entries: %s\n", FormatEntries(dk.Entries))
	return nil
}

func (e *Env) sm(d script.Directive) error {
	n, err := e.oneNode(d)
	if err != nil {
		return err
	}
	fmt.Fprintf(&e.out, "applied %d: [%s]\n", n.SM.Index, strings.Join(n.SM.Commands, " "))
	return nil
}

// transfer-leadership from=ID to=ID
func (e *Env) transferLeadership(d script.Directive) error {
	from, _, err := keyedUint(d, "from")
	if err != nil {
		return err
	}
	to, _, err := keyedUint(d, "to")
	if err != nil {
		return err
	}
	n, err := e.node(from)
	if err != nil {
		return err
	}
	return n.Raft.TransferLeader(to)
}

// read-index ID CTX
func (e *Env) readIndex(d script.Directive) error {
	id, rest, err := oneID(d)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("read-index needs a context word")
	}
	n, err := e.node(id)
	if err != nil {
		return err
	}
	return n.Raft.ReadIndex([]byte(rest[0]))
}

// cut A B: messages from A to B are lost.
func (e *Env) cutLink(d script.Directive) error {
	ids, err := d.IDs()
	if err != nil || len(ids) != 2 {
		return fmt.Errorf("cut takes two node ids")
	}
	e.C.Cut(ids[0], ids[1])
	return nil
}

// purge-log ID UPTO
func (e *Env) purgeLog(d script.Directive) error {
	id, rest, err := oneID(d)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("purge-log needs an index")
	}
	upto, err := strconv.ParseUint(rest[0], 10, 64)
	if err != nil {
		return err
	}
	n, err := e.node(id)
	if err != nil {
		return err
	}
	n.Raft.PurgeLog(upto)
	return nil
}

// allow-next-revert LEADER TO [allow=false]
func (e *Env) allowNextRevert(d script.Directive) error {
	ids, err := d.IDs()
	if err != nil || len(ids) != 2 {
		return fmt.Errorf("allow-next-revert takes a leader and a follower")
	}
	allow, err := keyedBool(d, "allow", true)
	if err != nil {
		return err
	}
	n, err := e.node(ids[0])
	if err != nil {
		return err
	}
	return n.Raft.AllowNextRevert(ids[1], allow)
}

func (e *Env) heartbeat(d script.Directive) error {
	n, err := e.oneNode(d)
	if err != nil {
		return err
	}
	return n.Raft.Heartbeat()
}

// report-unreachable LEADER PEER
func (e *Env) reportUnreachable(d script.Directive) error {
	ids, err := d.IDs()
	if err != nil || len(ids) != 2 {
		return fmt.Errorf("report-unreachable takes a leader and a peer")
	}
	n, err := e.node(ids[0])
	if err != nil {
		return err
	}
	n.Raft.ReportUnreachable(ids[1])
	return nil
}

// step TO type=T from=F term=N [index=N log-term=N commit=N match=N
// entries=(TERM/INDEX,..)]: hand a node a hand-made message, as a faulty or
// malicious peer would. T is a type name (MsgApp) or a number, so that
// unknown types can be sent too; entries are Normal entries with data "bad".
func (e *Env) step(d script.Directive) error {
	to, _, err := oneID(d)
	if err != nil {
		return err
	}
	n, err := e.node(to)
	if err != nil {
		return err
	}
	m := raft.Message{To: to}
	if v, ok := d.Keyed("type"); ok && len(v) == 1 {
		found := false
		for t := raft.MessageType(0); t < 32; t++ {
			if t.String() == v[0] {
				m.Type, found = t, true
				break
			}
		}
		if n, err := strconv.ParseUint(v[0], 10, 8); !found && err == nil {
			m.Type, found = raft.MessageType(n), true
		}
		if !found {
			return fmt.Errorf("unknown message type %q", v[0])
		}
	} else {
		return fmt.Errorf("step needs type=")
	}
	fields := []struct {
		key string
		dst *uint64
	}{{"from", &m.From}, {"term", &m.Term}, {"index", &m.Index}, {"log-term", &m.LogTerm}, {"commit", &m.Commit}, {"match", &m.Match}}
	for _, f := range fields {
		v, ok, err := keyedUint(d, f.key)
		if err != nil {
			return err
		}
		if ok {
			*f.dst = v
		}
	}
	ents, _ := d.Keyed("entries")
	for _, w := range ents {
		t, i, ok := strings.Cut(w, "/")
		term, err1 := strconv.ParseUint(t, 10, 64)
		index, err2 := strconv.ParseUint(i, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return fmt.Errorf("bad entry %q: want TERM/INDEX", w)
		}
		m.Entries = append(m.Entries, raft.Entry{Term: term, Index: index, Data: []byte("bad")})
	}
	if err := n.Raft.Step(m); err != nil {
		return err
	}
	fmt.Fprintf(&e.out, "ok\n")
	return nil
}

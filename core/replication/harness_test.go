package replication

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/storage"
	"github.com/picogo/picogo/core/tuple"
	"github.com/picogo/picogo/core/vclock"
	"github.com/picogo/picogo/core/wal"
	"github.com/picogo/picogo/disk"
)

// The harness: members connected by an in-memory network that delivers
// Ship → Receive and Answer → Response (in order, one at a time), with
// members cut off (calls fail), slow (messages to them wait) and messages
// silently dropped; an in-memory disk per member that commits the
// member's wal writes one at a time and reports them done; a crash loses
// the writes not done yet and recovers from what the store holds.

// memStore is a map of keys; it implements wal.Reader.
type memStore struct{ kv map[string][]byte }

func newStore() *memStore { return &memStore{kv: map[string][]byte{}} }

func (s *memStore) Get(key []byte) ([]byte, bool, error) {
	v, ok := s.kv[string(key)]
	return v, ok, nil
}

func (s *memStore) keys(start, end []byte) []string {
	var ks []string
	for k := range s.kv {
		if k >= string(start) && (end == nil || k < string(end)) {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	return ks
}

func (s *memStore) Scan(start, end []byte, fn func(key, value []byte) bool) error {
	for _, k := range s.keys(start, end) {
		if !fn([]byte(k), s.kv[k]) {
			return nil
		}
	}
	return nil
}

func (s *memStore) commit(b *disk.Batch) {
	for _, op := range b.Ops {
		switch op.Kind {
		case disk.OpSet:
			s.kv[string(op.Key)] = bytes.Clone(op.Value)
		case disk.OpDelete:
			delete(s.kv, string(op.Key))
		case disk.OpDeleteRange:
			for _, k := range s.keys(op.Key, op.End) {
				delete(s.kv, k)
			}
		}
	}
}

// tearLastRecord damages the last record of the wal in the store (a torn
// write that the checksum catches).
func (s *memStore) tearLastRecord(t *testing.T) {
	ks := s.keys([]byte("wal/r/"), []byte("wal/r0"))
	require.NotEmpty(t, ks, "no record to tear")
	k := ks[len(ks)-1]
	v := bytes.Clone(s.kv[k])
	v[len(v)-1] ^= 0xff
	s.kv[k] = v
}

type member struct {
	m      *Member
	store  *memStore
	queue  []wal.Write // persists not yet committed
	hold   bool        // the disk does not complete writes
	commit int         // with hold: how many writes to complete anyway
	down   bool
	cut    bool // no message reaches or leaves it: calls fail
	slow   bool // messages to it wait in the network (delayed, in order)
	role   Role
}

type netMsg struct {
	reply    bool
	from, to uint64 // for a reply: from the replica to the caller
	id       ReqID
	payload  []byte
}

type call struct {
	from, to uint64
	bytes    int
}

type cluster struct {
	t       *testing.T
	cfg     Config
	ids     []uint64
	ms      map[uint64]*member
	net     []netMsg
	nextID  ReqID
	calls   map[ReqID]call
	dones   map[ReqID]Done
	notes   []string
	stale   map[uint64]bool // members seen Stale at some point
	inflght map[uint64]int  // bytes shipped to a member and not answered
	maxFl   int
	ships   int
	drop    int // the next this many messages vanish: no answer, no failure
}

var errUnreachable = errors.New("unreachable")

func newCluster(t *testing.T, cfg Config, n int) *cluster {
	c := &cluster{t: t, cfg: cfg, ms: map[uint64]*member{}, calls: map[ReqID]call{},
		dones: map[ReqID]Done{}, stale: map[uint64]bool{}, inflght: map[uint64]int{}}
	for i := 1; i <= n; i++ {
		id := uint64(i)
		c.ids = append(c.ids, id)
		mc := cfg
		mc.ID = id
		m, err := Recover(mc, nil)
		require.NoError(t, err)
		c.ms[id] = &member{m: m, store: newStore()}
	}
	c.run()
	return c
}

// setMaster configures every member: master writable, the others not.
func (c *cluster) setMaster(master uint64, sync bool) {
	for _, id := range c.ids {
		c.configure(id, Role{Master: master, Peers: c.others(id), Writable: id == master, Sync: sync})
	}
	c.run()
}

func (c *cluster) configure(id uint64, r Role) {
	mb := c.ms[id]
	mb.role = r
	if !mb.down {
		mb.m.Configure(r)
	}
}

func (c *cluster) others(id uint64) []uint64 {
	return slices.DeleteFunc(slices.Clone(c.ids), func(x uint64) bool { return x == id })
}

func (c *cluster) req() ReqID { c.nextID++; return c.nextID }

// collect takes every member's effects.
func (c *cluster) collect() {
	for _, id := range c.ids {
		mb := c.ms[id]
		if mb.down {
			continue
		}
		for _, e := range mb.m.TakeEffects() {
			switch e := e.(type) {
			case Persist:
				mb.queue = append(mb.queue, e.Write)
			case Ship:
				rid := c.req()
				n := shipBytes(c.t, e.Payload)
				c.calls[rid] = call{from: id, to: e.To, bytes: n}
				c.inflght[e.To] += n
				c.maxFl = max(c.maxFl, c.inflght[e.To])
				c.ships++
				c.net = append(c.net, netMsg{from: id, to: e.To, id: rid, payload: e.Payload})
			case Answer:
				cl, ok := c.calls[e.ID]
				if !ok {
					continue // an answer to a Receive the test made itself
				}
				c.net = append(c.net, netMsg{reply: true, from: id, to: cl.from, id: e.ID, payload: e.Payload})
			case Done:
				_, dup := c.dones[e.ID]
				require.False(c.t, dup, "request %d is done twice", e.ID)
				c.dones[e.ID] = e
			case Note:
				c.notes = append(c.notes, fmt.Sprintf("%d: %s: %s", id, e.Event, e.Detail))
			}
		}
		if mb.m.Stale() {
			c.stale[id] = true
		}
	}
}

// shipBytes is what a shipment carries: its entries' bytes, or its chunk.
func shipBytes(t *testing.T, payload []byte) int {
	msg, err := decodeMessage(payload)
	require.NoError(t, err)
	n := len(msg.chunk)
	for _, e := range msg.entries {
		n += len(e)
	}
	return n
}

// step does one thing: a disk write or a message; false if there is none.
func (c *cluster) step() bool {
	c.collect()
	for _, id := range c.ids {
		mb := c.ms[id]
		if mb.down || len(mb.queue) == 0 || mb.hold && mb.commit == 0 {
			continue
		}
		if mb.hold {
			mb.commit--
		}
		w := mb.queue[0]
		mb.queue = mb.queue[1:]
		mb.store.commit(w.Batch)
		require.NoError(c.t, mb.m.PersistDone(w.Seq))
		return true
	}
	for i, msg := range c.net {
		if c.ms[msg.to].slow {
			continue
		}
		c.net = slices.Delete(c.net, i, i+1)
		if c.drop > 0 {
			c.drop-- // the caller hears nothing: its own timeout must act
			if cl, ok := c.calls[msg.id]; ok {
				delete(c.calls, msg.id)
				c.inflght[cl.to] -= cl.bytes
			}
			return true
		}
		c.deliver(msg)
		return true
	}
	return false
}

func (c *cluster) deliver(msg netMsg) {
	from, to := c.ms[msg.from], c.ms[msg.to]
	lost := from.down || to.down || from.cut || to.cut
	if !msg.reply {
		if lost {
			c.fail(msg.id)
			return
		}
		to.m.Receive(msg.id, msg.from, msg.payload)
		return
	}
	cl, ok := c.calls[msg.id]
	if !ok {
		return
	}
	if lost {
		c.fail(msg.id)
		return
	}
	delete(c.calls, msg.id)
	c.inflght[cl.to] -= cl.bytes
	to.m.Response(msg.from, msg.payload, nil)
}

// fail reports a call failed to its caller (if it is up).
func (c *cluster) fail(id ReqID) {
	cl, ok := c.calls[id]
	if !ok {
		return
	}
	delete(c.calls, id)
	c.inflght[cl.to] -= cl.bytes
	if caller := c.ms[cl.from]; !caller.down {
		caller.m.Response(cl.to, nil, errUnreachable)
	}
}

func (c *cluster) run() {
	for i := 0; c.step(); i++ {
		require.Less(c.t, i, 1_000_000, "the cluster does not settle")
	}
}

func (c *cluster) tick(n int) {
	for range n {
		for _, id := range c.ids {
			if mb := c.ms[id]; !mb.down {
				mb.m.Tick()
			}
		}
		c.run()
	}
}

// crash loses the member's writes not done and its in-flight calls; the
// member stays down until restart.
func (c *cluster) crash(id uint64) {
	mb := c.ms[id]
	mb.down, mb.queue, mb.hold, mb.commit = true, nil, false, 0
	net := c.net
	c.net = nil
	for _, msg := range net {
		if msg.from == id || msg.to == id {
			c.fail(msg.id)
			continue
		}
		c.net = append(c.net, msg)
	}
	var rids []ReqID // calls of a crashed member, or to it, not in the network
	for rid, cl := range c.calls {
		if cl.from == id || cl.to == id {
			rids = append(rids, rid)
		}
	}
	slices.Sort(rids)
	for _, rid := range rids {
		c.fail(rid)
	}
}

// restart recovers the member from its store and configures it as before.
func (c *cluster) restart(id uint64) *wal.Recovered {
	mb := c.ms[id]
	rec, err := wal.Recover(mb.store)
	require.NoError(c.t, err)
	mc := c.cfg
	mc.ID = id
	m, err := Recover(mc, rec)
	require.NoError(c.t, err)
	mb.m, mb.down = m, false
	m.Configure(mb.role)
	c.run()
	return rec
}

func (c *cluster) m(id uint64) *Member { return c.ms[id].m }

// logf logs an action with every member's vclock.
func (c *cluster) logf(format string, args ...any) {
	c.t.Helper()
	s := fmt.Sprintf(format, args...)
	for _, id := range c.ids {
		mb := c.ms[id]
		if mb.down {
			s += fmt.Sprintf(" | %d down", id)
			continue
		}
		s += fmt.Sprintf(" | %d %s d%s", id, mb.m.VClock(), mb.m.DurableVClock())
	}
	c.t.Log(s)
}

// Requests.

var testTable = schema.TableDef{
	ID: 512, Name: "t", Distribution: schema.DistributionGlobal, Engine: schema.EngineMemtx,
	Format:     []schema.Field{{Name: "id", Type: "unsigned"}, {Name: "v", Type: "string"}},
	PrimaryKey: []uint32{0},
}

func tableDef(id uint32, name string) schema.TableDef {
	d := testTable.Clone()
	d.ID, d.Name = id, name
	return d
}

// ddl applies a committed DDL on every member that is up (as each would
// from the Raft log) and sets the schema version.
func (c *cluster) ddl(version uint64, ch SchemaChange, ids ...uint64) {
	if len(ids) == 0 {
		ids = c.ids
	}
	for _, id := range ids {
		if c.ms[id].down {
			continue
		}
		require.Nil(c.t, c.m(id).ApplySchema(version, ch))
		c.m(id).SetSchemaVersion(version)
	}
	c.run()
}

func (c *cluster) write(id uint64, table uint32, key uint64, val string) ReqID {
	r := c.req()
	c.m(id).Write(r, 0, storage.Op{Kind: storage.OpReplace, Table: table, Tuple: []any{key, val}})
	c.run()
	return r
}

// writeOK writes and requires it done without error.
func (c *cluster) writeOK(id uint64, key uint64, val string) {
	r := c.write(id, testTable.ID, key, val)
	d, ok := c.dones[r]
	require.True(c.t, ok, "write %d=%s on %d is not done", key, val, id)
	require.Nil(c.t, d.Err)
}

func (c *cluster) done(r ReqID) (Done, bool) {
	d, ok := c.dones[r]
	return d, ok
}

// converged: the members have the same vclock, durable too, and the same
// engine (snapshot bytes), and none is stale.
func (c *cluster) converged(ids ...uint64) {
	c.t.Helper()
	if len(ids) == 0 {
		ids = c.ids
	}
	first := c.m(ids[0])
	for _, id := range ids[1:] {
		m := c.m(id)
		require.Equal(c.t, first.VClock().String(), m.VClock().String(), "vclock of %d vs %d", id, ids[0])
		require.Equal(c.t, m.VClock().String(), m.DurableVClock().String(), "durable vclock of %d", id)
		require.False(c.t, m.Stale(), "%d is stale; notes: %v", id, c.notes)
		require.True(c.t, bytes.Equal(first.Engine().Snapshot(), m.Engine().Snapshot()), "engine of %d differs from %d's", id, ids[0])
	}
}

func (c *cluster) rows(id uint64, table uint32) []string {
	ts, err := c.m(id).Engine().Select(table, 0, nil, 2, 0, 1<<30)
	require.Nil(c.t, err)
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.String()
	}
	return out
}

func (c *cluster) noted(event string) bool {
	for _, n := range c.notes {
		if bytes.Contains([]byte(n), []byte(": "+event+":")) {
			return true
		}
	}
	return false
}

func vc(pairs ...uint64) vclock.VClock {
	v := vclock.VClock{}
	for i := 0; i+1 < len(pairs); i += 2 {
		v[pairs[i]] = pairs[i+1]
	}
	return v
}

func errCode(d Done) uint32 {
	if d.Err == nil {
		return 0
	}
	return d.Err.Code
}

var _ = tuple.Tuple{}

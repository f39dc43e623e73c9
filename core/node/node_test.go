package node

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
	"github.com/picogo/picogo/disk"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

const kv uint32 = 1024

// solo is a single-voter instance driven in-process: writes complete at
// once, replies are collected.
type solo struct {
	t       *testing.T
	n       *Node
	replies map[CallID]Reply
	next    CallID
	loops   map[CallID]CallID // our calls to ourselves: incoming id -> OutCall id
	// elsewhere, if set, answers the calls to other instances it takes
	// (true); the others fail as if nobody listened.
	elsewhere func(OutCall) bool
	// role, if set, runs a role's Init (start) or Stop for RoleStart and
	// RoleStop; without it every role fails ("no roles").
	role func(name string, start bool) (version string, err error)
	// handler, if set, runs a role's handler for RoleCall; without it
	// every call fails ("no roles").
	handler func(RoleCall) (msgpack.RawMessage, error)
	// told are the roles' lifecycle effects, in order (RoleConfigure and
	// RoleLeader are answered with success).
	told []Effect
	// hold, while set, keeps the Raft log's writes from completing (held,
	// in order; release completes them): what is appended meanwhile is
	// not committed, as on a leader that lost its quorum.
	hold bool
	held []Persist
}

func newSolo(t *testing.T) *solo {
	t.Helper()
	return newSoloWith(t, Config{})
}

// newSoloWith builds the single-voter instance the way a first instance
// starts: an empty disk, discovery (it asks itself), boot, election; then
// the test tables are created through CaS. cfg's identity and timing
// fields are filled in.
func newSoloWith(t *testing.T, cfg Config) *solo {
	t.Helper()
	cfg.ClusterID, cfg.Tick = "c1", 10*time.Millisecond
	cfg.Self, cfg.Peers = Self{Address: "i1"}, []string{"i1"}
	cfg.Raft = raft.Config{ElectionTick: 10, HeartbeatTick: 1, PreVote: true, CheckQuorum: true,
		MaxMsgEntries: 64, MaxInflightMsgs: 64, Rand: rand.New(rand.NewPCG(1, 1))}
	n, err := New(cfg, ra.DiskState{})
	require.NoError(t, err)
	s := &solo{t: t, n: n, replies: map[CallID]Reply{}, loops: map[CallID]CallID{}}
	s.settle()
	require.Equal(t, PhaseRunning, n.Phase())
	require.Equal(t, raft.StateLeader, n.Status().State)
	def := schema.TableDef{ID: kv, Name: "kv", Operable: true,
		Format:     []schema.Field{{Name: "key", Type: tuple.TypeString}, {Name: "value", Type: tuple.TypeString}},
		PrimaryKey: []uint32{0}}
	other := def
	other.ID, other.Name = kv+1, "other"
	for _, d := range []schema.TableDef{def, other} {
		// Two-phase DDL; no ticks, so no governor: the test commits.
		r := s.cas(s.pred(), tables.PrepareCreateTableOp(d, 0))
		require.Nil(t, r.Err, "prepare create %s: %v", d.Name, r.Err)
		r = s.cas(s.pred(), tables.DdlCommitOp(0))
		require.Nil(t, r.Err, "commit create %s: %v", d.Name, r.Err)
	}
	return s
}

// settle carries out effects until there are none. Calls to itself (i1)
// loop back in; calls elsewhere fail as if nobody listened.
func (s *solo) settle() {
	for {
		effects := s.n.TakeEffects()
		if len(effects) == 0 {
			return
		}
		for _, e := range effects {
			switch e := e.(type) {
			case Persist:
				if s.hold && e.Stream == StreamRaftLog {
					s.held = append(s.held, e)
					continue
				}
				s.n.PersistDone(e.Stream, e.ID)
			case Reply:
				if out, ok := s.loops[e.ID]; ok {
					delete(s.loops, e.ID)
					var result any = e.Values
					if len(e.Values) == 1 {
						result = e.Values[0]
					}
					s.n.CallDone(out, result, e.Err)
					continue
				}
				s.replies[e.ID] = e
			case OutCall:
				if e.To != "i1" {
					if s.elsewhere == nil || !s.elsewhere(e) {
						s.n.CallDone(e.ID, nil, &api.Error{Code: api.CodeNoConnection, Message: "no route to " + e.To})
					}
					continue
				}
				s.next++
				s.loops[s.next] = e.ID
				s.n.Call(s.next, "pico_service", e.Request)
			case RoleStart, RoleStop:
				s.told = append(s.told, e)
				id, name, start := roleOpOf(e)
				version, err := "", errors.New("no roles")
				if s.role != nil {
					version, err = s.role(name, start)
				}
				s.n.RoleDone(id, version, err)
			case RoleConfigure:
				s.told = append(s.told, e)
				s.n.RoleDone(e.ID, "", nil)
			case RoleLeader:
				s.told = append(s.told, e)
				s.n.RoleDone(e.ID, "", nil)
			case RoleCall:
				result, err := msgpack.RawMessage(nil), errors.New("no roles")
				if s.handler != nil {
					result, err = s.handler(e)
				}
				s.n.RoleCallDone(e.ID, result, err)
			case FailStop:
				s.t.Fatalf("fatal: %v", e.Err)
			}
		}
	}
}

// release stops holding the Raft log's writes and completes those held.
func (s *solo) release() {
	s.hold = false
	for _, p := range s.held {
		s.n.PersistDone(p.Stream, p.ID)
	}
	s.held = nil
	s.settle()
}

func roleOpOf(e Effect) (RoleOpID, string, bool) {
	if st, ok := e.(RoleStart); ok {
		return st.ID, st.Name, true
	}
	sp := e.(RoleStop)
	return sp.ID, sp.Name, false
}

// do sends a request and returns its reply (failing if none came).
func (s *solo) do(r api.Request) Reply {
	s.t.Helper()
	s.next++
	s.n.Call(s.next, "admin", r)
	s.settle()
	rep, ok := s.replies[s.next]
	require.True(s.t, ok, "no reply to %s", r.Proc())
	return rep
}

// pred is a predicate as of the applied index now.
func (s *solo) pred(ranges ...tables.Range) api.Predicate {
	st := s.n.Status()
	return api.Predicate{Index: st.Applied, Term: st.Term, Ranges: ranges}
}

func (s *solo) cas(p api.Predicate, op tables.Op) Reply {
	return s.do(api.Cas{ClusterID: "c1", Predicate: p, Op: op, AsUser: 1})
}

func key(k string) msgpack.RawMessage {
	b, _ := msgpack.Marshal([]any{k})
	return b
}

// expect sends req and requires it to fail with code, or with code 0 to
// succeed; ok says it succeeded, for the caller to check what it answered.
func (s *solo) expect(t *testing.T, name string, req api.Request, code uint32) (r Reply, ok bool) {
	t.Helper()
	r = s.do(req)
	if code != 0 {
		requireCode(t, r, code)
		return r, false
	}
	require.Nil(t, r.Err, "%s: %v", name, r.Err)
	return r, true
}

func requireCode(t *testing.T, r Reply, code uint32) {
	t.Helper()
	require.NotNil(t, r.Err, "expected error %d, got %v", code, r.Values)
	require.Equal(t, code, r.Err.Code, r.Err.Message)
}

func TestStorageRoundTrip(t *testing.T) {
	// What a node persists, Load reads back; a damaged value is refused.
	st, err := ra.Bootstrap([]uint64{1, 2}, []byte("cmd"))
	require.NoError(t, err)
	store := newMapStore()
	require.NoError(t, store.Commit(BootstrapBatch(st), true))
	back, empty, err := Load(store)
	require.NoError(t, err)
	require.False(t, empty)
	require.Equal(t, st.HardState, back.HardState)
	require.Equal(t, st.Entries, back.Entries)

	store.m[string(logKey(1))][6] ^= 0xff
	_, _, err = Load(store)
	require.ErrorContains(t, err, "checksum")

	_, empty, err = Load(newMapStore())
	require.NoError(t, err)
	require.True(t, empty)
}

// mapStore is the simplest disk.Store, for layout tests.
type mapStore struct{ m map[string][]byte }

func newMapStore() *mapStore { return &mapStore{m: map[string][]byte{}} }

func (s *mapStore) Get(k []byte) ([]byte, bool, error) {
	v, ok := s.m[string(k)]
	return v, ok, nil
}

func (s *mapStore) Scan(start, end []byte, fn func(k, v []byte) bool) error {
	var keys []string
	for k := range s.m {
		if k >= string(start) && (len(end) == 0 || k < string(end)) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !fn([]byte(k), s.m[k]) {
			break
		}
	}
	return nil
}

func (s *mapStore) Commit(b *disk.Batch, _ bool) error {
	for _, op := range b.Ops {
		switch op.Kind {
		case disk.OpSet:
			s.m[string(op.Key)] = append([]byte(nil), op.Value...)
		case disk.OpDelete:
			delete(s.m, string(op.Key))
		case disk.OpDeleteRange:
			for k := range s.m {
				if k >= string(op.Key) && k < string(op.End) {
					delete(s.m, k)
				}
			}
		}
	}
	return nil
}

func (s *mapStore) Close() error { return nil }

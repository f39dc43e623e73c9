package node

import (
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
		r := s.cas(s.pred(), tables.CreateTableOp(d))
		require.Nil(t, r.Err, "create %s: %v", d.Name, r.Err)
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
					s.n.CallDone(e.ID, nil, &api.Error{Code: api.CodeNoConnection, Message: "no route to " + e.To})
					continue
				}
				s.next++
				s.loops[s.next] = e.ID
				s.n.Call(s.next, "pico_service", e.Request)
			case FailStop:
				s.t.Fatalf("fatal: %v", e.Err)
			}
		}
	}
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

func requireCode(t *testing.T, r Reply, code uint32) {
	t.Helper()
	require.NotNil(t, r.Err, "expected error %d, got %v", code, r.Values)
	require.Equal(t, code, r.Err.Code, r.Err.Message)
}

func TestCasAppliesAndAnswersIndexAndTerm(t *testing.T) {
	s := newSolo(t)
	r := s.cas(s.pred(), tables.DmlOp(tables.Insert(kv, "a", "1")))
	require.Nil(t, r.Err)
	st := s.n.Status()
	require.Equal(t, []any{st.Applied, st.Term}, r.Values)
	row, ok, err := s.n.Tables().Get(kv, []any{"a"})
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, []any{"a", "1"}, row.Values())
}

func TestCasErrors(t *testing.T) {
	s := newSolo(t)
	op := tables.DmlOp(tables.Insert(kv, "a", "1"))
	p := s.pred()

	r := s.do(api.Cas{ClusterID: "other", Predicate: p, Op: op})
	requireCode(t, r, api.CodeClusterIDMis)

	bad := p
	bad.Term++
	requireCode(t, s.cas(bad, op), api.CodeTermMismatch)

	bad = p
	bad.Index = p.Index + 10
	requireCode(t, s.cas(bad, op), api.CodeNoSuchIndex)

	// The bootstrap entries are of term 1; this leader's term is 2.
	bad = p
	bad.Index = 1
	requireCode(t, s.cas(bad, op), api.CodeEntryTermMis)

	requireCode(t, s.cas(p, tables.DmlOp(tables.Insert(tables.TablePicoTable, uint64(5000), "x"))), api.CodeTableNotAllowed)
	requireCode(t, s.cas(s.pred(tables.Range{Table: tables.TablePicoUser}), op), api.CodeTableNotAllowed)
	requireCode(t, s.cas(p, tables.BatchOp()), api.CodeEmptyBatch)

	// Access: an unknown user, and guest (no grants), may not write.
	for _, user := range []uint32{7, tables.GuestID} {
		r := s.do(api.Cas{ClusterID: "c1", Predicate: s.pred(), Op: op, AsUser: user})
		requireCode(t, r, api.CodeAccessDenied)
	}
	r = s.do(api.Cas{ClusterID: "c1", Predicate: s.pred(), Op: tables.DmlOp(tables.Insert(kv, "svc", "1")), AsUser: tables.PicoServiceID})
	require.Nil(t, r.Err, "pico_service holds the universe")

	// An operation that fails when applied is a definite error: the row
	// exists.
	require.Nil(t, s.cas(s.pred(), op).Err)
	requireCode(t, s.cas(s.pred(), tables.DmlOp(tables.Insert(kv, "a", "2"))), tuple.CodeTupleFound)
}

func TestCasCompacted(t *testing.T) {
	s := newSolo(t)
	old := s.pred()
	for i := range 5 {
		require.Nil(t, s.cas(s.pred(), tables.DmlOp(tables.Replace(kv, "k", string(rune('a'+i))))).Err)
	}
	require.NoError(t, s.n.ra.TriggerSnapshot())
	require.NoError(t, s.n.ra.PurgeLog(1000))
	s.n.collect()
	s.settle()
	requireCode(t, s.cas(old, tables.DmlOp(tables.Insert(kv, "z", "1"))), api.CodeCompacted)
}

func TestCasStaleIndex(t *testing.T) {
	s := newSolo(t)
	stale := s.pred(tables.Range{Table: kv, Key: key("a")})
	require.Nil(t, s.cas(s.pred(), tables.DmlOp(tables.Replace(kv, "a", "new"))).Err)

	// The same key was written after the predicate's index: conflict.
	r := s.cas(stale, tables.DmlOp(tables.Replace(kv, "a", "mine")))
	requireCode(t, r, api.CodeConflictFound)
	// An unrelated key with the same stale index goes through.
	stale.Ranges = []tables.Range{{Table: kv, Key: key("b")}}
	require.Nil(t, s.cas(stale, tables.DmlOp(tables.Replace(kv, "b", "mine"))).Err)
	// Without explicit ranges the operation's own key still conflicts.
	stale.Ranges = nil
	requireCode(t, s.cas(stale, tables.DmlOp(tables.Replace(kv, "a", "again"))), api.CodeConflictFound)
	// A range over the whole table conflicts with any write into it.
	stale.Ranges = []tables.Range{{Table: kv}}
	requireCode(t, s.cas(stale, tables.DmlOp(tables.Replace(kv, "zzz", "x"))), api.CodeConflictFound)
	row, _, _ := s.n.Tables().Get(kv, []any{"a"})
	require.Equal(t, "new", row.Values()[1])
}

func TestCasBatchIsAtomic(t *testing.T) {
	s := newSolo(t)
	require.Nil(t, s.cas(s.pred(), tables.DmlOp(tables.Insert(kv, "taken", "x"))).Err)
	before := s.n.Tables().StateHash()
	// The second insert fails: nothing of the batch is applied, in either
	// table.
	r := s.cas(s.pred(), tables.BatchOp(
		tables.Insert(kv+1, "o", "1"),
		tables.Insert(kv, "taken", "y"),
		tables.Insert(kv, "fresh", "z")))
	requireCode(t, r, tuple.CodeTupleFound)
	require.Equal(t, before, s.n.Tables().StateHash())
	r = s.cas(s.pred(), tables.BatchOp(tables.Insert(kv+1, "o", "1"), tables.Insert(kv, "fresh", "z")))
	require.Nil(t, r.Err)
	_, ok, _ := s.n.Tables().Get(kv+1, []any{"o"})
	require.True(t, ok)
}

func TestCasUncommittedEntriesConflict(t *testing.T) {
	// A single voter's entry is uncommitted while its own write is out: a
	// CaS on the same key with an older predicate must still see it.
	// (mutants_test.go: the mutant that scans committed entries only lets
	// it through.)
	s := newSolo(t)
	second := s.casTwiceOnOnePredicate()
	require.NotNil(t, second, "the conflict is found at once")
	requireCode(t, *second, api.CodeConflictFound)
}

// casTwiceOnOnePredicate sends two CaS writes of key "a" under the same
// predicate and returns the second one's reply, if it came at once.
func (s *solo) casTwiceOnOnePredicate() *Reply {
	p := s.pred(tables.Range{Table: kv, Key: key("a")})
	s.n.Call(100, "admin", api.Cas{ClusterID: "c1", Predicate: p, Op: tables.DmlOp(tables.Replace(kv, "a", "pending")), AsUser: 1})
	s.n.Call(101, "admin", api.Cas{ClusterID: "c1", Predicate: p, Op: tables.DmlOp(tables.Replace(kv, "a", "mine")), AsUser: 1})
	for _, e := range s.n.TakeEffects() {
		if r, ok := e.(Reply); ok && r.ID == 101 {
			return &r
		}
	}
	return nil
}

func TestRaftInfoAndIndexProcs(t *testing.T) {
	s := newSolo(t)
	info := s.do(api.RaftInfo{}).Values[0].(api.RaftInfoResult)
	require.Equal(t, uint64(1), info.ID)
	require.Equal(t, uint64(1), info.LeaderID)
	require.Equal(t, "Leader", info.State)
	require.Equal(t, info.Applied, s.do(api.GetIndex{}).Values[0])
	ri := s.do(api.ReadIndex{Timeout: time.Second})
	require.Nil(t, ri.Err)
	require.Equal(t, info.Applied, ri.Values[0])
	wi := s.do(api.WaitIndex{Target: info.Applied, Timeout: time.Second})
	require.Equal(t, info.Applied, wi.Values[0])
	v := s.do(api.VersionInfo{}).Values[0].(api.VersionInfoResult)
	require.Equal(t, api.Version, v.PicodataVersion)
}

func TestWaitIndexTimesOut(t *testing.T) {
	s := newSolo(t)
	s.next++
	id := s.next
	s.n.Call(id, "admin", api.WaitIndex{Target: 1000, Timeout: 30 * time.Millisecond})
	for range 3 {
		s.n.Tick()
		s.settle()
	}
	r, ok := s.replies[id]
	require.True(t, ok)
	requireCode(t, r, api.CodeTimeout)
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

func TestLeaderSetsTheAdminPasswordGivenAtStart(t *testing.T) {
	hash := []byte("0123456789abcdefghij")
	s := newSoloWith(t, Config{AdminAuth: hash})
	admin := func() any {
		row, ok, err := s.n.Tables().Get(tables.TablePicoUser, []any{uint64(tables.AdminID)})
		require.NoError(t, err)
		require.True(t, ok)
		return row.Values()[3]
	}
	require.Nil(t, admin(), "no password until the leader proposes it")
	s.n.Tick()
	s.settle()
	require.Equal(t, []any{tables.AuthChapSha1, fmtHex(hash)}, admin())
	// Once set it is not proposed again: when the instance has settled
	// Online, the log stops growing.
	for range 100 {
		s.n.Tick()
		s.settle()
	}
	_, before := s.n.Log()
	for range 50 {
		s.n.Tick()
		s.settle()
	}
	_, after := s.n.Log()
	require.Equal(t, len(before), len(after))
}

func fmtHex(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func TestFirstInstanceBootsAndTheGovernorBringsItOnline(t *testing.T) {
	s := newSolo(t)
	id, ok := s.n.Identity()
	require.True(t, ok)
	require.Equal(t, Identity{ClusterID: "c1", RaftID: 1, InstanceID: "storage_1_1", Address: "i1",
		Tier: "storage", ReplicasetID: "storage_1", FailureDomain: map[string]string{}}, id)
	for range 100 {
		s.n.Tick()
		s.settle()
	}
	top, err := s.n.Tables().ReadTopology()
	require.NoError(t, err)
	require.Len(t, top.Instances, 1)
	inst := top.Instances[0]
	require.Equal(t, tables.Grade{Variant: tables.GradeOnline, Incarnation: 1}, inst.Current)
	require.Equal(t, inst.Target, inst.Current)
	rs, ok := top.Replicaset("storage_1")
	require.True(t, ok)
	require.Equal(t, "storage_1_1", rs.CurrentMasterID)
	require.Equal(t, tables.ReplicasetReady, rs.State)
	rep, buckets, bootstrapped := s.n.Local()
	require.NotNil(t, rep)
	require.True(t, rep.IsMaster)
	require.True(t, bootstrapped)
	require.Equal(t, []BucketRange{{Replicaset: "storage_1", First: 1, Last: tables.DefaultBucketCount}}, buckets)
	info := s.do(api.RuntimeInfo{})
	require.Nil(t, info.Err)
	require.Equal(t, "idle", info.Values[0].(api.RuntimeInfoResult).Internal.GovernorLoopStatus)
}

func TestUpdateAndExpelAreCheckedAndForwardedToTheRules(t *testing.T) {
	s := newSolo(t)
	requireCode(t, s.do(api.UpdateInstance{InstanceID: "storage_1_1", ClusterID: "other", TargetGrade: tables.GradeOffline}), api.CodeTopology)
	requireCode(t, s.do(api.Expel{ClusterID: "other", InstanceID: "storage_1_1"}), api.CodeTopology)
	requireCode(t, s.do(api.Expel{ClusterID: "c1", InstanceID: "nobody"}), api.CodeTopology)
	// The last instance cannot be expelled.
	requireCode(t, s.do(api.Expel{ClusterID: "c1", InstanceID: "storage_1_1"}), api.CodeTopology)
	// A join is refused for a wrong cluster, planned otherwise.
	requireCode(t, s.do(api.RaftJoin{ClusterID: "other", Address: "i2", Tier: "storage"}), api.CodeJoinRefused)
	r := s.do(api.RaftJoin{ClusterID: "c1", Address: "i2", Tier: "storage"})
	require.Nil(t, r.Err)
	res := r.Values[0].(api.JoinResult)
	require.Equal(t, uint64(2), res.Instance.RaftID)
	require.Equal(t, []api.PeerAddress{{RaftID: 1, Address: "i1"}, {RaftID: 2, Address: "i2"}}, res.PeerAddresses)
	// Retried with the uuid it got, the join changes nothing.
	again := s.do(api.RaftJoin{ClusterID: "c1", Address: "i2", Tier: "storage", InstanceUUID: res.Instance.InstanceUUID})
	require.Nil(t, again.Err)
	require.Equal(t, res.Instance, again.Values[0].(api.JoinResult).Instance)
}

package proc

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/discovery"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/vclock"
	"github.com/picogo/picogo/net/iproto"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

func args(t *testing.T, a ...any) []byte {
	t.Helper()
	if a == nil {
		a = []any{}
	}
	b, err := msgpack.Marshal(a)
	require.NoError(t, err)
	return b
}

func TestDecodeNamesTheProcAndTheArgument(t *testing.T) {
	tests := []struct {
		proc string
		args []byte
		code uint32
		want string
	}{
		{".proc_cas", args(t, "c", map[string]any{}), api.CodeIllegalParams,
			".proc_cas: expected 4 arguments (cluster_id, predicate, op, as_user), got 2"},
		{".proc_wait_index", args(t, "ten", 1), api.CodeIllegalParams, ".proc_wait_index: argument 1 (target): ten is not a raft index"},
		{".proc_wait_index", args(t, -1, 0.1), api.CodeIllegalParams, ".proc_wait_index: argument 1 (target): -1 is not a raft index (an integer, 0 or more)"},
		{".proc_wait_index", args(t, 10, -1), api.CodeIllegalParams, ".proc_wait_index: argument 2 (timeout): -1 seconds is not a valid timeout"},
		{".proc_read_index", args(t, "soon"), api.CodeIllegalParams, ".proc_read_index: argument 1 (timeout)"},
		{".proc_cas", args(t, 5, map[string]any{}, map[string]any{}, 1), api.CodeIllegalParams, ".proc_cas: argument 1 (cluster_id)"},
		{".proc_cas", args(t, "c", map[string]any{"index": 1, "term": 1}, map[string]any{"kind": "explode"}, 1), api.CodeIllegalParams, ".proc_cas: argument 3 (op)"},
		{".proc_cas", args(t, "c", map[string]any{"index": 1, "term": 1}, map[string]any{"kind": "nop"}, true), api.CodeIllegalParams,
			".proc_cas: argument 4 (as_user): true is not a user id or name"},
		{".proc_cas", args(t, "c", map[string]any{"index": 1, "term": 1}, map[string]any{"kind": "nop"}, ""), api.CodeIllegalParams,
			".proc_cas: argument 4 (as_user): empty user name; want a user id or name"},
		{".proc_raft_interact", args(t, []any{[]any{1, 2}}), api.CodeIllegalParams, ".proc_raft_interact: argument 1 (raft_messages)"},
		{".proc_raft_info", args(t, 1), api.CodeIllegalParams, ".proc_raft_info: expected 0 arguments (none), got 1"},
		{".proc_version_info", []byte{0xc1}, api.CodeIllegalParams, ".proc_version_info: arguments are not msgpack"},
		{".proc_version_info", []byte{0xdd, 0xb9, 0x16, 0x3d, 0xed}, api.CodeIllegalParams, ".proc_version_info: arguments are not msgpack"},
		{".proc_version_info", []byte{0x81, 0x01, 0x02}, api.CodeIllegalParams, ".proc_version_info: arguments must be an array"},
		{".proc_nope", args(t), api.CodeNoSuchProc, "Procedure '.proc_nope' is not defined"},
		{".proc_get_peer_address", args(t, "i1"), api.CodeIllegalParams, ".proc_get_peer_address: argument 1 (raft_id)"},
		{".proc_get_peer_address", args(t), api.CodeIllegalParams, ".proc_get_peer_address: expected 1 arguments (raft_id), got 0"},
		{".proc_router_insert", args(t, "orders"), api.CodeIllegalParams, ".proc_router_insert: expected 2 arguments (table, tuple), got 1"},
		{".proc_router_insert", args(t, true, []any{1}), api.CodeIllegalParams, ".proc_router_insert: argument 1 (table): true is not a table name or id"},
		{".proc_router_insert", args(t, "", []any{1}), api.CodeIllegalParams, ".proc_router_insert: argument 1 (table): empty table name"},
		{".proc_router_insert", args(t, "orders", 5), api.CodeIllegalParams, ".proc_router_insert: argument 2 (tuple)"},
		{".proc_router_get", args(t, "orders", []any{1}, map[string]any{"prefer": true}), api.CodeIllegalParams,
			`.proc_router_get: argument 3 (options): unknown option "prefer" (known: prefer_replica)`},
		{".proc_router_get", args(t, "orders", []any{1}, map[string]any{"prefer_replica": 1}), api.CodeIllegalParams,
			".proc_router_get: argument 3 (options): option prefer_replica: 1 is not a boolean"},
		{".proc_router_scan", args(t, "orders", -1), api.CodeIllegalParams, ".proc_router_scan: argument 2 (limit)"},
	}
	for _, tt := range tests {
		_, e := Decode(tt.proc, tt.args)
		require.NotNil(t, e, "%s %x", tt.proc, tt.args)
		require.Equal(t, tt.code, e.Code, e.Message)
		require.Contains(t, e.Message, tt.want)
	}
}

func TestRequestsRoundTrip(t *testing.T) {
	reqs := []api.Request{
		api.VersionInfo{}, api.RaftInfo{}, api.GetIndex{}, api.RaftPromote{},
		api.ReadIndex{Timeout: 1500 * time.Millisecond},
		api.WaitIndex{Target: 42, Timeout: 2 * time.Second},
		api.RaftInteract{Messages: []raft.Message{{Type: raft.MsgApp, To: 2, From: 1, Term: 3, Index: 4,
			Entries: []raft.Entry{{Term: 3, Index: 5, Data: []byte("x")}}}}},
		api.RaftInteract{}, api.RaftInteract{SenderAddress: "127.0.0.1:3302", Messages: []raft.Message{{Type: raft.MsgHeartbeat}}},
		api.SnapshotNextChunk{Term: 2, Index: 9, Position: tables.SnapshotPosition{TableID: 516, TupleOffset: 3}},
		api.Cas{ClusterID: "c", Predicate: api.Predicate{Index: 7, Term: 2,
			Ranges: []tables.Range{{Table: 1024, Key: msgpack.RawMessage{0x91, 0x01}}}},
			Op: tables.DmlOp(tables.Insert(1024, 1, "x")), AsUser: 1},
		api.Cas{ClusterID: "c", Op: tables.DmlOp(tables.Insert(1024, 1, "x")), AsUserName: "admin"},
		api.Discover{Request: discovery.Request{TmpID: "t1", Peers: []string{"a:1", "b:2"}}, Receiver: "b:2"},
		api.RaftJoin{ClusterID: "c", Address: "a:1", FailureDomain: map[string]string{"DC": "1"}, Tier: "storage"},
		api.RaftJoin{ClusterID: "c", InstanceID: "i1", ReplicasetID: "r1", Address: "a:1",
			FailureDomain: map[string]string{}, Tier: "storage", InstanceUUID: "u"},
		api.UpdateInstance{InstanceID: "i1", ClusterID: "c", TargetGrade: "Online"},
		api.UpdateInstance{InstanceID: "i1", ClusterID: "c", CurrentGrade: &tables.Grade{Variant: "Offline", Incarnation: 2},
			FailureDomain: map[string]string{"DC": "2"}, DontRetry: true},
		api.Expel{ClusterID: "c", InstanceID: "i2"}, api.ExpelRedirect{ClusterID: "c", InstanceID: "i2"},
		api.ReplicasetWeight{ClusterID: "c", ReplicasetID: "storage_2", Weight: 0.5},
		api.InstanceInfo{}, api.InstanceInfo{InstanceID: "i3"}, api.RuntimeInfo{},
		api.Replication{IsMaster: true, Peers: []string{"a:1", "b:2"}},
		api.Sharding{Term: 3, Index: 9, Timeout: 2 * time.Second, DoReconfigure: true},
		api.ShardingBootstrap{Term: 3, Index: 9, Timeout: time.Second},
		api.ApplySchemaChange{Term: 3, Index: 9, Timeout: 30 * time.Second},
		api.UnlockUser{Name: "admin"},
		api.RoleStart{Term: 3, Index: 9, Timeout: time.Second, Roles: []string{"metrics", "api"}},
		api.RoleStop{Term: 3, Index: 9, Timeout: time.Second, Roles: []string{"api"}},
		api.RoleEnable{Role: "api", Tier: "router"}, api.RoleDisable{Role: "api", Tier: "router"},
		api.RoleConfig{Role: "api", Config: map[string]any{"port": int16(8080), "hosts": []any{"a"}}},
		api.RoleConfig{Role: "api", Config: map[string]any{}},
		api.RPCCall{Target: api.RPCTarget{Kind: api.RPCByBucket, Tier: "storage", Bucket: 17, Replica: true, Timeout: 1.5},
			Role: "kv", Handler: "get", Args: msgpack.RawMessage{0x91, 0xa1, 'k'}},
		api.RPCCall{Target: api.RPCTarget{Kind: api.RPCByRole}, Role: "kv", Handler: "get", Args: msgpack.RawMessage{0x90}},
		api.RPCServe{Role: "kv", Handler: "get", Args: msgpack.RawMessage{0x90}, Timeout: 2 * time.Second, Tier: "storage", Bucket: 17, Master: true},
		api.GetPeerAddress{RaftID: 3},
		api.GetVClock{},
		api.WaitVClock{Target: vclock.VClock{1: 4, 2: 9}, Timeout: 1500 * time.Millisecond},
		api.ReplicationDemote{},
		api.ReplicasetShip{From: 2, Payload: []byte{0x93, 1, 2, 3}},
		api.ReplicationPromote{VClock: vclock.VClock{3: 1}, Timeout: 2 * time.Second},
		api.RouterInsert{Table: "orders", Tuple: []any{"k", "apple"}},
		api.RouterReplace{Table: "orders", Tuple: []any{"k", "pear"}},
		api.RouterDelete{Table: "orders", Key: []any{"k"}},
		api.RouterGet{Table: "orders", Key: []any{"k"}},
		api.RouterGet{Table: "orders", Key: []any{"k"}, Options: map[string]any{"prefer_replica": true}},
		api.RouterScan{Table: "orders"},
		api.RouterScan{Table: "orders", Limit: 10},
		api.BucketExport{Tier: "storage", First: 1, Last: 100, After: 40, Term: 3, Index: 9, Timeout: time.Second},
		api.BucketImport{Tier: "storage", First: 1, Last: 100, Rows: []api.BucketRow{{Table: 1024, Tuple: []any{int8(7), "x", 1.5}}},
			Term: 3, Index: 9, Timeout: time.Second},
		api.BucketDelete{Tier: "storage", First: 1, Last: 100, Term: 3, Index: 9, Timeout: time.Second},
		api.SQL{Query: "SELECT 1"},
		api.SQL{Query: "SELECT $1", Params: []any{int8(5)}, Options: map[string]any{"timeout": 1.5}},
		api.SQLLocal{Query: "SELECT * FROM t", Params: []any{"x"}, Tier: "storage", Bucket: 7, RowMax: 5000},
		api.SQLInsert{Table: 1024, Rows: [][]any{{int8(1), "a", int8(3)}}, OnConflict: "NOTHING"},
	}
	seen := map[string]bool{}
	for _, r := range reqs {
		seen[r.Proc()] = true
		a, err := EncodeArgs(r)
		require.NoError(t, err)
		// EncodeArgs appends by hand what reflection would marshal.
		marshalled, err := msgpack.Marshal(specs[r.Proc()].encodeArgs(r))
		require.NoError(t, err)
		if !bytes.Equal(marshalled, a) { // a map's keys may come in another order
			require.Equal(t, untyped(t, marshalled), untyped(t, a), "%s: EncodeArgs is not msgpack.Marshal's", r.Proc())
		}
		back, e := Decode(r.Proc(), a)
		require.Nil(t, e, "%s: %v", r.Proc(), e)
		if c, ok := r.(api.Cas); ok {
			// Ops compare by their encoding.
			bc := back.(api.Cas)
			require.Equal(t, c.Op.Encode(), bc.Op.Encode())
			c.Op, bc.Op = tables.Op{}, tables.Op{}
			require.Equal(t, api.Request(c), api.Request(bc))
			continue
		}
		require.Equal(t, r, back, r.Proc())
	}
	for _, name := range Names() {
		require.True(t, seen[name], "%s is round-tripped here", name)
	}
}

func TestAuthorize(t *testing.T) {
	require.Nil(t, Authorize(Guest, ".proc_version_info"))
	e := Authorize(Guest, ".proc_raft_info")
	require.NotNil(t, e)
	require.Equal(t, api.CodeAccessDenied, e.Code)
	require.Equal(t, "Execute access to function '.proc_raft_info' is denied for user 'guest'", e.Message)
	for _, u := range []string{Admin, PicoService} {
		for _, p := range Names() {
			require.Nil(t, Authorize(u, p), "%s may call %s", u, p)
		}
	}
}

func TestRedirectCarriesTheLeader(t *testing.T) {
	frame := EncodeError(3, 80, &api.Error{Code: api.CodeNotALeader, Message: "not a leader", LeaderID: 2})
	_, e := DecodeReply(api.RaftInfo{}, frame[5:])
	require.NotNil(t, e)
	require.Equal(t, uint64(2), e.LeaderID)
}

func TestWrongBucketCarriesTheIndex(t *testing.T) {
	frame := EncodeError(3, 80, &api.Error{Code: api.CodeWrongBucket, Message: "wrong bucket", Index: 77})
	_, e := DecodeReply(api.RaftInfo{}, frame[5:])
	require.NotNil(t, e)
	require.Equal(t, api.CodeWrongBucket, e.Code)
	require.Equal(t, uint64(77), e.Index)
	require.Zero(t, e.LeaderID)
}

func TestSignatureAndCallable(t *testing.T) {
	require.Equal(t, ".proc_wait_index(target, timeout)", Signature(".proc_wait_index"))
	require.Equal(t, ".proc_instance_info([instance_id])", Signature(".proc_instance_info"))
	require.Equal(t, ".proc_version_info()", Signature(".proc_version_info"))
	require.Equal(t, Names(), Callable(Admin), "admin may call everything")
	require.Equal(t, Names(), Callable(PicoService))
	guest := Callable(Guest)
	require.Contains(t, guest, ".proc_version_info")
	require.NotContains(t, guest, ".proc_cas")
	for _, name := range guest {
		require.Nil(t, Authorize(Guest, name))
	}
}

func TestBucketPageResult(t *testing.T) {
	page := api.BucketPage{Rows: []api.BucketRow{{Table: 1024, Tuple: []any{int8(7), "x", 1.5}}, {Table: 1025, Tuple: []any{}}}, Next: 40}
	packet, err := iproto.ReadFrame(bytes.NewReader(EncodeReply(1, 1, false, []any{page}, nil)), 0)
	require.NoError(t, err)
	back, e := DecodeReply(api.BucketExport{}, packet)
	require.Nil(t, e)
	require.Equal(t, page, back)
	got, err := api.BucketPageFrom(back)
	require.NoError(t, err)
	require.Equal(t, page, got)
}

// The roles' procedures answer a typed report; a handler's result
// travels as its msgpack, untouched.
func TestRoleResults(t *testing.T) {
	report := api.RoleReport{Results: []api.RoleResult{{Role: "metrics", Version: "1.0.0"}, {Role: "api", Version: "2.1.0", Error: "api: no port"}},
		Running: []api.RoleResult{{Role: "metrics", Version: "1.0.0"}}}
	packet, err := iproto.ReadFrame(bytes.NewReader(EncodeReply(1, 1, false, []any{report}, nil)), 0)
	require.NoError(t, err)
	for _, req := range []api.Request{api.RoleStart{}, api.RoleStop{}} {
		back, e := DecodeReply(req, packet)
		require.Nil(t, e)
		require.Equal(t, report, back)
	}
	result := api.RPCResult{Value: msgpack.RawMessage{0x92, 0x01, 0xa1, 'x'}}
	packet, err = iproto.ReadFrame(bytes.NewReader(EncodeReply(1, 1, false, []any{result}, nil)), 0)
	require.NoError(t, err)
	back, e := DecodeReply(api.RPCServe{}, packet)
	require.Nil(t, e)
	require.Equal(t, result, back)
}

// untyped decodes b into Go values, maps with keys of any type.
func untyped(t *testing.T, b []byte) any {
	d := msgpack.NewDecoder(bytes.NewReader(b))
	d.SetMapDecoder(func(d *msgpack.Decoder) (any, error) { return d.DecodeUntypedMap() })
	v, err := d.DecodeInterface()
	require.NoError(t, err)
	return v
}

// appendArgs writes strings, booleans and nil by hand: the bytes are
// msgpack.Marshal's, at every string length class.
func TestAppendArgsScalarsAreMarshals(t *testing.T) {
	for _, v := range []any{"", "a", strings.Repeat("s", 31), strings.Repeat("s", 32), strings.Repeat("s", 255),
		strings.Repeat("s", 256), strings.Repeat("s", 65535), strings.Repeat("s", 65536), true, false, nil} {
		want, err := msgpack.Marshal(v)
		require.NoError(t, err)
		got, err := appendArgs(nil, []any{v})
		require.NoError(t, err)
		require.Equal(t, append([]byte{0x91}, want...), got, "%T of %d", v, len(fmt.Sprint(v)))
	}
}

// A string argument is read by hand when it is a str; any other encoding
// is read by msgpack as before: the answers are msgpack's either way.
func TestStringArgumentsReadAsMsgpackDoes(t *testing.T) {
	msgs, err := EncodeArgs(api.RaftInteract{Messages: []raft.Message{{Type: raft.MsgHeartbeat, To: 2, From: 1}}})
	require.NoError(t, err)
	parts, err := iproto.SplitArray(msgs)
	require.NoError(t, err)
	for _, addr := range [][]byte{
		iproto.AppendStr(nil, "127.0.0.1:3301"),
		iproto.AppendStr(nil, strings.Repeat("h", 300)),
		iproto.AppendBin(nil, []byte("10.0.0.1:3301")),
		{0xc0},
		{0x05},
	} {
		var want string
		werr := msgpack.Unmarshal(addr, &want)
		args := append(append(iproto.AppendArrayLen(nil, 2), parts[0]...), addr...)
		r, e := Decode(api.RaftInteract{}.Proc(), args)
		if werr != nil {
			require.NotNil(t, e, "%x", addr)
			continue
		}
		require.Nil(t, e, "%x", addr)
		require.Equal(t, want, r.(api.RaftInteract).SenderAddress)
	}
}

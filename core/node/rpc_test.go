package node

import (
	"errors"
	"testing"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/tables"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

// rpcSolo is a routerSolo (see there) running role kv on its own tier;
// kv is enabled on tier cold too, where _pico_role_state says i2 (r2's
// master), i3 (r2's replica) and i4 (r3's master) run it. Handlers here
// answer [role, handler, args]; calls elsewhere are logged by the
// routerSolo and answered by answer, if set, else as served there.
type rpcSolo struct {
	*routerSolo
	calls []RoleCall
}

func newRPCSolo(t *testing.T) *rpcSolo {
	s := &rpcSolo{routerSolo: newRouterSolo(t)}
	s.role = func(string, bool) (string, error) { return "1.0.0", nil }
	s.handler = func(c RoleCall) (msgpack.RawMessage, error) {
		s.calls = append(s.calls, c)
		if c.Handler == "fail" {
			return nil, errors.New("kv: no such key")
		}
		return encode(t, []any{c.Role, c.Handler, msgpack.RawMessage(c.Args)}), nil
	}
	ops := []tables.Dml{
		tables.Insert(tables.TablePicoRole, tables.Role{Name: "kv", Version: "1.0.0", Dependencies: []string{}, OnceDDL: []string{}}.Tuple()...),
		tables.Insert(tables.TablePicoRoleTier, tables.RoleTier{Role: "kv", Tier: DefaultTier}.Tuple()...),
		tables.Insert(tables.TablePicoRoleTier, tables.RoleTier{Role: "kv", Tier: "cold"}.Tuple()...),
	}
	for _, i := range []string{"i2", "i3", "i4"} {
		ops = append(ops, tables.Insert(tables.TablePicoRoleState,
			tables.RoleState{InstanceID: i, Role: "kv", State: tables.RoleRunning, Version: "1.0.0", Incarnation: 1}.Tuple()...))
	}
	r := s.cas(s.pred(), tables.BatchOp(ops...))
	require.Nil(t, r.Err, "%v", r.Err)
	for range 50 { // the governor starts kv here
		s.n.Tick()
		s.settle()
	}
	require.Contains(t, s.n.roles.running, "kv")
	return s
}

func encode(t *testing.T, v any) msgpack.RawMessage {
	b, err := msgpack.Marshal(v)
	require.NoError(t, err)
	return b
}

// call sends `.proc_rpc_call` as admin and returns the reply.
func (s *rpcSolo) call(target api.RPCTarget, handler string, args ...any) Reply {
	s.t.Helper()
	if args == nil {
		args = []any{}
	}
	req := api.RPCCall{Target: target, Role: "kv", Handler: handler, Args: encode(s.t, args)}
	require.NoError(s.t, req.CheckArgs())
	return s.routed(req, 100)
}

// result decodes a call's one value, the handler's msgpack.
func (s *rpcSolo) result(r Reply) any {
	s.t.Helper()
	values := answered(s.t, r)
	require.Len(s.t, values, 1)
	raw, ok := values[0].(msgpack.RawMessage)
	require.True(s.t, ok, "%T is the handler's msgpack", values[0])
	var v any
	require.NoError(s.t, msgpack.Unmarshal(raw, &v))
	return v
}

// served answers `.proc_rpc_serve` elsewhere as if that instance ran the
// handler: [instance, tier, bucket, master].
func served(to string, req api.Request) (any, *api.Error) {
	sv, ok := req.(api.RPCServe)
	if !ok {
		return nil, api.Errorf(api.CodeProcLua, "unexpected %s", req.Proc())
	}
	b, _ := msgpack.Marshal([]any{to, sv.Tier, sv.Bucket, sv.Master})
	return api.RPCResult{Value: b}, nil
}

// TestRPCLocal: a call whose target is this instance runs the handler here
// (a RoleCall), with the caller's arguments untouched, and answers its
// result; by bucket, replicaset, instance and role alike.
func TestRPCLocal(t *testing.T) {
	s := newRPCSolo(t)
	self := s.n.identity
	want := []any{"kv", "get", []any{"k", int8(7)}}
	for _, target := range []api.RPCTarget{
		{Kind: api.RPCByBucket, Tier: DefaultTier, Bucket: 17},
		{Kind: api.RPCByReplicaset, Replicaset: self.ReplicasetID},
		{Kind: api.RPCByInstance, Instance: self.InstanceID},
		{Kind: api.RPCByRole},
	} {
		s.calls = nil
		require.Equal(t, want, s.result(s.call(target, "get", "k", 7)), "%+v", target)
		require.Len(t, s.calls, 1, "%+v", target)
		require.Equal(t, encode(t, []any{"k", 7}), s.calls[0].Args, "the caller's msgpack, untouched")
		require.Equal(t, s.n.cfg.RequestTimeout, s.calls[0].Timeout, "no timeout given: the request timeout")
	}
	require.Empty(t, s.log, "nothing went elsewhere")

	s.calls = nil
	s.call(api.RPCTarget{Kind: api.RPCByRole, Timeout: 1.5}, "get")
	require.Equal(t, int64(1500), s.calls[0].Timeout.Milliseconds(), "the target's timeout bounds the handler")

	r := s.call(api.RPCTarget{Kind: api.RPCByRole}, "fail")
	require.Equal(t, api.CodeRoleHandler, r.Err.Code)
	require.Equal(t, "kv: no such key", r.Err.Message, "the handler's own words")
}

// TestRPCElsewhere: a call goes where its target says, as this instance's
// tables place it, as `.proc_rpc_serve` saying what the serving instance
// must check; by bucket it follows the router's retries.
func TestRPCElsewhere(t *testing.T) {
	s := newRPCSolo(t)
	s.answer = served
	// cold: r2 (master i2, replica i3) owns 1..15, r3 (master i4) 16..30.
	require.Equal(t, []any{"i2", "cold", uint64(3), true}, s.result(s.call(api.RPCTarget{Kind: api.RPCByBucket, Tier: "cold", Bucket: 3}, "get")))
	require.Equal(t, []any{"i3", "cold", uint64(3), false},
		s.result(s.call(api.RPCTarget{Kind: api.RPCByBucket, Tier: "cold", Bucket: 3, Replica: true}, "get")))
	require.Equal(t, []any{"i4", "cold", uint64(20), true}, s.result(s.call(api.RPCTarget{Kind: api.RPCByBucket, Tier: "cold", Bucket: 20}, "get")))
	require.Equal(t, []any{"i4", "", uint64(0), true}, s.result(s.call(api.RPCTarget{Kind: api.RPCByReplicaset, Replicaset: "r3"}, "get")))
	require.Equal(t, []any{"i3", "", uint64(0), false}, s.result(s.call(api.RPCTarget{Kind: api.RPCByReplicaset, Replicaset: "r2", Replica: true}, "get")))
	require.Equal(t, []any{"i3", "", uint64(0), false}, s.result(s.call(api.RPCTarget{Kind: api.RPCByInstance, Instance: "i3"}, "get")))
	require.Equal(t, []string{"i2 .proc_rpc_serve", "i3 .proc_rpc_serve", "i4 .proc_rpc_serve", "i4 .proc_rpc_serve",
		"i3 .proc_rpc_serve", "i3 .proc_rpc_serve"}, s.log)
	require.Empty(t, s.calls, "no handler ran here")

	// By role, a replica asked: this instance is its replicaset's master,
	// so the role's instances that are not masters (i3) take it.
	s.log = nil
	require.Equal(t, "i3", s.result(s.call(api.RPCTarget{Kind: api.RPCByRole, Replica: true}, "get")).([]any)[0])

	// A bucket that moved: the router routes again where it went.
	s.log, s.calls = nil, nil
	refused := false
	s.answer = func(to string, req api.Request) (any, *api.Error) {
		if !refused {
			refused = true
			return nil, &api.Error{Code: api.CodeWrongBucket, Message: "bucket 3 moved", Index: 1}
		}
		return served(to, req)
	}
	require.Equal(t, "i2", s.result(s.call(api.RPCTarget{Kind: api.RPCByBucket, Tier: "cold", Bucket: 3}, "get")).([]any)[0])
	require.Equal(t, []string{"i2 .proc_rpc_serve", "i2 .proc_rpc_serve"}, s.log, "refused, then retried")

	// A handler's error elsewhere is not retried.
	s.log = nil
	s.answer = func(string, api.Request) (any, *api.Error) {
		return nil, &api.Error{Code: api.CodeRoleHandler, Message: "boom"}
	}
	r := s.call(api.RPCTarget{Kind: api.RPCByBucket, Tier: "cold", Bucket: 3}, "get")
	require.Equal(t, api.CodeRoleHandler, r.Err.Code)
	require.Equal(t, []string{"i2 .proc_rpc_serve"}, s.log)
}

// TestRPCRefusals: bad targets and calls are refused before anything
// runs; `.proc_rpc_serve` serves only where the call was meant to go.
func TestRPCRefusals(t *testing.T) {
	s := newRPCSolo(t)
	for _, c := range []struct {
		target api.RPCTarget
		code   uint32
		msg    string
	}{
		{api.RPCTarget{Kind: api.RPCByBucket, Tier: "nope", Bucket: 1}, api.CodeIllegalParams, "no tier nope"},
		{api.RPCTarget{Kind: api.RPCByBucket, Tier: "cold", Bucket: 31}, api.CodeIllegalParams, "tier cold has buckets 1..30, not 31"},
		{api.RPCTarget{Kind: api.RPCByBucket, Tier: "warm", Bucket: 1}, api.CodeRoleNotRunning, "role kv is not enabled on tier warm"},
		{api.RPCTarget{Kind: api.RPCByReplicaset, Replicaset: "r9"}, api.CodeIllegalParams, "no replicaset r9"},
		{api.RPCTarget{Kind: api.RPCByInstance, Instance: "i9"}, api.CodeIllegalParams, "no instance i9"},
	} {
		r := s.call(c.target, "get")
		require.NotNil(t, r.Err, "%+v", c.target)
		require.Equal(t, c.code, r.Err.Code, "%+v: %s", c.target, r.Err.Message)
		require.Contains(t, r.Err.Message, c.msg)
	}
	require.Empty(t, s.calls)

	s.next++
	s.n.Call(s.next, tables.GuestName, api.RPCCall{Target: api.RPCTarget{Kind: api.RPCByRole}, Role: "kv", Handler: "get", Args: encode(t, []any{})})
	s.settle()
	require.Equal(t, api.CodeAccessDenied, s.replies[s.next].Err.Code)

	for _, bad := range []api.RPCCall{
		{Target: api.RPCTarget{Kind: "tier"}, Role: "kv", Handler: "h", Args: encode(t, []any{})},
		{Target: api.RPCTarget{Kind: api.RPCByBucket, Tier: "cold"}, Role: "kv", Handler: "h", Args: encode(t, []any{})},
		{Target: api.RPCTarget{Kind: api.RPCByInstance, Instance: "i1", Replica: true}, Role: "kv", Handler: "h", Args: encode(t, []any{})},
		{Target: api.RPCTarget{Kind: api.RPCByRole, Timeout: -1}, Role: "kv", Handler: "h", Args: encode(t, []any{})},
		{Target: api.RPCTarget{Kind: api.RPCByRole}, Handler: "h", Args: encode(t, []any{})},
		{Target: api.RPCTarget{Kind: api.RPCByRole}, Role: "kv", Args: encode(t, []any{})},
		{Target: api.RPCTarget{Kind: api.RPCByRole}, Role: "kv", Handler: "h", Args: encode(t, map[string]any{})},
	} {
		require.Error(t, bad.CheckArgs(), "%+v", bad)
	}

	// Served here only if this replicaset serves the bucket, if this is
	// the master when one is asked, if the role runs here.
	serve := func(r api.RPCServe) *api.Error {
		r.Role, r.Args = "kv", encode(t, []any{})
		if r.Handler == "" {
			r.Handler = "get"
		}
		return s.do(r).Err
	}
	require.Equal(t, api.CodeWrongBucket, serve(api.RPCServe{Tier: "cold", Bucket: 3, Master: true}).Code)
	require.Nil(t, serve(api.RPCServe{Tier: DefaultTier, Bucket: 3, Master: true}))
	r := s.do(api.RPCServe{Role: "cron", Handler: "get", Args: encode(t, []any{})})
	require.Equal(t, api.CodeNotReady, r.Err.Code)
	require.Contains(t, r.Err.Message, "role cron does not run on instance")
}

package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/role"
	rolerunner "github.com/picogo/picogo/role/runner"
	"github.com/picogo/picogo/runtime"
	"github.com/vmihailenco/msgpack/v5"
)

// roleRPC is the RPC client the daemon gives roles (role.Context.RPC): a
// call goes through this instance's `.proc_rpc_call`, on the event loop,
// as roleUser, so it is placed and retried as a client's call is.
type roleRPC struct{ d *daemon }

// Call implements role.RPC.
func (r roleRPC) Call(ctx context.Context, t role.Target, roleName, handler string, args []any) (any, error) {
	if err := t.Check(); err != nil {
		return nil, err
	}
	if args == nil {
		args = []any{}
	}
	raw, err := msgpack.Marshal(args)
	if err != nil {
		return nil, fmt.Errorf("rpc %s.%s: arguments: %w", roleName, handler, err)
	}
	timeout := t.Timeout
	if dl, ok := ctx.Deadline(); ok && (timeout == 0 || time.Until(dl) < timeout) {
		timeout = max(time.Until(dl), time.Millisecond)
	}
	t.Timeout = timeout
	req := api.RPCCall{Role: roleName, Handler: handler, Args: raw, Target: t.Wire()}
	type answer struct {
		res msgpack.RawMessage
		err *api.Error
	}
	a, err := ask(r.d, ctx, func(h *runtime.Host, done func(answer)) {
		h.RPC(roleUser, req, func(res msgpack.RawMessage, e *api.Error) { done(answer{res, e}) })
	})
	if err != nil {
		return nil, fmt.Errorf("rpc %s.%s on %v: %w", roleName, handler, t, err)
	}
	if a.err != nil {
		return nil, &role.RPCError{Code: a.err.Code, Message: a.err.Message}
	}
	v, err := rolerunner.DecodeValue(a.res)
	if err != nil {
		return nil, fmt.Errorf("rpc %s.%s: result: %w", roleName, handler, err)
	}
	return v, nil
}

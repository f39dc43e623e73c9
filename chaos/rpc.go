package chaos

import (
	"context"
	"fmt"
	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/workload"
	"sync/atomic"
	"time"

	"github.com/picogo/picogo/core/tuple"
	"github.com/picogo/picogo/net/tcp"
	"github.com/picogo/picogo/proc"
)

// rpc is a set of iproto connections (a tcp.Pool, one connection per
// address, authenticated as one user) and synchronous calls over them, each
// bounded by its own timeout. It is safe for concurrent use.
type rpc struct {
	pool *tcp.Pool
	sync atomic.Uint64
}

func newRPC(user, password string) *rpc {
	return &rpc{pool: tcp.NewPool(tcp.PoolConfig{
		User: user, Password: password, DialTimeout: time.Second,
		// Killed instances come back within seconds: retry the dial
		// soon rather than after the default's up to 2 s.
		Backoff: func(int) time.Duration { return 50 * time.Millisecond },
	})}
}

func (r *rpc) close() { r.pool.Close() }

// roundtrip sends frame to addr and waits for the reply packet, at most
// timeout. A non-nil error is the transport's: the call may or may not have
// reached the instance (unless the dial itself failed).
func (r *rpc) roundtrip(addr string, frame []byte, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return tcp.Call(ctx, r.pool, addr, frame)
}

// call calls the procedure of req on addr. It returns the decoded result
// (see proc.DecodeResult), or the error the instance answered (e), or a
// transport error (err) after which the outcome is unknown.
func (r *rpc) call(addr string, req api.Request, timeout time.Duration) (res any, e *api.Error, err error) {
	frame, err := proc.EncodeCall(r.sync.Add(1), req)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding %s: %w", req.Proc(), err)
	}
	packet, err := r.roundtrip(addr, frame, timeout)
	if err != nil {
		return nil, nil, err
	}
	res, e = proc.DecodeReply(req, packet)
	return res, e, nil
}

// rows reads table on addr with a SELECT: the rows with primary key key, or
// every row when key is nil.
func (r *rpc) rows(addr string, table uint32, key []any, timeout time.Duration) ([][]any, *api.Error, error) {
	frame, err := proc.EncodeSelect(r.sync.Add(1), table, key)
	if err != nil {
		return nil, nil, err
	}
	packet, err := r.roundtrip(addr, frame, timeout)
	if err != nil {
		return nil, nil, err
	}
	rows, e := proc.DecodeRows(packet)
	return rows, e, nil
}

// get reads key from the kv table on addr, without any consistency step.
func (r *rpc) get(addr, key string, timeout time.Duration) (value string, found bool, e *api.Error, err error) {
	rows, e, err := r.rows(addr, workload.Table, []any{key}, timeout)
	if e != nil || err != nil {
		return "", false, e, err
	}
	if len(rows) == 0 {
		return "", false, nil, nil
	}
	if len(rows) != 1 || len(rows[0]) != 2 {
		return "", false, &api.Error{Message: fmt.Sprintf("kv[%s]: unexpected rows %v", key, rows)}, nil
	}
	v, ok := rows[0][1].(string)
	if !ok {
		return "", false, &api.Error{Message: fmt.Sprintf("kv[%s]: value %#v is not a string", key, rows[0][1])}, nil
	}
	return v, true, nil, nil
}

// raftInfo calls .proc_raft_info on addr.
func (r *rpc) raftInfo(addr string, timeout time.Duration) (api.RaftInfoResult, error) {
	res, e, err := r.call(addr, api.RaftInfo{}, timeout)
	if err != nil {
		return api.RaftInfoResult{}, err
	}
	if e != nil {
		return api.RaftInfoResult{}, e
	}
	info, ok := raftInfoOf(res)
	if !ok {
		return api.RaftInfoResult{}, fmt.Errorf(".proc_raft_info returned %v", res)
	}
	return info, nil
}

// single is the one value of a DATA array.
func single(v any) (any, bool) {
	vals, ok := v.([]any)
	if !ok || len(vals) != 1 {
		return nil, false
	}
	return vals[0], true
}

func uintOf(v any) (uint64, bool) {
	x, ok := single(v)
	if !ok {
		return 0, false
	}
	return tuple.AsUint64(x)
}

func raftInfoOf(v any) (api.RaftInfoResult, bool) {
	r, ok := v.(api.RaftInfoResult)
	return r, ok && r.ID != 0
}

// casResult is .proc_cas's [index, term].
func casResult(v any) (index, term uint64, ok bool) {
	vals, _ := v.([]any)
	if len(vals) != 2 {
		return 0, 0, false
	}
	index, ok1 := tuple.AsUint64(vals[0])
	term, ok2 := tuple.AsUint64(vals[1])
	return index, term, ok1 && ok2
}

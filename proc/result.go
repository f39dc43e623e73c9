package proc

import (
	"fmt"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/discovery"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/vclock"
	"github.com/picogo/picogo/net/iproto"
	"github.com/vmihailenco/msgpack/v5"
)

// DecodeResult decodes the DATA array answering req into what the caller
// expects: the result type of the procedures callers read field by field
// (discovery, join, instance and raft info, a vclock, a bucket page),
// api.ChunkResult for a snapshot chunk, []any of the return values
// otherwise.
func DecodeResult(req api.Request, data []byte) (any, error) {
	if _, ok := req.(api.RaftInteract); ok {
		return decodeInteractResult(data)
	}
	values, err := replyValues(data)
	if err != nil {
		return nil, fmt.Errorf("%s: reply is not an array: %v", req.Proc(), err)
	}
	switch req.(type) {
	case api.Discover:
		return decodeOne[discovery.Response](req, values)
	case api.RaftJoin:
		return decodeOne[api.JoinResult](req, values)
	case api.InstanceInfo:
		return decodeOne[api.InstanceInfoResult](req, values)
	case api.RaftInfo:
		return decodeOne[api.RaftInfoResult](req, values)
	case api.GetVClock, api.WaitVClock, api.ReplicationDemote:
		return decodeOne[vclock.VClock](req, values)
	case api.BucketExport:
		return decodeOne[api.BucketPage](req, values)
	case api.SQL, api.SQLLocal, api.SQLInsert:
		return decodeOne[api.SQLResult](req, values)
	case api.RoleStart, api.RoleStop:
		return decodeOne[api.RoleReport](req, values)
	case api.RPCServe:
		return decodeOne[api.RPCResult](req, values)
	}
	if _, ok := req.(api.SnapshotNextChunk); ok {
		if len(values) != 1 {
			return nil, fmt.Errorf("%s: %d values in reply, want 1", req.Proc(), len(values))
		}
		var head chunkHead
		if err := msgpack.Unmarshal(values[0], &head); err != nil {
			return nil, fmt.Errorf("%s: reply is not SnapshotData: %v", req.Proc(), err)
		}
		return api.ChunkResult{Data: append([]byte(nil), values[0]...), Next: head.NextPosition}, nil
	}
	out := make([]any, len(values))
	for i, v := range values {
		if err := msgpack.Unmarshal(v, &out[i]); err != nil {
			return nil, fmt.Errorf("%s: value %d: %v", req.Proc(), i+1, err)
		}
	}
	return out, nil
}

// chunkHead reads just the next position of an encoded SnapshotData.
type chunkHead struct {
	NextPosition *tables.SnapshotPosition `msgpack:"next_position"`
}

// decodeOne decodes a reply of exactly one value of type T.
func decodeOne[T any](req api.Request, values []msgpack.RawMessage) (any, error) {
	if len(values) != 1 {
		return nil, fmt.Errorf("%s: %d values in reply, want 1", req.Proc(), len(values))
	}
	var v T
	if err := msgpack.Unmarshal(values[0], &v); err != nil {
		return nil, fmt.Errorf("%s: %v", req.Proc(), err)
	}
	return v, nil
}

// decodeInteractResult reads `.proc_raft_interact`'s reply: empty, or the
// Raft messages the callee had for the caller (core/node's consensus.hold),
// split and read without reflection (one comes per acknowledgement).
func decodeInteractResult(data []byte) (any, error) {
	const proc = ".proc_raft_interact"
	values, err := iproto.SplitArray(data)
	if err != nil {
		return nil, fmt.Errorf("%s: reply is not an array: %v", proc, err)
	}
	switch len(values) {
	case 0:
		return nil, nil
	case 1:
		ms, err := decodeMessages(values[0])
		if err != nil {
			return nil, fmt.Errorf("%s: reply: %w", proc, err)
		}
		return ms, nil
	}
	return nil, fmt.Errorf("%s: %d values in reply, want at most 1", proc, len(values))
}

// replyValues splits a reply's DATA into its values (aliasing data, which
// each decoder below copies from), without msgpack's reflection when it is
// a well-formed array; anything else goes to msgpack, which answers as it
// always did.
func replyValues(data []byte) ([]msgpack.RawMessage, error) {
	if values, err := iproto.SplitArray(data); err == nil {
		return values, nil
	}
	var values []msgpack.RawMessage
	err := msgpack.Unmarshal(data, &values)
	return values, err
}

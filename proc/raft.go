package proc

import (
	"fmt"
	"math"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
	"github.com/vmihailenco/msgpack/v5"
)

// The procedures of the Raft layer and the public ones that need no
// arguments.
func init() {
	noArgs := func(req api.Request) func([]msgpack.RawMessage) (api.Request, error) {
		return func([]msgpack.RawMessage) (api.Request, error) { return req, nil }
	}
	none := func(api.Request) []any { return []any{} }
	register(&spec{name: api.VersionInfo{}.Proc(), public: true, decode: noArgs(api.VersionInfo{}), encode: none})
	register(&spec{name: api.RaftInfo{}.Proc(), decode: noArgs(api.RaftInfo{}), encode: none})
	register(&spec{name: api.GetIndex{}.Proc(), decode: noArgs(api.GetIndex{}), encode: none})
	register(&spec{name: api.RaftPromote{}.Proc(), decode: noArgs(api.RaftPromote{}), encode: none})
	register(&spec{
		name: api.ReadIndex{}.Proc(), params: []string{"timeout"},
		decode: func(a []msgpack.RawMessage) (api.Request, error) {
			t, err := timeoutArg(a, 0)
			return api.ReadIndex{Timeout: t}, err
		},
		encode: func(r api.Request) []any { return []any{r.(api.ReadIndex).Timeout.Seconds()} },
	})
	register(&spec{
		name: api.WaitIndex{}.Proc(), params: []string{"target", "timeout"},
		decode: func(a []msgpack.RawMessage) (api.Request, error) {
			var r api.WaitIndex
			target, err := indexArg(a, 0, "target")
			if err != nil {
				return nil, err
			}
			r.Target = target
			t, err := timeoutArg(a, 1)
			r.Timeout = t
			return r, err
		},
		encode: func(r api.Request) []any {
			w := r.(api.WaitIndex)
			return []any{w.Target, w.Timeout.Seconds()}
		},
	})
	register(&spec{
		name: api.RaftInteract{}.Proc(), params: []string{"raft_messages", "sender_address"},
		// sender_address is picogo's: see api.RaftInteract.
		optional: 1,
		decode: func(a []msgpack.RawMessage) (api.Request, error) {
			var r api.RaftInteract
			var from *string
			msgs, err := decodeMessages(a[0])
			if err != nil {
				err = argErr(0, "raft_messages", err)
			}
			r.Messages = msgs
			err = firstErr(err, arg(a, 1, "sender_address", &from))
			r.SenderAddress = deref(from)
			return r, err
		},
		encode: func(r api.Request) []any {
			ri := r.(api.RaftInteract)
			return []any{wireMessages(ri.Messages), orNil(ri.SenderAddress)}
		},
	})
	register(&spec{
		name: api.SnapshotNextChunk{}.Proc(), params: []string{"raft_term", "raft_index", "snapshot_position"},
		decode: func(a []msgpack.RawMessage) (api.Request, error) {
			var r api.SnapshotNextChunk
			if err := arg(a, 0, "raft_term", &r.Term); err != nil {
				return nil, err
			}
			if err := arg(a, 1, "raft_index", &r.Index); err != nil {
				return nil, err
			}
			err := arg(a, 2, "snapshot_position", &r.Position)
			return r, err
		},
		encode: func(r api.Request) []any {
			c := r.(api.SnapshotNextChunk)
			return []any{c.Term, c.Index, c.Position}
		},
	})
}

// timeoutArg reads a timeout in seconds (integer or float), as Picodata's
// procedures take it.
func timeoutArg(a []msgpack.RawMessage, i int) (time.Duration, error) {
	var secs float64
	if err := arg(a, i, "timeout", &secs); err != nil {
		return 0, err
	}
	if math.IsNaN(secs) || secs < 0 || secs > 1e9 {
		return 0, fmt.Errorf("argument %d (timeout): %v seconds is not a valid timeout", i+1, secs)
	}
	return time.Duration(secs * float64(time.Second)), nil
}

// indexArg reads a Raft index: an integer, 0 or more (msgpack would read
// -1 as 2^64-1, an index never reached).
func indexArg(a []msgpack.RawMessage, i int, name string) (uint64, error) {
	var v any
	if err := arg(a, i, name, &v); err != nil {
		return 0, err
	}
	if u, ok := tuple.AsUint64(v); ok {
		return u, nil
	}
	return 0, fmt.Errorf("argument %d (%s): %v is not a raft index (an integer, 0 or more)", i+1, name, v)
}

// chunkHead reads just the next position of an encoded SnapshotData.
type chunkHead struct {
	NextPosition *tables.SnapshotPosition `msgpack:"next_position"`
}

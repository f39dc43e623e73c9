package proc

import (
	"fmt"
	"math"
	"time"

	"github.com/picogo/picogo/core/node"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
	"github.com/vmihailenco/msgpack/v5"
)

// The procedures of the Raft layer and the public ones that need no
// arguments.
func init() {
	noArgs := func(req node.Request) func([]msgpack.RawMessage) (node.Request, error) {
		return func([]msgpack.RawMessage) (node.Request, error) { return req, nil }
	}
	none := func(node.Request) []any { return []any{} }
	register(&spec{name: node.VersionInfo{}.Proc(), public: true, decode: noArgs(node.VersionInfo{}), encode: none})
	register(&spec{name: node.RaftInfo{}.Proc(), decode: noArgs(node.RaftInfo{}), encode: none})
	register(&spec{name: node.GetIndex{}.Proc(), decode: noArgs(node.GetIndex{}), encode: none})
	register(&spec{name: node.RaftPromote{}.Proc(), decode: noArgs(node.RaftPromote{}), encode: none})
	register(&spec{
		name: node.ReadIndex{}.Proc(), params: []string{"timeout"},
		decode: func(a []msgpack.RawMessage) (node.Request, error) {
			t, err := timeoutArg(a, 0)
			return node.ReadIndex{Timeout: t}, err
		},
		encode: func(r node.Request) []any { return []any{r.(node.ReadIndex).Timeout.Seconds()} },
	})
	register(&spec{
		name: node.WaitIndex{}.Proc(), params: []string{"target", "timeout"},
		decode: func(a []msgpack.RawMessage) (node.Request, error) {
			var r node.WaitIndex
			target, err := indexArg(a, 0, "target")
			if err != nil {
				return nil, err
			}
			r.Target = target
			t, err := timeoutArg(a, 1)
			r.Timeout = t
			return r, err
		},
		encode: func(r node.Request) []any {
			w := r.(node.WaitIndex)
			return []any{w.Target, w.Timeout.Seconds()}
		},
	})
	register(&spec{
		name: node.RaftInteract{}.Proc(), params: []string{"raft_messages", "sender_address"},
		// sender_address is picogo's: see node.RaftInteract.
		optional: 1,
		decode: func(a []msgpack.RawMessage) (node.Request, error) {
			var r node.RaftInteract
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
		encode: func(r node.Request) []any {
			ri := r.(node.RaftInteract)
			return []any{wireMessages(ri.Messages), orNil(ri.SenderAddress)}
		},
	})
	register(&spec{
		name: node.SnapshotNextChunk{}.Proc(), params: []string{"raft_term", "raft_index", "snapshot_position"},
		decode: func(a []msgpack.RawMessage) (node.Request, error) {
			var r node.SnapshotNextChunk
			if err := arg(a, 0, "raft_term", &r.Term); err != nil {
				return nil, err
			}
			if err := arg(a, 1, "raft_index", &r.Index); err != nil {
				return nil, err
			}
			err := arg(a, 2, "snapshot_position", &r.Position)
			return r, err
		},
		encode: func(r node.Request) []any {
			c := r.(node.SnapshotNextChunk)
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

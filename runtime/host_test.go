package runtime

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/node"
	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/disk"
	"github.com/picogo/picogo/net/iproto"
	"github.com/picogo/picogo/proc"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

// soloHost is a single-voter instance behind a Host whose disk writes
// complete at once and whose calls to itself (i1) loop back in; it has no
// peers.
type soloHost struct {
	h       *Host
	pending []func()
}

func (s *soloHost) Write(_ node.Stream, _ *disk.Batch, _ bool, done func(error)) {
	s.pending = append(s.pending, func() { done(nil) })
}

func (s *soloHost) Roundtrip(to string, frame []byte, _ time.Duration, done func([]byte, error)) {
	s.pending = append(s.pending, func() {
		if to != "i1" {
			done(nil, errors.New("no route to "+to))
			return
		}
		s.h.Handle(proc.PicoService, frame[5:], func(b []byte) { done(b[5:], nil) })
	})
}

func (s *soloHost) settle() {
	for len(s.pending) > 0 {
		w := s.pending[0]
		s.pending = s.pending[1:]
		w()
	}
}

// newSoloHost starts a first instance as the daemon would: an empty disk,
// discovery of itself, boot.
func newSoloHost(t *testing.T) *soloHost {
	t.Helper()
	n, err := node.New(node.Config{ClusterID: "c", Tick: 10 * time.Millisecond,
		Self: node.Self{Address: "i1"}, Peers: []string{"i1"},
		Raft: raft.Config{ElectionTick: 10, HeartbeatTick: 1, MaxMsgEntries: 8, MaxInflightMsgs: 8,
			Rand: rand.New(rand.NewPCG(1, 1))}}, ra.DiskState{})
	require.NoError(t, err)
	s := &soloHost{}
	s.h = NewHost(n, s, s, func(node.Effect) {})
	s.settle()
	require.Equal(t, node.PhaseRunning, n.Phase())
	return s
}

// call sends a packet as user and returns the decoded response.
func (s *soloHost) call(t *testing.T, user string, frame []byte) iproto.Response {
	t.Helper()
	var got []byte
	s.h.Handle(user, frame[5:], func(b []byte) { got = b })
	s.settle()
	require.NotNil(t, got, "no reply")
	resp, err := iproto.DecodeResponse(got[5:])
	require.NoError(t, err)
	return resp
}

func TestHostHandlesEachRequestType(t *testing.T) {
	s := newSoloHost(t)

	require.Nil(t, s.call(t, proc.Guest, iproto.EncodePing(1)).Err)

	resp := s.call(t, proc.Guest, iproto.EncodeCall(2, ".proc_version_info", args(t)))
	require.Nil(t, resp.Err)
	var vals []map[string]any
	require.NoError(t, msgpack.Unmarshal(resp.Data, &vals))
	require.Equal(t, api.Version, vals[0]["picodata_version"])

	// CALL_16 wraps the result in a tuple.
	resp = s.call(t, proc.Guest, iproto.EncodeCall16(3, ".proc_version_info", args(t)))
	var tuples [][]map[string]any
	require.NoError(t, msgpack.Unmarshal(resp.Data, &tuples))
	require.Equal(t, api.Version, tuples[0][0]["picodata_version"])

	resp = s.call(t, proc.Guest, iproto.EncodeCall(4, ".proc_raft_info", args(t)))
	require.NotNil(t, resp.Err)
	require.Equal(t, api.CodeAccessDenied, resp.Err.Code)

	resp = s.call(t, proc.Admin, iproto.EncodeCall(5, ".proc_wait_index", args(t, "x", 1)))
	require.Equal(t, api.CodeIllegalParams, resp.Err.Code)

	sel, err := proc.EncodeSelect(6, 9999, nil)
	require.NoError(t, err)
	resp = s.call(t, proc.Guest, sel)
	require.Equal(t, api.CodeAccessDenied, resp.Err.Code)
	resp = s.call(t, proc.Admin, sel)
	require.Equal(t, api.CodeNoSuchSpace, resp.Err.Code)

	sel, _ = proc.EncodeSelect(7, tables.TablePicoPeerAddress, []any{uint64(1)})
	var got []byte
	s.h.Handle(proc.Admin, sel[5:], func(b []byte) { got = b })
	rows, e := proc.DecodeRows(got[5:])
	require.Nil(t, e)
	require.Equal(t, "i1", rows[0][1])

	resp = s.call(t, proc.Admin, iproto.EncodeExecute(8, "select 1 as one", args(t)))
	require.Nil(t, resp.Err)
	meta, err := resp.Metadata()
	require.NoError(t, err)
	require.Equal(t, []iproto.Column{{Name: "one", Type: "integer"}}, meta)

	resp = s.call(t, proc.Admin, iproto.EncodeWatch(9, "box.status"))
	require.Equal(t, uint32(iproto.CodeUnknownRequestType), resp.Err.Code)

	// A packet that is not msgpack: answered, not crashed on.
	var broken []byte
	s.h.Handle(proc.Admin, []byte{0x82, 0x00, 0x0a, 0x01}, func(b []byte) { broken = b })
	r, err := iproto.DecodeResponse(broken[5:])
	require.NoError(t, err)
	require.NotNil(t, r.Err)
}

func args(t *testing.T, a ...any) []byte {
	t.Helper()
	if a == nil {
		a = []any{}
	}
	b, err := msgpack.Marshal(a)
	require.NoError(t, err)
	return b
}

// recordingTransport keeps the calls a host makes, unanswered.
type recordingTransport struct{ calls []recordedCall }

type recordedCall struct {
	to    string
	frame []byte
}

func (r *recordingTransport) Roundtrip(to string, frame []byte, _ time.Duration, _ func([]byte, error)) {
	r.calls = append(r.calls, recordedCall{to, frame})
}

// TestDrainMergesRaftMessagesPerPeer: the Raft messages a batch of events
// makes leave as one `.proc_raft_interact` per address, in the order they
// were sent; outside a batch each goes at once.
func TestDrainMergesRaftMessagesPerPeer(t *testing.T) {
	s := newSoloHost(t)
	rec := &recordingTransport{}
	s.h.transport = rec
	msg := func(id node.CallID, to string, index uint64) node.OutCall {
		return node.OutCall{ID: id, To: to, Timeout: time.Second, Request: api.RaftInteract{
			SenderAddress: "i1", Messages: []raft.Message{{Type: raft.MsgApp, From: 1, Index: index}}}}
	}
	s.h.Drain(func() { s.h.carryOut(msg(101, "i2", 1)) }, func() func() (func(), bool) {
		queued := []node.OutCall{msg(102, "i3", 2), msg(103, "i2", 3)}
		return func() (func(), bool) {
			if len(queued) == 0 {
				return nil, false
			}
			c := queued[0]
			queued = queued[1:]
			return func() { s.h.carryOut(c) }, true
		}
	}())
	require.Len(t, rec.calls, 2, "one call per address")
	indexes := func(c recordedCall) []uint64 {
		t.Helper()
		req, err := iproto.DecodeRequest(c.frame[5:])
		require.NoError(t, err)
		args, err := req.Tuple()
		require.NoError(t, err)
		r, e := proc.Decode(".proc_raft_interact", args)
		require.Nil(t, e)
		var out []uint64
		for _, m := range r.(api.RaftInteract).Messages {
			out = append(out, m.Index)
		}
		return out
	}
	require.Equal(t, "i2", rec.calls[0].to)
	require.Equal(t, []uint64{1, 3}, indexes(rec.calls[0]), "i2's messages merged, in order")
	require.Equal(t, "i3", rec.calls[1].to)
	require.Equal(t, []uint64{2}, indexes(rec.calls[1]))

	s.h.carryOut(msg(104, "i2", 4))
	require.Len(t, rec.calls, 3, "outside a batch a message goes at once")
}

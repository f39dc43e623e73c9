package proc

import (
	"bytes"
	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/net/iproto"
	"math/rand/v2"
	"testing"

	"github.com/picogo/picogo/core/raft"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

// randomMessages draws messages covering every field, nil and empty slices,
// integers of every width, and snapshots.
func randomMessages(r *rand.Rand) []raft.Message {
	num := func() uint64 {
		switch r.IntN(5) {
		case 0:
			return 0
		case 1:
			return uint64(r.IntN(128))
		case 2:
			return uint64(r.IntN(1 << 16))
		case 3:
			return uint64(r.Uint32())
		}
		return r.Uint64()
	}
	bin := func() []byte {
		switch r.IntN(3) {
		case 0:
			return nil
		case 1:
			return []byte{}
		}
		b := make([]byte, r.IntN(300))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return b
	}
	ms := make([]raft.Message, 1+r.IntN(4))
	for i := range ms {
		m := raft.Message{
			Type: raft.MessageType(r.IntN(20)), To: num(), From: num(), Term: num(), LogTerm: num(),
			Index: num(), Commit: num(), Match: num(), Round: num(), Reject: r.IntN(2) == 0,
			RejectHint: num(), Reverted: r.IntN(2) == 0, Transfer: r.IntN(2) == 0, Context: bin(),
		}
		if k := r.IntN(4); k > 0 {
			m.Entries = make([]raft.Entry, k-1)
			for j := range m.Entries {
				m.Entries[j] = raft.Entry{Term: num(), Index: num(), Type: raft.EntryType(r.IntN(3)), Data: bin()}
			}
		}
		if r.IntN(4) == 0 {
			m.Snapshot = &raft.Snapshot{Meta: raft.SnapshotMeta{Index: num(), Term: num(),
				ConfState: raft.ConfState{Voters: []uint64{1, 2}, Learners: []uint64{3}, AutoLeave: true}}, Data: bin()}
		}
		ms[i] = m
	}
	return ms
}

// TestRaftWireMatchesReflection: the hand-written codec and msgpack's
// reflection (what raft.Message's tags describe) read each other's bytes.
func TestRaftWireMatchesReflection(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		ms := randomMessages(r)

		reflected, err := msgpack.Marshal(ms)
		require.NoError(t, err)
		got, err := decodeMessages(reflected)
		require.NoError(t, err)
		require.Equal(t, ms, got, "hand decoder reads reflection's bytes")

		hand, err := appendMessages(nil, ms)
		require.NoError(t, err)
		var back []raft.Message
		require.NoError(t, msgpack.Unmarshal(hand, &back))
		require.Equal(t, ms, back, "reflection reads the hand encoder's bytes")

		got, err = decodeMessages(hand)
		require.NoError(t, err)
		require.Equal(t, ms, got)
		assert.LessOrEqual(t, len(hand), len(reflected), "compact integers")
	}
}

func TestRaftWireRefuses(t *testing.T) {
	one := []raft.Message{{Type: raft.MsgApp, To: 2, From: 1, Term: 3, Entries: []raft.Entry{{Term: 3, Index: 4}}}}
	good, err := appendMessages(nil, one)
	require.NoError(t, err)
	enc := func(v any) []byte {
		b, err := msgpack.Marshal(v)
		require.NoError(t, err)
		return b
	}
	for name, c := range map[string]struct {
		b    []byte
		want string
	}{
		"not an array":       {enc("x"), "unexpected msgpack type"},
		"short message":      {enc([]any{[]any{1, 2, 3}}), "message 1: message: an array of 3 fields, not 16"},
		"negative term":      {enc([]any{[]any{1, 2, 1, -3, 0, 0, nil, 0, 0, 0, nil, false, 0, false, false, nil}}), "message 1: term: negative integer"},
		"type out of range":  {enc([]any{[]any{300, 2, 1, 3, 0, 0, nil, 0, 0, 0, nil, false, 0, false, false, nil}}), "message 1: type: 300 out of range"},
		"entry of 3 fields":  {enc([]any{[]any{1, 2, 1, 3, 0, 0, []any{[]any{1, 2, 3}}, 0, 0, 0, nil, false, 0, false, false, nil}}), "message 1: entry: an array of 3 fields, not 4"},
		"reject not a bool":  {enc([]any{[]any{1, 2, 1, 3, 0, 0, nil, 0, 0, 0, nil, 1, 0, false, false, nil}}), "message 1: reject: unexpected msgpack type"},
		"trailing bytes":     {append(append([]byte{}, good...), 0x01), "1 bytes after the messages"},
		"truncated":          {good[:len(good)-1], "message 1: context: truncated"},
		"count beyond bytes": {[]byte{0xdd, 0, 0, 0x10, 0}, "4096 messages in 0 bytes"},
	} {
		_, err := decodeMessages(c.b)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), c.want, name)
	}
}

func BenchmarkRaftWire(b *testing.B) {
	ms := []raft.Message{{Type: raft.MsgApp, To: 2, From: 1, Term: 3, LogTerm: 3, Index: 1000, Commit: 999,
		Entries: make([]raft.Entry, 16)}}
	for i := range ms[0].Entries {
		ms[0].Entries[i] = raft.Entry{Term: 3, Index: 1001 + uint64(i), Data: make([]byte, 180)}
	}
	b.Run("hand", func(b *testing.B) {
		for b.Loop() {
			buf, _ := appendMessages(make([]byte, 0, wireSize(ms)), ms)
			if _, err := decodeMessages(buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("reflection", func(b *testing.B) {
		for b.Loop() {
			buf, _ := msgpack.Marshal(ms)
			var back []raft.Message
			if err := msgpack.Unmarshal(buf, &back); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// `.proc_raft_interact`'s reply carries the callee's Raft messages for the
// caller, in the call's codec; an empty reply is no messages, and a reply
// that is not messages is an error, not a half-read.
func TestRaftInteractReply(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for range 200 {
		ms := randomMessages(r)
		if len(ms) == 0 {
			continue
		}
		got, e := decodeInteractReply(t, []any{ms}, nil)
		require.Nil(t, e)
		want, err := decodeMessages(mustAppend(t, ms))
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	got, e := decodeInteractReply(t, nil, nil)
	require.Nil(t, e)
	require.Nil(t, got)
	_, e = decodeInteractReply(t, []any{"not messages"}, nil)
	require.NotNil(t, e)
	_, e = decodeInteractReply(t, []any{1, 2}, nil)
	require.NotNil(t, e)
}

func decodeInteractReply(t *testing.T, values []any, e *api.Error) (any, *api.Error) {
	t.Helper()
	packet, err := iproto.ReadFrame(bytes.NewReader(EncodeReply(3, 1, false, values, e)), 0)
	require.NoError(t, err)
	return DecodeReply(api.RaftInteract{}, packet)
}

func mustAppend(t *testing.T, ms []raft.Message) []byte {
	t.Helper()
	b, err := appendMessages(nil, ms)
	require.NoError(t, err)
	return b
}

// TestInteractCallMatchesGeneric: a `.proc_raft_interact` whose arguments
// EncodeCall writes straight into its frame (iproto.EncodeCallWith) is the
// frame iproto.EncodeCall makes of EncodeArgs' bytes.
func TestInteractCallMatchesGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 200 {
		req := api.RaftInteract{Messages: randomMessages(r)}
		switch i % 3 {
		case 1:
			req.SenderAddress = "127.0.0.1:3301"
		case 2:
			req.SenderAddress = string(bytes.Repeat([]byte("h"), 40+r.IntN(300)))
		}
		args, err := EncodeArgs(req)
		require.NoError(t, err)
		want := iproto.EncodeCall(uint64(i), req.Proc(), args)
		got, err := EncodeCall(uint64(i), req)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
}

// TestReplyWrittenInPlace: EncodeReply writes a CALL's values straight into
// the frame; the frame is the one iproto.EncodeDataRaw makes of the values
// encoded one by one and joined by iproto.CallData, and a broken chunk is
// refused as CallData refuses it.
func TestReplyWrittenInPlace(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	chunk := api.ChunkResult{Data: msgpack.RawMessage{0x92, 0x01, 0xa1, 'x'}}
	for i := range 100 {
		ms := randomMessages(r)
		results := [][]any{
			{ms},
			{chunk},
			{map[string]any{"a": uint64(i)}, "s", nil, []any{1, "two"}},
			{ms, chunk, int64(-i)},
			{},
		}[i%5]
		var values []msgpack.RawMessage
		for _, v := range results {
			switch v := v.(type) {
			case api.ChunkResult:
				values = append(values, v.Data)
			case []raft.Message:
				values = append(values, mustAppend(t, v))
			default:
				b, err := msgpack.Marshal(v)
				require.NoError(t, err)
				values = append(values, b)
			}
		}
		data, err := iproto.CallData(values...)
		require.NoError(t, err)
		require.Equal(t, iproto.EncodeDataRaw(uint64(i), 7, data), EncodeReply(uint64(i), 7, false, results, nil))
		got, e := ReplyData(false, results)
		require.Nil(t, e)
		require.Equal(t, []byte(data), []byte(got))
	}
	broken := api.ChunkResult{Data: msgpack.RawMessage{0x92, 0x01}}
	_, want := iproto.CallData(broken.Data)
	require.Error(t, want)
	packet, err := iproto.ReadFrame(bytes.NewReader(EncodeReply(1, 1, false, []any{broken}, nil)), 0)
	require.NoError(t, err)
	resp, err := iproto.DecodeResponse(packet)
	require.NoError(t, err)
	require.NotNil(t, resp.Err)
	require.Contains(t, resp.Err.Message, "cannot encode reply: "+want.Error())
}

// replyValues splits by hand what msgpack would, and answers as msgpack
// does for the rest.
func TestReplyValuesAreMsgpacks(t *testing.T) {
	for _, data := range [][]byte{
		{0x90}, {0x92, 0x01, 0xa1, 'x'}, {0x91, 0x92, 0x01, 0x02}, {0xc0}, {0x92, 0x01, 0x02, 0x03},
		{0x81, 0x01, 0x02}, {0x92, 0x01}, {}, {0xdc, 0x00, 0x01, 0xc3},
	} {
		var want []msgpack.RawMessage
		werr := msgpack.Unmarshal(data, &want)
		got, err := replyValues(data)
		if werr != nil {
			require.Error(t, err, "%x", data)
			require.Equal(t, werr.Error(), err.Error())
			continue
		}
		require.NoError(t, err, "%x", data)
		require.Equal(t, len(want), len(got), "%x", data)
		for i := range want {
			require.Equal(t, []byte(want[i]), []byte(got[i]))
		}
	}
}

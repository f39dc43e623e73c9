package runtime

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/net/iproto"
	"github.com/picogo/picogo/proc"
)

// nodeReply is the node's own answer to packet, a CALL, by the path every
// request took before Answer: decoded, authorized, handed to the node,
// its reply encoded on the loop.
func (s *soloHost) nodeReply(t *testing.T, user string, packet []byte) []byte {
	t.Helper()
	req, name, tuple := decodeCall(t, packet)
	require.Nil(t, proc.Authorize(user, name))
	r, e := proc.Decode(name, tuple)
	require.Nil(t, e)
	var got []byte
	s.h.call(user, r, incoming{sync: req.Sync, call16: req.Type == iproto.TypeCall16,
		reply: func(b []byte) { got = b }, done: func(uint32) {}})
	s.settle()
	require.NotNil(t, got, "the node did not answer")
	return got
}

// TestAnswerIsTheNodesAnswer: `.proc_version_info` answered without the
// node is, byte for byte, what the node answers, to CALL and CALL_16, for
// any user, whatever the sync.
func TestAnswerIsTheNodesAnswer(t *testing.T) {
	s := newSoloHost(t)
	for _, user := range []string{proc.Guest, proc.Admin, proc.PicoService, "alice"} {
		for _, sync := range []uint64{0, 7, 300, 1 << 40} {
			for _, frame := range [][]byte{
				iproto.EncodeCall(sync, ".proc_version_info", args(t)),
				iproto.EncodeCall16(sync, ".proc_version_info", args(t)),
			} {
				got, what := s.h.Answer(user, frame[5:])
				require.NotNil(t, got, "answered at once")
				require.Equal(t, ".proc_version_info", what)
				require.Equal(t, s.nodeReply(t, user, frame[5:]), got, "user %s, sync %d", user, sync)
			}
		}
	}
}

// TestAnswerLeavesTheRestToTheNode: every other request — another
// procedure (guest's access to it is the node's to refuse), arguments, a
// malformed packet, other request types — is not answered at once; Handle
// answers it as before.
func TestAnswerLeavesTheRestToTheNode(t *testing.T) {
	s := newSoloHost(t)
	sel, err := proc.EncodeSelect(6, 9999, nil)
	require.NoError(t, err)
	// FUNCTION_NAME as a str8 rather than a fixstr: the same name, an
	// encoding the fast path does not look for.
	str8Name := iproto.EncodeCall(9, ".proc_version_info", args(t))
	str8Name = append(append([]byte{}, str8Name[:5]...), rewriteName(t, str8Name[5:])...)
	cases := map[string]struct {
		frame []byte
		code  uint32 // the node's answer: 0 for a success
	}{
		"another procedure": {iproto.EncodeCall(1, ".proc_raft_info", args(t)), api.CodeAccessDenied},
		"an argument":       {iproto.EncodeCall(2, ".proc_version_info", args(t, 1)), api.CodeIllegalParams},
		"no such procedure": {iproto.EncodeCall(3, ".proc_version_infos", args(t)), api.CodeNoSuchProc},
		"ping":              {iproto.EncodePing(4), 0},
		"select":            {sel, api.CodeAccessDenied},
		"str8 name":         {str8Name, 0},
		"no tuple":          {withoutTuple(t, 5), api.CodeIllegalParams},
	}
	for name, c := range cases {
		got, _ := s.h.Answer(proc.Guest, c.frame[5:])
		require.Nil(t, got, name)
		resp := s.call(t, proc.Guest, c.frame)
		if c.code == 0 {
			require.Nil(t, resp.Err, name)
		} else {
			require.NotNil(t, resp.Err, name)
			require.Equal(t, c.code, resp.Err.Code, "%s: %s", name, resp.Err.Message)
		}
	}
	got, _ := s.h.Answer(proc.Guest, []byte{0x82, 0x00, 0x0a, 0x01})
	require.Nil(t, got, "a malformed packet")
}

// rewriteName re-encodes a CALL packet's FUNCTION_NAME as a str8.
func rewriteName(t *testing.T, packet []byte) []byte {
	t.Helper()
	req, name, tuple := decodeCall(t, packet)
	out := []byte{0x82, iproto.KeyRequestType, byte(req.Type), iproto.KeySync, byte(req.Sync), 0x82, iproto.KeyFunctionName, 0xd9, byte(len(name))}
	out = append(out, name...)
	out = append(out, iproto.KeyTuple)
	return append(out, tuple...)
}

// withoutTuple is a CALL of `.proc_version_info` with no TUPLE.
func withoutTuple(t *testing.T, sync byte) []byte {
	t.Helper()
	name := ".proc_version_info"
	p := []byte{0x82, iproto.KeyRequestType, iproto.TypeCall, iproto.KeySync, sync, 0x81, iproto.KeyFunctionName, 0xa0 | byte(len(name))}
	p = append(p, name...)
	return append([]byte{0xce, 0, 0, 0, byte(len(p))}, p...)
}

// TestHandleAnswersAtOnceObserved: Handle takes the same path (so does
// the simulator), and the request observer hears of it as of any other.
func TestHandleAnswersAtOnceObserved(t *testing.T) {
	s := newSoloHost(t)
	var seen []string
	var codes []uint32
	s.h.ObserveRequests(func(what string) func(uint32) {
		seen = append(seen, what)
		return func(code uint32) { codes = append(codes, code) }
	})
	frame := iproto.EncodeCall(11, ".proc_version_info", args(t))
	var got []byte
	s.h.Handle(proc.Guest, frame[5:], func(b []byte) { got = b })
	require.NotNil(t, got, "answered within Handle, before anything settles")
	require.Equal(t, s.nodeReply(t, proc.Guest, frame[5:]), got)
	require.Equal(t, []string{".proc_version_info"}, seen)
	require.Equal(t, []uint32{0}, codes)
}

// decodeCall decodes a CALL packet: the request, its function name and its
// arguments.
func decodeCall(t *testing.T, packet []byte) (iproto.Request, string, []byte) {
	t.Helper()
	req, err := iproto.DecodeRequest(packet)
	require.NoError(t, err)
	name, err := req.FunctionName()
	require.NoError(t, err)
	tuple, err := req.Tuple()
	require.NoError(t, err)
	return req, name, tuple
}

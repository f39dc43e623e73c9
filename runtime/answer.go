package runtime

import (
	"bytes"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/node"
	"github.com/picogo/picogo/net/iproto"
	"github.com/picogo/picogo/proc"
	"github.com/vmihailenco/msgpack/v5"
)

// A CALL of `.proc_version_info` asks what the binary was built as: the
// node answers it in every phase, for every user, from nothing it keeps. So
// a driver answers it where the request arrives (Answer, on the
// connection's goroutine), without the hop to the event loop, the node and
// the reply's reflective encoding; Handle answers it the same way first, so
// that the simulator runs this path too.

// versionInfoName and noArgs are the CALL's FUNCTION_NAME and TUPLE as
// clients encode them (a fixstr, the empty fixarray). Anything else — other
// encodings of the same values included — takes the node's path, which
// answers it the same or with the error it deserves.
var (
	versionInfoName = encodeStatic(api.VersionInfo{}.Proc())
	noArgs          = []byte{0x90}
	// versionInfoData is the reply's DATA to a CALL and to a CALL_16.
	versionInfoData, versionInfoData16 = versionInfoReplies()
)

func encodeStatic(v any) []byte {
	b, err := msgpack.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func versionInfoReplies() (call, call16 msgpack.RawMessage) {
	results := []any{node.VersionInfo()}
	call, err := proc.ReplyData(false, results)
	if err != nil {
		panic(err)
	}
	call16, err = proc.ReplyData(true, results)
	if err != nil {
		panic(err)
	}
	return call, call16
}

// Answer answers packet, a request of a session of user, at once if it
// needs nothing of the node (a CALL of `.proc_version_info`, as above):
// it returns the reply frame and what the request asked for (as a
// RequestObserver hears it), or a nil frame for every other request, which
// goes to Handle. It reads only immutable state and the schema version, so
// it runs on any goroutine; it does not observe the request (the caller
// does, as Handle does) nor look at whether the host is stopped.
func (h *Host) Answer(user string, packet []byte) (frame []byte, what string) {
	req, err := iproto.DecodeRequest(packet)
	if err != nil {
		return nil, ""
	}
	return h.answer(user, req)
}

// answer is Answer of a decoded request.
func (h *Host) answer(user string, req iproto.Request) ([]byte, string) {
	if req.Type != iproto.TypeCall && req.Type != iproto.TypeCall16 {
		return nil, ""
	}
	// The name first: every other CALL stops here.
	if name, _ := req.Body.Get(iproto.KeyFunctionName); !bytes.Equal(name, versionInfoName) {
		return nil, ""
	}
	if args, _ := req.Body.Get(iproto.KeyTuple); !bytes.Equal(args, noArgs) {
		return nil, ""
	}
	what := api.VersionInfo{}.Proc()
	if proc.Authorize(user, what) != nil {
		return nil, "" // the node's path refuses it (a public procedure passes, for every user)
	}
	data := versionInfoData
	if req.Type == iproto.TypeCall16 {
		data = versionInfoData16
	}
	return iproto.EncodeDataRaw(req.Sync, h.SchemaVersion(), data), what
}

package proc

import (
	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/tuple"
	"github.com/picogo/picogo/net/iproto"
	"github.com/vmihailenco/msgpack/v5"
)

// The client side of the Proc API, used by instances calling each other and
// by picogo's own clients: a request becomes a CALL frame, a reply frame
// becomes the result the request expects.

// EncodeCall is the CALL frame of req.
func EncodeCall(sync uint64, req api.Request) ([]byte, error) {
	args, err := EncodeArgs(req)
	if err != nil {
		return nil, err
	}
	return iproto.EncodeCall(sync, req.Proc(), args), nil
}

// DecodeReply decodes the reply packet to req: the result (see DecodeResult)
// or the error the server answered.
func DecodeReply(req api.Request, packet []byte) (any, *api.Error) {
	resp, err := iproto.DecodeResponse(packet)
	if err != nil {
		return nil, &api.Error{Code: iproto.CodeInvalidMsgpack, Message: "reply: " + err.Error()}
	}
	if resp.Err != nil {
		return nil, apiError(resp.Err)
	}
	result, err := DecodeResult(req, resp.Data)
	if err != nil {
		return nil, &api.Error{Code: iproto.CodeInvalidMsgpack, Message: err.Error()}
	}
	return result, nil
}

// EncodeSelect is the SELECT frame reading table by primary key (all rows
// without a key).
func EncodeSelect(sync uint64, table uint32, key []any) ([]byte, error) {
	if key == nil {
		key = []any{}
	}
	k, err := msgpack.Marshal(key)
	if err != nil {
		return nil, err
	}
	return iproto.EncodeSelect(sync, uint64(table), 0, iproto.IterEQ, 0, 0xffffffff, k), nil
}

// DecodeRows decodes the reply packet to a SELECT: the rows.
func DecodeRows(packet []byte) ([][]any, *api.Error) {
	resp, err := iproto.DecodeResponse(packet)
	if err != nil {
		return nil, &api.Error{Code: iproto.CodeInvalidMsgpack, Message: "reply: " + err.Error()}
	}
	if resp.Err != nil {
		return nil, apiError(resp.Err)
	}
	var rows [][]any
	if err := msgpack.Unmarshal(resp.Data, &rows); err != nil {
		return nil, &api.Error{Code: iproto.CodeInvalidMsgpack, Message: "rows: " + err.Error()}
	}
	return rows, nil
}

// EncodeReply is the reply frame to a CALL (CALL_16 when call16), with
// schema in its header: the procedure's return values, or e.
func EncodeReply(sync, schema uint64, call16 bool, results []any, e *api.Error) []byte {
	if e != nil {
		return EncodeError(sync, schema, e)
	}
	values := make([]msgpack.RawMessage, len(results))
	for i, v := range results {
		if c, ok := v.(api.ChunkResult); ok {
			values[i] = c.Data
			continue
		}
		b, err := msgpack.Marshal(v)
		if err != nil {
			return EncodeError(sync, schema, &api.Error{Code: api.CodeProcLua, Message: "encoding the reply: " + err.Error()})
		}
		values[i] = b
	}
	if call16 {
		return iproto.EncodeCall16Reply(sync, schema, values...)
	}
	return iproto.EncodeCallReply(sync, schema, values...)
}

// EncodeError carries a redirect's leader in MP_ERROR's fields.
func EncodeError(sync, schema uint64, e *api.Error) []byte {
	var fields map[string]any
	if e.LeaderID != 0 {
		fields = map[string]any{"leader_id": e.LeaderID}
	}
	return iproto.EncodeErrorFields(sync, schema, e.Code, e.Message, fields)
}

func apiError(e *iproto.Error) *api.Error {
	ne := &api.Error{Code: e.Code, Message: e.Message}
	if id, ok := e.Fields["leader_id"]; ok {
		ne.LeaderID, _ = tuple.AsUint64(id)
	}
	return ne
}

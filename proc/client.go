package proc

import (
	"fmt"

	"github.com/picogo/picogo/core/node"
	"github.com/picogo/picogo/core/tuple"
	"github.com/picogo/picogo/net/iproto"
	"github.com/vmihailenco/msgpack/v5"
)

// The client side of the Proc API, used by instances calling each other and
// by picogo's own clients: a request becomes a CALL frame, a reply frame
// becomes the result the request expects.

// EncodeCall is the CALL frame of req.
func EncodeCall(sync uint64, req node.Request) ([]byte, error) {
	args, err := EncodeArgs(req)
	if err != nil {
		return nil, err
	}
	return iproto.EncodeCall(sync, req.Proc(), args), nil
}

// DecodeReply decodes the reply packet to req: the result (see DecodeResult)
// or the error the server answered.
func DecodeReply(req node.Request, packet []byte) (any, *node.Error) {
	resp, err := iproto.DecodeResponse(packet)
	if err != nil {
		return nil, &node.Error{Code: iproto.CodeInvalidMsgpack, Message: "reply: " + err.Error()}
	}
	if resp.Err != nil {
		return nil, nodeError(resp.Err)
	}
	result, err := DecodeResult(req, resp.Data)
	if err != nil {
		return nil, &node.Error{Code: iproto.CodeInvalidMsgpack, Message: err.Error()}
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
func DecodeRows(packet []byte) ([][]any, *node.Error) {
	resp, err := iproto.DecodeResponse(packet)
	if err != nil {
		return nil, &node.Error{Code: iproto.CodeInvalidMsgpack, Message: "reply: " + err.Error()}
	}
	if resp.Err != nil {
		return nil, nodeError(resp.Err)
	}
	var rows [][]any
	if err := msgpack.Unmarshal(resp.Data, &rows); err != nil {
		return nil, &node.Error{Code: iproto.CodeInvalidMsgpack, Message: "rows: " + err.Error()}
	}
	return rows, nil
}

func DecodeSelect(req iproto.Request) (node.Select, *node.Error) {
	bad := func(err error) (node.Select, *node.Error) {
		return node.Select{}, &node.Error{Code: node.CodeIllegalParams, Message: "select: " + err.Error()}
	}
	space, err := req.SpaceID()
	if err != nil {
		return bad(err)
	}
	if idx, err := req.IndexID(); err != nil || idx != 0 {
		return bad(fmt.Errorf("only the primary index (0) can be read, not %d", idx))
	}
	if it, err := req.Iterator(); err != nil || (it != iproto.IterEQ && it != iproto.IterAll) {
		return bad(fmt.Errorf("only EQ and ALL iterators are supported"))
	}
	raw, err := req.Key()
	if err != nil {
		return bad(err)
	}
	var key []any
	if len(raw) > 0 {
		if err := msgpack.Unmarshal(raw, &key); err != nil {
			return bad(err)
		}
	}
	limit, err := req.Limit()
	if err != nil {
		return bad(err)
	}
	if space > 0xffffffff {
		return bad(fmt.Errorf("space id %d out of range", space))
	}
	return node.Select{Table: uint32(space), Key: key, Limit: uint32(min(limit, 0xffffffff))}, nil
}

// encodeReply is the reply frame to a CALL (CALL_16 when call16), with
// schema in its header.
func EncodeReply(sync, schema uint64, call16 bool, r node.Reply) []byte {
	if r.Err != nil {
		return EncodeError(sync, schema, r.Err)
	}
	values := make([]msgpack.RawMessage, len(r.Values))
	for i, v := range r.Values {
		if c, ok := v.(node.ChunkResult); ok {
			values[i] = c.Data
			continue
		}
		b, err := msgpack.Marshal(v)
		if err != nil {
			return EncodeError(sync, schema, &node.Error{Code: node.CodeProcLua, Message: "encoding the reply: " + err.Error()})
		}
		values[i] = b
	}
	if call16 {
		return iproto.EncodeCall16Reply(sync, schema, values...)
	}
	return iproto.EncodeCallReply(sync, schema, values...)
}

// encodeError carries a redirect's leader in MP_ERROR's fields.
func EncodeError(sync, schema uint64, e *node.Error) []byte {
	var fields map[string]any
	if e.LeaderID != 0 {
		fields = map[string]any{"leader_id": e.LeaderID}
	}
	return iproto.EncodeErrorFields(sync, schema, e.Code, e.Message, fields)
}

func nodeError(e *iproto.Error) *node.Error {
	ne := &node.Error{Code: e.Code, Message: e.Message}
	if id, ok := e.Fields["leader_id"]; ok {
		ne.LeaderID, _ = tuple.AsUint64(id)
	}
	return ne
}

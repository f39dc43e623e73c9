package proc

import (
	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/tuple"
	"github.com/picogo/picogo/net/iproto"
	"github.com/vmihailenco/msgpack/v5"
)

// The client side of the Proc API, used by instances calling each other and
// by picogo's own clients: a request becomes a CALL frame, a reply frame
// becomes the result the request expects.

// EncodeCall is the CALL frame of req, its arguments (EncodeArgs' bytes)
// written straight into the frame.
func EncodeCall(sync uint64, req api.Request) ([]byte, error) {
	args, err := argsOf(req)
	if err != nil {
		return nil, err
	}
	return iproto.EncodeCallWith(sync, req.Proc(), argsSize(args), func(b []byte) ([]byte, error) {
		return appendArgs(b, args)
	})
}

// EncodeRequest is the frame of req: Tarantool's own request for a SELECT,
// INSERT, REPLACE, UPDATE, UPSERT or DELETE, a CALL for a procedure. (A
// select's zero Limit is no limit, as api.Select says.)
func EncodeRequest(sync uint64, req api.Request) ([]byte, error) {
	enc := func(v any) (msgpack.RawMessage, error) {
		switch a := v.(type) {
		case []any:
			if a == nil {
				v = []any{}
			}
		case [][]any:
			if a == nil {
				v = []any{}
			}
		}
		return tuple.Marshal(v)
	}
	switch r := req.(type) {
	case api.Select:
		key, err := enc(r.Key)
		if err != nil {
			return nil, err
		}
		limit := uint64(r.Limit)
		if limit == 0 {
			limit = 0xffffffff
		}
		return iproto.EncodeSelect(sync, uint64(r.Table), uint64(r.Index), uint64(r.Iterator), uint64(r.Offset), limit, key), nil
	case api.Insert, api.Replace:
		table, vals := dmlTuple(r)
		t, err := enc(vals)
		if err != nil {
			return nil, err
		}
		if _, ok := r.(api.Insert); ok {
			return iproto.EncodeInsert(sync, uint64(table), t), nil
		}
		return iproto.EncodeReplace(sync, uint64(table), t), nil
	case api.Update:
		key, err := enc(r.Key)
		if err != nil {
			return nil, err
		}
		ops, err := enc(r.Ops)
		if err != nil {
			return nil, err
		}
		return iproto.EncodeUpdate(sync, uint64(r.Table), uint64(r.Index), key, ops), nil
	case api.Upsert:
		t, err := enc(r.Tuple)
		if err != nil {
			return nil, err
		}
		ops, err := enc(r.Ops)
		if err != nil {
			return nil, err
		}
		return iproto.EncodeUpsert(sync, uint64(r.Table), t, ops), nil
	case api.Delete:
		key, err := enc(r.Key)
		if err != nil {
			return nil, err
		}
		return iproto.EncodeDelete(sync, uint64(r.Table), uint64(r.Index), key), nil
	}
	return EncodeCall(sync, req)
}

func dmlTuple(r api.Request) (uint32, []any) {
	switch r := r.(type) {
	case api.Insert:
		return r.Table, r.Tuple
	case api.Replace:
		return r.Table, r.Tuple
	}
	return 0, nil
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
// schema in its header: the procedure's return values, or e. A CALL's
// values are written straight into the frame.
func EncodeReply(sync, schema uint64, call16 bool, results []any, e *api.Error) []byte {
	if e != nil {
		return EncodeError(sync, schema, e)
	}
	if call16 {
		data, err := ReplyData(true, results)
		if err != nil {
			return EncodeError(sync, schema, err)
		}
		return iproto.EncodeDataRaw(sync, schema, data)
	}
	var failed *api.Error
	frame, _ := iproto.EncodeDataWith(sync, schema, resultsSize(results), func(b []byte) ([]byte, error) {
		b, failed = appendResults(b, results)
		if failed != nil {
			return nil, failed
		}
		return b, nil
	})
	if failed != nil {
		return EncodeError(sync, schema, failed)
	}
	return frame
}

// ReplyData is the DATA of EncodeReply's reply to a CALL (a CALL_16 if
// call16) that returned results.
func ReplyData(call16 bool, results []any) (msgpack.RawMessage, *api.Error) {
	if !call16 {
		return appendResults(make([]byte, 0, resultsSize(results)), results)
	}
	values := make([]msgpack.RawMessage, len(results))
	for i, v := range results {
		b, err := appendResult(nil, v)
		if err != nil {
			return nil, err
		}
		values[i] = b
	}
	data, err := iproto.Call16Data(values...)
	if err != nil {
		return nil, &api.Error{Code: api.CodeProcLua, Message: "cannot encode reply: " + err.Error()}
	}
	return data, nil
}

// appendResults appends a CALL's DATA: the array of the results.
func appendResults(b []byte, results []any) ([]byte, *api.Error) {
	b = iproto.AppendArrayLen(b, len(results))
	for _, v := range results {
		var err *api.Error
		if b, err = appendResult(b, v); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// appendResult appends one return value: a chunk as it is (checked: it is
// the one value not encoded here), Raft messages by raftwire.go's codec
// (`.proc_raft_interact`'s reply, as in the call), anything else by
// msgpack.
func appendResult(b []byte, v any) ([]byte, *api.Error) {
	switch v := v.(type) {
	case api.ChunkResult:
		if err := iproto.CheckValue(v.Data); err != nil {
			return nil, &api.Error{Code: api.CodeProcLua, Message: "cannot encode reply: " + err.Error()}
		}
		return append(b, v.Data...), nil
	case []raft.Message:
		b, err := appendMessages(b, v)
		if err != nil {
			return nil, &api.Error{Code: api.CodeProcLua, Message: "encoding the reply: " + err.Error()}
		}
		return b, nil
	}
	enc, err := msgpack.Marshal(v)
	if err != nil {
		return nil, &api.Error{Code: api.CodeProcLua, Message: "encoding the reply: " + err.Error()}
	}
	return append(b, enc...), nil
}

// resultsSize is about the bytes appendResults writes, where it is known
// up front.
func resultsSize(results []any) int {
	n := 1
	for _, v := range results {
		switch v := v.(type) {
		case api.ChunkResult:
			n += len(v.Data)
		case []raft.Message:
			n += wireSize(v)
		default:
			n += 16
		}
	}
	return n
}

// EncodeError carries a redirect's leader and a wrong bucket's Raft index in
// MP_ERROR's fields.
func EncodeError(sync, schema uint64, e *api.Error) []byte {
	var fields map[string]any
	if e.LeaderID != 0 {
		fields = map[string]any{"leader_id": e.LeaderID}
	}
	if e.Index != 0 {
		if fields == nil {
			fields = map[string]any{}
		}
		fields["raft_index"] = e.Index
	}
	return iproto.EncodeErrorFields(sync, schema, e.Code, e.Message, fields)
}

func apiError(e *iproto.Error) *api.Error {
	ne := &api.Error{Code: e.Code, Message: e.Message}
	if id, ok := e.Fields["leader_id"]; ok {
		ne.LeaderID, _ = tuple.AsUint64(id)
	}
	if i, ok := e.Fields["raft_index"]; ok {
		ne.Index, _ = tuple.AsUint64(i)
	}
	return ne
}

package proc

import (
	"errors"
	"fmt"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/tuple"
	"github.com/picogo/picogo/net/iproto"
	"github.com/vmihailenco/msgpack/v5"
)

// The server side of iproto's data requests on tables: SELECT and the DML
// (INSERT, REPLACE, UPDATE, UPSERT, DELETE), decoded from their body keys
// as Tarantool's xrow_decode_dml does. A bad request is an *api.Error with
// Tarantool's code and wording: MISSING_REQUEST_FIELD for a mandatory key
// that is absent (SPACE_ID; TUPLE of INSERT, REPLACE, UPDATE and UPSERT;
// KEY of UPDATE and DELETE; OPS of UPSERT), INVALID_MSGPACK for a key of
// the wrong msgpack type, TUPLE_NOT_ARRAY or INVALID_MSGPACK for a tuple or
// key that is not an array of values, ILLEGAL_PARAMS for update operations
// that are not arrays. What depends on the table (its format, whether the
// index exists, what the operations mean) is the storage's to check.

// DMLNames are the names of the DML request types, as their api requests'
// Proc() names them.
var DMLNames = map[uint64]string{
	iproto.TypeInsert:  api.Insert{}.Proc(),
	iproto.TypeReplace: api.Replace{}.Proc(),
	iproto.TypeUpdate:  api.Update{}.Proc(),
	iproto.TypeUpsert:  api.Upsert{}.Proc(),
	iproto.TypeDelete:  api.Delete{}.Proc(),
}

// DecodeDML decodes a DML request of any of the five types.
func DecodeDML(req iproto.Request) (api.Request, *api.Error) {
	var r api.Request
	var e *api.Error
	switch req.Type {
	case iproto.TypeInsert:
		r, e = DecodeInsert(req)
	case iproto.TypeReplace:
		r, e = DecodeReplace(req)
	case iproto.TypeUpdate:
		r, e = DecodeUpdate(req)
	case iproto.TypeUpsert:
		r, e = DecodeUpsert(req)
	case iproto.TypeDelete:
		r, e = DecodeDelete(req)
	default:
		return nil, &api.Error{Code: iproto.CodeUnknownRequestType, Message: fmt.Sprintf("Unknown request type %d", req.Type)}
	}
	if e != nil {
		return nil, e
	}
	return r, nil
}

// DecodeInsert decodes INSERT {SPACE_ID, TUPLE}.
func DecodeInsert(req iproto.Request) (api.Insert, *api.Error) {
	space, t, e := spaceAndTuple(req)
	if e != nil {
		return api.Insert{}, e
	}
	return api.Insert{Table: space, Tuple: t}, nil
}

// DecodeReplace decodes REPLACE {SPACE_ID, TUPLE}.
func DecodeReplace(req iproto.Request) (api.Replace, *api.Error) {
	space, t, e := spaceAndTuple(req)
	if e != nil {
		return api.Replace{}, e
	}
	return api.Replace{Table: space, Tuple: t}, nil
}

// DecodeUpdate decodes UPDATE {SPACE_ID, INDEX_ID?, KEY, TUPLE: operations,
// INDEX_BASE?}. The operations' field numbers come out 0-based.
func DecodeUpdate(req iproto.Request) (api.Update, *api.Error) {
	space, e := spaceID(req)
	if e != nil {
		return api.Update{}, e
	}
	index, e := indexID(req, space)
	if e != nil {
		return api.Update{}, e
	}
	key, e := values(req.RequiredKey())
	if e != nil {
		return api.Update{}, e
	}
	ops, e := operations(req, req.Tuple)
	if e != nil {
		return api.Update{}, e
	}
	return api.Update{Table: space, Index: index, Key: key, Ops: ops}, nil
}

// DecodeUpsert decodes UPSERT {SPACE_ID, TUPLE, OPS, INDEX_BASE?}. The
// operations' field numbers come out 0-based.
func DecodeUpsert(req iproto.Request) (api.Upsert, *api.Error) {
	space, t, e := spaceAndTuple(req)
	if e != nil {
		return api.Upsert{}, e
	}
	ops, e := operations(req, req.Ops)
	if e != nil {
		return api.Upsert{}, e
	}
	return api.Upsert{Table: space, Tuple: t, Ops: ops}, nil
}

// DecodeDelete decodes DELETE {SPACE_ID, INDEX_ID?, KEY}.
func DecodeDelete(req iproto.Request) (api.Delete, *api.Error) {
	space, e := spaceID(req)
	if e != nil {
		return api.Delete{}, e
	}
	index, e := indexID(req, space)
	if e != nil {
		return api.Delete{}, e
	}
	key, e := values(req.RequiredKey())
	if e != nil {
		return api.Delete{}, e
	}
	return api.Delete{Table: space, Index: index, Key: key}, nil
}

// DecodeSelect decodes SELECT {SPACE_ID, INDEX_ID?, ITERATOR?, OFFSET?,
// LIMIT?, KEY?}: an absent KEY is [], an absent ITERATOR EQ (with an empty
// key, every tuple), an absent LIMIT no limit.
func DecodeSelect(req iproto.Request) (api.Select, *api.Error) {
	space, e := spaceID(req)
	if e != nil {
		return api.Select{}, e
	}
	index, e := indexID(req, space)
	if e != nil {
		return api.Select{}, e
	}
	it, err := req.Iterator()
	if err != nil {
		return api.Select{}, requestError(err)
	}
	if it > uint64(api.IterGT) {
		return api.Select{}, &api.Error{Code: iproto.CodeIteratorType, Message: fmt.Sprintf("Unknown iterator type '%d'", it)}
	}
	offset, err := req.Offset()
	if err != nil {
		return api.Select{}, requestError(err)
	}
	limit, err := req.Limit()
	if err != nil {
		return api.Select{}, requestError(err)
	}
	key, e := values(req.Key())
	if e != nil {
		return api.Select{}, e
	}
	return api.Select{Table: space, Index: index, Iterator: uint8(it), Key: key,
		Offset: uint32(min(offset, 1<<32-1)), Limit: uint32(min(limit, 1<<32-1))}, nil
}

// requestError is the reply to a body the codec refused.
func requestError(err error) *api.Error {
	var de *iproto.DecodeError
	if errors.As(err, &de) {
		return &api.Error{Code: de.Code, Message: de.Message}
	}
	return &api.Error{Code: api.CodeIllegalParams, Message: err.Error()}
}

// spaceID is the request's SPACE_ID; an id beyond 32 bits names no space.
func spaceID(req iproto.Request) (uint32, *api.Error) {
	space, err := req.SpaceID()
	if err != nil {
		return 0, requestError(err)
	}
	if space > 1<<32-1 {
		return 0, &api.Error{Code: api.CodeNoSuchSpace, Message: fmt.Sprintf("Space '%d' does not exist", space)}
	}
	return uint32(space), nil
}

// indexID is the request's INDEX_ID (0 when absent); an id beyond 32 bits
// names no index.
func indexID(req iproto.Request, space uint32) (uint32, *api.Error) {
	index, err := req.IndexID()
	if err != nil {
		return 0, requestError(err)
	}
	if index > 1<<32-1 {
		return 0, &api.Error{Code: iproto.CodeNoSuchIndexID, Message: fmt.Sprintf("No index #%d is defined in space '%d'", index, space)}
	}
	return uint32(index), nil
}

func spaceAndTuple(req iproto.Request) (uint32, []any, *api.Error) {
	space, e := spaceID(req)
	if e != nil {
		return 0, nil, e
	}
	t, e := values(req.Tuple())
	if e != nil {
		return 0, nil, e
	}
	return space, t, nil
}

// values decodes a raw array of values (a tuple, a key) the way tuples
// decode: Tarantool's decimal, uuid and datetime included.
func values(raw msgpack.RawMessage, err error) ([]any, *api.Error) {
	if err != nil {
		return nil, requestError(err)
	}
	vals, te := tuple.DecodeArray(raw)
	if te != nil {
		return nil, &api.Error{Code: te.Code, Message: te.Message}
	}
	return vals, nil
}

// operations decodes update operations (from TUPLE for UPDATE, OPS for
// UPSERT): an array of arrays, each [op, field, ...]. A numeric field
// counts from INDEX_BASE (0 when absent; net.box sends 1): it comes out
// 0-based. One below the base is NO_SUCH_FIELD_NO; a negative one counts
// from the end and stays as it is. The rest of each operation is the
// storage's to check.
func operations(req iproto.Request, get func() (msgpack.RawMessage, error)) ([][]any, *api.Error) {
	base, err := req.IndexBase()
	if err != nil {
		return nil, requestError(err)
	}
	raw, err := get()
	if err != nil {
		return nil, requestError(err)
	}
	list, e := values(raw, nil)
	if e != nil {
		return nil, e
	}
	ops := make([][]any, len(list))
	for i, v := range list {
		op, ok := v.([]any)
		if !ok {
			return nil, &api.Error{Code: api.CodeIllegalParams, Message: "update operation must be an array {op,..}"}
		}
		if len(op) == 0 {
			return nil, &api.Error{Code: api.CodeIllegalParams, Message: "update operation must be an array {op,..}, got empty array"}
		}
		if len(op) >= 2 && base != 0 {
			if u, ok := tuple.AsUint64(op[1]); ok {
				if u < base {
					return nil, &api.Error{Code: tuple.CodeNoSuchFieldNo, Message: fmt.Sprintf("Field %d was not found in the tuple", u)}
				}
				op[1] = u - base
			}
		}
		ops[i] = op
	}
	return ops, nil
}

package iproto

import (
	"github.com/vmihailenco/msgpack/v5"
)

// Client-side request encoders, for picogo's own client (instances call each
// other with it). Each returns a complete frame. The header is {SYNC,
// REQUEST_TYPE} in net.box's order, so these frames are byte-identical to
// net.box's. Raw arguments (args, binds, key) must be msgpack arrays; nil
// stands for []. They are not checked: a bad one costs only its own request,
// which the server answers with an error.

// request frames a request header and the given body entries, in order; no
// entries (PING) means no body.
func request(typ, sync uint64, fields ...field) []byte {
	b := newFrame(KeySync, sync, KeyRequestType, typ)
	if len(fields) > 0 {
		b = appendMapLen(b, len(fields))
		for _, f := range fields {
			b = appendUint(b, f.key)
			b = append(b, f.val...)
		}
	}
	return finishFrame(b)
}

func strField(key uint64, s string) field { return field{key, appendStr(nil, s)} }
func uintField(key, v uint64) field       { return field{key, appendUint(nil, v)} }
func arrayField(key uint64, raw msgpack.RawMessage) field {
	return field{key, orEmptyArray(raw)}
}

// EncodeCall is CALL {FUNCTION_NAME: fn, TUPLE: args}.
func EncodeCall(sync uint64, fn string, args msgpack.RawMessage) []byte {
	return request(TypeCall, sync, strField(KeyFunctionName, fn), arrayField(KeyTuple, args))
}

// EncodeCallWith is EncodeCall with the arguments appended in place by
// appendArgs (a msgpack array): the frame is one buffer of about sizeHint
// bytes more than its header, so that large arguments (a busy leader's
// Raft messages) are written once, not encoded and then copied into a
// growing frame. An error from appendArgs is returned as is.
func EncodeCallWith(sync uint64, fn string, sizeHint int, appendArgs func([]byte) ([]byte, error)) ([]byte, error) {
	b := make([]byte, framePrefix, framePrefix+32+len(fn)+sizeHint)
	b = appendMapLen(b, 2)
	b = appendUint(b, KeySync)
	b = appendUint(b, sync)
	b = appendUint(b, KeyRequestType)
	b = appendUint(b, TypeCall)
	b = appendMapLen(b, 2)
	b = appendUint(b, KeyFunctionName)
	b = appendStr(b, fn)
	b = appendUint(b, KeyTuple)
	b, err := appendArgs(b)
	if err != nil {
		return nil, err
	}
	return finishFrame(b), nil
}

// EncodeCall16 is CALL_16 {FUNCTION_NAME: fn, TUPLE: args}.
func EncodeCall16(sync uint64, fn string, args msgpack.RawMessage) []byte {
	return request(TypeCall16, sync, strField(KeyFunctionName, fn), arrayField(KeyTuple, args))
}

// EncodeEval is EVAL {EXPR: expr, TUPLE: args}.
func EncodeEval(sync uint64, expr string, args msgpack.RawMessage) []byte {
	return request(TypeEval, sync, strField(KeyExpr, expr), arrayField(KeyTuple, args))
}

// EncodeAuth is AUTH {USER_NAME: user, TUPLE: ["chap-sha1", scramble]}, the
// scramble (see Scramble) sent as a str as net.box does.
func EncodeAuth(sync uint64, user string, scramble []byte) []byte {
	t := appendArrayLen(nil, 2)
	t = appendStr(t, AuthChapSha1)
	t = appendStr(t, scramble)
	return request(TypeAuth, sync, strField(KeyUserName, user), field{KeyTuple, t})
}

// EncodePing is PING, which has no body.
func EncodePing(sync uint64) []byte { return request(TypePing, sync) }

// EncodeID is ID {VERSION: version, FEATURES: features}.
func EncodeID(sync, version uint64, features []uint64) []byte {
	return request(TypeID, sync, uintField(KeyVersion, version),
		field{KeyFeatures, appendUintArray(nil, features)})
}

// EncodeSelect is SELECT with the body in net.box's order: SPACE_ID,
// INDEX_ID, ITERATOR, OFFSET, LIMIT, KEY.
func EncodeSelect(sync, space, index, iterator, offset, limit uint64, key msgpack.RawMessage) []byte {
	return request(TypeSelect, sync,
		uintField(KeySpaceID, space), uintField(KeyIndexID, index),
		uintField(KeyIterator, iterator), uintField(KeyOffset, offset),
		uintField(KeyLimit, limit), arrayField(KeyKey, key))
}

// EncodeInsert is INSERT {SPACE_ID: space, TUPLE: tuple}.
func EncodeInsert(sync, space uint64, tuple msgpack.RawMessage) []byte {
	return request(TypeInsert, sync, uintField(KeySpaceID, space), arrayField(KeyTuple, tuple))
}

// EncodeReplace is REPLACE {SPACE_ID: space, TUPLE: tuple}.
func EncodeReplace(sync, space uint64, tuple msgpack.RawMessage) []byte {
	return request(TypeReplace, sync, uintField(KeySpaceID, space), arrayField(KeyTuple, tuple))
}

// EncodeUpdate is UPDATE {SPACE_ID: space, INDEX_ID: index, KEY: key,
// TUPLE: ops}: as in Tarantool, the operations go under TUPLE. Their field
// numbers are 0-based (no INDEX_BASE; net.box sends INDEX_BASE 1 and
// 1-based numbers).
func EncodeUpdate(sync, space, index uint64, key, ops msgpack.RawMessage) []byte {
	return request(TypeUpdate, sync, uintField(KeySpaceID, space), uintField(KeyIndexID, index),
		arrayField(KeyKey, key), arrayField(KeyTuple, ops))
}

// EncodeUpsert is UPSERT {SPACE_ID: space, TUPLE: tuple, OPS: ops}, field
// numbers 0-based as EncodeUpdate's.
func EncodeUpsert(sync, space uint64, tuple, ops msgpack.RawMessage) []byte {
	return request(TypeUpsert, sync, uintField(KeySpaceID, space), arrayField(KeyTuple, tuple),
		arrayField(KeyOps, ops))
}

// EncodeDelete is DELETE {SPACE_ID: space, INDEX_ID: index, KEY: key}.
func EncodeDelete(sync, space, index uint64, key msgpack.RawMessage) []byte {
	return request(TypeDelete, sync, uintField(KeySpaceID, space), uintField(KeyIndexID, index),
		arrayField(KeyKey, key))
}

// EncodeExecute is EXECUTE {SQL_TEXT: sql, SQL_BIND: binds, OPTIONS: []}.
func EncodeExecute(sync uint64, sql string, binds msgpack.RawMessage) []byte {
	return request(TypeExecute, sync, strField(KeySQLText, sql),
		arrayField(KeySQLBind, binds), field{KeyOptions, emptyArray})
}

// EncodeExecuteID is EXECUTE {STMT_ID: id, SQL_BIND: binds, OPTIONS: []}:
// a statement PREPARE named.
func EncodeExecuteID(sync, id uint64, binds msgpack.RawMessage) []byte {
	return request(TypeExecute, sync, uintField(KeyStmtID, id),
		arrayField(KeySQLBind, binds), field{KeyOptions, emptyArray})
}

// EncodePrepare is PREPARE {SQL_TEXT: sql}.
func EncodePrepare(sync uint64, sql string) []byte {
	return request(TypePrepare, sync, strField(KeySQLText, sql))
}

// EncodePrepareID is PREPARE {STMT_ID: id}: unprepare.
func EncodePrepareID(sync, id uint64) []byte {
	return request(TypePrepare, sync, uintField(KeyStmtID, id))
}

// EncodeWatch is WATCH {EVENT_KEY: key}; servers do not answer it.
func EncodeWatch(sync uint64, key string) []byte {
	return request(TypeWatch, sync, strField(KeyEventKey, key))
}

// EncodeUnwatch is UNWATCH {EVENT_KEY: key}; servers do not answer it.
func EncodeUnwatch(sync uint64, key string) []byte {
	return request(TypeUnwatch, sync, strField(KeyEventKey, key))
}

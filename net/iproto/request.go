package iproto

import (
	"github.com/vmihailenco/msgpack/v5"
)

// Request is a decoded client request. Body values alias the packet they
// were decoded from; Body is nil when the packet has none (PING).
type Request struct {
	Type          uint64
	Sync          uint64 // 0 when the header has none
	SchemaVersion uint64
	StreamID      uint64
	Body          Body
}

// DecodeRequest decodes a packet as ReadFrame returns it. Integers may have
// any width, keys any order; unknown keys are ignored (and kept in Body).
// It does not judge the request type: a server answers an unknown one with
// CodeUnknownRequestType.
//
// Errors are *DecodeError (wrapping ErrMalformed). The returned Request
// still carries what of the header could be read (all of it when only the
// body is bad), so the error can be answered to req.Sync.
func DecodeRequest(packet []byte) (Request, error) {
	h, body, err := decodePacket(packet)
	req := Request{Type: h.typ, Sync: h.sync, SchemaVersion: h.schema, StreamID: h.stream}
	if err != nil {
		return req, err
	}
	req.Body = body
	return req, nil
}

// FunctionName is CALL's and CALL_16's FUNCTION_NAME.
func (r Request) FunctionName() (string, error) { return bodyStr(r.Body, KeyFunctionName) }

// Tuple is the raw TUPLE array (CALL arguments, AUTH's method and scramble).
func (r Request) Tuple() (msgpack.RawMessage, error) { return bodyArray(r.Body, KeyTuple, nil) }

// Args is the raw argument array of CALL, CALL_16 and EVAL: TUPLE, or []
// when the request has none.
func (r Request) Args() (msgpack.RawMessage, error) {
	return bodyArray(r.Body, KeyTuple, emptyArray)
}

// Expr is EVAL's EXPR.
func (r Request) Expr() (string, error) { return bodyStr(r.Body, KeyExpr) }

// AuthUser is AUTH's USER_NAME.
func (r Request) AuthUser() (string, error) { return bodyStr(r.Body, KeyUserName) }

// AuthMethod is the first element of AUTH's TUPLE, e.g. "chap-sha1"; "" when
// the tuple is empty (Tarantool lets a session switch back to guest so).
func (r Request) AuthMethod() (string, error) {
	method, _, err := r.auth()
	return method, err
}

// AuthScramble is the second element of AUTH's TUPLE, a str or a bin; nil
// when the tuple is empty. Its length is not checked here (CheckScramble
// does).
func (r Request) AuthScramble() ([]byte, error) {
	_, scramble, err := r.auth()
	return scramble, err
}

func (r Request) auth() (string, []byte, error) {
	tuple, err := r.Tuple()
	if err != nil {
		return "", nil, err
	}
	n, b, _ := readArrayLen(tuple) // Tuple checked the kind
	if n == 0 {
		return "", nil, nil
	}
	if n < 2 {
		return "", nil, badField(KeyTuple, "[method, scramble]")
	}
	method, b, err := readStr(b)
	if err != nil {
		return "", nil, badField(KeyTuple, "[method, scramble]")
	}
	scramble, _, err := readBytes(b, true)
	if err != nil {
		return "", nil, badField(KeyTuple, "[method, scramble]")
	}
	return method, append([]byte(nil), scramble...), nil
}

// SpaceID is the SPACE_ID of SELECT and the DML requests.
func (r Request) SpaceID() (uint64, error) { return bodyUintRequired(r.Body, KeySpaceID) }

// IndexID is the INDEX_ID of SELECT, UPDATE and DELETE, 0 (the primary
// key) when absent.
func (r Request) IndexID() (uint64, error) { return bodyUint(r.Body, KeyIndexID, 0) }

// Limit is SELECT's LIMIT, 2^32-1 when absent.
func (r Request) Limit() (uint64, error) { return bodyUint(r.Body, KeyLimit, 1<<32-1) }

// Offset is SELECT's OFFSET, 0 when absent.
func (r Request) Offset() (uint64, error) { return bodyUint(r.Body, KeyOffset, 0) }

// Iterator is SELECT's ITERATOR, IterEQ when absent.
func (r Request) Iterator() (uint64, error) { return bodyUint(r.Body, KeyIterator, IterEQ) }

// Key is SELECT's raw KEY array, [] when absent.
func (r Request) Key() (msgpack.RawMessage, error) { return bodyArray(r.Body, KeyKey, emptyArray) }

// RequiredKey is UPDATE's and DELETE's raw KEY array, which they must have.
func (r Request) RequiredKey() (msgpack.RawMessage, error) { return bodyArray(r.Body, KeyKey, nil) }

// Ops is UPSERT's raw OPS array, which it must have. (UPDATE's operations
// are its TUPLE.)
func (r Request) Ops() (msgpack.RawMessage, error) { return bodyArray(r.Body, KeyOps, nil) }

// IndexBase is UPDATE's and UPSERT's INDEX_BASE, 0 when absent: the number
// of the first field in the operations (net.box sends 1).
func (r Request) IndexBase() (uint64, error) { return bodyUint(r.Body, KeyIndexBase, 0) }

// SQL is EXECUTE's (or PREPARE's) SQL_TEXT — or, when it has none, its
// STMT_ID (a statement PREPARE named) — and its raw SQL_BIND array ([]
// when absent).
func (r Request) SQL() (text string, stmtID uint64, binds msgpack.RawMessage, err error) {
	if _, ok := r.Body.Get(KeySQLText); !ok {
		if _, ok := r.Body.Get(KeyStmtID); ok {
			if stmtID, err = bodyUint(r.Body, KeyStmtID, 0); err != nil {
				return "", 0, nil, err
			}
		}
	}
	if stmtID == 0 {
		if text, err = bodyStr(r.Body, KeySQLText); err != nil {
			return "", 0, nil, err
		}
	}
	if binds, err = bodyArray(r.Body, KeySQLBind, emptyArray); err != nil {
		return "", 0, nil, err
	}
	return text, stmtID, binds, nil
}

// IDVersion is ID's VERSION, 0 when absent.
func (r Request) IDVersion() (uint64, error) { return bodyUint(r.Body, KeyVersion, 0) }

// IDFeatures is ID's FEATURES, empty when absent.
func (r Request) IDFeatures() ([]uint64, error) { return bodyUintArray(r.Body, KeyFeatures) }

// IDAuthType is ID's AUTH_TYPE, "" when absent.
func (r Request) IDAuthType() (string, error) {
	if _, ok := r.Body.Get(KeyAuthType); !ok {
		return "", nil
	}
	return bodyStr(r.Body, KeyAuthType)
}

// EventKey is WATCH's and UNWATCH's EVENT_KEY.
func (r Request) EventKey() (string, error) { return bodyStr(r.Body, KeyEventKey) }

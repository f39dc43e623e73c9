package iproto

import (
	"bytes"
	"slices"

	"github.com/vmihailenco/msgpack/v5"
)

// Server-side reply encoders. Each returns a complete frame, length prefix
// included. Every reply header is {0x00: code, 0x01: sync, 0x05:
// schema_version}: net.box 2.6 needs SCHEMA_VERSION in every reply, and
// clients re-fetch the schema when it changes, so keep it constant.
//
// Encoders that take values to encode (any) never fail: if a value cannot be
// encoded, or is not the array it must be, the reply becomes an error reply
// (CodeProcLua, "cannot encode reply: ...") for the same sync, so the client
// hears about it instead of waiting forever.

// field is one body entry, already encoded.
type field struct {
	key uint64
	val []byte
}

// reply frames a reply header and the given body entries, in order; no
// entries make the empty map real servers send.
func reply(code, sync, schema uint64, fields ...field) []byte {
	b := newFrame(KeyRequestType, code, KeySync, sync, KeySchemaVersion, schema)
	b = appendMapLen(b, len(fields))
	for _, f := range fields {
		b = appendUint(b, f.key)
		b = append(b, f.val...)
	}
	return finishFrame(b)
}

// encodeFailure is the error reply standing in for a reply that could not
// be encoded.
func encodeFailure(sync, schema uint64, err error) []byte {
	return EncodeError(sync, schema, CodeProcLua, "cannot encode reply: "+err.Error())
}

// EncodeOK is an OK reply with the given body: keys in ascending order,
// values msgpack.RawMessage (written as is, after a well-formedness check) or
// anything msgpack encodes. A nil or empty body is the empty map (the reply
// to AUTH, PING, ...).
func EncodeOK(sync, schemaVersion uint64, body map[uint64]any) []byte {
	keys := make([]uint64, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	fields := make([]field, 0, len(keys))
	for _, k := range keys {
		val, err := marshal(body[k])
		if err != nil {
			return encodeFailure(sync, schemaVersion, err)
		}
		fields = append(fields, field{k, val})
	}
	return reply(TypeOK, sync, schemaVersion, fields...)
}

// EncodeData is an OK reply {DATA: data}; data must encode to an array (a
// msgpack.RawMessage array, or a slice; nil is []). For CALL it holds the
// function's return values, one element per value (several elements are
// several return values in net.box); see EncodeCallReply and
// EncodeCall16Reply.
func EncodeData(sync, schemaVersion uint64, data any) []byte {
	raw, err := marshalArray(data)
	if err != nil {
		return encodeFailure(sync, schemaVersion, err)
	}
	return reply(TypeOK, sync, schemaVersion, field{KeyData, raw})
}

// EncodeSelectReply is the reply to SELECT: {DATA: tuples}, tuples an array
// of tuples (arrays) as for EncodeData.
func EncodeSelectReply(sync, schemaVersion uint64, tuples any) []byte {
	return EncodeData(sync, schemaVersion, tuples)
}

// EncodeCallReply is the reply to CALL (and EVAL): DATA is the array of the
// function's return values, each one encoded msgpack value.
func EncodeCallReply(sync, schemaVersion uint64, results ...msgpack.RawMessage) []byte {
	data, err := CallData(results...)
	if err != nil {
		return encodeFailure(sync, schemaVersion, err)
	}
	return EncodeDataRaw(sync, schemaVersion, data)
}

// CallData is the DATA of the reply to CALL (and EVAL): the array of the
// function's return values, each one encoded msgpack value.
func CallData(results ...msgpack.RawMessage) (msgpack.RawMessage, error) {
	b := appendArrayLen(nil, len(results))
	for _, r := range results {
		if err := checkValue(r); err != nil {
			return nil, err
		}
		b = append(b, r...)
	}
	return b, nil
}

// EncodeCall16Reply is the reply to CALL_16: the return values converted to
// tuples as Tarantool does (see Call16Data).
func EncodeCall16Reply(sync, schemaVersion uint64, results ...msgpack.RawMessage) []byte {
	data, err := Call16Data(results...)
	if err != nil {
		return encodeFailure(sync, schemaVersion, err)
	}
	return EncodeDataRaw(sync, schemaVersion, data)
}

// maxReplyHeader bounds the encoded reply header {0x00: code, 0x01: sync,
// 0x05: schema_version}: a fixmap, three fixint keys, three integers of at
// most 9 bytes.
const maxReplyHeader = 1 + 3 + 3*9

// EncodeDataRaw is an OK reply {DATA: data}, data an encoded array
// (CallData, Call16Data) written as is, unchecked: a reply encoded once and
// sent many times. One allocation, of the frame.
func EncodeDataRaw(sync, schemaVersion uint64, data msgpack.RawMessage) []byte {
	return finishFrame(append(dataReplyHead(sync, schemaVersion, len(data)), data...))
}

// EncodeDataWith is EncodeDataRaw with DATA appended in place by
// appendData, which must append exactly one msgpack value: a server's
// return values are written once, into the frame, rather than encoded and
// then copied in (as iproto.EncodeCallWith does for a call's arguments).
func EncodeDataWith(sync, schemaVersion uint64, sizeHint int, appendData func([]byte) ([]byte, error)) ([]byte, error) {
	b, err := appendData(dataReplyHead(sync, schemaVersion, sizeHint))
	if err != nil {
		return nil, err
	}
	return finishFrame(b), nil
}

// dataReplyHead is an OK reply's frame up to DATA's value, with room for
// n bytes more.
func dataReplyHead(sync, schemaVersion uint64, n int) []byte {
	b := make([]byte, framePrefix, framePrefix+maxReplyHeader+2+n)
	b = appendMapLen(b, 3)
	b = appendUint(appendUint(b, KeyRequestType), TypeOK)
	b = appendUint(appendUint(b, KeySync), sync)
	b = appendUint(appendUint(b, KeySchemaVersion), schemaVersion)
	return appendUint(appendMapLen(b, 1), KeyData)
}

// What EncodeError puts in an MP_ERROR entry's type and trace fields:
// picogo's errors do not come from a Lua file.
const (
	errorTypeName = "ClientError"
	errorFileName = "picogo"
	errorLineNo   = 0
)

// EncodeError is an error reply: type TypeErrorFlag|code (code masked to
// 15 bits there; the MP_ERROR entry carries it whole) and a body with both
// ERROR_24 (the message; net.box 2.6 reads auth failures from it) and ERROR
// {0x00: [{0: "ClientError", 1: file, 2: line, 3: message, 4: errno 0,
// 5: code}]}.
func EncodeError(sync, schemaVersion uint64, code uint32, message string) []byte {
	return EncodeErrorFields(sync, schemaVersion, code, message, nil)
}

// EncodeErrorFields is EncodeError with MP_ERROR fields (0x06), e.g.
// {"leader_id": 3} for a redirect; keys are written sorted.
func EncodeErrorFields(sync, schemaVersion uint64, code uint32, message string, fields map[string]any) []byte {
	var rawFields []byte
	if len(fields) > 0 {
		var buf bytes.Buffer
		enc := msgpack.NewEncoder(&buf)
		enc.SetSortMapKeys(true)
		if err := enc.Encode(fields); err == nil {
			rawFields = buf.Bytes()
		}
	}
	e := appendMapLen(nil, 1)
	e = appendUint(e, ErrorStack)
	e = appendArrayLen(e, 1)
	if rawFields != nil {
		e = appendMapLen(e, 7)
	} else {
		e = appendMapLen(e, 6)
	}
	e = appendStr(appendUint(e, ErrorType), errorTypeName)
	e = appendStr(appendUint(e, ErrorFile), errorFileName)
	e = appendUint(appendUint(e, ErrorLine), errorLineNo)
	e = appendStr(appendUint(e, ErrorMessage), message)
	e = appendUint(appendUint(e, ErrorErrno), 0)
	e = appendUint(appendUint(e, ErrorCode), uint64(code))
	if rawFields != nil {
		e = append(appendUint(e, ErrorFields), rawFields...)
	}
	return reply(TypeErrorFlag|uint64(code)&typeCodeMask, sync, schemaVersion,
		field{KeyError24, appendStr(nil, message)},
		field{KeyError, e})
}

// Column is one column of an SQL result's METADATA.
type Column struct {
	Name string
	Type string // e.g. "integer", "string", "any"
}

// EncodeSQLResult is EXECUTE's reply to a query: {METADATA: [{0: name,
// 1: type}, ...], DATA: rows}, rows an array of arrays as for EncodeData.
func EncodeSQLResult(sync, schemaVersion uint64, metadata []Column, rows any) []byte {
	raw, err := marshalArray(rows)
	if err != nil {
		return encodeFailure(sync, schemaVersion, err)
	}
	m := appendArrayLen(nil, len(metadata))
	for _, c := range metadata {
		m = appendMapLen(m, 2)
		m = appendStr(appendUint(m, FieldName), c.Name)
		m = appendStr(appendUint(m, FieldType), c.Type)
	}
	return reply(TypeOK, sync, schemaVersion, field{KeyMetadata, m}, field{KeyData, raw})
}

// EncodePrepared is PREPARE's reply: {STMT_ID: id, BIND_COUNT: n,
// BIND_METADATA: [{0: "?", 1: "ANY"} x n], METADATA: metadata} (metadata
// may be empty: the columns come with each EXECUTE's reply).
func EncodePrepared(sync, schemaVersion, stmtID uint64, bindCount int, metadata []Column) []byte {
	binds := appendArrayLen(nil, bindCount)
	for range bindCount {
		binds = appendMapLen(binds, 2)
		binds = appendStr(appendUint(binds, FieldName), "?")
		binds = appendStr(appendUint(binds, FieldType), "ANY")
	}
	m := appendArrayLen(nil, len(metadata))
	for _, c := range metadata {
		m = appendMapLen(m, 2)
		m = appendStr(appendUint(m, FieldName), c.Name)
		m = appendStr(appendUint(m, FieldType), c.Type)
	}
	return reply(TypeOK, sync, schemaVersion, field{KeyStmtID, appendUint(nil, stmtID)},
		field{KeyBindCount, appendUint(nil, uint64(bindCount))}, field{KeyBindMetadata, binds}, field{KeyMetadata, m})
}

// EncodeSQLInfo is EXECUTE's reply to DML: {SQL_INFO: {0: rowCount}}.
func EncodeSQLInfo(sync, schemaVersion uint64, rowCount uint64) []byte {
	info := appendUint(appendUint(appendMapLen(nil, 1), SQLInfoRowCount), rowCount)
	return reply(TypeOK, sync, schemaVersion, field{KeySQLInfo, info})
}

// EncodeIDReply is the reply to ID: {VERSION: version, FEATURES: features,
// AUTH_TYPE: "chap-sha1"}. Advertise FeatureWatchers only if WATCH works.
func EncodeIDReply(sync, schemaVersion, version uint64, features []uint64) []byte {
	return reply(TypeOK, sync, schemaVersion,
		field{KeyVersion, appendUint(nil, version)},
		field{KeyFeatures, appendUintArray(nil, features)},
		field{KeyAuthType, appendStr(nil, AuthChapSha1)})
}

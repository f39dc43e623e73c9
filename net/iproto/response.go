package iproto

import (
	"strconv"

	"github.com/picogo/picogo/net"
	"github.com/vmihailenco/msgpack/v5"
)

// Error is an error reply's code and message.
type Error = net.Error

// Response is a decoded server reply. Data and Body alias the packet.
type Response struct {
	// Type is the raw REQUEST_TYPE: TypeOK, TypeErrorFlag|code, or a push
	// (TypeChunk, TypeEvent).
	Type          uint64
	Sync          uint64
	SchemaVersion uint64
	// Code is 0 for a success, the error code of an error reply. Test Err,
	// not Code: ER_UNKNOWN is 0 too.
	Code uint32
	// Data is the raw DATA value (an array), nil when the body has none.
	Data msgpack.RawMessage
	// Err is set for an error reply: the code and message of the first
	// entry of ERROR (0x52) if it has a message, else the header's code
	// and ERROR_24 (0x31), else "error <code>".
	Err  *Error
	Body Body
}

// DecodeResponse decodes a reply packet as ReadFrame returns it. Errors are
// *DecodeError (wrapping ErrMalformed); the returned Response still carries
// the header when it could be read, so that the caller knows whose reply
// was garbled.
func DecodeResponse(packet []byte) (Response, error) {
	h, body, err := decodePacket(packet)
	resp := Response{Type: h.typ, Sync: h.sync, SchemaVersion: h.schema}
	if err != nil {
		return resp, err
	}
	resp.Body = body
	resp.Data, _ = body.Get(KeyData)
	if h.typ&TypeErrorFlag != 0 {
		resp.Code = uint32(h.typ & typeCodeMask)
		resp.Err = replyError(resp.Code, body)
		resp.Code = resp.Err.Code
	}
	return resp, nil
}

// replyError builds the error of an error reply, preferring the MP_ERROR
// stack and falling back to ERROR_24 (and to a generic message).
func replyError(code uint32, body Body) *Error {
	e := &Error{Code: code}
	stack, _ := body.Get(KeyError)
	if c, msg, fields, ok := stackTop(stack); ok {
		if c != nil {
			e.Code = *c
		}
		e.Message, e.Fields = msg, fields
		return e
	}
	msg24, _ := body.Get(KeyError24)
	if msg, _, err := readStr(msg24); err == nil {
		e.Message = msg
		return e
	}
	e.Message = "error " + strconv.FormatUint(uint64(e.Code), 10)
	return e
}

// stackTop reads the code (if present and sane) and message of the first
// error of an MP_ERROR map; ok is false when there is no usable message.
func stackTop(raw []byte) (code *uint32, msg string, fields map[string]any, ok bool) {
	n, b, err := readMapLen(raw)
	if err != nil {
		return nil, "", nil, false
	}
	for i := uint64(0); i < n; i++ {
		var key uint64
		if key, b, err = readUint(b); err != nil {
			return nil, "", nil, false
		}
		if key != ErrorStack {
			if b, err = skipValue(b); err != nil {
				return nil, "", nil, false
			}
			continue
		}
		count, entry, err := readArrayLen(b)
		if err != nil || count == 0 {
			return nil, "", nil, false
		}
		return errorEntry(entry)
	}
	return nil, "", nil, false
}

// errorEntry reads the code, message and fields of one MP_ERROR entry.
// Fields that do not decode as a string-keyed map are ignored.
func errorEntry(b []byte) (code *uint32, msg string, fields map[string]any, ok bool) {
	n, b, err := readMapLen(b)
	if err != nil {
		return nil, "", nil, false
	}
	for i := uint64(0); i < n; i++ {
		var key uint64
		if key, b, err = readUint(b); err != nil {
			return nil, "", nil, false
		}
		switch key {
		case ErrorMessage:
			if msg, b, err = readStr(b); err != nil {
				return nil, "", nil, false
			}
			ok = true
		case ErrorCode:
			var v uint64
			if v, b, err = readUint(b); err != nil {
				return nil, "", nil, false
			}
			if v <= 1<<32-1 {
				c := uint32(v)
				code = &c
			}
		case ErrorFields:
			rest, err := skipValue(b)
			if err != nil {
				return nil, "", nil, false
			}
			raw := b[:len(b)-len(rest)]
			// A claimed length beyond the bytes present never reaches the
			// library (it may size the map by the claim).
			if n, _, err := readMapLen(raw); err == nil && n <= uint64(len(raw)) {
				var f map[string]any
				if msgpack.Unmarshal(raw, &f) == nil {
					fields = f
				}
			}
			b = rest
		default:
			if b, err = skipValue(b); err != nil {
				return nil, "", nil, false
			}
		}
	}
	return code, msg, fields, ok
}

// Metadata is an SQL query reply's METADATA (name and type of each column).
func (r Response) Metadata() ([]Column, error) {
	raw, err := bodyArray(r.Body, KeyMetadata, nil)
	if err != nil {
		return nil, err
	}
	n, b, _ := readArrayLen(raw)
	var cols []Column
	for i := uint64(0); i < n; i++ {
		var entry Body
		if entry, b, err = readBody(b); err != nil {
			return nil, badField(KeyMetadata, "an array of maps")
		}
		var c Column
		if c.Name, err = bodyStr(entry, FieldName); err != nil {
			return nil, badField(KeyMetadata, "an array of {0: name, 1: type}")
		}
		if c.Type, err = bodyStr(entry, FieldType); err != nil {
			return nil, badField(KeyMetadata, "an array of {0: name, 1: type}")
		}
		cols = append(cols, c)
	}
	return cols, nil
}

// RowCount is an SQL DML reply's SQL_INFO row count.
func (r Response) RowCount() (uint64, error) {
	raw, ok := r.Body.Get(KeySQLInfo)
	if !ok {
		return 0, missing(KeySQLInfo)
	}
	info, _, err := readBody(raw)
	if err != nil {
		return 0, badField(KeySQLInfo, "a map")
	}
	n, err := bodyUint(info, SQLInfoRowCount, 0)
	if err != nil {
		return 0, badField(KeySQLInfo, "{0: row_count}")
	}
	return n, nil
}

// IDVersion is an ID reply's VERSION, 0 when absent.
func (r Response) IDVersion() (uint64, error) { return bodyUint(r.Body, KeyVersion, 0) }

// IDFeatures is an ID reply's FEATURES, empty when absent.
func (r Response) IDFeatures() ([]uint64, error) { return bodyUintArray(r.Body, KeyFeatures) }

// IDAuthType is an ID reply's AUTH_TYPE, "" when absent.
func (r Response) IDAuthType() (string, error) {
	if _, ok := r.Body.Get(KeyAuthType); !ok {
		return "", nil
	}
	return bodyStr(r.Body, KeyAuthType)
}

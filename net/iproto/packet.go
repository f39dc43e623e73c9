package iproto

import (
	"github.com/vmihailenco/msgpack/v5"
)

// header is what the codec reads from a packet's header map.
type header struct {
	typ, sync, schema, stream uint64
}

// decodePacket splits a packet (a frame without its length prefix) into its
// header and its body: a map of body keys to their raw values, aliasing
// packet, or nil when the packet has no body. Unknown keys are kept in the
// body and skipped in the header. On error the header holds what could be
// read, all of it on a body error, so that the sync is known.
func decodePacket(packet []byte) (header, map[uint64]msgpack.RawMessage, error) {
	var h header
	n, b, err := readMapLen(packet)
	if err != nil {
		return h, nil, malformed("packet header", err)
	}
	for i := uint64(0); i < n; i++ {
		var key uint64
		if key, b, err = readUint(b); err != nil {
			return h, nil, malformed("packet header", err)
		}
		var dst *uint64
		switch key {
		case KeyRequestType:
			dst = &h.typ
		case KeySync:
			dst = &h.sync
		case KeySchemaVersion:
			dst = &h.schema
		case KeyStreamID:
			dst = &h.stream
		}
		if dst == nil {
			b, err = skipValue(b)
		} else {
			*dst, b, err = readUint(b)
		}
		if err != nil {
			return h, nil, malformed("packet header", err)
		}
	}
	if len(b) == 0 {
		return h, nil, nil
	}
	body, rest, err := readUintMap(b)
	if err != nil {
		return h, nil, malformed("packet body", err)
	}
	if len(rest) != 0 {
		return h, nil, malformed("packet body", errTrailing)
	}
	return h, body, nil
}

// Typed reads of body values. Optional keys yield a default when absent;
// mandatory ones a missing-field error.

func bodyUint(body map[uint64]msgpack.RawMessage, key uint64, def uint64) (uint64, error) {
	raw, ok := body[key]
	if !ok {
		return def, nil
	}
	v, _, err := readUint(raw)
	if err != nil {
		return 0, badField(key, "an unsigned integer")
	}
	return v, nil
}

func bodyUintRequired(body map[uint64]msgpack.RawMessage, key uint64) (uint64, error) {
	if _, ok := body[key]; !ok {
		return 0, missing(key)
	}
	return bodyUint(body, key, 0)
}

func bodyStr(body map[uint64]msgpack.RawMessage, key uint64) (string, error) {
	raw, ok := body[key]
	if !ok {
		return "", missing(key)
	}
	s, _, err := readStr(raw)
	if err != nil {
		return "", badField(key, "a string")
	}
	return s, nil
}

// bodyArray is the raw array under key; def when absent (nil def: missing).
func bodyArray(body map[uint64]msgpack.RawMessage, key uint64, def []byte) (msgpack.RawMessage, error) {
	raw, ok := body[key]
	if !ok {
		if def == nil {
			return nil, missing(key)
		}
		return def, nil
	}
	if kindOf(raw) != kindArray {
		return nil, badField(key, "an array")
	}
	return raw, nil
}

// bodyUintArray reads an array of unsigned integers; absent is empty.
func bodyUintArray(body map[uint64]msgpack.RawMessage, key uint64) ([]uint64, error) {
	raw, ok := body[key]
	if !ok {
		return nil, nil
	}
	n, b, err := readArrayLen(raw)
	if err != nil {
		return nil, badField(key, "an array of unsigned integers")
	}
	var out []uint64
	for i := uint64(0); i < n; i++ {
		var v uint64
		if v, b, err = readUint(b); err != nil {
			return nil, badField(key, "an array of unsigned integers")
		}
		out = append(out, v)
	}
	return out, nil
}

// readUintMap reads a map with unsigned integer keys, its values raw.
func readUintMap(b []byte) (map[uint64]msgpack.RawMessage, []byte, error) {
	n, b, err := readMapLen(b)
	if err != nil {
		return nil, nil, err
	}
	m := make(map[uint64]msgpack.RawMessage, min(n, 8))
	for i := uint64(0); i < n; i++ {
		var key uint64
		if key, b, err = readUint(b); err != nil {
			return nil, nil, err
		}
		var raw []byte
		if raw, b, err = readValue(b); err != nil {
			return nil, nil, err
		}
		m[key] = raw
	}
	return m, b, nil
}

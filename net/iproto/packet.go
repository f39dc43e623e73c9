package iproto

import (
	"github.com/vmihailenco/msgpack/v5"
)

// header is what the codec reads from a packet's header map.
type header struct {
	typ, sync, schema, stream uint64
}

// decodePacket splits a packet (a frame without its length prefix) into its
// header and its body, checked and aliasing packet, or nil when the packet
// has no body. Unknown keys are kept in the
// body and skipped in the header. On error the header holds what could be
// read, all of it on a body error, so that the sync is known.
func decodePacket(packet []byte) (header, Body, error) {
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
	body, rest, err := readBody(b)
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

func bodyUint(body Body, key uint64, def uint64) (uint64, error) {
	raw, ok := body.Get(key)
	if !ok {
		return def, nil
	}
	v, _, err := readUint(raw)
	if err != nil {
		return 0, badField(key, "an unsigned integer")
	}
	return v, nil
}

func bodyUintRequired(body Body, key uint64) (uint64, error) {
	if _, ok := body.Get(key); !ok {
		return 0, missing(key)
	}
	return bodyUint(body, key, 0)
}

func bodyStr(body Body, key uint64) (string, error) {
	raw, ok := body.Get(key)
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
func bodyArray(body Body, key uint64, def []byte) (msgpack.RawMessage, error) {
	raw, ok := body.Get(key)
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
func bodyUintArray(body Body, key uint64) ([]uint64, error) {
	raw, ok := body.Get(key)
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

// Body is a packet's body map (or a nested map of the same kind, as
// SQL_INFO): unsigned integer keys, values read by key (Get) without
// decoding the rest — no map is built for a packet. Bodies come from
// readBody, which checked every key and value. A key that appears twice
// has its last value, as a decoded map would keep.
type Body []byte

// Get is key's raw value (aliasing the packet). A Body is exactly one
// checked map, so the last value runs to its end: Get never walks over it,
// and a CALL's FUNCTION_NAME and TUPLE (in that order, as clients send
// them) are each found without walking the arguments, which were a few
// percent of a server's and the simulator's CPU.
func (b Body) Get(key uint64) (msgpack.RawMessage, bool) {
	n, rest, err := readMapLen(b)
	if err != nil {
		return nil, false
	}
	var val []byte
	found := false
	for i := uint64(0); i < n; i++ {
		var k uint64
		if k, rest, err = readUint(rest); err != nil {
			return nil, false
		}
		if i == n-1 {
			if k == key {
				return rest, true
			}
			break
		}
		var raw []byte
		if raw, rest, err = readValue(rest); err != nil {
			return nil, false
		}
		if k == key {
			val, found = raw, true
		}
	}
	return val, found
}

// readBody reads a map with unsigned integer keys, checking every key and
// value.
func readBody(b []byte) (Body, []byte, error) {
	n, rest, err := readMapLen(b)
	if err != nil {
		return nil, nil, err
	}
	for i := uint64(0); i < n; i++ {
		if _, rest, err = readUint(rest); err != nil {
			return nil, nil, err
		}
		if rest, err = skipValue(rest); err != nil {
			return nil, nil, err
		}
	}
	return Body(b[:len(b)-len(rest)]), rest, nil
}

package tcp

import (
	"errors"

	"github.com/picogo/picogo/net/iproto"
)

// A light reader of packet headers: the REQUEST_TYPE and SYNC that routing
// and response matching need, without decoding (or validating) the body,
// with the codec's readers (bounds-checked, never allocating, integers of
// any width as long as they are not negative).

// header is what routing needs from a packet.
type header struct {
	typ, sync uint64
}

// readHeader reads the header map at the start of packet; what follows it
// (the body) is not looked at. A missing SYNC or REQUEST_TYPE is 0.
func readHeader(packet []byte) (header, error) {
	var h header
	n, b, err := iproto.ReadMapLen(packet)
	if err != nil {
		return h, err
	}
	for i := uint64(0); i < n; i++ {
		var key uint64
		if key, b, err = iproto.ReadUint(b); err != nil {
			return h, err
		}
		switch key {
		case iproto.KeyRequestType:
			h.typ, b, err = iproto.ReadUint(b)
		case iproto.KeySync:
			h.sync, b, err = iproto.ReadUint(b)
		default:
			b, err = iproto.SkipValue(b) // the codec's own: iterative, any depth
		}
		if err != nil {
			return h, err
		}
	}
	return h, nil
}

// frameHeader reads the header of a whole frame (length prefix included),
// as callers hand it to Pool.Roundtrip. The prefix must match the length.
func frameHeader(frame []byte) (header, error) {
	size, packet, err := iproto.ReadUint(frame)
	if err != nil {
		return header{}, err
	}
	if size != uint64(len(packet)) {
		return header{}, errors.New("frame length prefix does not match its size")
	}
	return readHeader(packet)
}

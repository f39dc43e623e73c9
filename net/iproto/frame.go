package iproto

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"math"
)

// DefaultMaxFrameSize is the frame limit ReadFrame applies when given a
// maxSize <= 0.
const DefaultMaxFrameSize = 64 << 20

// ReadFrame reads one packet from r: a msgpack unsigned integer of any width
// (clients write 0xce and four bytes), then exactly that many bytes, which it
// returns (header map and optional body map, for DecodeRequest or
// DecodeResponse).
//
// It returns io.EOF if r ends cleanly before a frame starts,
// io.ErrUnexpectedEOF if it ends inside one, an error wrapping ErrMalformed if
// the prefix is not a non-negative integer, and *FrameTooLargeError if the
// prefix exceeds maxSize (DefaultMaxFrameSize when maxSize <= 0); then
// nothing past the prefix has been read or allocated.
func ReadFrame(r io.Reader, maxSize int) ([]byte, error) {
	if maxSize <= 0 {
		maxSize = DefaultMaxFrameSize
	}
	var prefix [9]byte
	if _, err := io.ReadFull(r, prefix[:1]); err != nil {
		return nil, err // io.EOF: a clean end between frames
	}
	var size uint64
	if c := prefix[0]; c <= 0x7f {
		size = uint64(c)
	} else {
		n, _, ok := intWidth(c)
		if !ok {
			return nil, malformed("packet length", errWrongType)
		}
		if _, err := io.ReadFull(r, prefix[1:1+n]); err != nil {
			return nil, unexpected(err)
		}
		v, _, err := readUint(prefix[:1+n])
		if err != nil {
			return nil, malformed("packet length", err)
		}
		size = v
	}
	if size > uint64(maxSize) {
		return nil, &FrameTooLargeError{Size: size, Max: maxSize}
	}
	packet := make([]byte, size)
	if _, err := io.ReadFull(r, packet); err != nil {
		return nil, unexpected(err)
	}
	return packet, nil
}

// PeekFrame is ReadFrame from a bufio.Reader, without a copy: a frame
// that fits in br's buffer is returned where it lies there, still unread —
// valid until br is read again; the caller discards n bytes once done with
// it. A bigger one is read into a new slice (n is then 0). Errors are
// ReadFrame's; after a *FrameTooLargeError the prefix has been read and
// nothing else.
func PeekFrame(br *bufio.Reader, maxSize int) (packet []byte, n int, err error) {
	if maxSize <= 0 {
		maxSize = DefaultMaxFrameSize
	}
	head, err := br.Peek(1)
	if err != nil {
		return nil, 0, err // io.EOF: a clean end between frames
	}
	prefix := 1
	if c := head[0]; c > 0x7f {
		w, _, ok := intWidth(c)
		if !ok {
			return nil, 0, malformed("packet length", errWrongType)
		}
		prefix += w
		if head, err = br.Peek(prefix); err != nil {
			return nil, 0, unexpected(err)
		}
	}
	size, _, err := readUint(head[:prefix])
	if err != nil {
		return nil, 0, malformed("packet length", err)
	}
	if size > uint64(maxSize) {
		_, _ = br.Discard(prefix) // peeked: it is there
		return nil, 0, &FrameTooLargeError{Size: size, Max: maxSize}
	}
	if n := prefix + int(size); n <= br.Size() {
		frame, err := br.Peek(n)
		if err != nil {
			return nil, 0, unexpected(err)
		}
		return frame[prefix:], n, nil
	}
	_, _ = br.Discard(prefix)
	packet = make([]byte, size)
	if _, err := io.ReadFull(br, packet); err != nil {
		return nil, 0, unexpected(err)
	}
	return packet, 0, nil
}

// FrameBuffered reports whether br holds a whole frame already, which
// PeekFrame returns without waiting (also if the prefix is malformed,
// which it reports at once).
func FrameBuffered(br *bufio.Reader) bool {
	have := br.Buffered()
	if have == 0 {
		return false
	}
	head, _ := br.Peek(min(have, 9)) // buffered: no wait
	prefix := 1
	if c := head[0]; c > 0x7f {
		w, _, ok := intWidth(c)
		if !ok {
			return true
		}
		prefix += w
		if have < prefix {
			return false
		}
	}
	size, _, err := readUint(head[:prefix])
	return err != nil || uint64(have-prefix) >= size
}

// unexpected turns an io.EOF inside a frame into io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// framePrefix is the room newFrame reserves for the length: 0xce and a
// uint32, the form every client and server writes.
const framePrefix = 5

// newFrame starts a frame: room for the length prefix, then the header map
// {k0: v0, k1: v1, ...} of unsigned integers.
func newFrame(kv ...uint64) []byte {
	b := make([]byte, framePrefix, 64)
	b = appendMapLen(b, len(kv)/2)
	for _, v := range kv {
		b = appendUint(b, v)
	}
	return b
}

// finishFrame writes the length prefix of a frame begun with newFrame.
func finishFrame(b []byte) []byte {
	n := len(b) - framePrefix
	if uint64(n) > math.MaxUint32 {
		// Larger than any peer accepts, but still well-formed.
		out := binary.BigEndian.AppendUint64([]byte{0xcf}, uint64(n))
		return append(out, b[framePrefix:]...)
	}
	b[0] = 0xce
	binary.BigEndian.PutUint32(b[1:framePrefix], uint32(n))
	return b
}

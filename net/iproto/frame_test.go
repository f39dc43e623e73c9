package iproto

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadFrameEveryWidth(t *testing.T) {
	payload := []byte("0123456789")
	for _, w := range widths {
		prefix, ok := encodeWidth(uint64(len(payload)), w)
		require.True(t, ok)
		r := bytes.NewReader(cat(prefix, payload, "next"))
		got, err := ReadFrame(r, 100)
		require.NoError(t, err, "width %#x", w)
		assert.Equal(t, payload, got)
		assert.Equal(t, 4, r.Len(), "read exactly one frame")
	}
}

func TestReadFramePipelined(t *testing.T) {
	stream := cat(observedAuth, observedSelect, observedPing, observedCall)
	r := bytes.NewReader(stream)
	var syncs []uint64
	for {
		p, err := ReadFrame(r, 1024)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		req, err := DecodeRequest(p)
		require.NoError(t, err)
		syncs = append(syncs, req.Sync)
	}
	assert.Equal(t, []uint64{1, 2, 5, 6}, syncs)
}

func TestReadFrameEmptyFrame(t *testing.T) {
	got, err := ReadFrame(bytes.NewReader([]byte{0x00}), 10)
	require.NoError(t, err)
	assert.Empty(t, got)
	_, err = DecodeRequest(got)
	assert.ErrorIs(t, err, ErrMalformed)
}

func TestReadFrameMaxSize(t *testing.T) {
	// Exactly the limit is fine.
	got, err := ReadFrame(bytes.NewReader(cat(hx("05"), "abcde")), 5)
	require.NoError(t, err)
	assert.Equal(t, []byte("abcde"), got)

	// One over is refused without reading on.
	r := bytes.NewReader(cat(hx("ce00000006"), "abcdef"))
	_, err = ReadFrame(r, 5)
	var tooLarge *FrameTooLargeError
	require.ErrorAs(t, err, &tooLarge)
	assert.Equal(t, uint64(6), tooLarge.Size)
	assert.Equal(t, 5, tooLarge.Max)
	assert.Equal(t, 6, r.Len(), "payload left unread")

	// A huge claim does not allocate.
	_, err = ReadFrame(bytes.NewReader(hx("cfffffffffffffffff")), 1<<20)
	require.ErrorAs(t, err, &tooLarge)
	assert.Equal(t, uint64(1<<64-1), tooLarge.Size)

	// maxSize <= 0 is DefaultMaxFrameSize.
	_, err = ReadFrame(bytes.NewReader(hx("ce04000001")), 0)
	require.ErrorAs(t, err, &tooLarge)
	assert.Equal(t, DefaultMaxFrameSize, tooLarge.Max)
	_, err = ReadFrame(bytes.NewReader(hx("ce04000000")), -1)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "at the default limit: allowed, then truncated")
}

func TestReadFrameErrors(t *testing.T) {
	for name, c := range map[string]struct {
		in   []byte
		want error
	}{
		"empty":             {nil, io.EOF},
		"truncated prefix":  {hx("ce0000"), io.ErrUnexpectedEOF},
		"prefix only":       {hx("cd00"), io.ErrUnexpectedEOF},
		"truncated payload": {cat(hx("05"), "abc"), io.ErrUnexpectedEOF},
		"missing payload":   {hx("ce00000005"), io.ErrUnexpectedEOF},
		"negative fixint":   {hx("ff"), ErrMalformed},
		"negative int8":     {hx("d0ff"), ErrMalformed},
		"negative int64":    {hx("d3ffffffffffffffff"), ErrMalformed},
		"map prefix":        {hx("80"), ErrMalformed},
		"str prefix":        {hx("a1 61"), ErrMalformed},
		"reserved byte":     {hx("c1"), ErrMalformed},
		"float prefix":      {hx("ca00000000"), ErrMalformed},
		"nil prefix":        {hx("c0"), ErrMalformed},
	} {
		_, err := ReadFrame(bytes.NewReader(c.in), 100)
		assert.ErrorIs(t, err, c.want, name)
	}
}

// failingReader returns its error after its bytes.
type failingReader struct {
	b   []byte
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.b) == 0 {
		return 0, f.err
	}
	n := copy(p, f.b)
	f.b = f.b[n:]
	return n, nil
}

func TestReadFramePassesReaderErrors(t *testing.T) {
	boom := errors.New("boom")
	_, err := ReadFrame(&failingReader{hx("ce0000"), boom}, 100)
	assert.ErrorIs(t, err, boom)
	_, err = ReadFrame(&failingReader{hx("03 01"), boom}, 100)
	assert.ErrorIs(t, err, boom)
	_, err = ReadFrame(&failingReader{nil, boom}, 100)
	assert.ErrorIs(t, err, boom)
}

// readAll reads frames until an error with read, returning copies of the
// packets, the error and what the reader left.
func readAll(read func() ([]byte, error)) ([][]byte, error) {
	var out [][]byte
	for {
		p, err := read()
		if err != nil {
			return out, err
		}
		out = append(out, append([]byte{}, p...))
	}
}

// TestPeekFrameIsReadFrame: PeekFrame reads what ReadFrame reads, frames
// in the buffer or bigger than it, and fails where it fails.
func TestPeekFrameIsReadFrame(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 300)
	inputs := map[string][]byte{
		"pipelined":   cat(observedAuth, observedSelect, observedPing, observedCall),
		"empty":       nil,
		"big frames":  cat(hx("cd012c"), big, observedPing, hx("cd012c"), big, observedCall),
		"too large":   cat(observedPing, hx("ce00001000"), "abcdef"),
		"truncated":   cat(observedPing, hx("ce00000005"), "abc"),
		"bad prefix":  cat(observedPing, hx("a1 61")),
		"empty frame": {0x00},
	}
	for _, w := range widths {
		prefix, ok := encodeWidth(10, w)
		require.True(t, ok)
		inputs[fmt.Sprintf("width %#x", w)] = cat(prefix, "0123456789", prefix, "abcdefghij")
	}
	for name, in := range inputs {
		r := bytes.NewReader(in)
		want, wantErr := readAll(func() ([]byte, error) { return ReadFrame(r, 1024) })
		for _, size := range []int{16, 64, 4096} { // 16: bufio's least
			br := bufio.NewReaderSize(bytes.NewReader(in), size)
			n := 0
			got, err := readAll(func() ([]byte, error) {
				_, _ = br.Discard(n)
				p, m, err := PeekFrame(br, 1024)
				n = m
				return p, err
			})
			assert.Equal(t, want, got, "%s, buffer %d", name, size)
			assert.Equal(t, fmt.Sprint(wantErr), fmt.Sprint(err), "%s, buffer %d", name, size)
		}
	}
}

func TestPeekFrameLeavesOversizedPayload(t *testing.T) {
	br := bufio.NewReader(bytes.NewReader(cat(hx("ce00000006"), "abcdef")))
	_, _, err := PeekFrame(br, 5)
	var tooLarge *FrameTooLargeError
	require.ErrorAs(t, err, &tooLarge)
	rest, _ := io.ReadAll(br)
	assert.Equal(t, []byte("abcdef"), rest, "the prefix read, nothing else")
}

func TestPeekFrameInPlace(t *testing.T) {
	in := cat(observedPing, observedCall)
	br := bufio.NewReader(bytes.NewReader(in))
	p, n, err := PeekFrame(br, 0)
	require.NoError(t, err)
	assert.Equal(t, len(observedPing), n)
	assert.Equal(t, observedPing[5:], p)
	assert.Equal(t, len(in), br.Buffered(), "peeked, not read")
	rd := bytes.NewReader(in)
	allocs := testing.AllocsPerRun(100, func() {
		rd.Reset(in)
		br.Reset(rd)
		_, _, _ = PeekFrame(br, 0)
	})
	assert.Zero(t, allocs)
}

func TestFrameBuffered(t *testing.T) {
	for _, c := range []struct {
		in   []byte
		want bool
	}{
		{nil, false},
		{observedPing, true},
		{observedPing[:len(observedPing)-1], false},
		{hx("ce00"), false},             // the prefix incomplete
		{hx("ce00000002 01"), false},    // the payload incomplete
		{hx("ce00000002 0102"), true},   // exactly
		{hx("02 0102 03"), true},        // a fixint prefix, more after
		{hx("a1 61"), true},             // malformed: PeekFrame says so at once
		{hx("cf00000000000000"), false}, // 8 bytes of a 9-byte prefix
	} {
		br := bufio.NewReader(bytes.NewReader(c.in))
		_, _ = br.Peek(len(c.in)) // buffer it all
		assert.Equal(t, c.want, FrameBuffered(br), "%x", c.in)
	}
}

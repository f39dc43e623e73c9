package iproto

import (
	"bytes"
	"errors"
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

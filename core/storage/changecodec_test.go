package storage

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/tuple"
)

func TestChangeCodecRoundTrip(t *testing.T) {
	// A tuple in a non-canonical encoding (1 as a uint32, an array16
	// header): its bytes must survive as they are.
	odd, err := tuple.New([]byte{0xdc, 0x00, 0x02, 0xce, 0x00, 0x00, 0x00, 0x01, 0xa1, 'a'})
	require.NoError(t, err)
	rich := tup(uint64(1<<64-1), -5, 2.5, "s", []byte{0, 1}, nil, true, tuple.MustDecimal("-12.345"),
		uuid.MustParse("00000000-0000-0000-0000-00000000000a"), tuple.Datetime{Epoch: -1, Nsec: 9, TzOffset: -180},
		[]any{1, []any{}}, map[string]any{"b": 1, "a": nil})
	empty, err := tuple.New([]byte{0x90})
	require.NoError(t, err)
	for _, c := range []Change{
		{},
		{Table: 1},
		{Table: 1<<32 - 1, New: odd},
		{Table: 5, Old: odd},
		{Table: 300, Old: odd, New: rich},
		{Table: 70000, Old: rich, New: empty},
		{Table: 2, New: empty},
	} {
		b := EncodeChange(c)
		require.Equal(t, b, EncodeChange(c), "deterministic")
		got, err := DecodeChange(b)
		require.NoError(t, err)
		require.Equal(t, c.Table, got.Table)
		require.Equal(t, c.Old.Raw(), got.Old.Raw())
		require.Equal(t, c.New.Raw(), got.New.Raw())
		require.Equal(t, c.Old.Values(), got.Old.Values())
		require.Equal(t, c.New.Values(), got.New.Values())
		require.Equal(t, c.Empty(), got.Empty())
		require.Equal(t, b, EncodeChange(got))
		// The decoded tuples do not alias the input.
		for i := range b {
			b[i] = 0
		}
		require.Equal(t, c.Old.Raw(), got.Old.Raw())
		require.Equal(t, c.New.Raw(), got.New.Raw())
	}
	// The encoding is compact: an array, the table id, the raw tuples.
	require.Equal(t, []byte{0x93, 0x07, 0xc0, 0x90}, EncodeChange(Change{Table: 7, New: empty}))
	require.Equal(t, []byte{0x93, 0x00, 0xc0, 0xc0}, EncodeChange(Change{}))
	require.Equal(t, append([]byte{0x93, 0xcd, 0x01, 0x2c}, append(odd.Raw(), 0xc0)...),
		EncodeChange(Change{Table: 300, Old: odd}))
}

func TestChangeCodecFromEngine(t *testing.T) {
	e := testEngine(t)
	replica := testEngine(t)
	for _, op := range []Op{
		{Kind: OpInsert, Table: tID, Tuple: []any{1, "a", "x", tuple.MustDecimal("1.5")}},
		{Kind: OpInsert, Table: tID, Tuple: []any{2, "b"}},
		{Kind: OpReplace, Table: tID, Tuple: []any{2, "c", nil, 3}},
		{Kind: OpUpdate, Table: tID, Key: []any{1}, Ops: [][]any{{"+", "score", 1}}},
		{Kind: OpDelete, Table: tID, Key: []any{2}},
		{Kind: OpDelete, Table: tID, Key: []any{2}}, // an empty change
	} {
		c, _, err := e.Exec(op)
		require.Nil(t, err)
		got, derr := DecodeChange(EncodeChange(c))
		require.NoError(t, derr)
		require.Nil(t, replica.Apply(got))
	}
	require.Equal(t, e.Snapshot(), replica.Snapshot())
	got, err := replica.Select(tID, 0, nil, IterALL, 0, NoLimit)
	require.Nil(t, err)
	require.Equal(t, []string{`[1, "a", "x", 2.5]`}, rows(got))
}

func TestDecodeChangeErrors(t *testing.T) {
	good := EncodeChange(Change{Table: 3, Old: tup(1, "a"), New: tup(1, "b", []any{2})})
	for n := range len(good) {
		_, err := DecodeChange(good[:n])
		require.Error(t, err, "truncated to %d bytes", n)
	}
	for name, b := range map[string][]byte{
		"trailing":        append(append([]byte{}, good...), 0xc0),
		"not an array":    {0x81, 0xa1, 'a', 0x01},
		"two elements":    {0x92, 0x01, 0xc0},
		"four elements":   {0x94, 0x01, 0xc0, 0xc0, 0xc0},
		"negative table":  {0x93, 0xff, 0xc0, 0xc0},
		"table too big":   {0x93, 0xcf, 0, 0, 0, 1, 0, 0, 0, 0, 0xc0, 0xc0},
		"string table":    {0x93, 0xa1, '1', 0xc0, 0xc0},
		"tuple not array": {0x93, 0x01, 0x01, 0xc0},
		"new not array":   {0x93, 0x01, 0xc0, 0xa1, 'x'},
		"bad ext in new":  {0x93, 0x01, 0xc0, 0x91, 0xd4, 0x63, 0x00},
		"empty":           {},
	} {
		_, err := DecodeChange(b)
		require.Error(t, err, name)
	}
	// Random corruption never panics; what decodes re-encodes the same.
	for i := range len(good) {
		for _, x := range []byte{0x00, 0xff, 0xc0, 0x90, 0xdd, 0x7f} {
			b := append([]byte{}, good...)
			b[i] = x
			c, err := DecodeChange(b)
			if err == nil {
				require.Equal(t, b, EncodeChange(c))
			}
		}
	}
}

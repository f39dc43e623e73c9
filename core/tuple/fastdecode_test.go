package tuple

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"unsafe"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// randomValue builds a value of every kind Marshal encodes, nested.
func randomValue(r *rand.Rand, depth int) any {
	k := r.IntN(16)
	if depth > 3 && k >= 12 {
		k = r.IntN(12)
	}
	switch k {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return int64(r.IntN(256)) - 128
	case 3:
		return r.Uint64() >> r.IntN(64)
	case 4:
		return -int64(r.Uint64() >> (1 + r.IntN(63)))
	case 5:
		return r.Float64() * math.Pow(10, float64(r.IntN(40)-20))
	case 6:
		return float32(r.Float64())
	case 7:
		b := make([]byte, []int{0, 1, 31, 32, 300, 70000}[r.IntN(6)])
		for i := range b {
			b[i] = byte('a' + r.IntN(26))
		}
		return string(b)
	case 8:
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return b
	case 9:
		var u uuid.UUID
		for i := range u {
			u[i] = byte(r.IntN(256))
		}
		return u
	case 10:
		d, _ := ParseDecimal([]string{"0", "-1.25", "1E+3", "123456789.000000001"}[r.IntN(4)])
		return d
	case 11:
		return uint64(r.IntN(1 << 20))
	case 12, 13:
		n := []int{0, 1, 3, 15, 16, 70}[r.IntN(6)]
		a := make([]any, n)
		for i := range a {
			a[i] = randomValue(r, depth+1)
		}
		return a
	}
	n := []int{0, 1, 5, 16, 20}[r.IntN(5)]
	m := make(map[string]any, n)
	for i := range n {
		m[string(rune('a'+i%26))+string(rune('a'+i/26))] = randomValue(r, depth+1)
	}
	return m
}

// TestDecodeArrayFastIsDecodeAny: whatever the fast path decodes, it
// decodes to the same values, of the same Go types, as the msgpack.Decoder
// path; on damaged bytes it either agrees too or gives up (and the slow
// path decides).
func TestDecodeArrayFastIsDecodeAny(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	fast := 0
	for i := range 500 {
		n := r.IntN(8)
		vals := make([]any, n)
		for j := range vals {
			vals[j] = randomValue(r, 0)
		}
		raw := MustMarshal(vals)
		want, werr := decodeArraySlow(raw)
		require.Nil(t, werr, "case %d", i)
		got, ok := decodeArrayFast(raw, false)
		require.True(t, ok, "case %d: the fast path gave up on %x", i, raw)
		require.True(t, reflect.DeepEqual(want, got), "case %d: %#v, want %#v", i, got, want)
		aliased, ok := decodeArrayFast(raw, true)
		require.True(t, ok)
		require.True(t, reflect.DeepEqual(want, aliased), "case %d: aliased: %#v, want %#v", i, aliased, want)

		// Damaged: truncated, a byte changed, a byte appended.
		for _, bad := range [][]byte{raw[:r.IntN(len(raw))], flip(r, raw), append(append([]byte{}, raw...), 0)} {
			got, ok := decodeArrayFast(bad, false)
			want, werr := decodeArraySlow(bad)
			if !ok {
				continue
			}
			fast++
			require.Nil(t, werr, "case %d: the fast path decoded %x, which the slow one refuses: %v", i, bad, werr)
			require.True(t, reflect.DeepEqual(want, got), "case %d: %x: %#v, want %#v", i, bad, got, want)
		}
	}
	require.Positive(t, fast, "some damaged inputs still decode")
}

// TestNewSharesStrings: a tuple's strings are its raw bytes, not copies of
// them; DecodeArray's are copies (its input may be a buffer reused later).
func TestNewSharesStrings(t *testing.T) {
	raw := MustMarshal([]any{"key", uint64(7), "value"})
	tup, err := New(raw)
	require.NoError(t, err)
	s := tup.Field(2).(string)
	require.Equal(t, "value", s)
	require.Same(t, &raw[len(raw)-len(s)], unsafe.StringData(s))

	vals, e := DecodeArray(raw)
	require.Nil(t, e)
	require.NotSame(t, &raw[len(raw)-len(s)], unsafe.StringData(vals[2].(string)))
}

func flip(r *rand.Rand, raw []byte) []byte {
	b := append([]byte{}, raw...)
	b[r.IntN(len(b))] = byte(r.IntN(256))
	return b
}

func BenchmarkDecodeArray(b *testing.B) {
	raw := MustMarshal([]any{uint64(123456), uint64(1234), string(make([]byte, 100))})
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, ok := decodeArrayFast(raw, false); !ok {
				b.Fatal("gave up")
			}
		}
	})
	b.Run("msgpack", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := decodeArraySlow(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}

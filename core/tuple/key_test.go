package tuple

import (
	"bytes"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEncodeKeyOrder(t *testing.T) {
	// Strictly ascending in Tarantool's order.
	ascending := []any{
		nil,
		false, true,
		math.NaN(),
		math.Inf(-1),
		int64(math.MinInt64),
	}
	ascending = append(ascending,
		int64(math.MinInt64+1),
		-1e18,
		int32(-70000),
		-1.5,
		int8(-1),
		-0.5,
		uint8(0),
		math.SmallestNonzeroFloat64,
		0.5,
		int8(1),
		1.5,
		uint16(300),
		float32(300.25),
		int64(1<<53),
		uint64(1<<53+1), // not a float64
		float64(1<<53+2),
		uint64(1<<53+3),
		int64(math.MaxInt64-1),
		uint64(math.MaxInt64),
		float64(1<<63), // = MaxInt64+1
		uint64(1<<63+1),
		uint64(math.MaxUint64-1),
		uint64(math.MaxUint64),
		float64(1<<64),
		math.MaxFloat64,
		math.Inf(1),
		"",
		"\x00",
		"\x00\x00",
		"\x00\x01",
		"a",
		"a\x00",
		"a\x00b",
		"a\x01",
		"ab",
		"b",
		"\xff",
		[]byte{},
		[]byte{0},
		[]byte{1},
	)
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 20 {
		shuffled := slices.Clone(ascending)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		enc := func(v any) []byte { return key(t, v) }
		slices.SortFunc(shuffled, func(a, b any) int { return bytes.Compare(enc(a), enc(b)) })
		for i := range ascending {
			require.Equal(t, key(t, ascending[i]), key(t, shuffled[i]), "round %d position %d: %v", round, i, shuffled[i])
		}
	}
	for i := 1; i < len(ascending); i++ {
		require.Negative(t, bytes.Compare(key(t, ascending[i-1]), key(t, ascending[i])),
			"%v (%T) < %v (%T)", ascending[i-1], ascending[i-1], ascending[i], ascending[i])
	}
}

func TestEncodeKeyNumbersEqualAcrossTypes(t *testing.T) {
	for _, same := range [][]any{
		{int8(1), uint64(1), int64(1), 1.0, float32(1), 1},
		{int8(-3), int64(-3), -3.0},
		{uint8(0), 0.0, math.Copysign(0, -1)},
		{uint64(1 << 60), float64(1 << 60)},
	} {
		for _, v := range same[1:] {
			require.Equal(t, key(t, same[0]), key(t, v), "%v (%T) vs %v (%T)", same[0], same[0], v, v)
		}
	}
}

// Random numbers of every kind compare like their exact values.
func TestEncodeKeyNumbersRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	gen := func() any {
		base := []float64{0, 1 << 52, 1 << 53, 1 << 62, 1 << 63, 1 << 64}[rng.IntN(6)]
		switch rng.IntN(4) {
		case 0:
			return rng.Uint64()
		case 1:
			if base < 1<<63 {
				return int64(base) - int64(rng.IntN(5000)) + 2500
			}
			return -int64(rng.Uint64() >> 1)
		case 2:
			if base == 1<<64 {
				return uint64(math.MaxUint64) - uint64(rng.IntN(5000))
			}
			return uint64(base) + uint64(rng.IntN(5000))
		}
		f := base + float64(rng.IntN(5000))
		if rng.IntN(2) == 0 {
			f = -f
		}
		return f
	}
	exact := func(v any) *big.Float {
		n, ok := toNumber(v)
		require.True(t, ok)
		switch n.kind {
		case numUint:
			return new(big.Float).SetPrec(200).SetUint64(n.u)
		case numInt:
			return new(big.Float).SetPrec(200).SetInt64(n.i)
		}
		return new(big.Float).SetPrec(200).SetFloat64(n.f)
	}
	for range 20000 {
		a, b := gen(), gen()
		want := exact(a).Cmp(exact(b))
		got := bytes.Compare(key(t, a), key(t, b))
		require.Equal(t, want, got, "%v (%T) vs %v (%T)", a, a, b, b)
	}
}

func TestEncodeKeyMultiPart(t *testing.T) {
	ascending := [][]any{
		{"a", int64(-1)},
		{"a", 0},
		{"a", 1},
		{"a\x00", -5},
		{"ab", -100},
		{"b", nil},
		{"b", false},
		{"b", 0},
	}
	for i := 1; i < len(ascending); i++ {
		a, err := EncodeKey(ascending[i-1])
		require.NoError(t, err)
		b, err := EncodeKey(ascending[i])
		require.NoError(t, err)
		require.Negative(t, bytes.Compare(a, b), "%v < %v", ascending[i-1], ascending[i])
	}
}

func TestEncodeKeyRejectsNonScalars(t *testing.T) {
	for _, v := range []any{map[string]any{}, []any{1}, struct{}{}} {
		_, err := EncodeKey([]any{"x", v})
		require.Error(t, err, "%T", v)
	}
}

func key(t *testing.T, vals ...any) []byte {
	t.Helper()
	k, err := EncodeKey(vals)
	require.NoError(t, err)
	return k
}

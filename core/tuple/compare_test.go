package tuple

import (
	"bytes"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cockroachdb/apd/v3"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestExtensionEncoding(t *testing.T) {
	u := uuid.MustParse("64d22e4d-ac92-4a23-899a-e59f34af5479")
	cases := []struct {
		name string
		v    any
		hex  string // as Tarantool 2.6's msgpack.encode writes it
	}{
		{"decimal -12.34", MustDecimal("-12.34"), "d6010201234d"},
		{"decimal 0", MustDecimal("0"), "d501000c"},
		{"decimal -0", MustDecimal("-0"), "d501000d"},
		{"decimal 0.0", MustDecimal("0.0"), "d501010c"},
		{"decimal 1", MustDecimal("1"), "d501001c"},
		{"decimal 12", MustDecimal("12"), "c7030100012c"},
		{"decimal 100", MustDecimal("100"), "c7030100100c"},
		{"decimal 1.10", MustDecimal("1.10"), "c7030102110c"},
		{"decimal 1E+3", MustDecimal("1E+3"), "d501fd1c"},
		{"uuid", u, "d80264d22e4dac924a23899ae59f34af5479"},
		{"datetime seconds", Datetime{Epoch: 1}, "d7040100000000000000"},
		{"datetime full", Datetime{Epoch: -1, Nsec: 5, TzOffset: 180, TzIndex: 0},
			"d804ffffffffffffffff05000000b4000000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := MustMarshal(c.v)
			require.Equal(t, c.hex, hex.EncodeToString(b))
			back, err := decodeValue(b)
			require.NoError(t, err)
			require.Zero(t, Compare(c.v, back), "%v round-trips to %v", c.v, back)
			require.Equal(t, TypeName(c.v), TypeName(back))
			// Inside a tuple too, and formatted for messages.
			tup := FromValues([]any{1, c.v, []any{c.v}, map[string]any{"k": c.v}})
			require.Zero(t, Compare(c.v, tup.Field(1)))
			require.Zero(t, Compare(c.v, tup.Field(2).([]any)[0]))
			require.Zero(t, Compare(c.v, tup.Field(3).(map[string]any)["k"]))
			require.NotContains(t, tup.String(), "<")
		})
	}
	// A non-canonical positive sign nibble and leading zero digits decode.
	d, err := decodeValue([]byte{0xd6, 0x01, 0x01, 0x00, 0x12, 0x3f})
	require.NoError(t, err)
	require.Zero(t, Compare(MustDecimal("12.3"), d))
	// Tarantool has no NaN decimal; encoding one fails.
	_, err = Marshal([]any{&apd.Decimal{Form: apd.NaN}})
	require.Error(t, err)
	// An unknown extension is invalid msgpack.
	_, err = New([]byte{0x91, 0xd4, 0x07, 0x00})
	require.Error(t, err)
}

// ascendingValues are distinct values in strictly ascending Tarantool order.
func ascendingValues() []any {
	u1 := uuid.MustParse("00000000-0000-0000-0000-000000000001")
	u2 := uuid.MustParse("f0000000-0000-0000-0000-000000000000")
	return []any{
		nil,
		false, true,
		math.NaN(),
		math.Inf(-1),
		MustDecimal("-1E+400"),
		-math.MaxFloat64,
		MustDecimal("-9223372036854775809"),
		int64(math.MinInt64),
		MustDecimal("-9223372036854775807.5"),
		int64(math.MinInt64 + 1),
		-1e18,
		int32(-70000),
		-1.5,
		MustDecimal("-1.25"),
		int8(-1),
		-0.5,
		uint8(0),
		MustDecimal("1E-400"),
		math.SmallestNonzeroFloat64,
		MustDecimal("0.1"),
		0.1, // 0.1000000000000000055...
		MustDecimal("0.10000000000000001"),
		0.5,
		int8(1),
		MustDecimal("1.0000000000000000000000000000000000001"),
		1.5,
		uint16(300),
		float32(300.25),
		int64(1 << 53),
		uint64(1<<53 + 1), // not a float64
		float64(1<<53 + 2),
		uint64(1<<53 + 3),
		int64(math.MaxInt64 - 1),
		uint64(math.MaxInt64),
		MustDecimal("9223372036854775807.5"),
		float64(1 << 63), // = MaxInt64+1
		uint64(1<<63 + 1),
		uint64(math.MaxUint64 - 1),
		uint64(math.MaxUint64),
		MustDecimal("18446744073709551615.000001"),
		float64(1 << 64),
		MustDecimal("1E+300"),
		math.MaxFloat64,
		MustDecimal("1E+400"),
		math.Inf(1),
		"",
		"\x00",
		"\x00\x00",
		"\x00\x01",
		"00000000-0000-0000-0000-000000000001", // a uuid as text is a string
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
		u1, u2,
		Datetime{Epoch: -5, Nsec: 999999999},
		Datetime{Epoch: 0},
		Datetime{Epoch: 0, Nsec: 1},
		Datetime{Epoch: 1 << 40},
		[]any{},
		[]any{nil},
		[]any{int8(1)},
		[]any{int8(1), "a"},
		[]any{"a"},
		map[string]any{},
		map[string]any{"a": int8(1)},
	}
}

func TestCompareOrder(t *testing.T) {
	vals := ascendingValues()
	for i := range vals {
		for j := range vals {
			want := cmpInt(i, j)
			require.Equal(t, want, Compare(vals[i], vals[j]), "compare %v (%T) with %v (%T)", vals[i], vals[i], vals[j], vals[j])
		}
	}
	// Equal values of different kinds.
	equal := [][]any{
		{int8(1), uint64(1), int64(1), 1.0, float32(1), MustDecimal("1"), MustDecimal("1.000")},
		{0.0, math.Copysign(0, -1), uint8(0), MustDecimal("0"), MustDecimal("-0"), MustDecimal("0E+5")},
		{math.NaN(), float32(math.NaN())},
		{float64(1 << 63), uint64(1 << 63), MustDecimal("9223372036854775808")},
		{0.5, MustDecimal("0.5"), float32(0.5)},
		{Datetime{Epoch: 7, TzOffset: 180}, Datetime{Epoch: 7}},
	}
	for _, group := range equal {
		for _, a := range group {
			for _, b := range group {
				require.Zero(t, Compare(a, b), "%v (%T) == %v (%T)", a, a, b, b)
			}
		}
	}
}

func TestCompareIsTotal(t *testing.T) {
	// Random triples over the ascending values and random numbers: the
	// order is antisymmetric and transitive.
	rng := rand.New(rand.NewPCG(7, 8))
	pool := ascendingValues()
	for range 300 {
		switch rng.IntN(4) {
		case 0:
			pool = append(pool, rng.Int64()>>rng.IntN(64)*int64(1-2*rng.IntN(2)))
		case 1:
			pool = append(pool, rng.Uint64()>>rng.IntN(64))
		case 2:
			pool = append(pool, rng.NormFloat64()*math.Pow(10, float64(rng.IntN(40)-10)))
		default:
			d := apd.New(rng.Int64N(1e12)-5e11, int32(rng.IntN(30)-15))
			pool = append(pool, d)
		}
	}
	sorted := slices.Clone(pool)
	slices.SortStableFunc(sorted, Compare)
	for i := 1; i < len(sorted); i++ {
		require.LessOrEqual(t, Compare(sorted[i-1], sorted[i]), 0)
		require.GreaterOrEqual(t, Compare(sorted[i], sorted[i-1]), 0)
	}
	for range 20000 {
		a, b, c := pool[rng.IntN(len(pool))], pool[rng.IntN(len(pool))], pool[rng.IntN(len(pool))]
		require.Equal(t, Compare(a, b), -Compare(b, a))
		if Compare(a, b) <= 0 && Compare(b, c) <= 0 {
			require.LessOrEqual(t, Compare(a, c), 0, "%v <= %v <= %v", a, b, c)
		}
	}
}

// TestEncodeKeyAgreesWithCompare: the byte encoding the global tables key
// their rows by orders exactly as Compare does, over the values it encodes
// (everything but decimals, uuid and datetime values, arrays and maps).
func TestEncodeKeyAgreesWithCompare(t *testing.T) {
	var vals []any
	for _, v := range ascendingValues() {
		if _, err := EncodeKey([]any{v}); err == nil {
			vals = append(vals, v)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 500 {
		switch rng.IntN(3) {
		case 0:
			vals = append(vals, rng.Int64()>>rng.IntN(64)*int64(1-2*rng.IntN(2)))
		case 1:
			vals = append(vals, float64(rng.Int64()>>rng.IntN(64))+float64(rng.IntN(3))/2)
		default:
			b := make([]byte, rng.IntN(4))
			for i := range b {
				b[i] = byte(rng.IntN(3))
			}
			if rng.IntN(2) == 0 {
				vals = append(vals, string(b))
			} else {
				vals = append(vals, b)
			}
		}
	}
	for _, a := range vals {
		for _, b := range vals[:min(len(vals), 200)] {
			ka, err := EncodeKey([]any{a, b})
			require.NoError(t, err)
			kb, err := EncodeKey([]any{b, a})
			require.NoError(t, err)
			want := CompareValues([]any{a, b}, []any{b, a})
			require.Equal(t, want, bytes.Compare(ka, kb), "%v, %v", a, b)
		}
	}
}

func TestFieldTypes(t *testing.T) {
	u := uuid.New()
	dec := MustDecimal("1.5")
	dt := Datetime{Epoch: 1}
	cases := []struct {
		typ  FieldType
		good []any
		bad  []any
	}{
		{TypeUnsigned, []any{uint8(0), int64(5), uint64(math.MaxUint64)}, []any{int8(-1), 1.5, dec, "1"}},
		{TypeInteger, []any{int8(-1), uint64(math.MaxUint64)}, []any{1.0, dec, "1"}},
		{TypeDouble, []any{1.5, float32(2), int8(1)}, []any{dec, "1"}},
		{TypeNumber, []any{1.5, int8(1), dec}, []any{"1", true}},
		{TypeDecimal, []any{dec}, []any{1.5, int8(1), "1.5"}},
		{TypeString, []any{"", "x"}, []any{[]byte("x"), int8(1)}},
		{TypeBoolean, []any{true}, []any{int8(1)}},
		{TypeVarbinary, []any{[]byte{}}, []any{"x"}},
		{TypeUUID, []any{u, u.String()}, []any{"not-a-uuid", u[:]}},
		{TypeDatetime, []any{dt}, []any{int64(1)}},
		{TypeScalar, []any{true, int8(1), 1.5, dec, "s", []byte{1}, u, dt}, []any{[]any{}, map[string]any{}}},
		{TypeAny, []any{true, []any{}, map[string]any{}, dt}, nil},
		{TypeArray, []any{[]any{}}, []any{map[string]any{}}},
		{TypeMap, []any{map[string]any{}}, []any{[]any{}}},
	}
	for _, c := range cases {
		require.True(t, c.typ.Valid())
		for _, v := range c.good {
			require.True(t, c.typ.Matches(v), "%s accepts %v (%T)", c.typ, v, v)
		}
		for _, v := range c.bad {
			require.False(t, c.typ.Matches(v), "%s rejects %v (%T)", c.typ, v, v)
		}
	}
	require.False(t, FieldType("interval").Valid())
	require.False(t, TypeAny.Indexable())
	require.True(t, TypeScalar.Indexable())
}

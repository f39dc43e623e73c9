package tuple

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// then separates two updates in one test case: a field may change once
// per update.
var then = []any{"then"}

// update parses ops for a format with fields a, b, c and applies them to
// ["a", 1, {"x": 1}] (as two updates if then separates them).
func update(t *testing.T, ops ...[]any) (Tuple, *Error) {
	t.Helper()
	tup := FromValues([]any{"a", 1, map[string]any{"x": 1}})
	for len(ops) > 0 {
		n := len(ops)
		for i, o := range ops {
			if len(o) == 1 && o[0] == "then" {
				n = i
				break
			}
		}
		up, e := ParseUpdate(ops[:n], []string{"a", "b", "c"})
		if e != nil {
			return Tuple{}, e
		}
		if tup, e = up.Apply(tup); e != nil {
			return Tuple{}, e
		}
		ops = ops[min(n+1, len(ops)):]
	}
	return tup, nil
}

func TestUpdateOps(t *testing.T) {
	cases := []struct {
		name string
		ops  [][]any
		want []any
	}{
		{"set by position", [][]any{{"=", 2, "v"}}, []any{"a", int8(1), "v"}},
		{"set by name", [][]any{{"=", "c", []any{1, "x"}}}, []any{"a", int8(1), []any{int8(1), "x"}}},
		{"set map", [][]any{{"=", "c", map[string]any{"k": true}}}, []any{"a", int8(1), map[string]any{"k": true}}},
		{"set nil", [][]any{{"=", "c", nil}}, []any{"a", int8(1), nil}},
		{"set then add", [][]any{{"=", 2, 5}, then, {"+", 2, 3}}, []any{"a", int8(1), int8(8)}},
		{"sub to negative", [][]any{{"=", 2, 5}, then, {"-", 2, 7}}, []any{"a", int8(1), int8(-2)}},
		{"int plus float", [][]any{{"=", 2, 5}, then, {"+", 2, 0.5}}, []any{"a", int8(1), 5.5}},
		{"uint plus negative", [][]any{{"=", 2, uint64(math.MaxUint64)}, then, {"+", 2, int64(math.MinInt64)}}, []any{"a", int8(1), uint64(math.MaxInt64)}},
		{"big negative", [][]any{{"=", 2, int64(math.MinInt64 + 1)}, then, {"-", 2, 1}}, []any{"a", int8(1), int64(math.MinInt64)}},
		{"set to the same value", [][]any{{"=", "b", 1}}, []any{"a", int8(1), map[string]any{"x": int8(1)}}},
		{"no ops", nil, []any{"a", int8(1), map[string]any{"x": int8(1)}}},
		{"set one past the end appends", [][]any{{"=", 3, "z"}}, []any{"a", int8(1), map[string]any{"x": int8(1)}, "z"}},
		{"set the last field by -1", [][]any{{"=", -1, "z"}}, []any{"a", int8(1), "z"}},
		{"insert before", [][]any{{"!", 1, "z"}}, []any{"a", "z", int8(1), map[string]any{"x": int8(1)}}},
		{"insert at the end", [][]any{{"!", 3, "z"}}, []any{"a", int8(1), map[string]any{"x": int8(1)}, "z"}},
		{"insert -1 appends", [][]any{{"!", -1, "z"}}, []any{"a", int8(1), map[string]any{"x": int8(1)}, "z"}},
		{"delete one", [][]any{{"#", 1, 1}}, []any{"a", map[string]any{"x": int8(1)}}},
		{"delete past the end stops there", [][]any{{"#", 1, 10}}, []any{"a"}},
		{"delete from the end", [][]any{{"#", -1, 1}}, []any{"a", int8(1)}},
		{"and", [][]any{{"=", 1, 12}, then, {"&", 1, 10}}, []any{"a", int8(8), map[string]any{"x": int8(1)}}},
		{"or", [][]any{{"|", 1, 6}}, []any{"a", int8(7), map[string]any{"x": int8(1)}}},
		{"xor", [][]any{{"^", 1, 3}}, []any{"a", int8(2), map[string]any{"x": int8(1)}}},
		{"ops see the previous ones", [][]any{{"!", 0, "first"}, {"=", 1, "b"}}, []any{"first", "b", int8(1), map[string]any{"x": int8(1)}}},
		{"an inserted field may change", [][]any{{"!", 1, 5}, {"+", 1, 1}}, []any{"a", int8(6), int8(1), map[string]any{"x": int8(1)}}},
		{"set twice, the last wins", [][]any{{"=", 1, 5}, {"=", "b", 6}}, []any{"a", int8(6), map[string]any{"x": int8(1)}}},
		{"set after arithmetic", [][]any{{"+", 1, 5}, {"=", "b", 7}}, []any{"a", int8(7), map[string]any{"x": int8(1)}}},
		{"decimal plus integer", [][]any{{"=", 1, MustDecimal("1.5")}, then, {"+", 1, 2}}, []any{"a", MustDecimal("3.5"), map[string]any{"x": int8(1)}}},
		{"integer minus decimal", [][]any{{"-", 1, MustDecimal("0.25")}}, []any{"a", MustDecimal("0.75"), map[string]any{"x": int8(1)}}},
		{"decimal plus double", [][]any{{"=", 1, MustDecimal("1")}, then, {"+", 1, 0.1}}, []any{"a", MustDecimal("1.1"), map[string]any{"x": int8(1)}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tup, e := update(t, c.ops...)
			require.Nil(t, e)
			require.Equal(t, c.want, tup.Values())
			again, err := New(tup.Raw())
			require.NoError(t, err)
			require.Equal(t, tup.Values(), again.Values(), "values match the raw tuple")
		})
	}
}

func TestUpdateErrors(t *testing.T) {
	cases := []struct {
		name string
		ops  [][]any
		code uint32
	}{
		{"overflow", [][]any{{"=", 2, int64(math.MinInt64)}, then, {"-", 2, 1}}, CodeUpdateIntegerOverflow},
		{"unknown op", [][]any{{"*", 2, 1}}, CodeUnknownUpdateOp},
		{"too few arguments", [][]any{{"=", 2}}, CodeUnknownUpdateOp},
		{"unknown field name", [][]any{{"=", "d", 1}}, CodeNoSuchFieldName},
		{"field position out of range", [][]any{{"=", 4, 1}}, CodeNoSuchFieldNo},
		{"negative position out of range", [][]any{{"=", -4, 1}}, CodeNoSuchFieldNo},
		{"insert out of range", [][]any{{"!", 4, 1}}, CodeNoSuchFieldNo},
		{"delete out of range", [][]any{{"#", 3, 1}}, CodeNoSuchFieldNo},
		{"delete zero fields", [][]any{{"#", 1, 0}}, CodeUpdateField},
		{"delete a negative count", [][]any{{"#", 1, -1}}, CodeUpdateArgType},
		{"bitwise on a non-unsigned field", [][]any{{"&", 0, 1}}, CodeUpdateArgType},
		{"bitwise with a negative argument", [][]any{{"|", 1, -1}}, CodeUpdateArgType},
		{"bitwise with a float argument", [][]any{{"^", 1, 1.5}}, CodeUpdateArgType},
		{"decimal overflow", [][]any{{"=", 1, MustDecimal("99999999999999999999999999999999999999")}, then, {"+", 1, 1}}, CodeUpdateDecimalOverflow},
		{"splice is not supported", [][]any{{":", 0, 1}}, CodeUnknownUpdateOp},
		{"double update of a field", [][]any{{"=", 1, 5}, {"+", 1, 1}}, CodeUpdateField},
		{"double update by name and position", [][]any{{"+", "b", 5}, {"-", -2, 1}}, CodeUpdateField},
		{"unknown field name past the end", [][]any{{"#", 2, 1}, {"+", "c", 1}}, CodeNoSuchFieldName},
		{"field neither number nor string", [][]any{{"=", true, 1}}, CodeIllegalParams},
		{"non-numeric argument", [][]any{{"+", 2, "x"}}, CodeUpdateArgType},
		{"arithmetic on a non-number", [][]any{{"+", 0, 1}}, CodeUpdateArgType},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, e := update(t, c.ops...)
			require.NotNil(t, e)
			require.Equal(t, c.code, e.Code, e.Message)
		})
	}
}

// Fields an update does not touch keep their raw bytes.
func TestUpdateKeepsRawFields(t *testing.T) {
	// name encoded as str8 rather than fixstr: not what Marshal would write.
	old, err := New([]byte{0x94, 0x01, 0xd9, 0x01, 'x', 0x05, 0xc0})
	require.NoError(t, err)
	up, e := ParseUpdate([][]any{{"+", "score", 1}}, []string{"id", "name", "score", "tags"})
	require.Nil(t, e)
	tup, e := up.Apply(old)
	require.Nil(t, e)
	require.Equal(t, []byte{0x94, 0x01, 0xd9, 0x01, 'x', 0x06, 0xc0}, tup.Raw())
}

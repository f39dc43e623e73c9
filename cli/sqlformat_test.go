package cli

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/picogo/picogo/core/tuple"
)

func TestFormatTable(t *testing.T) {
	for _, c := range []struct {
		name string
		cols []column
		rows [][]any
		want string
	}{
		{
			name: "numbers right, text left, NULL",
			cols: []column{{"id", "integer"}, {"name", "string"}, {"score", "double"}},
			rows: [][]any{{int64(1), "alice", 2.5}, {uint64(20), nil, nil}, {int8(-3), "bob", float64(100)}},
			want: `
 id | name  | score
----+-------+-------
  1 | alice |   2.5
 20 | NULL  |  NULL
 -3 | bob   |   100
`,
		},
		{
			name: "centered header wider than values",
			cols: []column{{"a_long_name", "unsigned"}, {"b", "boolean"}},
			rows: [][]any{{uint8(7), true}, {uint16(1000), false}},
			want: `
 a_long_name |   b
-------------+-------
           7 | true
        1000 | false
`,
		},
		{
			name: "no rows",
			cols: []column{{"x", "integer"}},
			rows: nil,
			want: `
 x
---
`,
		},
		{
			name: "unicode widths: Cyrillic one column a rune, CJK two",
			cols: []column{{"имя", "string"}, {"n", "integer"}},
			rows: [][]any{{"Пётр", int64(1)}, {"世界", int64(22)}, {"e\u0301", int64(3)}},
			want: "\n" +
				" имя  | n\n" +
				"------+----\n" +
				" Пётр |  1\n" +
				" 世界 | 22\n" +
				" e\u0301    |  3\n",
		},
		{
			name: "a value of several lines",
			cols: []column{{"k", "integer"}, {"v", "string"}},
			rows: [][]any{{int64(1), "one\ntwo"}, {int64(2), "x"}},
			want: `
 k |  v
---+-----
 1 | one+
   | two
 2 | x
`,
		},
		{
			name: "untyped column of numbers is right-aligned, of mixed values left",
			cols: []column{{"a", "any"}, {"b", "scalar"}},
			rows: [][]any{{int64(1), int64(1)}, {int64(100), "x"}, {nil, nil}},
			want: `
  a   |  b
------+------
    1 | 1
  100 | x
 NULL | NULL
`,
		},
		{
			name: "missing values of a short row print as NULL",
			cols: []column{{"a", "string"}, {"b", "string"}},
			rows: [][]any{{"x"}},
			want: `
 a |  b
---+------
 x | NULL
`,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := formatTable(c.cols, c.rows)
			if want := strings.TrimPrefix(c.want, "\n"); got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
	if got := formatTable(nil, [][]any{{}}); got != "" {
		t.Errorf("no columns: %q", got)
	}
	if rowsFooter(1) != "(1 row)" || rowsFooter(0) != "(0 rows)" || rowsFooter(12) != "(12 rows)" {
		t.Error("rowsFooter", rowsFooter(1), rowsFooter(0), rowsFooter(12))
	}
}

func TestFormatValue(t *testing.T) {
	u := uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
	dt := tuple.DatetimeOf(time.Date(2024, 3, 1, 12, 30, 0, 0, time.UTC))
	for _, c := range []struct {
		v    any
		want string
	}{
		{nil, "NULL"},
		{"text", "text"},
		{"", ""},
		{true, "true"},
		{int64(-42), "-42"},
		{uint64(18446744073709551615), "18446744073709551615"},
		{1.5, "1.5"},
		{float32(0.25), "0.25"},
		{1e21, "1e+21"},
		{tuple.MustDecimal("12.340"), "12.340"},
		{u, "6ba7b810-9dad-11d1-80b4-00c04fd430c8"},
		{dt, "2024-03-01T12:30:00Z"},
		{[]byte{0xde, 0xad}, `\xdead`},
		{[]any{int64(1), "a", nil, tuple.MustDecimal("1.5")}, `[1,"a",null,1.5]`},
		{map[string]any{"b": []any{u}, "a": "<&>"}, `{"a":"<&>","b":["6ba7b810-9dad-11d1-80b4-00c04fd430c8"]}`},
		{map[any]any{int64(1): "x"}, `{"1":"x"}`},
	} {
		if got := formatValue(c.v); got != c.want {
			t.Errorf("formatValue(%#v) = %q, want %q", c.v, got, c.want)
		}
	}
}

func TestFormatDisplayWidth(t *testing.T) {
	for s, want := range map[string]int{"": 0, "abc": 3, "Пётр": 4, "世界": 4, "e\u0301": 1, "ｱ": 1, "Ａ": 2, "한국": 4, "🙂": 2} {
		if got := displayWidth(s); got != want {
			t.Errorf("displayWidth(%q) = %d, want %d", s, got, want)
		}
	}
}

// TestFormatDecodeSQLReply: .proc_sql's answers as they come off the wire,
// extension values included.
func TestFormatDecodeSQLReply(t *testing.T) {
	u := uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
	enc := func(v any) []byte {
		b, err := tuple.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	query := enc([]any{map[string]any{
		"metadata": []any{map[string]any{"name": "a", "type": "integer"}, map[string]any{"name": "d", "type": "decimal"},
			map[string]any{"name": "u", "type": "uuid"}},
		"rows": []any{[]any{1, tuple.MustDecimal("1.50"), u}, []any{nil, nil, nil}},
	}})
	res, err := decodeSQLReply(query)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Query || !reflect.DeepEqual(res.Columns, []column{{"a", "integer"}, {"d", "decimal"}, {"u", "uuid"}}) || len(res.Rows) != 2 {
		t.Fatalf("query: %+v", res)
	}
	if got := formatTable(res.Columns, res.Rows); got != ""+
		"  a   |  d   |                  u\n"+
		"------+------+--------------------------------------\n"+
		"    1 | 1.50 | 6ba7b810-9dad-11d1-80b4-00c04fd430c8\n"+
		" NULL | NULL | NULL\n" {
		t.Errorf("query table:\n%s", got)
	}

	res, err = decodeSQLReply(enc([]any{map[string]any{"row_count": 3}}))
	if err != nil || res.Query || res.RowCount != 3 {
		t.Errorf("row_count: %+v, %v", res, err)
	}
	res, err = decodeSQLReply(enc([]any{map[string]any{"metadata": []any{map[string]any{"name": "x", "type": "integer"}}, "rows": []any{}}}))
	if err != nil || !res.Query || len(res.Rows) != 0 {
		t.Errorf("no rows: %+v, %v", res, err)
	}
	// A map with non-string keys in a row: tuple's decoder refuses it, the
	// generic one takes it.
	res, err = decodeSQLReply(enc([]any{map[string]any{"metadata": []any{map[string]any{"name": "m", "type": "map"}},
		"rows": []any{[]any{map[any]any{1: "x"}}}}}))
	if err != nil || formatValue(res.Rows[0][0]) != `{"1":"x"}` {
		t.Errorf("map with integer keys: %+v, %v", res, err)
	}
	// A Lua-style (nil, error).
	if _, err := decodeSQLReply(enc([]any{nil, map[string]any{"message": "boom"}})); err == nil || err.Error() != "boom" {
		t.Errorf("(nil, error): %v", err)
	}
	for _, bad := range [][]byte{enc([]any{}), enc([]any{"what"}), enc([]any{map[string]any{"x": 1}}), {0xc1}} {
		if _, err := decodeSQLReply(bad); err == nil {
			t.Errorf("%x decoded", bad)
		}
	}
}

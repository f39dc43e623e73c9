package value

import (
	"math"
	"strings"
	"testing"

	"github.com/picogo/picogo/core/tuple"
)

func TestFuncs(t *testing.T) {
	now := tuple.Datetime{Epoch: 1704164645, Nsec: 5, TzOffset: 180} // 2024-01-02T06:04:05+03:00
	env := Env{Now: now}
	mis, argc := tuple.CodeSQLTypeMismatch, tuple.CodeSQLWrongArgCount
	for _, c := range []struct {
		name string
		args []any
		want any
		code uint32
	}{
		{"abs", []any{int64(-3)}, int64(3), 0},
		{"ABS", []any{minI}, twoTo63U, 0},
		{"Abs", []any{maxU}, maxU, 0},
		{"abs", []any{-1.5}, 1.5, 0},
		{"abs", []any{dec("-1.50")}, dec("1.50"), 0},
		{"abs", []any{nil}, nil, 0},
		{"abs", []any{"x"}, nil, mis},
		{"abs", []any{}, nil, argc},
		{"abs", []any{int64(1), int64(2)}, nil, argc},

		{"length", []any{"héllo"}, int64(5), 0},
		{"char_length", []any{""}, int64(0), 0},
		{"character_length", []any{"日本"}, int64(2), 0},
		{"length", []any{[]byte("héllo")}, int64(6), 0},
		{"length", []any{nil}, nil, 0},
		{"length", []any{int64(12)}, nil, mis},

		{"lower", []any{"ÀBC"}, "àbc", 0},
		{"upper", []any{"straße"}, "STRAßE", 0}, // character by character: ß has no one-character upper case
		{"upper", []any{nil}, nil, 0},
		{"lower", []any{int64(1)}, nil, mis},

		{"substring", []any{"hello", int64(2), int64(3)}, "ell", 0},
		{"substr", []any{"hello", int64(2)}, "ello", 0},
		{"substring", []any{"hello", int64(0), int64(2)}, "h", 0},
		{"substring", []any{"hello", int64(-1), int64(3)}, "h", 0},
		{"substring", []any{"hello", int64(-5), int64(3)}, "", 0},
		{"substring", []any{"hello", int64(0)}, "hello", 0},
		{"substring", []any{"hello", int64(-3)}, "hello", 0},
		{"substring", []any{"hello", int64(6)}, "", 0},
		{"substring", []any{"hello", int64(5), int64(100)}, "o", 0},
		{"substring", []any{"hello", int64(2), int64(0)}, "", 0},
		{"substring", []any{"hello", int64(2), maxU}, "ello", 0},
		{"substring", []any{"hello", maxI, maxI}, "", 0},
		{"substring", []any{"hello", minI, maxI}, "", 0},
		{"substring", []any{"héllo", int64(2), int64(1)}, "é", 0},
		{"substring", []any{[]byte("hello"), int64(2), int64(2)}, []byte("el"), 0},
		{"substring", []any{"hello", int64(1), int64(-1)}, nil, tuple.CodeSQLInvalidArgument},
		{"substring", []any{nil, int64(1)}, nil, 0},
		{"substring", []any{"x", nil}, nil, 0},
		{"substring", []any{"x", int64(1), nil}, nil, 0},
		{"substring", []any{"x", 1.5}, nil, mis},
		{"substring", []any{"x", "1"}, nil, mis},
		{"substring", []any{int64(5), int64(1)}, nil, mis},
		{"substring", []any{"x"}, nil, argc},

		{"trim", []any{"  a b  "}, "a b", 0},
		{"ltrim", []any{"  a  "}, "a  ", 0},
		{"rtrim", []any{"  a  "}, "  a", 0},
		{"trim", []any{"xxaxyx", "xy"}, "a", 0},
		{"trim", []any{"\ta\t"}, "\ta\t", 0},
		{"trim", []any{"ééaé", "é"}, "a", 0},
		{"trim", []any{nil}, nil, 0},
		{"trim", []any{"a", nil}, nil, 0},
		{"trim", []any{int64(1)}, nil, mis},
		{"trim", []any{"a", int64(1)}, nil, mis},

		{"round", []any{2.5}, 3.0, 0},
		{"round", []any{-2.5}, -3.0, 0},
		{"round", []any{0.5}, 1.0, 0},
		{"round", []any{2.675, int64(2)}, 2.67, 0}, // the double is 2.67499999...
		{"round", []any{0.125, int64(2)}, 0.13, 0}, // an exact tie: away from zero
		{"round", []any{-0.125, int64(2)}, -0.13, 0},
		{"round", []any{1234.5678, int64(-2)}, 1200.0, 0},
		{"round", []any{-0.4}, math.Copysign(0, -1), 0},
		{"round", []any{1.5, int64(500)}, 1.5, 0},
		{"round", []any{dec("2.5")}, dec("3"), 0},
		{"round", []any{dec("-2.5")}, dec("-3"), 0},
		{"round", []any{dec("1.2345"), int64(2)}, dec("1.23"), 0},
		{"round", []any{dec("1.235"), int64(2)}, dec("1.24"), 0},
		{"round", []any{dec("1.2"), int64(5)}, dec("1.2"), 0},
		{"round", []any{dec("1250"), int64(-2)}, dec("1300"), 0},
		{"round", []any{dec("99999999999999999999999999999999999999"), int64(-1)}, nil, tuple.CodeSQLDecimalOverflow},
		{"round", []any{dec("9999999999999999999999999999999999999.5")}, dec("1E37"), 0},
		{"round", []any{int64(15), int64(-1)}, int64(20), 0},
		{"round", []any{int64(-15), int64(-1)}, int64(-20), 0},
		{"round", []any{int64(14), int64(-1)}, int64(10), 0},
		{"round", []any{int64(7), int64(2)}, int64(7), 0},
		{"round", []any{maxU, int64(-1)}, nil, tuple.CodeSQLIntegerOverflow},
		{"round", []any{maxI, int64(-30)}, int64(0), 0},
		{"round", []any{nil}, nil, 0},
		{"round", []any{1.5, nil}, nil, 0},
		{"round", []any{"1.5"}, nil, mis},
		{"round", []any{1.5, 1.0}, nil, mis},

		{"coalesce", []any{nil, nil, int64(3), int64(4)}, int64(3), 0},
		{"coalesce", []any{nil}, nil, 0},
		{"coalesce", []any{"a"}, "a", 0},
		{"coalesce", []any{}, nil, argc},
		{"ifnull", []any{nil, int64(2)}, int64(2), 0},
		{"ifnull", []any{int64(1), int64(2)}, int64(1), 0},
		{"ifnull", []any{int64(1)}, nil, argc},
		{"nullif", []any{int64(1), 1.0}, nil, 0},
		{"nullif", []any{int64(1), int64(2)}, int64(1), 0},
		{"nullif", []any{int64(1), nil}, int64(1), 0},
		{"nullif", []any{nil, int64(1)}, nil, 0},
		{"nullif", []any{int64(1), "1"}, nil, mis},

		{"replace", []any{"abcabc", "b", "XY"}, "aXYcaXYc", 0},
		{"replace", []any{"abc", "", "X"}, "abc", 0},
		{"replace", []any{"abc", "b", nil}, nil, 0},
		{"replace", []any{"abc", int64(1), "x"}, nil, mis},

		{"position", []any{"l", "héllo"}, int64(3), 0},
		{"position", []any{"z", "hello"}, int64(0), 0},
		{"position", []any{"", "hello"}, int64(1), 0},
		{"position", []any{nil, "hello"}, nil, 0},
		{"instr", []any{"héllo", "l"}, int64(3), 0},

		{"now", nil, now, 0},
		{"current_timestamp", nil, now, 0},
		{"current_date", nil, tuple.Datetime{Epoch: 1704142800, TzOffset: 180}, 0}, // 2024-01-02T00:00+03:00
		{"now", []any{int64(1)}, nil, argc},

		{"greatest", []any{int64(1), 2.5, dec("2")}, 2.5, 0},
		{"least", []any{int64(1), 2.5, dec("0.5")}, dec("0.5"), 0},
		{"greatest", []any{nil, int64(1), nil}, int64(1), 0},
		{"least", []any{nil, nil}, nil, 0},
		{"greatest", []any{"a", "b"}, "b", 0},
		{"greatest", []any{"a", int64(1)}, nil, mis},
	} {
		f, ok := LookupFunc(c.name)
		if !ok {
			t.Errorf("no function %s", c.name)
			continue
		}
		got, err := f.Call(env, c.args)
		if code(err) != c.code || (c.code == 0 && !same(got, c.want)) {
			t.Errorf("%s(%v) = %T %v, %v; want %T %v, code %d", c.name, c.args, got, got, err, c.want, c.want, c.code)
		}
	}
	if _, ok := LookupFunc("no_such"); ok {
		t.Error("LookupFunc(no_such) found something")
	}
	if err := UnknownFunction("foo"); err.Code != tuple.CodeSQLUnknownFunction || err.Message != "function FOO() does not exist" {
		t.Errorf("UnknownFunction: %v", err)
	}
	f, _ := LookupFunc("substr")
	if _, err := f.Call(env, []any{"x"}); err == nil ||
		err.Message != "wrong number of arguments is passed to SUBSTR(): expected from 2 to 3, got 1" {
		t.Errorf("argument count message: %v", err)
	}
	f, _ = LookupFunc("coalesce")
	if err := f.CheckArgs(0); err == nil || !strings.Contains(err.Message, "expected at least 1, got 0") {
		t.Errorf("variadic count message: %v", err)
	}
	f, _ = LookupFunc("abs")
	if _, err := f.Call(env, []any{"x"}); err == nil || !strings.Contains(err.Message, "ABS()") {
		t.Errorf("the type error names the function: %v", err)
	}
}

func TestFuncResultTypes(t *testing.T) {
	for _, c := range []struct {
		name string
		args []tuple.FieldType
		want tuple.FieldType
	}{
		{"abs", []tuple.FieldType{"double"}, "double"},
		{"length", []tuple.FieldType{"string"}, "integer"},
		{"upper", []tuple.FieldType{"string"}, "string"},
		{"round", []tuple.FieldType{"decimal", "integer"}, "decimal"},
		{"coalesce", []tuple.FieldType{"any", "integer", "unsigned"}, "integer"},
		{"coalesce", []tuple.FieldType{"integer", "double"}, "number"},
		{"coalesce", []tuple.FieldType{"integer", "string"}, "scalar"},
		{"coalesce", []tuple.FieldType{"any"}, "any"},
		{"now", nil, "datetime"},
		{"current_date", nil, "datetime"},
		{"nullif", []tuple.FieldType{"string", "string"}, "string"},
		{"greatest", []tuple.FieldType{"integer", "integer"}, "integer"},
	} {
		f, _ := LookupFunc(c.name)
		if got := f.ResultType(c.args); got != c.want {
			t.Errorf("%s(%v) type %s, want %s", c.name, c.args, got, c.want)
		}
	}
}

func TestTrimForm(t *testing.T) {
	for _, c := range []struct {
		kind      string
		chars, x  any
		want      any
		wantError bool
	}{
		{"LEADING", "x", "xxaxx", "axx", false},
		{"trailing", "x", "xxaxx", "xxa", false},
		{"BOTH", "x", "xxaxx", "a", false},
		{"", " ", "  a  ", "a", false},
		{"BOTH", nil, "a", nil, false},
		{"BOTH", "x", nil, nil, false},
		{"SIDEWAYS", "x", "a", nil, true},
		{"BOTH", int64(1), "a", nil, true},
	} {
		got, err := Trim(c.kind, c.chars, c.x)
		if got != c.want || (err != nil) != c.wantError {
			t.Errorf("TRIM(%s %v FROM %v) = %v, %v", c.kind, c.chars, c.x, got, err)
		}
	}
}

package value

import (
	"testing"

	"github.com/picogo/picogo/core/tuple"
)

// run feeds rows (each one argument, or several for []any rows) to a fresh
// aggregate and returns its result.
func run(t *testing.T, name string, distinct bool, nargs int, rows [][]any) (any, *tuple.Error) {
	t.Helper()
	a, err := NewAggregate(name, distinct, nargs)
	if err != nil {
		t.Fatalf("NewAggregate(%s, %v, %d): %v", name, distinct, nargs, err)
	}
	for _, r := range rows {
		if err := a.Add(r); err != nil {
			return nil, err
		}
	}
	return a.Result()
}

func col(vals ...any) [][]any {
	rows := make([][]any, len(vals))
	for i, v := range vals {
		rows[i] = []any{v}
	}
	return rows
}

func TestAggregates(t *testing.T) {
	mis := tuple.CodeSQLTypeMismatch
	for _, c := range []struct {
		name     string
		distinct bool
		nargs    int
		rows     [][]any
		want     any
		code     uint32
	}{
		// Zero rows.
		{"count", false, 0, nil, int64(0), 0},
		{"count", false, 1, nil, int64(0), 0},
		{"sum", false, 1, nil, nil, 0},
		{"avg", false, 1, nil, nil, 0},
		{"total", false, 1, nil, 0.0, 0},
		{"min", false, 1, nil, nil, 0},
		{"max", false, 1, nil, nil, 0},
		{"group_concat", false, 1, nil, nil, 0},
		{"string_agg", false, 2, nil, nil, 0},
		// Only NULLs.
		{"count", false, 0, col(nil, nil), int64(2), 0},
		{"COUNT", false, 1, col(nil, nil), int64(0), 0},
		{"sum", false, 1, col(nil), nil, 0},
		{"avg", false, 1, col(nil), nil, 0},
		{"total", false, 1, col(nil), 0.0, 0},
		{"max", false, 1, col(nil), nil, 0},
		{"group_concat", false, 1, col(nil), nil, 0},
		// COUNT.
		{"count", false, 1, col(int64(1), nil, "x"), int64(2), 0},
		{"count", true, 1, col(int64(1), 1.0, dec("1"), int64(2), nil, nil), int64(2), 0},
		// SUM.
		{"sum", false, 1, col(int64(1), int64(2), nil), int64(3), 0},
		{"sum", false, 1, col(maxI, int64(1)), twoTo63U, 0},
		{"sum", false, 1, col(maxU, int64(-1)), maxU - 1, 0},
		{"sum", false, 1, col(maxU, int64(1)), nil, tuple.CodeSQLIntegerOverflow},
		{"sum", false, 1, col(minI, int64(-1)), nil, tuple.CodeSQLIntegerOverflow},
		{"sum", false, 1, col(maxU, maxU, minI, minI, minI, minI), int64(-2), 0}, // the total decides
		{"sum", false, 1, col(minI, int64(-1), int64(1)), minI, 0},
		{"sum", false, 1, col(int64(1), 0.5), 1.5, 0},
		{"sum", false, 1, col(int64(1), dec("0.5"), 0.25), dec("1.75"), 0},
		{"sum", false, 1, col(dec("0.1"), dec("0.2")), dec("0.3"), 0},
		{"sum", true, 1, col(int64(2), int64(2), 2.0, int64(3)), int64(5), 0},
		{"sum", false, 1, col(int64(1), "2"), nil, mis},
		{"sum", false, 1, col(true), nil, mis},
		// AVG.
		{"avg", false, 1, col(int64(1), int64(2)), dec("1.5"), 0},
		{"avg", false, 1, col(int64(1), int64(2), int64(2)), dec("1.6666666666666666666666666666666666667"), 0},
		{"avg", false, 1, col(int64(2), int64(4), nil), dec("3"), 0},
		{"avg", false, 1, col(maxU, maxU), dec("18446744073709551615"), 0},
		{"avg", false, 1, col(1.0, 2.0), 1.5, 0},
		{"avg", false, 1, col(int64(1), 2.0), 1.5, 0},
		{"avg", false, 1, col(dec("1"), 2.0), dec("1.5"), 0},
		{"avg", true, 1, col(int64(1), int64(1), int64(4)), dec("2.5"), 0},
		{"avg", false, 1, col("x"), nil, mis},
		// TOTAL.
		{"total", false, 1, col(int64(1), int64(2)), 3.0, 0},
		{"total", false, 1, col(maxU, maxU), 36893488147419103230.0, 0},
		{"total", false, 1, col(dec("0.5"), 0.25, nil), 0.75, 0},
		{"total", false, 1, col("x"), nil, mis},
		// MIN / MAX.
		{"min", false, 1, col(int64(3), 1.5, dec("2"), nil), 1.5, 0},
		{"max", false, 1, col(int64(3), 1.5, dec("4"), nil), dec("4"), 0},
		{"max", false, 1, col("b", "a", nil, "c"), "c", 0},
		{"min", false, 1, col(true, false), false, 0},
		{"max", false, 1, col(maxU, int64(-1)), maxU, 0},
		{"max", false, 1, col(int64(1), "a"), nil, mis},
		{"min", true, 1, col(int64(2), int64(2), int64(1)), int64(1), 0},
		// GROUP_CONCAT / STRING_AGG.
		{"group_concat", false, 1, col("a", nil, "b", "c"), "a,b,c", 0},
		{"group_concat", false, 2, [][]any{{"a", "; "}, {"b", "; "}}, "a; b", 0},
		{"group_concat", false, 2, [][]any{{"a", "-"}, {"b", nil}, {"c", "+"}}, "ab+c", 0},
		{"string_agg", false, 2, [][]any{{"x", "|"}, {nil, "|"}, {"y", "|"}}, "x|y", 0},
		{"group_concat", true, 1, col("a", "b", "a"), "a,b", 0},
		{"group_concat", false, 1, col(""), "", 0},
		{"group_concat", false, 1, col(int64(1)), nil, mis},
		{"string_agg", false, 2, [][]any{{"a", int64(1)}}, nil, mis},
	} {
		got, err := run(t, c.name, c.distinct, c.nargs, c.rows)
		if code(err) != c.code || (c.code == 0 && !same(got, c.want)) {
			t.Errorf("%s(distinct %v) over %v = %T %v, %v; want %T %v, code %d",
				c.name, c.distinct, c.rows, got, got, err, c.want, c.want, c.code)
		}
	}
}

func TestNewAggregate(t *testing.T) {
	for _, c := range []struct {
		name     string
		distinct bool
		nargs    int
		code     uint32
	}{
		{"count", false, 0, 0}, {"count", true, 0, tuple.CodeSQLWrongArgCount}, {"count", false, 2, tuple.CodeSQLWrongArgCount},
		{"sum", false, 0, tuple.CodeSQLWrongArgCount}, {"sum", false, 2, tuple.CodeSQLWrongArgCount},
		{"group_concat", false, 2, 0}, {"group_concat", false, 3, tuple.CodeSQLWrongArgCount},
		{"string_agg", false, 1, tuple.CodeSQLWrongArgCount}, {"Max", false, 1, 0},
		{"median", false, 1, tuple.CodeSQLUnknownFunction},
	} {
		_, err := NewAggregate(c.name, c.distinct, c.nargs)
		if code(err) != c.code {
			t.Errorf("NewAggregate(%s, %v, %d): %v, want code %d", c.name, c.distinct, c.nargs, err, c.code)
		}
	}
	for _, n := range []string{"count", "SUM", "Avg", "total", "min", "max", "group_concat", "STRING_AGG"} {
		if !IsAggregate(n) {
			t.Errorf("IsAggregate(%s) = false", n)
		}
	}
	for _, n := range []string{"abs", "coalesce", ""} {
		if IsAggregate(n) {
			t.Errorf("IsAggregate(%s) = true", n)
		}
	}
}

func TestAggregateResultTypes(t *testing.T) {
	for _, c := range []struct {
		name     string
		arg      tuple.FieldType
		nargs    int
		want     tuple.FieldType
		distinct bool
	}{
		{"count", "any", 0, "integer", false},
		{"count", "string", 1, "integer", true},
		{"sum", "integer", 1, "integer", false},
		{"sum", "unsigned", 1, "integer", false},
		{"sum", "double", 1, "double", false},
		{"sum", "decimal", 1, "decimal", true},
		{"sum", "any", 1, "number", false},
		{"avg", "integer", 1, "decimal", false},
		{"avg", "decimal", 1, "decimal", false},
		{"avg", "double", 1, "double", false},
		{"avg", "number", 1, "number", false},
		{"total", "integer", 1, "double", false},
		{"min", "string", 1, "string", false},
		{"max", "datetime", 1, "datetime", false},
		{"group_concat", "string", 1, "string", false},
		{"string_agg", "string", 2, "string", false},
	} {
		a, err := NewAggregate(c.name, c.distinct, c.nargs)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.ResultType(c.arg); got != c.want {
			t.Errorf("%s(%s) type %s, want %s", c.name, c.arg, got, c.want)
		}
	}
}

// TestTwoStage: merging partial aggregates gives what one aggregate over
// all the rows gives.
func TestTwoStage(t *testing.T) {
	parts := [][]any{
		{int64(1), int64(5), nil, maxI},
		{int64(-3), nil},
		{},
		{int64(7), minI, int64(2)},
	}
	var all []any
	for _, p := range parts {
		all = append(all, p...)
	}
	final := func(name string, partials [][]any) any {
		v, err := run(t, name, false, 1, partials)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	var sums, counts, mins [][]any
	for _, p := range parts {
		s, _ := run(t, "sum", false, 1, col(p...))
		c, _ := run(t, "count", false, 1, col(p...))
		m, _ := run(t, "min", false, 1, col(p...))
		sums, counts, mins = append(sums, []any{s}), append(counts, []any{c}), append(mins, []any{m})
	}
	wantSum, _ := run(t, "sum", false, 1, col(all...))
	if got := final("sum", sums); !same(got, wantSum) {
		t.Errorf("two-stage SUM %v, one-stage %v", got, wantSum)
	}
	wantCount, _ := run(t, "count", false, 1, col(all...))
	if got := final("sum", counts); !same(got, wantCount) {
		t.Errorf("two-stage COUNT %v, one-stage %v", got, wantCount)
	}
	wantMin, _ := run(t, "min", false, 1, col(all...))
	if got := final("min", mins); !same(got, wantMin) {
		t.Errorf("two-stage MIN %v, one-stage %v", got, wantMin)
	}
	wantAvg, _ := run(t, "avg", false, 1, col(all...))
	gotAvg, err := AvgOf(final("sum", sums), final("sum", counts))
	if err != nil || !same(gotAvg, wantAvg) {
		t.Errorf("two-stage AVG %v (%v), one-stage %v", gotAvg, err, wantAvg)
	}
	for _, c := range []struct{ sum, count, want any }{
		{nil, int64(0), nil}, {int64(3), int64(0), nil}, {nil, int64(2), nil},
		{int64(3), int64(2), dec("1.5")}, {3.0, int64(2), 1.5}, {dec("3"), uint64(2), dec("1.5")},
	} {
		if got, err := AvgOf(c.sum, c.count); err != nil || !same(got, c.want) {
			t.Errorf("AvgOf(%v, %v) = %v, %v; want %v", c.sum, c.count, got, err, c.want)
		}
	}
	if _, err := AvgOf("x", int64(1)); code(err) != tuple.CodeSQLTypeMismatch {
		t.Errorf("AvgOf of a string: %v", err)
	}
}

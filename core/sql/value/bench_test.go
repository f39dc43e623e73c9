package value

import "testing"

func BenchmarkArithInt(b *testing.B) {
	for i := range b.N {
		if _, err := Arith("+", int64(i), int64(7)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompareInt(b *testing.B) {
	for i := range b.N {
		if _, _, err := Compare(int64(i), int64(7)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSumInt(b *testing.B) {
	a, _ := NewAggregate("sum", false, 1)
	row := make([]any, 1)
	for i := range b.N {
		row[0] = int64(i)
		if err := a.Add(row); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKeyInt(b *testing.B) {
	row := make([]any, 1)
	for i := range b.N {
		row[0] = int64(i % 100)
		_ = Key(row)
	}
}

func BenchmarkLikeCompiled(b *testing.B) {
	m, _ := CompileLike("%abc%", DefaultEscape, false)
	for range b.N {
		if _, err := m.Match("xxxxxxxxxxabcxxxx"); err != nil {
			b.Fatal(err)
		}
	}
}

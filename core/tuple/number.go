package tuple

import (
	"math"
	"math/big"
)

// numKind tells how a number is held: non-negative integer, negative
// integer, or float.
type numKind uint8

const (
	numUint numKind = iota
	numInt
	numFloat
)

// number is a msgpack number of any kind. Integers are exact: u holds a
// non-negative integer, i a negative one.
type number struct {
	kind numKind
	u    uint64
	i    int64
	f    float64
}

// toNumber recognizes every Go integer and float type (msgpack decodes
// integers into int8..int64 and uint8..uint64 depending on their encoding).
func toNumber(v any) (number, bool) {
	switch v := v.(type) {
	case int:
		return fromInt64(int64(v)), true
	case int8:
		return fromInt64(int64(v)), true
	case int16:
		return fromInt64(int64(v)), true
	case int32:
		return fromInt64(int64(v)), true
	case int64:
		return fromInt64(v), true
	case uint:
		return number{kind: numUint, u: uint64(v)}, true
	case uint8:
		return number{kind: numUint, u: uint64(v)}, true
	case uint16:
		return number{kind: numUint, u: uint64(v)}, true
	case uint32:
		return number{kind: numUint, u: uint64(v)}, true
	case uint64:
		return number{kind: numUint, u: v}, true
	case float32:
		return number{kind: numFloat, f: float64(v)}, true
	case float64:
		return number{kind: numFloat, f: v}, true
	}
	return number{}, false
}

func fromInt64(i int64) number {
	if i >= 0 {
		return number{kind: numUint, u: uint64(i)}
	}
	return number{kind: numInt, i: i}
}

func (n number) isInteger() bool { return n.kind != numFloat }

func (n number) float() float64 {
	switch n.kind {
	case numUint:
		return float64(n.u)
	case numInt:
		return float64(n.i)
	}
	return n.f
}

func (n number) bigInt() *big.Int {
	if n.kind == numUint {
		return new(big.Int).SetUint64(n.u)
	}
	return big.NewInt(n.i)
}

// value is the Go value the number is stored as: uint64, int64 or float64.
func (n number) value() any {
	switch n.kind {
	case numUint:
		return n.u
	case numInt:
		return n.i
	}
	return n.f
}

// arith computes a+b (sub false) or a-b (sub true) the way Tarantool's
// update does: two integers give an exact integer, which must lie in
// [-2^63, 2^64); anything with a float gives a float64.
func arith(a, b number, sub bool) (number, bool) {
	if !a.isInteger() || !b.isInteger() {
		if sub {
			return number{kind: numFloat, f: a.float() - b.float()}, true
		}
		return number{kind: numFloat, f: a.float() + b.float()}, true
	}
	r := a.bigInt()
	if sub {
		r.Sub(r, b.bigInt())
	} else {
		r.Add(r, b.bigInt())
	}
	if r.Sign() >= 0 {
		if !r.IsUint64() {
			return number{}, false
		}
		return number{kind: numUint, u: r.Uint64()}, true
	}
	if !r.IsInt64() {
		return number{}, false
	}
	return number{kind: numInt, i: r.Int64()}, true
}

// AsUint64 converts a decoded msgpack value to uint64 if it is a
// non-negative integer.
func AsUint64(v any) (uint64, bool) {
	n, ok := toNumber(v)
	if !ok || n.kind != numUint {
		return 0, false
	}
	return n.u, true
}

// AsInt64 converts a decoded msgpack value to int64 if it is an integer in
// int64 range.
func AsInt64(v any) (int64, bool) {
	n, ok := toNumber(v)
	switch {
	case !ok || n.kind == numFloat:
		return 0, false
	case n.kind == numInt:
		return n.i, true
	case n.u > math.MaxInt64:
		return 0, false
	}
	return int64(n.u), true
}

// AsFloat64 converts any decoded msgpack number to float64.
func AsFloat64(v any) (float64, bool) {
	n, ok := toNumber(v)
	if !ok {
		return 0, false
	}
	return n.float(), true
}

package role_test

import (
	"testing"

	"github.com/picogo/picogo/core/sharding"
	"github.com/picogo/picogo/role"
)

// TestBucketOf: BucketOf is the bucket the cluster places a key's rows in
// (Picodata's own figures for a two-column key in 3000 buckets), for keys
// of one column too, and refuses what has no bucket.
func TestBucketOf(t *testing.T) {
	for _, c := range []struct {
		key  []any
		want uint64
	}{
		{[]any{"1", int64(1)}, 898},
		{[]any{"lol", int64(5)}, 442},
		{[]any{"kek", 42}, 2873}, // any Go integer hashes as the msgpack integer
	} {
		if got, err := role.BucketOf(3000, c.key...); err != nil || got != c.want {
			t.Errorf("BucketOf(3000, %v) = %d, %v; want %d", c.key, got, err, c.want)
		}
	}
	for _, key := range []string{"", "a", "hello", "ключ"} {
		got, err := role.BucketOf(16, key)
		want, werr := sharding.BucketID([]any{key}, 16)
		if err != nil || werr != nil || got != want || got < 1 || got > 16 {
			t.Errorf("BucketOf(16, %q) = %d, %v; sharding.BucketID: %d, %v", key, got, err, want, werr)
		}
	}
	for _, c := range []struct {
		count uint64
		key   []any
	}{{0, []any{"a"}}, {16, nil}, {16, []any{struct{}{}}}} {
		if got, err := role.BucketOf(c.count, c.key...); err == nil {
			t.Errorf("BucketOf(%d, %v) = %d; want an error", c.count, c.key, got)
		}
	}
}

package sharding

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tuple"
)

func shardedDef(key ...string) schema.TableDef {
	return schema.TableDef{ID: 1100, Name: "t", Distribution: schema.DistributionSharded,
		Format: []schema.Field{{Name: "id", Type: tuple.TypeUnsigned}, {Name: schema.BucketIDField, Type: tuple.TypeUnsigned},
			{Name: "name", Type: tuple.TypeString}},
		PrimaryKey: []uint32{0}, ShardingKey: key, ShardingFn: schema.ShardingFnMurmur3, Tier: "storage"}
}

func TestRowAndKeyBucket(t *testing.T) {
	// Picodata puts key 1 of a 3000-bucket tier in bucket 1934 (bucket_test.go).
	def := shardedDef("id")
	b, err := RowBucket(def, []any{uint64(1), nil, "a"}, 3000)
	require.NoError(t, err)
	require.Equal(t, uint64(1934), b)
	b, ok, err := KeyBucket(def, []any{uint64(1)}, 3000)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, uint64(1934), b)

	_, ok, _ = KeyBucket(def, []any{}, 3000)
	require.False(t, ok, "a partial key fixes no bucket")

	byName := shardedDef("name")
	_, ok, err = KeyBucket(byName, []any{uint64(1)}, 3000)
	require.NoError(t, err)
	require.False(t, ok, "the sharding key is not in the primary key")
	b, err = RowBucket(byName, []any{uint64(1), nil, "lol"}, 3000)
	require.NoError(t, err)
	want, _ := BucketID([]any{"lol"}, 3000)
	require.Equal(t, want, b)

	_, err = RowBucket(byName, []any{uint64(1)}, 3000)
	require.ErrorContains(t, err, "no sharding-key field name")
}

package role

import "github.com/picogo/picogo/core/sharding"

// BucketOf is the bucket, 1..bucketCount, of a sharding key (the values of
// a sharded table's DISTRIBUTED BY columns, in order) in a tier of
// bucketCount buckets. It is the same hash the cluster places a sharded
// table's rows by (and Picodata's: Tarantool's tuple hash, murmur3, modulo
// the count, plus one; core/sharding.BucketID says it bit for bit), so a
// role that calls RPC.Call with OnBucket(tier, BucketOf(count, key...))
// reaches the replicaset that holds the key's rows in that tier.
//
// A key value's Go type must be its column's: a string for a TEXT column,
// an int64 (or any Go integer) for an INTEGER one, a float64 for a DOUBLE;
// the integer 1 and the double 1.0 land in different buckets. The tier's
// bucket count is _pico_tier's bucket_count column:
//
//	SELECT bucket_count FROM _pico_tier WHERE name = $1
//
// An empty key, a count of 0 and a value of an unsupported type are
// errors.
func BucketOf(bucketCount uint64, key ...any) (uint64, error) {
	return sharding.BucketID(key, bucketCount)
}

package sharding

import (
	"fmt"

	"github.com/picogo/picogo/core/schema"
)

// RowBucket is the bucket a row of a sharded table belongs in: its
// sharding-key fields hashed (BucketID), in a tier of count buckets.
func RowBucket(def schema.TableDef, row []any, count uint64) (uint64, error) {
	key := make([]any, len(def.ShardingKey))
	for i, name := range def.ShardingKey {
		pos, ok := def.FieldIndex(name)
		if !ok || pos >= len(row) {
			return 0, fmt.Errorf("table %s: the row has no sharding-key field %s", def.Name, name)
		}
		key[i] = row[pos]
	}
	return BucketID(key, count)
}

// KeyBucket is the bucket a primary key fixes: when every sharding-key
// field is part of the primary key, the key's values for them hashed;
// ok is false when the sharding key is not within the primary key (or the
// key is partial), and the bucket is then not known from the key.
func KeyBucket(def schema.TableDef, key []any, count uint64) (bucket uint64, ok bool, err error) {
	if len(key) != len(def.PrimaryKey) {
		return 0, false, nil
	}
	values := make([]any, len(def.ShardingKey))
	for i, name := range def.ShardingKey {
		pos, found := def.FieldIndex(name)
		if !found {
			return 0, false, nil
		}
		part := -1
		for k, p := range def.PrimaryKey {
			if int(p) == pos {
				part = k
			}
		}
		if part < 0 {
			return 0, false, nil
		}
		values[i] = key[part]
	}
	b, err := BucketID(values, count)
	return b, err == nil, err
}

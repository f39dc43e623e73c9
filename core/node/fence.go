package node

import (
	"fmt"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/mutant"
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/sharding"
	"github.com/picogo/picogo/core/storage"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
)

// Fencing: a storage serves a bucket only while its applied _pico_bucket
// says its replicaset owns it — reads while the bucket is active or being
// sent away, writes only while it is active. Every decision is made from
// the Raft index this instance has applied, and a refusal names that
// index, so that a router routes again from a map at least as new
// (docs/sharding.md).

// bucketMap is _pico_bucket as this instance applied it.
func (m *data) bucketMap() sharding.Map { return m.placement.Map() }

// fence is nil if this instance's replicaset serves bucket b of tier for
// a read or a write, else the retryable refusal.
func (m *data) fence(tier string, b uint64, write bool) *api.Error {
	refusal, r := m.bucketMap().Fence(tier, b, m.identity.ReplicasetID, write)
	if write && refusal == sharding.Moving && r.State == tables.BucketSending && r.ReplicasetID == m.identity.ReplicasetID &&
		m.cfg.mutants.Has(mutant.WriteOnSendingBucket) {
		refusal = sharding.Serve
	}
	if write && refusal == sharding.WrongBucket && m.cfg.mutants.Has(mutant.RouteWithoutFencing) {
		refusal = sharding.Serve
	}
	switch refusal {
	case sharding.WrongBucket:
		owner := "no replicaset yet"
		if r.ReplicasetID != "" {
			owner = "replicaset " + r.ReplicasetID
		}
		applied := m.ra.BasicStatus().Applied
		return &api.Error{Code: api.CodeWrongBucket, Index: applied, Message: fmt.Sprintf(
			"bucket %d of tier %s is not on replicaset %s: it is on %s (as of raft index %d)",
			b, tier, m.identity.ReplicasetID, owner, applied)}
	case sharding.Moving:
		return api.Errorf(api.CodeBucketMoving, "bucket %d of tier %s is moving from replicaset %s to %s: writes wait until it has moved",
			b, tier, r.ReplicasetID, r.Destination)
	}
	return nil
}

// writeBucket is the bucket a write on def touches, and whether one is
// known: a new tuple's bucket_id — which must be the bucket its sharding
// key hashes to —, else the bucket a primary key fixes, else the stored
// row's (none: the write changes nothing, wherever it runs).
func (m *data) writeBucket(def schema.TableDef, op storage.Op) (uint64, bool, *api.Error) {
	count := m.bucketCount(def.Tier)
	if op.Tuple != nil {
		pos, ok := def.FieldIndex(schema.BucketIDField)
		if !ok || pos >= len(op.Tuple) {
			return 0, false, nil // a tuple of the wrong shape: the engine refuses it
		}
		b, _ := tuple.AsUint64(op.Tuple[pos])
		want, err := sharding.RowBucket(def, op.Tuple, count)
		if err != nil {
			return 0, false, api.Errorf(api.CodeIllegalParams, "%v", err)
		}
		if b != want {
			return 0, false, api.Errorf(api.CodeIllegalParams,
				"table %s: bucket_id %d is not the bucket of the row's sharding key (%d)", def.Name, b, want)
		}
		return b, true, nil
	}
	if op.Index == 0 {
		if b, ok, err := sharding.KeyBucket(def, op.Key, count); err != nil {
			return 0, false, api.Errorf(api.CodeIllegalParams, "%v", err)
		} else if ok {
			return b, true, nil
		}
	}
	return m.storedBucket(def, op.Index, op.Key)
}

// storedBucket is the bucket_id of the row index idx finds by key, if any.
func (m *data) storedBucket(def schema.TableDef, idx uint32, key []any) (uint64, bool, *api.Error) {
	row, found, err := m.member.Engine().Get(def.ID, idx, key)
	if err != nil {
		return 0, false, boxError(err)
	}
	if !found {
		return 0, false, nil
	}
	pos, _ := def.FieldIndex(schema.BucketIDField)
	b, _ := tuple.AsUint64(row.Values()[pos])
	return b, true, nil
}

// readable reports whether this instance serves a read of row (a stored
// tuple of def): rows of buckets it does not own — a copy not yet flipped
// to it, or one a move left behind — are invisible.
func (m *data) readable(bm sharding.Map, def schema.TableDef, pos int, row tuple.Tuple) bool {
	b, _ := tuple.AsUint64(row.Values()[pos])
	refusal, _ := bm.Fence(def.Tier, b, m.identity.ReplicasetID, false)
	return refusal == sharding.Serve
}

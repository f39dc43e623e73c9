package api

import (
	"fmt"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/picogo/picogo/core/tuple"
)

// Bucket moves (picogo's; Picodata leaves them to vshard's storages): the
// governor copies a sending range of buckets page by page from its owner's
// master to its destination's master, flips the range's owner in
// _pico_bucket, then has the old owner delete its copy. Each procedure
// first applies (raft_term, raft_index), the governor's view, and refuses
// a range _pico_bucket no longer says is in the state the plan saw: a
// stale plan must not move rows.
type (
	// BucketExport: `.proc_bucket_export(tier, first, last, after,
	// raft_term, raft_index, timeout)` on the master of the replicaset that
	// owns buckets first..last (one range, sending) — a page of their rows
	// (BucketPage), from bucket after+1 (after 0: from first).
	BucketExport struct {
		Tier    string        `arg:"tier"`
		First   uint64        `arg:"first"`
		Last    uint64        `arg:"last"`
		After   uint64        `arg:"after"`
		Term    uint64        `arg:"raft_term"`
		Index   uint64        `arg:"raft_index"`
		Timeout time.Duration `arg:"timeout"`
	}
	// BucketImport: `.proc_bucket_import(tier, first, last, rows,
	// raft_term, raft_index, timeout)` on the master of the replicaset
	// buckets first..last are being sent to — replace every row; answered
	// once every write is done (in a synchronous tier: a quorum has it).
	BucketImport struct {
		Tier    string        `arg:"tier"`
		First   uint64        `arg:"first"`
		Last    uint64        `arg:"last"`
		Rows    []BucketRow   `arg:"rows"`
		Term    uint64        `arg:"raft_term"`
		Index   uint64        `arg:"raft_index"`
		Timeout time.Duration `arg:"timeout"`
	}
	// BucketDelete: `.proc_bucket_delete(tier, first, last, raft_term,
	// raft_index, timeout)` on the master of the replicaset a range's
	// garbage names — delete every row of buckets first..last there;
	// answered once every delete is done.
	BucketDelete struct {
		Tier    string        `arg:"tier"`
		First   uint64        `arg:"first"`
		Last    uint64        `arg:"last"`
		Term    uint64        `arg:"raft_term"`
		Index   uint64        `arg:"raft_index"`
		Timeout time.Duration `arg:"timeout"`
	}
)

func (BucketExport) Proc() string { return ".proc_bucket_export" }
func (BucketImport) Proc() string { return ".proc_bucket_import" }
func (BucketDelete) Proc() string { return ".proc_bucket_delete" }

// BucketPage answers `.proc_bucket_export`: the rows of whole buckets, and
// Next, the last bucket included when more follow (the next page is asked
// with after = Next), 0 when the page reached the range's last bucket.
type BucketPage struct {
	Rows []BucketRow `msgpack:"rows"`
	Next uint64      `msgpack:"next"`
}

// BucketRow is one row of a sharded table.
type BucketRow struct {
	Table uint32
	Tuple []any
}

var (
	_ msgpack.CustomEncoder = BucketRow{}
	_ msgpack.CustomDecoder = (*BucketRow)(nil)
)

// EncodeMsgpack writes [table, tuple], the tuple as tuple.Marshal encodes
// it, so that Tarantool's decimal, uuid and datetime values survive the
// trip between the storages.
func (r BucketRow) EncodeMsgpack(enc *msgpack.Encoder) error {
	if err := enc.EncodeArrayLen(2); err != nil {
		return err
	}
	if err := enc.EncodeUint32(r.Table); err != nil {
		return err
	}
	vals := r.Tuple
	if vals == nil {
		vals = []any{}
	}
	b, err := tuple.Marshal(vals)
	if err != nil {
		return fmt.Errorf("row of table %d: %w", r.Table, err)
	}
	return enc.Encode(msgpack.RawMessage(b))
}

// DecodeMsgpack reads what EncodeMsgpack writes.
func (r *BucketRow) DecodeMsgpack(dec *msgpack.Decoder) error {
	n, err := dec.DecodeArrayLen()
	if err != nil {
		return err
	}
	if n != 2 {
		return fmt.Errorf("bucket row: an array of %d values, want [table, tuple]", n)
	}
	if r.Table, err = dec.DecodeUint32(); err != nil {
		return fmt.Errorf("bucket row table: %w", err)
	}
	raw, err := dec.DecodeRaw()
	if err != nil {
		return fmt.Errorf("bucket row tuple: %w", err)
	}
	vals, terr := tuple.DecodeArray(raw)
	if terr != nil {
		return fmt.Errorf("bucket row tuple: %w", terr)
	}
	r.Tuple = vals
	return nil
}

// BucketPageFrom reads `.proc_bucket_export`'s answer as a caller gets it:
// the BucketPage itself (proc decodes it so), or the values of a local
// call, one BucketPage.
func BucketPageFrom(v any) (BucketPage, error) {
	switch x := v.(type) {
	case BucketPage:
		return x, nil
	case *BucketPage:
		if x != nil {
			return *x, nil
		}
	case []any:
		if len(x) == 1 {
			return BucketPageFrom(x[0])
		}
		return BucketPage{}, fmt.Errorf("bucket page: a result of %d values, want 1", len(x))
	}
	return BucketPage{}, fmt.Errorf("bucket page: a %T", v)
}

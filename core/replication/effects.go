package replication

import (
	"github.com/picogo/picogo/core/tuple"
	"github.com/picogo/picogo/core/vclock"
	"github.com/picogo/picogo/core/wal"
)

// Effect is what a Member asks its node to do; TakeEffects hands them out
// in the order they were made.
type Effect interface{ isEffect() }

// Persist: write Write.Batch (atomically, synced if Write.Sync) on the
// replicaset-log stream, in order, one at a time; then call
// PersistDone(Write.Seq).
type Persist struct{ Write wal.Write }

// Ship: call the internal replication procedure on instance To (a raft id)
// with Payload, and feed what it answers (or the failure) to
// Response(To, ...).
type Ship struct {
	To      uint64
	Payload []byte
}

// Answer is the reply to Receive(ID, ...): the payload the caller's
// Response gets.
type Answer struct {
	ID      ReqID
	Payload []byte
}

// Done ends a Write, WaitVClock or Promote: Err is nil on success. Result
// is what the write returns (Tarantool's: the new tuple of an insert,
// replace or update, the old one of a delete, none for an upsert or a
// batch), Rows the number of rows the write changed (a batch's changed
// rows; 1 or 0 for a single op), VClock the member's applied vclock (for a
// write: the one right after it).
type Done struct {
	ID     ReqID
	Result tuple.Tuple
	Rows   int
	VClock vclock.VClock
	Err    *tuple.Error
}

// Note is something worth a log line (a full copy started or installed,
// divergence learned, a record that could not be applied).
type Note struct{ Event, Detail string }

func (Persist) isEffect() {}
func (Ship) isEffect()    {}
func (Answer) isEffect()  {}
func (Done) isEffect()    {}
func (Note) isEffect()    {}

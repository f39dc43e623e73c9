// Package disk defines an instance's durable storage: one ordered key-value
// store with atomic, optionally synced batches.
//
// The raft log, the hard state, snapshot metadata and the global tables all
// live in the one store under self-describing key prefixes chosen by the code
// that writes them. Pebble implements it in production (disk/pebble); the
// simulator implements it in memory with crash semantics (disk/simdisk): a
// crash drops every write not yet synced, and may tear the last one, which a
// checksum then catches on recovery.
package disk

// Store is one instance's durable key-value store.
type Store interface {
	// Get returns the value stored under key, or ok == false.
	Get(key []byte) (value []byte, ok bool, err error)
	// Scan calls fn for each key in [start, end) in ascending order until fn
	// returns false.
	Scan(start, end []byte, fn func(key, value []byte) bool) error
	// Commit applies b atomically. With sync, the batch is durable when
	// Commit returns; without it, a crash may lose it (never half of it).
	Commit(b *Batch, sync bool) error
	// Close releases the store.
	Close() error
}

// OpKind says what one operation of a Batch does.
type OpKind uint8

const (
	OpSet         OpKind = iota + 1 // Key = Value
	OpDelete                        // remove Key
	OpDeleteRange                   // remove every key in [Key, End)
)

// Op is one operation of a Batch.
type Op struct {
	Kind  OpKind
	Key   []byte
	Value []byte // OpSet only
	End   []byte // OpDeleteRange only
}

// Batch is an ordered list of operations applied atomically.
type Batch struct {
	Ops []Op
}

// Set appends a write of value under key.
func (b *Batch) Set(key, value []byte) {
	b.Ops = append(b.Ops, Op{Kind: OpSet, Key: key, Value: value})
}

// Delete appends a removal of key.
func (b *Batch) Delete(key []byte) { b.Ops = append(b.Ops, Op{Kind: OpDelete, Key: key}) }

// DeleteRange appends a removal of every key in [start, end).
func (b *Batch) DeleteRange(start, end []byte) {
	b.Ops = append(b.Ops, Op{Kind: OpDeleteRange, Key: start, End: end})
}

// Empty reports whether the batch has no operations.
func (b *Batch) Empty() bool { return len(b.Ops) == 0 }

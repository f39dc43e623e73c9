// Package simdisk is the simulator's disk: an in-memory disk.Store whose
// crash behaviour is that of a real disk behind a write-ahead log.
//
// It owns the write-ahead log (its record format and checksums), the model of
// power loss (Crash: every write after the last sync is lost, and the write in
// flight may be left torn), recovery (Recover: replay the log, detect the torn
// tail by its checksum, drop it and never apply it), and compaction of the log
// so that a long simulation keeps a bounded amount of memory.
//
// A Store is deterministic: the same operations and the same *rand.Rand give
// the same bytes, byte for byte. It starts no goroutines, reads no clock and
// draws randomness only from the rand passed to Crash. It is synchronous —
// when a write completes in virtual time is the simulator's business — and it
// is not safe for concurrent use.
package simdisk

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/picogo/picogo/disk"
)

// DefaultCompactAt is the WAL size, in bytes, at which a Store compacts its
// log unless Options say otherwise.
const DefaultCompactAt = 64 << 20

// Errors returned by a Store. ErrCrashed wraps ErrClosed, so errors.Is(err,
// ErrClosed) holds whenever the store cannot serve.
var (
	ErrClosed  = errors.New("simdisk: store is closed")
	ErrCrashed = fmt.Errorf("simdisk: store crashed and is not recovered: %w", ErrClosed)
	// ErrCorrupt is returned by Recover when a record before the synced
	// mark is damaged: durable data would be lost. Crash never causes it; it
	// means a bug in simdisk or a test that damaged the log on purpose.
	ErrCorrupt = errors.New("simdisk: WAL corrupt before the synced mark")
)

// Options configure a Store. The zero value is the default.
type Options struct {
	// CompactAt is the WAL size in bytes from which a synced commit
	// compacts the log into one snapshot record; 0 means DefaultCompactAt and
	// a negative value turns compaction off.
	CompactAt int
}

// Report says what Recover found.
type Report struct {
	// Records is the number of intact records replayed.
	Records int
	// Dropped is the number of WAL bytes discarded from the tail: the first
	// record that was not intact and everything after it.
	Dropped int
	// Torn is true when recovery met a record that was not intact (a torn
	// or corrupted write), so Dropped > 0.
	Torn bool
}

type state uint8

const (
	open state = iota
	closed
	crashed
)

// Store is the simulated disk. Create it with New.
type Store struct {
	wal    []byte // every record written and not lost
	synced int    // wal[:synced] is durable; always a record boundary
	ks     *keyspace
	state  state
	// version changes whenever the key space does, so that a Scan whose
	// callback writes can find its place again.
	version uint64

	compactAt   int
	compactBase int       // the WAL's size after the last compaction
	scratch     []disk.Op // reused by Commit and Recover to decode records
}

var _ disk.Store = (*Store)(nil)

// New returns an empty, open store.
func New(opts Options) *Store {
	compactAt := opts.CompactAt
	if compactAt == 0 {
		compactAt = DefaultCompactAt
	}
	return &Store{ks: newKeyspace(defaultChunk), compactAt: compactAt}
}

func (s *Store) usable() error {
	switch s.state {
	case closed:
		return ErrClosed
	case crashed:
		return ErrCrashed
	}
	return nil
}

// Get returns a copy of the value stored under key. It sees every committed
// batch, synced or not, as reads through the page cache do.
func (s *Store) Get(key []byte) ([]byte, bool, error) {
	if err := s.usable(); err != nil {
		return nil, false, err
	}
	e, ok := s.ks.get(key)
	if !ok {
		return nil, false, nil
	}
	return append([]byte{}, e.value...), true, nil
}

// Scan calls fn with copies of each key and value in [start, end), in
// bytewise ascending order, until fn returns false. A nil or empty start
// means from the first key, and a nil or empty end means to the last. fn may
// commit to the store: the scan then goes on from the first key after the one
// it last passed, as it now stands.
func (s *Store) Scan(start, end []byte, fn func(key, value []byte) bool) error {
	if err := s.usable(); err != nil {
		return err
	}
	if len(end) > 0 && bytes.Compare(start, end) >= 0 {
		return nil
	}
	ci, i := s.ks.search(start)
	for {
		e, ok := s.ks.at(ci, i)
		if !ok || len(end) > 0 && bytes.Compare(e.key, end) >= 0 {
			return nil
		}
		v := s.version
		if !fn(append([]byte{}, e.key...), append([]byte{}, e.value...)) {
			return nil
		}
		if err := s.usable(); err != nil {
			return err
		}
		if s.version != v {
			// e.key is never written to, so it is still the key passed.
			ci, i = s.ks.search(e.key)
			if cur, ok := s.ks.at(ci, i); !ok || !bytes.Equal(cur.key, e.key) {
				continue
			}
		}
		ci, i = s.ks.next(ci, i)
	}
}

// Commit appends b to the WAL as one record and applies it. With sync, the
// synced mark moves to the end of the WAL, which makes b and every batch
// before it durable. An empty (or nil) batch writes nothing; with sync it
// still moves the mark, as an fsync would. A batch with an operation of
// unknown kind is rejected whole.
func (s *Store) Commit(b *disk.Batch, sync bool) error {
	if err := s.usable(); err != nil {
		return err
	}
	if b != nil && len(b.Ops) > 0 {
		if err := checkOps(b.Ops); err != nil {
			return err
		}
		start := len(s.wal)
		wal, err := appendBatchRecord(s.wal, b.Ops)
		if err != nil {
			return err
		}
		s.wal = wal
		// Apply what was written, decoded the way recovery will decode it,
		// so that what reads see now is what a replay will rebuild.
		kind, ops, _, ok := readRecord(s.wal[start:], s.scratch)
		if !ok {
			panic("simdisk: a record just written does not read back")
		}
		applyRecord(s.ks, kind, ops)
		clear(ops)
		s.scratch = ops[:0]
		s.version++
	}
	if sync {
		s.synced = len(s.wal)
		s.maybeCompact()
	}
	return nil
}

// maybeCompact replaces the WAL by one snapshot record of the key space when
// the WAL has reached compactAt and at least doubled since the last
// compaction (so that a key space larger than compactAt is not rewritten on
// every sync). It runs only when the whole WAL is synced: the key space is
// then exactly the durable state, so the snapshot neither hardens an unsynced
// write nor loses a synced one, and it is itself synced.
func (s *Store) maybeCompact() {
	if s.compactAt < 0 || len(s.wal) < s.compactAt || len(s.wal) < 2*s.compactBase || s.synced != len(s.wal) {
		return
	}
	wal, err := appendSnapshotRecord(make([]byte, 0, len(s.wal)/2), s.ks)
	if err != nil {
		return // a key space over 4 GiB: keep the log as it is
	}
	s.wal = wal
	s.synced = len(wal)
	s.compactBase = len(wal)
}

// Close closes the store. Nothing is lost: what was committed stays in the
// WAL, as in the page cache of a machine that keeps running, and Recover
// opens the store again. A later Crash still loses what was never synced.
func (s *Store) Close() error {
	if err := s.usable(); err != nil {
		return err
	}
	s.state = closed
	s.ks = nil
	return nil
}

// Crash models a power loss, in any state of the store. Every WAL byte after
// the synced mark is lost. If tear is true and something was lost, what the
// first lost record left on the disk stays at the end of the WAL: a prefix of
// it, all of it with a few bytes flipped, a prefix with bytes flipped, or all
// of it with a zeroed tail, as r decides; never an intact record. r is used
// only when tearing and may then not be nil.
//
// Afterwards the store is crashed: every method but Size, Crash and Recover
// returns ErrCrashed until Recover.
func (s *Store) Crash(r *rand.Rand, tear bool) {
	lost := s.wal[s.synced:]
	var torn []byte
	if tear && len(lost) > 0 {
		if r == nil {
			panic("simdisk: Crash with tear needs a *rand.Rand")
		}
		torn, _ = tearRecord(lost[:frameLen(lost)], r)
	}
	s.wal = append(s.wal[:s.synced], torn...)
	s.state = crashed
	s.ks = nil
	s.version++
}

// Recover opens the store from its WAL, in any state: after Crash it is the
// restart after a power loss; on a closed or open store it is a restart that
// lost nothing. It replays the WAL from the start and stops at the first
// record that is not intact (incomplete, or failing its checksum), truncates
// the WAL there without applying that record, and rebuilds the key space from
// the records before it. Recovering again finds nothing more to drop.
//
// If the first damaged record lies before the synced mark, durable data would
// be lost: Recover leaves the WAL as it is, leaves the store crashed and returns
// ErrCorrupt.
func (s *Store) Recover() (Report, error) {
	ks := newKeyspace(defaultChunk)
	var rep Report
	ops := s.scratch
	off := 0
	for off < len(s.wal) {
		kind, decoded, n, ok := readRecord(s.wal[off:], ops)
		ops = decoded
		if !ok {
			break
		}
		applyRecord(ks, kind, ops)
		rep.Records++
		off += n
	}
	clear(ops)
	s.scratch = ops[:0]
	if off < s.synced {
		s.state = crashed
		s.ks = nil
		s.version++
		return rep, fmt.Errorf("%w: record at offset %d is damaged, synced mark at %d", ErrCorrupt, off, s.synced)
	}
	if off < len(s.wal) {
		rep.Torn = true
		rep.Dropped = len(s.wal) - off
		clear(s.wal[off:])
		s.wal = s.wal[:off]
	}
	s.compactBase = min(s.compactBase, len(s.wal))
	s.ks = ks
	s.state = open
	s.version++
	return rep, nil
}

// Size returns the WAL's length in bytes, in any state of the store.
func (s *Store) Size() int { return len(s.wal) }

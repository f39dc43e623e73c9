// Package pebble is the production disk.Store: one Pebble (v2) database in a
// directory, with the write-ahead log on and each batch synced on request.
//
// It has the semantics of the simulator's disk (disk/simdisk) and passes the
// same conformance suite (disk/disktest): bytewise key order, [start, end)
// ranges in which a nil or empty end means "to the last key", copies in and
// out, atomic batches, a batch with an unknown operation rejected whole, and
// an empty synced batch that still syncs the log.
//
// # Key space
//
// Keys are arbitrary bytes, so no key sorts after every possible key, and a
// Pebble range deletion needs a real end key. The store therefore keeps every
// user key k under the Pebble key 0x01 ‖ k. Every stored key then sorts
// before the single byte 0x02, which is the end of an unbounded DeleteRange
// and the upper bound of an unbounded Scan. The cost is one byte per key,
// which Pebble's prefix compression mostly removes on disk; the gain is that
// an unbounded range needs neither a read nor a lock, and is exact even
// against concurrent writers. Keys outside the 0x01 prefix are never written
// and never read; they are free for metadata should the store ever need it.
//
// # The WAL file
//
// Pebble's write-ahead log is synced once per Raft batch, the store's
// hottest system call, so the store hands Pebble WAL files of its own
// (walfile.go): written ahead of their end with zeros, so that a sync
// overwrites rather than appends, and synced with a raw fdatasync while
// the unsynced tail is small, so that Go's scheduler does not hand the
// syncing thread's P to another thread on every sync.
//
// # Concurrency
//
// A Store is safe for concurrent use, as Pebble is: concurrent Commits are
// grouped by Pebble's commit pipeline, which also shares WAL syncs between
// them. The daemon commits from one goroutine and reads from others.
package pebble

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	pebblev2 "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/picogo/picogo/disk"
)

// ErrClosed is returned by every method of a Store after Close.
var ErrClosed = errors.New("disk/pebble: store is closed")

// Logger receives Pebble's own log messages. Fatalf must not return.
type Logger = pebblev2.Logger

// Options configure Open. The zero value is the default.
type Options struct {
	// Logger receives Pebble's log messages (flushes, compactions,
	// background errors). Nil discards them; a fatal message still panics.
	Logger Logger
	// CacheSize is the size in bytes of Pebble's block cache; 0 means
	// Pebble's default (8 MiB).
	CacheSize int64
}

// formatVersion is the on-disk format Open creates, or ratchets an older
// store to. It is pinned rather than FormatNewest, so that upgrading Pebble
// never changes the format (irreversibly) without a decision here. It is at
// least FormatWALSyncChunks, with which WAL replay tells a torn tail (the
// unsynced end of the log, dropped) from corruption before the synced offset.
const formatVersion = pebblev2.FormatValueSeparation

// memTableSize is the size of Pebble's memtable: see open.
const memTableSize = 64 << 20

// userPrefix starts every Pebble key the store writes; unboundedEnd sorts
// after every such key.
const userPrefix = 0x01

var unboundedEnd = []byte{userPrefix + 1}

// Store is a disk.Store on a Pebble database. Create it with Open.
type Store struct {
	db *pebblev2.DB

	mu       sync.Mutex
	idle     sync.Cond // signalled when inflight falls to 0 after Close began
	inflight int       // calls under way; Close waits for them
	closed   bool

	// commits counts the Commits that wrote to the key space, so that a Scan
	// whose callback commits can see the store as it now stands.
	commits atomic.Uint64
}

var _ disk.Store = (*Store)(nil)

// Open opens the store in dir, creating the directory and an empty store if
// there is none. Every batch committed before the last synced Commit (or
// before Close) is there; the store replays its log to get them back.
func Open(dir string, opts Options) (*Store, error) { return open(dir, opts, nil) }

// open is Open on the file system fs; nil means the operating system's.
// Tests pass a crashable in-memory one to model power loss.
func open(dir string, opts Options, fs vfs.FS) (*Store, error) {
	logger := opts.Logger
	if logger == nil {
		logger = discardLogger{}
	}
	if fs == nil {
		fs = vfs.Default
	}
	db, err := pebblev2.Open(dir, &pebblev2.Options{
		FormatMajorVersion: formatVersion,
		CacheSize:          opts.CacheSize,
		Logger:             logger,
		FS:                 walFS{fs},
		// Pebble's default memtable is 4 MiB: under a steady stream of
		// Raft entries and local snapshots (each the whole state) it
		// flushed every second or two, and most of what it flushed — log
		// entries purged and snapshots replaced soon after — was then
		// rewritten by compactions only to be deleted. With 64 MiB, a
		// range deletion more often finds what it deletes still in the
		// memtable: in a model of the bench's writes (1M entries, a
		// snapshot each time the log outgrows it) compactions wrote 66
		// MiB instead of 215, and Pebble's CPU fell by a third
		// (docs/BENCHMARKS.md). A restart replays up to that much more
		// WAL.
		MemTableSize: memTableSize,
	})
	if err != nil {
		return nil, fmt.Errorf("disk/pebble: open %s: %w", dir, err)
	}
	s := &Store{db: db}
	s.idle.L = &s.mu
	return s, nil
}

// acquire registers a call, or returns ErrClosed. Every acquire that
// succeeds is paired with a release; Close waits for all of them, since
// Pebble panics when used after, or concurrently with, its Close.
func (s *Store) acquire() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	s.inflight++
	return nil
}

func (s *Store) release() {
	s.mu.Lock()
	s.inflight--
	if s.inflight == 0 && s.closed {
		s.idle.Broadcast()
	}
	s.mu.Unlock()
}

// Get returns a copy of the value stored under key. It sees every committed
// batch, synced or not.
func (s *Store) Get(key []byte) ([]byte, bool, error) {
	if err := s.acquire(); err != nil {
		return nil, false, err
	}
	defer s.release()
	v, closer, err := s.db.Get(userKey(nil, key))
	if errors.Is(err, pebblev2.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	out := append([]byte{}, v...)
	if err := closer.Close(); err != nil {
		return nil, false, err
	}
	return out, true, nil
}

// Scan calls fn with copies of each key and value in [start, end), in
// bytewise ascending order, until fn returns false. A nil or empty start
// means from the first key, and a nil or empty end means to the last.
//
// fn may read from and commit to the store (not Close it). After a Commit,
// by fn or by another goroutine, the scan goes on from the first key after
// the one it last passed, as the store now stands; between commits it reads
// one consistent view of the store.
func (s *Store) Scan(start, end []byte, fn func(key, value []byte) bool) (err error) {
	if err := s.acquire(); err != nil {
		return err
	}
	defer s.release()
	if len(end) > 0 && bytes.Compare(start, end) >= 0 {
		return nil
	}
	iopts := &pebblev2.IterOptions{LowerBound: userKey(nil, start), UpperBound: unboundedEnd}
	if len(end) > 0 {
		iopts.UpperBound = userKey(nil, end)
	}
	it, err := s.db.NewIter(iopts)
	if err != nil {
		return err
	}
	defer func() {
		if it != nil {
			err = errors.Join(err, it.Close())
		}
	}()

	seen := s.commits.Load()
	var last []byte // the Pebble key last passed to fn
	for ok := it.First(); ok; {
		last = append(last[:0], it.Key()...)
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		if !fn(append([]byte{}, last[1:]...), append([]byte{}, v...)) {
			return nil
		}
		if c := s.commits.Load(); c == seen {
			ok = it.Next()
			continue
		}
		// A commit happened while fn ran (fn's or another writer's): an
		// iterator reads the store as of its creation, so take a new one
		// and place it just after the last key passed.
		seen = s.commits.Load()
		if err := it.Close(); err != nil {
			it = nil
			return err
		}
		if it, err = s.db.NewIter(iopts); err != nil {
			it = nil
			return err
		}
		ok = it.SeekGE(append(last, 0x00))
	}
	return it.Error()
}

var (
	syncOpts   = pebblev2.Sync
	noSyncOpts = pebblev2.NoSync
)

// Commit applies b atomically as one Pebble batch. With sync, the batch and
// every one committed before it are durable (the WAL is fsynced) when Commit
// returns; without it, a crash may lose the batch, never part of it. An
// empty or nil batch writes nothing; with sync it still syncs the WAL. A
// batch holding an operation of unknown kind is rejected whole.
//
// Commit copies what b holds: b may be reused as soon as it returns.
func (s *Store) Commit(b *disk.Batch, sync bool) error {
	if err := s.acquire(); err != nil {
		return err
	}
	defer s.release()
	var ops []disk.Op
	if b != nil {
		ops = b.Ops
	}
	for i, op := range ops {
		switch op.Kind {
		case disk.OpSet, disk.OpDelete, disk.OpDeleteRange:
		default:
			return fmt.Errorf("disk/pebble: batch op %d has unknown kind %d", i, op.Kind)
		}
	}

	// Sized up front: a snapshot's batch of tens of megabytes, grown by
	// doubling, was copied about twice more on the way (docs/BENCHMARKS.md).
	pb := s.db.NewBatchWithSize(batchBytes(ops))
	defer pb.Close()
	var kbuf, ebuf []byte // Pebble copies keys into the batch: reuse these
	for _, op := range ops {
		var err error
		kbuf = userKey(kbuf[:0], op.Key)
		switch op.Kind {
		case disk.OpSet:
			err = pb.Set(kbuf, op.Value, nil)
		case disk.OpDelete:
			err = pb.Delete(kbuf, nil)
		case disk.OpDeleteRange:
			end := unboundedEnd
			if len(op.End) > 0 {
				if bytes.Compare(op.Key, op.End) >= 0 {
					continue // an empty range
				}
				ebuf = userKey(ebuf[:0], op.End)
				end = ebuf
			}
			err = pb.DeleteRange(kbuf, end, nil)
		}
		if err != nil {
			return err
		}
	}

	wo := noSyncOpts
	if sync {
		wo = syncOpts
	}
	if pb.Empty() {
		if !sync {
			return nil
		}
		// Pebble commits an empty batch without touching the WAL; a
		// log-only record makes it write and fsync the log.
		return s.db.LogData(nil, syncOpts)
	}
	if err := s.db.Apply(pb, wo); err != nil {
		return err
	}
	s.commits.Add(1)
	return nil
}

// batchBytes is about the size of Pebble's encoding of ops: its header,
// then per op a kind, the key and value with their varint lengths, and
// the userPrefix byte of each key.
func batchBytes(ops []disk.Op) int {
	n := 12
	for _, op := range ops {
		n += 1 + 2*(binary.MaxVarintLen32+1) + len(op.Key) + len(op.Value) + len(op.End)
	}
	return n
}

// Close waits for the calls under way, then closes the database; everything
// committed, synced or not, is in its log and there at the next Open. A
// second Close returns ErrClosed, as does every other method after Close. A
// Scan callback must not call Close: Close would wait for that Scan.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.closed = true
	for s.inflight > 0 {
		s.idle.Wait()
	}
	s.mu.Unlock()
	return s.db.Close()
}

// userKey appends to dst the Pebble key of the store's key k.
func userKey(dst, k []byte) []byte {
	dst = append(dst, userPrefix)
	return append(dst, k...)
}

// discardLogger drops Pebble's messages, except that Fatalf, which Pebble
// expects not to return, panics.
type discardLogger struct{}

func (discardLogger) Infof(string, ...any)  {}
func (discardLogger) Errorf(string, ...any) {}
func (discardLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf("pebble: "+format, args...))
}

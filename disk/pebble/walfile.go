package pebble

// The WAL file: how the store has Pebble's write-ahead log written and
// synced. Both choices here are about the cost of one fdatasync per Raft
// batch, the store's hottest system call.

import (
	"errors"
	"sync/atomic"
	"syscall"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// walCategory is the category Pebble creates (and recycles) its WAL files
// with.
const walCategory vfs.DiskWriteCategory = "pebble-wal"

// prewriteChunk is how far ahead of the WAL's end the file is written with
// zeros, and in what steps.
//
// Why: an fdatasync after an append must also write the file's metadata
// (its new size and, on ext4, the conversion of its preallocated extents;
// with a journal, a journal commit), while one after overwriting blocks
// already written and synced writes the data alone. On the bench's ext4 a
// 1500-byte write and its fdatasync took 194-212 µs (92-96 µs of CPU)
// appending, against 121-130 µs (61-63 µs of CPU) overwriting
// (docs/BENCHMARKS.md, step 17). Pebble gets the cheap kind only from a
// recycled WAL, which needs a memtable flush first; picogo's WAL is mostly
// a fresh file that only grows, and every Raft append is one fdatasync of
// it. So the store writes the WAL ahead of its end with zeros, a chunk at a
// time: then one fdatasync in a chunk's worth of appends writes the new
// size (and the chunk's zeros: about 1 ms here for 1 MiB), and every other
// one overwrites.
//
// Pebble's WAL reader already reads a zeroed tail as the end of the log: it
// is what a preallocated or recycled WAL looks like after a crash.
const prewriteChunk = 1 << 20

var zeroChunk [prewriteChunk]byte

// walFS is fs with Pebble's WAL files made walFiles; every other file is
// fs's own.
type walFS struct {
	vfs.FS
}

func (fs walFS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, category)
	if err != nil || category != walCategory {
		return f, err
	}
	return &walFile{File: f}, nil
}

func (fs walFS) ReuseForWrite(oldname, newname string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(oldname, newname, category)
	if err != nil || category != walCategory {
		return f, err
	}
	// A recycled WAL is written to its old size already: only what goes
	// beyond it needs zeros first.
	info, err := f.Stat()
	if err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return &walFile{File: f, end: info.Size()}, nil
}

// walFile is a WAL file that Pebble writes sequentially from offset 0 with
// Write, kept written (with zeros where Pebble has not written yet) at least
// to the end of the chunk its next Write lands in, and synced by SyncData
// as rawSyncMax says.
//
// Pebble writes a WAL from one goroutine but lets Sync run beside Write
// (its syncingFile keeps its offset atomic for that), so off, which
// SyncData reads, is atomic; end is Write's own and synced SyncData's.
type walFile struct {
	vfs.File
	off    atomic.Int64 // where the next Write lands
	end    int64        // the file is written up to here
	synced int64        // off when the last SyncData began
}

func (f *walFile) Write(p []byte) (int, error) {
	off := f.off.Load()
	for need := off + int64(len(p)); need > f.end; {
		if _, err := f.File.WriteAt(zeroChunk[:], f.end); err != nil {
			return 0, err
		}
		f.end += prewriteChunk
	}
	n, err := f.File.Write(p)
	f.off.Add(int64(n))
	return n, err
}

// rawSyncMax is the most unsynced WAL a SyncData syncs as a raw system
// call.
//
// Why: Go's scheduler hands the P of a goroutine blocked in a system call
// to another thread once sysmon sees the call outlast its 20 µs tick, and
// after a handoff sysmon polls every 20 µs for the next millisecond. An
// fdatasync lasts 100-200 µs and the WAL is synced once per Raft batch, so
// nearly every sync woke a thread and kept sysmon polling: at 16 clients
// the three servers made 2.2 nanosleeps per write (89% of them sysmon's)
// among 5.9 context switches; with raw syncs 1.8 and 5.1, and 5-12% more
// writes/s in four alternating pairings (docs/BENCHMARKS.md, step 17). A
// raw call keeps the P. What that costs: the P runs nothing else until the
// sync returns, and a stop-the-world (the collector's) waits for it — on a
// disk that stalls, the whole process stalls at its next collection, as
// etcd's Raft loop does at its next fsync. So only a small sync, a Raft
// batch's, is raw; a large one (a local snapshot's) keeps Go's handoff.
const rawSyncMax = 256 << 10

func (f *walFile) SyncData() error {
	off := f.off.Load()
	fd := f.File.Fd()
	if fd == vfs.InvalidFd || off-f.synced > rawSyncMax {
		f.synced = off
		return f.File.SyncData()
	}
	f.synced = off
	for {
		_, _, e := syscall.RawSyscall(syscall.SYS_FDATASYNC, fd, 0, 0)
		switch e {
		case 0:
			return nil
		case syscall.EINTR:
			continue
		default:
			return e
		}
	}
}

package pebble

import (
	"github.com/cockroachdb/pebble/v2/vfs"
)

// walCategory is the category Pebble creates (and recycles) its WAL files
// with.
const walCategory vfs.DiskWriteCategory = "pebble-wal"

// prewriteChunk is how far ahead of the WAL's end the file is written with
// zeros, and in what steps.
//
// Why: an fdatasync after an append must commit the file's new size (and,
// on ext4, the conversion of its preallocated extents) to the file system's
// journal, while one after overwriting blocks already written and synced
// needs no journal commit at all. On the bench's ext4 a 1500-byte write
// and its fdatasync took 190-210 µs and 93 µs of CPU appending, against
// 120-130 µs and 60-67 µs overwriting (docs/BENCHMARKS.md, step 17). Pebble
// gets the cheap kind only from a recycled WAL, which needs a memtable
// flush first; picogo's WAL is mostly a fresh file that only grows, and
// every Raft append is one fdatasync of it. So the store writes the WAL
// ahead of its end with zeros, a chunk at a time: then one fdatasync in a
// chunk's worth of appends commits the new size (and flushes the chunk's
// zeros: about 1 ms here for 1 MiB), and every other one overwrites.
//
// Pebble's WAL reader already reads a zeroed tail as the end of the log: it
// is what a preallocated or recycled WAL looks like after a crash.
const prewriteChunk = 1 << 20

var zeroChunk [prewriteChunk]byte

// prewriteFS is fs with Pebble's WAL files written ahead with zeros (see
// prewriteChunk); every other file is fs's own.
type prewriteFS struct {
	vfs.FS
}

func (fs prewriteFS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, category)
	if err != nil || category != walCategory {
		return f, err
	}
	return &prewrittenFile{File: f}, nil
}

func (fs prewriteFS) ReuseForWrite(oldname, newname string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(oldname, newname, category)
	if err != nil || category != walCategory {
		return f, err
	}
	// A recycled WAL is written to its old size already: only what goes
	// beyond it needs zeros first.
	info, err := f.Stat()
	if err != nil {
		return nil, firstErr(err, f.Close())
	}
	return &prewrittenFile{File: f, end: info.Size()}, nil
}

// prewrittenFile is a WAL file that Pebble writes sequentially from offset
// 0 with Write, kept written (with zeros where Pebble has not written yet)
// at least to the end of the chunk its next Write lands in.
type prewrittenFile struct {
	vfs.File
	off int64 // where the next Write lands
	end int64 // the file is written up to here
}

func (f *prewrittenFile) Write(p []byte) (int, error) {
	for need := f.off + int64(len(p)); need > f.end; {
		if _, err := f.File.WriteAt(zeroChunk[:], f.end); err != nil {
			return 0, err
		}
		f.end += prewriteChunk
	}
	n, err := f.File.Write(p)
	f.off += int64(n)
	return n, err
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

package pebble

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/disk"
)

// contents reads the whole file name of fs.
func contents(t *testing.T, fs vfs.FS, name string) []byte {
	t.Helper()
	f, err := fs.Open(name)
	require.NoError(t, err)
	defer f.Close()
	b, err := io.ReadAll(f)
	require.NoError(t, err)
	return b
}

// A WAL file is written with zeros a chunk ahead of what Pebble wrote, so
// that its fdatasyncs overwrite; other files are left as written.
func TestWALPrewritten(t *testing.T) {
	fs := walFS{vfs.NewMem()}
	wal, err := fs.Create("000001.log", walCategory)
	require.NoError(t, err)
	_, err = wal.Write([]byte("head"))
	require.NoError(t, err)
	b := contents(t, fs, "000001.log")
	require.Len(t, b, prewriteChunk, "the first write readies a whole chunk")
	require.Equal(t, "head", string(b[:4]))
	require.True(t, allZero(b[4:]), "the rest of the chunk is zeros")

	// A write that crosses the chunk's end readies the next chunk first.
	tail := bytes.Repeat([]byte{7}, prewriteChunk)
	_, err = wal.Write(tail)
	require.NoError(t, err)
	b = contents(t, fs, "000001.log")
	require.Len(t, b, 2*prewriteChunk)
	require.Equal(t, tail, b[4:4+prewriteChunk])
	require.True(t, allZero(b[4+prewriteChunk:]))
	require.NoError(t, wal.Close())

	other, err := fs.Create("MANIFEST-000001", "pebble-manifest")
	require.NoError(t, err)
	_, err = other.Write([]byte("manifest"))
	require.NoError(t, err)
	require.NoError(t, other.Close())
	require.Len(t, contents(t, fs, "MANIFEST-000001"), len("manifest"), "only the WAL is written ahead")
}

// A recycled WAL is written to its old size already: Pebble's writes
// overwrite its old bytes, and zeros come only past them.
func TestWALRecycledPrewritten(t *testing.T) {
	mem := vfs.NewMem()
	old := bytes.Repeat([]byte{0xff}, prewriteChunk+prewriteChunk/2)
	f, err := mem.Create("000001.log", walCategory)
	require.NoError(t, err)
	_, err = f.Write(old)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	fs := walFS{mem}
	wal, err := fs.ReuseForWrite("000001.log", "000002.log", walCategory)
	require.NoError(t, err)
	_, err = wal.Write([]byte("head"))
	require.NoError(t, err)
	b := contents(t, fs, "000002.log")
	require.Len(t, b, len(old), "nothing is added while the old bytes last")
	require.Equal(t, "head", string(b[:4]))

	rest := bytes.Repeat([]byte{7}, len(old))
	_, err = wal.Write(rest)
	require.NoError(t, err)
	b = contents(t, fs, "000002.log")
	require.Len(t, b, len(old)+prewriteChunk)
	require.Equal(t, rest, b[4:4+len(old)])
	require.True(t, allZero(b[4+len(old):]))
	require.NoError(t, wal.Close())
}

// On a real directory the store's WAL is written ahead: its file is at
// least a chunk long after the first synced commit, and the store reopens
// with everything committed.
func TestStoreWALIsPrewritten(t *testing.T) {
	dir := t.TempDir()
	s, err := open(dir, Options{}, nil)
	require.NoError(t, err)
	var b disk.Batch
	b.Set([]byte("k"), []byte("v"))
	require.NoError(t, s.Commit(&b, true))
	var wals []string
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".log") {
			wals = append(wals, e.Name())
		}
	}
	require.NotEmpty(t, wals)
	info, err := os.Stat(filepath.Join(dir, wals[len(wals)-1]))
	require.NoError(t, err)
	require.GreaterOrEqual(t, info.Size(), int64(prewriteChunk))
	require.NoError(t, s.Close())

	s, err = open(dir, Options{}, nil)
	require.NoError(t, err)
	defer s.Close()
	v, ok, err := s.Get([]byte("k"))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "v", string(v))
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// SyncData syncs a small tail with a raw system call and a large one with
// Go's usual one; both sync, and both report the system's error rather
// than swallow it.
func TestWALSyncData(t *testing.T) {
	for _, size := range []int64{100, rawSyncMax + 1} {
		wal, err := walFS{vfs.Default}.Create(filepath.Join(t.TempDir(), "000001.log"), walCategory)
		require.NoError(t, err)
		_, err = wal.Write(bytes.Repeat([]byte{1}, int(size)))
		require.NoError(t, err)
		require.NoError(t, wal.SyncData(), "size %d", size)
		require.NoError(t, wal.Close())

		// A character device cannot be synced: fdatasync says EINVAL.
		null, err := vfs.Default.Open(os.DevNull)
		require.NoError(t, err)
		f := &walFile{File: null}
		f.off.Store(size)
		require.ErrorIs(t, f.SyncData(), syscall.EINVAL, "size %d", size)
		require.NoError(t, null.Close())
	}
}

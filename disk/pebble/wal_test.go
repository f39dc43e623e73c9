package pebble

import (
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/wal/waltest"
	"github.com/picogo/picogo/disk"
)

// The log of user data (core/wal) recovers on Pebble as it does on the
// simulator's disk: its recovery suite, on real files and on Pebble's
// crashable in-memory file system.

// dirDisk is a store in a directory; its crash is a process restart,
// which loses nothing committed (the page cache survives).
type dirDisk struct {
	dir string
	s   *Store
}

func (d *dirDisk) Store() disk.Store { return d.s }

func (d *dirDisk) Crash(t *testing.T, _ *rand.Rand, _ bool) {
	t.Helper()
	require.NoError(t, d.s.Close())
	var err error
	d.s, err = open(d.dir, Options{}, nil)
	require.NoError(t, err)
}

func TestWALRecoveryDir(t *testing.T) {
	waltest.Run(t, func(t *testing.T) waltest.Disk {
		dir := t.TempDir()
		s, err := open(dir, Options{}, nil)
		require.NoError(t, err)
		d := &dirDisk{dir: dir, s: s}
		t.Cleanup(func() { d.s.Close() })
		return d
	}, 10)
}

// memDisk is a store on a crashable in-memory file system; its crash is a
// power loss: the store reopens a crash clone, which holds what was synced
// and, when tearing, some of what was not.
type memDisk struct {
	fs *vfs.MemFS
	s  *Store
}

func (d *memDisk) Store() disk.Store { return d.s }

func (d *memDisk) Crash(t *testing.T, r *rand.Rand, tear bool) {
	t.Helper()
	percent := 0
	if tear {
		percent = r.IntN(101)
	}
	clone := d.fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: percent, RNG: r})
	require.NoError(t, d.s.Close())
	d.fs = clone
	var err error
	d.s, err = open("db", Options{}, clone)
	require.NoError(t, err)
}

func TestWALRecoveryPowerLoss(t *testing.T) {
	waltest.Run(t, func(t *testing.T) waltest.Disk {
		fs := vfs.NewCrashableMem()
		s, err := open("db", Options{}, fs)
		require.NoError(t, err)
		d := &memDisk{fs: fs, s: s}
		t.Cleanup(func() { d.s.Close() })
		return d
	}, 50)
}

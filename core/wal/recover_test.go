package wal_test

import (
	"flag"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/wal/waltest"
	"github.com/picogo/picogo/disk"
	"github.com/picogo/picogo/disk/simdisk"
)

// simDisk is the simulator's disk: a crash loses every write not synced and
// may leave the first of them torn, which simdisk's recovery drops.
type simDisk struct{ s *simdisk.Store }

func (d *simDisk) Store() disk.Store { return d.s }

func (d *simDisk) Crash(t *testing.T, r *rand.Rand, tear bool) {
	t.Helper()
	d.s.Crash(r, tear)
	_, err := d.s.Recover()
	require.NoError(t, err)
}

var seeds = flag.Int("wal.seeds", 300, "how many seeds the randomized recovery test runs")

func TestRecoverySimdisk(t *testing.T) {
	waltest.Run(t, func(t *testing.T) waltest.Disk {
		return &simDisk{simdisk.New(simdisk.Options{CompactAt: 4 << 10})}
	}, *seeds)
}

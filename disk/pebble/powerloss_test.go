package pebble

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/disk"
)

// TestPowerLoss runs the store on Pebble's crashable in-memory file system
// and takes crash clones of it: a clone holds what was synced and, at most,
// some of what was not. This is the power-loss story, which a killed process
// (the page cache survives) cannot tell: a synced Commit must really sync,
// and an empty synced batch must sync the batches before it.
func TestPowerLoss(t *testing.T) {
	fs := vfs.NewCrashableMem()
	s, err := open("db", Options{}, fs)
	require.NoError(t, err)
	defer s.Close()
	r := rand.New(rand.NewPCG(9, 10))

	pair := func(i int) *disk.Batch {
		var b disk.Batch
		b.Set(fmt.Appendf(nil, "p/%06d/a", i), []byte(strconv.Itoa(i)))
		b.Set(fmt.Appendf(nil, "p/%06d/b", i), []byte(strconv.Itoa(i)))
		return &b
	}
	// check opens a crash clone and returns how many batches it holds,
	// after checking that batches 0..durable-1 are all there, that the
	// batches there are a prefix of those committed, and none by half.
	check := func(durable, percent int) int {
		clone := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: percent, RNG: r})
		c, err := open("db", Options{}, clone)
		require.NoError(t, err)
		defer func() { require.NoError(t, c.Close()) }()
		got := map[int]int{}
		require.NoError(t, c.Scan([]byte("p/"), []byte("p0"), func(k, v []byte) bool {
			i, err := strconv.Atoi(string(k[2:8]))
			require.NoError(t, err)
			require.Equal(t, strconv.Itoa(i), string(v))
			got[i]++
			return true
		}))
		for i, n := range got {
			require.Equal(t, 2, n, "batch %d is there by half", i)
		}
		for i := range max(durable, len(got)) {
			require.Contains(t, got, i, "batch %d lost (durable up to %d, %d there)", i, durable, len(got))
		}
		return len(got)
	}

	next, durable := 0, 0
	for round := range 30 {
		for range r.IntN(10) {
			require.NoError(t, s.Commit(pair(next), false))
			next++
		}
		switch round % 3 {
		case 0: // a synced batch makes it and all before it durable
			require.NoError(t, s.Commit(pair(next), true))
			next++
			durable = next
		case 1: // so does an empty synced batch
			require.NoError(t, s.Commit(&disk.Batch{}, true))
			durable = next
		}
		check(durable, 0)
		check(durable, 50)
	}
	t.Logf("%d batches, %d durable", next, durable)
}

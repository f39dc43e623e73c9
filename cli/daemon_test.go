package cli

import (
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picogo/picogo/disk"
	"github.com/picogo/picogo/internal/procs"
	"github.com/stretchr/testify/require"
)

// failingStore is a store whose writes fail once failing is set.
type failingStore struct {
	disk.Store
	failing atomic.Bool
	failed  atomic.Int32
}

var errDiskGone = errors.New("input/output error")

func (s *failingStore) Commit(b *disk.Batch, sync bool) error {
	if s.failing.Load() {
		s.failed.Add(1)
		return errDiskGone
	}
	return s.Store.Commit(b, sync)
}

// TestAFailedDiskWriteStopsTheDaemon: the production runtime, in process,
// over a store whose writes fail: the instance stops and `picogo run`
// exits 1 saying why, instead of waiting for ever for the write.
func TestAFailedDiskWriteStopsTheDaemon(t *testing.T) {
	addrs, err := procs.FreeAddrs(1)
	require.NoError(t, err)
	env := map[string]string{"PICOGO_DATA_DIR": filepath.Join(t.TempDir(), "data"), "PICOGO_LISTEN": addrs[0],
		"PICOGO_TICK": "20ms"}
	cfg, err := parseRunConfig(nil, func(k string) string { return env[k] }, io.Discard)
	require.NoError(t, err)
	store := &failingStore{}
	d, err := startDaemon(cfg, slog.New(slog.DiscardHandler), func(path string) (disk.Store, error) {
		s, err := openPebble(path)
		store.Store = s
		return store, err
	})
	require.NoError(t, err)
	store.failing.Store(true) // the boot's first write fails (or the next one)
	exit := make(chan int, 1)
	go func() { exit <- d.run() }()
	select {
	case code := <-exit:
		require.Equal(t, 1, code, "a failed disk write ends picogo run with 1")
		require.Positive(t, store.failed.Load(), "a write failed")
	case <-time.After(20 * time.Second):
		t.Fatal("the daemon did not stop after its disk failed a write")
	}
}

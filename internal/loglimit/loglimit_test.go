package loglimit

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLogLimiterLetsABurstThroughThenSummarizes(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	l := New(log, slog.LevelWarn, "things", 2, 50*time.Millisecond)
	var got []bool
	for range 5 {
		got = append(got, l.Allow())
	}
	assert.Equal(t, []bool{true, true, false, false, false}, got)
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "3 more things in the last 50ms") }, 5*time.Second, 5*time.Millisecond)
	assert.Contains(t, logs.String(), "level=WARN")
	assert.True(t, l.Allow(), "a new interval lets lines through again")
	l.Stop()
	assert.Equal(t, 1, strings.Count(logs.String(), "more things"), "nothing held back: no second summary")
}

// syncBuffer is a log destination safe for the summary's timer goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

package tcp

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLogLimiterLetsABurstThroughThenSummarizes(t *testing.T) {
	log, logs := newTestLogger()
	l := newLogLimiter(log, slog.LevelWarn, "things", 2, 50*time.Millisecond)
	var got []bool
	for range 5 {
		got = append(got, l.allow())
	}
	assert.Equal(t, []bool{true, true, false, false, false}, got)
	waitFor(t, func() bool { return strings.Contains(logs.String(), "3 more things in the last 50ms") })
	assert.Contains(t, logs.String(), "level=WARN")
	assert.True(t, l.allow(), "a new interval lets lines through again")
	l.stop()
	assert.Equal(t, 1, strings.Count(logs.String(), "more things"), "nothing held back: no second summary")
}

func TestGarbageConnectionsAreLoggedWithinALimit(t *testing.T) {
	log, logs := newTestLogger()
	srv, addr := startServer(t, ServerConfig{Serve: echoServe, Logger: log})
	for range logBurst + 3 {
		c := dialRaw(t, addr)
		c.send([]byte{0xc1})
		c.expectClosed()
	}
	require.NoError(t, srv.Close())
	assert.Equal(t, logBurst, strings.Count(logs.String(), "iproto connection closed"), logs.String())
	assert.Contains(t, logs.String(), `msg="3 more connections closed for protocol violations in the last 10s"`)
}

func TestFailedLoginsAreLoggedWithinALimit(t *testing.T) {
	log, logs := newTestLogger()
	srv, addr := startServer(t, ServerConfig{Auth: newTestAuth("admin", "secret"), Serve: echoServe, Logger: log})
	c := dialRaw(t, addr)
	for range logBurst + 2 {
		require.NotNil(t, c.auth("admin", "wrong").Err)
	}
	require.NoError(t, srv.Close())
	assert.Equal(t, logBurst, strings.Count(logs.String(), "iproto authentication failed"), logs.String())
	assert.Contains(t, logs.String(), `level=INFO msg="2 more failed logins in the last 10s"`)
}

package tcp

import (
	"strings"
	"testing"

	"github.com/picogo/picogo/internal/loglimit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGarbageConnectionsAreLoggedWithinALimit(t *testing.T) {
	log, logs := newTestLogger()
	srv, addr := startServer(t, ServerConfig{Serve: echoServe, Logger: log})
	for range loglimit.Burst + 3 {
		c := dialRaw(t, addr)
		c.send([]byte{0xc1})
		c.expectClosed()
	}
	require.NoError(t, srv.Close())
	assert.Equal(t, loglimit.Burst, strings.Count(logs.String(), "iproto connection closed"), logs.String())
	assert.Contains(t, logs.String(), `msg="3 more connections closed for protocol violations in the last 10s"`)
}

func TestFailedLoginsAreLoggedWithinALimit(t *testing.T) {
	log, logs := newTestLogger()
	srv, addr := startServer(t, ServerConfig{Auth: newTestAuth("admin", "secret"), Serve: echoServe, Logger: log})
	c := dialRaw(t, addr)
	for range loglimit.Burst + 2 {
		require.NotNil(t, c.auth("admin", "wrong").Err)
	}
	require.NoError(t, srv.Close())
	assert.Equal(t, loglimit.Burst, strings.Count(logs.String(), "iproto authentication failed"), logs.String())
	assert.Contains(t, logs.String(), `level=INFO msg="2 more failed logins in the last 10s"`)
}

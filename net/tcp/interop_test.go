package tcp

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/picogo/picogo/internal/testbin"
	"github.com/picogo/picogo/net/iproto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNetBoxInterop drives the server with Tarantool's own net.box (Debian's
// tarantool package), when it is installed.
func TestNetBoxInterop(t *testing.T) {
	bin := testbin.Tarantool(t)
	_, addr := startServer(t, ServerConfig{
		Auth: newTestAuth("admin", "secret", "guest", ""),
		Serve: func(s *Session, packet []byte, reply func([]byte)) {
			h, _ := readHeader(packet)
			switch h.typ {
			case iproto.TypeSelect: // net.box's schema fetch: no spaces
				reply(iproto.EncodeSelectReply(h.sync, testSchema, nil))
			case iproto.TypeCall:
				reply(echoReply(s.User(), packet))
			default:
				reply(iproto.EncodeError(h.sync, testSchema, iproto.CodeUnknownRequestType, unknownType(h.typ)))
			}
		},
	})
	script := `
local nb = require('net.box')
local c = nb.connect('admin:secret@` + addr + `')
assert(c:is_connected(), tostring(c.error))
local user, fn, args = c:call('echo', {1, 'two'})
print('call', user, fn, args[1], args[2])
print('ping', c:ping())
local g = nb.connect('guest@` + addr + `')
print('guest', (g:call('echo')))
local bad = nb.connect('admin:wrong@` + addr + `')
print('bad', bad.error)
os.exit(0)
`
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-e", script).CombinedOutput()
	require.NoError(t, err, string(out))
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	assert.Contains(t, lines, "call\tadmin\techo\t1\ttwo", string(out))
	assert.Contains(t, lines, "ping\ttrue", string(out))
	assert.Contains(t, lines, "guest\tguest", string(out))
	assert.Contains(t, lines, "bad\tIncorrect password supplied for user 'admin'", string(out))
}

// TestPoolAgainstTarantool drives a real Tarantool server with the pool,
// when tarantool is installed.
func TestPoolAgainstTarantool(t *testing.T) {
	bin := testbin.Tarantool(t)
	l, err := netListen()
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	dir := t.TempDir()
	script := `
box.cfg{listen='` + addr + `', work_dir='` + dir + `', log_level=1}
box.schema.user.create('pico', {password='pw'})
box.schema.user.grant('pico', 'execute', 'universe')
function echo(...) return box.session.user(), ... end
function slow() require('fiber').sleep(10) end
`
	file := filepath.Join(dir, "server.lua")
	require.NoError(t, os.WriteFile(file, []byte(script), 0o644))
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, file) // runs until killed, once listening
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})

	p := newTestPool(t, PoolConfig{User: "pico", Password: "pw", Backoff: func(int) time.Duration { return 20 * time.Millisecond }})
	var packet []byte
	deadline := time.Now().Add(10 * time.Second)
	for sync := uint64(1); ; sync++ { // until tarantool listens
		packet, err = Call(context.Background(), p, addr, iproto.EncodeCall(sync, "echo", mp([]any{1, "two"})))
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(t, err)
	resp, err := iproto.DecodeResponse(packet)
	require.NoError(t, err)
	require.Nil(t, resp.Err)
	var data []any
	require.NoError(t, msgpackUnmarshal(resp.Data, &data))
	assert.Equal(t, []any{"pico", int8(1), "two"}, data)

	// Pipelined, with a timeout on a call Tarantool holds.
	slow := roundtrip(p, addr, iproto.EncodeCall(1000, "slow", nil), 100*time.Millisecond)
	for i := range 50 {
		r := <-roundtrip(p, addr, iproto.EncodeCall(uint64(2000+i), "echo", mp([]any{i})), ioTimeout)
		require.NoError(t, r.err)
	}
	require.ErrorIs(t, eventually(t, slow, "the timeout").err, ErrTimeout)

	// A wrong password: Tarantool's own error.
	bad := newTestPool(t, PoolConfig{User: "pico", Password: "wrong"})
	_, err = Call(context.Background(), bad, addr, iproto.EncodePing(1))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Incorrect password supplied for user 'pico'")
}

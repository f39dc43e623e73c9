//go:build linux

package cli

import (
	"strings"
	"testing"

	"github.com/picogo/picogo/internal/testbin"
)

// TestNetBoxGetPeerAddress calls docs/procedures.md's example procedure,
// `.proc_get_peer_address`, through Tarantool's net.box: an address it
// knows, nil for an id it does not, an argument error, and guest denied.
func TestNetBoxGetPeerAddress(t *testing.T) {
	skipIfShort(t)
	tarantool := testbin.Tarantool(t)
	in := startOne(t)
	out := runTarantool(t, tarantool, []string{"PICOGO_IT_ADDR=" + in.addr, "PICOGO_IT_PASSWORD=" + itAdminPassword}, "-e", `
local netbox = require('net.box')
local addr, password = os.getenv('PICOGO_IT_ADDR'), os.getenv('PICOGO_IT_PASSWORD')
local opts = {timeout = 5}
local c = netbox.connect('admin:' .. password .. '@' .. addr, {wait_connected = 5})
print('KNOWN', c:call('.proc_get_peer_address', {1}, opts))
print('UNKNOWN', tostring(c:call('.proc_get_peer_address', {42}, opts) == nil))
local ok, err = pcall(c.call, c, '.proc_get_peer_address', {'one'}, opts)
print('BADARGS', tostring(ok), err.code, tostring(err))
local g = netbox.connect(addr, {wait_connected = 5})
ok, err = pcall(g.call, g, '.proc_get_peer_address', {1}, opts)
print('GUEST', tostring(ok), err.code)
os.exit(0)
`)
	want := []string{
		"KNOWN\t" + in.addr,
		"UNKNOWN\ttrue", // nil arrives as box.NULL
		"BADARGS\tfalse\t1\t.proc_get_peer_address: argument 1 (raft_id)",
		"GUEST\tfalse\t42",
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("net.box printed\n%s\nwant a line starting %q", out, w)
		}
	}
}

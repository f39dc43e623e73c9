//go:build linux

package cli

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/internal/testbin"
)

// netboxScript drives Tarantool's own net.box against an instance whose
// address and admin password come in PICOGO_IT_ADDR and PICOGO_IT_PASSWORD.
// Each step prints one tab-separated line, STEP then values; a step that
// raises prints "FAIL step error". Expected failures are caught with pcall
// and print the error's message and code.
const netboxScript = `
local netbox = require('net.box')
local addr, password = os.getenv('PICOGO_IT_ADDR'), os.getenv('PICOGO_IT_PASSWORD')
local opts = {timeout = 5}

local function step(name, fn)
    local ok, err = pcall(fn)
    if not ok then print('FAIL', name, tostring(err)) end
end

local c = netbox.connect('admin:' .. password .. '@' .. addr, {wait_connected = 5})
print('CONNECTED', tostring(c:is_connected()), tostring(c.error))
step('VERSION', function()
    local v = c:call('.proc_version_info', {}, opts)
    print('VERSION', v.picodata_version, v.proc_api_version)
end)
step('RAFT', function()
    local r = c:call('.proc_raft_info', {}, opts)
    print('RAFT', r.id, r.term, r.applied, r.leader_id, r.state)
end)
step('NOPROC', function()
    local ok, err = pcall(c.call, c, '.proc_does_not_exist', {}, opts)
    print('NOPROC', tostring(ok), err.code, tostring(err))
end)
step('BADARGS', function()
    local ok, err = pcall(c.call, c, '.proc_wait_index', {'ten', 1}, opts)
    print('BADARGS', tostring(ok), err.code, tostring(err))
end)
step('PEERS', function()
    local rows = c.space._pico_peer_address:select({}, opts)
    print('PEERS', #rows)
    for _, t in ipairs(rows) do print('PEER', t[1], t.address) end
end)
c:close()

local g = netbox.connect(addr, {wait_connected = 5})
step('GUEST', function()
    print('GUEST', tostring(g:is_connected()), g:call('.proc_version_info', {}, opts).picodata_version)
    local ok, err = pcall(g.call, g, '.proc_raft_info', {}, opts)
    print('GUESTDENIED', tostring(ok), err.code, tostring(err))
end)
g:close()

local b = netbox.connect('admin:wrong-password@' .. addr, {wait_connected = 5})
print('BADPASSWORD', tostring(b:is_connected()), tostring(b.error))
b:close()
print('DONE')
os.exit(0)
`

// TestNetBoxInterop drives an instance with Debian's `tarantool` (2.6)
// net.box: connect and authenticate, call .proc_version_info and
// .proc_raft_info, get errors for an unknown procedure and bad arguments,
// read _pico_peer_address through conn.space (the schema net.box fetched
// at connect), and log in as guest and with a wrong password.
func TestNetBoxInterop(t *testing.T) {
	skipIfShort(t)
	tarantool := testbin.Tarantool(t)
	in := startOne(t)

	out := runTarantool(t, tarantool, []string{"PICOGO_IT_ADDR=" + in.addr, "PICOGO_IT_PASSWORD=" + itAdminPassword},
		"-e", netboxScript)

	// Index the output: step → its fields (PEER may repeat).
	lines := map[string][][]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(line, "\t")
		lines[f[0]] = append(lines[f[0]], f[1:])
	}
	for _, f := range lines["FAIL"] {
		t.Errorf("net.box step %s raised: %s", f[0], strings.Join(f[1:], " "))
	}
	get := func(step string, n int) []string {
		t.Helper()
		got := lines[step]
		if len(got) != 1 || len(got[0]) < n {
			t.Fatalf("net.box printed %q for %s; want one line of %d fields", got, step, n)
		}
		return got[0]
	}
	num := func(what, s string) uint64 {
		t.Helper()
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s = %q; want a number", what, s)
		}
		return v
	}

	if f := get("CONNECTED", 2); f[0] != "true" {
		t.Fatalf("net.box did not connect as admin: %v", f)
	}
	if f := get("VERSION", 2); f[0] != api.Version || f[1] != api.ProcAPIVersion {
		t.Errorf(".proc_version_info via net.box = %v; want %s %s", f, api.Version, api.ProcAPIVersion)
	}
	f := get("RAFT", 5)
	if num("id", f[0]) != 1 || num("term", f[1]) < 1 || num("applied", f[2]) < 3 || num("leader_id", f[3]) != 1 || f[4] != "Leader" {
		t.Errorf(".proc_raft_info via net.box = id %s term %s applied %s leader_id %s state %s; want id 1, leader 1, Leader",
			f[0], f[1], f[2], f[3], f[4])
	}
	if f := get("NOPROC", 3); f[0] != "false" || f[1] != "33" || !strings.Contains(f[2], "is not defined") {
		t.Errorf("unknown procedure via net.box: %v; want an error 33 ... is not defined", f)
	}
	if f := get("BADARGS", 3); f[0] != "false" || f[1] != "1" || !strings.Contains(f[2], ".proc_wait_index") || !strings.Contains(f[2], "target") {
		t.Errorf("bad arguments via net.box: %v; want an error 1 naming .proc_wait_index and target", f)
	}
	if f := get("PEERS", 1); f[0] != "1" {
		t.Errorf("conn.space._pico_peer_address:select() returned %s rows; want 1", f[0])
	}
	if peers := lines["PEER"]; len(peers) != 1 || len(peers[0]) != 2 || peers[0][0] != "1" || peers[0][1] != in.addr {
		t.Errorf("_pico_peer_address via net.box = %q; want raft_id 1 at %s (read by field name)", peers, in.addr)
	}
	if f := get("GUEST", 2); f[0] != "true" || f[1] != api.Version {
		t.Errorf("guest via net.box: %v; want connected and the version", f)
	}
	if f := get("GUESTDENIED", 3); f[0] != "false" || f[1] != "42" || !strings.Contains(f[2], "denied for user 'guest'") {
		t.Errorf("guest calling .proc_raft_info via net.box: %v; want error 42 denied for user 'guest'", f)
	}
	if f := get("BADPASSWORD", 2); f[0] != "false" || !strings.Contains(f[1], "Incorrect password supplied for user 'admin'") {
		t.Errorf("wrong password via net.box: %v; want not connected, Incorrect password", f)
	}
	get("DONE", 0)
}

// TestIntegrationNetBoxDocsExample runs docs/examples/global-table.lua, the
// operators' guide's example of a table written through .proc_cas, against
// three instances: the guide shows what it prints.
func TestIntegrationNetBoxDocsExample(t *testing.T) {
	skipIfShort(t)
	tarantool := testbin.Tarantool(t)
	ins := startCluster(t, 3)
	leader, _ := waitLeader(t, ins...)
	waitAdminPassword(t, leader)
	other := others(ins, leader)[0]
	out := runTarantool(t, tarantool, []string{"PICOGO_ADMIN_PASSWORD=" + itAdminPassword},
		"../docs/examples/global-table.lua", leader.addr, other.addr)
	for _, want := range []string{"table id\t1024", `select	[["apple",5],["pear",5]]`, "on " + other.addr + "\t[\"pear\",5]"} {
		if !strings.Contains(out, want) {
			t.Errorf("global-table.lua printed no %q:\n%s", want, out)
		}
	}
}

// runTarantool runs Debian's tarantool with args (-e SCRIPT, or a file and
// its arguments) and env added, within 30 s, and returns what it printed;
// a tarantool that fails fails the test.
func runTarantool(t *testing.T, tarantool string, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, tarantool, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 2 * time.Second
	out, err := cmd.CombinedOutput()
	t.Logf("tarantool:\n%s", out)
	if err != nil {
		t.Fatalf("tarantool: %v", err)
	}
	return string(out)
}

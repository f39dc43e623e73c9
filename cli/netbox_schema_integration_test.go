//go:build linux

package cli

import (
	"strings"
	"testing"

	"github.com/picogo/picogo/internal/testbin"
)

// netboxSchemaScript connects `watcher`, creates the GLOBAL table fruit
// through .proc_cas on a second connection, pings once on watcher and
// waits (no further request) for watcher's conn.space.fruit: net.box
// reloads its schema by itself when a reply's schema version changes.
const netboxSchemaScript = `
local netbox = require('net.box')
local fiber = require('fiber')
local addr, password = os.getenv('PICOGO_IT_ADDR'), os.getenv('PICOGO_IT_PASSWORD')
local uri = 'admin:' .. password .. '@' .. addr
local watcher = netbox.connect(uri, {wait_connected = 5})
print('BEFORE', tostring(watcher.space.fruit))
local creator = netbox.connect(uri, {wait_connected = 5})
local info = creator:call('.proc_raft_info')
local def = {id = 0, name = 'fruit', distribution = 'global', engine = 'memtx', owner = 1,
    format = {{name = 'name', type = 'string', is_nullable = false}},
    primary_key = {0}, schema_version = 0, operable = true, description = ''}
local ok, err = pcall(creator.call, creator, '.proc_cas',
    {'demo', {index = info.applied, term = info.term, ranges = {}}, {kind = 'ddl_prepare', schema_version = 0, ddl = {kind = 'create_table', def = def}}, 1})
print('CREATED', tostring(ok), tostring(err))
-- Two-phase DDL: the table appears once the governor commits; every reply
-- carries the schema version, and net.box reloads when it moves.
watcher:ping()
local deadline = fiber.clock() + 5
while watcher.space.fruit == nil and fiber.clock() < deadline do fiber.sleep(0.01); watcher:ping() end
print('AFTER', tostring(watcher.space.fruit ~= nil), watcher.space.fruit and watcher.space.fruit.id or '')
os.exit(0)
`

// TestIntegrationNetBoxSeesNewTable: a net.box connection made before a
// table was created sees it without conn:reload_schema() (issue 11 item 4).
func TestIntegrationNetBoxSeesNewTable(t *testing.T) {
	skipIfShort(t)
	tarantool := testbin.Tarantool(t)
	in := startOne(t)

	out := runTarantool(t, tarantool, []string{"PICOGO_IT_ADDR=" + in.addr, "PICOGO_IT_PASSWORD=" + itAdminPassword},
		"-e", netboxSchemaScript)
	for _, want := range []string{"BEFORE\tnil\n", "CREATED\ttrue\t", "AFTER\ttrue\t1024\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("net.box printed no line starting %q", want)
		}
	}
}

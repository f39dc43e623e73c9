//go:build linux

package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/picogo/picogo/internal/testbin"
)

// netboxSQLScript drives SQL through net.box on a three-replicaset
// cluster: `.proc_sql` and conn:execute (IPROTO_EXECUTE) alike. Each line
// it prints is checked below.
const netboxSQLScript = `
local netbox = require('net.box')
local addr, password = os.getenv('PICOGO_IT_ADDR'), os.getenv('PICOGO_IT_PASSWORD')
local conn = netbox.connect('admin:' .. password .. '@' .. addr, {wait_connected = 5})
local function sql(q, params)
    local ok, res = pcall(conn.call, conn, '.proc_sql', {q, params or {}}, {timeout = 30})
    if not ok then error(q .. ': ' .. tostring(res)) end
    return res
end
print('CREATE', sql('CREATE TABLE items (id INTEGER PRIMARY KEY, kind INTEGER NOT NULL, price DOUBLE) DISTRIBUTED BY (id)').row_count)
print('CREATE', sql('CREATE TABLE kinds (id INTEGER PRIMARY KEY, name TEXT NOT NULL) DISTRIBUTED GLOBALLY').row_count)
print('INSERT', sql([[INSERT INTO kinds VALUES (0, 'zero'), (1, 'one'), (2, 'two')]]).row_count)
local n = 0
for i = 1, 60 do
    n = n + conn:execute('INSERT INTO items VALUES (?, ?, ?)', {i, i % 3, i * 0.5}).row_count
end
print('EXECUTED', n)
local spread = sql('EXPLAIN SELECT COUNT(*) FROM items')
print('EXPLAIN', spread.rows[1][1])
local r = sql([[SELECT k.name, COUNT(*) AS n, SUM(i.price) AS total FROM items i JOIN kinds k ON i.kind = k.id
               GROUP BY k.name ORDER BY total DESC LIMIT 2]])
print('META', r.metadata[1].name, r.metadata[2].name, r.metadata[2].type, r.metadata[3].type)
for _, row in ipairs(r.rows) do print('GROUP', row[1], row[2], row[3]) end
local e = conn:execute('SELECT id, price FROM items WHERE id = $1', {7})
print('POINT', e.metadata[1].name, e.rows[1][1], e.rows[1][2])
print('MOVE', sql('UPDATE items SET id = id + 1000 WHERE id <= 5').row_count)
print('MOVED', sql('SELECT COUNT(*) FROM items WHERE id > 1000').rows[1][1], sql('SELECT COUNT(*) FROM items').rows[1][1])
print('DELETE', sql('DELETE FROM items WHERE kind = $1', {0}).row_count)
print('LEFT', sql('SELECT COUNT(*), MIN(id), MAX(id) FROM items').rows[1][1])
local ok, err = pcall(conn.call, conn, '.proc_sql', {'SELECT id\nFROM items WHERE'})
print('SYNTAX', ok, tostring(err):match('line %d+, column %d+'))
local guest = netbox.connect(addr, {wait_connected = 5})
ok, err = pcall(guest.call, guest, '.proc_sql', {'SELECT * FROM items'})
print('GUEST', ok, tostring(err):match('denied') or tostring(err))
local st = conn:prepare('SELECT price FROM items WHERE id = ?')
print('PREPARED', st.param_count, conn:execute(st.stmt_id, {7}).rows[1][1])
conn:unprepare(st.stmt_id)
print('DROP', sql('DROP TABLE items').row_count, sql('DROP TABLE kinds').row_count)
ok, err = pcall(conn.execute, conn, 'SELECT * FROM items')
print('GONE', ok, tostring(err):match('does not exist') or tostring(err))
os.exit(0)
`

// TestIntegrationNetBoxSQL: the SQL issue's net.box test on three
// replicasets: a sharded and a global table, inserts, a join with GROUP BY,
// ORDER BY and LIMIT, a point read, an update of the sharding key, a
// delete, a syntax error with its position, a user without privileges, and
// the drops.
func TestIntegrationNetBoxSQL(t *testing.T) {
	skipIfShort(t)
	tarantool := testbin.Tarantool(t)
	ins := startCluster(t, 3, "--init-replication-factor", "1")
	waitSettled(t, ins...)
	waitBuckets(t, ins, 60*time.Second, 1000, 1000, 1000)

	out := runTarantool(t, tarantool, []string{"PICOGO_IT_ADDR=" + ins[1].addr, "PICOGO_IT_PASSWORD=" + itAdminPassword},
		"-e", netboxSQLScript)
	// Prices: i * 0.5 for i in 1..60; kind i % 3. Kind 0: i = 3, 6, ..., 60
	// (20 rows, sum of i 630: 315); kind 2: i = 2, 5, ..., 59 (610: 305);
	// kind 1: 590: 295. The syntax error is at the end of line 2.
	for _, want := range []string{
		"CREATE\t1\nCREATE\t1\nINSERT\t3\nEXECUTED\t60\n",
		"EXPLAIN\ton every replicaset of tier storage: ",
		"META\tname\tn\tinteger\tdouble\n",
		"GROUP\tzero\t20\t315\nGROUP\ttwo\t20\t305\n",
		"POINT\tid\t7\t3.5\n",
		"MOVE\t5\nMOVED\t5\t60\n",
		"DELETE\t20\nLEFT\t40\n",
		"SYNTAX\tfalse\tline 2, column 17\n",
		"GUEST\tfalse\tdenied\n",
		"PREPARED\t1\t3.5\n",
		"DROP\t1\t1\n",
		"GONE\tfalse\tdoes not exist\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("net.box printed no %q", want)
		}
	}
	if t.Failed() {
		t.Logf("net.box printed:\n%s", out)
	}
}

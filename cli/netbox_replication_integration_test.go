//go:build linux

package cli

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/picogo/picogo/internal/testbin"
)

// netboxDataScript is one step of the replicaset story, driven by
// Tarantool's own net.box against PICOGO_IT_ADDR: PICOGO_IT_STEP says
// which; PICOGO_IT_FROM and PICOGO_IT_TO say which rows: the FROM-th to
// TO-th row ids (from 1 up) whose buckets the instance's replicaset owns
// (_pico_bucket), so that they are its master's to write. A row's
// bucket_id is Picodata's bucket of its id, computed here as Tarantool
// computes it (digest.murmur, seed 13, over the key's msgpack: what
// box_tuple_hash does for an unsigned part). Tuples are built from the
// table's format as net.box reads it (the bucket_id column is picogo's,
// added by the DDL), so the script does not hard-code where it is.
const netboxDataScript = `
local netbox = require('net.box')
local digest, msgpack = require('digest'), require('msgpack')
local addr, password = os.getenv('PICOGO_IT_ADDR'), os.getenv('PICOGO_IT_PASSWORD')
local step = os.getenv('PICOGO_IT_STEP')
local from, to = tonumber(os.getenv('PICOGO_IT_FROM') or '0'), tonumber(os.getenv('PICOGO_IT_TO') or '0')
local opts = {timeout = 5}
local c = netbox.connect('admin:' .. password .. '@' .. addr, {wait_connected = 5})

local function bucket(id) return digest.murmur(msgpack.encode(id)) % 3000 + 1 end

local function row(id)
    local t = {}
    for i, f in ipairs(c.space.orders:format()) do
        if f.name == 'id' then t[i] = id
        elseif f.name == 'item' then t[i] = 'item-' .. id
        elseif f.name == 'bucket_id' then t[i] = bucket(id)
        end
    end
    return t
end

-- owned(n): the n-th row id whose bucket this instance's replicaset owns.
local mine = c:call('.proc_instance_info', {}, opts).replicaset_id
local ranges = c.space._pico_bucket:select({}, opts)
local function ours(id)
    local b = bucket(id)
    for _, r in ipairs(ranges) do
        if r.first <= b and b <= r.last then return r.replicaset_id == mine end
    end
    return false
end
local function owned(n)
    local id = 0
    while n > 0 do
        id = id + 1
        if ours(id) then n = n - 1 end
    end
    return id
end

if step == 'create' then
    local info = c:call('.proc_raft_info', {}, opts)
    local def = {id = 0, name = 'orders', engine = 'memtx', owner = 1, schema_version = 0, operable = false,
        description = '', primary_key = {0},
        format = {{name = 'id', type = 'unsigned', is_nullable = false},
                  {name = 'item', type = 'string', is_nullable = false}},
        distribution = 'sharded', sharding_key = {'id'}, sharding_fn = 'murmur3', tier = 'storage'}
    local ok, err = pcall(c.call, c, '.proc_cas',
        {'demo', {index = info.applied, term = info.term, ranges = {}},
         {kind = 'ddl_prepare', schema_version = 0, ddl = {kind = 'create_table', def = def}}, 1}, opts)
    print('CREATED', tostring(ok), tostring(err))
elseif step == 'owned' then
    local n = 0
    for _, r in ipairs(ranges) do
        if r.replicaset_id == mine and r.state == 'active' and r.garbage == '' then n = n + r.last - r.first + 1 end
        if r.state ~= 'active' or r.garbage ~= '' then n = -1; break end
    end
    print('OWNED', n)
elseif step == 'insert' then
    local n = 0
    for k = from, to do
        c.space.orders:insert(row(owned(k)), opts)
        n = n + 1
    end
    print('INSERTED', n)
elseif step == 'select' then
    local rows = c.space.orders:select({}, {iterator = 'GE', timeout = 5})
    local last = rows[#rows]
    print('ROWS', #rows, tostring(last and last.id == owned(#rows)))
    local some = c.space.orders:select({owned(from)}, {iterator = 'GE', limit = 3, timeout = 5})
    print('PAGE', #some, tostring(some[1] and some[1].id == owned(from)))
elseif step == 'refuse' then
    local ok, err = pcall(c.space.orders.insert, c.space.orders, row(owned(from)), opts)
    print('REFUSED', tostring(not ok), err and err.code or 0, tostring(err))
end
os.exit(0)
`

// netboxData runs one step of netboxDataScript against in.
func netboxData(t *testing.T, tarantool string, in *instance, step string, from, to int) string {
	t.Helper()
	return runTarantool(t, tarantool, []string{"PICOGO_IT_ADDR=" + in.addr, "PICOGO_IT_PASSWORD=" + itAdminPassword,
		"PICOGO_IT_STEP=" + step, fmt.Sprintf("PICOGO_IT_FROM=%d", from), fmt.Sprintf("PICOGO_IT_TO=%d", to)},
		"-e", netboxDataScript)
}

// requireLine fails unless out has a line starting with prefix.
func requireLine(t *testing.T, out, prefix string) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, prefix) {
			return
		}
	}
	t.Fatalf("no line starting %q in:\n%s", prefix, out)
}

// storageOf is in's `.proc_runtime_info` storage section.
type storageOf struct {
	VClock       map[uint64]uint64 `msgpack:"vclock"`
	MasterRaftID uint64            `msgpack:"master_raft_id"`
	Writable     bool              `msgpack:"writable"`
	Tables       []struct {
		Name string `msgpack:"name"`
		Rows int    `msgpack:"rows"`
	} `msgpack:"tables"`
}

func storageInfo(in *instance) (storageOf, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn, err := connect(ctx, in.addr, "pico_service", itServicePassword)
	if err != nil {
		return storageOf{}, err
	}
	defer conn.Close()
	var res []struct {
		Storage storageOf `msgpack:"storage"`
	}
	if err := callTyped(conn, &res, ".proc_runtime_info"); err != nil {
		return storageOf{}, err
	}
	if len(res) != 1 {
		return storageOf{}, fmt.Errorf("%d values", len(res))
	}
	return res[0].Storage, nil
}

// rowsOf is how many rows of orders in holds (-1: it holds no such table).
func (s storageOf) rowsOf(table string) int {
	for _, t := range s.Tables {
		if t.Name == table {
			return t.Rows
		}
	}
	return -1
}

// replicasetPeer is the other member of in's replicaset.
func replicasetPeer(t *testing.T, ins []*instance, in *instance) *instance {
	t.Helper()
	mine := replicasetIDOf(t, in)
	for _, x := range ins {
		if x != in && replicasetIDOf(t, x) == mine {
			return x
		}
	}
	t.Fatalf("%s has no peer in replicaset %s", in.name, mine)
	return nil
}

func replicasetIDOf(t *testing.T, in *instance) string {
	t.Helper()
	var res []struct {
		ReplicasetID string `msgpack:"replicaset_id"`
	}
	must(t, callTyped(serviceConn(t, in), &res, ".proc_instance_info"))
	return res[0].ReplicasetID
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestIntegrationNetBoxReplicasetFailover is issue 13's story with real
// processes and Tarantool's net.box: four instances in replicasets of two;
// a sharded table created through `.proc_cas` ddl_prepare; rows inserted
// with conn.space.orders:insert on a master are read on its replica after
// `.proc_wait_vclock`; the replica refuses an insert, naming the master;
// the master is killed with SIGKILL and the governor promotes the replica,
// which then takes writes; the old master restarts as a replica and
// catches up.
func TestIntegrationNetBoxReplicasetFailover(t *testing.T) {
	skipIfShort(t)
	tarantool := testbin.Tarantool(t)
	ins := startCluster(t, 4, "--init-replication-factor", "2")
	leader := waitSettled(t, ins...)
	waitAdminPassword(t, leader)

	requireLine(t, netboxData(t, tarantool, leader, "create", 0, 0), "CREATED\ttrue")
	eventually(t, 30*time.Second, "orders in every instance's engine", ins, func() error {
		for _, in := range ins {
			s, err := storageInfo(in)
			if err != nil {
				return err
			}
			if s.rowsOf("orders") < 0 {
				return fmt.Errorf("%s holds no orders table yet", in.name)
			}
		}
		return nil
	})

	// The master of a replicaset that is not the Raft leader's, so that
	// killing it does not also cost an election.
	var master *instance
	for _, in := range ins {
		s, err := storageInfo(in)
		must(t, err)
		if s.Writable && in != leader && replicasetIDOf(t, in) != replicasetIDOf(t, leader) {
			master = in
		}
	}
	if master == nil {
		t.Fatal("no writable master outside the leader's replicaset")
	}
	replica := replicasetPeer(t, ins, master)

	// Both replicasets own their share of the buckets (the governor
	// rebalanced them after the second one became ready).
	eventually(t, 60*time.Second, "buckets split 1500/1500", []*instance{master}, func() error {
		if out := netboxData(t, tarantool, master, "owned", 0, 0); !strings.Contains(out, "OWNED\t1500") {
			return fmt.Errorf("%s's replicaset: %s", master.name, strings.TrimSpace(out))
		}
		return nil
	})
	requireLine(t, netboxData(t, tarantool, master, "insert", 1, 20), "INSERTED\t20")
	ms, err := storageInfo(master)
	must(t, err)
	_, err = call(serviceConn(t, replica), ".proc_wait_vclock", ms.VClock, 5)
	must(t, err)
	out := netboxData(t, tarantool, replica, "select", 5, 0)
	requireLine(t, out, "ROWS\t20\ttrue")
	requireLine(t, out, "PAGE\t3\ttrue")
	out = netboxData(t, tarantool, replica, "refuse", 21, 0)
	requireLine(t, out, "REFUSED\ttrue")
	if !strings.Contains(out, master.addr) {
		t.Fatalf("the refusal does not name the master %s:\n%s", master.addr, out)
	}

	master.kill()
	eventually(t, 60*time.Second, "the replica promoted", []*instance{replica}, func() error {
		s, err := storageInfo(replica)
		if err != nil {
			return err
		}
		if !s.Writable {
			return fmt.Errorf("%s is not writable yet (master %d)", replica.name, s.MasterRaftID)
		}
		return nil
	})
	requireLine(t, netboxData(t, tarantool, replica, "insert", 21, 30), "INSERTED\t10")

	master.start()
	eventually(t, 60*time.Second, "the old master caught up as a replica", []*instance{master, replica}, func() error {
		a, err := storageInfo(master)
		if err != nil {
			return err
		}
		b, err := storageInfo(replica)
		if err != nil {
			return err
		}
		if a.Writable || a.rowsOf("orders") != 30 || b.rowsOf("orders") != 30 {
			return fmt.Errorf("old master writable %t with %d rows; new master %d rows", a.Writable, a.rowsOf("orders"), b.rowsOf("orders"))
		}
		return nil
	})
	requireLine(t, netboxData(t, tarantool, master, "select", 25, 0), "ROWS\t30\ttrue")
}

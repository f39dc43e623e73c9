-- Usage: tarantool sharded-table.lua [ADDR...] (default 127.0.0.1:3301 to
-- 127.0.0.1:3304: four instances with --init-replication-factor 2, so two
-- replicasets of two); admin's password from PICOGO_ADMIN_PASSWORD.
local json = require('json')
local netbox = require('net.box')
local fiber = require('fiber')
local password = os.getenv('PICOGO_ADMIN_PASSWORD') or 'secret'
local addrs = {arg[1] or '127.0.0.1:3301', arg[2] or '127.0.0.1:3302', arg[3] or '127.0.0.1:3303', arg[4] or '127.0.0.1:3304'}
local conns = {}
for i, a in ipairs(addrs) do conns[i] = netbox.connect('admin:' .. password .. '@' .. a) end
local conn = conns[1]
-- Create a sharded table: orders(id unsigned, item string), keyed and
-- sharded by id, in tier storage. picogo adds the bucket_id column after
-- the primary key, and an index on it.
local info = conn:call('.proc_raft_info')
local leader = conns[info.leader_id] or conn
info = leader:call('.proc_raft_info')
local def = {id = 0, name = 'orders', engine = 'memtx', owner = 1, schema_version = 0, operable = false,
    description = '', primary_key = {0},
    format = {{name = 'id', type = 'unsigned', is_nullable = false},
              {name = 'item', type = 'string', is_nullable = false}},
    distribution = 'sharded', sharding_key = {'id'}, sharding_fn = 'murmur3', tier = 'storage'}
print('prepare', json.encode({leader:call('.proc_cas', {'demo', {index = info.applied, term = info.term, ranges = {}},
    {kind = 'ddl_prepare', schema_version = 0, ddl = {kind = 'create_table', def = def}}, 1})}))
for _ = 1, 100 do
    if conn.space.orders ~= nil then break end
    fiber.sleep(0.05)
    conn:ping()
end
print('format', json.encode(conn.space.orders:format()))
-- Find a replicaset's master and its replica: .proc_runtime_info says who
-- takes writes here.
local master, replica
for i, c in ipairs(conns) do
    local s = c:call('.proc_runtime_info').storage
    if s.writable and master == nil then master = i end
end
local rs = conns[master]:call('.proc_instance_info').replicaset_id
for i, c in ipairs(conns) do
    if i ~= master and c:call('.proc_instance_info').replicaset_id == rs then replica = i end
end
print('master', addrs[master], 'replica', addrs[replica])
-- Rows are written on the master of the replicaset that owns their
-- bucket: {id, bucket_id, item}, bucket_id being Picodata's bucket of the
-- sharding key — Tarantool's tuple hash, which digest.murmur (seed 13)
-- over the key's msgpack computes for an unsigned key. _pico_bucket says
-- which replicaset owns which buckets.
local digest, msgpack = require('digest'), require('msgpack')
local function bucket(id) return digest.murmur(msgpack.encode(id)) % 3000 + 1 end
local ranges = conn.space._pico_bucket:select()
local function owner(id)
    for _, b in ipairs(ranges) do
        if b.first <= bucket(id) and bucket(id) <= b.last then return b.replicaset_id end
    end
end
local m, r = conns[master], conns[replica]
local ids = {}
for id = 1, 100 do
    if #ids < 4 and owner(id) == rs then table.insert(ids, id) end
end
for k = 1, 3 do m.space.orders:insert({ids[k], bucket(ids[k]), 'item-' .. ids[k]}) end
print('update', json.encode(m.space.orders:update({ids[2]}, {{'=', 'item', 'pear'}})))
-- The replica follows: wait for the master's vclock, then read there.
local vclock = m:call('.proc_get_vclock')
print('vclock', json.encode(vclock))
r:call('.proc_wait_vclock', {vclock, 5})
print('on the replica', json.encode(r.space.orders:select({}, {iterator = 'GE'})))
-- A replica refuses writes, naming the master.
local ok, err = pcall(r.space.orders.insert, r.space.orders, {ids[4], bucket(ids[4]), 'no'})
print('refused', err.code, err.message)
os.exit(0)

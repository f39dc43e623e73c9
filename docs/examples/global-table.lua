-- Usage: tarantool global-table.lua [LEADER [OTHER]] (default 127.0.0.1:3301
-- and 127.0.0.1:3302); admin's password from PICOGO_ADMIN_PASSWORD.
local json = require('json')
local netbox = require('net.box')
local leader, other_addr = arg[1] or '127.0.0.1:3301', arg[2] or '127.0.0.1:3302'
local password = os.getenv('PICOGO_ADMIN_PASSWORD') or 'secret'
local conn = netbox.connect('admin:' .. password .. '@' .. leader)
-- A CaS predicate: "I read the state as of this index of this term".
local function predicate()
    local info = conn:call('.proc_raft_info')
    return {index = info.applied, term = info.term, ranges = {}}
end
-- Create a GLOBAL table: fruit(name string, qty unsigned), keyed by name.
local def = {id = 0, name = 'fruit', distribution = 'global', engine = 'memtx', owner = 1,
    format = {{name = 'name', type = 'string', is_nullable = false},
              {name = 'qty', type = 'unsigned', is_nullable = false}},
    primary_key = {0}, schema_version = 0, operable = true, description = ''}
-- Two-phase DDL: ddl_prepare; the governor asks every replicaset master,
-- then commits (or aborts). Wait for the commit: every reply carries the
-- global schema version, and net.box loads the new table when it moves.
print('prepare', json.encode({conn:call('.proc_cas', {'demo', predicate(), {kind = 'ddl_prepare', schema_version = 0,
    ddl = {kind = 'create_table', def = def}}, 1})}))
local fiber = require('fiber')
for _ = 1, 100 do
    if conn.space.fruit ~= nil then break end
    fiber.sleep(0.05)
    conn:ping()
end
local id = conn.space.fruit.id
print('table id', id)
-- Two rows in one atomic batch.
print('insert', json.encode({conn:call('.proc_cas', {'demo', predicate(), {kind = 'batch', ops = {
    {kind = 'insert', table = id, tuple = {'apple', 3}},
    {kind = 'insert', table = id, tuple = {'pear', 5}}}}, 1})}))
-- Change one: Tarantool's update operations on the primary key.
print('update', json.encode({conn:call('.proc_cas', {'demo', predicate(), {kind = 'dml', dml =
    {kind = 'update', table = id, key = {'apple'}, ops = {{'+', 'qty', 2}}}}, 1})}))
-- Read on any instance: its applied state.
print('select', json.encode(conn.space.fruit:select()))
local other = netbox.connect('admin:' .. password .. '@' .. other_addr)
other:call('.proc_wait_index', {conn:call('.proc_get_index'), 5})
print('on ' .. other_addr, json.encode(other.space.fruit:get({'pear'})))
os.exit(0)

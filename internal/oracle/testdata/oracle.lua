-- The Tarantool side of internal/oracle's differential test: reads one
-- JSON operation per line on stdin, runs it on memtx spaces, writes one
-- JSON result per line on stdout: {"ok": [tuples as hex msgpack]} or
-- {"err": code, "msg": message}.
--
-- Values arrive tagged, so that every msgpack type survives JSON and Lua:
-- {"u": "123"} unsigned, {"i": "-5"} negative integer, {"d": 1.5} double,
-- {"s": "x"} string, {"n": true} nil, {"b": true} boolean, {"dec": "1.5"}
-- decimal, {"uuid": "..."} uuid. Field numbers in update operations and
-- index parts are 0-based (picogo's), converted here to Lua's 1-based.
local json = require('json')
local msgpack = require('msgpack')
local decimal = require('decimal')
local uuid = require('uuid')
local ffi = require('ffi')

local dir = arg[1]
box.cfg{work_dir = dir, wal_mode = 'none', log = dir .. '/tarantool.log', log_level = 5}

local a = box.schema.space.create('a', {format = {
    {name = 'id', type = 'unsigned'},
    {name = 'name', type = 'string'},
    {name = 'city', type = 'string', is_nullable = true},
    {name = 'score', type = 'number', is_nullable = true},
}})
a:create_index('pk', {parts = {{field = 1, type = 'unsigned'}}})
a:create_index('name', {parts = {{field = 2, type = 'string'}}})
a:create_index('cs', {unique = false, parts = {
    {field = 3, type = 'string', is_nullable = true},
    {field = 4, type = 'number', is_nullable = true},
}})

local b = box.schema.space.create('b', {format = {
    {name = 'k1', type = 'integer'},
    {name = 'k2', type = 'string'},
    {name = 'd', type = 'decimal', is_nullable = true},
    {name = 'u', type = 'uuid', is_nullable = true},
}})
b:create_index('pk', {parts = {{field = 1, type = 'integer'}, {field = 2, type = 'string'}}})
b:create_index('d', {unique = false, parts = {{field = 3, type = 'decimal', is_nullable = true}}})
b:create_index('u', {parts = {{field = 4, type = 'uuid', is_nullable = true}}})

local c = box.schema.space.create('c', {format = {
    {name = 'k', type = 'scalar'},
    {name = 'v', type = 'unsigned', is_nullable = true},
}})
c:create_index('pk', {parts = {{field = 1, type = 'scalar'}}})
c:create_index('v', {unique = false, parts = {{field = 2, type = 'unsigned', is_nullable = true}}})

local function value(t)
    if t.u ~= nil then return tonumber64(t.u) end
    if t.i ~= nil then return tonumber64(t.i) end
    if t.d ~= nil then return ffi.cast('double', t.d) end
    if t.s ~= nil then return t.s end
    if t.n ~= nil then return box.NULL end
    if t.b ~= nil then return t.b end
    if t.dec ~= nil then return decimal.new(t.dec) end
    if t.uuid ~= nil then return uuid.fromstr(t.uuid) end
    error('unknown value ' .. json.encode(t))
end

local function values(list)
    local out = {}
    for i, v in ipairs(list or {}) do out[i] = value(v) end
    -- An explicit length: trailing NULLs must stay in the tuple.
    return setmetatable(out, {__serialize = 'array'}), #(list or {})
end

local function array(list)
    local out, n = values(list)
    local t = {}
    for i = 1, n do t[i] = out[i] end
    return box.tuple.new(t), n
end

local function ops(list)
    local out = {}
    for i, o in ipairs(list or {}) do
        local field = o[2]
        if type(field) == 'number' and field >= 0 then field = field + 1 end
        out[i] = {o[1], field, value(o[3])}
    end
    return out
end

local function hex(s)
    return (s:gsub('.', function(ch) return string.format('%02x', ch:byte()) end))
end

local function encode(res)
    local out = {}
    for i, t in ipairs(res) do out[i] = hex(msgpack.encode(t)) end
    return out
end

local function run(op)
    local s = box.space[op.space]
    local key = op.key and select(1, values(op.key)) or nil
    if key ~= nil then
        local t = {}
        for i = 1, #op.key do t[i] = key[i] end
        key = t
    end
    if op.op == 'insert' then
        return {s:insert((array(op.tuple)))}
    elseif op.op == 'replace' then
        return {s:replace((array(op.tuple)))}
    elseif op.op == 'delete' then
        return {s.index[op.index]:delete(key)}
    elseif op.op == 'update' then
        return {s.index[op.index]:update(key, ops(op.ops))}
    elseif op.op == 'upsert' then
        s:upsert((array(op.tuple)), ops(op.ops))
        return {}
    elseif op.op == 'get' then
        return {s.index[op.index]:get(key)}
    elseif op.op == 'select' then
        return s.index[op.index]:select(key, {iterator = op.iterator, offset = op.offset, limit = op.limit})
    elseif op.op == 'try_index' then
        -- Build a secondary index over the rows, then drop it again.
        local parts = {}
        for i, p in ipairs(op.parts) do
            parts[i] = {field = p.field + 1, type = p.type, is_nullable = p.nullable}
        end
        local x = s:create_index('tmp', {unique = op.unique, parts = parts})
        x:drop()
        return {}
    elseif op.op == 'count' then
        return {box.tuple.new({s.index[op.index]:count(key, {iterator = op.iterator})})}
    end
    error('unknown op ' .. op.op)
end

for line in io.lines() do
    local op = json.decode(line)
    local ok, res = pcall(run, op)
    local out
    if ok then
        out = {ok = encode(res)}
    elseif type(res) == 'cdata' and res.code ~= nil then
        out = {err = res.code, msg = res.message}
    else
        out = {err = -1, msg = tostring(res)}
    end
    io.stdout:write(json.encode(out), '\n')
    io.stdout:flush()
end
os.exit(0)

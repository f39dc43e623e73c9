package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/picogo/picogo/internal/procs"
)

// Tarantool's side of the durable-insert comparison: a master and a
// replica, each `tarantool init.lua` with a generated script.

const (
	// replicatorUser and replicatorPassword are the user the replica
	// joins and both instances subscribe as (guest may not replicate).
	replicatorUser     = "replicator"
	replicatorPassword = "bench-replicator-secret"
	// The Lua functions both instances serve, called as guest.
	tarantoolVClockFn = "bench_vclock" // box.info.vclock without component 0
	tarantoolCountFn  = "bench_count"  // box.space.bench:len()
	tarantoolInfoFn   = "bench_info"   // readiness: see replicasetInfo
)

// replicasetScript is what an instance's init script says.
type replicasetScript struct {
	// IsReplica: this is the replica, read-only; the master creates the
	// user, the grants and the table.
	IsReplica       bool
	Master, Replica string // the instances' addresses (host:port)
	WorkDir         string
	// Version is tarantool's (major, minor): 2.11 and later bootstrap by
	// bootstrap_strategy, before by replication_connect_quorum.
	Version [2]int
}

// listen is this instance's address.
func (s replicasetScript) listen() string {
	if s.IsReplica {
		return s.Replica
	}
	return s.Master
}

// render is the init script. Both instances list both in replication (the
// master's own URI too, as Tarantool's master-replica examples do) and
// write their WAL with fsync; the instance that is not read-only, the
// master, bootstraps the replicaset once both are connected, and the
// replica joins it.
func (s replicasetScript) render() string {
	uri := func(addr string) string { return luaString(replicatorUser + ":" + replicatorPassword + "@" + addr) }
	role := "master"
	if s.IsReplica {
		role = "replica"
	}
	// Until 2.11 an instance bootstraps once replication_connect_quorum
	// of the listed instances are connected: both. 2.11 added
	// bootstrap_strategy; 'legacy' keeps that rule.
	bootstrap := "replication_connect_quorum = 2,"
	if s.Version[0] > 2 || s.Version[0] == 2 && s.Version[1] >= 11 {
		bootstrap = "bootstrap_strategy = 'legacy', replication_connect_quorum = 2,"
	}
	var b strings.Builder
	fmt.Fprintf(&b, `-- picogo bench: the Tarantool %s of the durable-insert replicaset (issue 13)
box.cfg{
    listen = %s,
    work_dir = %s,
    replication = {%s, %s},
    %s
    read_only = %t,
    wal_mode = 'fsync',
    log_level = 4,
}
`, role, luaString(s.listen()), luaString(s.WorkDir), uri(s.Master), uri(s.Replica), bootstrap, s.IsReplica)
	if !s.IsReplica {
		fmt.Fprintf(&b, `box.schema.user.create(%s, {password = %s, if_not_exists = true})
box.schema.user.grant(%s, 'replication', nil, nil, {if_not_exists = true})
box.schema.user.grant('guest', 'execute', 'universe', nil, {if_not_exists = true})
box.schema.space.create('bench', {id = %d, engine = 'memtx', if_not_exists = true, format = {
    {name = 'id', type = 'unsigned'},
    {name = 'bucket_id', type = 'unsigned'},
    {name = 'value', type = 'string'},
}})
box.space.bench:create_index('primary', {type = 'tree', parts = {'id'}, if_not_exists = true})
box.schema.user.grant('guest', 'read,write', 'space', 'bench', {if_not_exists = true})
`, luaString(replicatorUser), luaString(replicatorPassword), luaString(replicatorUser), insertSpace)
	}
	fmt.Fprintf(&b, `
function %s()
    local v = setmetatable({}, {__serialize = 'map'})
    for id, lsn in pairs(box.info.vclock) do
        if id ~= 0 then v[id] = lsn end
    end
    return v
end

function %s() return box.space.bench:len() end

function %s()
    local upstream = ''
    for _, r in pairs(box.info.replication) do
        if r.id ~= box.info.id and r.upstream ~= nil then upstream = r.upstream.status end
    end
    return {ro = box.info.ro, wal_mode = box.cfg.wal_mode, bench = box.space.bench ~= nil, upstream = upstream}
end
`, tarantoolVClockFn, tarantoolCountFn, tarantoolInfoFn)
	return b.String()
}

// replicasetInfo is bench_info's answer.
type replicasetInfo struct {
	RO       bool   `msgpack:"ro"`
	WalMode  string `msgpack:"wal_mode"`
	Bench    bool   `msgpack:"bench"`
	Upstream string `msgpack:"upstream"` // the status of the replication from the other instance
}

// ready says why an instance is not ready yet (nil: it is): the master
// writable, the replica read-only and following the master, both with the
// table and fsync.
func (i replicasetInfo) ready(replica bool) error {
	switch {
	case i.WalMode != "fsync":
		return fmt.Errorf("wal_mode is %q", i.WalMode)
	case !i.Bench:
		return errors.New("no table bench yet")
	case i.RO != replica:
		return fmt.Errorf("read-only is %t", i.RO)
	case replica && i.Upstream != "follow":
		return fmt.Errorf("replication from the master is %q", i.Upstream)
	}
	return nil
}

var tarantoolVersionRE = regexp.MustCompile(`Tarantool (\d+)\.(\d+)`)

// tarantoolVersion is (major, minor) from `tarantool --version`'s first
// line; (0, 0) if it says none.
func tarantoolVersion(line string) [2]int {
	m := tarantoolVersionRE.FindStringSubmatch(line)
	if m == nil {
		return [2]int{}
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return [2]int{major, minor}
}

// startTarantoolReplicaset is Tarantool's startInsertTarget: a master and a
// replica on free loopback ports, each with its script and log under dir,
// started together (the master bootstraps once it sees the replica), ready
// once the master is writable with the table and the replica follows it.
func startTarantoolReplicaset(ctx context.Context, cfg Config, ps *procs.Registry, dir string) (insertTarget, error) {
	addrs, err := procs.FreeAddrs(2)
	if err != nil {
		return nil, err
	}
	version := tarantoolVersion(firstLine(cfg.Tarantool, "--version"))
	var ps2 []*procs.Process
	for i, name := range []string{"master", "replica"} {
		idir := filepath.Join(dir, name)
		if err := os.MkdirAll(idir, 0o755); err != nil {
			return nil, err
		}
		s := replicasetScript{IsReplica: i == 1, Master: addrs[0], Replica: addrs[1], WorkDir: idir, Version: version}
		path := filepath.Join(idir, "init.lua")
		if err := os.WriteFile(path, []byte(s.render()), 0o644); err != nil {
			return nil, err
		}
		p, err := start(ps, "tarantool-"+name, filepath.Join(idir, "tarantool.log"), nil, idir, cfg.Tarantool, path)
		if err != nil {
			return nil, err
		}
		ps2 = append(ps2, p)
	}
	for i, name := range []string{"master", "replica"} {
		err := poll(ctx, readyTimeout, "tarantool "+name+" ready", ps2, func() error {
			c, err := connectTarantool(ctx, addrs[i], "", "")
			if err != nil {
				return err
			}
			defer c.Close()
			info, err := callOne[replicasetInfo](c, tarantoolInfoFn)
			if err != nil {
				return err
			}
			return info.ready(i == 1)
		})
		if err != nil {
			return nil, err
		}
	}
	return newIprotoReplicaset(ctx, addrs[0], addrs[1], "", "", cfg.Conns, insertSpace, tarantoolVClockFn, tarantoolCountFn, cpuOf(ps2...))
}

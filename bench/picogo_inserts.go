package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/vclock"
	"github.com/picogo/picogo/internal/procs"
	"github.com/tarantool/go-tarantool/v2"
)

// picogo's side of the durable-insert comparison (issue 13): two `picogo
// run` instances with --init-replication-factor 2, one replicaset of the
// tier storage; the sharded table `bench` created through `.proc_cas`
// ddl_prepare; iproto INSERTs on the replicaset's master.

// insertTableName is the table both systems insert into.
const insertTableName = "bench"

// insertTableDef is picogo's `bench`: sharded by id (murmur3) over the
// tier storage. Its format leaves bucket_id out: the DDL adds it right
// after the primary key, so the stored format is {id, bucket_id, value},
// Tarantool's, and the tuples are the same bytes.
var insertTableDef = schema.TableDef{ID: insertSpace, Name: insertTableName, Distribution: schema.DistributionSharded,
	Engine: "memtx", Owner: 1,
	Format:      []schema.Field{{Name: "id", Type: "unsigned"}, {Name: "value", Type: "string"}},
	PrimaryKey:  []uint32{0},
	ShardingKey: []string{"id"}, ShardingFn: schema.ShardingFnMurmur3, Tier: "storage"}

// picogoStorage is the storage section of `.proc_runtime_info`.
type picogoStorage struct {
	VClock       map[uint64]uint64 `msgpack:"vclock"`
	MasterRaftID uint64            `msgpack:"master_raft_id"`
	Writable     bool              `msgpack:"writable"`
	Tables       []struct {
		Name string `msgpack:"name"`
		Rows int64  `msgpack:"rows"`
	} `msgpack:"tables"`
}

// rowsOf is how many rows table has on the instance (-1: it holds no such
// table).
func (s picogoStorage) rowsOf(table string) int64 {
	for _, t := range s.Tables {
		if t.Name == table {
			return t.Rows
		}
	}
	return -1
}

// storageInfo is conn's instance's storage section.
func storageInfo(conn tarantool.Connector) (picogoStorage, error) {
	type runtimeInfo struct {
		Storage picogoStorage `msgpack:"storage"`
	}
	rt, err := callOne[runtimeInfo](conn, ".proc_runtime_info")
	return rt.Storage, err
}

// storageOf is in's storage section, on a fresh pico_service connection.
func storageOf(ctx context.Context, in *picogoInstance) (s picogoStorage, err error) {
	err = withService(ctx, in, func(c *tarantool.Connection) error {
		s, err = storageInfo(c)
		return err
	})
	return s, err
}

// createInsertTable creates `bench` through the Raft leader (as admin) and
// waits until every instance's engine holds it.
func createInsertTable(ctx context.Context, ins []*picogoInstance, leader *picogoInstance) error {
	w, err := newCasWriter(ctx, leader, 1, keySource{}, "")
	if err != nil {
		return err
	}
	defer w.close()
	if err := w.createTableDef(insertTableDef); err != nil {
		return err
	}
	var watch []*procs.Process
	for _, in := range ins {
		watch = append(watch, in.proc)
	}
	return poll(ctx, readyTimeout, "picogo: table bench in every instance's engine", watch, func() error {
		for _, in := range ins {
			s, err := storageOf(ctx, in)
			if err != nil {
				return err
			}
			if s.rowsOf(insertTableName) < 0 {
				return fmt.Errorf("%s holds no table bench yet", in.name)
			}
		}
		return nil
	})
}

// startPicogoReplicaset is picogo's startInsertTarget: two instances of
// one replicaset (--init-replication-factor 2), Online, the table created
// and in both engines, one of them the writable master.
func startPicogoReplicaset(ctx context.Context, cfg Config, ps *procs.Registry, dir string) (insertTarget, error) {
	ins, leader, err := startPicogo(ctx, ps, cfg.Picogo, dir, 2, false, "--init-replication-factor", "2")
	if err != nil {
		return nil, err
	}
	if err := createInsertTable(ctx, ins, leader); err != nil {
		return nil, err
	}
	var master, replica *picogoInstance
	err = poll(ctx, readyTimeout, "picogo: one writable master, one replica", []*procs.Process{ins[0].proc, ins[1].proc}, func() error {
		master, replica = nil, nil
		for _, in := range ins {
			s, err := storageOf(ctx, in)
			if err != nil {
				return err
			}
			if s.Writable {
				if master != nil {
					return fmt.Errorf("both %s and %s are writable", master.name, in.name)
				}
				master = in
			} else {
				replica = in
			}
		}
		if master == nil {
			return errors.New("no writable master yet")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return newPicogoReplicaset(ctx, master, replica, cfg.Conns, cpuOf(ins[0].proc, ins[1].proc))
}

// picogoReplicaset is picogo's insertTarget: INSERTs as admin on the
// master's connections; the vclock (`.proc_get_vclock`) and the row count
// (`.proc_runtime_info`'s storage section) as pico_service.
type picogoReplicaset struct {
	*iprotoReplicaset
	service map[bool]*tarantool.Connection // by replica
}

func newPicogoReplicaset(ctx context.Context, master, replica *picogoInstance, conns int, cpu func() time.Duration) (*picogoReplicaset, error) {
	ir, err := newIprotoReplicaset(ctx, master.addr, replica.addr, "admin", picogoAdminPassword, conns, insertSpace, "", "", cpu)
	if err != nil {
		return nil, err
	}
	r := &picogoReplicaset{iprotoReplicaset: ir, service: map[bool]*tarantool.Connection{}}
	for isReplica, in := range map[bool]*picogoInstance{false: master, true: replica} {
		c, err := connectTarantool(ctx, in.addr, "pico_service", picogoServicePassword)
		if err != nil {
			r.close()
			return nil, fmt.Errorf("%s: %w", in.name, err)
		}
		r.service[isReplica] = c
	}
	return r, nil
}

func (r *picogoReplicaset) vclock(_ context.Context, replica bool) (vclock.VClock, error) {
	return callOne[vclock.VClock](r.service[replica], ".proc_get_vclock")
}

func (r *picogoReplicaset) count(_ context.Context, replica bool) (uint64, error) {
	s, err := storageInfo(r.service[replica])
	if err != nil {
		return 0, err
	}
	n := s.rowsOf(insertTableName)
	if n < 0 {
		return 0, errors.New("no table bench")
	}
	return uint64(n), nil
}

func (r *picogoReplicaset) close() {
	r.iprotoReplicaset.close()
	for _, c := range r.service {
		c.Close()
	}
}
